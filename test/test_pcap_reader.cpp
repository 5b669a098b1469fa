// [unit][pcap] PcapReader on pcapng captures, built byte by byte here: both
// byte orders, timestamp resolutions, several interfaces and sections,
// skipped blocks, and every malformation named with its byte offset.
#include "linkem/pcap_reader.hpp"

#include <catch2/catch.hpp>

#include <cstdint>
#include <cstring>
#include <sstream>
#include <string>
#include <vector>

using linkem::PcapReader;

namespace {

// A pcapng file under construction, in little or big endian.
class Pcapng {
  public:
    explicit Pcapng(bool big_endian) : big_(big_endian) {}

    Pcapng &section() {
        std::string body = u32(0x1a2b3c4d) + u16(1) + u16(0) + u64(UINT64_MAX);  // section length: unknown
        return block(0x0a0d0d0a, body);
    }
    // tsresol: the if_tsresol byte, or -1 for none (microseconds).
    Pcapng &interface(uint16_t link_type, uint32_t snap_len, int tsresol) {
        std::string body = u16(link_type) + u16(0) + u32(snap_len);
        body += u16(2) + u16(4) + "eth0";  // if_name, an option before the resolution
        if (tsresol >= 0) body += u16(9) + u16(1) + std::string(1, static_cast<char>(tsresol)) + std::string(3, '\0');
        body += u16(0) + u16(0);
        return block(1, body);
    }
    Pcapng &packet(uint32_t interface_id, uint64_t ticks, const std::string &frame, uint32_t claimed_len = UINT32_MAX) {
        const uint32_t captured = claimed_len == UINT32_MAX ? static_cast<uint32_t>(frame.size()) : claimed_len;
        std::string body = u32(interface_id) + u32(static_cast<uint32_t>(ticks >> 32)) + u32(static_cast<uint32_t>(ticks)) + u32(captured) +
                           u32(static_cast<uint32_t>(frame.size()));
        body += frame + std::string((4 - frame.size() % 4) % 4, '\0');
        return block(6, body);
    }
    Pcapng &statistics() { return block(5, u32(0) + u32(0) + u32(0) + u16(0) + u16(0)); }
    Pcapng &raw(const std::string &bytes) {
        data_ += bytes;
        return *this;
    }
    Pcapng &block(uint32_t type, const std::string &body) {
        const uint32_t length = static_cast<uint32_t>(12 + body.size());
        data_ += u32(type) + u32(length) + body + u32(length);
        return *this;
    }
    const std::string &bytes() const { return data_; }
    std::string u16(uint16_t v) const { return big_ ? std::string{char(v >> 8), char(v)} : std::string{char(v), char(v >> 8)}; }
    std::string u32(uint32_t v) const {
        return big_ ? u16(uint16_t(v >> 16)) + u16(uint16_t(v)) : u16(uint16_t(v)) + u16(uint16_t(v >> 16));
    }
    std::string u64(uint64_t v) const {
        return big_ ? u32(uint32_t(v >> 32)) + u32(uint32_t(v)) : u32(uint32_t(v)) + u32(uint32_t(v >> 32));
    }

  private:
    bool big_;
    std::string data_;
};

struct ReadAll {
    std::vector<PcapReader::Record> records;
    bool opened = false, ended_cleanly = false;
    std::string error;
};

ReadAll read_all(const std::string &bytes) {
    std::istringstream in(bytes);
    PcapReader reader(in, "t.pcapng");
    ReadAll r;
    r.opened = reader.open();
    if (!r.opened) {
        r.error = reader.error();
        return r;
    }
    PcapReader::Record record;
    for (;;) {
        const PcapReader::Next next = reader.next(&record);
        if (next == PcapReader::Next::kEnd) {
            r.ended_cleanly = reader.bytes_read() == bytes.size();
            break;
        }
        if (next == PcapReader::Next::kError) {
            r.error = reader.error();
            break;
        }
        r.records.push_back(record);
    }
    return r;
}

const std::string kFrameA(60, 'a'), kFrameB(61, 'b');

}  // namespace

TEST_CASE("pcapng: records with their interface's timestamp resolution, in either byte order", "[unit][pcap]") {
    for (const bool big : {false, true}) {
        INFO("big endian: " << big);
        Pcapng f(big);
        f.section().interface(1, 65535, -1).interface(1, 0, 9).statistics();  // interface 0: microseconds, 1: nanoseconds
        f.packet(0, 1'700'000'000'123'456ULL, kFrameA).packet(1, 1'700'000'000'123'456'789ULL, kFrameB);
        const ReadAll r = read_all(f.bytes());
        REQUIRE(r.error.empty());
        REQUIRE(r.records.size() == 2);
        CHECK(r.ended_cleanly);
        CHECK(r.records[0].time_ns == 1'700'000'000'123'456'000ULL);
        CHECK(r.records[0].bytes == kFrameA);
        CHECK(r.records[1].time_ns == 1'700'000'000'123'456'789ULL);
        CHECK(r.records[1].bytes == kFrameB);  // 61 bytes: padded to 64 in the block
        CHECK(r.records[1].original_len == 61);
    }
}

TEST_CASE("pcapng: a power-of-two resolution, and a second section that starts its interfaces again", "[unit][pcap]") {
    Pcapng f(false);
    f.section().interface(1, 0, 0x80 | 20).packet(0, uint64_t{3} << 20, kFrameA);  // 2^-20 s ticks: 3 s
    Pcapng g(true);                                                                // the second section in the other byte order
    g.section().interface(1, 0, 3).packet(0, 4500, kFrameB);                       // ms: 4.5 s
    const ReadAll r = read_all(f.bytes() + g.bytes());
    REQUIRE(r.error.empty());
    REQUIRE(r.records.size() == 2);
    CHECK(r.records[0].time_ns == 3'000'000'000ULL);
    CHECK(r.records[1].time_ns == 4'500'000'000ULL);
    CHECK(r.ended_cleanly);
}

TEST_CASE("pcapng: every malformation is named with its byte offset", "[unit][pcap]") {
    const auto error_of = [](const std::string &bytes) {
        const ReadAll r = read_all(bytes);
        return r.error;
    };
    Pcapng head(false);
    head.section().interface(1, 100, 9);
    const std::string start = head.bytes();  // 28 + 40 bytes: the first record is at byte 68
    REQUIRE(start.size() == 68);

    CHECK_THAT(error_of(Pcapng(false).section().interface(101, 0, -1).bytes()),
               Catch::Contains("interface 0 at byte 28: link type 101 is not Ethernet"));
    CHECK_THAT(error_of(Pcapng(head).packet(1, 0, kFrameA).bytes()),
               Catch::Contains("record 1 at byte 68: interface 1 has no description before it (1 described)"));
    CHECK_THAT(error_of(Pcapng(head).packet(0, 0, std::string(101, 'x')).bytes()),
               Catch::Contains("record 1 at byte 68 claims 101 captured bytes, more than its interface's snap length 100"));
    CHECK_THAT(error_of(Pcapng(head).packet(0, 0, kFrameA, 96).bytes()),
               Catch::Contains("record 1 at byte 68 claims 96 captured bytes, more than its 92-byte block holds"));
    const std::string whole = Pcapng(head).packet(0, 0, kFrameA).bytes();
    CHECK_THAT(error_of(whole.substr(0, whole.size() - 1)), Catch::Contains("record 1 at byte 68 is truncated"));
    CHECK_THAT(error_of(whole.substr(0, 72)), Catch::Contains("block at byte 68 is truncated: 4 of its 8 header bytes"));
    std::string wrong_trailer = whole;
    wrong_trailer[wrong_trailer.size() - 4] = 'X';
    CHECK_THAT(error_of(wrong_trailer), Catch::Contains("record 1 at byte 68: its trailing length"));
    CHECK_THAT(error_of(Pcapng(head).raw(head.u32(6) + head.u32(30)).bytes()),
               Catch::Contains("block at byte 68 (type 6): length 30 is not a multiple of 4"));
    CHECK_THAT(error_of(Pcapng(head).block(3, head.u32(60) + kFrameA).bytes()),
               Catch::Contains("block at byte 68: a simple packet block, which linkem does not read (it carries no timestamp)"));
    CHECK_THAT(error_of(Pcapng(false).section().interface(1, 0, 20).bytes() + Pcapng(false).packet(0, 0, kFrameA).bytes()),
               Catch::Contains("timestamp resolution 0x14 is finer than linkem reads"));
    std::string bad_magic = Pcapng(false).section().bytes();
    bad_magic[8] = 0;
    CHECK_THAT(error_of(bad_magic), Catch::Contains("pcapng section header at byte 0: byte-order magic"));
    // A huge unknown block is skipped without allocating for it; cut short, it is named.
    CHECK_THAT(error_of(Pcapng(head).raw(head.u32(0x40000000) + head.u32(1u << 30)).bytes()),
               Catch::Contains("block at byte 68 (type 1073741824) is truncated"));
}
