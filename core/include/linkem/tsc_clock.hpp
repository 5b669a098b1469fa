// TSC cycles -> nanoseconds since an epoch taken at start, by one multiply and
// shift (no division on the data path). Pure: the frequency is given, so the
// arithmetic is testable without a TSC.
#pragma once

#include <cstdint>

namespace linkem {

class TscClock {
  public:
    TscClock(uint64_t tsc_hz, uint64_t epoch_tsc)
        : epoch_tsc_(epoch_tsc), ns_per_tsc_q32_(((uint64_t{1'000'000'000} << 32) + tsc_hz / 2) / tsc_hz), tsc_hz_(tsc_hz) {}

    uint64_t to_ns(uint64_t tsc) const {
        __extension__ using u128 = unsigned __int128;
        return static_cast<uint64_t>((static_cast<u128>(tsc - epoch_tsc_) * ns_per_tsc_q32_ + (u128{1} << 31)) >> 32);  // rounded
    }
    uint64_t to_tsc(uint64_t ns) const {
        __extension__ using u128 = unsigned __int128;
        return epoch_tsc_ + static_cast<uint64_t>(static_cast<u128>(ns) * tsc_hz_ / 1'000'000'000u);
    }

  private:
    uint64_t epoch_tsc_;
    uint64_t ns_per_tsc_q32_;  // ns per cycle in 32.32 fixed point
    uint64_t tsc_hz_;
};

}  // namespace linkem
