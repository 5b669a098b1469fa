// The argument vector handed to rte_eal_init(), derived from the configuration
// and the facts of the host. Pure, so the choices can be tested.
//
// Rules (docs/CONFIG.md, "EAL arguments"):
//  - Arguments come from the configuration's `eal:` list, then from the
//    command line after "--" (later ones win where EAL allows repeats).
//  - linkem adds --file-prefix=NAME, the instance's name (linkem/instance.hpp;
//    the configuration refuses a --file-prefix of the user's), and --in-memory
//    unless they choose how EAL shares its memory (--in-memory, --proc-type,
//    --no-shconf); with `capture: true` no --in-memory (multi-process mode,
//    so that dpdk-dumpcap --file-prefix NAME can attach). When EAL cannot use hugepages (none free,
//    or no hugetlbfs mount outside --in-memory mode, which maps them
//    anonymously), --no-huge -m 1024 with a warning unless they choose the
//    memory (--no-huge, -m, --socket-mem, --huge-dir). DPDK 22.11 refuses
//    --in-memory beside --no-huge (which implies --legacy-mem), so the
//    fallback shares nothing with --no-shconf instead of --in-memory (as
//    it does when the user's own arguments say --no-huge or --legacy-mem).
//  - Unless the arguments already choose lcores (-l, -c, --lcores), linkem adds
//    `-l` with pipeline.lcores, or with the first two CPUs it may run on.
//  - Each port's device is added: a PCI address as `-a DEV`, anything else as
//    `--vdev=DEV`; with no PCI port, --no-pci keeps EAL from probing the bus.
#pragma once

#include "linkem/config.hpp"

#include <string>
#include <vector>

namespace linkem {

struct HostFacts {
    bool hugepages_available = false;     // free hugepages of some size (enough for DPDK's own memory: see main.cpp)
    std::vector<unsigned> allowed_cpus;   // from the process's CPU affinity
    bool hugetlbfs_mounted = true;        // false: only --in-memory can map hugepages (anonymously)
    uint64_t hugepage_free_bytes = 0;     // free hugepages of every size, count x size (sysfs)
    uint64_t memory_available_bytes = 0;  // MemAvailable (/proc/meminfo)
};

struct EalPlan {
    std::vector<std::string> args;      // args[0] is the program name
    std::vector<std::string> warnings;  // one line each, for the user
    // What the final arguments (linkem's and the user's) mean for memory.
    bool hugepages = true;               // false with --no-huge: DPDK's heap is ordinary memory
    uint64_t dpdk_heap_limit_bytes = 0;  // with --no-huge: -m (DPDK's default 64 MiB without it); 0: no limit but the hugepages
};

HostFacts probe_host();
// pipeline.lcores and classify_lcore ids this process may not run on (its CPU
// affinity), each an error at its position: EAL would refuse them with its
// 100-line usage. None when EAL's lcores come from the EAL arguments (-l, -c,
// --lcores: they may map lcore ids onto CPUs) or the affinity is unknown.
std::vector<ConfigError> check_lcores_allowed(const Config &config, const std::vector<std::string> &command_line_eal,
                                              const HostFacts &host);
bool is_pci_address(std::string_view device);
EalPlan plan_eal_arguments(const Config &config, const std::vector<std::string> &command_line_eal, const HostFacts &host);

}  // namespace linkem
