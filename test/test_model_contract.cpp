// [model-contract] Models cannot corrupt results (docs/PLUGINS.md "Results"):
// a result outside the plugin contract drops the packet as model_error,
// counted, with the first bad value named in the summary, the same in the link
// model, linkem-sim and linkem; create() returning 0 with a NULL state is
// refused at load; a model writing past its n outputs is caught by the guard;
// plugin discovery opens only the plugins a configuration names, once each.
#include "link_fixture.hpp"
#include "linkem_process.hpp"
#include "skip.hpp"

#include "linkem/stats.hpp"

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <dlfcn.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace fs = std::filesystem;
using namespace linkem;
using namespace linkem::test;

// Every dlopen() of this process, counted on its way to the real one: the
// plugin host (linked in statically) calls this definition.
static int dlopen_calls = 0;
extern "C" void *dlopen(const char *file, int mode) {
    using Real = void *(*)(const char *, int);
    static const Real real = reinterpret_cast<Real>(dlsym(RTLD_NEXT, "dlopen"));
    ++dlopen_calls;
    return real(file, mode);
}

namespace {

std::string fixture(const std::string &what) {
    const char *dir = std::getenv("LINKEM_FIXTURE_DIR");
    REQUIRE(dir != nullptr);  // set by meson test
    return std::string(dir) + "/fixture_" + what + ".so";
}

std::string plugin_dir() {
    const char *dir = std::getenv("LINKEM_PLUGIN_DIR");
    REQUIRE(dir != nullptr);
    return dir;
}

// A field such as  delay: {plugin: "/path/fixture_bad_delay.so", mode: max}
std::string bad(const char *kind, const char *mode) {
    return fmt::format("{}: {{plugin: \"{}\", mode: {}}}", kind, fixture(std::string("bad_") + kind), mode);
}

// n packets of 100 bytes, one every microsecond from 1 us.
std::vector<PacketIn> packets(size_t n) {
    std::vector<PacketIn> p;
    for (size_t i = 0; i < n; ++i) p.emplace_back(1000 * (i + 1), 100);
    return p;
}

// The summary's line naming the first bad value, without its packet time
// (which differs between virtual and real time).
std::string model_error_line(const std::string &summary) {
    const size_t at = summary.find("model error (first bad value): ");
    if (at == std::string::npos) return "(none)";
    const std::string line = summary.substr(at, summary.find('\n', at) - at);
    return line.substr(0, line.find(" at "));
}

// A link's "model_error" object in --stats-json without its packet time and text (null when none).
nlohmann::json model_error_of(const nlohmann::json &link) {
    nlohmann::json e = link.at("model_error");
    if (e.is_object()) {
        e.erase("packet_ns");
        e.erase("text");
    }
    return e;
}

uint64_t drops_of(const nlohmann::json &link, const std::string &reason) { return link.at("drops").at(reason); }

bool guarded_build() {
#if defined(LINKEM_PLUGIN_GUARD) || !defined(NDEBUG)
    return true;
#else
    return false;
#endif
}

const std::string kPorts = "ports: {a: {device: \"net_null0,size=64\"}, b: {device: \"net_null1,size=64\"}}\n";

}  // namespace

TEST_CASE("a result outside the contract drops the packet as model_error and the first bad value is kept", "[model-contract]") {
    struct Case {
        std::string fields;
        ModelError::What what;
        uint32_t kind;
        const char *model;
        uint64_t value;
    };
    const Case cases[] = {
        {bad("bandwidth", "early"), ModelError::What::kFinishBeforeStart, LKM_KIND_BANDWIDTH, "bad_bandwidth", 1},
        {bad("bandwidth", "huge"), ModelError::What::kFinishBeyondLimit, LKM_KIND_BANDWIDTH, "bad_bandwidth", UINT64_MAX},
        {bad("loss", "two"), ModelError::What::kLossVerdict, LKM_KIND_LOSS, "bad_loss", 2},
        {bad("delay", "max"), ModelError::What::kReleaseBeyondLimit, LKM_KIND_DELAY, "bad_delay", UINT64_MAX},
        {bad("delay", "wrap"), ModelError::What::kReleaseBeyondLimit, LKM_KIND_DELAY, "bad_delay", UINT64_MAX - 1000 + 2},
    };
    for (const Case &c : cases) {
        INFO(c.fields);
        TestLink link(c.fields);
        const auto verdicts = link.run(packets(100));
        CHECK(count_fate(verdicts, Fate::kDropModelError) == 100);
        for (const Verdict &v : verdicts) CHECK((v.fate != Fate::kForward || v.release_ns <= kModelTimeLimitNs));
        const std::optional<ModelError> e = link.model().first_model_error();
        REQUIRE(e);
        CHECK(e->what == c.what);
        CHECK(e->kind == c.kind);
        CHECK(std::string(e->model) == c.model);
        CHECK(e->value == c.value);
        CHECK(e->packet_ns == 1000);  // the first packet: it starts (and exits) at 1 us
        // A bandwidth error takes no link time: nothing waits in the queue.
        if (c.kind == LKM_KIND_BANDWIDTH) CHECK(link.model().queued_packets(1000) == 0);
    }
}

TEST_CASE("the summary and the JSON name the model and its first bad value", "[model-contract]") {
    LinkSnapshot s;
    s.name = "ab";
    s.rx_packets = 3;
    s.drops[static_cast<size_t>(DropReason::kModelError)] = 3;
    s.model_error = ModelError{ModelError::What::kFinishBeforeStart, LKM_KIND_BANDWIDTH, "late", 5, 1000};
    const std::string text = summary_text({s});
    CHECK_THAT(text, Catch::Contains("model_error=3"));
    CHECK_THAT(text, Catch::Contains("model error (first bad value): bandwidth model \"late\": finish_ns returned 5 for a frame "
                                     "starting at 1000 ns (before its start)"));
    CHECK_THAT(text, Catch::Contains("balanced"));
    const nlohmann::json link = nlohmann::json::parse(stats_json({s}, nullptr)).at("links").at(0);
    CHECK(link.at("drops").at("model_error") == 3);
    CHECK(link.at("model_error") == nlohmann::json{{"model", "late"},
                                                   {"kind", "bandwidth"},
                                                   {"what", "finish_before_start"},
                                                   {"value", 5},
                                                   {"packet_ns", 1000},
                                                   {"text", model_error_text(*s.model_error)}});
}

TEST_CASE("create() returning 0 with a NULL state is refused at load", "[model-contract]") {
    const std::string yaml = "ports: {a: {device: n0}, b: {device: n1}}\nlinks:\n  - {name: ab, from: a, to: b, loss: {plugin: \"" +
                             fixture("null_state") + "\", r: 1%}}\n";
    LoadResult loaded = load_config_text(yaml, "t.yaml");
    REQUIRE(loaded.config);
    std::vector<ConfigError> errors;
    CHECK_FALSE(plan_link(*loaded.config, 0, 1, PluginHost({plugin_dir()}), &errors));
    REQUIRE(errors.size() == 1);
    CHECK(errors[0].path == "links[0].loss");
    CHECK_THAT(errors[0].message, Catch::Contains("model \"null_state\": create() returned 0 but left its state NULL") &&
                                      Catch::Contains("fixture_null_state.so"));
}

TEST_CASE("linkem-sim drops what breaks the contract as model_error and names the model", "[model-contract][sim]") {
    TempDir dir;
    for (const auto &[fields, line] :
         {std::pair<std::string, std::string>{bad("delay", "max"),
                                              "model error (first bad value): delay model \"bad_delay\": delay_ns 18446744073709551615 for "
                                              "the packet that left the link"},
          {bad("bandwidth", "early"),
           "model error (first bad value): bandwidth model \"bad_bandwidth\": finish_ns returned 1 for a frame starting"}}) {
        const std::string config = dir.write("c.yaml", kPorts + "links:\n  - {name: ab, from: a, to: b, " + fields + "}\n");
        const fs::path stats = dir / "s.json";
        const Run r =
            run_program("LINKEM_SIM_BIN", config + " --synthetic rate=1Mpps,size=64,count=1000 --stats-json " + stats.string(), 60);
        INFO(r.output);
        CHECK(r.status == 0);  // balanced: every packet is counted
        CHECK(model_error_line(r.output) == line);
        const nlohmann::json link = link_in(read_json(stats), "ab");
        // The first packet of the bandwidth case arrives at 0, where a finish of 1 is within the contract.
        CHECK(drops_of(link, "model_error") >= 999);
        CHECK(drops_of(link, "model_error") + link.at("tx_packets").get<uint64_t>() == 1000);
    }
}

TEST_CASE("linkem and linkem-sim agree on model_error: dropped, counted, the same model and value", "[model-contract][eal]") {
    if (geteuid() != 0) LINKEM_SKIP("needs root to start DPDK's EAL");
    TempDir dir;
    for (const std::string &fields : {bad("delay", "max"), bad("bandwidth", "early")}) {
        INFO(fields);
        const std::string config =
            dir.write("c.yaml", kPorts + "links:\n  - {name: ab, from: a, to: b, " + fields + "}\n" + "  - {name: ba, from: b, to: a}\n");
        const fs::path sim_json = dir / "sim.json", linkem_json = dir / "linkem.json";
        const Run sim =
            run_program("LINKEM_SIM_BIN", config + " --synthetic rate=1Mpps,size=64,count=1000 --stats-json " + sim_json.string(), 60);
        const Run live = run_linkem(config + " --duration 1s --stats-interval 0 --stats-json " + linkem_json.string(), 60);
        INFO(sim.output);
        INFO(live.output);
        REQUIRE(sim.status == 0);
        REQUIRE(live.status == 0);
        const nlohmann::json ab = link_in(read_json(linkem_json), "ab");
        CHECK(drops_of(ab, "model_error") > 1000);
        CHECK(ab.at("tx_packets") == 0);
        CHECK(ab.at("balanced") == true);
        CHECK(model_error_line(live.output) != "(none)");
        CHECK(model_error_line(live.output) == model_error_line(sim.output));
        CHECK(model_error_of(ab).is_object());
        CHECK(model_error_of(ab) == model_error_of(link_in(read_json(sim_json), "ab")));
    }
}

TEST_CASE("a model writing past the n entries of its output array is caught and named", "[model-contract][sim]") {
    if (!guarded_build()) LINKEM_SKIP("built with NDEBUG and without LINKEM_PLUGIN_GUARD: the guard is off");
    TempDir dir;
    for (const auto &[fields, message] :
         {std::pair<std::string, std::string>{bad("loss", "overrun"), "loss model \"bad_loss\" wrote past the"},
          {bad("delay", "overrun"), "delay model \"bad_delay\" wrote past the"},
          {bad("delay", "flood"), "delay model \"bad_delay\" wrote past the"}}) {  // 16 KiB
        const std::string config = dir.write("c.yaml", kPorts + "links:\n  - {name: ab, from: a, to: b, " + fields + "}\n");
        const Run r = run_program("LINKEM_SIM_BIN", config + " --synthetic rate=1Mpps,size=64,count=100", 60);
        INFO(r.output);
        CHECK(r.status != 0);
        CHECK_THAT(r.output, Catch::Contains(message) && Catch::Contains("a plugin bug"));
    }
}

TEST_CASE("each plugin a configuration names is opened once, however many instances use it", "[model-contract][plugin]") {
    const std::string yaml =
        "ports: {a: {device: n0}, b: {device: n1}}\nlinks:\n"
        "  - {name: ab, from: a, to: b, bandwidth: 10Mbit/s, delay: {plugin: normal, mean: 1ms, stddev: 100us},\n"
        "     loss: 1%, per_flow: {key: {src: /32}, max_flows: 300}}\n";
    LoadResult loaded = load_config_text(yaml, "t.yaml");
    REQUIRE(loaded.config);
    const PluginHost host({plugin_dir()});
    std::vector<ConfigError> errors;
    const int before = dlopen_calls;
    std::optional<LinkPlan> plan = plan_link(*loaded.config, 0, 1, host, &errors);
    REQUIRE(plan);
    REQUIRE(plan_flow_instances(*loaded.config, 0, 1, host, *plan, &errors));
    CHECK(plan->flow_instances.size() == 300);
    // The template's own instances are gone (only flows carry packets); each flow has its three.
    CHECK(!plan->bandwidth);
    CHECK(!plan->loss);
    CHECK(!plan->delay);
    CHECK(!plan->model.delay);
    CHECK(plan->flow_instances[299].delay);
    CHECK(plan->flow_instances[299].model.loss.state == plan->flow_instances[299].loss->state());
    CHECK(dlopen_calls - before == 3);  // lkm_bandwidth_constant, lkm_delay_normal, lkm_loss_bernoulli
    CHECK(host.files_opened() == 3);
}

TEST_CASE("a queue discipline on the plugin path: --list-plugins shows it, a configuration names it", "[model-contract][queue]") {
    TempDir dir;
    const char *fixture_dir = std::getenv("LINKEM_FIXTURE_DIR");
    REQUIRE(fixture_dir != nullptr);
    fs::copy_file(fs::path(fixture_dir) / "fixture_sojourn_cap.so", dir / "lkm_queue_sojourn_cap.so");
    const std::string config =
        dir.write("q.yaml", kPorts +
                                "links:\n  - {name: ab, from: a, to: b, bandwidth: 10Mbit/s, queue: {discipline: sojourn_cap, "
                                "cap: 5ms, ecn: true, limit: 200 packets}}\n");
    const std::string no_rate = dir.write("n.yaml", kPorts + "links:\n  - {name: ab, from: a, to: b, queue: {discipline: sojourn_cap}}\n");
    setenv("LINKEM_PLUGIN_PATH", (dir.path().string() + ":" + plugin_dir()).c_str(), 1);
    const Run list = run_linkem("--list-plugins", 60);
    const Run check = run_linkem(config + " --check", 60);
    const Run refused = run_linkem(no_rate + " --check", 60);
    unsetenv("LINKEM_PLUGIN_PATH");
    INFO(list.output);
    CHECK(list.status == 0);
    CHECK_THAT(list.output,
               Catch::Contains("queue     sojourn_cap") && Catch::Contains("cap ") && Catch::Contains("lkm_queue_sojourn_cap.so"));
    INFO(check.output);
    CHECK(check.status == 0);
    CHECK_THAT(check.output, Catch::Contains("queue: {discipline: sojourn_cap, limit: 200 packets, cap: 5ms, ecn: true}"));
    INFO(refused.output);
    CHECK(refused.status != 0);
    CHECK_THAT(refused.output, Catch::Contains("links[0].queue.discipline: a queue discipline needs a bandwidth limit"));
}

TEST_CASE("a shared object that crashes when opened does not affect a configuration that does not name it", "[model-contract][plugin]") {
    TempDir dir;
    const char *fixture_dir = std::getenv("LINKEM_FIXTURE_DIR");
    REQUIRE(fixture_dir != nullptr);
    fs::copy_file(fs::path(fixture_dir) / "fixture_constructor.crash", dir / "lkm_loss_boom.so");
    fs::copy_file(fs::path(fixture_dir) / "fixture_constructor.crash", dir / "other.so");
    const std::string config = dir.write("c.yaml", kPorts +
                                                       "links:\n  - {name: ab, from: a, to: b, bandwidth: 10Mbit/s, "
                                                       "delay: {plugin: normal, mean: 1ms, stddev: 100us}, loss: 1%}\n");
    setenv("LINKEM_PLUGIN_PATH", (dir.path().string() + ":" + plugin_dir()).c_str(), 1);
    const Run check = run_linkem(config + " --check", 60);
    const Run sim = run_program("LINKEM_SIM_BIN", config + " --synthetic rate=1Mpps,size=64,count=100", 60);
    // Naming it does open it, and so does --list-plugins: that one crashes, as it must.
    const std::string named = dir.write("boom.yaml", kPorts + "links:\n  - {name: ab, from: a, to: b, loss: {plugin: boom}}\n");
    const Run boom = run_linkem(named + " --check", 60);
    unsetenv("LINKEM_PLUGIN_PATH");
    INFO(check.output);
    CHECK(check.status == 0);
    INFO(sim.output);
    CHECK(sim.status == 0);
    INFO(boom.output);
    CHECK(boom.status != 0);
}

TEST_CASE("--check with 65 536 per-flow instances completes", "[model-contract][plugin]") {
    TempDir dir;
    const std::string config = dir.write(
        "c.yaml",
        kPorts +
            "links:\n  - {name: ab, from: a, to: b, bandwidth: 10Mbit/s, delay: 1ms, loss: 1%, queue: 8 packets, arena: 256 packets,\n"
            "     per_flow: {key: {src: /32, dst: /32, src_port: true, dst_port: true}, max_flows: 65536}}\n");
    setenv("LINKEM_PLUGIN_PATH", plugin_dir().c_str(), 1);
    const Run r = run_linkem(config + " --check", 240);
    unsetenv("LINKEM_PLUGIN_PATH");
    INFO(r.output.substr(0, 2000));
    CHECK(r.status == 0);
    CHECK_THAT(r.output, Catch::Contains("per flow: 65536 instances"));
    WARN("--check with 65 536 per-flow instances took " << r.seconds << " s");
}

namespace {

// The results of `count` packets through one model instance (loss verdicts or delays), from packet `first` on.
std::vector<uint64_t> draws(const ModelInstance &m, uint32_t first, uint32_t count) {
    std::vector<uint64_t> out;
    for (uint32_t k = first; k < first + count; k += 8) {
        lkm_pkt pkts[8];
        for (uint32_t j = 0; j < 8; ++j) pkts[j] = {1'000'000ULL * (k + j), 1'000'000ULL * (k + j) + 500, 1000, 1000};
        uint8_t drop[8 + 8];
        uint64_t delay[8 + 8];
        if (m.model().kind == LKM_KIND_LOSS) {
            m.model().loss_burst(m.state(), pkts, 8, drop);
            out.insert(out.end(), drop, drop + 8);
        } else {
            m.model().delay_burst(m.state(), pkts, 8, delay);
            out.insert(out.end(), delay, delay + 8);
        }
    }
    return out;
}

}  // namespace

TEST_CASE("linkem.carry: a new instance of the same model continues the old one's stream and state", "[model-contract]") {
    // For each built-in model with the extension: a restated, unchanged
    // parameter set must give the very draws an unchanged instance makes.
    const PluginHost host(plugin_dirs());
    const std::vector<std::pair<uint32_t, std::string>> models = {
        {LKM_KIND_LOSS, "{plugin: bernoulli, p: 30%}"},
        {LKM_KIND_LOSS, "{plugin: ber, ber: 1e-4}"},
        {LKM_KIND_LOSS, "{plugin: gilbert_elliott, p: 10%, r: 30%, loss_bad: 80%}"},
        {LKM_KIND_LOSS, "{plugin: markov4, p13: 10%, p31: 50%, p32: 20%, p23: 30%, p14: 5%}"},
        {LKM_KIND_DELAY, "{plugin: uniform, mean: 10ms, jitter: 2ms}"},
        {LKM_KIND_DELAY, "{plugin: normal, mean: 10ms, stddev: 2ms}"},
        {LKM_KIND_DELAY, "{plugin: pareto, mean: 10ms, jitter: 2ms}"},
        {LKM_KIND_DELAY, "{plugin: paretonormal, mean: 10ms, jitter: 2ms}"},
        {LKM_KIND_DELAY, "{plugin: exponential, min: 1ms, mean: 2ms}"},
    };
    for (const auto &[kind, spec] : models) {
        INFO(spec);
        const std::string yaml =
            fmt::format("ports: {{a: {{device: n0}}, b: {{device: n1}}}}\nlinks:\n  - {{name: ab, from: a, to: b, {}: {}}}\n",
                        kind == LKM_KIND_LOSS ? "loss" : "delay", spec);
        LoadResult loaded = load_config_text(yaml, "carry.yaml");
        REQUIRE(loaded.config);
        const ModelSpec &ms = kind == LKM_KIND_LOSS ? *loaded.config->links[0].loss : *loaded.config->links[0].delay;
        std::vector<ConfigError> errors;
        auto unchanged = host.instantiate(*loaded.config, ms, kind, "ab", 1, &errors);
        auto old_instance = host.instantiate(*loaded.config, ms, kind, "ab", 1, &errors);
        auto restated = host.instantiate(*loaded.config, ms, kind, "ab@1", 1, &errors);
        for (const auto &e : errors) UNSCOPED_INFO(e.to_string());
        REQUIRE(errors.empty());
        REQUIRE(restated->carry_callback() != nullptr);
        const std::vector<uint64_t> whole = draws(*unchanged, 0, 400);
        std::vector<uint64_t> changed = draws(*old_instance, 0, 200);
        restated->carry_callback()(restated->state(), old_instance->state());
        const std::vector<uint64_t> after = draws(*restated, 200, 200);
        changed.insert(changed.end(), after.begin(), after.end());
        CHECK(changed == whole);
    }
}
