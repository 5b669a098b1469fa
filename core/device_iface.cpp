#include "linkem/device_iface.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <string_view>

namespace linkem {

std::vector<std::string> kernel_interfaces(const std::string &device) {
    static constexpr std::array<std::string_view, 4> kInterfaceKeys = {"iface", "rx_iface", "rx_iface_in", "tx_iface"};
    std::vector<std::string> names;
    // devargs: "driver,key=value,key=value"; the driver name is not an argument.
    size_t at = device.find(',');
    while (at != std::string::npos) {
        const size_t start = at + 1;
        at = device.find(',', start);
        const std::string_view argument = std::string_view(device).substr(start, at == std::string::npos ? std::string::npos : at - start);
        const size_t equals = argument.find('=');
        if (equals == std::string_view::npos) continue;
        const std::string_view key = argument.substr(0, equals), value = argument.substr(equals + 1);
        if (value.empty() || std::find(kInterfaceKeys.begin(), kInterfaceKeys.end(), key) == kInterfaceKeys.end()) continue;
        if (std::find(names.begin(), names.end(), value) == names.end()) names.emplace_back(value);
    }
    return names;
}

std::vector<std::string> interfaces_needed(const std::string &device) {
    for (std::string_view driver : {"net_af_packet", "eth_af_packet", "net_pcap", "eth_pcap"})
        if (device.compare(0, driver.size(), driver) == 0) return kernel_interfaces(device);
    return {};
}

std::vector<std::string> missing_interface_warnings(const Config &config, const std::function<bool(const std::string &)> &exists) {
    std::vector<std::string> warnings;
    for (const Port &p : config.ports)
        for (const std::string &iface : interfaces_needed(p.device))
            if (!exists(iface))
                warnings.push_back(
                    fmt::format("{}:{}:{}: ports.{}.device: interface {} does not exist (yet): the device \"{}\" cannot "
                                "open without it",
                                config.file, p.device_pos.line, p.device_pos.column, p.name, iface, p.device));
    return warnings;
}

}  // namespace linkem
