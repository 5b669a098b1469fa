#include "linkem/eal_args.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <sched.h>
#include <sstream>

namespace linkem {
namespace {

bool has_option(const std::vector<std::string> &args, std::initializer_list<std::string_view> names) {
    return std::any_of(args.begin(), args.end(), [&](const std::string &a) {
        return std::any_of(names.begin(), names.end(), [&](std::string_view n) {
            return a == n || (a.size() > n.size() && a.compare(0, n.size(), n) == 0 && (a[n.size()] == '=' || n.size() == 2));
        });
    });
}

bool is_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

// Matches "HH:HH.D" at `s`, the bus:device.function part of a PCI address.
bool is_bdf(std::string_view s) {
    return s.size() >= 7 && is_hex(s[0]) && is_hex(s[1]) && s[2] == ':' && is_hex(s[3]) && is_hex(s[4]) && s[5] == '.' && s[6] >= '0' &&
           s[6] <= '7' && (s.size() == 7 || s[7] == ',');
}

}  // namespace

bool is_pci_address(std::string_view device) {
    if (is_bdf(device)) return true;  // 01:00.0
    return device.size() > 5 && is_hex(device[0]) && is_hex(device[1]) && is_hex(device[2]) && is_hex(device[3]) && device[4] == ':' &&
           is_bdf(device.substr(5));  // 0000:01:00.0
}

HostFacts probe_host() {
    HostFacts facts;
    std::ifstream meminfo("/proc/meminfo");
    long free_pages = 0;
    for (std::string line; std::getline(meminfo, line);)
        if (line.rfind("HugePages_Free:", 0) == 0) free_pages = std::stol(line.substr(15));
    std::ifstream mounts("/proc/mounts");
    bool mounted = false;
    for (std::string line; std::getline(mounts, line);) mounted = mounted || line.find(" hugetlbfs ") != std::string::npos;
    facts.hugepages_available = free_pages > 0 && mounted;

    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) == 0)
        for (unsigned cpu = 0; cpu < CPU_SETSIZE; ++cpu)
            if (CPU_ISSET(cpu, &set)) facts.allowed_cpus.push_back(cpu);
    return facts;
}

EalPlan plan_eal_arguments(const Config &config, const std::vector<std::string> &command_line_eal, const HostFacts &host) {
    EalPlan plan;
    std::vector<std::string> user = config.eal;
    user.insert(user.end(), command_line_eal.begin(), command_line_eal.end());
    plan.args.push_back("linkem");

    // Each default steps aside for any user argument about the same thing.
    // Live capture needs EAL's multi-process mode (dpdk-dumpcap attaches as a
    // secondary process), so it shares its memory under a file prefix.
    if (!has_option(user, {"--in-memory", "--file-prefix", "--proc-type", "--no-shconf"}))
        plan.args.push_back(config.capture ? "--file-prefix=" + std::string(kCaptureFilePrefix) : "--in-memory");
    if (config.capture && has_option(user, {"--in-memory", "--no-shconf"}))
        plan.warnings.push_back("capture: true, but the EAL arguments say --in-memory or --no-shconf: dpdk-dumpcap will not find linkem");
    const bool no_huge = !host.hugepages_available && !has_option(user, {"--no-huge", "-m", "--socket-mem", "--huge-dir"});
    if (no_huge) {
        plan.args.insert(plan.args.end(), {"--no-huge", "-m", "1024"});
        plan.warnings.push_back("no hugepages are reserved: running with --no-huge (slower; tools/setup.sh reserves them)");
    }
    if (config.capture && (no_huge || has_option(user, {"--no-huge"})))
        plan.warnings.push_back(
            "capture: true without hugepages: dpdk-dumpcap cannot share linkem's memory (tools/setup.sh reserves them)");

    if (!has_option(user, {"-l", "-c", "--lcores"})) {
        std::vector<unsigned> lcores(config.pipeline.lcores.begin(), config.pipeline.lcores.end());
        if (lcores.empty())
            lcores.assign(host.allowed_cpus.begin(),
                          host.allowed_cpus.begin() + static_cast<std::ptrdiff_t>(std::min<size_t>(2, host.allowed_cpus.size())));
        if (config.pipeline.classify_lcore && std::find(lcores.begin(), lcores.end(), *config.pipeline.classify_lcore) == lcores.end())
            lcores.push_back(*config.pipeline.classify_lcore);
        for (unsigned id : lcores)
            if (!host.allowed_cpus.empty() && std::find(host.allowed_cpus.begin(), host.allowed_cpus.end(), id) == host.allowed_cpus.end())
                plan.warnings.push_back(
                    fmt::format("pipeline.lcores or classify_lcore names CPU {}, which this process may not run on (allowed: {}); EAL will "
                                "refuse to start "
                                "(EAL's --lcores can map lcore ids onto CPUs: -- --lcores 0@0,1@1,2@1)",
                                id, fmt::join(host.allowed_cpus, ",")));
        if (!lcores.empty()) plan.args.insert(plan.args.end(), {"-l", fmt::format("{}", fmt::join(lcores, ","))});
    }

    bool any_pci = false;
    for (const Port &p : config.ports) {
        if (is_pci_address(p.device)) {
            any_pci = true;
            plan.args.insert(plan.args.end(), {"-a", p.device});
        } else {
            plan.args.push_back("--vdev=" + p.device);
        }
    }
    if (!any_pci && !has_option(user, {"-a", "-b", "--allow", "--block", "--no-pci"})) plan.args.push_back("--no-pci");

    plan.args.insert(plan.args.end(), user.begin(), user.end());
    return plan;
}

}  // namespace linkem
