// The seed a run uses. `seed: random` draws one when the run starts; linkem and
// linkem-sim both print it, so the run can be repeated with `seed: N` or --seed N.
#pragma once

#include "linkem/config.hpp"

#include <cstdint>
#include <random>

namespace linkem {

inline uint64_t resolve_seed(const Config &config) {
    if (!config.seed_random) return config.seed;
    std::random_device device;
    return (uint64_t{device()} << 32) | device();
}

}  // namespace linkem
