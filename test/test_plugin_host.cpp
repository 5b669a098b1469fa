// [plugin] The plugin host on deliberately broken shared objects: each refusal
// names the file (and the model when known); parameter errors are positioned
// at the YAML key that carries the parameter.
#include "link_fixture.hpp"
#include "linkem_process.hpp"

#include "linkem/seed.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <string>

using namespace linkem;
using namespace linkem::test;

namespace {

std::string fixture(const std::string &what) {
    const char *dir = std::getenv("LINKEM_FIXTURE_DIR");
    REQUIRE(dir != nullptr);  // set by meson test
    return std::string(dir) + "/fixture_" + what + ".so";
}

std::string refusal(const std::string &path) {
    LoadedModel loaded;
    std::string error;
    INFO(path);
    REQUIRE_FALSE(PluginHost::load_file(path, &loaded, &error));
    CHECK_THAT(error, Catch::StartsWith(path + ": "));
    return error;
}

// The errors of creating the link's models from YAML link fields.
std::vector<ConfigError> plan_errors(const std::string &fields) {
    const std::string yaml = "ports: {a: {device: n0}, b: {device: n1}}\nlinks:\n  - {name: ab, from: a, to: b, " + fields + "}\n";
    LoadResult loaded = load_config_text(yaml, "t.yaml");
    REQUIRE(loaded.config);
    std::vector<ConfigError> errors;
    CHECK_FALSE(plan_link(*loaded.config, 0, 1, PluginHost(plugin_dirs()), &errors));
    REQUIRE_FALSE(errors.empty());
    return errors;
}

}  // namespace

TEST_CASE("the host loads a correct plugin and reads its descriptor", "[plugin]") {
    LoadedModel loaded;
    std::string error;
    REQUIRE(PluginHost::load_file(fixture("good"), &loaded, &error));
    CHECK(std::string(loaded.model->name) == "fixture");
    CHECK(loaded.model->kind == LKM_KIND_LOSS);
}

// The loss model's instance for a link of these fields (a plan that must succeed).
static LinkPlan must_plan(const std::string &fields) {
    const std::string yaml = "ports: {a: {device: n0}, b: {device: n1}}\nlinks:\n  - {name: ab, from: a, to: b, " + fields + "}\n";
    LoadResult loaded = load_config_text(yaml, "t.yaml");
    for (const auto &e : loaded.errors) UNSCOPED_INFO(e.to_string());
    REQUIRE(loaded.config);
    std::vector<ConfigError> errors;
    auto plan = plan_link(*loaded.config, 0, 1, PluginHost(plugin_dirs()), &errors);
    for (const auto &e : errors) UNSCOPED_INFO(e.to_string());
    REQUIRE(plan);
    return std::move(*plan);
}

TEST_CASE("ABI 1.0 and 1.1 plugins still load, and the host reads no newer field from them", "[plugin]") {
    // good (1.2): the bounds extension's loss (0), not its expected_loss (0.5, superseded);
    // abi_1_1: its expected_loss (0); abi_1_0: nothing. The old ones' fields beyond their
    // struct_size answer 0.5 or an extension the host would refuse: never read.
    for (const auto &[what, expected] :
         std::vector<std::pair<std::string, std::optional<double>>>{{"good", 0.0}, {"abi_1_1", 0.0}, {"abi_1_0", std::nullopt}}) {
        INFO(what);
        LoadedModel loaded;
        std::string error;
        REQUIRE(PluginHost::load_file(fixture(what), &loaded, &error));
        const LinkPlan plan = must_plan("loss: {plugin: \"" + fixture(what) + "\"}");
        CHECK(plan.loss->expected_loss() == expected);
        CHECK((model_extension(plan.loss->model(), LKM_EXT_RESET) != nullptr) == (what == "good"));
        CHECK((plan.model.loss.reset != nullptr) == (what == "good"));
    }
}

TEST_CASE("an ABI 1.2 plugin's extensions: reset through the link model, bounds, and the link's context", "[plugin]") {
    LinkPlan plan = must_plan("bandwidth: 10Mbit/s, overhead: 24, loss: {plugin: \"" + fixture("good") + "\"}");
    REQUIRE(plan.model.loss.reset != nullptr);
    auto *seen = static_cast<unsigned char *>(plan.loss->state());
    LinkModel link(plan.model);
    const PacketIn pkt(1000, 100);
    Verdict v;
    link.admit_burst(&pkt, 1, &v);
    CHECK(*seen == 1);  // the fixture marks its state when it sees packets
    link.reset();
    CHECK(*seen == 0);  // LinkModel::reset() called its reset extension
    // The context: the constant rate the bandwidth model states, the overhead, the largest burst.
    must_plan("bandwidth: 10Mbit/s, overhead: 24, loss: {plugin: \"" + fixture("good") + "\", context: [10000000, 24, 512]}");
    must_plan("overhead: none, loss: {plugin: \"" + fixture("good") + "\", context: [0, 0, 512]}");
    // A rate schedule has no one rate: unknown.
    must_plan("bandwidth: {plugin: steps, rates: [10Mbit/s, 1Mbit/s], durations: [1s, 1s]}, overhead: 24, loss: {plugin: \"" +
              fixture("good") + "\", context: [0, 24, 512]}");
    const auto wrong = plan_errors("bandwidth: 10Mbit/s, loss: {plugin: \"" + fixture("good") + "\", context: [1, 24, 512]}");
    REQUIRE(wrong.size() == 1);
    CHECK_THAT(wrong[0].message, Catch::Contains("got link_rate_bps 10000000, overhead_bytes 0, max_burst 512"));
}

TEST_CASE("a recycled per-flow instance starts again from its models' initial state (gilbert_elliott: good)", "[plugin]") {
    // p 100%, r 0: the first packet finds the chain good (kept) and moves it to bad for ever (all later lost).
    TestLink t("loss: {plugin: gilbert_elliott, p: 100%, r: 0%}");
    const auto fates = [&](uint64_t from_ns) {
        std::vector<Fate> out;
        for (uint64_t i = 0; i < 3; ++i) {
            const PacketIn pkt(from_ns + i * 1000, 100);
            Verdict v;
            t.model().admit_burst(&pkt, 1, &v);
            out.push_back(v.fate);
        }
        return out;
    };
    const std::vector<Fate> fresh{Fate::kForward, Fate::kDropLoss, Fate::kDropLoss};
    CHECK(fates(0) == fresh);
    t.model().reset();  // what the data path does when a flow takes over the instance
    CHECK(fates(1'000'000) == fresh);
}

TEST_CASE("delay bounds, not model names, give a link its smallest delay and its arena's delay line", "[plugin]") {
    const LinkPlan constant = must_plan("delay: 10ms");
    CHECK(constant.min_delay_ns == 10'000'000);
    CHECK(constant.max_delay_ns == 10'000'000);
    const LinkPlan uniform = must_plan("delay: {plugin: uniform, mean: 10ms, jitter: 2ms}");
    CHECK(uniform.min_delay_ns == 8'000'000);  // before 1.2: 0, only `constant` had a floor
    CHECK(uniform.max_delay_ns == 12'000'000);
    CHECK_THAT(uniform.arena_reason, Catch::Contains("12ms") && !Catch::Contains("assumed delay"));
    const LinkPlan pareto = must_plan("delay: {plugin: pareto, mean: 10ms, jitter: 1ms}");
    CHECK(pareto.min_delay_ns == 9'422'650);  // mean - 0.57735 jitter, rounded
    CHECK_THAT(pareto.arena_reason, Catch::Contains("assumed delay"));
    CHECK(must_plan("delay: {plugin: normal, mean: 10ms, stddev: 1ms}").min_delay_ns == 0);
    CHECK(must_plan("delay: {plugin: exponential, min: 3ms, mean: 1ms}").min_delay_ns == 3'000'000);
    CHECK(must_plan("delay: {plugin: normal, mean: 10ms, stddev: 0ms}").min_delay_ns == 10'000'000);
    // A delay model that states no bounds (as every 1.0 and 1.1 plugin): no floor, the assumed delay.
    const LinkPlan unstated = must_plan("delay: {plugin: \"" + fixture("bad_delay") + "\", mode: max}");
    CHECK(unstated.min_delay_ns == 0);
    CHECK_THAT(unstated.arena_reason, Catch::Contains("100ms (assumed delay"));
    // Rates: the delay line at the highest, a full queue drained at the lowest.
    const LinkPlan steps = must_plan(
        "bandwidth: {plugin: steps, rates: [100Mbit/s, 10Mbit/s], durations: [1s, 1s]}, delay: 10ms, "
        "queue: 100 packets, overhead: none");
    CHECK_THAT(steps.arena_reason, Catch::Contains("delay line 100Mbit/s x 10ms") && !Catch::Contains("assumed line rate"));
    CHECK(steps.max_delay_ns == 10'000'000 + 100 * 1514 * 8 * 100);  // 100 frames of 1514 bytes at 10 Mbit/s: 121.12 ms
    const LinkPlan trace_like = must_plan("bandwidth: {plugin: slot, min_gap: 1ms}, delay: 10ms");
    CHECK_THAT(trace_like.arena_reason, Catch::Contains("assumed line rate"));
}

TEST_CASE("random streams: one documented derivation, with fixed values", "[plugin]") {
    // Computed by hand from the formula in seed.hpp (FNV-1a, splitmix64): the
    // same on every compiler and standard library.
    CHECK(fnv1a64("") == 0xcbf29ce484222325ULL);
    CHECK(fnv1a64("ab") == 0x089c4407b545986aULL);
    CHECK(stream_seed(1, "ab", Stream::kLoss) == 0x226135bae89484e2ULL);
    CHECK(stream_seed(1, "ab", Stream::kDelay) == 0xfe0e03f29c564c68ULL);
    CHECK(stream_seed(42, "wan#3", Stream::kCorrupt) == 0x3a7637c6f1a793fcULL);
    CHECK(stream_seed(0, "", Stream::kBandwidth) == 0x4ae4c9981dd2760cULL);
    const lkm_rng rng = stream_rng(1, "ab", Stream::kLoss);
    CHECK(rng.s[0] == 0x8813534ccb1841b4ULL);
    CHECK(rng.s[1] == 0xec627a992434465aULL);
    CHECK(rng.s[2] == 0xd7a408e0dcac84f3ULL);
    CHECK(rng.s[3] == 0x16acbfb669091a1cULL);
    // A model instance's stream is (seed, link, kind): the same as before this function existed.
    const lkm_rng instance = instance_rng(1, "ab", LKM_KIND_LOSS);
    for (int i = 0; i < 4; ++i) CHECK(instance.s[i] == rng.s[i]);
}

TEST_CASE("the host refuses each kind of broken plugin, saying why", "[plugin]") {
    CHECK_THAT(refusal(fixture("no_entry")), Catch::Contains("no symbol \"lkm_entry\": not a linkem plugin"));
    CHECK_THAT(refusal(fixture("too_small")), Catch::Contains("lkm_model is 16 bytes, smaller than ABI 1.0's"));
    CHECK_THAT(refusal(fixture("major")), Catch::Contains("built for plugin ABI 2.0; this linkem speaks 1.3: rebuild the plugin"));
    CHECK_THAT(refusal(fixture("minor")), Catch::Contains("built for plugin ABI 1.4, newer than this linkem's 1.3: update linkem"));
    CHECK_THAT(refusal(fixture("kind")), Catch::Contains("model \"fixture\": unknown kind 9"));
    CHECK_THAT(refusal(fixture("no_callback")), Catch::Contains("model \"fixture\": a loss model must set loss_burst"));
    CHECK_THAT(refusal(fixture("ext_small")),
               Catch::Contains("model \"fixture\": its \"linkem.reset\" extension is 4 bytes, smaller than ABI 1.2's"));
    CHECK_THAT(refusal(fixture("ext_callback")),
               Catch::Contains("model \"fixture\": its \"linkem.bounds\" extension leaves the loss model's callback (loss) NULL"));
    TempDir dir;
    CHECK_THAT(refusal(dir.write("text.so", "this is not a shared object\n")),
               Catch::Contains("cannot load:") && Catch::Contains("text.so"));
    CHECK_THAT(refusal((dir / "absent.so").string()), Catch::Contains("cannot load:") && Catch::Contains("No such file"));
}

TEST_CASE("discovery reports broken plugins and duplicate names in one directory", "[plugin]") {
    const std::string dir = fixture("good").substr(0, fixture("good").rfind('/'));
    std::vector<std::string> problems;
    const auto found = PluginHost({dir}).discover(&problems);
    size_t twins = 0;
    for (const LoadedModel &m : found) twins += std::string(m.model->name) == "twin";
    CHECK(twins == 1);
    bool duplicate = false;
    for (const std::string &p : problems) duplicate = duplicate || p.find("duplicate loss model \"twin\"") != std::string::npos;
    CHECK(duplicate);
    CHECK(problems.size() >= 9);  // eight broken fixtures and the duplicate (abi_1_0 and abi_1_1 load)
}

TEST_CASE("a plugin's own parameter errors come out at the parameter's YAML position", "[plugin]") {
    const auto own = plan_errors("loss: {plugin: \"" + fixture("good") + "\", r: 80%}");
    REQUIRE(own.size() == 1);
    CHECK(own[0].path == "links[0].loss.r");
    CHECK(own[0].pos.line == 3);
    CHECK(own[0].message == "must be at most 50% in this model");
    const auto type = plan_errors("loss: {plugin: gilbert_elliott, p: 1%, r: lots}");
    REQUIRE(type.size() == 1);
    CHECK(type[0].to_string() ==
          "t.yaml:3:74: links[0].loss.r: \"lots\" is not a probability: it does not start with a number "
          "(examples: 1%, 0.5%, 0.001%)");
    const auto unknown = plan_errors("loss: {plugin: gilbert_elliott, p: 1%, r: 30%, lossbad: 50%}");
    REQUIRE(unknown.size() == 1);
    CHECK(unknown[0].path == "links[0].loss.lossbad");
    CHECK_THAT(unknown[0].message,
               Catch::Contains("unknown parameter \"lossbad\" for loss model \"gilbert_elliott\"; did you mean \"loss_bad\"?"));
}

TEST_CASE("models are found by kind and name, with a suggestion when misspelt", "[plugin]") {
    const auto misspelt = plan_errors("loss: {plugin: bernouli, p: 1%}");
    REQUIRE(misspelt.size() == 1);
    CHECK(misspelt[0].path == "links[0].loss.plugin");
    CHECK_THAT(misspelt[0].message, Catch::Contains("no loss model named \"bernouli\"; did you mean \"bernoulli\"?"));
    const auto wrong_kind = plan_errors("bandwidth: {plugin: \"" + fixture("good") + "\"}");
    REQUIRE(wrong_kind.size() == 1);
    CHECK_THAT(wrong_kind[0].message, Catch::Contains("model \"fixture\" is a loss model, not a bandwidth model"));
    const auto model_refuses = plan_errors("loss: {plugin: gilbert_elliott, p: 1%}");
    REQUIRE(model_refuses.size() == 1);
    CHECK(model_refuses[0].path == "links[0].loss.r");
    CHECK_THAT(model_refuses[0].message, Catch::Contains("p and r go together"));
}

TEST_CASE("a model that gives up early is not blamed for parameters it never read", "[plugin]") {
    // The fixture returns at its first bad parameter, so it never reads `later`.
    const auto early = plan_errors("loss: {plugin: \"" + fixture("good") + "\", r: lots, later: 1}");
    REQUIRE(early.size() == 1);
    CHECK(early[0].path == "links[0].loss.r");
    // When create() succeeds, an unread parameter is unknown.
    const auto unread = plan_errors("loss: {plugin: \"" + fixture("good") + "\", r: 1%, later: 1}");
    REQUIRE(unread.size() == 1);
    CHECK(unread[0].path == "links[0].loss.later");
}
