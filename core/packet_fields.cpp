// Frame parsing and rule matching for classification (see packet_fields.hpp
// for the contract), and the configuration parsers for a rule's match part.
//
// Every read in the parser is preceded by a check that the bytes are inside
// [0, end), where end is the frame's length or, past the IP header, the
// smaller of that and the datagram's end. Offsets are uint32_t: they are at
// most a few hundred bytes beyond a uint32_t length checked against, and IPv6
// extension headers add at most 2 KiB each, 8 times, so they cannot wrap.
#include "linkem/packet_fields.hpp"

#include "linkem/suggest.hpp"

#include <arpa/inet.h>
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstring>
#include <optional>
#include <vector>

namespace linkem {
namespace {

constexpr uint32_t kEthernetHeader = 14;
constexpr uint32_t kIpv4Header = 20;
constexpr uint32_t kIpv6Header = 40;
constexpr uint32_t kExtensionMinimum = 8;  // every IPv6 extension header is at least 8 bytes
constexpr uint32_t kMaxExtensions = 8;
constexpr uint8_t kMaxVlanTags = 2;

constexpr uint16_t kEtherIpv4 = 0x0800;
constexpr uint16_t kEtherIpv6 = 0x86DD;

enum : uint8_t {
    kHopByHop = 0,
    kTcp = 6,
    kUdp = 17,
    kRouting = 43,
    kFragment = 44,
    kAuthentication = 51,
    kDestinationOptions = 60,
    kSctp = 132,
    kUdpLite = 136,
};

inline uint16_t be16(const uint8_t *p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }

inline bool is_vlan_tpid(uint16_t type) { return type == 0x8100 || type == 0x88A8 || type == 0x9100; }

inline bool carries_ports(uint8_t proto) { return proto == kTcp || proto == kUdp || proto == kSctp || proto == kUdpLite; }

inline bool is_ipv6_extension(uint8_t next) {
    return next == kHopByHop || next == kRouting || next == kFragment || next == kAuthentication || next == kDestinationOptions;
}

// The L4 ports at offset l4, when the protocol has them and they end by `end`.
inline void read_ports(const uint8_t *frame, uint32_t l4, uint32_t end, PacketFields *out) {
    if (!carries_ports(out->ip_proto)) return;
    if (l4 + 4 > end) {
        out->notes |= kNoteTruncated;
        return;
    }
    out->src_port = be16(frame + l4);
    out->dst_port = be16(frame + l4 + 2);
    out->has_ports = true;
}

void parse_ipv4(const uint8_t *frame, uint32_t l3, uint32_t len, PacketFields *out) {
    const uint8_t *ip = frame + l3;
    if (l3 + kIpv4Header > len) {
        out->notes |= kNoteTruncated;
        return;
    }
    const uint32_t header = (ip[0] & 0x0fu) * 4u;
    if (header < kIpv4Header || l3 + header > len) {
        out->notes |= kNoteTruncated;
        return;
    }
    out->ip_version = 4;
    out->l3_offset = static_cast<uint16_t>(l3);
    out->dscp = ip[1] >> 2;
    out->ecn = ip[1] & 0x03;
    std::memcpy(out->src_ip, ip + 12, 4);
    std::memcpy(out->dst_ip, ip + 16, 4);
    if (header > kIpv4Header) out->notes |= kNoteIpOptions;

    const uint32_t total = be16(ip + 2);
    if (total < header) {
        out->notes |= kNoteTruncated;
        return;
    }
    uint32_t end = l3 + total;  // Ethernet padding beyond the datagram is not L4
    if (end > len) {
        out->notes |= kNoteTruncated;
        end = len;
    }
    out->ip_proto = ip[9];
    out->has_proto = true;

    const uint16_t fragment = be16(ip + 6);  // flags (3 bits) and offset (13 bits)
    if ((fragment & 0x3fff) != 0) {          // MF or an offset
        out->notes |= kNoteFragment;
        if ((fragment & 0x1fff) != 0) {
            out->notes |= kNoteLaterFragment;
            return;
        }
    }
    read_ports(frame, l3 + header, end, out);
}

void parse_ipv6(const uint8_t *frame, uint32_t l3, uint32_t len, PacketFields *out) {
    const uint8_t *ip = frame + l3;
    if (l3 + kIpv6Header > len) {
        out->notes |= kNoteTruncated;
        return;
    }
    const uint8_t traffic_class = static_cast<uint8_t>(ip[0] << 4 | ip[1] >> 4);
    out->ip_version = 6;
    out->l3_offset = static_cast<uint16_t>(l3);
    out->dscp = traffic_class >> 2;
    out->ecn = traffic_class & 0x03;
    std::memcpy(out->src_ip, ip + 8, 16);
    std::memcpy(out->dst_ip, ip + 24, 16);

    uint32_t end = l3 + kIpv6Header + be16(ip + 4);
    if (end > len) {
        out->notes |= kNoteTruncated;
        end = len;
    }
    uint8_t next = ip[6];
    uint32_t pos = l3 + kIpv6Header;
    for (uint32_t walked = 0; is_ipv6_extension(next); ++walked) {
        if (walked == kMaxExtensions || pos + kExtensionMinimum > end) {
            out->notes |= kNoteTruncated;
            return;
        }
        const uint8_t *h = frame + pos;
        out->notes |= kNoteIpv6Extensions;
        uint32_t size = (h[1] + 1u) * 8u;
        if (next == kAuthentication) {
            size = (h[1] + 2u) * 4u;
        } else if (next == kFragment) {
            size = 8;
            out->notes |= kNoteFragment;
            if ((be16(h + 2) & 0xfff8) != 0) {  // offset: what follows is not the start of the L4 header
                out->notes |= kNoteLaterFragment;
                out->ip_proto = h[0];
                out->has_proto = true;
                return;
            }
        }
        next = h[0];
        pos += size;
        if (pos > end) {
            out->notes |= kNoteTruncated;
            return;
        }
    }
    out->ip_proto = next;
    out->has_proto = true;
    read_ports(frame, pos, end, out);
}

}  // namespace

void parse_packet(const uint8_t *frame, uint32_t len, PacketFields *out) {
    *out = PacketFields{};
    if (len < kEthernetHeader) {
        out->notes = kNoteRunt;
        return;
    }
    uint16_t type = be16(frame + 12);
    uint32_t pos = kEthernetHeader;
    while (is_vlan_tpid(type)) {
        if (out->vlan_count == kMaxVlanTags || pos + 4 > len) {
            out->notes |= out->vlan_count == kMaxVlanTags ? kNoteTooManyTags : kNoteTruncated;
            out->ether_type = type;
            return;
        }
        const uint16_t id = be16(frame + pos) & 0x0fff;
        if (out->vlan_count == 0) {
            out->vlan_outer = id;
        } else {
            out->vlan_inner = id;
        }
        ++out->vlan_count;
        type = be16(frame + pos + 2);
        pos += 4;
    }
    out->ether_type = type;
    if (type == kEtherIpv4) {
        parse_ipv4(frame, pos, len, out);
    } else if (type == kEtherIpv6) {
        parse_ipv6(frame, pos, len, out);
    } else {
        out->notes |= kNoteNonIp;
    }
}

namespace {

bool prefix_matches(const IpPrefix &p, uint8_t ip_version, const uint8_t *address) {
    if (ip_version != p.version) return false;
    const unsigned bits = std::min<unsigned>(p.length, 128);
    const unsigned whole = bits / 8, rest = bits % 8;
    if (std::memcmp(p.bytes, address, whole) != 0) return false;
    const uint8_t mask = static_cast<uint8_t>(0xff00u >> rest);
    return rest == 0 || ((address[whole] ^ p.bytes[whole]) & mask) == 0;
}

inline bool in_range(const PortRange &r, uint16_t port) { return port >= r.lo && port <= r.hi; }

}  // namespace

bool rule_matches(const RuleMatch &m, uint16_t arrival_port, const PacketFields &f) {
    using F = RuleMatch;
    const uint32_t w = m.fields;
    if ((w & F::kPort) && arrival_port != m.port) return false;
    if ((w & F::kEtherType) && f.ether_type != m.ether_type) return false;
    if ((w & F::kVlan) && (f.vlan_count < 1 || f.vlan_outer != m.vlan)) return false;
    if ((w & F::kInnerVlan) && (f.vlan_count != 2 || f.vlan_inner != m.inner_vlan)) return false;
    if ((w & F::kSrc) && !prefix_matches(m.src, f.ip_version, f.src_ip)) return false;
    if ((w & F::kDst) && !prefix_matches(m.dst, f.ip_version, f.dst_ip)) return false;
    if ((w & F::kProto) && (!f.has_proto || f.ip_proto != m.proto)) return false;
    if ((w & F::kSrcPort) && (!f.has_ports || !in_range(m.src_port, f.src_port))) return false;
    if ((w & F::kDstPort) && (!f.has_ports || !in_range(m.dst_port, f.dst_port))) return false;
    if ((w & F::kDscp) && (f.ip_version == 0 || ((m.dscp_set >> (f.dscp & 63)) & 1) == 0)) return false;
    return true;
}

// ---- configuration parsers ----

namespace {

constexpr const char *kPrefixExamples = "10.1.2.0/24, 10.1.2.3, 2001:db8::/32, ::1";
constexpr const char *kPortExamples = "53, 5000-6000";
constexpr const char *kProtoExamples = "tcp, udp, icmp, icmpv6, sctp, gre, esp or a number 0-255 such as 17";
constexpr const char *kEtherTypeExamples = "ipv4, ipv6, arp, mpls, lldp, or a number >= 0x0600 such as 0x88B5";

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

std::string lower(std::string_view s) {
    std::string out(s);
    for (char &c : out) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    return out;
}

// Digits only (base 10 or 16), all consumed, no sign; nullopt for anything else or above `max`.
std::optional<uint32_t> parse_unsigned(std::string_view s, uint32_t max, int base = 10) {
    if (s.empty() || s.size() > 10) return std::nullopt;
    uint32_t value = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value, base);
    if (ec != std::errc{} || end != s.data() + s.size() || value > max) return std::nullopt;
    return value;
}

bool all_digits(std::string_view s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

struct Name {
    const char *name;
    uint32_t value;
};

constexpr Name kProtoNames[] = {{"tcp", 6}, {"udp", 17}, {"icmp", 1}, {"icmpv6", 58}, {"sctp", 132}, {"gre", 47}, {"esp", 50}};
constexpr Name kEtherTypeNames[] = {{"ipv4", 0x0800}, {"ipv6", 0x86DD}, {"arp", 0x0806}, {"mpls", 0x8847}, {"lldp", 0x88CC}};

template <size_t N>
std::optional<uint32_t> find_name(const Name (&names)[N], std::string_view word) {
    for (const Name &n : names) {
        if (word == n.name) return n.value;
    }
    return std::nullopt;
}

// " (did you mean tcp?)" when `word` is a likely typo of a name, else "".
template <size_t N>
std::string did_you_mean(const Name (&names)[N], std::string_view word) {
    std::vector<std::string> known;
    for (const Name &n : names) known.emplace_back(n.name);
    const auto nearest = nearest_word(word, known);
    return nearest ? fmt::format(" (did you mean {}?)", *nearest) : std::string();
}

}  // namespace

std::string to_string(const IpPrefix &p) {
    char buffer[INET6_ADDRSTRLEN] = {};
    if (inet_ntop(p.version == 6 ? AF_INET6 : AF_INET, p.bytes, buffer, sizeof buffer) == nullptr) return "?";
    return fmt::format("{}/{}", buffer, p.length);
}

Parsed<IpPrefix> parse_ip_prefix(std::string_view raw) {
    const std::string_view text = trim(raw);
    if (text.empty())
        return Parsed<IpPrefix>::fail(fmt::format("empty value: expected an IP address or prefix (examples: {})", kPrefixExamples));

    const size_t slash = text.find('/');
    const std::string address(text.substr(0, slash));
    IpPrefix p;
    p.version = address.find(':') == std::string::npos ? 4 : 6;
    const unsigned max_length = p.version == 4 ? 32 : 128;
    if (inet_pton(p.version == 4 ? AF_INET : AF_INET6, address.c_str(), p.bytes) != 1) {
        return Parsed<IpPrefix>::fail(fmt::format("\"{}\" is not an IP address or prefix: \"{}\" is not an IPv{} address (examples: {})",
                                                  text, address, p.version, kPrefixExamples));
    }
    p.length = static_cast<uint8_t>(max_length);
    if (slash != std::string_view::npos) {
        const std::string_view length_text = text.substr(slash + 1);
        const auto length = all_digits(length_text) ? parse_unsigned(length_text, max_length) : std::nullopt;
        if (!length) {
            return Parsed<IpPrefix>::fail(fmt::format("\"{}\" has a bad prefix length \"/{}\": an IPv{} prefix length is 0 to {} (e.g. {})",
                                                      text, length_text, p.version, max_length,
                                                      p.version == 4 ? "10.1.2.0/24" : "2001:db8::/32"));
        }
        p.length = static_cast<uint8_t>(*length);
    }

    IpPrefix network = p;
    for (unsigned bit = p.length; bit < max_length; ++bit) network.bytes[bit / 8] &= static_cast<uint8_t>(~(0x80u >> (bit % 8)));
    if (std::memcmp(network.bytes, p.bytes, sizeof p.bytes) != 0) {
        return Parsed<IpPrefix>::fail(fmt::format("{} has host bits set; did you mean {}?", text, to_string(network)));
    }
    return Parsed<IpPrefix>::ok(p);
}

Parsed<PortRange> parse_port_range(std::string_view raw) {
    const std::string_view text = trim(raw);
    const auto bad = [&](std::string_view why) {
        return Parsed<PortRange>::fail(fmt::format("\"{}\" is not a port or port range: {} (examples: {})", text, why, kPortExamples));
    };
    if (text.empty()) return bad("it is empty");

    const size_t dash = text.find('-');
    const std::string_view lo_text = trim(text.substr(0, dash));
    const std::string_view hi_text = dash == std::string_view::npos ? lo_text : trim(text.substr(dash + 1));
    if (!all_digits(lo_text) || !all_digits(hi_text)) return bad("expected a port 0-65535 or a range lo-hi");
    const auto lo = parse_unsigned(lo_text, 65535), hi = parse_unsigned(hi_text, 65535);
    if (!lo || !hi) return bad("ports are 0 to 65535");
    if (*lo > *hi) return bad(fmt::format("the range is empty ({} is above {}); write the low end first", *lo, *hi));
    return Parsed<PortRange>::ok(PortRange{static_cast<uint16_t>(*lo), static_cast<uint16_t>(*hi)});
}

const char *ip_proto_name(uint8_t proto) {
    for (const Name &n : kProtoNames)
        if (n.value == proto) return n.name;
    return nullptr;
}

Parsed<uint8_t> parse_ip_proto(std::string_view raw) {
    const std::string_view text = trim(raw);
    const std::string word = lower(text);
    if (const auto named = find_name(kProtoNames, word)) return Parsed<uint8_t>::ok(static_cast<uint8_t>(*named));
    if (all_digits(text)) {
        if (const auto number = parse_unsigned(text, 255)) return Parsed<uint8_t>::ok(static_cast<uint8_t>(*number));
        return Parsed<uint8_t>::fail(
            fmt::format("\"{}\" is not an IP protocol: numbers are 0 to 255 (examples: {})", text, kProtoExamples));
    }
    return Parsed<uint8_t>::fail(
        fmt::format("\"{}\" is not an IP protocol{} (examples: {})", text, did_you_mean(kProtoNames, word), kProtoExamples));
}

Parsed<uint16_t> parse_ether_type(std::string_view raw) {
    const std::string_view text = trim(raw);
    const std::string word = lower(text);
    if (const auto named = find_name(kEtherTypeNames, word)) return Parsed<uint16_t>::ok(static_cast<uint16_t>(*named));

    std::optional<uint32_t> number;
    if (word.size() > 2 && word[0] == '0' && word[1] == 'x') {
        const std::string_view digits = std::string_view(word).substr(2);
        if (digits.size() <= 4 &&
            std::all_of(digits.begin(), digits.end(), [](char c) { return std::isxdigit(static_cast<unsigned char>(c)); }))
            number = parse_unsigned(digits, 0xffff, 16);
    } else if (all_digits(word)) {
        number = parse_unsigned(word, 0xffff);
    } else {
        return Parsed<uint16_t>::fail(
            fmt::format("\"{}\" is not an EtherType{} (examples: {})", text, did_you_mean(kEtherTypeNames, word), kEtherTypeExamples));
    }
    if (!number) {
        return Parsed<uint16_t>::fail(fmt::format(
            "\"{}\" is not an EtherType: expected a 16-bit value such as 0x0800 or 2048 (examples: {})", text, kEtherTypeExamples));
    }
    if (*number < 0x0600) {
        return Parsed<uint16_t>::fail(
            fmt::format("\"{}\" is not an EtherType: 0x{:04X} is below 0x0600 (smaller values are 802.3 lengths) (examples: {})", text,
                        *number, kEtherTypeExamples));
    }
    return Parsed<uint16_t>::ok(static_cast<uint16_t>(*number));
}

}  // namespace linkem
