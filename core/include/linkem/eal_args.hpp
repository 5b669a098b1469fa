// The argument vector handed to rte_eal_init(), derived from the configuration
// and the facts of the host. Pure, so the choices can be tested.
//
// Rules (docs/CONFIG.md, "EAL arguments"):
//  - Arguments come from the configuration's `eal:` list, then from the
//    command line after "--" (later ones win where EAL allows repeats).
//  - linkem adds --in-memory unless they choose how EAL shares its memory
//    (--in-memory, --file-prefix, --proc-type, --no-shconf); with `capture:
//    true` it adds --file-prefix=linkem instead (multi-process mode, so that
//    dpdk-dumpcap can attach). When no
//    hugepages are reserved, --no-huge -m 1024 with a warning unless they
//    choose the memory (--no-huge, -m, --socket-mem, --huge-dir).
//  - Unless the arguments already choose lcores (-l, -c, --lcores), linkem adds
//    `-l` with pipeline.lcores, or with the first two CPUs it may run on.
//  - Each port's device is added: a PCI address as `-a DEV`, anything else as
//    `--vdev=DEV`; with no PCI port, --no-pci keeps EAL from probing the bus.
#pragma once

#include "linkem/config.hpp"

#include <string>
#include <vector>

namespace linkem {

constexpr const char *kCaptureFilePrefix = "linkem";

struct HostFacts {
    bool hugepages_available = false;    // free 2 MiB (or 1 GiB) pages and a hugetlbfs mount
    std::vector<unsigned> allowed_cpus;  // from the process's CPU affinity
};

struct EalPlan {
    std::vector<std::string> args;      // args[0] is the program name
    std::vector<std::string> warnings;  // one line each, for the user
};

HostFacts probe_host();
bool is_pci_address(std::string_view device);
EalPlan plan_eal_arguments(const Config &config, const std::vector<std::string> &command_line_eal, const HostFacts &host);

}  // namespace linkem
