// [unit] Classification: the frame parser (on frames built here byte by byte,
// cut at every length and fuzzed), the compiled rule matcher and the
// configuration parsers for a rule's match part.
//
// Every frame is parsed from a heap block of exactly its length, so a build
// with -fsanitize=address reports any read past the end.
#include "linkem/packet_fields.hpp"

#include <catch2/catch.hpp>

#include <cstring>
#include <initializer_list>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <vector>

using namespace linkem;

namespace {

using Bytes = std::vector<uint8_t>;

void put16(Bytes &b, uint16_t v) {
    b.push_back(static_cast<uint8_t>(v >> 8));
    b.push_back(static_cast<uint8_t>(v));
}

void put32(Bytes &b, uint32_t v) {
    put16(b, static_cast<uint16_t>(v >> 16));
    put16(b, static_cast<uint16_t>(v));
}

void set16(Bytes &b, size_t at, uint16_t v) {
    b[at] = static_cast<uint8_t>(v >> 8);
    b[at + 1] = static_cast<uint8_t>(v);
}

uint16_t get16(const Bytes &b, size_t at) { return static_cast<uint16_t>(b[at] << 8 | b[at + 1]); }

struct Tag {
    uint16_t tpid;
    uint16_t tci;  // PCP, DEI and the 12-bit id
};

// Destination and source MACs, the VLAN tags, then the EtherType.
Bytes ethernet(uint16_t ether_type, std::initializer_list<Tag> tags = {}) {
    Bytes b = {0x02, 0, 0, 0, 0, 0x01, 0x02, 0, 0, 0, 0, 0x02};
    for (const Tag &t : tags) {
        put16(b, t.tpid);
        put16(b, t.tci);
    }
    put16(b, ether_type);
    return b;
}

struct Ipv4 {
    uint8_t src[4] = {192, 0, 2, 1};
    uint8_t dst[4] = {198, 51, 100, 7};
    uint8_t proto = 17;
    uint8_t tos = 0;
    uint8_t ihl = 5;            // in 32-bit words; options beyond 20 bytes are NOPs (fewer than 5 still writes 20 bytes)
    uint16_t flags_offset = 0;  // DF 0x4000, MF 0x2000, fragment offset in 8-byte units
};

// Appends an IPv4 header (total length 0 until finish()); returns its offset.
size_t ipv4(Bytes &b, const Ipv4 &h) {
    const size_t l3 = b.size();
    b.push_back(static_cast<uint8_t>(0x40 | (h.ihl & 0x0f)));
    b.push_back(h.tos);
    put16(b, 0);  // total length
    put16(b, 0x1234);
    put16(b, h.flags_offset);
    b.push_back(64);
    b.push_back(h.proto);
    put16(b, 0);  // checksum
    b.insert(b.end(), h.src, h.src + 4);
    b.insert(b.end(), h.dst, h.dst + 4);
    for (size_t i = 20; i < h.ihl * 4u; ++i) b.push_back(1);  // NOP
    return l3;
}

struct Ipv6 {
    uint8_t src[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01};
    uint8_t dst[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02};
    uint8_t next = 17;
    uint8_t traffic_class = 0;
};

// Appends an IPv6 header (payload length 0 until finish()); returns its offset.
size_t ipv6(Bytes &b, const Ipv6 &h) {
    const size_t l3 = b.size();
    put32(b, 6u << 28 | uint32_t{h.traffic_class} << 20 | 0x12345);  // flow label 0x12345
    put16(b, 0);                                                     // payload length
    b.push_back(h.next);
    b.push_back(64);
    b.insert(b.end(), h.src, h.src + 16);
    b.insert(b.end(), h.dst, h.dst + 16);
    return l3;
}

// Hop-by-Hop, Routing or Destination Options header of `size` bytes (a multiple of 8).
void extension(Bytes &b, uint8_t next, size_t size) {
    b.push_back(next);
    b.push_back(static_cast<uint8_t>(size / 8 - 1));
    b.insert(b.end(), size - 2, 0);
}

// Authentication header of `size` bytes (a multiple of 4, at least 12).
void authentication(Bytes &b, uint8_t next, size_t size) {
    b.push_back(next);
    b.push_back(static_cast<uint8_t>(size / 4 - 2));
    b.insert(b.end(), size - 2, 0);
}

void fragment6(Bytes &b, uint8_t next, uint16_t offset_units, bool more) {
    b.push_back(next);
    b.push_back(0);
    put16(b, static_cast<uint16_t>(offset_units << 3 | (more ? 1 : 0)));
    put32(b, 0xabcdef01);
}

// A UDP header (or the same 8 bytes of ports and length for SCTP/UDP-Lite) and some payload.
void udp(Bytes &b, uint16_t src, uint16_t dst, size_t payload = 8) {
    put16(b, src);
    put16(b, dst);
    put16(b, static_cast<uint16_t>(8 + payload));
    put16(b, 0);
    b.insert(b.end(), payload, 0xab);
}

void tcp(Bytes &b, uint16_t src, uint16_t dst) {
    put16(b, src);
    put16(b, dst);
    put32(b, 1000);  // sequence
    put32(b, 0);     // acknowledgement
    b.push_back(0x50);
    b.push_back(0x02);  // SYN
    put16(b, 65535);
    put32(b, 0);  // checksum, urgent pointer
}

// Sets the length field of the IP header at l3 so that the datagram ends where `b` does.
void finish(Bytes &b, size_t l3) {
    if ((b[l3] >> 4) == 4) {
        set16(b, l3 + 2, static_cast<uint16_t>(b.size() - l3));
    } else {
        set16(b, l3 + 4, static_cast<uint16_t>(b.size() - l3 - 40));
    }
}

// Parses the first `len` bytes of `frame` from a heap block of exactly `len` bytes.
PacketFields parse(const Bytes &frame, size_t len) {
    std::unique_ptr<uint8_t[]> exact(new uint8_t[len]);
    if (len != 0) std::memcpy(exact.get(), frame.data(), len);
    PacketFields f;
    parse_packet(exact.get(), static_cast<uint32_t>(len), &f);
    return f;
}

PacketFields parse(const Bytes &frame) { return parse(frame, frame.size()); }

Bytes address(const uint8_t (&a)[16]) { return Bytes(a, a + 16); }

Bytes v4_address(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
    Bytes out(16, 0);
    out[0] = a, out[1] = b, out[2] = c, out[3] = d;
    return out;
}

bool is_default_except_notes(const PacketFields &f) {
    const PacketFields d;
    return f.ether_type == d.ether_type && f.vlan_count == d.vlan_count && f.vlan_outer == d.vlan_outer && f.vlan_inner == d.vlan_inner &&
           f.ip_version == d.ip_version && f.has_proto == d.has_proto && f.ip_proto == d.ip_proto && f.dscp == d.dscp && f.ecn == d.ecn &&
           address(f.src_ip) == address(d.src_ip) && address(f.dst_ip) == address(d.dst_ip) && f.has_ports == d.has_ports &&
           f.src_port == d.src_port && f.dst_port == d.dst_port && f.l3_offset == d.l3_offset;
}

// The frames of the truncation test: a name, the frame, and where its L4 ports start.
struct Sample {
    std::string name;
    Bytes frame;
    size_t l4;
};

Sample ipv4_udp_sample() {
    Bytes b = ethernet(0x0800);
    const size_t l3 = ipv4(b, {});
    udp(b, 1234, 53);
    finish(b, l3);
    return {"IPv4 UDP", b, l3 + 20};
}

Sample qinq_ipv4_options_tcp_sample() {
    Bytes b = ethernet(0x0800, {{0x88A8, 10}, {0x8100, 20}});
    const size_t l3 = ipv4(b, {.proto = 6, .ihl = 7});
    tcp(b, 40000, 443);
    finish(b, l3);
    return {"QinQ IPv4 with options, TCP", b, l3 + 28};
}

Sample ipv6_chain_udp_sample() {
    Bytes b = ethernet(0x86DD, {{0x8100, 7}});
    const size_t l3 = ipv6(b, {.next = 0});
    extension(b, 43, 8);        // hop-by-hop -> routing
    extension(b, 51, 24);       // routing -> AH
    authentication(b, 60, 16);  // AH -> destination options
    extension(b, 17, 16);       // destination options -> UDP
    const size_t l4 = b.size();
    udp(b, 5000, 5001);
    finish(b, l3);
    return {"IPv6 with four extension headers, UDP", b, l4};
}

Sample ipv6_first_fragment_sctp_sample() {
    Bytes b = ethernet(0x86DD);
    const size_t l3 = ipv6(b, {.next = 44});
    fragment6(b, 132, 0, true);
    const size_t l4 = b.size();
    udp(b, 2905, 2906);  // SCTP's ports are where UDP's are
    finish(b, l3);
    return {"IPv6 first fragment, SCTP", b, l4};
}

}  // namespace

// ---- the parser ----

TEST_CASE("an IPv4 UDP frame gives every field", "[unit][classify]") {
    Bytes b = ethernet(0x0800);
    const size_t l3 = ipv4(b, {.src = {10, 1, 2, 3}, .dst = {10, 9, 8, 7}, .proto = 17, .tos = 46 << 2 | 1});
    udp(b, 5000, 53);
    finish(b, l3);

    const PacketFields f = parse(b);
    CHECK(f.ether_type == 0x0800);
    CHECK(f.vlan_count == 0);
    CHECK(f.vlan_outer == 0);
    CHECK(f.vlan_inner == 0);
    CHECK(f.ip_version == 4);
    CHECK(f.has_proto);
    CHECK(f.ip_proto == 17);
    CHECK(f.dscp == 46);
    CHECK(f.ecn == 1);
    CHECK(address(f.src_ip) == v4_address(10, 1, 2, 3));
    CHECK(address(f.dst_ip) == v4_address(10, 9, 8, 7));
    CHECK(f.has_ports);
    CHECK(f.src_port == 5000);
    CHECK(f.dst_port == 53);
    CHECK(f.l3_offset == 14);
    CHECK(f.notes == 0);
}

TEST_CASE("an IPv6 TCP frame gives every field", "[unit][classify]") {
    Bytes b = ethernet(0x86DD);
    const Ipv6 h{.next = 6, .traffic_class = 10 << 2 | 2};
    const size_t l3 = ipv6(b, h);
    tcp(b, 40000, 443);
    finish(b, l3);

    const PacketFields f = parse(b);
    CHECK(f.ether_type == 0x86DD);
    CHECK(f.vlan_count == 0);
    CHECK(f.ip_version == 6);
    CHECK(f.has_proto);
    CHECK(f.ip_proto == 6);
    CHECK(f.dscp == 10);
    CHECK(f.ecn == 2);
    CHECK(address(f.src_ip) == address(h.src));
    CHECK(address(f.dst_ip) == address(h.dst));
    CHECK(f.has_ports);
    CHECK(f.src_port == 40000);
    CHECK(f.dst_port == 443);
    CHECK(f.l3_offset == 14);
    CHECK(f.notes == 0);
}

TEST_CASE("VLAN tags: one, QinQ, 0x9100, and a third one stops the parse", "[unit][classify]") {
    SECTION("one 802.1Q tag: the id without PCP and DEI") {
        Bytes b = ethernet(0x0800, {{0x8100, 0xE000 | 0x1000 | 100}});
        const size_t l3 = ipv4(b, {});
        udp(b, 1, 2);
        finish(b, l3);
        const PacketFields f = parse(b);
        CHECK(f.vlan_count == 1);
        CHECK(f.vlan_outer == 100);
        CHECK(f.vlan_inner == 0);
        CHECK(f.ether_type == 0x0800);
        CHECK(f.l3_offset == 18);
        CHECK(f.has_ports);
        CHECK(f.notes == 0);
    }
    SECTION("QinQ: 0x88A8 outer, 0x8100 inner") {
        Bytes b = ethernet(0x86DD, {{0x88A8, 0x2000 | 4094}, {0x8100, 1}});
        const size_t l3 = ipv6(b, {});
        udp(b, 1, 2);
        finish(b, l3);
        const PacketFields f = parse(b);
        CHECK(f.vlan_count == 2);
        CHECK(f.vlan_outer == 4094);
        CHECK(f.vlan_inner == 1);
        CHECK(f.ether_type == 0x86DD);
        CHECK(f.ip_version == 6);
        CHECK(f.l3_offset == 22);
        CHECK(f.has_ports);
        CHECK(f.notes == 0);
    }
    SECTION("0x9100 outer tag") {
        Bytes b = ethernet(0x0806, {{0x9100, 33}, {0x8100, 44}});
        b.insert(b.end(), 28, 0);
        const PacketFields f = parse(b);
        CHECK(f.vlan_count == 2);
        CHECK(f.vlan_outer == 33);
        CHECK(f.vlan_inner == 44);
        CHECK(f.ether_type == 0x0806);
        CHECK(f.notes == kNoteNonIp);
    }
    SECTION("three tags") {
        Bytes b = ethernet(0x0800, {{0x88A8, 10}, {0x8100, 20}, {0x8100, 30}});
        const size_t l3 = ipv4(b, {});
        udp(b, 1, 2);
        finish(b, l3);
        const PacketFields f = parse(b);
        CHECK(f.notes == kNoteTooManyTags);
        CHECK(f.ether_type == 0x8100);
        CHECK(f.vlan_count == 2);
        CHECK(f.vlan_outer == 10);
        CHECK(f.vlan_inner == 20);
        CHECK(f.ip_version == 0);
        CHECK_FALSE(f.has_proto);
        CHECK_FALSE(f.has_ports);
    }
    SECTION("a tag cut short: truncated, ether_type is its TPID") {
        Bytes b = ethernet(0x0800, {{0x8100, 20}});
        b.resize(16);
        const PacketFields f = parse(b);
        CHECK(f.notes == kNoteTruncated);
        CHECK(f.ether_type == 0x8100);
        CHECK(f.vlan_count == 0);
    }
}

TEST_CASE("runts of 0 to 13 bytes say only kNoteRunt", "[unit][classify]") {
    const Bytes full = ipv4_udp_sample().frame;
    for (size_t len = 0; len < 14; ++len) {
        INFO("len " << len);
        const PacketFields f = parse(full, len);
        CHECK(f.notes == kNoteRunt);
        CHECK(is_default_except_notes(f));
    }
    CHECK(parse(full, 14).notes == kNoteTruncated);  // a whole Ethernet header is no runt
}

TEST_CASE("a frame cut at every length is parsed within its bytes", "[unit][classify]") {
    const Sample samples[] = {ipv4_udp_sample(), qinq_ipv4_options_tcp_sample(), ipv6_chain_udp_sample(),
                              ipv6_first_fragment_sctp_sample()};
    for (const Sample &s : samples) {
        const PacketFields whole = parse(s.frame);
        REQUIRE(whole.has_ports);
        for (size_t len = 0; len <= s.frame.size(); ++len) {
            INFO(s.name << ", " << len << " of " << s.frame.size() << " bytes");
            const PacketFields f = parse(s.frame, len);
            if (len < 14) {
                CHECK(f.notes == kNoteRunt);
            } else if (len < s.frame.size()) {
                CHECK((f.notes & kNoteTruncated) != 0);
            } else {
                CHECK((f.notes & kNoteTruncated) == 0);
            }
            CHECK(f.has_proto == (len >= s.l4));
            CHECK(f.has_ports == (len >= s.l4 + 4));
            if (f.has_ports) {
                CHECK(f.src_port == whole.src_port);
                CHECK(f.dst_port == whole.dst_port);
            }
            if (f.ip_version != 0) {
                CHECK(f.ip_version == whole.ip_version);
                CHECK(f.l3_offset == whole.l3_offset);
                CHECK(f.l3_offset + (f.ip_version == 4 ? 20u : 40u) <= len);
                CHECK(address(f.src_ip) == address(whole.src_ip));
            }
            if (len >= 14 && f.vlan_count == whole.vlan_count) CHECK(f.ether_type == whole.ether_type);
        }
    }
}

TEST_CASE("IPv4: options, fragments, lengths", "[unit][classify]") {
    SECTION("options (IHL 6) still give the ports") {
        Bytes b = ethernet(0x0800);
        const size_t l3 = ipv4(b, {.proto = 6, .ihl = 6});
        tcp(b, 22, 50000);
        finish(b, l3);
        const PacketFields f = parse(b);
        CHECK(f.notes == kNoteIpOptions);
        CHECK(f.has_ports);
        CHECK(f.src_port == 22);
        CHECK(f.dst_port == 50000);
    }
    SECTION("the first fragment (MF, offset 0) gives the ports") {
        Bytes b = ethernet(0x0800);
        const size_t l3 = ipv4(b, {.flags_offset = 0x2000});
        udp(b, 4789, 4790, 100);
        finish(b, l3);
        const PacketFields f = parse(b);
        CHECK(f.notes == kNoteFragment);
        CHECK(f.has_ports);
        CHECK(f.src_port == 4789);
    }
    SECTION("a later fragment gives the protocol but no ports") {
        for (uint16_t flags_offset : {uint16_t{0x2000 | 185}, uint16_t{185}}) {  // a middle and the last fragment
            Bytes b = ethernet(0x0800);
            const size_t l3 = ipv4(b, {.flags_offset = flags_offset});
            udp(b, 4789, 4790, 100);
            finish(b, l3);
            const PacketFields f = parse(b);
            CHECK(f.notes == (kNoteFragment | kNoteLaterFragment));
            CHECK(f.has_proto);
            CHECK(f.ip_proto == 17);
            CHECK_FALSE(f.has_ports);
            CHECK(f.ip_version == 4);
        }
    }
    SECTION("DF alone is no fragment") {
        Bytes b = ethernet(0x0800);
        const size_t l3 = ipv4(b, {.flags_offset = 0x4000});
        udp(b, 1, 2);
        finish(b, l3);
        CHECK(parse(b).notes == 0);
    }
    SECTION("IHL below 5 is truncated, with no IP fields") {
        for (uint8_t ihl = 0; ihl < 5; ++ihl) {
            Bytes b = ethernet(0x0800);
            const size_t l3 = ipv4(b, {.ihl = ihl});
            udp(b, 1, 2);
            finish(b, l3);
            const PacketFields f = parse(b);
            CHECK(f.notes == kNoteTruncated);
            CHECK(f.ip_version == 0);
            CHECK_FALSE(f.has_proto);
            CHECK_FALSE(f.has_ports);
        }
    }
    SECTION("options beyond the frame's end are truncated") {
        Bytes b = ethernet(0x0800);
        ipv4(b, {.ihl = 15});  // 60 bytes of header
        b.resize(14 + 40);
        const PacketFields f = parse(b);
        CHECK(f.notes == kNoteTruncated);
        CHECK(f.ip_version == 0);
    }
    SECTION("a total length below the header: addresses, no protocol") {
        Bytes b = ethernet(0x0800);
        const size_t l3 = ipv4(b, {});
        udp(b, 1, 2);
        set16(b, l3 + 2, 19);
        const PacketFields f = parse(b);
        CHECK(f.notes == kNoteTruncated);
        CHECK(f.ip_version == 4);
        CHECK(address(f.src_ip) == v4_address(192, 0, 2, 1));
        CHECK_FALSE(f.has_proto);
        CHECK_FALSE(f.has_ports);
    }
    SECTION("a total length beyond the frame: truncated, ports still read when present") {
        Bytes b = ethernet(0x0800);
        const size_t l3 = ipv4(b, {});
        udp(b, 1, 2);
        set16(b, l3 + 2, 1500);
        const PacketFields f = parse(b);
        CHECK(f.notes == kNoteTruncated);
        CHECK(f.has_ports);
    }
    SECTION("Ethernet padding after a short datagram is not taken for ports") {
        Bytes b = ethernet(0x0800);
        const size_t l3 = ipv4(b, {});
        put16(b, 7);  // two bytes of UDP, then padding to 60 bytes
        finish(b, l3);
        b.resize(60, 0xee);
        const PacketFields f = parse(b);
        CHECK(f.notes == kNoteTruncated);
        CHECK(f.has_proto);
        CHECK_FALSE(f.has_ports);
    }
    SECTION("padding after a whole datagram changes nothing") {
        Bytes b = ethernet(0x0800);
        const size_t l3 = ipv4(b, {.proto = 1});
        b.insert(b.end(), 8, 0);  // ICMP echo
        finish(b, l3);
        b.resize(60, 0);
        const PacketFields f = parse(b);
        CHECK(f.notes == 0);
        CHECK(f.has_proto);
        CHECK(f.ip_proto == 1);
        CHECK_FALSE(f.has_ports);
    }
}

TEST_CASE("IPv6: extension headers and fragments", "[unit][classify]") {
    SECTION("hop-by-hop, destination options and a first fragment, then UDP") {
        Bytes b = ethernet(0x86DD);
        const size_t l3 = ipv6(b, {.next = 0});
        extension(b, 60, 8);
        extension(b, 44, 16);
        fragment6(b, 17, 0, true);
        udp(b, 6000, 7000);
        finish(b, l3);
        const PacketFields f = parse(b);
        CHECK(f.notes == (kNoteIpv6Extensions | kNoteFragment));
        CHECK(f.has_proto);
        CHECK(f.ip_proto == 17);
        CHECK(f.has_ports);
        CHECK(f.src_port == 6000);
        CHECK(f.dst_port == 7000);
    }
    SECTION("a later fragment: protocol, no ports") {
        Bytes b = ethernet(0x86DD);
        const size_t l3 = ipv6(b, {.next = 0});
        extension(b, 44, 8);
        fragment6(b, 17, 150, false);
        b.insert(b.end(), 64, 0x55);
        finish(b, l3);
        const PacketFields f = parse(b);
        CHECK(f.notes == (kNoteIpv6Extensions | kNoteFragment | kNoteLaterFragment));
        CHECK(f.has_proto);
        CHECK(f.ip_proto == 17);
        CHECK_FALSE(f.has_ports);
    }
    SECTION("the authentication header's length is (len + 2) * 4") {
        Bytes b = ethernet(0x86DD);
        const size_t l3 = ipv6(b, {.next = 51});
        authentication(b, 6, 28);
        tcp(b, 179, 33000);
        finish(b, l3);
        const PacketFields f = parse(b);
        CHECK(f.notes == kNoteIpv6Extensions);
        CHECK(f.ip_proto == 6);
        CHECK(f.src_port == 179);
        CHECK(f.dst_port == 33000);
    }
    SECTION("No Next Header") {
        Bytes b = ethernet(0x86DD);
        const size_t l3 = ipv6(b, {.next = 59});
        finish(b, l3);
        const PacketFields f = parse(b);
        CHECK(f.notes == 0);
        CHECK(f.has_proto);
        CHECK(f.ip_proto == 59);
        CHECK_FALSE(f.has_ports);
    }
    SECTION("ESP ends the walk") {
        Bytes b = ethernet(0x86DD);
        const size_t l3 = ipv6(b, {.next = 60});
        extension(b, 50, 8);
        b.insert(b.end(), 32, 0);
        finish(b, l3);
        const PacketFields f = parse(b);
        CHECK(f.notes == kNoteIpv6Extensions);
        CHECK(f.ip_proto == 50);
        CHECK_FALSE(f.has_ports);
    }
    SECTION("eight extension headers are walked, a ninth is too many") {
        for (int count : {8, 9}) {
            Bytes b = ethernet(0x86DD);
            const size_t l3 = ipv6(b, {.next = 60});
            for (int i = 0; i < count; ++i) extension(b, i + 1 < count ? 60 : 17, 8);
            udp(b, 1, 2);
            finish(b, l3);
            const PacketFields f = parse(b);
            INFO(count << " headers");
            if (count == 8) {
                CHECK(f.notes == kNoteIpv6Extensions);
                CHECK(f.has_ports);
            } else {
                CHECK(f.notes == (kNoteIpv6Extensions | kNoteTruncated));
                CHECK_FALSE(f.has_proto);
                CHECK_FALSE(f.has_ports);
            }
            CHECK(f.ip_version == 6);
        }
    }
    SECTION("an extension header longer than the payload length says") {
        Bytes b = ethernet(0x86DD);
        const size_t l3 = ipv6(b, {.next = 0});
        extension(b, 17, 64);
        udp(b, 1, 2);
        finish(b, l3);
        set16(b, l3 + 4, 32);
        const PacketFields f = parse(b);
        CHECK((f.notes & kNoteTruncated) != 0);
        CHECK_FALSE(f.has_proto);
    }
}

TEST_CASE("non-IP frames are noted and not parsed further", "[unit][classify]") {
    Bytes b = ethernet(0x0806);  // ARP request
    put16(b, 1);
    put16(b, 0x0800);
    b.insert(b.end(), 24, 0x11);
    const PacketFields f = parse(b);
    CHECK(f.notes == kNoteNonIp);
    CHECK(f.ether_type == 0x0806);
    CHECK(f.ip_version == 0);
    CHECK_FALSE(f.has_proto);
    CHECK_FALSE(f.has_ports);
}

TEST_CASE("random frames: no read past the end, fields consistent", "[unit][classify]") {
    std::mt19937_64 rng(0x6c696e6b656dULL);
    const uint16_t ether_types[] = {0x0800, 0x86DD, 0x8100, 0x88A8};
    const uint8_t next_headers[] = {0, 6, 17, 43, 44, 51, 59, 60, 132, 136};
    uint64_t failures = 0, ports_v4 = 0, ports_v6 = 0, ports_v6_extensions = 0, later_fragments = 0;
    std::string first_failure;

    for (int i = 0; i < 100000; ++i) {
        const size_t len = rng() % 129;
        Bytes frame(len);
        for (uint8_t &byte : frame) byte = static_cast<uint8_t>(rng());
        if (len >= 14 && (rng() & 1)) {
            set16(frame, 12, ether_types[rng() % 4]);
            size_t l3 = 14;
            if (get16(frame, 12) >= 0x8100 && len >= 18) {  // a tag, and IP behind it
                set16(frame, 16, ether_types[rng() % 2]);
                l3 = 18;
            }
            // Mostly plausible IP headers, so that the deeper paths are taken too.
            const uint16_t type = get16(frame, l3 - 2);
            if (type == 0x0800 && len >= l3 + 4 && (rng() % 4) != 0) {
                frame[l3] = static_cast<uint8_t>(0x45 + rng() % 3);
                set16(frame, l3 + 2, static_cast<uint16_t>(rng() % 8 == 0 ? rng() : len - l3));
                if (len >= l3 + 10) {
                    if (rng() % 4 != 0) {  // mostly unfragmented or a first fragment
                        frame[l3 + 6] &= 0x60;
                        frame[l3 + 7] = 0;
                    }
                    frame[l3 + 9] = next_headers[rng() % 10];
                }
            } else if (type == 0x86DD && len >= l3 + 7 && (rng() % 4) != 0) {
                frame[l3] = static_cast<uint8_t>(0x60 | (frame[l3] & 0x0f));
                set16(frame, l3 + 4, static_cast<uint16_t>(rng() % 8 == 0 ? rng() : len - l3 - std::min<size_t>(len - l3, 40)));
                frame[l3 + 6] = next_headers[rng() % 10];
                for (size_t at = l3 + 40; at < len; at += 8) {  // extension headers of 8 bytes where they land
                    frame[at] = next_headers[rng() % 10];
                    if (at + 1 < len) frame[at + 1] = 0;
                    if (at + 2 < len && (rng() & 1)) frame[at + 2] = 0;
                    if (at + 3 < len) frame[at + 3] &= 0x07;
                }
            }
        }

        const PacketFields f = parse(frame, len);
        const auto fail = [&](const char *what) {
            if (failures++ == 0) {
                std::ostringstream s;
                s << "frame " << i << " (" << len << " bytes): " << what;
                first_failure = s.str();
            }
        };
        if (((f.notes & kNoteRunt) != 0) != (len < 14)) fail("runt note");
        if ((f.notes & kNoteRunt) && !(f.notes == kNoteRunt && is_default_except_notes(f))) fail("a runt with fields");
        if (f.vlan_count > 2) fail("vlan_count");
        if ((f.notes & kNoteTooManyTags) && f.vlan_count != 2) fail("too many tags with fewer than 2");
        if (f.dscp > 63 || f.ecn > 3) fail("dscp/ecn range");
        if ((f.notes & kNoteLaterFragment) && !(f.notes & kNoteFragment)) fail("later fragment without fragment");
        if ((f.notes & kNoteLaterFragment) && f.has_ports) fail("ports of a later fragment");
        if (f.has_ports && !f.has_proto) fail("ports without proto");
        if (f.has_ports && f.ip_proto != 6 && f.ip_proto != 17 && f.ip_proto != 132 && f.ip_proto != 136) fail("ports of a portless proto");
        if (f.ip_version == 0) {
            if (f.has_proto || f.has_ports) fail("L4 without IP");
        } else if (f.ip_version == 4) {
            const size_t header = (frame[f.l3_offset] & 0x0f) * 4u;
            if (f.ether_type != 0x0800) fail("IPv4 under another EtherType");
            if (f.l3_offset != 14 + 4 * f.vlan_count) fail("IPv4 l3_offset");
            if (header < 20 || f.l3_offset + header > len) fail("IPv4 header beyond the frame");
            for (int b = 4; b < 16; ++b) {
                if (f.src_ip[b] != 0 || f.dst_ip[b] != 0) fail("IPv4 address beyond 4 bytes");
            }
            if (f.has_ports) {
                const size_t l4 = f.l3_offset + header;
                if (l4 + 4 > len) fail("IPv4 ports beyond the frame");
                if (l4 + 4 <= len && (get16(frame, l4) != f.src_port || get16(frame, l4 + 2) != f.dst_port)) fail("IPv4 ports misread");
                ++ports_v4;
            }
        } else if (f.ip_version == 6) {
            if (f.ether_type != 0x86DD) fail("IPv6 under another EtherType");
            if (f.l3_offset != 14 + 4 * f.vlan_count) fail("IPv6 l3_offset");
            if (f.l3_offset + 40u > len) fail("IPv6 header beyond the frame");
            if (f.has_ports) {
                const size_t l4 = f.l3_offset + 40u;
                if (l4 + 4 > len) fail("IPv6 ports beyond the frame");
                if (!(f.notes & kNoteIpv6Extensions) && (get16(frame, l4) != f.src_port || get16(frame, l4 + 2) != f.dst_port))
                    fail("IPv6 ports misread");
                ++(f.notes & kNoteIpv6Extensions ? ports_v6_extensions : ports_v6);
            }
        } else {
            fail("ip_version");
        }
        if (f.notes & kNoteLaterFragment) ++later_fragments;
    }
    INFO(first_failure);
    CHECK(failures == 0);
    // The forced headers reach the deep paths often enough for the run to mean something.
    INFO("ports: IPv4 " << ports_v4 << ", IPv6 " << ports_v6 << ", IPv6 after extensions " << ports_v6_extensions << "; later fragments "
                        << later_fragments);
    CHECK(ports_v4 > 1000);
    CHECK(ports_v6 > 1000);
    CHECK(ports_v6_extensions > 100);
    CHECK(later_fragments > 100);
}

// ---- the rule matcher ----

namespace {

IpPrefix prefix(std::string_view text) {
    const Parsed<IpPrefix> p = parse_ip_prefix(text);
    INFO(text << ": " << p.error);
    REQUIRE(p);
    return *p.value;
}

RuleMatch rule(uint32_t fields) {
    RuleMatch m;
    m.fields = fields;
    return m;
}

// 10.1.2.3:5000 -> 10.9.8.7:53 UDP, DSCP 46, in VLAN 100 / 200.
PacketFields qinq_ipv4_udp() {
    Bytes b = ethernet(0x0800, {{0x88A8, 100}, {0x8100, 200}});
    const size_t l3 = ipv4(b, {.src = {10, 1, 2, 3}, .dst = {10, 9, 8, 7}, .proto = 17, .tos = 46 << 2});
    udp(b, 5000, 53);
    finish(b, l3);
    return parse(b);
}

// 2001:db8::1:40000 -> 2001:db8:1::2:443 TCP, DSCP 10, untagged.
PacketFields ipv6_tcp() {
    Bytes b = ethernet(0x86DD);
    const size_t l3 = ipv6(b, {.next = 6, .traffic_class = 10 << 2});
    tcp(b, 40000, 443);
    finish(b, l3);
    return parse(b);
}

PacketFields arp() {
    Bytes b = ethernet(0x0806);
    b.insert(b.end(), 28, 0);
    return parse(b);
}

}  // namespace

TEST_CASE("a rule with no fields matches everything", "[unit][classify]") {
    const RuleMatch m;
    CHECK(rule_matches(m, 0, qinq_ipv4_udp()));
    CHECK(rule_matches(m, 7, ipv6_tcp()));
    CHECK(rule_matches(m, 1, arp()));
    CHECK(rule_matches(m, 0, parse(Bytes{1, 2, 3})));
}

TEST_CASE("rule fields: port, EtherType, VLANs, protocol", "[unit][classify]") {
    const PacketFields v4 = qinq_ipv4_udp(), v6 = ipv6_tcp(), other = arp();

    RuleMatch m = rule(RuleMatch::kPort);
    m.port = 3;
    CHECK(rule_matches(m, 3, v4));
    CHECK_FALSE(rule_matches(m, 2, v4));

    m = rule(RuleMatch::kEtherType);
    m.ether_type = 0x0800;
    CHECK(rule_matches(m, 0, v4));
    CHECK_FALSE(rule_matches(m, 0, v6));
    m.ether_type = 0x0806;
    CHECK(rule_matches(m, 0, other));

    m = rule(RuleMatch::kVlan);
    m.vlan = 100;
    CHECK(rule_matches(m, 0, v4));
    m.vlan = 101;
    CHECK_FALSE(rule_matches(m, 0, v4));
    m.vlan = 0;
    CHECK_FALSE(rule_matches(m, 0, v6));  // untagged is not VLAN 0

    m = rule(RuleMatch::kInnerVlan);
    m.inner_vlan = 200;
    CHECK(rule_matches(m, 0, v4));
    m.inner_vlan = 100;
    CHECK_FALSE(rule_matches(m, 0, v4));
    PacketFields single = v4;
    single.vlan_count = 1;
    single.vlan_inner = 0;
    m.inner_vlan = 0;
    CHECK_FALSE(rule_matches(m, 0, single));  // one tag has no inner VLAN, not even 0
    m = rule(RuleMatch::kVlan);
    m.vlan = 100;
    CHECK(rule_matches(m, 0, single));

    m = rule(RuleMatch::kProto);
    m.proto = 17;
    CHECK(rule_matches(m, 0, v4));
    CHECK_FALSE(rule_matches(m, 0, v6));
    m.proto = 6;
    CHECK(rule_matches(m, 0, v6));
    m.proto = 0;
    CHECK_FALSE(rule_matches(m, 0, other));  // no protocol is not protocol 0
}

TEST_CASE("rule fields: address prefixes at their boundaries", "[unit][classify]") {
    const PacketFields v4 = qinq_ipv4_udp(), v6 = ipv6_tcp(), other = arp();
    const auto src = [](std::string_view p) {
        RuleMatch m = rule(RuleMatch::kSrc);
        m.src = prefix(p);
        return m;
    };
    const auto with_src = [](PacketFields f, uint8_t last) {
        f.src_ip[3] = last;
        return f;
    };

    CHECK(rule_matches(src("0.0.0.0/0"), 0, v4));
    CHECK_FALSE(rule_matches(src("0.0.0.0/0"), 0, v6));
    CHECK_FALSE(rule_matches(src("0.0.0.0/0"), 0, other));
    CHECK(rule_matches(src("::/0"), 0, v6));
    CHECK_FALSE(rule_matches(src("::/0"), 0, v4));

    CHECK(rule_matches(src("10.1.2.0/24"), 0, v4));
    CHECK(rule_matches(src("10.1.2.0/24"), 0, with_src(v4, 0)));
    CHECK(rule_matches(src("10.1.2.0/24"), 0, with_src(v4, 255)));
    CHECK_FALSE(rule_matches(src("10.1.3.0/24"), 0, v4));
    CHECK_FALSE(rule_matches(src("10.1.1.0/24"), 0, v4));
    CHECK(rule_matches(src("10.1.2.3/32"), 0, v4));
    CHECK(rule_matches(src("10.1.2.3"), 0, v4));
    CHECK_FALSE(rule_matches(src("10.1.2.4/32"), 0, v4));
    CHECK_FALSE(rule_matches(src("10.1.2.2/32"), 0, v4));
    CHECK_FALSE(rule_matches(src("10.1.2.128/25"), 0, v4));  // a partial byte
    CHECK(rule_matches(src("10.1.2.128/25"), 0, with_src(v4, 128)));
    CHECK(rule_matches(src("10.1.2.0/25"), 0, with_src(v4, 127)));
    CHECK_FALSE(rule_matches(src("10.1.2.0/25"), 0, with_src(v4, 128)));
    CHECK(rule_matches(src("8.0.0.0/5"), 0, v4));  // 10 = 0b00001010: the first 5 bits are 00001

    CHECK(rule_matches(src("2001:db8::1/128"), 0, v6));
    CHECK_FALSE(rule_matches(src("2001:db8::2/128"), 0, v6));
    CHECK(rule_matches(src("2001:db8::/32"), 0, v6));
    CHECK_FALSE(rule_matches(src("2001:db9::/32"), 0, v6));

    // An IPv4 prefix does not match an IPv6 address that starts with the same bytes.
    PacketFields v6_like_v4 = v6;
    std::memcpy(v6_like_v4.src_ip, v4.src_ip, 16);
    CHECK_FALSE(rule_matches(src("10.1.2.0/24"), 0, v6_like_v4));
    CHECK_FALSE(rule_matches(src("0a01:0200::/24"), 0, v4));

    RuleMatch dst = rule(RuleMatch::kDst);
    dst.dst = prefix("10.9.8.0/24");
    CHECK(rule_matches(dst, 0, v4));
    dst.dst = prefix("10.1.2.0/24");  // the source's prefix
    CHECK_FALSE(rule_matches(dst, 0, v4));
    dst.dst = prefix("2001:db8:1::/48");
    CHECK(rule_matches(dst, 0, v6));
    CHECK_FALSE(rule_matches(dst, 0, v4));
}

TEST_CASE("rule fields: port ranges at their edges, DSCP sets", "[unit][classify]") {
    const PacketFields v4 = qinq_ipv4_udp(), v6 = ipv6_tcp(), other = arp();

    RuleMatch m = rule(RuleMatch::kSrcPort);
    m.src_port = {5000, 6000};
    const auto with_src_port = [&](uint16_t port) {
        PacketFields f = v4;
        f.src_port = port;
        return f;
    };
    CHECK_FALSE(rule_matches(m, 0, with_src_port(4999)));
    CHECK(rule_matches(m, 0, with_src_port(5000)));
    CHECK(rule_matches(m, 0, with_src_port(5500)));
    CHECK(rule_matches(m, 0, with_src_port(6000)));
    CHECK_FALSE(rule_matches(m, 0, with_src_port(6001)));
    m.src_port = {0, 65535};
    CHECK(rule_matches(m, 0, with_src_port(0)));
    CHECK(rule_matches(m, 0, with_src_port(65535)));
    CHECK_FALSE(rule_matches(m, 0, other));  // no ports at all
    PacketFields later_fragment = v4;
    later_fragment.has_ports = false;
    CHECK_FALSE(rule_matches(m, 0, later_fragment));

    m = rule(RuleMatch::kDstPort);
    m.dst_port = {53, 53};
    CHECK(rule_matches(m, 0, v4));
    CHECK_FALSE(rule_matches(m, 0, v6));
    m.dst_port = {443, 443};
    CHECK(rule_matches(m, 0, v6));
    m.dst_port = {54, 65535};
    CHECK_FALSE(rule_matches(m, 0, v4));
    m.dst_port = {0, 52};
    CHECK_FALSE(rule_matches(m, 0, v4));

    m = rule(RuleMatch::kDscp);
    m.dscp_set = uint64_t{1} << 46 | uint64_t{1} << 0;
    CHECK(rule_matches(m, 0, v4));
    CHECK_FALSE(rule_matches(m, 0, v6));  // DSCP 10
    PacketFields best_effort = v4;
    best_effort.dscp = 0;
    CHECK(rule_matches(m, 0, best_effort));
    CHECK_FALSE(rule_matches(m, 0, other));  // no IP, no DSCP (not DSCP 0)
    m.dscp_set = uint64_t{1} << 63;
    PacketFields top = v6;
    top.dscp = 63;
    CHECK(rule_matches(m, 0, top));
    CHECK_FALSE(rule_matches(m, 0, v6));
}

TEST_CASE("a rule with every field matches only when all do", "[unit][classify]") {
    const PacketFields v4 = qinq_ipv4_udp();
    RuleMatch all = rule(RuleMatch::kPort | RuleMatch::kEtherType | RuleMatch::kVlan | RuleMatch::kInnerVlan | RuleMatch::kSrc |
                         RuleMatch::kDst | RuleMatch::kProto | RuleMatch::kSrcPort | RuleMatch::kDstPort | RuleMatch::kDscp);
    all.port = 1;
    all.ether_type = 0x0800;
    all.vlan = 100;
    all.inner_vlan = 200;
    all.src = prefix("10.1.2.0/24");
    all.dst = prefix("10.9.8.7");
    all.proto = 17;
    all.src_port = {5000, 5000};
    all.dst_port = {1, 1023};
    all.dscp_set = uint64_t{1} << 46;
    REQUIRE(rule_matches(all, 1, v4));
    CHECK_FALSE(rule_matches(all, 0, v4));

    const auto without = [&](auto change) {
        RuleMatch m = all;
        change(m);
        return rule_matches(m, 1, v4);
    };
    CHECK_FALSE(without([](RuleMatch &m) { m.ether_type = 0x86DD; }));
    CHECK_FALSE(without([](RuleMatch &m) { m.vlan = 200; }));
    CHECK_FALSE(without([](RuleMatch &m) { m.inner_vlan = 100; }));
    CHECK_FALSE(without([](RuleMatch &m) { m.src = prefix("10.1.3.0/24"); }));
    CHECK_FALSE(without([](RuleMatch &m) { m.dst = prefix("10.9.8.6"); }));
    CHECK_FALSE(without([](RuleMatch &m) { m.proto = 6; }));
    CHECK_FALSE(without([](RuleMatch &m) { m.src_port = {5001, 6000}; }));
    CHECK_FALSE(without([](RuleMatch &m) { m.dst_port = {54, 1023}; }));
    CHECK_FALSE(without([](RuleMatch &m) { m.dscp_set = uint64_t{1} << 45; }));
}

// ---- configuration parsers ----

TEST_CASE("IP prefixes: accepted forms and canonical text", "[unit][classify]") {
    const IpPrefix net = prefix("10.1.2.0/24");
    CHECK(net.version == 4);
    CHECK(net.length == 24);
    CHECK(Bytes(net.bytes, net.bytes + 16) == v4_address(10, 1, 2, 0));
    CHECK(to_string(net) == "10.1.2.0/24");

    const IpPrefix host = prefix("10.1.2.3");
    CHECK(host.length == 32);
    CHECK(to_string(host) == "10.1.2.3/32");

    const IpPrefix v6 = prefix("2001:db8::/32");
    CHECK(v6.version == 6);
    CHECK(v6.length == 32);
    CHECK(v6.bytes[0] == 0x20);
    CHECK(v6.bytes[3] == 0xb8);
    CHECK(to_string(v6) == "2001:db8::/32");

    const IpPrefix loopback = prefix("::1");
    CHECK(loopback.version == 6);
    CHECK(loopback.length == 128);
    CHECK(loopback.bytes[15] == 1);
    CHECK(to_string(loopback) == "::1/128");

    CHECK(to_string(prefix("0.0.0.0/0")) == "0.0.0.0/0");
    CHECK(to_string(prefix("::/0")) == "::/0");
    CHECK(to_string(prefix(" 192.168.0.0/16 ")) == "192.168.0.0/16");
    CHECK(to_string(prefix("2001:0DB8:0000::/48")) == "2001:db8::/48");
    CHECK(to_string(prefix("::ffff:10.0.0.0/104")) == "::ffff:10.0.0.0/104");
    for (const char *text : {"10.1.2.0/24", "2001:db8::/32", "fe80::/10", "10.1.2.3/32"})
        CHECK(to_string(prefix(to_string(prefix(text)))) == to_string(prefix(text)));
}

TEST_CASE("IP prefixes: refusals say why", "[unit][classify]") {
    const auto error = [](std::string_view text) {
        const Parsed<IpPrefix> p = parse_ip_prefix(text);
        CHECK_FALSE(p);
        return p.error;
    };
    CHECK(error("10.1.2.3/24") == "10.1.2.3/24 has host bits set; did you mean 10.1.2.0/24?");
    CHECK(error("2001:db8::1/32") == "2001:db8::1/32 has host bits set; did you mean 2001:db8::/32?");
    CHECK(error("10.1.2.129/25") == "10.1.2.129/25 has host bits set; did you mean 10.1.2.128/25?");
    for (const char *bad_length :
         {"10.0.0.0/33", "2001:db8::/129", "10.0.0.0/", "10.0.0.0/-1", "10.0.0.0/2x", "10.0.0.0/ 8", "10.0.0.0/99999999999"}) {
        INFO(bad_length);
        CHECK_THAT(error(bad_length), Catch::Contains("prefix length"));
    }
    for (const char *garbage : {"", "   ", "hello", "10.0.0", "10.0.0.256", "10.0.0.1.2", "1:2:3", "fe80::1%eth0", "/24", "10.0.0.0/8/8"}) {
        INFO(garbage);
        CHECK_THAT(error(garbage), Catch::Contains("10.1.2.0/24"));  // the examples
    }
}

TEST_CASE("port ranges", "[unit][classify]") {
    const auto range = [](std::string_view text) {
        const Parsed<PortRange> p = parse_port_range(text);
        INFO(text << ": " << p.error);
        REQUIRE(p);
        return std::pair{p.value->lo, p.value->hi};
    };
    CHECK(range("53") == std::pair<uint16_t, uint16_t>{53, 53});
    CHECK(range("5000-6000") == std::pair<uint16_t, uint16_t>{5000, 6000});
    CHECK(range("0-65535") == std::pair<uint16_t, uint16_t>{0, 65535});
    CHECK(range(" 80 - 90 ") == std::pair<uint16_t, uint16_t>{80, 90});
    CHECK(range("7-7") == std::pair<uint16_t, uint16_t>{7, 7});

    for (const char *bad : {"", "65536", "0-65536", "6000-5000", "-1", "5000-", "-5000", "abc", "1-2-3", "+5", "5 000", "0x50"}) {
        const Parsed<PortRange> p = parse_port_range(bad);
        INFO(bad << ": " << p.error);
        CHECK_FALSE(p);
        CHECK_THAT(p.error, Catch::Contains("5000-6000"));
    }
    CHECK_THAT(parse_port_range("6000-5000").error, Catch::Contains("empty"));
    CHECK_THAT(parse_port_range("70000").error, Catch::Contains("65535"));
}

TEST_CASE("IP protocols by name or number", "[unit][classify]") {
    const auto proto = [](std::string_view text) {
        const Parsed<uint8_t> p = parse_ip_proto(text);
        INFO(text << ": " << p.error);
        REQUIRE(p);
        return int{*p.value};
    };
    CHECK(proto("tcp") == 6);
    CHECK(proto("udp") == 17);
    CHECK(proto("icmp") == 1);
    CHECK(proto("icmpv6") == 58);
    CHECK(proto("sctp") == 132);
    CHECK(proto("gre") == 47);
    CHECK(proto("esp") == 50);
    CHECK(proto("TCP") == 6);
    CHECK(proto("0") == 0);
    CHECK(proto("136") == 136);
    CHECK(proto("255") == 255);

    for (const char *bad : {"", "256", "-1", "1.5", "tcpp", "ipv4", "0x11"}) {
        const Parsed<uint8_t> p = parse_ip_proto(bad);
        INFO(bad << ": " << p.error);
        CHECK_FALSE(p);
        CHECK_THAT(p.error, Catch::Contains("tcp"));
    }
    CHECK_THAT(parse_ip_proto("tpc").error, Catch::Contains("did you mean tcp?"));
    CHECK_THAT(parse_ip_proto("256").error, Catch::Contains("0 to 255"));
}

TEST_CASE("EtherTypes by name or number", "[unit][classify]") {
    const auto type = [](std::string_view text) {
        const Parsed<uint16_t> p = parse_ether_type(text);
        INFO(text << ": " << p.error);
        REQUIRE(p);
        return int{*p.value};
    };
    CHECK(type("ipv4") == 0x0800);
    CHECK(type("ipv6") == 0x86DD);
    CHECK(type("arp") == 0x0806);
    CHECK(type("mpls") == 0x8847);
    CHECK(type("lldp") == 0x88CC);
    CHECK(type("IPv6") == 0x86DD);
    CHECK(type("0x0800") == 0x0800);
    CHECK(type("0X86dd") == 0x86DD);
    CHECK(type("0x600") == 0x0600);
    CHECK(type("2048") == 0x0800);
    CHECK(type("1536") == 0x0600);
    CHECK(type("0xFFFF") == 0xFFFF);

    for (const char *bad : {"", "0x05FF", "1535", "0x10000", "65536", "0x", "0xg800", "ipx", "-2048", "0x-800", "0x 800"}) {
        const Parsed<uint16_t> p = parse_ether_type(bad);
        INFO(bad << ": " << p.error);
        CHECK_FALSE(p);
        CHECK_THAT(p.error, Catch::Contains("ipv4"));
    }
    CHECK_THAT(parse_ether_type("0x05FF").error, Catch::Contains("below 0x0600"));
    CHECK_THAT(parse_ether_type("ipv5").error, Catch::Contains("did you mean ipv4?"));
}
