// Test traces for replay sources: pcap files written byte by byte, each
// frame carrying its sequence number, so a test can tell which arrived.
#pragma once

#include <cstdint>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

namespace linkem::test {

struct TraceRecord {
    uint64_t time_ns;  // since the epoch
    std::string bytes;
};

// An Ethernet frame of len bytes (at least 18) of the local experimental
// EtherType 0x88b5, its 32-bit sequence number (little-endian) at byte 14.
inline std::string sequenced_frame(uint32_t seq, uint32_t len) {
    std::string f(len, '\0');
    const uint8_t head[14] = {2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x88, 0xb5};
    std::memcpy(f.data(), head, sizeof head);
    std::memcpy(f.data() + 14, &seq, 4);
    return f;
}

// The sequence number a sequenced_frame carries.
inline uint32_t sequence_of(const std::string &frame) {
    uint32_t seq = 0;
    if (frame.size() >= 18) std::memcpy(&seq, frame.data() + 14, 4);
    return seq;
}

// A pcap (microsecond or nanosecond timestamps) of the records.
inline void write_trace(const std::string &path, const std::vector<TraceRecord> &records, bool nanosecond) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    const uint32_t header[6] = {nanosecond ? 0xa1b23c4du : 0xa1b2c3d4u, 0x00040002, 0, 0, 262144, 1};
    out.write(reinterpret_cast<const char *>(header), sizeof header);
    const uint64_t unit = nanosecond ? 1 : 1000;
    for (const TraceRecord &r : records) {
        const uint32_t len = static_cast<uint32_t>(r.bytes.size());
        const uint32_t rec[4] = {static_cast<uint32_t>(r.time_ns / 1'000'000'000), static_cast<uint32_t>(r.time_ns % 1'000'000'000 / unit),
                                 len, len};
        out.write(reinterpret_cast<const char *>(rec), sizeof rec);
        out.write(r.bytes.data(), len);
    }
}

// count sequenced frames of len bytes, gap_ns apart from a fixed recorded
// instant (2023-11-14), as a nanosecond pcap.
inline void write_periodic_trace(const std::string &path, uint32_t count, uint64_t gap_ns, uint32_t len) {
    std::vector<TraceRecord> records;
    for (uint32_t i = 0; i < count; ++i) records.push_back({1'700'000'000'000'000'000ULL + i * gap_ns, sequenced_frame(i, len)});
    write_trace(path, records, true);
}

// Every record of a nanosecond or microsecond pcap (as linkem-sim and net_pcap write).
inline std::vector<TraceRecord> read_trace(const std::string &path) {
    std::ifstream in(path, std::ios::binary | std::ios::ate);
    std::string data(in ? static_cast<size_t>(in.tellg()) : 0, '\0');
    in.seekg(0);
    in.read(data.data(), static_cast<std::streamsize>(data.size()));
    std::vector<TraceRecord> out;
    if (data.size() < 24) return out;
    uint32_t magic;
    std::memcpy(&magic, data.data(), 4);
    const uint64_t unit = magic == 0xa1b23c4d ? 1 : 1000;
    for (size_t at = 24; at + 16 <= data.size();) {
        uint32_t r[4];
        std::memcpy(r, data.data() + at, sizeof r);
        if (at + 16 + r[2] > data.size()) break;
        out.push_back({uint64_t{r[0]} * 1'000'000'000 + uint64_t{r[1]} * unit, data.substr(at + 16, r[2])});
        at += 16 + r[2];
    }
    return out;
}

}  // namespace linkem::test
