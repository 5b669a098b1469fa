// [eal][sim] One data path: linkem on net_pcap ports and linkem-sim on the
// same captures deliver the same frames, byte for byte, on each port, in the
// same order within each flow. The configuration has rules, a chain of two
// links, a per-flow template, Bernoulli loss and the duplicate, corrupt and
// truncate manglers; no rate limit and no reordering, so arrival timing (wall
// clock in linkem, capture timestamps in linkem-sim) decides nothing.
// Needs root for linkem's EAL (skips otherwise).
#include "linkem_process.hpp"
#include "skip.hpp"

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <tuple>
#include <unistd.h>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using namespace linkem::test;

namespace {

struct Packet {
    uint64_t t_ns;
    std::string bytes;
};

// An Ethernet/IPv4 frame with a UDP (17) or TCP (6) header and a payload
// holding `seq`, 120 bytes in all.
std::string frame(uint8_t proto, const uint8_t src_ip[4], uint16_t src_port, uint16_t dst_port, uint32_t seq) {
    std::string f(120, '\0');
    auto *b = reinterpret_cast<uint8_t *>(f.data());
    const uint8_t dst_mac[6] = {0x02, 0, 0, 0, 0, 2}, src_mac[6] = {0x02, 0, 0, 0, 0, 1};
    std::memcpy(b, dst_mac, 6);
    std::memcpy(b + 6, src_mac, 6);
    b[12] = 0x08, b[13] = 0x00;
    uint8_t *ip = b + 14;
    ip[0] = 0x45;
    const uint16_t ip_len = 120 - 14;
    ip[2] = ip_len >> 8, ip[3] = ip_len & 0xff;
    ip[8] = 64, ip[9] = proto;
    std::memcpy(ip + 12, src_ip, 4);
    const uint8_t dst_ip[4] = {10, 0x99, 9, 9};
    std::memcpy(ip + 16, dst_ip, 4);
    uint8_t *l4 = ip + 20;
    l4[0] = src_port >> 8, l4[1] = src_port & 0xff, l4[2] = dst_port >> 8, l4[3] = dst_port & 0xff;
    if (proto == 17) {
        l4[4] = (ip_len - 20) >> 8, l4[5] = (ip_len - 20) & 0xff;
    } else {
        l4[12] = 0x50;  // data offset: 5 words
    }
    std::memcpy(l4 + 24, &seq, 4);
    return f;
}

void write_pcap(const fs::path &path, const std::vector<Packet> &packets) {
    std::ofstream out(path, std::ios::binary);
    const uint32_t header[6] = {0xa1b23c4d, 0x00040002, 0, 0, 65535, 1};  // nanosecond pcap
    out.write(reinterpret_cast<const char *>(header), sizeof header);
    for (const Packet &p : packets) {
        const uint32_t len = static_cast<uint32_t>(p.bytes.size());
        const uint32_t record[4] = {static_cast<uint32_t>(p.t_ns / 1'000'000'000), static_cast<uint32_t>(p.t_ns % 1'000'000'000), len, len};
        out.write(reinterpret_cast<const char *>(record), sizeof record);
        out.write(p.bytes.data(), len);
    }
}

// Every frame of a pcap (micro- or nanosecond format), in file order.
std::vector<std::string> read_frames(const fs::path &path) {
    std::ifstream in(path, std::ios::binary);
    uint32_t header[6];
    in.read(reinterpret_cast<char *>(header), sizeof header);
    REQUIRE(in);
    std::vector<std::string> frames;
    uint32_t record[4];
    while (in.read(reinterpret_cast<char *>(record), sizeof record)) {
        std::string bytes(record[2], '\0');
        in.read(bytes.data(), record[2]);
        REQUIRE(in);
        frames.push_back(std::move(bytes));
    }
    return frames;
}

// A frame's flow as it left: IPv4 source, destination and the four port
// bytes. Corruption flips one bit, so it may move a frame to a key no input
// flow has; the flows below differ pairwise in at least two bits, so it never
// moves one into another flow.
bool have_root() { return geteuid() == 0; }

std::string flow_of(const std::string &f) { return f.size() >= 38 ? f.substr(26, 12) : f; }

std::map<std::string, std::vector<std::string>> by_flow(const std::vector<std::string> &frames) {
    std::map<std::string, std::vector<std::string>> flows;
    for (const std::string &f : frames) flows[flow_of(f)].push_back(f);
    return flows;
}

}  // namespace

TEST_CASE("linkem and linkem-sim deliver the same frames from the same captures", "[eal][sim]") {
    if (!have_root()) LINKEM_SKIP("needs root to start DPDK's EAL");
    TempDir dir;
    // Port a: per-flow UDP (dst 6000-6999, one flow per source), default UDP
    // (dst 7000, to a-to-b), TCP (the chain access -> core), UDP to port 9
    // (dropped by a rule). Port b: UDP back, on b-to-a. One packet per 100 us.
    std::vector<Packet> in_a, in_b;
    const uint8_t kinds[4] = {0x11, 0x22, 0x44, 0x88};  // the source's second byte: per-flow, default, tcp, back
    uint32_t seq = 0;
    for (int i = 0; i < 3000; ++i) {
        const int kind = i % 7 < 3 ? 0 : i % 7 < 5 ? 1 : i % 7 == 5 ? 2 : 3;
        const uint8_t k = static_cast<uint8_t>(1u << (i % 6));  // six flows of each kind
        const uint8_t src[4] = {10, kinds[kind], k, k};
        const uint64_t t_ns = 1'000'000'000ULL + static_cast<uint64_t>(i) * 100'000;
        if (kind == 0) in_a.push_back({t_ns, frame(17, src, 1000 + k, 6000 + k, ++seq)});
        if (kind == 1) in_a.push_back({t_ns, frame(17, src, 1000 + k, i % 50 == 0 ? 9 : 7000, ++seq)});
        if (kind == 2) in_a.push_back({t_ns, frame(6, src, 2000 + k, 80, ++seq)});
        if (kind == 3) in_b.push_back({t_ns, frame(17, src, 3000 + k, 7000, ++seq)});
    }
    const fs::path a_in = dir / "a_in.pcap", b_in = dir / "b_in.pcap", config = dir / "same.yaml";
    write_pcap(a_in, in_a);
    write_pcap(b_in, in_b);
    const auto write_config = [&](const std::string &a_device, const std::string &b_device) {
        std::ofstream(config) << "ports:\n  a: {device: \"" << a_device << "\"}\n  b: {device: \"" << b_device << "\"}\n"
                              << R"(links:
  - { name: a-to-b, from: a, to: b, delay: 2ms, loss: 5%, mangle: { duplicate: 10%, corrupt: 5%, truncate: 100B } }
  - name: per-flow
    from: a
    to: b
    delay: 3ms
    loss: 10%
    per_flow: { key: { src: /32 }, max_flows: 8, idle_timeout: 60s }
    mangle: { corrupt: 10% }
  - { name: access, from: a, delay: 1ms, loss: 5% }
  - { name: core, to: b, delay: 1ms, loss: 5%, mangle: { duplicate: 5%, truncate: 90B } }
  - { name: b-to-a, from: b, to: a, delay: 1ms, loss: 20%, mangle: { corrupt: 20% } }
rules:
  - { match: { proto: udp, dst_port: 6000-6999 }, link: per-flow }
  - { match: { proto: tcp }, chain: [access, core] }
  - { match: { proto: udp, dst_port: 9 }, action: drop }
seed: 11
)";
    };

    const fs::path emu_a = dir / "emu_a.pcap", emu_b = dir / "emu_b.pcap", sim_a = dir / "sim_a.pcap", sim_b = dir / "sim_b.pcap";
    write_config(fmt::format("net_pcap0,rx_pcap={},tx_pcap={}", a_in.string(), emu_a.string()),
                 fmt::format("net_pcap1,rx_pcap={},tx_pcap={}", b_in.string(), emu_b.string()));
    const Run emu = run_linkem(config.string() + " --duration 2s --stats-interval 0", 60);
    INFO(emu.output);
    REQUIRE(emu.status == 0);
    const Run sim = run_program("LINKEM_SIM_BIN",
                                config.string() + " --in a=" + a_in.string() + " --in b=" + b_in.string() + " --out a=" + sim_a.string() +
                                    " --out b=" + sim_b.string(),
                                60);
    INFO(sim.output);
    REQUIRE(sim.status == 0);

    for (const auto &[port, emu_out, sim_out] : {std::tuple{"a", emu_a, sim_a}, std::tuple{"b", emu_b, sim_b}}) {
        INFO("port " << port);
        const std::vector<std::string> from_linkem = read_frames(emu_out), from_sim = read_frames(sim_out);
        CHECK(from_linkem.size() > 100);
        CHECK(from_linkem.size() == from_sim.size());
        // The same frames, flow by flow in the same order: the same multiset on the port.
        const auto flows_linkem = by_flow(from_linkem), flows_sim = by_flow(from_sim);
        CHECK(flows_linkem.size() == flows_sim.size());
        for (const auto &[key, frames] : flows_linkem) {
            const auto it = flows_sim.find(key);
            REQUIRE(it != flows_sim.end());
            CHECK(frames == it->second);
        }
    }
    // The configuration did what it says on both: every mangler and the rule drop acted.
    for (const char *word : {"duplicated", "corrupted", "truncated"}) CHECK_THAT(sim.output, Catch::Contains(word));
    CHECK_THAT(sim.output, Catch::Contains("per-flow#5"));
}
