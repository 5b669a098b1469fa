// DPDK's log, quiet at the default level, and rte_eal_init without its usage.
//
//  - install_eal_log(): from now on DPDK's log lines go to stderr through a
//    stream that drops the expected start-up lines (core's log_filter.hpp)
//    when `drop_expected` (linkem's --log-level is notice, warning or
//    error); at info and debug every line passes. Call before rte_eal_init.
//  - init_eal(): rte_eal_init with EAL's usage text (about 100 lines, which
//    EAL prints on stdout when it refuses an argument) held back: on failure
//    only EAL's own error lines (its log, on stderr) remain, and `*refused`
//    says whether EAL printed its usage (it refused an argument). What EAL
//    prints on stdout otherwise is passed on.
#pragma once

#include <string>
#include <vector>

namespace linkem {

void install_eal_log(bool drop_expected);
int init_eal(std::vector<std::string> args, bool *refused_arguments);

}  // namespace linkem
