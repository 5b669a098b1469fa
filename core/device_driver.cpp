#include "linkem/device_driver.hpp"

#include "linkem/eal_args.hpp"
#include "linkem/suggest.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace linkem {

const std::vector<std::string> &known_vdev_drivers() {
    static const std::vector<std::string> kDrivers = {
        "net_af_packet", "net_af_xdp", "net_bonding", "net_enetfec", "net_failsafe", "net_memif", "net_null", "net_octeontx", "net_pcap",
        "net_pfe", "net_ring", "net_softnic", "net_tap", "net_tun", "net_vdev_netvsc", "net_vhost", "net_virtio_user",
        // aliases
        "eth_af_packet", "eth_bond", "eth_null", "eth_octeontx", "eth_pcap", "eth_ring", "eth_tap", "eth_vdev_netvsc", "eth_vhost"};
    return kDrivers;
}

std::optional<std::string> device_driver_problem(const std::string &device) {
    const std::string name = device.substr(0, device.find(','));
    if (is_pci_address(name)) return std::nullopt;
    for (const std::string &driver : known_vdev_drivers())
        if (name.compare(0, driver.size(), driver) == 0) return std::nullopt;
    // "net_nul0" -> "net_nul": the instance number is not part of the driver's name.
    std::string stem = name;
    while (!stem.empty() && ((stem.back() >= '0' && stem.back() <= '9') || stem.back() == '_')) stem.pop_back();
    const std::optional<std::string> nearest = nearest_word(stem, known_vdev_drivers());
    return fmt::format(
        "no DPDK driver is called \"{}\"{}: a device is a PCI address (0000:01:00.0) or a virtual device named after "
        "its driver and an instance number (net_null0); the virtual network drivers are {}",
        name, nearest ? fmt::format(" (did you mean {}?)", *nearest) : "", join(known_vdev_drivers(), ", ", known_vdev_drivers().size()));
}

std::vector<ConfigError> check_device_drivers(const Config &config, const std::vector<std::string> &command_line_eal) {
    std::vector<ConfigError> errors;
    std::vector<std::string> eal = config.eal;
    eal.insert(eal.end(), command_line_eal.begin(), command_line_eal.end());
    if (std::any_of(eal.begin(), eal.end(), [](const std::string &a) { return a.rfind("-d", 0) == 0; })) return errors;
    for (const Port &p : config.ports)
        if (auto problem = p.replay ? std::nullopt : device_driver_problem(p.device))  // a replay source has no device
            errors.push_back({config.file, p.device_pos, fmt::format("ports.{}.device", p.name), std::move(*problem)});
    return errors;
}

}  // namespace linkem
