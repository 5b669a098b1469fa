#include "ports.hpp"

#include "linkem/eal_args.hpp"
#include "linkem/units.hpp"

#include <fmt/format.h>
#include <rte_errno.h>
#include <rte_ethdev.h>

#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace linkem {
namespace {

// The ethdev name EAL gives a device: vdev devargs up to the first ',',
// PCI addresses in their full domain:bus:device.function form.
std::string ethdev_name(const std::string &device) {
    std::string name = device.substr(0, device.find(','));
    if (is_pci_address(name) && name.size() == 7) name = "0000:" + name;
    return name;
}

std::string reason(int rc) { return fmt::format("{} ({})", rte_strerror(-rc), rc); }

}  // namespace

bool open_port(OpenPort &port, rte_mempool *pool, const PortSettings &settings, std::string *error) {
    const std::string name = ethdev_name(port.device);
    const std::string who = fmt::format("port {} ({})", port.name, port.device);
    if (rte_eth_dev_get_port_by_name(name.c_str(), &port.port_id) != 0) {
        *error = fmt::format(
            "{}: DPDK has no device \"{}\": its driver refused it (reason above) or the device is not bound to DPDK "
            "(see `dpdk-devbind.py -s`)",
            who, name);
        return false;
    }
    rte_eth_dev_info info{};
    if (int rc = rte_eth_dev_info_get(port.port_id, &info); rc != 0) {
        *error = fmt::format("{}: rte_eth_dev_info_get failed: {}", who, reason(rc));
        return false;
    }

    rte_eth_conf conf{};
    // Jumbo frames where the driver can receive them, in several mbufs if needed.
    uint32_t mtu = settings.wanted_mtu;
    if (info.max_mtu < mtu) mtu = info.max_mtu;
    const uint32_t overhead = RTE_ETHER_HDR_LEN + RTE_ETHER_CRC_LEN;
    if (mtu + overhead > RTE_MBUF_DEFAULT_DATAROOM) {
        if (info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_SCATTER)
            conf.rxmode.offloads |= RTE_ETH_RX_OFFLOAD_SCATTER;
        else
            mtu = RTE_MBUF_DEFAULT_DATAROOM - overhead;
    }
    if (mtu < RTE_ETHER_MIN_MTU) mtu = RTE_ETHER_MTU;
    if (info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_MULTI_SEGS) conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_MULTI_SEGS;

    if (int rc = rte_eth_dev_configure(port.port_id, 1, 1, &conf); rc != 0) {
        *error = fmt::format("{}: rte_eth_dev_configure failed: {}", who, reason(rc));
        return false;
    }
    // A frame the driver cannot receive: ethdev would refuse the MTU with an
    // error line ("Frame size ... > device max frame size"); the driver keeps its own.
    const uint32_t frame_overhead =
        info.max_mtu != UINT16_MAX && info.max_rx_pktlen > info.max_mtu ? info.max_rx_pktlen - info.max_mtu : overhead;
    const bool receivable = mtu + frame_overhead <= info.max_rx_pktlen;
    if (!receivable || rte_eth_dev_set_mtu(port.port_id, static_cast<uint16_t>(mtu)) != 0) {
        uint16_t current = RTE_ETHER_MTU;
        rte_eth_dev_get_mtu(port.port_id, &current);
        mtu = current;  // the driver keeps its own; not an error
    }
    port.mtu = static_cast<uint16_t>(mtu);

    uint16_t rx_desc = settings.rx_descriptors, tx_desc = settings.tx_descriptors;
    rte_eth_dev_adjust_nb_rx_tx_desc(port.port_id, &rx_desc, &tx_desc);
    const int socket = rte_eth_dev_socket_id(port.port_id);
    const unsigned socket_id = socket < 0 ? 0 : static_cast<unsigned>(socket);
    rte_eth_rxconf rxq = info.default_rxconf;
    rxq.offloads = conf.rxmode.offloads;
    if (int rc = rte_eth_rx_queue_setup(port.port_id, 0, rx_desc, socket_id, &rxq, pool); rc != 0) {
        *error = fmt::format("{}: rx queue setup failed: {}", who, reason(rc));
        return false;
    }
    rte_eth_txconf txq = info.default_txconf;
    txq.offloads = conf.txmode.offloads;
    if (int rc = rte_eth_tx_queue_setup(port.port_id, 0, tx_desc, socket_id, &txq); rc != 0) {
        *error = fmt::format("{}: tx queue setup failed: {}", who, reason(rc));
        return false;
    }
    if (int rc = rte_eth_dev_start(port.port_id); rc != 0) {
        *error = fmt::format("{}: rte_eth_dev_start failed: {}", who, reason(rc));
        return false;
    }
    port.started = true;
    rte_eth_promiscuous_enable(port.port_id);  // -ENOTSUP on some virtual devices: harmless
    return true;
}

void close_port(OpenPort &port) {
    if (!port.started) return;
    rte_eth_dev_stop(port.port_id);
    rte_eth_dev_close(port.port_id);
    port.started = false;
}

std::string link_state_text(uint16_t port_id, bool *is_up) {
    rte_eth_link link{};
    if (rte_eth_link_get_nowait(port_id, &link) != 0) {
        *is_up = false;
        return "state unknown";
    }
    *is_up = link.link_status == RTE_ETH_LINK_UP;
    if (!*is_up) return "down";
    return fmt::format("up {} {}",
                       (link.link_speed == RTE_ETH_SPEED_NUM_UNKNOWN ? std::string("(speed unknown)")
                                                                     : Rate{uint64_t{link.link_speed} * 1'000'000}.to_string()),
                       link.link_duplex == RTE_ETH_LINK_FULL_DUPLEX ? "full-duplex" : "half-duplex");
}

PortLinkState port_link_state(uint16_t port_id, const std::vector<std::string> &kernel_interfaces) {
    PortLinkState state;
    state.text = link_state_text(port_id, &state.up);
    rte_eth_link link{};
    if (state.up && rte_eth_link_get_nowait(port_id, &link) == 0 && link.link_speed != RTE_ETH_SPEED_NUM_UNKNOWN)
        state.speed_mbps = link.link_speed;
    // The kernel's view of the interfaces the device sends on: net_af_packet reports "up" whatever they do.
    for (const std::string &iface : kernel_interfaces) {
        const int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0) break;
        ifreq request{};
        std::strncpy(request.ifr_name, iface.c_str(), IFNAMSIZ - 1);
        const int rc = ioctl(fd, SIOCGIFFLAGS, &request);
        const int why = errno;
        close(fd);
        std::string problem;
        if (rc != 0)
            problem = why == ENODEV ? fmt::format("gone (interface {} no longer exists)", iface)
                                    : fmt::format("state unknown (interface {}: {})", iface, std::strerror(why));
        else if ((request.ifr_flags & IFF_UP) == 0)
            problem = fmt::format("down (interface {} is administratively down)", iface);
        else if ((request.ifr_flags & IFF_RUNNING) == 0)
            problem = fmt::format("down (interface {} has no carrier)", iface);
        if (!problem.empty()) {
            state.up = false;
            state.speed_mbps = 0;
            state.text = problem;
            break;
        }
    }
    return state;
}

}  // namespace linkem
