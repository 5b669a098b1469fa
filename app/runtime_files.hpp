// What DPDK leaves on the file system, cleaned up (docs/ARCHITECTURE.md
// "Accounting and shutdown"):
//  - EAL's runtime directory (/var/run/dpdk/PREFIX for root) holds the
//    telemetry sockets; a run that is killed leaves them behind. Before EAL
//    starts, a socket there that nobody listens on (connect() is refused) is
//    removed, and so, under a file prefix (capture: true), are the hugepage
//    files and runtime files of a primary process that no longer holds the
//    runtime directory's lock.
//  - Under a file prefix EAL keeps its hugepage files (PREFIXmap_N in every
//    hugetlbfs mount) and runtime files after rte_eal_cleanup(); a clean exit
//    removes them and the directory.
// Runs on the main thread before EAL starts and after it stops: never on an lcore.
#pragma once

#include <string>
#include <vector>

namespace linkem {

// The runtime directory EAL will use with these arguments (--file-prefix, default "rte").
std::string eal_runtime_dir(const std::vector<std::string> &eal_args);
std::string eal_file_prefix(const std::vector<std::string> &eal_args);
bool eal_in_memory(const std::vector<std::string> &eal_args);

// Before EAL starts: removes what a killed run left; returns one line per file removed.
std::vector<std::string> remove_stale_runtime_files(const std::vector<std::string> &eal_args);

// After rte_eal_cleanup() under a file prefix: the hugepage files and the runtime
// directory; returns what could not be removed (empty when everything went).
std::vector<std::string> remove_runtime_files(const std::vector<std::string> &eal_args);

}  // namespace linkem
