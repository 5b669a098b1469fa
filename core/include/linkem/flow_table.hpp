// Per-flow links (links[].per_flow, dummynet's masks): a flow's key is the
// packet's header fields under the template's mask; the table maps each key
// to one of max_flows link instances, made at start-up.
//
// Contract: owned by the rx lcore of the template's port; no allocation after
// construction. A new key takes a free instance; when none is free, the one
// idle longest is recycled, if it has been idle for at least idle_timeout and
// its caller says it is empty (nothing of the old flow still in its arena);
// otherwise find_or_add() returns kNone and the caller drops the packet
// (counted as `flow_limit`). Lookup is a hash and a short linear probe;
// the instances in use are kept in a list by last use (an intrusive LRU list:
// a hit moves its instance to the newest end), so the one idle longest is the
// list's oldest end and recycling is O(1), however many instances there are.
// Times passed to find_or_add() never decrease (one rx lcore, one clock), so
// the list's order is the order of last_seen; of instances seen at the same
// time, the one seen first counts as idle longer.
#pragma once

#include "linkem/config.hpp"
#include "linkem/packet_fields.hpp"

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace linkem {

struct FlowKey {
    uint8_t src[16] = {}, dst[16] = {};
    uint16_t src_port = 0, dst_port = 0;
    uint8_t proto = 0, ip_version = 0;
    uint8_t pad[2] = {};
    bool operator==(const FlowKey &o) const { return std::memcmp(this, &o, sizeof *this) == 0; }
};
static_assert(sizeof(FlowKey) == 40);

// The key of a packet under a template's mask. Non-IP frames all share the key of version 0.
FlowKey flow_key(const FlowKeySpec &spec, const PacketFields &f);
// "src 10.1.2.0/24, dst_port 5001"; "non-IP" for version 0.
std::string to_string(const FlowKeySpec &spec, const FlowKey &key);

class FlowTable {
  public:
    static constexpr uint32_t kNone = UINT32_MAX;
    // A key's hash (also the flow hash of a fair-queueing scheduler, pipeline.hpp QueueChoice).
    static uint64_t hash(const FlowKey &key);

    FlowTable(uint32_t max_flows, uint64_t idle_timeout_ns);

    // The instance of this key; a new key takes a free or recyclable instance
    // (*created set true). can_recycle(i) says whether instance i is empty.
    template <class CanRecycle>
    uint32_t find_or_add(const FlowKey &key, uint64_t now_ns, CanRecycle can_recycle, bool *created) {
        *created = false;
        uint64_t slot = hash(key) & mask_;
        for (; table_[slot] != kNone; slot = (slot + 1) & mask_) {
            Instance &in = instances_[table_[slot]];
            if (in.key == key) {
                in.last_seen_ns = now_ns;
                make_newest(table_[slot]);
                return table_[slot];
            }
        }
        uint32_t i = kNone;
        if (!free_.empty()) {
            i = free_.back();
            free_.pop_back();  // no allocation: capacity reserved at construction
        } else {
            i = oldest_;  // idle the longest
            if (i == kNone || now_ns - instances_[i].last_seen_ns < idle_timeout_ns_ || !can_recycle(i)) return kNone;
            erase(instances_[i].key);
            unlink(i);
            slot = hash(key) & mask_;
            while (table_[slot] != kNone) slot = (slot + 1) & mask_;
        }
        table_[slot] = i;
        Instance &in = instances_[i];
        in.key = key;
        in.last_seen_ns = now_ns;
        ++in.flows_served;
        in.in_use = true;
        link_newest(i);
        *created = true;
        return i;
    }

    uint32_t max_flows() const { return static_cast<uint32_t>(instances_.size()); }
    bool in_use(uint32_t i) const { return instances_[i].in_use; }
    const FlowKey &key_of(uint32_t i) const { return instances_[i].key; }
    uint64_t flows_served(uint32_t i) const { return instances_[i].flows_served; }

  private:
    struct Instance {
        FlowKey key;
        uint64_t last_seen_ns = 0;
        uint64_t flows_served = 0;
        bool in_use = false;
        uint32_t older = kNone, newer = kNone;  // neighbours in the list by last use
    };
    void erase(const FlowKey &key);
    void unlink(uint32_t i) {
        Instance &in = instances_[i];
        (in.older != kNone ? instances_[in.older].newer : oldest_) = in.newer;
        (in.newer != kNone ? instances_[in.newer].older : newest_) = in.older;
        in.older = in.newer = kNone;
    }
    void link_newest(uint32_t i) {
        instances_[i].older = newest_;
        instances_[i].newer = kNone;
        (newest_ != kNone ? instances_[newest_].newer : oldest_) = i;
        newest_ = i;
    }
    void make_newest(uint32_t i) {
        if (newest_ == i) return;
        unlink(i);
        link_newest(i);
    }

    std::vector<uint32_t> table_;  // open addressing, linear probing; kNone is empty
    uint64_t mask_;
    std::vector<Instance> instances_;
    std::vector<uint32_t> free_;
    uint32_t oldest_ = kNone, newest_ = kNone;  // the list of instances in use, by last use
    uint64_t idle_timeout_ns_;
};

}  // namespace linkem
