// Streaming a replay trace through a ring of chunks (linkem/replay_stream.hpp).
#include "linkem/replay_stream.hpp"
#include "linkem/memory_budget.hpp"

#include <fmt/format.h>

#include <chrono>
#include <cstring>

namespace linkem {

std::optional<ReplayPlan> plan_replay(const Replay &config, const ReplayShape &shape, bool whole_fits, std::string *error) {
    ReplayPlan p;
    p.shape = shape;
    p.streamed = config.memory_bytes ? shape.loaded_bytes() > *config.memory_bytes : !whole_fits;
    if (!p.streamed) {
        p.memory_bytes = shape.loaded_bytes();
        return p;
    }
    p.chunk_bytes = config.chunk_bytes;
    p.chunks = (config.memory_bytes ? *config.memory_bytes : std::max(kAutoStreamBytes, 2 * config.chunk_bytes)) / p.chunk_bytes;
    p.memory_bytes = p.chunks * p.chunk_bytes;
    if (!ChunkRing::holds(p.chunk_bytes, shape.max_len_bytes)) {
        *error = fmt::format("{}: its largest frame ({} bytes) does not fit a chunk of {} with its {} bytes of header: give a larger chunk",
                             config.path, shape.max_len_bytes, bytes_text(p.chunk_bytes), ChunkRing::kHeaderBytes + sizeof(ReplayEntry));
        return std::nullopt;
    }
    return p;
}

void ReplayReader::start() {
    thread_ = std::thread([this] { run(); });
}

void ReplayReader::wait_read_ahead() const {
    while (!finished_.load(std::memory_order_acquire) && ring_.published() - ring_.released() < ring_.chunks())
        std::this_thread::sleep_for(std::chrono::microseconds(200));
}

void ReplayReader::stop() {
    stop_.store(true, std::memory_order_relaxed);
    if (thread_.joinable()) thread_.join();
}

std::string ReplayReader::error() const {
    std::lock_guard<std::mutex> lock(error_mutex_);
    return error_;
}

void ReplayReader::fail(std::string message) {
    {
        std::lock_guard<std::mutex> lock(error_mutex_);
        error_ = std::move(message);
    }
    failed_.store(true, std::memory_order_release);
}

// Publishes the chunk being written, if it holds any record.
bool ReplayReader::flush() {
    if (fill_ == nullptr) return true;
    auto *header = reinterpret_cast<ChunkHeader *>(fill_);
    header->records = records_;
    header->used_bytes = static_cast<uint32_t>(used_);
    ring_.publish();
    chunks_written_.fetch_add(1, std::memory_order_relaxed);
    fill_ = nullptr;
    return true;
}

bool ReplayReader::append(const ReplayEntry &e, const std::string &bytes) {
    const uint64_t need = ChunkRing::record_bytes(e.len_bytes);
    if (fill_ != nullptr && used_ + need > ring_.chunk_bytes()) flush();
    if (fill_ == nullptr) {
        // The next chunk, once the stage has given one back (the read-ahead is full).
        if (!ring_.room()) waits_.fetch_add(1, std::memory_order_relaxed);
        while (!ring_.room()) {
            if (stop_.load(std::memory_order_relaxed)) return false;
            std::this_thread::sleep_for(std::chrono::microseconds(50));
        }
        fill_ = ring_.chunk(ring_.published());
        used_ = ChunkRing::kHeaderBytes;
        records_ = 0;
    }
    uint8_t *at = fill_ + used_;
    ReplayEntry entry = e;
    entry.data_offset = static_cast<uint64_t>(at + sizeof(ReplayEntry) - ring_.base());
    entry.stride_bytes = static_cast<uint32_t>(need);
    std::memcpy(at, &entry, sizeof entry);
    std::memcpy(at + sizeof(ReplayEntry), bytes.data(), e.len_bytes);
    used_ += need;
    ++records_;
    return !stop_.load(std::memory_order_relaxed);
}

// Loop after loop, each a new pass from the file's start; the trace must be
// what was checked before the start (the same records, the same bytes).
void ReplayReader::run() {
    for (uint64_t loop = 0; !config_.loops || loop < *config_.loops; ++loop) {
        std::string error;
        uint64_t count = 0;
        const std::optional<ReplayShape> shape = walk_replay_trace(
            config_,
            [&](const ReplayEntry &e, const std::string &bytes) {
                if (++count > shape_.count || e.len_bytes > shape_.max_len_bytes) return false;  // longer than it was: changed
                return append(e, bytes);
            },
            &error);
        if (stop_.load(std::memory_order_relaxed)) break;
        if (!shape || shape->count != shape_.count || shape->total_bytes != shape_.total_bytes || shape->span_ns != shape_.span_ns) {
            fail(fmt::format("{}: the trace changed while it was replayed (loop {}: {}); the replay stops here", config_.path, loop + 1,
                             !error.empty() ? error : "not the records it held at the start"));
            break;
        }
    }
    if (!failed()) flush();  // a failed pass's last, partial chunk is not published
    ring_.close();
    finished_.store(true, std::memory_order_release);
}

}  // namespace linkem
