// The delay arena: one per link, holding the packets that have been admitted
// and wait for their release time, in release order (the link model
// guarantees release times never decrease, so FIFO order is release order).
//
// Contract:
//  - single producer (the link's rx/model stage), single consumer (its tx
//    stage); lock-free; entries are 16 bytes (packet pointer, release time);
//  - capacity is a power of two; storage is supplied by the caller (a DPDK
//    memzone in hugepage memory when there is one, ordinary memory otherwise)
//    and must outlive the arena;
//  - producer and consumer indexes sit on separate cache lines, and each side
//    keeps a cached copy of the other's index, refreshed only when the cached
//    value says full/empty (TLEM, section IV-F), so the two lcores rarely
//    touch a shared line.
#pragma once

#include <atomic>
#include <cstdint>

namespace linkem {

struct ArenaEntry {
    void *packet;         // an rte_mbuf * in the emulator; opaque here
    uint64_t release_ns;  // when the tx stage may send it
};
static_assert(sizeof(ArenaEntry) == 16);

class DelayArena {
  public:
    DelayArena(ArenaEntry *storage, uint64_t capacity) : slots_(storage), mask_(capacity - 1) {}

    uint64_t capacity() const { return mask_ + 1; }

    // [producer] Appends up to n entries; returns how many fit. The rest are
    // the caller's to drop (as arena_full).
    uint32_t push_burst(const ArenaEntry *entries, uint32_t n) {
        const uint64_t tail = producer_.tail.load(std::memory_order_relaxed);
        if (tail + n - producer_.cached_head > capacity()) producer_.cached_head = consumer_.head.load(std::memory_order_acquire);
        const uint64_t room = capacity() - (tail - producer_.cached_head);
        const uint32_t count = n < room ? n : static_cast<uint32_t>(room);
        for (uint32_t i = 0; i < count; ++i) slots_[(tail + i) & mask_] = entries[i];
        producer_.tail.store(tail + count, std::memory_order_release);
        return count;
    }

    // [producer] Free entries now (at least; the consumer may free more meanwhile).
    uint64_t room() {
        const uint64_t tail = producer_.tail.load(std::memory_order_relaxed);
        producer_.cached_head = consumer_.head.load(std::memory_order_acquire);
        return capacity() - (tail - producer_.cached_head);
    }

    // [consumer] Removes up to max entries whose release time is <= now_ns.
    uint32_t pop_due(uint64_t now_ns, ArenaEntry *out, uint32_t max) {
        uint64_t head = consumer_.head.load(std::memory_order_relaxed);
        if (head == consumer_.cached_tail) consumer_.cached_tail = producer_.tail.load(std::memory_order_acquire);
        uint32_t count = 0;
        while (count < max && head != consumer_.cached_tail && slots_[head & mask_].release_ns <= now_ns)
            out[count++] = slots_[head++ & mask_];
        consumer_.head.store(head, std::memory_order_release);
        return count;
    }

    // [consumer] The release time of the oldest entry, or false when empty.
    bool next_release(uint64_t *release_ns) {
        const uint64_t head = consumer_.head.load(std::memory_order_relaxed);
        if (head == consumer_.cached_tail) consumer_.cached_tail = producer_.tail.load(std::memory_order_acquire);
        if (head == consumer_.cached_tail) return false;
        *release_ns = slots_[head & mask_].release_ns;
        return true;
    }

    // [any thread] Entries held now; exact when both sides are stopped. The
    // head is read first: both only grow and head <= tail, so the difference
    // is never negative.
    uint64_t occupancy() const {
        const uint64_t head = consumer_.head.load(std::memory_order_acquire);
        return producer_.tail.load(std::memory_order_acquire) - head;
    }

    // Smallest power of two >= n (and >= 64).
    static uint64_t round_capacity(uint64_t n) {
        uint64_t c = 64;
        while (c < n) c <<= 1;
        return c;
    }

  private:
    ArenaEntry *const slots_;
    const uint64_t mask_;
    struct alignas(64) {
        std::atomic<uint64_t> tail{0};
        uint64_t cached_head = 0;
    } producer_;
    struct alignas(64) {
        std::atomic<uint64_t> head{0};
        uint64_t cached_tail = 0;
    } consumer_;
};

}  // namespace linkem
