// The seed a run uses, and the one function that derives every random stream
// from it.
//
// `seed: random` draws one when the run starts; linkem and linkem-sim both
// print it, so the run can be repeated with `seed: N` or --seed N.
//
// Random streams. Every random decision of a run draws from a stream of its
// own, named by (the run's seed, a link's name, a purpose), and derived by
// stream_seed() alone:
//
//   stream_seed(seed, name, purpose) =
//       splitmix(splitmix(seed, fnv1a64(name)), purpose)
//   splitmix(s, salt): z = s + (salt + 1) * 0x9E3779B97F4A7C15, then
//       z = (z ^ z >> 30) * 0xBF58476D1CE4E5B9; z = (z ^ z >> 27) * 0x94D049BB133111EB;
//       z ^ z >> 31                               (mix_seed, link_model.hpp)
//   fnv1a64(name): h = 0xCBF29CE484222325; for each byte b: h = (h ^ b) * 0x100000001B3
//
// and an xoshiro256** generator (lkm_rng) seeded from it by stream_rng():
// s[i] = splitmix(stream_seed, i) for i = 0..3. All of it is fixed-width
// integer arithmetic: the same streams on every compiler, standard library
// and machine (no std::hash, whose values differ between libraries).
//
// The name is the link's (a per-flow template's instances are "name#k", its
// aggregate "name/aggregate"); the purposes are listed in Stream, one value
// each, never reused. A model instance's stream is (seed, link, its kind):
// the plugin sees it as lkm_create_args.rng.
#pragma once

#include "linkem/config.hpp"
#include "linkem/link_model.hpp"

#include <linkem/plugin.h>

#include <cstdint>
#include <random>
#include <string_view>

namespace linkem {

inline uint64_t resolve_seed(const Config &config) {
    if (!config.seed_random) return config.seed;
    std::random_device device;
    return (uint64_t{device()} << 32) | device();
}

// What a stream is for. The values are part of the derivation: never change one.
enum class Stream : uint64_t {
    kLoss = LKM_KIND_LOSS,            // the loss model's instance (1)
    kDelay = LKM_KIND_DELAY,          // the delay model's instance (2)
    kBandwidth = LKM_KIND_BANDWIDTH,  // the bandwidth model's instance (3)
    kQueue = LKM_KIND_QUEUE,          // the queue discipline's instance (4)
    kMangle = 0x6d616e67,             // "mang": duplicate, truncate, reorder draws
    kCorrupt = 0x636f7272,            // "corr": which packets are corrupted, and where
};

// FNV-1a, 64 bits, over the bytes of text.
constexpr uint64_t fnv1a64(std::string_view text) {
    uint64_t h = 0xCBF29CE484222325ULL;
    for (char c : text) h = (h ^ static_cast<unsigned char>(c)) * 0x100000001B3ULL;
    return h;
}

// The seed of the stream (seed, name, purpose); see above.
inline uint64_t stream_seed(uint64_t seed, std::string_view name, Stream purpose) {
    return mix_seed(mix_seed(seed, fnv1a64(name)), static_cast<uint64_t>(purpose));
}

// The xoshiro256** state of that stream.
inline lkm_rng stream_rng(uint64_t seed, std::string_view name, Stream purpose) {
    const uint64_t stream = stream_seed(seed, name, purpose);
    lkm_rng rng;
    for (uint64_t i = 0; i < 4; ++i) rng.s[i] = mix_seed(stream, i);
    return rng;
}

}  // namespace linkem
