// The delay arena: one per link, holding copies of the packets that have been
// admitted and wait for their release time, in release order (the link model
// guarantees release times never decrease, so FIFO order is release order).
//
// As in TLEM (section IV-F), packets are copied in: the rx stage frees its
// mbufs at once, on its own core, and the tx stage builds new ones on its
// own; the number of packets in flight is bounded by the arena's bytes, not
// by an mbuf pool, so 100 ms at line rate fits.
//
// Layout: a byte ring (a power of two, storage supplied by the caller: a DPDK
// memzone in hugepage memory when there is one). Each record is a 16-byte
// header (release time, length, link tag) followed by the frame, padded to a multiple
// of 16 bytes (a 64-byte frame takes 80 bytes: fewer cache lines cross from
// the rx core to the tx core than with 64-byte padding, which measured about
// 10-15% slower); a record never wraps: when it does not fit before the end, a
// skip record fills the tail and it starts at offset 0.
//
// Contract: single producer (the link's rx/model stage), single consumer (its
// tx stage); lock-free. Producer and consumer indexes are on separate cache
// lines, each side caching the other's and refreshing it only when the cached
// value says full or empty. The producer writes records with append() and
// makes them visible with publish() once per burst; the consumer reads with
// front() and releases space with pop() and publish_consumed().
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace linkem {

struct ArenaRecord {
    uint64_t release_ns;
    uint32_t len_bytes;  // frame length; kSkip marks padding to the end of the ring
    uint32_t tag;        // the link model's LinkTag, for the tx side's fidelity figures
    static constexpr uint32_t kSkip = UINT32_MAX;

    uint8_t *data() { return reinterpret_cast<uint8_t *>(this + 1); }
    const uint8_t *data() const { return reinterpret_cast<const uint8_t *>(this + 1); }
};
static_assert(sizeof(ArenaRecord) == 16);

class DelayArena {
  public:
    static constexpr uint64_t kAlign = 16;
    // Bytes a frame of len bytes takes in the arena.
    static constexpr uint64_t record_bytes(uint64_t len) { return (sizeof(ArenaRecord) + len + kAlign - 1) / kAlign * kAlign; }
    // Smallest power of two >= n (and >= 4 KiB).
    static uint64_t round_capacity(uint64_t n) {
        uint64_t c = 4096;
        while (c < n) c <<= 1;
        return c;
    }

    // storage: capacity_bytes (a power of two), aligned to 64 bytes.
    DelayArena(void *storage, uint64_t capacity_bytes) : base_(static_cast<uint8_t *>(storage)), mask_(capacity_bytes - 1) {}

    uint64_t capacity_bytes() const { return mask_ + 1; }

    // [producer] Free bytes (at least; the consumer may free more meanwhile).
    // Reads the consumer's index only when the cached one shows less than `wanted`.
    uint64_t free_bytes(uint64_t wanted = UINT64_MAX) {
        uint64_t free = capacity_bytes() - (producer_.tail_local - producer_.cached_head);
        if (free >= wanted) return free;
        producer_.cached_head = consumer_.head.load(std::memory_order_acquire);
        return capacity_bytes() - (producer_.tail_local - producer_.cached_head);
    }

    // [producer] Room for a record of len bytes, or nullptr when the arena is
    // full. The caller fills data() with len bytes; it becomes visible at publish().
    ArenaRecord *append(uint64_t release_ns, uint32_t len, uint32_t tag = 0) {
        const uint64_t size = record_bytes(len);
        const uint64_t offset = producer_.tail_local & mask_;
        const uint64_t to_end = capacity_bytes() - offset;
        const uint64_t needed = size <= to_end ? size : to_end + size;  // a skip record, then from 0
        if (producer_.tail_local + needed - producer_.cached_head > capacity_bytes()) {
            producer_.cached_head = consumer_.head.load(std::memory_order_acquire);
            if (producer_.tail_local + needed - producer_.cached_head > capacity_bytes()) return nullptr;
        }
        if (size > to_end) {
            at(producer_.tail_local)->len_bytes = ArenaRecord::kSkip;
            producer_.tail_local += to_end;
        }
        ArenaRecord *r = at(producer_.tail_local);
        r->release_ns = release_ns;
        r->len_bytes = len;
        r->tag = tag;
        producer_.tail_local += size;
        ++producer_.records_local;
        return r;
    }

    // [producer] Asks the CPU to fetch, for writing, the free bytes up to
    // `distance` past the tail, each cache line once. The lines were last
    // read by the consumer's core long ago; without this, each record's
    // first store waits for its line to come from memory.
    void prefetch_for_write(uint64_t distance) {
        // Up to the free end: the line holding it may still be read by the consumer.
        fetch_lines<true>(producer_.prefetched, producer_.tail_local, producer_.cached_head + capacity_bytes(), distance);
    }

    // [producer] Makes every appended record visible to the consumer.
    void publish() {
        producer_.records.store(producer_.records_local, std::memory_order_relaxed);
        producer_.tail.store(producer_.tail_local, std::memory_order_release);
    }

    // [consumer] The oldest visible record, or nullptr when there is none.
    const ArenaRecord *front() {
        for (;;) {
            // ">=": pop() may have moved the head past a stale cached tail.
            if (consumer_.head_local >= consumer_.cached_tail) {
                consumer_.cached_tail = producer_.tail.load(std::memory_order_acquire);
                if (consumer_.head_local >= consumer_.cached_tail) return nullptr;
            }
            const ArenaRecord *r = at(consumer_.head_local);
            if (r->len_bytes != ArenaRecord::kSkip) return r;
            consumer_.head_local += capacity_bytes() - (consumer_.head_local & mask_);  // to offset 0
        }
    }

    // [consumer] Asks the CPU to fetch the published bytes up to `distance`
    // past the head, each cache line once (the lines already asked for are
    // remembered). Records are read in order but their lengths vary, so the
    // next record's address is known only once this one's header has been
    // read: without fetching ahead by bytes, every header is a serial miss.
    void prefetch_ahead(uint64_t distance) {
        // Up to the published end: the line holding it may still be written by the producer.
        fetch_lines<false>(consumer_.prefetched, consumer_.head_local, consumer_.cached_tail, distance);
    }

    // [consumer] Drops the record front() returned (its space is reused after publish_consumed()).
    void pop() {
        consumer_.head_local += record_bytes(at(consumer_.head_local)->len_bytes);
        ++consumer_.records_local;
    }

    // [consumer] Gives the popped records' space back to the producer.
    void publish_consumed() {
        consumer_.records.store(consumer_.records_local, std::memory_order_relaxed);
        consumer_.head.store(consumer_.head_local, std::memory_order_release);
    }

    // [any thread] Records held now; exact when both sides are stopped. The
    // consumer's count is read first: both only grow and it never passes the
    // producer's, so the difference is never negative.
    uint64_t occupancy() const {
        const uint64_t consumed = consumer_.records.load(std::memory_order_acquire);
        return producer_.records.load(std::memory_order_acquire) - consumed;
    }

  private:
    ArenaRecord *at(uint64_t index) const { return reinterpret_cast<ArenaRecord *>(base_ + (index & mask_)); }

    // Prefetches the whole cache lines in [index, min(index + distance, end)),
    // skipping those up to `prefetched` (already asked for), which it advances.
    // The line holding `end` is left alone: the other side may still use it.
    template <bool kForWrite>
    void fetch_lines(uint64_t &prefetched, uint64_t index, uint64_t end, uint64_t distance) const {
        uint64_t from = (prefetched > index ? prefetched : index) & ~uint64_t{63};
        const uint64_t to = (index + distance < end ? index + distance : end) & ~uint64_t{63};
        for (; from < to; from += 64) __builtin_prefetch(base_ + (from & mask_), kForWrite ? 1 : 0);
        prefetched = from;
    }

    uint8_t *const base_;
    const uint64_t mask_;
    // Each side's published indexes (read by the other side) and its own
    // working copies (written per record) on separate cache lines: a read
    // of the published line by the other core does not take away the line
    // this side writes for every record.
    struct alignas(64) {
        std::atomic<uint64_t> tail{0};     // bytes published
        std::atomic<uint64_t> records{0};  // records published
        alignas(64) uint64_t tail_local = 0;
        uint64_t records_local = 0, cached_head = 0, prefetched = 0;
    } producer_;
    struct alignas(64) {
        std::atomic<uint64_t> head{0};     // bytes given back
        std::atomic<uint64_t> records{0};  // records given back
        alignas(64) uint64_t head_local = 0;
        uint64_t records_local = 0, cached_tail = 0, prefetched = 0;
    } consumer_;
};

}  // namespace linkem
