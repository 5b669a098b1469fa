// libFuzzer target: the frame parser and the rule matcher on arbitrary bytes.
// Built and run by tools/fuzz.sh (clang; the meson test fuzz-smoke runs it for
// a few seconds).
// fuzz-sources: core/packet_fields.cpp core/suggest.cpp
// fuzz-libs: fmt
// fuzz-args: -max_len=512
//
// The input's front is the frame (copied to a buffer of exactly its length, so
// AddressSanitizer sees any read past its end); its tail picks the arrival
// port and a few rules (FuzzedDataProvider takes numbers from the end), so a
// raw frame in test/fuzz_seeds/frame/ is a useful seed as it is. Checked:
//  - parse_packet() reads only the frame's bytes and gives the same fields
//    twice; the fields are consistent (the invariants of packet_fields.hpp);
//  - rule_matches() of each rule agrees with a direct reading of the rule's
//    definition, field by field; a rule built from the frame's own fields
//    matches it, and the empty rule matches everything;
//  - the configuration parsers of a rule's match part (prefix, port range,
//    protocol, EtherType) never crash, and a prefix prints to text that
//    parses back to the same prefix.
#include "linkem/packet_fields.hpp"

#include <fuzzer/FuzzedDataProvider.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

using namespace linkem;

namespace {

void require(bool condition) {
    if (!condition) std::abort();
}

bool same_fields(const PacketFields &a, const PacketFields &b) {
    return a.ether_type == b.ether_type && a.vlan_count == b.vlan_count && a.vlan_outer == b.vlan_outer && a.vlan_inner == b.vlan_inner &&
           a.ip_version == b.ip_version && a.has_proto == b.has_proto && a.ip_proto == b.ip_proto && a.dscp == b.dscp && a.ecn == b.ecn &&
           std::memcmp(a.src_ip, b.src_ip, 16) == 0 && std::memcmp(a.dst_ip, b.dst_ip, 16) == 0 && a.has_ports == b.has_ports &&
           a.src_port == b.src_port && a.dst_port == b.dst_port && a.l3_offset == b.l3_offset && a.notes == b.notes;
}

void check_fields(const PacketFields &f, uint32_t len) {
    require(((f.notes & kNoteRunt) != 0) == (len < 14));
    require(f.vlan_count <= 2);
    require(f.dscp < 64 && f.ecn < 4);
    require(f.ip_version == 0 || f.ip_version == 4 || f.ip_version == 6);
    require(!f.has_ports || f.has_proto);
    require(!f.has_ports || f.ip_proto == 6 || f.ip_proto == 17 || f.ip_proto == 132 || f.ip_proto == 136);
    require(!(f.notes & kNoteLaterFragment) || ((f.notes & kNoteFragment) && !f.has_ports));
    if (f.ip_version == 0) {
        require(!f.has_proto && !f.has_ports);
        return;
    }
    require(f.l3_offset == 14 + 4 * f.vlan_count);
    require(f.ether_type == (f.ip_version == 4 ? 0x0800 : 0x86DD));
    require(f.l3_offset + (f.ip_version == 4 ? 20u : 40u) <= len);
    if (f.ip_version == 4)
        for (int b = 4; b < 16; ++b) require(f.src_ip[b] == 0 && f.dst_ip[b] == 0);
}

IpPrefix random_prefix(FuzzedDataProvider &in) {
    IpPrefix p;
    p.version = in.ConsumeBool() ? 6 : 4;
    const uint8_t max_bits = p.version == 4 ? 32 : 128;
    p.length = in.ConsumeIntegralInRange<uint8_t>(0, max_bits);
    for (int b = 0; b < max_bits / 8; ++b) p.bytes[b] = in.ConsumeIntegral<uint8_t>();
    for (int bit = p.length; bit < 128; ++bit)
        p.bytes[bit / 8] &= static_cast<uint8_t>(~(0x80u >> (bit % 8)));  // the contract: bits beyond length are zero
    return p;
}

RuleMatch random_rule(FuzzedDataProvider &in) {
    RuleMatch m;
    m.fields = in.ConsumeIntegral<uint16_t>() & 0x3ff;
    m.port = in.ConsumeIntegralInRange<uint16_t>(0, 3);
    m.ether_type = in.ConsumeIntegral<uint16_t>();
    m.vlan = in.ConsumeIntegralInRange<uint16_t>(0, 4095);
    m.inner_vlan = in.ConsumeIntegralInRange<uint16_t>(0, 4095);
    m.src = random_prefix(in);
    m.dst = random_prefix(in);
    m.proto = in.ConsumeIntegral<uint8_t>();
    for (PortRange *r : {&m.src_port, &m.dst_port}) {
        r->lo = in.ConsumeIntegral<uint16_t>();
        r->hi = in.ConsumeIntegralInRange<uint16_t>(r->lo, 65535);
    }
    m.dscp_set = in.ConsumeIntegral<uint64_t>();
    return m;
}

// The rule's definition read directly, one field at a time (packet_fields.hpp).
bool prefix_holds(const IpPrefix &p, uint8_t ip_version, const uint8_t *address) {
    if (ip_version != p.version) return false;
    for (int bit = 0; bit < p.length; ++bit) {
        const uint8_t mask = static_cast<uint8_t>(0x80u >> (bit % 8));
        if ((p.bytes[bit / 8] & mask) != (address[bit / 8] & mask)) return false;
    }
    return true;
}

bool definition_matches(const RuleMatch &m, uint16_t port, const PacketFields &f) {
    using F = RuleMatch;
    const auto wants = [&](uint32_t field) { return (m.fields & field) != 0; };
    if (wants(F::kPort) && port != m.port) return false;
    if (wants(F::kEtherType) && f.ether_type != m.ether_type) return false;
    if (wants(F::kVlan) && !(f.vlan_count >= 1 && f.vlan_outer == m.vlan)) return false;
    if (wants(F::kInnerVlan) && !(f.vlan_count == 2 && f.vlan_inner == m.inner_vlan)) return false;
    if (wants(F::kSrc) && !prefix_holds(m.src, f.ip_version, f.src_ip)) return false;
    if (wants(F::kDst) && !prefix_holds(m.dst, f.ip_version, f.dst_ip)) return false;
    if (wants(F::kProto) && !(f.has_proto && f.ip_proto == m.proto)) return false;
    if (wants(F::kSrcPort) && !(f.has_ports && f.src_port >= m.src_port.lo && f.src_port <= m.src_port.hi)) return false;
    if (wants(F::kDstPort) && !(f.has_ports && f.dst_port >= m.dst_port.lo && f.dst_port <= m.dst_port.hi)) return false;
    if (wants(F::kDscp) && !(f.ip_version != 0 && ((m.dscp_set >> f.dscp) & 1))) return false;
    return true;
}

// Every field the frame has, exactly: must match the frame it came from.
RuleMatch rule_of(const PacketFields &f, uint16_t port) {
    RuleMatch m;
    m.fields = RuleMatch::kPort | RuleMatch::kEtherType;
    m.port = port;
    m.ether_type = f.ether_type;
    if (f.vlan_count >= 1) m.fields |= RuleMatch::kVlan, m.vlan = f.vlan_outer;
    if (f.vlan_count == 2) m.fields |= RuleMatch::kInnerVlan, m.inner_vlan = f.vlan_inner;
    if (f.ip_version != 0) {
        m.fields |= RuleMatch::kSrc | RuleMatch::kDst | RuleMatch::kDscp;
        for (IpPrefix *p : {&m.src, &m.dst}) p->version = f.ip_version, p->length = f.ip_version == 4 ? 32 : 128;
        std::memcpy(m.src.bytes, f.src_ip, 16);
        std::memcpy(m.dst.bytes, f.dst_ip, 16);
        m.dscp_set = uint64_t{1} << f.dscp;
    }
    if (f.has_proto) m.fields |= RuleMatch::kProto, m.proto = f.ip_proto;
    if (f.has_ports) {
        m.fields |= RuleMatch::kSrcPort | RuleMatch::kDstPort;
        m.src_port = {f.src_port, f.src_port};
        m.dst_port = {f.dst_port, f.dst_port};
    }
    return m;
}

// The match part's text parsers on a few bytes of the frame read as text.
void check_text_parsers(const std::vector<uint8_t> &frame) {
    const std::string text(frame.begin(), frame.begin() + static_cast<long>(std::min<size_t>(frame.size(), 48)));
    const Parsed<IpPrefix> prefix = parse_ip_prefix(text);
    if (prefix.value) {
        const Parsed<IpPrefix> again = parse_ip_prefix(to_string(*prefix.value));
        require(again.value && again.value->version == prefix.value->version && again.value->length == prefix.value->length &&
                std::memcmp(again.value->bytes, prefix.value->bytes, 16) == 0);
    } else {
        require(!prefix.error.empty());
    }
    const Parsed<PortRange> range = parse_port_range(text);
    require(range.value ? range.value->lo <= range.value->hi : !range.error.empty());
    const Parsed<uint8_t> proto = parse_ip_proto(text);
    require(proto.value || !proto.error.empty());
    const Parsed<uint16_t> ether_type = parse_ether_type(text);
    require(ether_type.value ? *ether_type.value >= 0x0600 : !ether_type.error.empty());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    FuzzedDataProvider in(data, size);
    const uint16_t port = in.ConsumeIntegralInRange<uint16_t>(0, 3);
    const size_t rule_count = in.ConsumeIntegralInRange<size_t>(0, 3);
    std::vector<RuleMatch> rules;
    for (size_t i = 0; i < rule_count; ++i) rules.push_back(random_rule(in));
    const std::vector<uint8_t> frame = in.ConsumeRemainingBytes<uint8_t>();  // exactly its length, on the heap
    const uint32_t len = static_cast<uint32_t>(frame.size());

    PacketFields f, again;
    parse_packet(frame.data(), len, &f);
    parse_packet(frame.data(), len, &again);
    require(same_fields(f, again));
    check_fields(f, len);

    require(rule_matches(RuleMatch{}, port, f));
    require(rule_matches(rule_of(f, port), port, f));
    for (const RuleMatch &m : rules) require(rule_matches(m, port, f) == definition_matches(m, port, f));

    check_text_parsers(frame);
    return 0;
}
