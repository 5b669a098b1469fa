// libFuzzer target: PcapReader on arbitrary bytes must never crash, hang or
// allocate more than a record's checked length, and it must hold its
// promises: every record it returns is at most the snap length and
// kMaxFrameBytes long, an error always says why and where, and the records
// end either cleanly or with an error. Built and run by tools/fuzz.sh.
// fuzz-sources: core/pcap_reader.cpp
// fuzz-libs: fmt
// fuzz-args: -max_len=4096
#include "linkem/pcap_reader.hpp"

#include <cstdint>
#include <cstdlib>
#include <sstream>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    std::istringstream in(std::string(reinterpret_cast<const char *>(data), size));
    linkem::PcapReader reader(in, "fuzz.pcap");
    if (!reader.open()) {
        if (reader.error().empty()) std::abort();
        return 0;
    }
    linkem::PcapReader::Record record;
    for (;;) {
        const linkem::PcapReader::Next next = reader.next(&record);
        if (next == linkem::PcapReader::Next::kEnd) {
            if (reader.bytes_read() != size) std::abort();  // a clean end consumed the whole input
            break;
        }
        if (next == linkem::PcapReader::Next::kError) {
            if (reader.error().find(" at byte ") == std::string::npos) std::abort();
            break;
        }
        if (record.bytes.size() > linkem::PcapReader::kMaxFrameBytes) std::abort();
        if (reader.snap_len() != 0 && record.bytes.size() > reader.snap_len()) std::abort();
    }
    return 0;
}
