// [queue] The built-in queue disciplines (plugins/queue/: codel, pie, red),
// loaded from build/plugins/ and driven through their descriptors alone, as
// a host would call them (enqueue at arrival, dequeue when the link is free
// and a packet is the head; after a DROP at dequeue, dequeue again at the same
// instant with the next head). No linkem host is involved: each test plays
// the host and chooses the instants, sojourn times and backlogs.
//
// CoDel's control law is checked bit for bit against ns-3 3.37's own
// CoDelQueueDisc::NewtonStep and ControlLaw (the tables below are the output
// of tools/ns3/codel_control_law.cc, which calls them), after ns-3's
// codel-queue-disc-test-suite (its Newton-step and control-law cases), and
// the drop instants against a reimplementation of the arithmetic written
// here. Statistical checks (PIE, RED) use fixed seeds and state their
// tolerances.
// codel_math.h is C (the plugin's own arithmetic): its casts are C casts.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wold-style-cast"
#include "../plugins/queue/codel_math.h"
#pragma GCC diagnostic pop

#include <linkem/plugin.h>

#include <catch2/catch.hpp>
#include <dlfcn.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

namespace {

constexpr uint64_t kMs = 1'000'000;
__extension__ typedef unsigned __int128 u128;  // GCC's and Clang's, for exact products

// ---- A minimal host: parameters, create(), and the two callbacks. ----

struct Param {
    enum Type { kDuration, kSize, kNumber, kProbability, kString } type = kNumber;
    uint64_t u = 0;
    double d = 0;
    std::string s;
};
using Params = std::map<std::string, Param>;
Param dur(uint64_t ns) { return {Param::kDuration, ns, 0, {}}; }
Param bytes(uint64_t b) { return {Param::kSize, b, 0, {}}; }
Param num(double x) { return {Param::kNumber, 0, x, {}}; }
Param prob(double x) { return {Param::kProbability, 0, x, {}}; }
Param str(const std::string &s) { return {Param::kString, 0, 0, s}; }

struct CreateContext {
    lkm_create_args args{};
    const Params *params = nullptr;
    std::vector<std::string> failures;
};

const CreateContext &ctx(const lkm_create_args *a) { return *reinterpret_cast<const CreateContext *>(a); }

const Param *find(const lkm_create_args *a, const char *key, Param::Type type, int *rc) {
    const auto it = ctx(a).params->find(key);
    if (it == ctx(a).params->end()) {
        *rc = LKM_ABSENT;
        return nullptr;
    }
    *rc = it->second.type == type ? LKM_OK : LKM_INVALID;
    return *rc == LKM_OK ? &it->second : nullptr;
}

uint32_t host_count(const lkm_create_args *a, const char *key) { return ctx(a).params->count(key) ? 1 : 0; }
int host_number(const lkm_create_args *a, const char *key, uint32_t, double *out) {
    int rc;
    if (const Param *p = find(a, key, Param::kNumber, &rc)) *out = p->d;
    return rc;
}
int host_probability(const lkm_create_args *a, const char *key, uint32_t, double *out) {
    int rc;
    if (const Param *p = find(a, key, Param::kProbability, &rc)) *out = p->d;
    return rc;
}
int host_duration(const lkm_create_args *a, const char *key, uint32_t, uint64_t *out) {
    int rc;
    if (const Param *p = find(a, key, Param::kDuration, &rc)) *out = p->u;
    return rc;
}
int host_size(const lkm_create_args *a, const char *key, uint32_t, uint64_t *out) {
    int rc;
    if (const Param *p = find(a, key, Param::kSize, &rc)) *out = p->u;
    return rc;
}
int host_rate(const lkm_create_args *, const char *, uint32_t, uint64_t *) { return LKM_ABSENT; }
int host_string(const lkm_create_args *a, const char *key, uint32_t, const char **out) {
    int rc;
    if (const Param *p = find(a, key, Param::kString, &rc)) *out = p->s.c_str();
    return rc;
}
void host_fail(const lkm_create_args *a, const char *key, const char *message) {
    const_cast<CreateContext &>(ctx(a)).failures.push_back(std::string(key ? key : "-") + ": " + message);
}

const lkm_model *load(const std::string &name) {
    static std::map<std::string, const lkm_model *> loaded;
    if (const auto it = loaded.find(name); it != loaded.end()) return it->second;
    const char *dir = std::getenv("LINKEM_PLUGIN_DIR");
    REQUIRE(dir != nullptr);
    const std::string file = std::string(dir) + "/lkm_queue_" + name + ".so";
    void *handle = dlopen(file.c_str(), RTLD_NOW | RTLD_LOCAL);  // kept open for the process's life
    INFO(file << ": " << (handle ? "" : dlerror()));
    REQUIRE(handle != nullptr);
    const auto *model = static_cast<const lkm_model *>(dlsym(handle, LKM_ENTRY_SYMBOL));
    REQUIRE(model != nullptr);
    REQUIRE(model->kind == LKM_KIND_QUEUE);
    REQUIRE(model->enqueue != nullptr);
    REQUIRE(model->dequeue != nullptr);
    REQUIRE(model->loss_burst == nullptr);
    REQUIRE(model->delay_burst == nullptr);
    REQUIRE(model->finish_ns == nullptr);
    REQUIRE(name == model->name);
    loaded[name] = model;
    return model;
}

lkm_rng seeded(uint64_t seed) {
    lkm_rng r;
    for (uint64_t &w : r.s) {  // splitmix64
        uint64_t z = (seed += 0x9E3779B97F4A7C15ULL);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
        w = z ^ (z >> 31);
    }
    return r;
}

struct Link {
    uint64_t rate_bps = 0;
    uint32_t overhead = 0;
};

class Disc {
  public:
    Disc(const std::string &name, const Params &params = {}, uint64_t seed = 1, Link link = {}) : model_(load(name)) {
        ctx_.params = &params;
        lkm_create_args &a = ctx_.args;
        a.struct_size = sizeof(lkm_create_args);
        a.abi_version = LKM_ABI_VERSION;
        a.link_name = "test";
        a.rng = seeded(seed);
        a.count = host_count;
        a.number = host_number;
        a.duration_ns = host_duration;
        a.rate_bps = host_rate;
        a.size_bytes = host_size;
        a.probability = host_probability;
        a.string = host_string;
        a.path = host_string;
        a.fail = host_fail;
        a.link_rate_bps = link.rate_bps;
        a.overhead_bytes = link.overhead;
        a.max_burst = 512;
        rc_ = model_->create(&ctx_.args, &state_);
        if (rc_ == 0) REQUIRE(state_ != nullptr);
    }
    ~Disc() { model_->destroy(state_); }
    Disc(const Disc &) = delete;
    Disc &operator=(const Disc &) = delete;

    int rc() const { return rc_; }
    const std::vector<std::string> &failures() const { return ctx_.failures; }
    void *state() { return state_; }
    const lkm_model *model() const { return model_; }

    uint32_t enqueue(uint64_t now, uint64_t backlog_packets, uint64_t backlog_bytes, bool ecn = false, uint32_t wire = 1000,
                     uint64_t rate = 0) {
        const lkm_queue_pkt p = pkt(now, wire, ecn);
        const lkm_queue_state q{now, backlog_packets, backlog_bytes, rate};
        return model_->enqueue(state_, &p, &q);
    }
    // The head, which arrived at `arrival`, would start now; backlog_bytes wait behind it.
    uint32_t dequeue(uint64_t now, uint64_t arrival, uint64_t backlog_bytes, bool ecn = false) {
        const lkm_queue_pkt p = pkt(arrival, 1000, ecn);
        const lkm_queue_state q{now, backlog_bytes / 1000, backlog_bytes, 0};
        return model_->dequeue(state_, &p, &q);
    }
    void empty(uint64_t now) {
        const lkm_queue_state q{now, 0, 0, 0};
        (void)model_->dequeue(state_, nullptr, &q);
    }
    template <typename Ext>
    const Ext *extension(const char *id) const {
        return static_cast<const Ext *>(model_->get_extension(id));
    }

  private:
    static lkm_queue_pkt pkt(uint64_t arrival, uint32_t wire, bool ecn) {
        lkm_queue_pkt p{};
        p.arrival_ns = arrival;
        p.len_bytes = wire;
        p.wire_bytes = wire;
        p.ecn_capable = ecn ? 1 : 0;
        return p;
    }
    const lkm_model *model_;
    CreateContext ctx_;
    void *state_ = nullptr;
    int rc_ = -1;
};

// ---- CoDel's control law: reference values and an independent computation. ----

// ns-3 3.37's CoDelQueueDisc::NewtonStep walked as a dropping state walks it:
// count 1 with 0xffff, then one step per count (tools/ns3/codel_control_law.cc).
const uint16_t kNs3RecInvSqrt[64] = {65535, 32769, 36864, 31968, 28935, 26481, 24588, 23037, 21746, 20647, 19699, 18869, 18136,
                                     17481, 16893, 16360, 15874, 15429, 15019, 14640, 14288, 13961, 13655, 13368, 13099, 12845,
                                     12605, 12379, 12164, 11960, 11766, 11580, 11404, 11235, 11074, 10919, 10771, 10628, 10491,
                                     10359, 10232, 10110, 9992,  9878,  9767,  9661,  9557,  9457,  9360,  9266,  9175,  9086,
                                     9000,  8917,  8835,  8756,  8679,  8604,  8531,  8459,  8390,  8322,  8255,  8191};
// ns-3's ControlLaw(0, 100ms in its 1024 ns units, rec) for the counts above.
const uint32_t kNs3Spacing100ms[64] = {97654, 48829, 54931, 47635, 43116, 39459, 36638, 34327, 32403, 30766, 29353, 28116, 27024,
                                       26048, 25172, 24378, 23654, 22990, 22379, 21815, 21290, 20803, 20347, 19919, 19518, 19140,
                                       18782, 18446, 18125, 17821, 17532, 17255, 16993, 16741, 16501, 16270, 16049, 15836, 15632,
                                       15436, 15246, 15065, 14889, 14719, 14553, 14395, 14241, 14091, 13947, 13807, 13671, 13539,
                                       13411, 13287, 13165, 13047, 12932, 12820, 12712, 12604, 12502, 12400, 12300, 12205};
// Single steps {rec, count, ns-3's result}, including counts far from rec's,
// where the 64-bit intermediate wraps (ns-3 and Linux wrap the same way).
const uint32_t kNs3Steps[][3] = {
    {65535, 1, 65535},    {65535, 2, 32769},    {65535, 3, 2},        {65535, 4, 32772},    {65535, 10, 32781},   {65535, 100, 32916},
    {65535, 1000, 34266}, {49152, 1, 59904},    {49152, 2, 46080},    {49152, 3, 32256},    {49152, 4, 18432},    {49152, 10, 1024},
    {49152, 100, 2048},   {49152, 1000, 12288}, {32768, 1, 45056},    {32768, 2, 40960},    {32768, 3, 36864},    {32768, 4, 32768},
    {32768, 10, 8192},    {32768, 100, 32768},  {32768, 1000, 16384}, {23170, 1, 33306},    {23170, 2, 31858},    {23170, 3, 30410},
    {23170, 4, 28962},    {23170, 10, 20274},   {23170, 100, 21020},  {23170, 1000, 28481}, {16384, 1, 24064},    {16384, 2, 23552},
    {16384, 3, 23040},    {16384, 4, 22528},    {16384, 10, 19456},   {16384, 100, 38912},  {16384, 1000, 36864}, {8192, 1, 12224},
    {8192, 2, 12160},     {8192, 3, 12096},     {8192, 4, 12032},     {8192, 10, 11648},    {8192, 100, 5888},    {8192, 1000, 13824},
    {4096, 1, 6136},      {4096, 2, 6128},      {4096, 3, 6120},      {4096, 4, 6112},      {4096, 10, 6064},     {4096, 100, 5344},
    {4096, 1000, 63680}};

// The Newton step x (3 - count x^2) / 2 written again here, in 128-bit
// arithmetic, for the operating range (where count x^2 < 3: no wrap).
uint16_t newton_here(uint16_t rec, uint32_t count) {
    const u128 x = u128{rec} << 16;                               // x * 2^32
    const u128 x2 = (x * x) >> 32;                                // x^2 * 2^32, truncated as Linux truncates
    const u128 three_minus = (u128{3} << 32) - u128{count} * x2;  // (3 - count x^2) * 2^32
    const u128 y = ((three_minus >> 2) * x) >> 31;                // x (3 - count x^2) / 2 * 2^32
    return static_cast<uint16_t>(y >> 16);
}
// interval * rec / 2^16 in ns, as reciprocal_scale(interval, rec << 16).
uint64_t spacing_here(uint64_t interval_ns, uint16_t rec) {
    return static_cast<uint64_t>((u128{interval_ns} * (uint64_t{rec} << 16)) >> 32);
}

}  // namespace

// ===================================== CoDel =====================================

TEST_CASE("codel: Newton steps are ns-3's, bit for bit", "[unit][queue][codel]") {
    uint16_t rec = CODEL_REC_INV_SQRT_ONE;
    for (uint32_t count = 1; count <= 64; ++count) {
        if (count > 1) rec = codel_newton_step(rec, count);
        INFO("count " << count);
        CHECK(rec == kNs3RecInvSqrt[count - 1]);
        if (count > 1) CHECK(newton_here(kNs3RecInvSqrt[count - 2], count) == kNs3RecInvSqrt[count - 1]);
    }
    for (const auto &s : kNs3Steps) {
        INFO("rec " << s[0] << ", count " << s[1]);
        CHECK(codel_newton_step(static_cast<uint16_t>(s[0]), s[1]) == s[2]);
    }
}

TEST_CASE("codel: the control law is interval / sqrt(count) in fixed point, as ns-3's", "[unit][queue][codel]") {
    for (uint32_t count = 1; count <= 64; ++count) {
        const uint16_t rec = kNs3RecInvSqrt[count - 1];
        const uint64_t spacing = codel_spacing_ns(100 * kMs, rec);
        INFO("count " << count << ": spacing " << spacing << " ns");
        CHECK(spacing == spacing_here(100 * kMs, rec));
        // ns-3 scales 100ms truncated to 97656 units of 1024 ns, and truncates
        // again: its spacing is below linkem's by less than two units.
        CHECK(spacing >= uint64_t{kNs3Spacing100ms[count - 1]} * 1024);
        CHECK(spacing - uint64_t{kNs3Spacing100ms[count - 1]} * 1024 < 2048);
        // The Newton iteration converges: within 1% of 1/sqrt(count) from 8, 0.1% from 32.
        const double exact = 100e6 / std::sqrt(static_cast<double>(count));
        if (count >= 8) CHECK(std::abs(static_cast<double>(spacing) - exact) < 0.01 * exact);
        if (count >= 32) CHECK(std::abs(static_cast<double>(spacing) - exact) < 0.001 * exact);
    }
    // Long intervals do not overflow: 1000 s, halved.
    CHECK(codel_spacing_ns(1'000'000 * kMs, 0x8000) == 500'000 * kMs);
    CHECK(codel_spacing_ns((uint64_t{1} << 40) + 12345, 0xffff) == spacing_here((uint64_t{1} << 40) + 12345, 0xffff));
}

namespace {
// A standing queue: the head waited 20 ms (above the 5 ms target) and 100 kB wait behind it.
constexpr uint64_t kStanding = 100'000;
uint32_t above(Disc &d, uint64_t now) { return d.dequeue(now, now - 20 * kMs, kStanding); }
uint32_t below(Disc &d, uint64_t now) { return d.dequeue(now, now - 1 * kMs, kStanding); }

// Drives a fresh codel (target 5ms, interval 100ms) into its dropping state at
// t0 + 100ms and through `drops` drops in all, each at exactly its drop_next
// (the instant before it, nothing); returns the next drop_next.
uint64_t drive_drops(Disc &d, uint64_t t0, uint32_t drops, bool ecn = false, std::vector<uint64_t> *times = nullptr) {
    const uint32_t signal = ecn ? LKM_QUEUE_MARK : LKM_QUEUE_DROP;
    auto head = [&](uint64_t now) { return d.dequeue(now, now - 20 * kMs, kStanding, ecn); };
    REQUIRE(head(t0) == LKM_QUEUE_PASS);  // first above target: first_above_time = t0 + interval
    REQUIRE(head(t0 + 100 * kMs - 1) == LKM_QUEUE_PASS);
    REQUIRE(head(t0 + 100 * kMs) == signal);  // exactly one interval above target
    if (times) times->push_back(t0 + 100 * kMs);
    if (!ecn) REQUIRE(head(t0 + 100 * kMs) == LKM_QUEUE_PASS);  // the next head is sent
    uint64_t next = t0 + 100 * kMs + spacing_here(100 * kMs, kNs3RecInvSqrt[0]);
    for (uint32_t count = 2; count <= drops; ++count) {
        INFO("drop " << count << " due at " << next);
        REQUIRE(head(next - 1) == LKM_QUEUE_PASS);
        REQUIRE(head(next) == signal);
        if (times) times->push_back(next);
        const uint64_t at = next;
        next += spacing_here(100 * kMs, kNs3RecInvSqrt[count - 1]);
        if (!ecn) REQUIRE(head(at) == LKM_QUEUE_PASS);  // the loop goes on: the next drop is not due yet
    }
    return next;
}
}  // namespace

TEST_CASE("codel: no drop while the sojourn time is below target, whatever the backlog", "[unit][queue][codel]") {
    Disc d("codel");
    REQUIRE(d.rc() == 0);
    for (uint64_t t = 1000 * kMs; t < 11'000 * kMs; t += kMs) REQUIRE(d.dequeue(t, t - 5 * kMs + 1, 10'000'000) == LKM_QUEUE_PASS);
    for (uint64_t t = 11'000 * kMs; t < 12'000 * kMs; t += kMs)
        REQUIRE(d.enqueue(t, 100'000, 100'000'000) == LKM_QUEUE_PASS);  // CoDel admits every arrival
    // At target (not below) it counts as above: the first drop one interval later.
    const uint64_t t0 = 20'000 * kMs;
    CHECK(d.dequeue(t0, t0 - 5 * kMs, kStanding) == LKM_QUEUE_PASS);
    CHECK(d.dequeue(t0 + 100 * kMs, t0 + 95 * kMs, kStanding) == LKM_QUEUE_DROP);
}

TEST_CASE("codel: the first drop comes exactly one interval above target, then the control law spaces them", "[unit][queue][codel]") {
    Disc d("codel");
    REQUIRE(d.rc() == 0);
    // 64 drops, each at t + interval / sqrt(count) as ns-3's fixed point computes it,
    // none an instant earlier: spacing shrinks from 100 ms to 12.5 ms.
    (void)drive_drops(d, 1000 * kMs, 64);
}

TEST_CASE("codel: the schedule runs from drop_next, not from when a drop happened", "[unit][queue][codel]") {
    // Heads every ms: each drop comes at the first ms at or after its drop_next,
    // and the next drop_next is counted from the last one (not from the drop).
    Disc d("codel");
    std::vector<uint64_t> seen, expected;
    for (uint64_t t = 1000 * kMs; t < 2500 * kMs; t += kMs) {
        if (above(d, t) != LKM_QUEUE_DROP) continue;
        seen.push_back(t);
        while (above(d, t) == LKM_QUEUE_DROP) seen.push_back(t);  // the host's next heads, same instant
    }
    uint64_t due = 1100 * kMs;  // one interval after 1000 ms
    for (uint32_t count = 1; count <= 64 && due < 2500 * kMs; ++count) {
        expected.push_back((due + kMs - 1) / kMs * kMs);
        due += spacing_here(100 * kMs, kNs3RecInvSqrt[count - 1]);
    }
    CHECK(seen.size() > 30);
    CHECK((seen == expected));
}

TEST_CASE("codel: a late dequeue drops head after head until the schedule passes now (the RFC's loop)", "[unit][queue][codel]") {
    Disc d("codel");
    uint64_t due = drive_drops(d, 1000 * kMs, 10);  // the 11th drop is due at `due`
    const uint64_t now = due + 200 * kMs;
    size_t expected = 0;
    for (uint32_t count = 11; due <= now; ++count) {
        ++expected;
        due += spacing_here(100 * kMs, kNs3RecInvSqrt[count - 1]);
    }
    size_t drops = 0;
    while (above(d, now) == LKM_QUEUE_DROP) ++drops;
    CHECK(expected >= 5);
    CHECK(drops == expected);
}

TEST_CASE("codel: no drop while at most one MTU waits behind the head (the backlog guard)", "[unit][queue][codel]") {
    // The guard counts wire bytes: 1514 + the link's 24 bytes of framing.
    Disc d("codel", {}, 1, Link{0, 24});
    REQUIRE(d.rc() == 0);
    for (uint64_t t = 1000 * kMs; t < 3000 * kMs; t += kMs) REQUIRE(d.dequeue(t, t - 50 * kMs, 1538) == LKM_QUEUE_PASS);
    const uint64_t t0 = 3000 * kMs;
    CHECK(d.dequeue(t0, t0 - 50 * kMs, 1539) == LKM_QUEUE_PASS);
    CHECK(d.dequeue(t0 + 100 * kMs, t0 + 50 * kMs, 1539) == LKM_QUEUE_DROP);

    Disc jumbo("codel", {{"mtu", bytes(9000)}});
    REQUIRE(jumbo.rc() == 0);
    for (uint64_t t = 1000 * kMs; t < 3000 * kMs; t += kMs) REQUIRE(jumbo.dequeue(t, t - 50 * kMs, 9000) == LKM_QUEUE_PASS);
    CHECK(jumbo.dequeue(t0, t0 - 50 * kMs, 9001) == LKM_QUEUE_PASS);
    CHECK(jumbo.dequeue(t0 + 100 * kMs, t0 + 50 * kMs, 9001) == LKM_QUEUE_DROP);
}

TEST_CASE("codel: re-entering the dropping state starts from count - lastcount within 16 intervals", "[unit][queue][codel]") {
    const uint64_t t0 = 1000 * kMs, interval = 100 * kMs;
    // Ten drops (count 10, lastcount 1), then a packet below target ends the dropping state.
    auto leave_after_ten = [&](Disc &d) {
        const uint64_t next = drive_drops(d, t0, 10);
        REQUIRE(below(d, next - 10 * kMs) == LKM_QUEUE_PASS);
        return next;  // the last drop_next
    };
    SECTION("soon after: count = 10 - 1 = 9, one Newton step from count 10's value") {
        Disc d("codel");
        const uint64_t next = leave_after_ten(d);
        const uint64_t back = next - 9 * kMs;
        REQUIRE(above(d, back) == LKM_QUEUE_PASS);
        REQUIRE(above(d, back + interval - 1) == LKM_QUEUE_PASS);  // one interval above target again first
        const uint64_t entry = back + interval;
        REQUIRE(above(d, entry) == LKM_QUEUE_DROP);
        REQUIRE(above(d, entry) == LKM_QUEUE_PASS);
        uint16_t rec = newton_here(kNs3RecInvSqrt[9], 9);
        uint64_t due = entry + spacing_here(interval, rec);
        CHECK(due - entry < 40 * kMs);  // about interval / 3, not interval
        REQUIRE(above(d, due - 1) == LKM_QUEUE_PASS);
        REQUIRE(above(d, due) == LKM_QUEUE_DROP);  // count 10
        REQUIRE(above(d, due) == LKM_QUEUE_PASS);
        rec = newton_here(rec, 10);
        due += spacing_here(interval, rec);
        REQUIRE(above(d, due - 1) == LKM_QUEUE_PASS);
        REQUIRE(above(d, due) == LKM_QUEUE_DROP);
    }
    SECTION("the last drop_next 16 intervals ago or more: count 1 again") {
        for (const uint64_t gap : {16 * interval - 1, 16 * interval}) {
            Disc d("codel");
            const uint64_t next = leave_after_ten(d);
            const uint64_t entry = next + gap;
            for (uint64_t t = next; t < entry - interval; t += 10 * kMs) REQUIRE(below(d, t) == LKM_QUEUE_PASS);
            REQUIRE(above(d, entry - interval) == LKM_QUEUE_PASS);
            REQUIRE(above(d, entry) == LKM_QUEUE_DROP);
            REQUIRE(above(d, entry) == LKM_QUEUE_PASS);
            const uint64_t due =
                entry + spacing_here(interval, gap < 16 * interval ? newton_here(kNs3RecInvSqrt[9], 9) : CODEL_REC_INV_SQRT_ONE);
            INFO("gap " << gap << " ns");
            REQUIRE(above(d, due - 1) == LKM_QUEUE_PASS);
            REQUIRE(above(d, due) == LKM_QUEUE_DROP);
        }
    }
    SECTION("count - lastcount of 1 or less: count 1") {
        Disc d("codel");
        const uint64_t next = drive_drops(d, t0, 2);  // count 2, lastcount 1
        REQUIRE(below(d, next - 10 * kMs) == LKM_QUEUE_PASS);
        const uint64_t entry = next + interval;
        REQUIRE(above(d, next) == LKM_QUEUE_PASS);
        REQUIRE(above(d, entry) == LKM_QUEUE_DROP);
        REQUIRE(above(d, entry) == LKM_QUEUE_PASS);
        const uint64_t due = entry + spacing_here(interval, CODEL_REC_INV_SQRT_ONE);
        REQUIRE(above(d, due - 1) == LKM_QUEUE_PASS);
        REQUIRE(above(d, due) == LKM_QUEUE_DROP);
    }
}

TEST_CASE("codel: an empty queue (dequeue(NULL)) ends the dropping state and resets first_above_time", "[unit][queue][codel]") {
    const uint64_t t0 = 1000 * kMs, interval = 100 * kMs;
    SECTION("dequeue(NULL)") {
        Disc d("codel");
        const uint64_t next = drive_drops(d, t0, 3);
        d.empty(next - 5 * kMs);
        REQUIRE(above(d, next) == LKM_QUEUE_PASS);  // would have been the 4th drop
        REQUIRE(above(d, next + interval - 1) == LKM_QUEUE_PASS);
        REQUIRE(above(d, next + interval) == LKM_QUEUE_DROP);
    }
    SECTION("a drop that emptied the queue, the host coming back later") {
        Disc d("codel");
        REQUIRE(above(d, t0) == LKM_QUEUE_PASS);
        REQUIRE(above(d, t0 + interval) == LKM_QUEUE_DROP);  // no next head at that instant
        REQUIRE(above(d, t0 + interval + kMs) == LKM_QUEUE_PASS);
        REQUIRE(above(d, t0 + 2 * interval) == LKM_QUEUE_PASS);  // the drop schedule is gone
        REQUIRE(above(d, t0 + 2 * interval + kMs) == LKM_QUEUE_DROP);
    }
    SECTION("a drop in the dropping state that emptied the queue, the host coming back later") {
        Disc d("codel");
        const uint64_t next = drive_drops(d, t0, 3);
        REQUIRE(above(d, next) == LKM_QUEUE_DROP);        // the 4th, and no next head at that instant
        REQUIRE(above(d, next + kMs) == LKM_QUEUE_PASS);  // the dropping state ended with the empty queue
        REQUIRE(above(d, next + kMs + interval - 1) == LKM_QUEUE_PASS);
        REQUIRE(above(d, next + kMs + interval) == LKM_QUEUE_DROP);
    }
    SECTION("above target before an empty queue counts for nothing after it") {
        Disc d("codel");
        REQUIRE(above(d, t0) == LKM_QUEUE_PASS);
        d.empty(t0 + 50 * kMs);
        REQUIRE(above(d, t0 + 60 * kMs) == LKM_QUEUE_PASS);
        REQUIRE(above(d, t0 + interval) == LKM_QUEUE_PASS);
        REQUIRE(above(d, t0 + 60 * kMs + interval) == LKM_QUEUE_DROP);
    }
}

TEST_CASE("codel: ECN marks only when ecn is set, and only ECN-capable packets, on the drop schedule", "[unit][queue][codel]") {
    const uint64_t t0 = 1000 * kMs;
    std::vector<uint64_t> drops, marks;
    Disc plain("codel");
    (void)drive_drops(plain, t0, 20, false, &drops);
    Disc marking("codel", {{"ecn", str("yes")}});
    REQUIRE(marking.rc() == 0);
    (void)drive_drops(marking, t0, 20, true, &marks);  // every signal a MARK; the marked packet leaves
    CHECK(marks == drops);

    Disc off("codel");  // ecn not set: an ECN-capable packet is dropped
    REQUIRE(off.dequeue(t0, t0 - 20 * kMs, kStanding, true) == LKM_QUEUE_PASS);
    CHECK(off.dequeue(t0 + 100 * kMs, t0 + 80 * kMs, kStanding, true) == LKM_QUEUE_DROP);
    Disc not_capable("codel", {{"ecn", str("true")}});
    REQUIRE(not_capable.dequeue(t0, t0 - 20 * kMs, kStanding, false) == LKM_QUEUE_PASS);
    CHECK(not_capable.dequeue(t0 + 100 * kMs, t0 + 80 * kMs, kStanding, false) == LKM_QUEUE_DROP);
}

TEST_CASE("codel: a parameter change carries the state over; reset forgets it", "[unit][queue][codel]") {
    const uint64_t t0 = 1000 * kMs;
    Disc a("codel");
    const uint64_t next = drive_drops(a, t0, 5);
    const Params changed{{"target", dur(6 * kMs)}};
    Disc b("codel", changed), fresh("codel", changed);
    const auto *carry = b.extension<lkm_ext_carry>(LKM_EXT_CARRY);
    REQUIRE(carry != nullptr);
    REQUIRE(carry->struct_size >= sizeof(lkm_ext_carry));
    carry->carry(b.state(), a.state());
    CHECK(above(b, next - 1) == LKM_QUEUE_PASS);
    CHECK(above(b, next) == LKM_QUEUE_DROP);  // the 6th drop, on a's schedule
    CHECK(above(fresh, next) == LKM_QUEUE_PASS);

    const auto *reset = a.extension<lkm_ext_reset>(LKM_EXT_RESET);
    REQUIRE(reset != nullptr);
    reset->reset(a.state());
    CHECK(above(a, next) == LKM_QUEUE_PASS);
    CHECK(above(a, next + 100 * kMs - 1) == LKM_QUEUE_PASS);
    CHECK(above(a, next + 100 * kMs) == LKM_QUEUE_DROP);
    CHECK(a.extension<void>("linkem.no_such_extension") == nullptr);
}

TEST_CASE("codel: arithmetic: linux keeps times in 1024 ns units and drops only after first_above_time", "[unit][queue][codel]") {
    // 1000 ms is 976562 units; first_above_time = 976562 + 97656 (100 ms) units;
    // ok to drop from the unit after it: 1074219 units = 1100000256 ns. Then the
    // next drop at ns-3's ControlLaw value in its own units.
    Disc d("codel", {{"arithmetic", str("linux")}});
    REQUIRE(d.rc() == 0);
    const uint64_t t0 = 1000 * kMs;
    REQUIRE(above(d, t0) == LKM_QUEUE_PASS);
    REQUIRE(above(d, 1'100'000'255) == LKM_QUEUE_PASS);
    REQUIRE(above(d, 1'100'000'256) == LKM_QUEUE_DROP);
    REQUIRE(above(d, 1'100'000'256) == LKM_QUEUE_PASS);
    uint64_t due_units = 1'074'219 + kNs3Spacing100ms[0];
    for (uint32_t count = 2; count <= 20; ++count) {
        INFO("drop " << count);
        REQUIRE(above(d, due_units * 1024 - 1) == LKM_QUEUE_PASS);
        REQUIRE(above(d, due_units * 1024) == LKM_QUEUE_DROP);
        REQUIRE(above(d, due_units * 1024) == LKM_QUEUE_PASS);
        due_units += kNs3Spacing100ms[count - 1];
    }
    CHECK(Disc("codel", {{"arithmetic", str("ns")}}).rc() == -1);

    // A change of arithmetic carries the schedule over in the new unit.
    Disc rfc("codel");
    rfc.extension<lkm_ext_carry>(LKM_EXT_CARRY)->carry(rfc.state(), d.state());
    CHECK(above(rfc, due_units * 1024 - 1) == LKM_QUEUE_PASS);
    CHECK(above(rfc, due_units * 1024) == LKM_QUEUE_DROP);
}

TEST_CASE("codel: parameters are checked", "[unit][queue][codel]") {
    Disc zero("codel", {{"interval", dur(0)}});
    CHECK(zero.rc() == -1);
    REQUIRE(zero.failures().size() == 1);
    CHECK(zero.failures()[0].rfind("interval:", 0) == 0);
    Disc flag("codel", {{"ecn", str("maybe")}});
    CHECK(flag.rc() == -1);
    Disc typed("codel", {{"target", num(5)}});  // a number where a duration is expected
    CHECK(typed.rc() == -1);
}

// ====================================== PIE ======================================

namespace {
// A PIE queue fed one arrival and one departure per ms, the departing packet
// having waited delay_ms, with 100 kB waiting: the verdicts of the arrivals
// from `from` to `to` (ms), appended.
void pie_run(Disc &d, uint64_t from, uint64_t to, double delay_ms, std::vector<uint32_t> &verdicts, bool ecn = false) {
    for (uint64_t t = from * kMs; t < to * kMs; t += kMs) {
        verdicts.push_back(d.enqueue(t, 100, 100'000, ecn));
        REQUIRE(d.dequeue(t, t - static_cast<uint64_t>(delay_ms * 1e6), 100'000) == LKM_QUEUE_PASS);
    }
}
size_t count_of(const std::vector<uint32_t> &v, size_t from, size_t to, uint32_t what = LKM_QUEUE_DROP) {
    size_t n = 0;
    for (size_t i = from; i < to && i < v.size(); ++i) n += v[i] == what;
    return n;
}
}  // namespace

TEST_CASE("pie: the drop probability rises under a standing delay above target and falls below it", "[unit][queue][pie]") {
    Disc d("pie", {}, 7);
    REQUIRE(d.rc() == 0);
    std::vector<uint32_t> v;
    pie_run(d, 1, 4001, 40, v);     // 40 ms standing delay: above the 15 ms target
    pie_run(d, 4001, 14001, 2, v);  // then 2 ms
    // The burst allowance (150 ms, 10 updates) lets the first 150 ms through.
    CHECK(count_of(v, 0, 149) == 0);
    const size_t s1 = count_of(v, 1000, 2000), s2 = count_of(v, 2000, 3000), s3 = count_of(v, 3000, 4000);
    const size_t after = count_of(v, 4100, 5000), later = count_of(v, 10000, 14000);
    INFO("drops per second: " << count_of(v, 0, 1000) << " " << s1 << " " << s2 << " " << s3 << " then " << after << ", " << later
                              << " in the last 4 s");
    CHECK(s1 > 0);
    CHECK(s2 > s1);
    CHECK(s3 > s2);
    CHECK(after < s3);
    CHECK(later == 0);
}

TEST_CASE("pie: the burst allowance lets a burst through", "[unit][queue][pie]") {
    // 10 arrivals per ms for 150 ms behind a 100 ms delay: none dropped with
    // the default max_burst; some without a burst allowance.
    auto burst = [](Disc &d) {
        size_t drops = 0;
        for (uint64_t t = 0; t < 150 * kMs; t += kMs / 10) {
            drops += d.enqueue(t, 1000, 1'000'000) == LKM_QUEUE_DROP;
            (void)d.dequeue(t, t > 100 * kMs ? t - 100 * kMs : 0, 1'000'000);
        }
        return drops;
    };
    Disc with("pie", {}, 3), without("pie", {{"max_burst", dur(0)}}, 3);
    const size_t a = burst(with), b = burst(without);
    INFO("drops: " << a << " with the allowance, " << b << " without");
    CHECK(a == 0);
    CHECK(b > 0);
}

TEST_CASE("pie: a fixed seed gives the same drops, another seed others", "[unit][queue][pie]") {
    auto run = [](uint64_t seed) {
        Disc d("pie", {}, seed);
        std::vector<uint32_t> v;
        pie_run(d, 1, 6001, 30, v);
        return v;
    };
    const auto a = run(11), b = run(11), c = run(12);
    CHECK(count_of(a, 0, a.size()) > 50);
    CHECK((a == b));
    CHECK((a != c));
}

TEST_CASE("pie: updates skipped by a jump of now_ns are caught up, in order", "[unit][queue][pie]") {
    // Both see a departure with 30 ms of delay at 31 ms; one then sees more of the
    // same every ms, the other nothing until 3 s. At 3 s, 2000 arrivals at once
    // meet the same drop probability: the same verdicts (the departures draw nothing).
    Disc busy("pie", {}, 5), quiet("pie", {}, 5);
    for (Disc *d : {&busy, &quiet}) REQUIRE(d->dequeue(31 * kMs, kMs, 100'000) == LKM_QUEUE_PASS);
    for (uint64_t t = 32 * kMs; t < 3000 * kMs; t += kMs) REQUIRE(busy.dequeue(t, t - 30 * kMs, 100'000) == LKM_QUEUE_PASS);
    std::vector<uint32_t> a, b;
    for (int i = 0; i < 2000; ++i) {
        a.push_back(busy.enqueue(3000 * kMs, 100, 100'000));
        b.push_back(quiet.enqueue(3000 * kMs, 100, 100'000));
    }
    CHECK(count_of(a, 0, a.size()) > 20);
    CHECK((a == b));

    // An idle day is caught up at once (the updates stop changing anything).
    quiet.empty(3001 * kMs);
    const uint64_t day = 86'400'000 * kMs;
    size_t drops = 0;
    for (int i = 0; i < 1000; ++i) drops += quiet.enqueue(day, 100, 100'000) == LKM_QUEUE_DROP;
    CHECK(drops == 0);
}

TEST_CASE("pie: ECN marks while the probability is at most 10%, and only ECN-capable packets", "[unit][queue][pie]") {
    Disc d("pie", {{"ecn", str("yes")}}, 9);
    REQUIRE(d.rc() == 0);
    std::vector<uint32_t> capable, not_capable;
    pie_run(d, 1, 3001, 30, capable, true);
    // Under a constant 30 ms delay p only grows: ECN-capable packets are marked
    // first, then, once p is above 10%, dropped (with seed 9 it passes 10% after 2 s).
    CHECK(count_of(capable, 0, 2000, LKM_QUEUE_MARK) > 10);
    CHECK(count_of(capable, 0, 2000, LKM_QUEUE_DROP) == 0);
    size_t last_mark = 0, first_drop = capable.size();
    for (size_t i = 0; i < capable.size(); ++i) {
        if (capable[i] == LKM_QUEUE_MARK) last_mark = i;
        if (capable[i] == LKM_QUEUE_DROP && first_drop == capable.size()) first_drop = i;
    }
    CHECK(first_drop < capable.size());
    CHECK(last_mark < first_drop);
    pie_run(d, 3001, 4001, 30, not_capable, false);
    CHECK(count_of(not_capable, 0, not_capable.size(), LKM_QUEUE_MARK) == 0);
    CHECK(count_of(not_capable, 0, not_capable.size(), LKM_QUEUE_DROP) > 0);
    // Far above the target the probability passes 10%: ECN-capable packets are dropped too.
    std::vector<uint32_t> heavy;
    pie_run(d, 4001, 30001, 500, heavy, true);
    CHECK(count_of(heavy, 20000, heavy.size(), LKM_QUEUE_DROP) > 0);

    Disc off("pie", {}, 9);
    std::vector<uint32_t> v;
    pie_run(off, 1, 3001, 30, v, true);
    CHECK(count_of(v, 0, v.size(), LKM_QUEUE_MARK) == 0);
}

TEST_CASE("pie: carry keeps the probability and the stream; reset forgets them", "[unit][queue][pie]") {
    Disc a("pie", {}, 21), twin("pie", {}, 21);
    std::vector<uint32_t> va, vt;
    pie_run(a, 1, 3001, 30, va);
    pie_run(twin, 1, 3001, 30, vt);
    Disc b("pie", {{"alpha", num(0.125)}}, 99);  // the same parameters, restated: another stream
    b.extension<lkm_ext_carry>(LKM_EXT_CARRY)->carry(b.state(), a.state());
    std::vector<uint32_t> vb, vt2;
    pie_run(b, 3001, 4001, 30, vb);
    pie_run(twin, 3001, 4001, 30, vt2);
    CHECK(count_of(vb, 0, vb.size()) > 0);
    CHECK((vb == vt2));  // as if nothing had changed

    twin.extension<lkm_ext_reset>(LKM_EXT_RESET)->reset(twin.state());
    std::vector<uint32_t> vr;
    pie_run(twin, 4001, 4140, 30, vr);  // the burst allowance again
    CHECK(count_of(vr, 0, vr.size()) == 0);
}

TEST_CASE("pie: burst: ns3 holds the probability at 0 through the allowance, and arms it again after 1.5 s of calm", "[unit][queue][pie]") {
    // Under a standing 40 ms delay both let the first 150 ms through; the RFC's
    // probability grows meanwhile, ns-3's starts at the allowance's end: fewer
    // drops in the first second (docs/QUEUES.md, pie, against ns-3).
    Disc rfc("pie", {}, 13), ns3("pie", {{"burst", str("ns3")}}, 13), ns3_late("pie", {{"burst", str("ns3")}}, 13);
    REQUIRE(ns3.rc() == 0);
    std::vector<uint32_t> vr, vn, vl;
    pie_run(rfc, 1, 3001, 40, vr);
    pie_run(ns3, 1, 3001, 40, vn);
    pie_run(ns3_late, 1, 3001, 40, vl);
    INFO("drops in the first second: " << count_of(vr, 0, 1000) << " rfc, " << count_of(vn, 0, 1000) << " ns3");
    CHECK(count_of(vn, 0, 149) == 0);
    CHECK(count_of(vn, 0, 1000) < count_of(vr, 0, 1000));
    CHECK(count_of(vn, 1000, 3000) > 0);
    // Then departures after 2 ms of waiting, no arrival: the probability
    // falls to 0 at 7.83 s. A burst (500 ms of delay) at 8.5 s finds
    // the RFC's allowance back, not ns-3's (0.7 s of calm); at 23 s, ns-3's
    // too (its first arrival arms it).
    const auto calm = [](Disc &d, uint64_t from, uint64_t to) {
        for (uint64_t t = from * kMs; t < to * kMs; t += kMs) REQUIRE(d.dequeue(t, t - 2 * kMs, 100'000) == LKM_QUEUE_PASS);
    };
    calm(rfc, 3001, 8500);
    calm(ns3, 3001, 8500);
    calm(ns3_late, 3001, 23000);
    std::vector<uint32_t> br, bn, bl;
    pie_run(rfc, 8500, 8640, 500, br);
    pie_run(ns3, 8500, 8640, 500, bn);
    pie_run(ns3_late, 23000, 23140, 500, bl);
    INFO("drops in the burst: " << count_of(br, 0, br.size()) << " rfc, " << count_of(bn, 0, bn.size()) << " ns3, "
                                << count_of(bl, 0, bl.size()) << " ns3 later");
    CHECK(count_of(br, 0, br.size()) == 0);
    CHECK(count_of(bn, 0, bn.size()) > 0);
    CHECK(count_of(bl, 0, bl.size()) == 0);

    // A change from burst: rfc to ns3 in the middle of congestion arms no
    // allowance: the drops go on at once.
    Disc to_ns3("pie", {{"burst", str("ns3")}}, 13);
    to_ns3.extension<lkm_ext_carry>(LKM_EXT_CARRY)->carry(to_ns3.state(), rfc.state());
    std::vector<uint32_t> vc;
    pie_run(to_ns3, 8640, 8790, 500, vc);
    CHECK(count_of(vc, 0, vc.size()) > 0);

    CHECK(Disc("pie", {{"burst", str("linux")}}).rc() == -1);
}

// ====================================== RED ======================================

namespace {
// n arrivals finding `backlog` packets waiting; their verdicts.
std::vector<uint32_t> red_run(Disc &d, size_t n, uint64_t backlog, bool ecn = false, uint64_t *t = nullptr) {
    static uint64_t clock = 0;
    uint64_t &now = t ? *t : clock;
    std::vector<uint32_t> v;
    for (size_t i = 0; i < n; ++i) v.push_back(d.enqueue(now += 1000, backlog, backlog * 1000, ecn));
    return v;
}
}  // namespace

TEST_CASE("red: nothing dropped while the average stays below min_th", "[unit][queue][red]") {
    Disc d("red", {}, 1);
    REQUIRE(d.rc() == 0);
    const auto v = red_run(d, 200'000, 4);  // average -> 4 < min_th 5
    CHECK(count_of(v, 0, v.size()) == 0);
}

TEST_CASE("red: everything dropped above max_th, or above 2 max_th when gentle", "[unit][queue][red]") {
    // The average converges to the backlog: (1 - 0.002)^5000 = 4.5e-5 of the gap is left.
    Disc hard("red", {{"gentle", str("no")}}, 1);
    auto v = red_run(hard, 10'000, 16);  // above max_th 15
    CHECK(count_of(v, 5000, 10'000) == 5000);
    Disc gentle("red", {}, 1);
    v = red_run(gentle, 10'000, 16);  // between 15 and 30: p_b = 0.1 + 0.9 / 15 = 16%, uniformised
    CHECK(count_of(v, 5000, 10'000) > 500);
    CHECK(count_of(v, 5000, 10'000) < 2500);
    v = red_run(gentle, 20'000, 31);  // above 2 max_th
    CHECK(count_of(v, 15'000, 20'000) == 5000);
}

TEST_CASE("red: between the thresholds, drops are spaced by the count (p_a = p_b / (1 - count p_b))", "[unit][queue][red]") {
    // Average 10 between 5 and 15 with max_p 10%: p_b = 5%. After a drop the
    // n-th arrival is dropped with p_b / (1 - n p_b): survival to n is
    // (1 - (n + 1) p_b) / (1 - p_b), so gaps are at most 20 and average
    // sum_n (1 - (n + 1) p_b) / (1 - p_b) = 10 arrivals: 10% dropped, twice a
    // geometric drop's spacing regularity. About 20000 drops: 3% is over 7 sigma.
    Disc d("red", {}, 42);
    (void)red_run(d, 20'000, 10);  // settle the average
    const auto v = red_run(d, 200'000, 10);
    const double p_b = 0.05;
    double mean_gap = 0;
    for (int n = 0; (n + 1) * p_b < 1; ++n) mean_gap += (1 - (n + 1) * p_b) / (1 - p_b);
    const double fraction = static_cast<double>(count_of(v, 0, v.size())) / static_cast<double>(v.size());
    INFO("dropped " << fraction << ", expected " << 1 / mean_gap);
    CHECK(fraction == Approx(1 / mean_gap).epsilon(0.03));
    size_t gap = 0, longest = 0;
    for (uint32_t x : v) {
        ++gap;
        if (x == LKM_QUEUE_DROP) longest = std::max(longest, gap), gap = 0;
    }
    CHECK(longest <= 20);
    CHECK(longest >= 15);
}

TEST_CASE("red: the average decays over an idle period by the frames the link could have sent", "[unit][queue][red]") {
    // Average 20 (above max_th 15, not gentle: every packet dropped), then the link
    // idles 1 s. At 8 Mbit/s, 2000 frames of 500 bytes could have left:
    // 20 x 0.998^2000 = 0.37, below min_th. Without a known rate nothing decays.
    const Params params{{"gentle", str("no")}};
    auto idle_then_arrive = [&](Disc &d, uint64_t rate_in_state) {
        uint64_t t = 0;
        (void)red_run(d, 10'000, 20, false, &t);
        d.empty(t);
        return d.enqueue(t + 1000 * kMs, 20, 20'000, false, 1000, rate_in_state);
    };
    Disc known("red", params, 1), told("red", params, 1, Link{8'000'000, 0}), unknown("red", params, 1);
    CHECK(idle_then_arrive(known, 8'000'000) == LKM_QUEUE_PASS);
    CHECK(idle_then_arrive(told, 0) == LKM_QUEUE_PASS);  // the create arguments' rate
    CHECK(idle_then_arrive(unknown, 0) == LKM_QUEUE_DROP);
}

TEST_CASE("red: ECN marks early signals; hard drops stay drops unless hard_drop is no", "[unit][queue][red]") {
    Disc d("red", {{"ecn", str("yes")}}, 4);
    (void)red_run(d, 20'000, 10, true);
    auto v = red_run(d, 20'000, 10, true);
    CHECK(count_of(v, 0, v.size(), LKM_QUEUE_MARK) > 1000);
    CHECK(count_of(v, 0, v.size(), LKM_QUEUE_DROP) == 0);
    v = red_run(d, 20'000, 10, false);  // not ECN-capable
    CHECK(count_of(v, 0, v.size(), LKM_QUEUE_MARK) == 0);
    CHECK(count_of(v, 0, v.size(), LKM_QUEUE_DROP) > 1000);
    v = red_run(d, 20'000, 40, true);  // above 2 max_th
    CHECK(count_of(v, 10'000, 20'000, LKM_QUEUE_DROP) == 10'000);
    Disc soft("red", {{"ecn", str("yes")}, {"hard_drop", str("no")}}, 4);
    v = red_run(soft, 20'000, 40, true);
    CHECK(count_of(v, 10'000, 20'000, LKM_QUEUE_MARK) == 10'000);
}

TEST_CASE("red: byte mode counts wire bytes", "[unit][queue][red]") {
    Disc d("red", {{"mode", str("bytes")}, {"min_th", bytes(30'000)}, {"max_th", bytes(90'000)}, {"gentle", str("no")}}, 1);
    REQUIRE(d.rc() == 0);
    auto v = red_run(d, 10'000, 20);  // 20 kB: below 30 kB
    CHECK(count_of(v, 0, v.size()) == 0);
    v = red_run(d, 20'000, 100);  // 100 kB: above 90 kB
    CHECK(count_of(v, 10'000, 20'000) == 10'000);
    Disc wrong("red", {{"mode", str("bytes")}, {"min_th", num(5)}});  // a number where a size is expected
    CHECK(wrong.rc() == -1);
}

TEST_CASE("red: parameters are checked; carry and reset", "[unit][queue][red]") {
    Disc bad("red", {{"min_th", num(20)}, {"max_th", num(10)}});
    CHECK(bad.rc() == -1);
    REQUIRE(bad.failures().size() == 1);
    CHECK(bad.failures()[0].rfind("max_th:", 0) == 0);
    CHECK(Disc("red", {{"w_q", num(0)}}).rc() == -1);
    CHECK(Disc("red", {{"mode", str("frames")}}).rc() == -1);

    Disc a("red", {{"gentle", str("no")}}, 1);
    (void)red_run(a, 10'000, 20);  // average 20: all dropped
    Disc b("red", {{"gentle", str("no")}, {"max_p", prob(0.05)}}, 2);
    b.extension<lkm_ext_carry>(LKM_EXT_CARRY)->carry(b.state(), a.state());
    CHECK(red_run(b, 1, 20)[0] == LKM_QUEUE_DROP);  // the average went on
    a.extension<lkm_ext_reset>(LKM_EXT_RESET)->reset(a.state());
    CHECK(red_run(a, 1, 20)[0] == LKM_QUEUE_PASS);  // average 0.04 after reset
}
