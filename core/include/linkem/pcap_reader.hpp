// Reading a pcap capture, one record at a time, defensively.
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
// pcapng is recognised and refused with a hint (editcap -F pcap).
//
// No DPDK types; the same reader serves linkem-sim and the fuzzer
// (test/fuzz_pcap.cpp).
#pragma once

#include <cstdint>
#include <istream>
#include <string>

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
    uint32_t snap_len() const { return snap_len_; }
    bool nanosecond() const { return fraction_ns_ == 1; }
    uint64_t records_read() const { return records_; }

  private:
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
};

}  // namespace linkem
