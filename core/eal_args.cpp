#include "linkem/eal_args.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
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
    // Free hugepages of every size: /sys/kernel/mm/hugepages/hugepages-<kB>kB/free_hugepages.
    std::error_code error;
    for (const auto &entry : std::filesystem::directory_iterator("/sys/kernel/mm/hugepages", error)) {
        const std::string name = entry.path().filename().string();  // hugepages-2048kB
        uint64_t page_kib = 0, free_pages = 0;
        if (std::sscanf(name.c_str(), "hugepages-%" SCNu64 "kB", &page_kib) != 1) continue;
        std::ifstream(entry.path() / "free_hugepages") >> free_pages;
        facts.hugepage_free_bytes += free_pages * page_kib * 1024;
    }
    std::ifstream meminfo("/proc/meminfo");
    for (std::string line; std::getline(meminfo, line);)
        if (line.rfind("MemAvailable:", 0) == 0) facts.memory_available_bytes = std::stoull(line.substr(13)) * 1024;  // kB
    // A cgroup memory limit (a container's) may leave less than that: the
    // limit less the usage, at the process's cgroup and each one above it
    // (v2: memory.max, memory.current; v1: memory.limit_in_bytes, memory.usage_in_bytes).
    const auto limit_room = [&](const std::filesystem::path &top, const std::filesystem::path &own, const char *limit_file,
                                const char *usage_file) {
        for (std::filesystem::path dir = top / own.relative_path();; dir = dir.parent_path()) {
            std::string limit_text;
            uint64_t usage = 0;
            if (std::ifstream(dir / limit_file) >> limit_text && limit_text != "max" && std::ifstream(dir / usage_file) >> usage) {
                const uint64_t limit = std::strtoull(limit_text.c_str(), nullptr, 10);
                facts.memory_available_bytes = std::min(facts.memory_available_bytes, limit > usage ? limit - usage : 0);
            }
            if (dir == top || !dir.has_relative_path() || dir.parent_path() == dir) break;
        }
    };
    std::ifstream cgroup("/proc/self/cgroup");
    for (std::string line; std::getline(cgroup, line);) {
        if (line.rfind("0::", 0) == 0) limit_room("/sys/fs/cgroup", line.substr(3), "memory.max", "memory.current");
        const size_t v1 = line.find(":memory:");
        if (v1 != std::string::npos)
            limit_room("/sys/fs/cgroup/memory", line.substr(v1 + 8), "memory.limit_in_bytes", "memory.usage_in_bytes");
    }
    std::ifstream mounts("/proc/mounts");
    bool mounted = false;
    for (std::string line; std::getline(mounts, line);) mounted = mounted || line.find(" hugetlbfs ") != std::string::npos;
    facts.hugetlbfs_mounted = mounted;
    facts.hugepages_available = facts.hugepage_free_bytes > 0;

    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) == 0)
        for (unsigned cpu = 0; cpu < CPU_SETSIZE; ++cpu)
            if (CPU_ISSET(cpu, &set)) facts.allowed_cpus.push_back(cpu);
    return facts;
}

std::vector<ConfigError> check_lcores_allowed(const Config &config, const std::vector<std::string> &command_line_eal,
                                              const HostFacts &host) {
    std::vector<ConfigError> errors;
    std::vector<std::string> user = config.eal;
    user.insert(user.end(), command_line_eal.begin(), command_line_eal.end());
    if (host.allowed_cpus.empty() || has_option(user, {"-l", "-c", "--lcores"})) return errors;  // EAL's own lcore arguments rule
    const auto allowed = [&](unsigned id) {
        return std::find(host.allowed_cpus.begin(), host.allowed_cpus.end(), id) != host.allowed_cpus.end();
    };
    const std::string hint = fmt::format(
        "this process may run on CPU{} {} only (EAL would refuse to start; its --lcores can map lcore ids onto those CPUs: -- --lcores "
        "0@0,1@1,2@1)",
        host.allowed_cpus.size() == 1 ? "" : "s", fmt::join(host.allowed_cpus, ","));
    const Pipeline &p = config.pipeline;
    for (size_t i = 0; i < p.lcores.size(); ++i)
        if (!allowed(p.lcores[i]))
            errors.push_back({config.file, i < p.lcores_pos.size() ? p.lcores_pos[i] : SourcePos{}, fmt::format("pipeline.lcores[{}]", i),
                              fmt::format("lcore {}: {}", p.lcores[i], hint)});
    if (p.classify_lcore && !allowed(*p.classify_lcore))
        errors.push_back(
            {config.file, p.classify_lcore_pos, "pipeline.classify_lcore", fmt::format("lcore {}: {}", *p.classify_lcore, hint)});
    return errors;
}

EalPlan plan_eal_arguments(const Config &config, const std::vector<std::string> &command_line_eal, const HostFacts &host) {
    EalPlan plan;
    std::vector<std::string> user = config.eal;
    user.insert(user.end(), command_line_eal.begin(), command_line_eal.end());
    plan.args.push_back("linkem");

    // Each default steps aside for any user argument about the same thing.
    // Live capture needs EAL's multi-process mode (dpdk-dumpcap attaches as a
    // secondary process), so it shares its memory under a file prefix.
    // Without a hugetlbfs mount, only --in-memory maps hugepages (anonymously).
    // The instance's name is the file prefix (linkem/instance.hpp) in every mode: the runtime
    // directory, and the telemetry socket in it, are the instance's.
    const bool chooses_sharing = has_option(user, {"--in-memory", "--proc-type", "--no-shconf"});
    const bool in_memory = chooses_sharing ? has_option(user, {"--in-memory"}) : !config.capture;
    const bool hugepages_usable = host.hugepages_available && (host.hugetlbfs_mounted || in_memory);
    const bool no_huge = !hugepages_usable && !has_option(user, {"--no-huge", "-m", "--socket-mem", "--huge-dir"});
    // DPDK 22.11: --no-huge implies --legacy-mem, which --in-memory refuses;
    // --no-shconf keeps what --in-memory is for here (no files to share, side-by-side runs).
    const bool legacy_memory = no_huge || has_option(user, {"--no-huge", "--legacy-mem"});
    plan.args.push_back("--file-prefix=" + config.name);
    if (!chooses_sharing && !config.capture) plan.args.push_back(legacy_memory ? "--no-shconf" : "--in-memory");
    if (has_option(user, {"--no-telemetry"}))
        plan.warnings.push_back("--no-telemetry: linkemctl and dpdk-telemetry.py will not reach this instance");
    if (config.capture && has_option(user, {"--in-memory", "--no-shconf"}))
        plan.warnings.push_back("capture: true, but the EAL arguments say --in-memory or --no-shconf: dpdk-dumpcap will not find linkem");
    if (no_huge) {
        plan.args.insert(plan.args.end(), {"--no-huge", "-m", "1024"});
        plan.warnings.push_back(host.hugepages_available ? "no hugetlbfs mount: running with --no-huge (slower; tools/setup.sh mounts one)"
                                : host.hugepage_free_bytes == 0
                                    ? "no free hugepages: running with --no-huge (slower; tools/setup.sh reserves them)"
                                    : "too few free hugepages for linkem's mbuf pools: running with --no-huge (slower; tools/setup.sh "
                                      "reserves them)");
    }
    if (legacy_memory && has_option(user, {"--in-memory"}))
        plan.warnings.push_back("DPDK 22.11 refuses --in-memory with --no-huge (which implies --legacy-mem): use --no-shconf instead");
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
        if (!lcores.empty()) plan.args.insert(plan.args.end(), {"-l", fmt::format("{}", fmt::join(lcores, ","))});
    }

    bool any_pci = false;
    for (const Port &p : config.ports) {
        if (p.replay) continue;  // a replay source has no device
        if (is_pci_address(p.device)) {
            any_pci = true;
            plan.args.insert(plan.args.end(), {"-a", p.device});
        } else {
            plan.args.push_back("--vdev=" + p.device);
        }
    }
    if (!any_pci && !has_option(user, {"-a", "-b", "--allow", "--block", "--no-pci"})) plan.args.push_back("--no-pci");

    plan.args.insert(plan.args.end(), user.begin(), user.end());
    plan.hugepages = !has_option(plan.args, {"--no-huge"});
    if (!plan.hugepages || has_option(plan.args, {"--legacy-mem"})) {
        // -m N or -mN (MiB): the heap EAL maps at start-up, fixed in these modes.
        uint64_t mib = plan.hugepages ? 0 : 64;  // DPDK's MEMSIZE_IF_NO_HUGE_PAGE
        for (size_t k = 1; k < plan.args.size(); ++k) {
            const std::string &a = plan.args[k];
            if (a == "-m" && k + 1 < plan.args.size())
                mib = std::strtoull(plan.args[k + 1].c_str(), nullptr, 10);
            else if (a.size() > 2 && a.compare(0, 2, "-m") == 0)
                mib = std::strtoull(a.c_str() + 2, nullptr, 10);
        }
        plan.dpdk_heap_limit_bytes = mib << 20;
    }
    return plan;
}

}  // namespace linkem
