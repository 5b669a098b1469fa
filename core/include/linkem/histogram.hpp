// A log-linear histogram of nanosecond values (HDR-style): exact below 16,
// then 16 buckets per power of two, so a percentile is within 1/16 (6.25%) of
// the true value. Recording is a few instructions and no allocation; one
// writer; readers copy it when the writer is stopped or accept a torn view.
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>

namespace linkem {

class Histogram {
  public:
    static constexpr int kSubBits = 4;
    static constexpr int kBuckets = (64 - kSubBits + 1) << kSubBits;

    void record(uint64_t value) {
        record_in_burst(value);
        sum_ += value;
    }
    // The data path's form: the value without its sum, which the caller adds
    // once per burst with add_sum() (an add per packet into the histogram's
    // sum measured 3-5% of bench rows (b) and (d); docs/DECISIONS.md).
    void record_in_burst(uint64_t value) {
        ++counts_[bucket_of(value)];
        ++total_;
        if (value > max_) max_ = value;
    }
    void add_sum(uint64_t burst_sum) { sum_ += burst_sum; }

    uint64_t total() const { return total_; }
    uint64_t max() const { return max_; }
    // The sum of the values recorded (the Prometheus export's _sum), kept in
    // 128 bits so that it never wraps. A reader on another thread may see it
    // torn at the moment it crosses 2^64 (after about 17 hours of 10 ms at
    // 30 Mpps): the export is a monitoring figure, not the accounting.
    double sum() const { return static_cast<double>(sum_); }
    uint64_t count(int bucket) const { return counts_[static_cast<size_t>(bucket)]; }

    // The smallest bucket bound with at least q of the values at or below it
    // (q in [0, 1]); 0 when empty. Never above max().
    uint64_t percentile(double q) const {
        if (total_ == 0) return 0;
        const double wanted = q * static_cast<double>(total_);
        uint64_t seen = 0;
        for (int b = 0; b < kBuckets; ++b) {
            seen += counts_[static_cast<size_t>(b)];
            if (seen > 0 && static_cast<double>(seen) >= wanted) {
                const uint64_t upper = upper_bound(b);
                return upper < max_ ? upper : max_;
            }
        }
        return max_;
    }

    // Takes out the values of `removed` (each recorded here before) and records
    // those of `added`. The maximum stays exact when it did not come from
    // `removed`; otherwise it becomes the bound of the highest bucket left
    // (within 1/16, as a percentile) or added's maximum, whichever is larger.
    void replace(const Histogram &removed, const Histogram &added) {
        if (removed.total_ != 0) {
            for (size_t b = 0; b < counts_.size(); ++b) counts_[b] -= removed.counts_[b];
            total_ -= removed.total_;
            sum_ -= removed.sum_;
            if (removed.max_ == max_) {
                max_ = 0;
                for (int b = kBuckets - 1; b >= 0; --b)
                    if (counts_[static_cast<size_t>(b)] != 0) {
                        max_ = std::min(upper_bound(b), removed.max_);
                        break;
                    }
            }
        }
        for (size_t b = 0; b < counts_.size(); ++b) counts_[b] += added.counts_[b];
        total_ += added.total_;
        sum_ += added.sum_;
        if (added.max_ > max_) max_ = added.max_;
    }

    static int bucket_of(uint64_t v) {
        if (v < (1u << kSubBits)) return static_cast<int>(v);
        const int msb = 63 - std::countl_zero(v);
        const int shift = msb - kSubBits;
        return ((shift + 1) << kSubBits) + static_cast<int>((v >> shift) & ((1u << kSubBits) - 1));
    }
    // The largest value that falls in bucket b.
    static uint64_t upper_bound(int b) {
        if (b < (1 << kSubBits)) return static_cast<uint64_t>(b);
        const int shift = (b >> kSubBits) - 1;
        const uint64_t mantissa = (uint64_t{1} << kSubBits) | static_cast<uint64_t>(b & ((1 << kSubBits) - 1));
        return ((mantissa + 1) << shift) - 1;
    }

  private:
    std::array<uint64_t, kBuckets> counts_{};
    uint64_t total_ = 0;
    uint64_t max_ = 0;
    __extension__ unsigned __int128 sum_ = 0;
};

}  // namespace linkem
