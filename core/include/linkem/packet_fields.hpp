// The fields of a frame that classification rules look at, and the compiled
// match part of a rule. Free of DPDK: the data path hands in a pointer and a
// length, tests hand in byte vectors.
//
// Contract of parse_packet():
//  - It never reads past frame[len-1], whatever the bytes say: every header
//    (Ethernet, VLAN tag, IPv4 with options, IPv6 and each extension header,
//    the four bytes of L4 ports) is checked against the frame's end before it
//    is read. Lengths that an IP header states are also bounds: a datagram
//    ends at min(frame end, IP total length), so Ethernet padding is never
//    taken for a header.
//  - What it reads: at most two VLAN tags (TPIDs 0x8100, 0x88A8, 0x9100), the
//    EtherType after them, the IPv4 or IPv6 header (version, DSCP, ECN,
//    addresses), the L4 protocol (for IPv6 after walking the extension
//    headers) and, for TCP, UDP, SCTP and UDP-Lite, the two ports. What it
//    could not read is zero / false, and `notes` says why (ParseNote).
//  - A parse that stops early keeps what it read before: a frame cut inside
//    the UDP header still has its addresses and protocol. A frame shorter
//    than its IP length says is noted kNoteTruncated but its ports are still
//    read when they are inside the frame.
//  - Cost: O(header length), bounded. At most 3 VLAN TPIDs are looked at and
//    at most 8 IPv6 extension headers are walked; no allocation, no
//    exceptions, no system calls. parse_packet() runs per packet on the data
//    path; rule_matches() is a handful of compares per rule.
//
// The configuration parsers at the end (prefixes, port ranges, protocols,
// EtherTypes) run once at load time and return messages ready for the user.
#pragma once

#include "linkem/units.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace linkem {

// Notes a parse leaves about a frame (bits of PacketFields::notes).
enum ParseNote : uint16_t {
    kNoteRunt = 1,             // shorter than an Ethernet header (14 bytes): nothing else parsed
    kNoteTruncated = 2,        // a VLAN tag, IP header or the L4 ports are cut short by the frame's end, or IP lengths are inconsistent
                               // (IHL < 5; IPv4 total length < IHL*4; frame shorter than the IP header says)
    kNoteNonIp = 4,            // EtherType (after VLAN tags) is neither IPv4 (0x0800) nor IPv6 (0x86DD)
    kNoteIpOptions = 8,        // IPv4 header longer than 20 bytes
    kNoteIpv6Extensions = 16,  // at least one IPv6 extension header was walked
    kNoteFragment = 32,        // an IP fragment (IPv4 MF or offset != 0; IPv6 Fragment header)
    kNoteLaterFragment = 64,   // a fragment other than the first: it carries no L4 ports
    kNoteTooManyTags = 128,    // more than two VLAN tags: parsing stops at the third tag (ether_type is that tag's TPID)
};

struct PacketFields {
    uint16_t ether_type = 0;  // after at most two VLAN tags (TPIDs 0x8100, 0x88A8, 0x9100), host order;
                              // the TPID of a tag that is cut short or is a third one
    uint8_t vlan_count = 0;   // 0, 1 or 2
    uint16_t vlan_outer = 0;  // 12-bit VLAN id of the first tag
    uint16_t vlan_inner = 0;  // of the second (QinQ)
    uint8_t ip_version = 0;   // 4 or 6 when the IP header was complete; else 0
    bool has_proto = false;   // the L4 protocol is known (IPv4 protocol; IPv6 the last next-header after extensions)
    uint8_t ip_proto = 0;
    uint8_t dscp = 0;         // 6 bits
    uint8_t ecn = 0;          // 2 bits
    uint8_t src_ip[16] = {};  // IPv4 addresses in the first 4 bytes, the rest zero
    uint8_t dst_ip[16] = {};
    bool has_ports = false;               // TCP(6)/UDP(17)/SCTP(132)/UDP-Lite(136) ports were read (never for a later fragment)
    uint16_t src_port = 0, dst_port = 0;  // host order
    uint16_t l3_offset = 0;               // offset of the IP header in the frame (valid when ip_version != 0)
    uint16_t notes = 0;                   // ParseNote bits
};

// Never reads past frame[len-1]. O(header length); IPv6 extension headers
// walked are bounded (at most 8; beyond that, kNoteTruncated and no proto).
// Extension headers: Hop-by-Hop 0, Routing 43, Fragment 44, Destination
// Options 60, AH 51 (AH length is (len+2)*4); others end the walk (that
// next-header is the proto). An IPv6 No Next Header (59) gives has_proto
// with 59. An IPv4 datagram whose total length is below its header length
// gives addresses but no proto.
void parse_packet(const uint8_t *frame, uint32_t len, PacketFields *out);

struct IpPrefix {
    uint8_t version = 4;     // 4 or 6
    uint8_t bytes[16] = {};  // network bytes; bits beyond length are zero
    uint8_t length = 0;      // prefix length in bits
};

struct PortRange {
    uint16_t lo = 0, hi = 65535;
};

// A compiled rule's match part; fields not in `fields` match anything.
struct RuleMatch {
    enum Field : uint32_t {
        kPort = 1,
        kEtherType = 2,
        kVlan = 4,
        kInnerVlan = 8,
        kSrc = 16,
        kDst = 32,
        kProto = 64,
        kSrcPort = 128,
        kDstPort = 256,
        kDscp = 512
    };
    uint32_t fields = 0;
    uint16_t port = 0;  // index of the arrival port
    uint16_t ether_type = 0;
    uint16_t vlan = 0, inner_vlan = 0;  // kVlan needs vlan_count >= 1 and the outer id; kInnerVlan needs vlan_count == 2 and the inner id
    IpPrefix src, dst;                  // need ip_version equal to the prefix's version
    uint8_t proto = 0;                  // needs has_proto
    PortRange src_port, dst_port;       // need has_ports
    uint64_t dscp_set = 0;              // bit d set: DSCP d matches; needs ip_version != 0
};

bool rule_matches(const RuleMatch &m, uint16_t arrival_port, const PacketFields &f);

// Parsers for the configuration. Messages say what was expected with an example.
Parsed<IpPrefix> parse_ip_prefix(std::string_view text);    // "10.1.2.0/24", "10.1.2.3" (= /32), "2001:db8::/32", "::1" (= /128)
Parsed<PortRange> parse_port_range(std::string_view text);  // "53", "5000-6000"
Parsed<uint8_t> parse_ip_proto(std::string_view text);      // "tcp", "udp", "icmp", "icmpv6", "sctp", "gre", "esp" or 0-255
const char *ip_proto_name(uint8_t proto);                   // "udp" for 17, ...; nullptr for a protocol without a name above
Parsed<uint16_t> parse_ether_type(std::string_view text);   // "ipv4", "ipv6", "arp", "mpls", "lldp", "0x0800" or decimal; >= 0x0600
std::string to_string(const IpPrefix &p);                   // canonical "10.1.2.0/24", "2001:db8::/32"; always with the /length

}  // namespace linkem
