// Ports: from a configured device string to a started DPDK ethdev with one rx
// and one tx queue, promiscuous, MTU up to 9000 where the driver allows.
// Errors name the port and carry DPDK's reason.
#pragma once

#include <cstdint>
#include <string>

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

}  // namespace linkem
