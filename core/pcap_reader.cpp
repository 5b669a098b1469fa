#include "linkem/pcap_reader.hpp"

#include <fmt/format.h>

#include <utility>

namespace linkem {
namespace {

constexpr uint32_t kMagicMicro = 0xa1b2c3d4, kMagicNano = 0xa1b23c4d;
constexpr uint32_t kPcapngBlock = 0x0a0d0d0a;  // a pcapng section header block, palindromic
constexpr uint32_t kLinkTypeEthernet = 1;
constexpr uint64_t kFileHeaderBytes = 24, kRecordHeaderBytes = 16;

// Reads up to n bytes; returns how many arrived.
uint64_t read_some(std::istream &in, char *to, uint64_t n) {
    in.read(to, static_cast<std::streamsize>(n));
    return static_cast<uint64_t>(in.gcount());
}

}  // namespace

PcapReader::PcapReader(std::istream &in, std::string name) : in_(in), name_(std::move(name)) {}

PcapReader::Next PcapReader::fail(std::string message) {
    error_ = fmt::format("{}: {}", name_, message);
    return Next::kError;
}

bool PcapReader::refuse(std::string message) {
    fail(std::move(message));
    return false;
}

bool PcapReader::open() {
    uint32_t header[6];
    const uint64_t got = read_some(in_, reinterpret_cast<char *>(header), kFileHeaderBytes);
    if (got < 4) return refuse(fmt::format("too short for a pcap file ({} bytes)", got));
    if (header[0] == kPcapngBlock) return refuse("a pcapng capture; linkem-sim reads pcap: convert it with editcap -F pcap IN OUT");
    swapped_ = header[0] == __builtin_bswap32(kMagicMicro) || header[0] == __builtin_bswap32(kMagicNano);
    const uint32_t magic = host_order(header[0]);
    if (magic != kMagicMicro && magic != kMagicNano) return refuse(fmt::format("not a pcap file (magic {:#010x})", header[0]));
    if (got < kFileHeaderBytes) return refuse(fmt::format("truncated file header ({} of {} bytes)", got, kFileHeaderBytes));
    fraction_ns_ = magic == kMagicNano ? 1 : 1000;
    snap_len_ = host_order(header[4]);
    // The link type is the low 16 bits; the upper ones may carry FCS flags.
    const uint32_t link_type = host_order(header[5]) & 0xffff;
    if (link_type != kLinkTypeEthernet)
        return refuse(fmt::format("link type {} is not Ethernet (1): linkem's frames are Ethernet frames", link_type));
    offset_ = kFileHeaderBytes;
    return true;
}

PcapReader::Next PcapReader::next(Record *record) {
    uint32_t header[4];
    const uint64_t got = read_some(in_, reinterpret_cast<char *>(header), kRecordHeaderBytes);
    if (got == 0) return Next::kEnd;
    const uint64_t number = records_ + 1;
    if (got < kRecordHeaderBytes)
        return fail(fmt::format("record {} at byte {} is truncated: {} of its {} header bytes", number, offset_, got, kRecordHeaderBytes));
    for (uint32_t &h : header) h = host_order(h);
    const uint32_t seconds = header[0], fraction = header[1], captured = header[2];
    const uint64_t per_second = 1'000'000'000 / fraction_ns_;
    if (fraction >= per_second)
        return fail(fmt::format("record {} at byte {}: sub-second field {} is not below {} ({})", number, offset_, fraction, per_second,
                                fraction_ns_ == 1 ? "nanoseconds" : "microseconds"));
    if (snap_len_ != 0 && captured > snap_len_)
        return fail(fmt::format("record {} at byte {} claims {} captured bytes, more than the file's snap length {}", number, offset_,
                                captured, snap_len_));
    if (captured > kMaxFrameBytes)
        return fail(fmt::format("record {} at byte {} claims {} captured bytes, more than the largest frame linkem reads ({})", number,
                                offset_, captured, kMaxFrameBytes));
    record->time_ns = uint64_t{seconds} * 1'000'000'000 + uint64_t{fraction} * fraction_ns_;
    record->original_len = header[3];
    record->bytes.resize(captured);
    const uint64_t data = read_some(in_, record->bytes.data(), captured);
    if (data < captured)
        return fail(fmt::format("record {} at byte {} is truncated: {} of its {} captured bytes", number, offset_, data, captured));
    offset_ += kRecordHeaderBytes + captured;
    records_ = number;
    return Next::kRecord;
}

}  // namespace linkem
