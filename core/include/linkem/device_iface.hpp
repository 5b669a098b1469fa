// The kernel network interfaces a DPDK device string names: the devices that
// drive a kernel interface rather than hardware (net_af_packet's iface=,
// net_tap's iface=, net_pcap's iface=, rx_iface=, rx_iface_in= and
// tx_iface=). Two ports on one kernel interface duplicate or black-hole
// traffic, and so do two linkem processes: the loader refuses the first
// (docs/CONFIG.md "ports"), the emulator's interface locks the second.
#pragma once

#include "linkem/config.hpp"

#include <functional>
#include <string>
#include <vector>

namespace linkem {

// The interface names in `device`'s arguments, in order, each once; empty for
// a device that names none (net_null0, a PCI address, net_pcap with files).
std::vector<std::string> kernel_interfaces(const std::string &device);

// Those of kernel_interfaces(device) that must exist before the device can
// open: net_af_packet's and net_pcap's (net_tap and net_tun create theirs).
std::vector<std::string> interfaces_needed(const std::string &device);

// A warning for each interface a port needs that `exists` says is missing
// (a warning, not an error: a script may create it before the run).
std::vector<std::string> missing_interface_warnings(const Config &config, const std::function<bool(const std::string &)> &exists);

}  // namespace linkem
