// [unit] Per-flow links (linkem/flow_table.hpp): a packet's key under the
// template's mask, the key's text, and the table that maps keys to a bounded
// set of instances (creation, the bound, recycling of the instance idle the
// longest). The table is also checked against a simple reference model over
// many random lookups, recycles and refusals, with a fixed seed.
#include "linkem/flow_table.hpp"

#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <time.h>

#include <cstring>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

using namespace linkem;

namespace {

using Bytes = std::vector<uint8_t>;

// The fields of an IP packet (family AF_INET or AF_INET6), as parse_packet() would give them.
PacketFields ip_fields(int family, const char *src, const char *dst, uint8_t proto, uint16_t src_port, uint16_t dst_port) {
    PacketFields f;
    f.ether_type = family == AF_INET ? 0x0800 : 0x86DD;
    f.ip_version = family == AF_INET ? 4 : 6;
    REQUIRE(inet_pton(family, src, f.src_ip) == 1);
    REQUIRE(inet_pton(family, dst, f.dst_ip) == 1);
    f.has_proto = true;
    f.ip_proto = proto;
    f.has_ports = proto == 6 || proto == 17;
    if (f.has_ports) {
        f.src_port = src_port;
        f.dst_port = dst_port;
    }
    return f;
}

PacketFields v4(const char *src, const char *dst, uint8_t proto = 17, uint16_t src_port = 1234, uint16_t dst_port = 5001) {
    return ip_fields(AF_INET, src, dst, proto, src_port, dst_port);
}

PacketFields v6(const char *src, const char *dst, uint8_t proto = 17, uint16_t src_port = 1234, uint16_t dst_port = 5001) {
    return ip_fields(AF_INET6, src, dst, proto, src_port, dst_port);
}

void put16(Bytes &b, uint16_t v) {
    b.push_back(static_cast<uint8_t>(v >> 8));
    b.push_back(static_cast<uint8_t>(v));
}

// An Ethernet + IPv4 + UDP frame, parsed.
PacketFields parsed_udp4(const char *src, const char *dst, uint16_t src_port, uint16_t dst_port) {
    Bytes b = {0x02, 0, 0, 0, 0, 0x01, 0x02, 0, 0, 0, 0, 0x02};
    put16(b, 0x0800);
    uint8_t s[4], d[4];
    REQUIRE(inet_pton(AF_INET, src, s) == 1);
    REQUIRE(inet_pton(AF_INET, dst, d) == 1);
    b.insert(b.end(), {0x45, 0});
    put16(b, 20 + 8 + 8);  // total length
    put16(b, 0x1234);
    put16(b, 0);
    b.insert(b.end(), {64, 17, 0, 0});
    b.insert(b.end(), s, s + 4);
    b.insert(b.end(), d, d + 4);
    put16(b, src_port);
    put16(b, dst_port);
    put16(b, 16);
    put16(b, 0);
    b.insert(b.end(), 8, 0xab);
    PacketFields f;
    parse_packet(b.data(), static_cast<uint32_t>(b.size()), &f);
    REQUIRE(f.ip_version == 4);
    REQUIRE(f.has_ports);
    return f;
}

// A frame of another EtherType (ARP-like), parsed.
PacketFields parsed_non_ip(uint16_t ether_type, uint8_t fill) {
    Bytes b = {0x02, 0, 0, 0, 0, 0x01, 0x02, 0, 0, 0, 0, 0x02};
    put16(b, ether_type);
    b.insert(b.end(), 46, fill);
    PacketFields f;
    parse_packet(b.data(), static_cast<uint32_t>(b.size()), &f);
    REQUIRE(f.ip_version == 0);
    return f;
}

FlowKeySpec src24() {
    FlowKeySpec s;
    s.src_bits = 24;
    return s;
}

// A distinct key per id: source 10.x.y.z under a /32 spec.
FlowKey key_of_id(uint32_t id) {
    PacketFields f;
    f.ip_version = 4;
    f.src_ip[0] = 10;
    f.src_ip[1] = static_cast<uint8_t>(id >> 16);
    f.src_ip[2] = static_cast<uint8_t>(id >> 8);
    f.src_ip[3] = static_cast<uint8_t>(id);
    FlowKeySpec s;
    s.src_bits = 32;
    return flow_key(s, f);
}

const auto always = [](uint32_t) { return true; };
const auto never = [](uint32_t) { return false; };

}  // namespace

TEST_CASE("flow_key keeps only the spec's prefix of IPv4 addresses", "[unit][flow]") {
    const FlowKeySpec spec = src24();
    const FlowKey a = flow_key(spec, v4("10.1.2.3", "192.0.2.1"));
    CHECK(a.ip_version == 4);
    CHECK(a == flow_key(spec, v4("10.1.2.200", "192.0.2.1")));
    CHECK(!(a == flow_key(spec, v4("10.1.3.1", "192.0.2.1"))));
    CHECK(!(a == flow_key(spec, v4("11.1.2.3", "192.0.2.1"))));
    // Destination, protocol and ports are not in this spec.
    CHECK(a == flow_key(spec, v4("10.1.2.3", "198.51.100.9", 6, 80, 443)));
    CHECK(a == flow_key(spec, v4("10.1.2.3", "198.51.100.9", 1)));
    // The key holds the masked address.
    const uint8_t masked[4] = {10, 1, 2, 0};
    CHECK(std::memcmp(a.src, masked, 4) == 0);

    SECTION("a prefix not on a byte boundary") {
        FlowKeySpec s;
        s.src_bits = 20;  // 10.1.16.0/20: 10.1.16.0 - 10.1.31.255
        const FlowKey k = flow_key(s, v4("10.1.16.1", "192.0.2.1"));
        CHECK(k == flow_key(s, v4("10.1.31.255", "192.0.2.1")));
        CHECK(!(k == flow_key(s, v4("10.1.32.0", "192.0.2.1"))));
        CHECK(!(k == flow_key(s, v4("10.1.15.255", "192.0.2.1"))));
    }
    SECTION("destination prefix") {
        FlowKeySpec s;
        s.dst_bits = 16;
        const FlowKey k = flow_key(s, v4("10.1.2.3", "192.0.2.1"));
        CHECK(k == flow_key(s, v4("172.16.0.1", "192.0.200.7")));
        CHECK(!(k == flow_key(s, v4("10.1.2.3", "192.1.2.1"))));
    }
    SECTION("/32 and /0") {
        FlowKeySpec s;
        s.src_bits = 32;
        CHECK(!(flow_key(s, v4("10.1.2.3", "192.0.2.1")) == flow_key(s, v4("10.1.2.4", "192.0.2.1"))));
        CHECK(flow_key(FlowKeySpec{}, v4("10.1.2.3", "192.0.2.1")) == flow_key(FlowKeySpec{}, v4("203.0.113.5", "198.51.100.1", 6, 1, 2)));
    }
    SECTION("from parsed frames") {
        CHECK(flow_key(spec, parsed_udp4("10.1.2.3", "192.0.2.1", 1000, 2000)) ==
              flow_key(spec, parsed_udp4("10.1.2.200", "192.0.2.9", 3000, 4000)));
        CHECK(!(flow_key(spec, parsed_udp4("10.1.2.3", "192.0.2.1", 1000, 2000)) ==
                flow_key(spec, parsed_udp4("10.1.3.1", "192.0.2.1", 1000, 2000))));
    }
}

TEST_CASE("flow_key counts the protocol and ports only when the spec says so", "[unit][flow]") {
    FlowKeySpec spec = src24();
    SECTION("dst_port") {
        spec.dst_port = true;
        const FlowKey k = flow_key(spec, v4("10.1.2.3", "192.0.2.1", 17, 1111, 5001));
        CHECK(k.dst_port == 5001);
        CHECK(k.src_port == 0);
        CHECK(k.proto == 0);
        CHECK(k == flow_key(spec, v4("10.1.2.9", "192.0.2.1", 17, 2222, 5001)));
        CHECK(k == flow_key(spec, v4("10.1.2.9", "192.0.2.1", 6, 2222, 5001)));  // TCP or UDP: proto not in the key
        CHECK(!(k == flow_key(spec, v4("10.1.2.3", "192.0.2.1", 17, 1111, 5002))));
    }
    SECTION("src_port") {
        spec.src_port = true;
        const FlowKey k = flow_key(spec, v4("10.1.2.3", "192.0.2.1", 17, 1111, 5001));
        CHECK(k.src_port == 1111);
        CHECK(k.dst_port == 0);
        CHECK(k == flow_key(spec, v4("10.1.2.3", "192.0.2.1", 17, 1111, 9999)));
        CHECK(!(k == flow_key(spec, v4("10.1.2.3", "192.0.2.1", 17, 1112, 5001))));
    }
    SECTION("proto") {
        spec.proto = true;
        const FlowKey k = flow_key(spec, v4("10.1.2.3", "192.0.2.1", 17, 1111, 5001));
        CHECK(k.proto == 17);
        CHECK(k == flow_key(spec, v4("10.1.2.3", "192.0.2.1", 17, 3333, 4444)));
        CHECK(!(k == flow_key(spec, v4("10.1.2.3", "192.0.2.1", 6, 1111, 5001))));
    }
    SECTION("a packet without ports (ICMP) has port 0 in a key that asks for ports") {
        spec.src_port = spec.dst_port = true;
        const FlowKey k = flow_key(spec, v4("10.1.2.3", "192.0.2.1", 1));
        CHECK(k.src_port == 0);
        CHECK(k.dst_port == 0);
        CHECK(k == flow_key(spec, v4("10.1.2.4", "192.0.2.2", 1)));
    }
    SECTION("none of them") {
        const FlowKey k = flow_key(spec, v4("10.1.2.3", "192.0.2.1", 17, 1111, 5001));
        CHECK(k.proto == 0);
        CHECK(k.src_port == 0);
        CHECK(k.dst_port == 0);
    }
}

TEST_CASE("flow_key masks IPv6 addresses with src6/dst6", "[unit][flow]") {
    FlowKeySpec spec;
    spec.src6_bits = 48;
    const FlowKey k = flow_key(spec, v6("2001:db8:1::1", "2001:db8:ff::2"));
    CHECK(k.ip_version == 6);
    CHECK(k == flow_key(spec, v6("2001:db8:1:ffff::2", "2001:db8:ff::2")));
    CHECK(k == flow_key(spec, v6("2001:db8:1::1", "2001:db8:ee::9", 6, 1, 2)));
    CHECK(!(k == flow_key(spec, v6("2001:db8:2::1", "2001:db8:ff::2"))));
    uint8_t masked[16];
    REQUIRE(inet_pton(AF_INET6, "2001:db8:1::", masked) == 1);
    CHECK(std::memcmp(k.src, masked, 16) == 0);

    SECTION("a prefix not on a byte boundary, destination side") {
        FlowKeySpec s;
        s.dst6_bits = 52;  // 2001:db8:1:0::/52 covers ...:1:0000 - ...:1:0fff
        const FlowKey d = flow_key(s, v6("2001:db8::1", "2001:db8:1:0::1"));
        CHECK(d == flow_key(s, v6("2001:db8::9", "2001:db8:1:fff:1::7")));
        CHECK(!(d == flow_key(s, v6("2001:db8::1", "2001:db8:1:1000::1"))));
    }
    SECTION("the IPv4 prefix lengths do not apply to IPv6") {
        const FlowKeySpec s = src24();
        const FlowKey a = flow_key(s, v6("2001:db8:1::1", "2001:db8:ff::2"));
        CHECK(a == flow_key(s, v6("2001:db8:9::1", "2001:db8:ee::2")));
        CHECK(!(a == flow_key(s, v4("10.1.2.3", "192.0.2.1"))));
    }
    SECTION("the IPv6 prefix lengths do not apply to IPv4") {
        const FlowKey a = flow_key(spec, v4("10.1.2.3", "192.0.2.1"));
        CHECK(a == flow_key(spec, v4("172.16.9.9", "198.51.100.1")));
    }
}

TEST_CASE("non-IP frames all share the key of version 0", "[unit][flow]") {
    FlowKeySpec spec = src24();
    spec.src6_bits = 64;
    spec.proto = spec.src_port = spec.dst_port = true;
    PacketFields arp;
    arp.ether_type = 0x0806;
    PacketFields vlan_lldp;
    vlan_lldp.ether_type = 0x88CC;
    vlan_lldp.vlan_count = 1;
    vlan_lldp.vlan_outer = 42;
    const FlowKey k = flow_key(spec, arp);
    CHECK(k.ip_version == 0);
    CHECK(k == FlowKey{});
    CHECK(k == flow_key(spec, vlan_lldp));
    CHECK(k == flow_key(spec, parsed_non_ip(0x0806, 0x11)));
    CHECK(k == flow_key(spec, parsed_non_ip(0x88B5, 0xee)));
    CHECK(k == flow_key(FlowKeySpec{}, arp));
    // Not the key of an IP packet, even under an empty spec.
    CHECK(!(flow_key(FlowKeySpec{}, arp) == flow_key(FlowKeySpec{}, v4("0.0.0.0", "0.0.0.0", 0))));
    CHECK(!(flow_key(FlowKeySpec{}, v4("10.1.2.3", "192.0.2.1")) == flow_key(FlowKeySpec{}, v6("2001:db8::1", "2001:db8::2"))));
}

TEST_CASE("to_string of a flow key", "[unit][flow]") {
    SECTION("the documented example") {
        FlowKeySpec spec = src24();
        spec.dst_port = true;
        CHECK(to_string(spec, flow_key(spec, v4("10.1.2.3", "192.0.2.1", 17, 1234, 5001))) == "src 10.1.2.0/24, dst_port 5001");
    }
    SECTION("non-IP") {
        FlowKeySpec spec = src24();
        spec.dst_port = true;
        PacketFields arp;
        arp.ether_type = 0x0806;
        CHECK(to_string(spec, flow_key(spec, arp)) == "non-IP");
        CHECK(to_string(FlowKeySpec{}, FlowKey{}) == "non-IP");
    }
    SECTION("IPv6 prefix and a destination") {
        FlowKeySpec spec;
        spec.src6_bits = 48;
        CHECK(to_string(spec, flow_key(spec, v6("2001:db8:1::1", "2001:db8:ff::2"))) == "src 2001:db8:1::/48");
        FlowKeySpec d;
        d.dst_bits = 20;
        d.src_port = true;
        CHECK(to_string(d, flow_key(d, v4("10.1.2.3", "10.1.31.200", 6, 4321, 80))) == "dst 10.1.16.0/20, src_port 4321");
    }
}

TEST_CASE("FlowTable: a new key creates an instance, the same key finds it", "[unit][flow]") {
    constexpr uint32_t kMax = 8;
    FlowTable t(kMax, 1000);
    REQUIRE(t.max_flows() == kMax);
    for (uint32_t i = 0; i < kMax; ++i) CHECK(!t.in_use(i));

    const FlowKeySpec spec = src24();
    const FlowKey a = flow_key(spec, v4("10.1.2.3", "192.0.2.1"));
    bool created = false;
    const uint32_t ia = t.find_or_add(a, 10, always, &created);
    REQUIRE(ia < kMax);
    CHECK(created);
    CHECK(t.in_use(ia));
    CHECK(t.key_of(ia) == a);
    CHECK(t.flows_served(ia) == 1);

    // The same key, and another packet under it: the same instance, not created.
    created = true;
    CHECK(t.find_or_add(a, 20, always, &created) == ia);
    CHECK(!created);
    created = true;
    CHECK(t.find_or_add(flow_key(spec, v4("10.1.2.200", "198.51.100.1")), 30, always, &created) == ia);
    CHECK(!created);
    CHECK(t.flows_served(ia) == 1);

    // Distinct keys get distinct instances, up to max_flows.
    std::set<uint32_t> used = {ia};
    std::vector<FlowKey> keys = {a};
    for (uint32_t n = 1; n < kMax; ++n) {
        const FlowKey k = key_of_id(n);
        const uint32_t i = t.find_or_add(k, 40 + n, never, &created);
        INFO("key " << n);
        REQUIRE(i < kMax);
        CHECK(created);
        CHECK(used.insert(i).second);
        CHECK(t.key_of(i) == k);
        keys.push_back(k);
    }
    CHECK(used.size() == kMax);
    // Every key still finds its instance.
    for (const FlowKey &k : keys) {
        const uint32_t i = t.find_or_add(k, 100, never, &created);
        CHECK(!created);
        CHECK(i < kMax);
        CHECK(t.key_of(i) == k);
    }
}

TEST_CASE("FlowTable: with every instance taken and none idle long enough, a new key gets kNone", "[unit][flow]") {
    constexpr uint32_t kMax = 4;
    constexpr uint64_t kIdle = 1000;
    FlowTable t(kMax, kIdle);
    bool created = false;
    for (uint32_t n = 0; n < kMax; ++n) REQUIRE(t.find_or_add(key_of_id(n), 100 + n, always, &created) != FlowTable::kNone);

    SECTION("none idle for idle_timeout") {
        created = true;
        // Instance of key 0 last seen at 100: idle 999 ns at 1099.
        CHECK(t.find_or_add(key_of_id(100), 100 + kIdle - 1, always, &created) == FlowTable::kNone);
        CHECK(!created);
        // The refusal changed nothing: the old keys are all there.
        for (uint32_t n = 0; n < kMax; ++n) {
            CHECK(t.find_or_add(key_of_id(n), 100 + kIdle - 1, never, &created) != FlowTable::kNone);
            CHECK(!created);
        }
    }
    SECTION("idle long enough, but the caller says the instance is not empty") {
        std::vector<uint32_t> asked;
        const auto busy = [&](uint32_t i) {
            asked.push_back(i);
            return false;
        };
        created = true;
        CHECK(t.find_or_add(key_of_id(100), 100 + 10 * kIdle, busy, &created) == FlowTable::kNone);
        CHECK(!created);
        CHECK(!asked.empty());
        for (uint32_t n = 0; n < kMax; ++n) {
            CHECK(t.find_or_add(key_of_id(n), 100 + 10 * kIdle, never, &created) != FlowTable::kNone);
            CHECK(!created);
            CHECK(t.flows_served(t.find_or_add(key_of_id(n), 100 + 10 * kIdle, never, &created)) == 1);
        }
    }
    SECTION("a table of no instances refuses everything") {
        FlowTable empty(0, 0);
        CHECK(empty.max_flows() == 0);
        CHECK(empty.find_or_add(key_of_id(1), 5, always, &created) == FlowTable::kNone);
        CHECK(!created);
    }
}

TEST_CASE("FlowTable: after idle_timeout a new key recycles the instance idle the longest", "[unit][flow]") {
    constexpr uint32_t kMax = 4;
    constexpr uint64_t kIdle = 1000;
    FlowTable t(kMax, kIdle);
    bool created = false;
    // Keys 0-3 created at 10, 20, 30, 40.
    std::vector<uint32_t> inst(kMax);
    for (uint32_t n = 0; n < kMax; ++n) inst[n] = t.find_or_add(key_of_id(n), 10 * (n + 1), always, &created);

    SECTION("exactly idle_timeout is enough") {
        CHECK(t.find_or_add(key_of_id(100), 10 + kIdle - 1, always, &created) == FlowTable::kNone);
        std::vector<uint32_t> asked;
        const auto empty = [&](uint32_t i) {
            asked.push_back(i);
            return true;
        };
        CHECK(t.find_or_add(key_of_id(100), 10 + kIdle, empty, &created) == inst[0]);
        CHECK(created);
        CHECK(asked == std::vector<uint32_t>{inst[0]});
    }
    SECTION("the oldest goes first, and its old key no longer finds it") {
        const uint64_t now = 5000;  // all idle
        CHECK(t.find_or_add(key_of_id(100), now, always, &created) == inst[0]);
        CHECK(created);
        CHECK(t.key_of(inst[0]) == key_of_id(100));
        CHECK(t.flows_served(inst[0]) == 2);
        CHECK(t.in_use(inst[0]));

        // The other keys keep their instances.
        for (uint32_t n = 1; n < kMax; ++n) {
            INFO("key " << n);
            CHECK(t.find_or_add(key_of_id(n), now + n, never, &created) == inst[n]);
            CHECK(!created);
        }
        // Key 0 again: not found; it is a new flow. Every instance was seen
        // within idle_timeout, so it is refused...
        CHECK(t.find_or_add(key_of_id(0), now + 10, always, &created) == FlowTable::kNone);
        CHECK(!created);
        // ...and later recycles the one idle longest: key 100's (seen at 5000).
        CHECK(t.find_or_add(key_of_id(0), now + 10 + kIdle, always, &created) == inst[0]);
        CHECK(created);
        CHECK(t.flows_served(inst[0]) == 3);
        CHECK(t.find_or_add(key_of_id(100), now + 10 + kIdle, never, &created) == FlowTable::kNone);
    }
    SECTION("a lookup updates last_seen: the key seen recently is not recycled") {
        // Key 0 (the oldest) seen again at 500; key 1 (seen at 20) is now idle the longest.
        CHECK(t.find_or_add(key_of_id(0), 500, never, &created) == inst[0]);
        CHECK(!created);
        CHECK(t.find_or_add(key_of_id(100), 3000, always, &created) == inst[1]);
        CHECK(created);
        CHECK(t.find_or_add(key_of_id(101), 3001, always, &created) == inst[2]);
        CHECK(t.find_or_add(key_of_id(102), 3002, always, &created) == inst[3]);
        CHECK(t.find_or_add(key_of_id(103), 3003, always, &created) == inst[0]);
        for (uint32_t i = 0; i < kMax; ++i) CHECK(t.flows_served(i) == 2);
    }
    SECTION("only instances idle for idle_timeout are candidates") {
        // Keys 0 and 1 seen again at 1500 and 1600: at 2035 only keys 2 and 3 (seen at 30, 40) are idle for 1000.
        CHECK(t.find_or_add(key_of_id(0), 1500, never, &created) == inst[0]);
        CHECK(t.find_or_add(key_of_id(1), 1600, never, &created) == inst[1]);
        CHECK(t.find_or_add(key_of_id(100), 2035, always, &created) == inst[2]);
        CHECK(t.find_or_add(key_of_id(101), 2036, always, &created) == inst[3]);
        CHECK(t.find_or_add(key_of_id(102), 2037, always, &created) == FlowTable::kNone);  // key 0: idle 537
        CHECK(t.find_or_add(key_of_id(102), 2500, always, &created) == inst[0]);
    }
}

TEST_CASE("FlowTable against a reference model: random lookups, new keys and recycles", "[unit][flow]") {
    struct Params {
        uint32_t max_flows;
        uint64_t idle_timeout;
        uint32_t new_key_percent;
    };
    const auto params = GENERATE(Params{64, 1500, 30}, Params{64, 200, 50}, Params{8, 500, 40}, Params{100, 2500, 35});
    INFO("max_flows " << params.max_flows << ", idle_timeout " << params.idle_timeout);

    std::mt19937_64 rng(20240611 + params.max_flows * 7 + params.idle_timeout);
    FlowTable t(params.max_flows, params.idle_timeout);

    // The model: which key id each instance holds, when it was last seen, how many flows it served.
    std::map<uint32_t, uint32_t> live;  // key id -> instance
    std::vector<int64_t> owner(params.max_flows, -1);
    std::vector<uint64_t> last_seen(params.max_flows, 0);
    std::vector<uint64_t> served(params.max_flows, 0);
    std::vector<uint32_t> dead;  // ids whose instance was recycled
    std::vector<uint8_t> empty(params.max_flows, 1);
    uint32_t next_id = 1;
    uint64_t now = 1;
    uint64_t recycles = 0, refusals = 0, refused_busy = 0;

    const auto verify = [&] {
        for (const auto &[id, idx] : live) {
            FlowTable copy = t;  // lookups move last_seen: check on a copy
            bool c = true;
            const uint32_t got = copy.find_or_add(key_of_id(id), now, never, &c);
            if (got != idx || c) {
                FAIL_CHECK("live key " << id << " should find instance " << idx << ", got " << got << (c ? " (created)" : ""));
            }
        }
        for (size_t j = dead.size() > 64 ? dead.size() - 64 : 0; j < dead.size(); ++j) {
            FlowTable copy = t;
            bool c = false;
            const uint32_t got = copy.find_or_add(key_of_id(dead[j]), now, always, &c);
            if (got != FlowTable::kNone && !c) FAIL_CHECK("recycled key " << dead[j] << " still finds instance " << got);
        }
        for (uint32_t i = 0; i < params.max_flows; ++i) {
            if (owner[i] < 0) continue;
            if (!(t.key_of(i) == key_of_id(static_cast<uint32_t>(owner[i]))) || !t.in_use(i) || t.flows_served(i) != served[i]) {
                FAIL_CHECK("instance " << i << " differs from the model");
            }
        }
    };

    constexpr int kSteps = 20000;
    for (int step = 0; step < kSteps; ++step) {
        now += 1 + rng() % 20;
        for (auto &e : empty) e = rng() % 100 < 85;

        const bool new_key = live.empty() || rng() % 100 < params.new_key_percent;
        uint32_t id;
        if (!new_key) {
            auto it = live.begin();
            std::advance(it, static_cast<long>(rng() % live.size()));
            id = it->first;
        } else if (!dead.empty() && rng() % 4 == 0) {
            id = dead[rng() % dead.size()];  // a flow that comes back after its instance went
        } else {
            id = next_id++;
        }

        bool created = false;
        const uint32_t got = t.find_or_add(
            key_of_id(id), now, [&](uint32_t i) { return empty.at(i) != 0; }, &created);
        INFO("step " << step << ", key " << id << ", now " << now);

        if (auto it = live.find(id); it != live.end()) {
            REQUIRE(got == it->second);
            REQUIRE(!created);
            last_seen[got] = now;
            continue;
        }
        // A key not in the table: a free instance, else the one idle longest if idle enough and empty, else kNone.
        uint32_t free_count = 0;
        for (uint32_t i = 0; i < params.max_flows; ++i) free_count += owner[i] < 0;
        if (free_count != 0) {
            REQUIRE(got < params.max_flows);
            REQUIRE(created);
            REQUIRE(owner[got] < 0);
        } else {
            uint32_t want = FlowTable::kNone;
            for (uint32_t i = 0; i < params.max_flows; ++i) {
                if (now - last_seen[i] < params.idle_timeout) continue;
                if (want == FlowTable::kNone || last_seen[i] < last_seen[want]) want = i;
            }
            if (want == FlowTable::kNone || !empty[want]) {
                refused_busy += want != FlowTable::kNone;
                ++refusals;
                REQUIRE(got == FlowTable::kNone);
                REQUIRE(!created);
                continue;
            }
            REQUIRE(got == want);
            REQUIRE(created);
            live.erase(static_cast<uint32_t>(owner[got]));
            dead.push_back(static_cast<uint32_t>(owner[got]));
            ++recycles;
        }
        std::erase(dead, id);
        owner[got] = id;
        live[id] = got;
        last_seen[got] = now;
        ++served[got];
        REQUIRE(t.flows_served(got) == served[got]);

        if (step % 97 == 0) verify();
    }
    verify();
    CHECK(live.size() == params.max_flows);

    // The run did what it is for: many recycles, and refusals of both kinds.
    CHECK(recycles > 10 * params.max_flows);
    CHECK(refusals > 0);
    CHECK(refused_busy > 0);
}

TEST_CASE("FlowTable: recycling takes the same work with 65 536 instances as with 64 (no scan)", "[unit][flow]") {
    // The same number of recycles on a small and on the largest table, in
    // this thread's CPU time (not wall time, so a busy host does not matter
    // much). A scan of every instance per recycle makes the large table about
    // a thousand times slower; an O(1) recycle, a few times at most (cache).
    constexpr uint32_t kRecycles = 20000;
    const auto cpu_ns = [] {
        timespec ts{};
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
        return static_cast<double>(ts.tv_sec) * 1e9 + static_cast<double>(ts.tv_nsec);
    };
    const auto recycles_ns = [&](uint32_t max_flows) {
        FlowTable t(max_flows, 1);
        bool created = false;
        uint64_t now = 1;
        for (uint32_t n = 0; n < max_flows; ++n) t.find_or_add(key_of_id(n), now++, always, &created);
        uint32_t recycled = 0;
        const double start = cpu_ns();
        for (uint32_t r = 0; r < kRecycles; ++r) {
            const uint32_t i = t.find_or_add(key_of_id(max_flows + r), now++, always, &created);
            recycled += i != FlowTable::kNone && created;
        }
        const double spent = cpu_ns() - start;
        CHECK(recycled == kRecycles);
        return spent;
    };
    const double small = recycles_ns(64), large = recycles_ns(65536);
    INFO("CPU ns per recycle: 64 instances " << small / kRecycles << ", 65536 instances " << large / kRecycles);
    CHECK(large < 20 * small + 50e6);
}
