// Whether a port's device string names a driver DPDK has: a PCI address
// (0000:01:00.0, 01:00.0), or vdev devargs whose name begins with the name or
// an alias of one of DPDK 22.11's virtual network drivers (EAL's vdev bus
// matches by prefix: net_null0 and net_null_a are both net_null's). A name no
// driver claims would fail only when EAL probes it, so linkem and --check
// refuse it before (docs/CONFIG.md "ports"); the loader does not (linkem-sim
// and the tests use any names). Drivers loaded with EAL's -d are unknown
// here: no check when the EAL arguments have -d.
#pragma once

#include "linkem/config.hpp"

#include <optional>
#include <string>
#include <vector>

namespace linkem {

// The virtual network drivers of DPDK 22.11 (names, then aliases), as their
// PMD_INFO_STRINGs and RTE_PMD_REGISTER_ALIAS name them.
const std::vector<std::string> &known_vdev_drivers();

// Empty when `device` is a PCI address or names a known driver; otherwise
// what is wrong, with the nearest driver name when it looks like a typo and
// the known names.
std::optional<std::string> device_driver_problem(const std::string &device);

// device_driver_problem() of every port, as errors at their device strings;
// none when the EAL arguments (`eal:`, then the command line's) load drivers (-d).
std::vector<ConfigError> check_device_drivers(const Config &config, const std::vector<std::string> &command_line_eal);

}  // namespace linkem
