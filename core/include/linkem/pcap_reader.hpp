// Reading a pcap or pcapng capture, one record at a time, defensively.
//
// A capture is untrusted input: every length it states is checked before
// anything is allocated or read, and every way it can be malformed is an error
// that names the record and its byte offset in the file. Nothing is silently
// skipped: a truncated last record is an error, not the end of the capture.
//
// Accepted: the classic pcap format (microsecond magic 0xa1b2c3d4 and
// nanosecond magic 0xa1b23c4d, either byte order), link type Ethernet (1).
// Checked for every record, in this order:
//   - its 16-byte header is complete (a partial header: "truncated");
//   - the sub-second field is below one second in the file's unit;
//   - the captured length is at most the snap length (when the file states
//     one) and at most kMaxFrameBytes, before a byte is allocated for it;
//   - its captured bytes are all there (else "truncated").
// pcapng (what dpdk-dumpcap and Wireshark write) is read too, either byte
// order, several sections: its blocks are walked by their stated lengths
// (each checked: at least 12, a multiple of 4, the trailing copy equal, the
// whole block present); interface description blocks give each interface's
// link type (Ethernet only), snap length and timestamp resolution
// (if_tsresol, 10^-n or 2^-n s; default microseconds); enhanced packet
// blocks are records, checked as above plus their interface id and that the
// captured bytes fit in the block; obsolete and simple packet blocks are
// refused (no interface or no timestamp); every other block is skipped.
// Errors name the block's byte offset.
//
// No DPDK types; the same reader serves linkem-sim and the fuzzer
// (test/fuzz_pcap.cpp).
#pragma once

#include <cstdint>
#include <istream>
#include <string>
#include <vector>

namespace linkem {

class PcapReader {
  public:
    // The largest captured length accepted: libpcap's own limit for Ethernet.
    static constexpr uint32_t kMaxFrameBytes = 262144;

    struct Record {
        uint64_t time_ns = 0;       // the record's timestamp, in ns since the Unix epoch
        uint32_t original_len = 0;  // the frame's length on the wire, as recorded
        std::string bytes;          // the captured bytes (captured length of them)
    };

    enum class Next { kRecord, kEnd, kError };

    // `name` is used in error messages only (a file's path).
    PcapReader(std::istream &in, std::string name);

    // Reads the file header. false: error() says why.
    bool open();
    // The next record into *record. kEnd: the capture ended cleanly after a
    // whole record; kError: error() says what and where.
    Next next(Record *record);

    const std::string &error() const { return error_; }
    // The snap length of the file (pcap) or of the last record's interface (pcapng); 0: none.
    uint32_t snap_len() const { return snap_len_; }
    bool nanosecond() const { return fraction_ns_ == 1; }
    uint64_t records_read() const { return records_; }
    bool pcapng() const { return pcapng_; }
    // Bytes of the input consumed by whole blocks or records so far.
    uint64_t bytes_read() const { return offset_; }

  private:
    // pcapng: one interface of the current section.
    struct Interface {
        uint32_t snap_len = 0;
        uint64_t units_per_second = 1'000'000;  // if_tsresol
    };
    Next next_pcapng(Record *record);
    bool read_section_header(uint64_t at, uint32_t raw_length);
    Next fail(std::string message);
    bool refuse(std::string message);
    uint32_t host_order(uint32_t v) const { return swapped_ ? __builtin_bswap32(v) : v; }

    std::istream &in_;
    std::string name_;
    std::string error_;
    bool swapped_ = false;
    uint64_t fraction_ns_ = 1000;  // ns per sub-second unit: 1000 (us) or 1 (ns)
    uint32_t snap_len_ = 0;
    uint64_t offset_ = 0;  // byte offset of the next record header
    uint64_t records_ = 0;
    bool pcapng_ = false;
    std::vector<Interface> interfaces_;  // pcapng: the current section's, by id
};

}  // namespace linkem
