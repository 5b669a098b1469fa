// Replay sources: reading a trace, its schedule, its report (linkem/replay.hpp).
#include "linkem/replay.hpp"
#include "linkem/memory_budget.hpp"
#include "linkem/pcap_reader.hpp"
#include "linkem/replay_stream.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <thread>

namespace linkem {

namespace {
__extension__ using u128 = unsigned __int128;

uint64_t clamp64(u128 v) { return v > UINT64_MAX / 2 ? UINT64_MAX / 2 : static_cast<uint64_t>(v); }
}  // namespace

std::optional<ReplayShape> walk_replay_trace(const Replay &config,
                                             const std::function<bool(const ReplayEntry &, const std::string &)> &each,
                                             std::string *error) {
    error->clear();
    std::ifstream f(config.path, std::ios::binary);
    if (!f) {
        *error = fmt::format("{}: cannot read: {}", config.path, std::strerror(errno));
        return std::nullopt;
    }
    PcapReader reader(f, config.path);
    if (!reader.open()) {
        *error = reader.error();
        return std::nullopt;
    }
    ReplayShape shape;
    PcapReader::Record record;
    uint64_t first_ns = 0, last_at = 0;
    for (PcapReader::Next next; (next = reader.next(&record)) != PcapReader::Next::kEnd;) {
        if (next == PcapReader::Next::kError) {
            *error = reader.error();
            return std::nullopt;
        }
        if (shape.count == 0) first_ns = record.time_ns;
        const uint64_t at = record.time_ns - first_ns;
        if (record.time_ns < first_ns || (shape.count != 0 && at < last_at)) {
            *error = fmt::format("{}: packet {} is older than the one before: sort the capture (it ends {} bytes in)", config.path,
                                 shape.count + 1, reader.bytes_read());
            return std::nullopt;
        }
        const uint32_t len = static_cast<uint32_t>(record.bytes.size());
        if (!each({at, shape.total_bytes, 0, len, 0}, record.bytes)) return std::nullopt;
        last_at = at;
        ++shape.count;
        shape.total_bytes += len;
        shape.max_len_bytes = std::max(shape.max_len_bytes, len);
    }
    if (shape.count == 0) {
        *error = fmt::format("{}: the capture holds no packets", config.path);
        return std::nullopt;
    }
    shape.span_ns = last_at;
    if (config.pace == Replay::Pace::kSpeed && shape.count == 1 && config.loops != 1) {
        *error = fmt::format("{}: one packet cannot be looped at a speed (there is no gap to keep): give pps or rate instead", config.path);
        return std::nullopt;
    }
    shape.format = reader.pcapng() ? "pcapng" : reader.nanosecond() ? "pcap (ns)" : "pcap (us)";
    return shape;
}

std::optional<ReplayTraceData> read_replay_trace(const Replay &config, std::string *error) {
    ReplayTraceData d;
    const std::optional<ReplayShape> shape = walk_replay_trace(
        config,
        [&d](const ReplayEntry &e, const std::string &bytes) {
            d.entries.push_back({e.recorded_ns, e.bytes_before, d.bytes.size(), e.len_bytes, 0});
            d.bytes.insert(d.bytes.end(), bytes.begin(), bytes.end());
            return true;
        },
        error);
    if (!shape) return std::nullopt;
    d.span_ns = shape->span_ns;
    d.format = shape->format;
    return d;
}

ReplaySchedule::ReplaySchedule(const Replay &config, const ReplayTrace &trace)
    : pace_(config.pace),
      start_ns_(static_cast<uint64_t>(config.start.ns)),
      speed_ppb_(config.speed_ppb),
      pps_(config.pps),
      rate_bps_(config.rate.bits_per_s),
      period_ns_(trace.span_ns + (trace.count > 1 ? trace.span_ns / (trace.count - 1) : 0)),
      count_(trace.count),
      total_bytes_(trace.total_bytes),
      entries_(trace.entries) {}

uint64_t ReplaySchedule::at(uint64_t loop, uint64_t i, const ReplayEntry &e) const {
    switch (pace_) {
    case Replay::Pace::kSpeed:
        return start_ns_ + clamp64((static_cast<u128>(loop) * period_ns_ + e.recorded_ns) * Replay::kSpeedOne / speed_ppb_);
    case Replay::Pace::kPps: return start_ns_ + clamp64((static_cast<u128>(loop) * count_ + i) * 1'000'000'000u / pps_);
    case Replay::Pace::kRate:
        return start_ns_ + clamp64((static_cast<u128>(loop) * total_bytes_ + e.bytes_before) * 8'000'000'000u / rate_bps_);
    case Replay::Pace::kTopspeed: return start_ns_;
    }
    return start_ns_;
}

bool ReplayCursor::abandoned() const {
    return ring_ != nullptr && !done() && left_ == 0 && ring_->closed() && ring_->published() == opened_;
}

// Gives back every chunk the last burst used: all opened, but the current one while it has records left.
void ReplayCursor::give_back() { ring_->release(left_ != 0 ? opened_ - 1 : opened_); }

// Opens the next chunk (the current one is used up); false when the reader has not published it yet.
bool ReplayCursor::open_next(bool count_starving) {
    while (ring_->published() == opened_) {
        // Blocking waits while the reader has room to write (the chunks this
        // burst holds do not fill the ring); else the burst ends here and the
        // next next_ns() waits, with the burst's chunks given back.
        if (!blocking_ || ring_->closed() || opened_ - ring_->released() >= ring_->chunks()) {
            // Starved: the reader is behind.
            if (count_starving && !starving_ && !ring_->closed()) {
                ++starvations_;
                starving_ = true;
            }
            return false;
        }
        std::this_thread::sleep_for(std::chrono::microseconds(20));  // linkem-sim only: waiting is not late in virtual time
    }
    starving_ = false;
    const uint8_t *chunk = ring_->chunk(opened_++);
    left_ = reinterpret_cast<const ChunkHeader *>(chunk)->records;
    cur_ = reinterpret_cast<const ReplayEntry *>(chunk + ChunkRing::kHeaderBytes);
    next_ns_ = base_ns_ + schedule_.at(loop_, index_, *cur_);
    return true;
}

uint16_t ReplayCursor::take_streamed(uint64_t until_ns, uint16_t max, ReplayBurst &b) {
    give_back();  // the last burst is in the lanes by now
    b.bytes = ring_->base();
    uint16_t n = 0;
    while (n < max && !done()) {
        if (left_ == 0 && !open_next(true)) break;
        if (next_ns_ > until_ns) break;
        b.entry[n] = cur_;
        b.arrival[n] = next_ns_;
        ++n;
        cur_ = reinterpret_cast<const ReplayEntry *>(reinterpret_cast<const uint8_t *>(cur_) + cur_->stride_bytes);
        --left_;
        if (++index_ == trace_.count) {
            index_ = 0;
            ++loop_;
        }
        if (!done() && left_ != 0) next_ns_ = base_ns_ + schedule_.at(loop_, index_, *cur_);
    }
    return n;
}

std::string replay_pace_text(const Replay &r) {
    switch (r.pace) {
    case Replay::Pace::kSpeed: {
        std::string fraction = fmt::format("{:09}", r.speed_ppb % Replay::kSpeedOne);
        while (!fraction.empty() && fraction.back() == '0') fraction.pop_back();
        return fmt::format("speed {}{}{}", r.speed_ppb / Replay::kSpeedOne, fraction.empty() ? "" : ".", fraction);
    }
    case Replay::Pace::kPps: return fmt::format("{} pps", r.pps);
    case Replay::Pace::kRate: return "rate " + r.rate.to_string();
    case Replay::Pace::kTopspeed: return "topspeed";
    }
    return "";
}

ReplayReport replay_report(const Port &port, const ReplayTrace &trace, const ReplayStats &stats, uint64_t tolerance_ns) {
    const Replay &r = *port.replay;
    ReplayReport o;
    o.port = port.name;
    o.file = r.file;
    o.pace = replay_pace_text(r);
    o.records = trace.count;
    o.trace_bytes = trace.total_bytes;
    o.trace_span_ns = trace.span_ns;
    o.loops = r.loops;
    o.topspeed = r.pace == Replay::Pace::kTopspeed;
    o.done = stats.done.load(std::memory_order_acquire);
    o.packets = stats.packets;
    o.bytes = stats.bytes;
    o.schedule_span_ns = stats.last_scheduled_ns - stats.first_scheduled_ns;
    o.duration_ns = stats.last_sent_ns - stats.first_sent_ns;
    if (o.schedule_span_ns != 0)
        o.drift_ppm =
            (static_cast<double>(o.duration_ns) - static_cast<double>(o.schedule_span_ns)) / static_cast<double>(o.schedule_span_ns) * 1e6;
    o.late = stats.late;
    o.tolerance_ns = tolerance_ns;
    o.lateness_p50_ns = stats.lateness_ns.percentile(0.5);
    o.lateness_p99_ns = stats.lateness_ns.percentile(0.99);
    o.lateness_p999_ns = stats.lateness_ns.percentile(0.999);
    o.lateness_max_ns = stats.lateness_ns.max();
    return o;
}

std::string replay_summary_text(const ReplayReport &r) {
    const auto d = [](uint64_t ns) { return human_duration(static_cast<double>(ns)); };
    std::string out =
        fmt::format("replay {}: {} ({} packets, {} over {}), {}, {}: {} packets{}\n", r.port, r.file, r.records, bytes_text(r.trace_bytes),
                    d(r.trace_span_ns), r.pace, r.loops ? fmt::format("{} loop{}", *r.loops, *r.loops == 1 ? "" : "s") : "looping forever",
                    r.packets, r.memory.empty() ? "" : ", trace in " + r.memory);
    if (r.streamed)
        out += fmt::format("  streamed through a ring of {} chunks of {} ({}): {} chunks read, the stage starved {} time{}\n",
                           r.chunk_bytes == 0 ? 0 : r.ring_bytes / r.chunk_bytes, bytes_text(r.chunk_bytes), bytes_text(r.ring_bytes),
                           r.chunks_read, r.starvations, r.starvations == 1 ? "" : "s");
    if (r.packets == 0) return out + "  nothing was sent\n";
    if (r.topspeed) {
        const double pps = r.duration_ns == 0 ? 0 : static_cast<double>(r.packets - 1) * 1e9 / static_cast<double>(r.duration_ns);
        return out + fmt::format("  {}{}: {}\n", r.virtual_time ? "in virtual time, all at once" : "sent as fast as linkem could",
                                 r.done ? "" : " (stopped before the end)", r.virtual_time ? "no duration" : human_si(pps, "pps"));
    }
    out += fmt::format("  duration {} (first to last packet) against its schedule's {}: drift {:+.1f} ppm{}\n", d(r.duration_ns),
                       d(r.schedule_span_ns), r.drift_ppm, r.done ? "" : " (stopped before the end)");
    if (r.virtual_time) return out + "  lateness: none (virtual time: every packet at its scheduled time)\n";
    return out + fmt::format("  lateness (admitted after the schedule): p50 {}, p99 {}, p99.9 {}, max {}; {} later than {}\n",
                             d(r.lateness_p50_ns), d(r.lateness_p99_ns), d(r.lateness_p999_ns), d(r.lateness_max_ns), r.late,
                             d(r.tolerance_ns));
}

Json replay_json(const ReplayReport &r) {
    Json o = {
        {"port", r.port},
        {"file", r.file},
        {"pace", r.pace},
        {"records", r.records},
        {"trace_bytes", r.trace_bytes},
        {"trace_span_ns", r.trace_span_ns},
        {"loops", r.loops ? Json(*r.loops) : Json("forever")},
        {"memory", r.memory},
        {"streamed", r.streamed},
        {"stream",
         {{"ring_bytes", r.ring_bytes}, {"chunk_bytes", r.chunk_bytes}, {"chunks_read", r.chunks_read}, {"starvations", r.starvations}}},
        {"done", r.done},
        {"packets", r.packets},
        {"bytes", r.bytes},
        {"schedule_span_ns", r.schedule_span_ns},
        {"duration_ns", r.duration_ns},
        {"drift_ppm", r.drift_ppm},
        {"lateness",
         {{"p50_ns", r.lateness_p50_ns},
          {"p99_ns", r.lateness_p99_ns},
          {"p999_ns", r.lateness_p999_ns},
          {"max_ns", r.lateness_max_ns},
          {"late", r.late},
          {"tolerance_ns", r.tolerance_ns}}}};
    return o;
}

std::string replay_status_line(const std::string &port, const Replay &config, const ReplayStats &stats, uint64_t packets_before,
                               double seconds, bool streamed) {
    const uint64_t packets = stats.packets_so_far.load(std::memory_order_relaxed);
    const uint64_t loops = stats.loops_so_far.load(std::memory_order_relaxed);
    const double pps = seconds > 0 && packets >= packets_before ? static_cast<double>(packets - packets_before) / seconds : 0;
    std::string line = fmt::format("replay {}: {} packets replayed ({}), {} loop{} done{}", port, packets, human_si(pps, "pps"), loops,
                                   loops == 1 ? "" : "s", config.loops ? fmt::format(" of {}", *config.loops) : " (looping forever)");
    if (stats.done.load(std::memory_order_acquire)) line += ", done";
    if (config.pace != Replay::Pace::kTopspeed)
        line += fmt::format(", lateness p99 {}", human_duration(static_cast<double>(stats.lateness_ns.percentile(0.99))));
    if (streamed) {
        const uint64_t starved = stats.starvations_so_far.load(std::memory_order_relaxed);
        line += fmt::format(", starved {} time{}", starved, starved == 1 ? "" : "s");
    }
    return line;
}

}  // namespace linkem
