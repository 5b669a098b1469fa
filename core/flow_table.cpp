#include "linkem/flow_table.hpp"

#include <fmt/format.h>

namespace linkem {
namespace {

// Keeps the first `bits` bits of an address of `bytes` bytes.
void mask_address(uint8_t *out, const uint8_t *in, uint32_t bytes, uint32_t bits) {
    for (uint32_t b = 0; b < bytes; ++b) {
        const uint32_t keep = bits >= 8 * (b + 1) ? 8 : bits > 8 * b ? bits - 8 * b : 0;
        out[b] = keep == 0 ? 0 : static_cast<uint8_t>(in[b] & (0xFF00u >> keep));
    }
}

}  // namespace

FlowKey flow_key(const FlowKeySpec &spec, const PacketFields &f) {
    FlowKey k;
    if (f.ip_version == 0) return k;
    k.ip_version = f.ip_version;
    const uint32_t bytes = f.ip_version == 4 ? 4 : 16;
    mask_address(k.src, f.src_ip, bytes, f.ip_version == 4 ? spec.src_bits : spec.src6_bits);
    mask_address(k.dst, f.dst_ip, bytes, f.ip_version == 4 ? spec.dst_bits : spec.dst6_bits);
    if (spec.proto && f.has_proto) k.proto = f.ip_proto;
    if (spec.src_port && f.has_ports) k.src_port = f.src_port;
    if (spec.dst_port && f.has_ports) k.dst_port = f.dst_port;
    return k;
}

std::string to_string(const FlowKeySpec &spec, const FlowKey &key) {
    if (key.ip_version == 0) return "non-IP";
    std::vector<std::string> parts;
    const bool v4 = key.ip_version == 4;
    const auto address = [&](const uint8_t *a, uint8_t bits) {
        IpPrefix p;
        p.version = key.ip_version;
        std::memcpy(p.bytes, a, v4 ? 4 : 16);
        p.length = bits;
        return to_string(p);
    };
    const uint8_t src_bits = v4 ? spec.src_bits : spec.src6_bits;
    const uint8_t dst_bits = v4 ? spec.dst_bits : spec.dst6_bits;
    if (src_bits != 0) parts.push_back("src " + address(key.src, src_bits));
    if (dst_bits != 0) parts.push_back("dst " + address(key.dst, dst_bits));
    if (spec.proto) parts.push_back(fmt::format("proto {}", key.proto));
    if (spec.src_port) parts.push_back(fmt::format("src_port {}", key.src_port));
    if (spec.dst_port) parts.push_back(fmt::format("dst_port {}", key.dst_port));
    if (parts.empty()) return v4 ? "IPv4" : "IPv6";
    return fmt::format("{}", fmt::join(parts, ", "));
}

FlowTable::FlowTable(uint32_t max_flows, uint64_t idle_timeout_ns) : instances_(max_flows), idle_timeout_ns_(idle_timeout_ns) {
    uint64_t size = 16;
    while (size < 2ULL * max_flows) size <<= 1;
    table_.assign(size, kNone);
    mask_ = size - 1;
    free_.reserve(max_flows);
    for (uint32_t i = max_flows; i-- > 0;) free_.push_back(i);  // instance 0 is taken first
}

uint64_t FlowTable::hash(const FlowKey &key) {
    uint64_t words[5];
    std::memcpy(words, &key, sizeof words);
    uint64_t h = 0x9E3779B97F4A7C15ULL;
    for (uint64_t w : words) h = (h ^ w) * 0xBF58476D1CE4E5B9ULL, h ^= h >> 29;
    return h;
}

// Removes a key, shifting later entries of its probe run back (no tombstones).
void FlowTable::erase(const FlowKey &key) {
    uint64_t slot = hash(key) & mask_;
    while (table_[slot] != kNone && !(instances_[table_[slot]].key == key)) slot = (slot + 1) & mask_;
    if (table_[slot] == kNone) return;
    uint64_t hole = slot;
    for (uint64_t next = (hole + 1) & mask_; table_[next] != kNone; next = (next + 1) & mask_) {
        const uint64_t home = hash(instances_[table_[next]].key) & mask_;
        // Move the entry back into the hole when its home is not between the hole and it (cyclically).
        const bool home_after_hole = ((next - home) & mask_) >= ((next - hole) & mask_);
        if (home_after_hole) {
            table_[hole] = table_[next];
            hole = next;
        }
    }
    table_[hole] = kNone;
}

}  // namespace linkem
