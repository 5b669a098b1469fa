// [unit] Timelines (docs/CONFIG.md "Timeline"): the shapes the loader
// accepts, its positioned refusals (order, repeat, unknown links, keys that
// cannot change, bad values, plugin parameters and arenas at plan time), the
// printed form, the cursor's instants (groups, repeat, from: first_packet),
// and one change per instant.
#include "link_fixture.hpp"
#include "linkem/config_change.hpp"
#include "linkem/timeline.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using namespace linkem;
using linkem::test::plugin_dirs;

namespace {

const std::string kHead =
    "ports: {a: {device: n0}, b: {device: n1}}\n"                                             // line 1
    "links:\n"                                                                                // line 2
    "  - {name: a-to-b, from: a, to: b, bandwidth: 50Mbit/s, delay: 10ms, overhead: none}\n"  // line 3
    "  - {name: b-to-a, from: b, to: a, delay: 10ms}\n";                                      // line 4

LoadResult load(const std::string &timeline) { return load_config_text(kHead + timeline, "t.yaml"); }

std::vector<std::string> error_texts(const LoadResult &r) {
    std::vector<std::string> out;
    for (const ConfigError &e : r.errors) out.push_back(e.to_string());
    return out;
}

std::string only_error(const std::string &timeline) {
    const LoadResult r = load(timeline);
    for (const std::string &e : error_texts(r)) UNSCOPED_INFO(e);
    REQUIRE(r.errors.size() == 1);
    return r.errors.front().to_string();
}

}  // namespace

TEST_CASE("timeline: the long form, its steps' canonical values, printed and read back", "[unit]") {
    const LoadResult r = load(
        "timeline:\n"
        "  from: first_packet\n"
        "  repeat: 30s\n"
        "  steps:\n"
        "    - {at: 10s, link: a-to-b, set: {bandwidth: 5 Mbit/s}}\n"
        "    - {at: 20s, link: a-to-b, set: {bandwidth: 50Mbit/s, delay: {plugin: normal, mean: 30ms, stddev: 2ms}}}\n"
        "    - {at: 20s, link: b-to-a, set: {loss: 1%, queue: 100 packets}}\n");
    for (const std::string &e : error_texts(r)) UNSCOPED_INFO(e);
    REQUIRE(r.config);
    const Timeline &t = r.config->timeline;
    CHECK(t.from_first_packet);
    REQUIRE(t.repeat);
    CHECK(t.repeat->ns == 30'000'000'000);
    REQUIRE(t.steps.size() == 3);
    CHECK(t.steps[0].at.ns == 10'000'000'000);
    CHECK(t.steps[0].link_index == 0);
    CHECK(t.steps[0].link_name == "a-to-b");
    CHECK(t.steps[0].path == "timeline.steps[0]");
    CHECK(t.steps[0].set == std::vector<std::pair<std::string, std::string>>{{"bandwidth", "5Mbit/s"}});
    CHECK(t.steps[1].set == std::vector<std::pair<std::string, std::string>>{{"bandwidth", "50Mbit/s"},
                                                                             {"delay", "{plugin: normal, mean: 30ms, stddev: 2ms}"}});
    CHECK(t.steps[2].link_index == 1);
    CHECK(t.steps[2].set == std::vector<std::pair<std::string, std::string>>{{"loss", "1%"}, {"queue", "100 packets"}});
    // The step's link: its configured keys with the step's over them, positioned in the file.
    CHECK(t.steps[1].link.delay->path == "timeline.steps[1].set.delay");
    CHECK(t.steps[1].link.delay->pos.line == 10);
    CHECK(t.steps[1].link.bandwidth->params.front().values.front() == "50Mbit/s");
    CHECK(t.steps[0].link.delay->params.front().values.front() == "10ms");

    // Printed on one line, and read back to the same configuration.
    const std::string printed = to_yaml(*r.config);
    CHECK_THAT(printed, Catch::Contains("timeline: {from: first_packet, repeat: 30s, steps: [{at: 10s, link: a-to-b, set: {bandwidth: "
                                        "5Mbit/s}}, {at: 20s, link: a-to-b, set: {bandwidth: 50Mbit/s, delay: {plugin: normal, mean: "
                                        "30ms, stddev: 2ms}}}, {at: 20s, link: b-to-a, set: {loss: 1%, queue: 100 packets}}]}\n"));
    const LoadResult again = load_config_text(printed, "printed.yaml");
    for (const std::string &e : error_texts(again)) UNSCOPED_INFO(e);
    REQUIRE(again.config);
    CHECK(to_yaml(*again.config) == printed);
}

TEST_CASE("timeline: the short form is a list of steps from the start, without repeat", "[unit]") {
    const LoadResult r =
        load("timeline:\n  - {at: 0s, link: a-to-b, set: {delay: 30ms}}\n  - {at: 1.5s, link: b-to-a, set: {mangle: {duplicate: 1%}}}\n");
    for (const std::string &e : error_texts(r)) UNSCOPED_INFO(e);
    REQUIRE(r.config);
    const Timeline &t = r.config->timeline;
    CHECK_FALSE(t.from_first_packet);
    CHECK_FALSE(t.repeat);
    REQUIRE(t.steps.size() == 2);
    CHECK(t.steps[0].at.ns == 0);
    CHECK(t.steps[0].path == "timeline[0]");
    CHECK(t.steps[1].at.ns == 1'500'000'000);
    CHECK(t.steps[1].set.front().first == "mangle");
    CHECK_THAT(to_yaml(*r.config), Catch::Contains("timeline: {from: start, steps: [{at: 0ns, link: a-to-b, set: {delay: 30ms}}, "));
    // No timeline: nothing printed.
    const LoadResult none = load("");
    REQUIRE(none.config);
    CHECK(none.config->timeline.steps.empty());
    CHECK_THAT(to_yaml(*none.config), !Catch::Contains("timeline"));
}

TEST_CASE("timeline: refusals name the file, line, column and key path", "[unit]") {
    // Values: the same units and messages as the link's own keys.
    CHECK(only_error("timeline:\n  - {at: 1s, link: a-to-b, set: {delay: 30 parsecs}}\n")
              .rfind("t.yaml:6:41: timeline[0].set.delay: \"30 parsecs\" is not a duration", 0) == 0);
    CHECK(only_error("timeline: {steps: [{at: 1s, link: a-to-b, set: {loss: 120%}}]}\n")
              .rfind("t.yaml:5:55: timeline.steps[0].set.loss: ", 0) == 0);
    // Unknown link, unknown key (netem's word gets its hint), keys that cannot change while linkem runs.
    CHECK(only_error("timeline:\n  - {at: 1s, link: a-to-c, set: {delay: 30ms}}\n") ==
          "t.yaml:6:20: timeline[0].link: unknown link \"a-to-c\"; did you mean \"a-to-b\"? (links: a-to-b, b-to-a)");
    CHECK(only_error("timeline:\n  - {at: 1s, link: a-to-b, set: {rate: 5Mbit/s}}\n")
              .rfind("t.yaml:6:34: timeline[0].set.rate: unknown key \"rate\"; netem's rate is linkem's bandwidth", 0) == 0);
    CHECK(only_error("timeline:\n  - {at: 1s, link: a-to-b, set: {to: a}}\n") ==
          "t.yaml:6:34: timeline[0].set.to: a link's to cannot change while linkem runs");
    CHECK(only_error("timeline:\n  - {at: 1s, link: a-to-b, set: {arena: 1M packets}}\n")
              .rfind("t.yaml:6:34: timeline[0].set.arena: the arena is made at start; it cannot change while linkem runs", 0) == 0);
    CHECK(only_error("timeline:\n  - {at: 1s, link: a-to-b, set: {mangle: {reorder: {probability: 1%, extra_delay: 1ms}}}}\n")
              .rfind("t.yaml:6:42: timeline[0].set.mangle.reorder: mangle.reorder needs a second lane", 0) == 0);
    CHECK(only_error("timeline:\n  - {at: 1s, link: a-to-b, set: {}}\n")
              .rfind("t.yaml:6:33: timeline[0].set: expected a mapping of link keys", 0) == 0);
    CHECK(only_error("timeline:\n  - {at: 1s, set: {delay: 1ms}}\n") ==
          "t.yaml:6:5: timeline[0].link: missing required key \"link\" (example: {at: 10s, link: a-to-b, set: {bandwidth: 5Mbit/s}})");
    // Time: at >= 0, in order, repeat longer than the last step's at.
    CHECK(only_error("timeline:\n  - {at: -1s, link: a-to-b, set: {delay: 1ms}}\n")
              .rfind("t.yaml:6:10: timeline[0].at: \"-1s\" is not a duration", 0) == 0);
    CHECK(only_error("timeline:\n  - {at: 2s, link: a-to-b, set: {delay: 1ms}}\n  - {at: 1s, link: b-to-a, set: {delay: 1ms}}\n") ==
          "t.yaml:7:10: timeline[1].at: steps are in time order: at 1s comes after timeline[0] at 2s");
    CHECK(only_error("timeline:\n  repeat: 2s\n  steps:\n    - {at: 2s, link: a-to-b, set: {delay: 1ms}}\n") ==
          "t.yaml:6:11: timeline.repeat: repeat (2s) must be longer than the last step's at (2s, timeline.steps[0])");
    CHECK(only_error("timeline: {from: first_pkt, steps: [{at: 1s, link: a-to-b, set: {delay: 1ms}}]}\n")
              .rfind("t.yaml:5:18: timeline.from: \"first_pkt\" is not an origin: start", 0) == 0);
    CHECK(only_error("timeline: {from: start}\n").rfind("t.yaml:5:11: timeline.steps: missing required key \"steps\"", 0) == 0);
    CHECK(only_error("timeline: []\n").rfind("t.yaml:5:11: timeline: a timeline needs at least one step", 0) == 0);
    CHECK(only_error("timeline: 10s\n").rfind("t.yaml:5:11: timeline: expected a list of steps", 0) == 0);
}

TEST_CASE("timeline: a step's plugin parameters and its arena are checked when the links are planned, where it is written", "[unit]") {
    const PluginHost host(plugin_dirs());
    const LoadResult bad = load("timeline:\n  - {at: 1s, link: a-to-b, set: {delay: {plugin: normal, mean: 20ms, stdev: 2ms}}}\n");
    REQUIRE(bad.config);  // the loader leaves an explicit plugin's parameters to the plugin
    std::vector<ConfigError> errors;
    CHECK_FALSE(plan_links(*bad.config, 1, host, &errors));
    REQUIRE_FALSE(errors.empty());
    INFO(errors.front().to_string());
    CHECK(errors.front().to_string().rfind("t.yaml:6:", 0) == 0);
    CHECK(errors.front().path.rfind("timeline[0].set.delay", 0) == 0);

    const LoadResult big = load("timeline:\n  - {at: 1s, link: a-to-b, set: {delay: 50s}}\n");
    REQUIRE(big.config);
    errors.clear();
    CHECK_FALSE(plan_links(*big.config, 1, host, &errors));
    REQUIRE(errors.size() == 1);
    INFO(errors.front().to_string());
    CHECK(errors.front().to_string().rfind("t.yaml:6:10: timeline[0]: this step needs an arena of 512MiB", 0) == 0);
    CHECK_THAT(errors.front().message, Catch::Contains("give it headroom with arena:"));

    // Each step over what the ones before left: 100 ms of delay at 50 Mbit/s would need 4 MiB, at 1 Mbit/s it fits.
    const LoadResult slow = load(
        "timeline:\n  - {at: 1s, link: a-to-b, set: {bandwidth: 1Mbit/s}}\n"
        "  - {at: 2s, link: a-to-b, set: {delay: 100ms}}\n");
    REQUIRE(slow.config);
    errors.clear();
    CHECK(plan_links(*slow.config, 1, host, &errors));
    for (const ConfigError &e : errors) UNSCOPED_INFO(e.to_string());
    CHECK(errors.empty());
    const LoadResult fast = load("timeline:\n  - {at: 2s, link: a-to-b, set: {delay: 100ms}}\n");
    REQUIRE(fast.config);
    errors.clear();
    CHECK_FALSE(plan_links(*fast.config, 1, host, &errors));
    REQUIRE(errors.size() == 1);
    CHECK(errors.front().to_string().rfind("t.yaml:6:10: timeline[0]: this step needs an arena of 4MiB", 0) == 0);

    const LoadResult good = load("timeline:\n  - {at: 1s, link: a-to-b, set: {loss: {plugin: gilbert_elliott, p: 1%, r: 30%}}}\n");
    REQUIRE(good.config);
    errors.clear();
    CHECK(plan_links(*good.config, 1, host, &errors));
    CHECK(errors.empty());
}

TEST_CASE("timeline cursor: instants from the origin, one group per instant, repeated", "[unit]") {
    const LoadResult r = load(
        "timeline:\n  repeat: 10s\n  steps:\n"
        "    - {at: 0s, link: a-to-b, set: {delay: 20ms}}\n"
        "    - {at: 4s, link: a-to-b, set: {delay: 30ms}}\n"
        "    - {at: 4s, link: b-to-a, set: {delay: 40ms}}\n"
        "    - {at: 4s, link: a-to-b, set: {bandwidth: 5Mbit/s}}\n"
        "    - {at: 6s, link: a-to-b, set: {delay: 10ms}}\n");
    REQUIRE(r.config);
    TimelineCursor t(r.config->timeline);
    CHECK(t.next_ns() == TimelineCursor::kNone);  // no origin yet
    t.start(1'000);
    std::vector<uint64_t> instants;
    std::vector<size_t> sizes;
    for (int k = 0; k < 7; ++k) {
        instants.push_back(t.next_ns());
        sizes.push_back(t.next_steps().size());
        t.advance();
    }
    CHECK(instants ==
          std::vector<uint64_t>{1'000, 4'000'001'000, 6'000'001'000, 10'000'001'000, 14'000'001'000, 16'000'001'000, 20'000'001'000});
    CHECK(sizes == std::vector<size_t>{1, 3, 1, 1, 3, 1, 1});
    CHECK(t.repetition() == 2);

    // The instant at 4 s: one change of both links, a-to-b's two steps together.
    TimelineCursor u(r.config->timeline);
    u.start(0);
    u.advance();
    const ChangeCandidate c = u.next_change(*r.config);
    for (const ConfigError &e : c.errors) UNSCOPED_INFO(e.to_string());
    REQUIRE(c.config);
    REQUIRE(c.edits.size() == 2);
    CHECK(c.edits[0].link == 0);
    CHECK(c.edits[0].keys == std::vector<std::pair<std::string, std::string>>{{"bandwidth", "5Mbit/s"}, {"delay", "30ms"}});
    CHECK(c.edits[1].link == 1);
    CHECK(c.edits[1].keys == std::vector<std::pair<std::string, std::string>>{{"delay", "40ms"}});

    // Without repeat it ends.
    const LoadResult once = load("timeline:\n  - {at: 1s, link: a-to-b, set: {delay: 20ms}}\n");
    REQUIRE(once.config);
    TimelineCursor o(once.config->timeline);
    o.start(5);
    CHECK(o.next_ns() == 1'000'000'005);
    o.advance();
    CHECK(o.next_ns() == TimelineCursor::kNone);
}

TEST_CASE("apply: a file whose timeline differs is refused", "[unit]") {
    const LoadResult r = load("timeline:\n  - {at: 1s, link: a-to-b, set: {delay: 20ms}}\n");
    REQUIRE(r.config);
    const ChangeCandidate same =
        load_change_text(*r.config, kHead + "timeline:\n  - {at: 1s, link: a-to-b, set: {delay: 20ms}}\n", "new.yaml");
    for (const ConfigError &e : same.errors) UNSCOPED_INFO(e.to_string());
    CHECK(same.config);
    const ChangeCandidate other =
        load_change_text(*r.config, kHead + "timeline:\n  - {at: 2s, link: a-to-b, set: {delay: 20ms}}\n", "new.yaml");
    REQUIRE(other.errors.size() == 1);
    CHECK(other.errors.front().to_string().rfind("new.yaml:5:1: timeline: timeline cannot change while linkem runs", 0) == 0);
}
