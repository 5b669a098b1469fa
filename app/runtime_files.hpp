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
//  - The file prefix is the instance's name (linkem/instance.hpp), in every
//    memory mode: before EAL starts, a live telemetry socket or a live primary
//    in the runtime directory means an instance of that name runs, and this
//    one is refused (with --in-memory, EAL itself would quietly bind a second
//    socket, dpdk_telemetry.v2:1, that linkemctl does not look for). After
//    --in-memory or --no-shconf, EAL removes its telemetry sockets at exit
//    (an atexit handler; linkem leaves them to it: removed earlier, a new
//    instance of the name could bind one that EAL's handler would then
//    remove), and linkem's handler, registered before EAL's, then removes
//    the directory if that left it empty.
// Runs on the main thread before EAL starts and after it stops: never on an lcore.
#pragma once

#include <string>
#include <vector>

namespace linkem {

// The runtime directory EAL will use with these arguments (--file-prefix, default "rte").
std::string eal_runtime_dir(const std::vector<std::string> &eal_args);
std::string eal_file_prefix(const std::vector<std::string> &eal_args);
bool eal_in_memory(const std::vector<std::string> &eal_args);

// Before EAL starts: whether an instance of this file prefix runs; `what` says how it was seen.
bool instance_is_running(const std::vector<std::string> &eal_args, std::string *what);

// Before EAL starts: removes what a killed run left; returns one line per file removed.
std::vector<std::string> remove_stale_runtime_files(const std::vector<std::string> &eal_args);

// Before EAL starts, with --in-memory or --no-shconf: at exit, after EAL's own
// handler removed its sockets, the runtime directory goes if it is empty.
void remove_empty_runtime_dir_at_exit(const std::vector<std::string> &eal_args);

// After rte_eal_cleanup() under a file prefix: the hugepage files and the runtime
// directory; returns what could not be removed (empty when everything went).
std::vector<std::string> remove_runtime_files(const std::vector<std::string> &eal_args);

}  // namespace linkem
