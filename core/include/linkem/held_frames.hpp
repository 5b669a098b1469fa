// The frames a link with a queue discipline holds (docs/ARCHITECTURE.md
// "Queue disciplines", "In the pipeline"): one slot per packet its held queue
// can keep, each kHeldSlotBytes long, and a stack of the free ones. A frame
// is copied in at its arrival under the slot's number (the handle given to
// LinkModel::hold()) and read at its decision, in any order: a scheduler
// decides its queues' packets in another order than they arrived.
//
// Contract: used by the one thread that admits the link's packets; no
// allocation after construction (the slots' memory is given, the stack is
// made once).
#pragma once

#include <cstdint>
#include <cstring>
#include <vector>

namespace linkem {

// A slot: a frame of up to 2048 bytes (an mbuf's default data room). A longer
// frame is not kept: its packet is counted arena_full at its decision.
constexpr uint64_t kHeldSlotBytes = 2048;

// The memory a store of `slots` slots takes.
inline uint64_t held_frames_bytes(uint64_t slots) { return slots * kHeldSlotBytes; }

class HeldFrames {
  public:
    static constexpr uint32_t kNoSlot = UINT32_MAX;

    HeldFrames(void *memory, uint64_t slots) : bytes_(static_cast<uint8_t *>(memory)), lens_(slots), free_(slots) {
        for (uint64_t i = 0; i < slots; ++i) free_[i] = static_cast<uint32_t>(slots - 1 - i);  // slot 0 taken first
    }
    // A free slot for a frame of len bytes, or kNoSlot (none free, or too long).
    uint32_t take(uint32_t len) {
        if (free_.empty() || len > kHeldSlotBytes) return kNoSlot;
        const uint32_t slot = free_.back();
        free_.pop_back();  // never reallocates: the stack only shrinks and regrows to its size
        lens_[slot] = len;
        return slot;
    }
    void give_back(uint32_t slot) { free_.push_back(slot); }
    uint8_t *data(uint32_t slot) { return bytes_ + uint64_t{slot} * kHeldSlotBytes; }
    uint32_t len(uint32_t slot) const { return lens_[slot]; }

  private:
    uint8_t *bytes_;
    std::vector<uint32_t> lens_;
    std::vector<uint32_t> free_;
};

}  // namespace linkem
