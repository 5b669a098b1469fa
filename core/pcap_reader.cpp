#include "linkem/pcap_reader.hpp"

#include <fmt/format.h>

#include <cstring>
#include <utility>

namespace linkem {
namespace {

constexpr uint32_t kMagicMicro = 0xa1b2c3d4, kMagicNano = 0xa1b23c4d;
constexpr uint32_t kLinkTypeEthernet = 1;
constexpr uint64_t kFileHeaderBytes = 24, kRecordHeaderBytes = 16;

// pcapng (draft-ietf-opsawg-pcapng): block types, the byte-order magic.
constexpr uint32_t kBlockSection = 0x0a0d0d0a;  // palindromic: the same in either byte order
constexpr uint32_t kBlockInterface = 1, kBlockObsoletePacket = 2, kBlockSimplePacket = 3, kBlockEnhancedPacket = 6;
constexpr uint32_t kByteOrderMagic = 0x1a2b3c4d;
constexpr uint16_t kOptionEnd = 0, kOptionTimestampResolution = 9;
// A block linkem reads whole (a section or interface header: options and
// names) is at most this long; a packet block at most a frame and 64 KiB of options.
constexpr uint64_t kMaxHeaderBlockBytes = 1 << 20;
constexpr uint64_t kMaxPacketBlockBytes = PcapReader::kMaxFrameBytes + (64 << 10);

__extension__ using u128 = unsigned __int128;

uint64_t padded4(uint64_t n) { return (n + 3) & ~uint64_t{3}; }

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
    uint64_t got = read_some(in_, reinterpret_cast<char *>(header), 4);
    if (got < 4) return refuse(fmt::format("too short for a pcap file ({} bytes)", got));
    if (header[0] == kBlockSection) {
        pcapng_ = true;
        uint32_t raw_length = 0;
        if (read_some(in_, reinterpret_cast<char *>(&raw_length), 4) < 4) return refuse("pcapng section header at byte 0 is truncated");
        return read_section_header(0, raw_length);
    }
    got += read_some(in_, reinterpret_cast<char *>(header + 1), kFileHeaderBytes - 4);
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
    if (pcapng_) return next_pcapng(record);
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

// A section header block at byte `at`, its type and length (in a byte order
// not known yet) already read: its byte-order magic and version, and the
// rest of it (options, unread).
bool PcapReader::read_section_header(uint64_t at, uint32_t raw_length) {
    uint32_t words[2] = {raw_length, 0};
    if (read_some(in_, reinterpret_cast<char *>(&words[1]), 4) < 4)
        return refuse(fmt::format("pcapng section header at byte {} is truncated", at));
    if (words[1] != kByteOrderMagic && words[1] != __builtin_bswap32(kByteOrderMagic))
        return refuse(
            fmt::format("pcapng section header at byte {}: byte-order magic {:#010x} is neither 0x1a2b3c4d nor its reverse", at, words[1]));
    swapped_ = words[1] != kByteOrderMagic;
    const uint32_t length = host_order(words[0]);
    if (length < 28 || length % 4 != 0 || length > kMaxHeaderBlockBytes)
        return refuse(fmt::format("pcapng section header at byte {}: block length {} is not a multiple of 4 from 28 to {}", at, length,
                                  kMaxHeaderBlockBytes));
    std::string rest(length - 12, '\0');
    if (read_some(in_, rest.data(), rest.size()) < rest.size())
        return refuse(fmt::format("pcapng section header at byte {} is truncated: its block is {} bytes", at, length));
    uint16_t major = 0;
    std::memcpy(&major, rest.data(), 2);
    if (swapped_) major = __builtin_bswap16(major);
    if (major != 1) return refuse(fmt::format("pcapng section header at byte {}: version {} (linkem reads version 1)", at, major));
    uint32_t trailing = 0;
    std::memcpy(&trailing, rest.data() + rest.size() - 4, 4);
    if (host_order(trailing) != length)
        return refuse(fmt::format("pcapng section header at byte {}: its trailing length {} differs from its length {}", at,
                                  host_order(trailing), length));
    interfaces_.clear();  // interface ids count from 0 again in each section
    offset_ = at + length;
    return true;
}

PcapReader::Next PcapReader::next_pcapng(Record *record) {
    for (;;) {
        const uint64_t at = offset_;
        uint32_t words[2];
        const uint64_t got = read_some(in_, reinterpret_cast<char *>(words), 8);
        if (got == 0) return Next::kEnd;
        if (got < 8) return fail(fmt::format("block at byte {} is truncated: {} of its 8 header bytes", at, got));
        if (words[0] == kBlockSection) {  // a new section, perhaps in the other byte order
            if (!read_section_header(at, words[1])) return Next::kError;
            continue;
        }
        const uint32_t type = host_order(words[0]), length = host_order(words[1]);
        const bool packet = type == kBlockEnhancedPacket;
        const uint64_t most = packet ? kMaxPacketBlockBytes : kMaxHeaderBlockBytes;
        if (length < 12 || length % 4 != 0 || (type == kBlockInterface || packet ? length > most : false))
            return fail(fmt::format("block at byte {} (type {}): length {} is not a multiple of 4 from 12 to {}", at, type, length, most));
        if (type == kBlockObsoletePacket || type == kBlockSimplePacket)
            return fail(
                fmt::format("block at byte {}: a {} packet block, which linkem does not read ({}): rewrite the capture with "
                            "editcap -F pcapng",
                            at, type == kBlockObsoletePacket ? "obsolete" : "simple",
                            type == kBlockObsoletePacket ? "superseded by enhanced packet blocks" : "it carries no timestamp"));
        const auto trailing_matches = [&](uint32_t *trailing) {
            uint32_t t = 0;
            if (read_some(in_, reinterpret_cast<char *>(&t), 4) < 4) return false;
            *trailing = host_order(t);
            return true;
        };
        if (type == kBlockInterface) {
            if (length < 20) return fail(fmt::format("interface description at byte {}: length {} is under 20", at, length));
            std::string body(length - 12, '\0');
            if (read_some(in_, body.data(), body.size()) < body.size())
                return fail(fmt::format("interface description at byte {} is truncated: its block is {} bytes", at, length));
            uint32_t trailing = 0;
            if (!trailing_matches(&trailing))
                return fail(fmt::format("interface description at byte {} is truncated: no trailing length", at));
            if (trailing != length)
                return fail(fmt::format("interface description at byte {}: its trailing length {} differs from its length {}", at, trailing,
                                        length));
            const auto u16 = [&](size_t pos) {
                uint16_t v = 0;
                std::memcpy(&v, body.data() + pos, 2);
                return swapped_ ? __builtin_bswap16(v) : v;
            };
            uint32_t snap = 0;
            std::memcpy(&snap, body.data() + 4, 4);
            Interface interface;
            interface.snap_len = host_order(snap);
            const uint16_t link_type = u16(0);
            if (link_type != kLinkTypeEthernet)
                return fail(fmt::format("interface {} at byte {}: link type {} is not Ethernet (1): linkem's frames are Ethernet frames",
                                        interfaces_.size(), at, link_type));
            for (size_t pos = 8; pos + 4 <= body.size();) {
                const uint16_t code = u16(pos), size = u16(pos + 2);
                if (code == kOptionEnd) break;
                if (pos + 4 + size > body.size())
                    return fail(fmt::format("interface description at byte {}: option {} runs past the block", at, code));
                if (code == kOptionTimestampResolution && size >= 1) {
                    const uint8_t v = static_cast<uint8_t>(body[pos + 4]);
                    const unsigned exponent = v & 0x7f;
                    if ((v & 0x80) != 0 ? exponent > 63 : exponent > 19)
                        return fail(fmt::format("interface description at byte {}: timestamp resolution {:#04x} is finer than linkem reads",
                                                at, v));
                    interface.units_per_second = 1;
                    for (unsigned k = 0; k < exponent; ++k) interface.units_per_second *= (v & 0x80) != 0 ? 2 : 10;
                }
                pos += 4 + padded4(size);
            }
            interfaces_.push_back(interface);
            offset_ = at + length;
            continue;
        }
        if (!packet) {  // another block: skipped, without allocating for it
            in_.ignore(static_cast<std::streamsize>(length - 12));
            uint32_t trailing = 0;
            if (static_cast<uint64_t>(in_.gcount()) < length - 12 || !trailing_matches(&trailing))
                return fail(fmt::format("block at byte {} (type {}) is truncated: its block is {} bytes", at, type, length));
            if (trailing != length)
                return fail(fmt::format("block at byte {} (type {}): its trailing length {} differs from its length {}", at, type, trailing,
                                        length));
            offset_ = at + length;
            continue;
        }

        // An enhanced packet block: a record.
        const uint64_t number = records_ + 1;
        uint32_t fields[5];  // interface id, timestamp high and low, captured and original length
        if (length < 32) return fail(fmt::format("record {} at byte {}: block length {} is under 32", number, at, length));
        if (read_some(in_, reinterpret_cast<char *>(fields), sizeof fields) < sizeof fields)
            return fail(fmt::format("record {} at byte {} is truncated: its block is {} bytes", number, at, length));
        for (uint32_t &f : fields) f = host_order(f);
        const uint32_t interface_id = fields[0], captured = fields[3];
        if (interface_id >= interfaces_.size())
            return fail(fmt::format("record {} at byte {}: interface {} has no description before it ({} described)", number, at,
                                    interface_id, interfaces_.size()));
        const Interface &interface = interfaces_[interface_id];
        snap_len_ = interface.snap_len;
        if (snap_len_ != 0 && captured > snap_len_)
            return fail(fmt::format("record {} at byte {} claims {} captured bytes, more than its interface's snap length {}", number, at,
                                    captured, snap_len_));
        if (captured > kMaxFrameBytes)
            return fail(fmt::format("record {} at byte {} claims {} captured bytes, more than the largest frame linkem reads ({})", number,
                                    at, captured, kMaxFrameBytes));
        if (32 + padded4(captured) > length)
            return fail(fmt::format("record {} at byte {} claims {} captured bytes, more than its {}-byte block holds", number, at,
                                    captured, length));
        const u128 ticks = (u128{fields[1]} << 32) | fields[2];
        const u128 ns = ticks * 1'000'000'000 / interface.units_per_second;
        if (ns > UINT64_MAX) return fail(fmt::format("record {} at byte {}: its timestamp is beyond the year 2554", number, at));
        record->time_ns = static_cast<uint64_t>(ns);
        record->original_len = fields[4];
        record->bytes.resize(captured);
        if (read_some(in_, record->bytes.data(), captured) < captured)
            return fail(fmt::format("record {} at byte {} is truncated: its block is {} bytes", number, at, length));
        const uint64_t rest = length - 28 - captured - 4;  // padding and options
        in_.ignore(static_cast<std::streamsize>(rest));
        uint32_t trailing = 0;
        if (static_cast<uint64_t>(in_.gcount()) < rest || !trailing_matches(&trailing))
            return fail(fmt::format("record {} at byte {} is truncated: its block is {} bytes", number, at, length));
        if (trailing != length)
            return fail(
                fmt::format("record {} at byte {}: its trailing length {} differs from its length {}", number, at, trailing, length));
        offset_ = at + length;
        records_ = number;
        return Next::kRecord;
    }
}

}  // namespace linkem
