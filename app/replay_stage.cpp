#include "replay_stage.hpp"
#include "stages.hpp"

#include "linkem/pipeline_ingress.hpp"

#include <rte_cycles.h>

#include <algorithm>

namespace linkem {

uint32_t replay_stage(RxPort &in, const LcoreTask &task) {
    ReplayPort &r = *in.replay;
    if (r.cursor.done()) return 0;
    const uint64_t now = task.clock->to_ns(rte_rdtsc());
    ReplayBurst b;
    uint64_t most = task.burst;
    if (r.room_lane != nullptr) {
        most = std::min(most, ingress_detail::lane_room(r.room_lane->arena, DelayArena::record_bytes(r.max_len_bytes), task.burst));
        if (most == 0) return 0;  // the tx stage has not caught up yet
    }
    const uint16_t n = r.cursor.take(r.topspeed ? UINT64_MAX : now, static_cast<uint16_t>(most), b);
    if (n != 0) {
        // topspeed has no schedule: a packet arrives when linkem gets to it.
        if (r.topspeed)
            for (uint16_t i = 0; i < n; ++i) b.arrival[i] = now;
        admit_burst(*in.ingress, b, n, now, [&task] { return task.clock->to_ns(rte_rdtsc()); });
        r.stats.record(b, n, now, !r.topspeed, r.tolerance_ns);
    }
    r.next_ns.store(r.cursor.next_ns(), std::memory_order_release);  // after the burst is in its lanes (gives its chunks back)
    r.stats.loops_so_far.store(r.cursor.loop(), std::memory_order_relaxed);
    r.stats.starvations_so_far.store(r.cursor.starvations(), std::memory_order_relaxed);
    if (r.cursor.done()) r.stats.done.store(true, std::memory_order_release);
    return n;
}

}  // namespace linkem
