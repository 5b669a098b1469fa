// Ports: from a configured device string to a started DPDK ethdev with one rx
// and one tx queue, promiscuous, MTU up to 9000 where the driver allows.
// Errors name the port and carry DPDK's reason.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

struct rte_mempool;

namespace linkem {

struct PortSettings {
    uint16_t rx_descriptors = 1024;
    uint16_t tx_descriptors = 1024;
    uint16_t wanted_mtu = 9000;
};

struct OpenPort {
    std::string name;    // from the configuration
    std::string device;  // as configured
    uint16_t port_id = 0;
    uint16_t mtu = 0;
    bool started = false;
};

// Finds and starts the port; on failure returns false with `error` set.
bool open_port(OpenPort &port, rte_mempool *pool, const PortSettings &settings, std::string *error);
void close_port(OpenPort &port);
// "up 10 Gbps full-duplex" or "down".
std::string link_state_text(uint16_t port_id, bool *is_up);

// DPDK's link state and, for a device on kernel interfaces (net_af_packet,
// net_tap, net_pcap's iface=), the kernel's: DPDK's af_packet says "up" for
// an interface that is administratively down or has gone. Makes system calls:
// for the control thread, never an lcore.
struct PortLinkState {
    bool up = false;
    uint32_t speed_mbps = 0;  // 0 when down or unknown
    std::string text;         // "up 10 Gbps full-duplex", "down (interface x is administratively down)", "gone (...)"
};
PortLinkState port_link_state(uint16_t port_id, const std::vector<std::string> &kernel_interfaces);

}  // namespace linkem
