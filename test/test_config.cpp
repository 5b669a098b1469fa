// [unit] config.hpp: the loader's result for valid input, and the exact
// position, key path and message of every error class.
#include "linkem/config.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <string>

using namespace linkem;

namespace {

const char *kIssueExample = R"(ports:
  a: { device: "net_tap0,iface=lkm-a" }
  b: { device: "net_tap1,iface=lkm-b" }
links:
  - name: a-to-b
    from: a
    to: b
    bandwidth: 50Mbit/s
    overhead: ethernet
    queue: 256KiB
    delay: 20ms
    loss: 1%
  - { name: b-to-a, from: b, to: a, bandwidth: 50Mbit/s, delay: 20ms }
pipeline: { burst: 32, lcores: [0, 1] }
seed: 1
eal: ["--log-level=lib.eal:notice"]
)";

// Two ports and one link, for tests that add one bad line.
std::string with_link_lines(const std::string &lines) {
    return "ports:\n  a: {device: net_null0}\n  b: {device: net_null1}\nlinks:\n  - name: ab\n    from: a\n    to: b\n" + lines;
}

Config must_load(const std::string &text) {
    LoadResult r = load_config_text(text, "t.yaml");
    for (const auto &e : r.errors) UNSCOPED_INFO(e.to_string());
    REQUIRE(r.config);
    return *r.config;
}

std::vector<ConfigError> errors_of(const std::string &text) {
    LoadResult r = load_config_text(text, "t.yaml");
    REQUIRE_FALSE(r.config);
    REQUIRE_FALSE(r.errors.empty());
    return r.errors;
}

// The one error expected: its line, column, key path and a part of its message.
void require_one_error(const std::string &text, int line, int column, const std::string &path, const std::string &message_part) {
    const auto errors = errors_of(text);
    for (const auto &e : errors) UNSCOPED_INFO(e.to_string());
    REQUIRE(errors.size() == 1);
    CHECK(errors[0].file == "t.yaml");
    CHECK(errors[0].pos.line == line);
    CHECK(errors[0].pos.column == column);
    CHECK(errors[0].path == path);
    CHECK_THAT(errors[0].message, Catch::Contains(message_part));
}

}  // namespace

TEST_CASE("the issue's example configuration loads with every field typed", "[unit][config]") {
    const Config c = must_load(kIssueExample);
    REQUIRE(c.ports.size() == 2);
    CHECK(c.ports[0].name == "a");
    CHECK(c.ports[0].device == "net_tap0,iface=lkm-a");
    REQUIRE(c.links.size() == 2);
    const Link &ab = c.links[0];
    CHECK(ab.name == "a-to-b");
    CHECK(ab.from == "a");
    CHECK(ab.to == "b");
    REQUIRE(ab.bandwidth);
    CHECK(ab.bandwidth->plugin == "constant");
    CHECK(ab.bandwidth->shorthand);
    CHECK(ab.bandwidth->rate("rate").value == Rate{50'000'000});
    CHECK(ab.overhead_bytes == 24);
    CHECK(ab.queue.bytes == 262'144u);
    CHECK_FALSE(ab.queue.packets);
    REQUIRE(ab.delay);
    CHECK(ab.delay->plugin == "constant");
    CHECK(ab.delay->duration("delay").value == Duration{20'000'000});
    REQUIRE(ab.loss);
    CHECK(ab.loss->plugin == "bernoulli");
    CHECK(ab.loss->probability("p").value->value() == Approx(0.01));
    const Link &ba = c.links[1];
    CHECK(ba.queue.packets == kDefaultQueuePackets);
    CHECK(ba.overhead_bytes == 0);
    CHECK_FALSE(ba.loss);
    CHECK(c.pipeline.burst == 32);
    CHECK(c.pipeline.lcores == std::vector<uint32_t>{0, 1});
    CHECK(c.seed == 1);
    CHECK(c.eal == std::vector<std::string>{"--log-level=lib.eal:notice"});
}

TEST_CASE("defaults apply when optional keys are left out", "[unit][config]") {
    const Config c = must_load(with_link_lines(""));
    const Link &l = c.links[0];
    CHECK_FALSE(l.bandwidth);
    CHECK_FALSE(l.delay);
    CHECK_FALSE(l.loss);
    CHECK(l.queue.packets == kDefaultQueuePackets);
    CHECK(c.pipeline.burst == Pipeline::kDefaultBurst);
    CHECK(c.pipeline.lcores.empty());
    CHECK(c.seed == 1);
    CHECK_FALSE(c.seed_random);
    CHECK(c.stats.lateness_tolerance.ns == 10'000);
    CHECK_FALSE(c.capture);
}

TEST_CASE("stats and capture: the lateness tolerance and live capture", "[unit][config]") {
    const Config c = must_load(with_link_lines("stats: {lateness_tolerance: 2us}\ncapture: true\n"));
    CHECK(c.stats.lateness_tolerance.ns == 2'000);
    CHECK(c.capture);
    CHECK_THAT(to_yaml(c), Catch::Contains("stats: {lateness_tolerance: 2us}") && Catch::Contains("capture: true"));
    require_one_error(with_link_lines("stats: {lateness_tolerance: 2s}\n"), 8, 29, "stats.lateness_tolerance",
                      "2s is out of range (0 to 1s)");
    require_one_error(with_link_lines("stats: {lateness_tolerance: fast}\n"), 8, 29, "stats.lateness_tolerance", "10us");
    require_one_error(with_link_lines("stats: {tolerance: 1us}\n"), 8, 9, "stats.tolerance", "lateness_tolerance");
    require_one_error(with_link_lines("stats: 5\n"), 8, 8, "stats", "expected a mapping");
    require_one_error(with_link_lines("capture: yes please\n"), 8, 10, "capture", "expected true or false");
}

TEST_CASE("plugin forms keep their parameters and positions for the plugin host", "[unit][config]") {
    const Config c =
        must_load(with_link_lines("    delay: {plugin: normal, mean: 20ms, stddev: 2ms}\n"
                                  "    loss:\n      plugin: pattern\n      drop: [3, 7, 11]\n"));
    const ModelSpec &d = *c.links[0].delay;
    CHECK(d.plugin == "normal");
    CHECK_FALSE(d.shorthand);
    CHECK(d.path == "links[0].delay");
    REQUIRE(d.params.size() == 2);
    CHECK(d.params[0].key == "mean");
    CHECK(d.params[0].path == "links[0].delay.mean");
    CHECK(d.params[0].pos.line == 8);
    CHECK(d.params[0].pos.column == 35);
    CHECK(d.duration("stddev").value == Duration{2'000'000});
    CHECK_THAT(d.duration("jitter").error, Catch::Contains("missing parameter \"jitter\""));
    const ModelSpec &l = *c.links[0].loss;
    CHECK(l.plugin == "pattern");
    REQUIRE(l.params.size() == 1);
    CHECK(l.params[0].is_list);
    CHECK(l.params[0].values == std::vector<std::string>{"3", "7", "11"});
}

TEST_CASE("queue limits in packets, bytes or both; overhead as a word or a byte count", "[unit][config]") {
    CHECK(must_load(with_link_lines("    queue: 1000 packets\n")).links[0].queue.packets == 1000u);
    const QueueLimit both = must_load(with_link_lines("    queue: {packets: 50, bytes: 1MiB}\n")).links[0].queue;
    CHECK(both.packets == 50u);
    CHECK(both.bytes == 1'048'576u);
    CHECK(must_load(with_link_lines("    overhead: 38\n")).links[0].overhead_bytes == 38);
    CHECK(must_load(with_link_lines("    overhead: none\n")).links[0].overhead_bytes == 0);
    CHECK(must_load("seed: random\n" + with_link_lines("")).seed_random);
    CHECK(must_load(with_link_lines("pipeline: {lcores: auto}\n")).pipeline.lcores.empty());
    CHECK(must_load(with_link_lines("    arena: 1M packets\n")).links[0].arena_packets == 1'000'000u);
    CHECK(must_load(with_link_lines("pipeline: {sleep_threshold: 20us}\n")).pipeline.sleep_threshold == Duration{20'000});
    CHECK(must_load(with_link_lines("pipeline: {lcores: [0, 1], classify_lcore: 2}\n")).pipeline.classify_lcore == 2u);
    CHECK(!must_load(with_link_lines("pipeline: {lcores: [0, 1]}\n")).pipeline.classify_lcore);
}

TEST_CASE("unknown keys name the nearest known key", "[unit][config][errors]") {
    require_one_error(with_link_lines("    bandwith: 10Mbit/s\n"), 8, 5, "links[0].bandwith",
                      "unknown key \"bandwith\"; did you mean \"bandwidth\"? (known keys: name, from, to, bandwidth");
    require_one_error("linsk: []\n" + with_link_lines(""), 1, 1, "linsk", "did you mean \"links\"?");
    require_one_error(with_link_lines("pipeline: {brust: 8}\n"), 8, 12, "pipeline.brust", "did you mean \"burst\"?");
    require_one_error(with_link_lines("    zzzzzz: 1\n"), 8, 5, "links[0].zzzzzz", "unknown key \"zzzzzz\" (known keys:");
}

TEST_CASE("a value of the wrong unit or type names its path and shows an example", "[unit][config][errors]") {
    require_one_error(with_link_lines("    delay: 20 parsecs\n"), 8, 12, "links[0].delay",
                      "\"20 parsecs\" is not a duration: unknown unit \"parsecs\" (examples: 250ns");
    require_one_error(with_link_lines("    bandwidth: fast\n"), 8, 16, "links[0].bandwidth", "is not a rate");
    require_one_error(with_link_lines("    loss: lots\n"), 8, 11, "links[0].loss", "is not a probability");
    require_one_error(with_link_lines("    delay: [1ms, 2ms]\n"), 8, 12, "links[0].delay",
                      "expected a duration such as 20ms or a model such as {plugin: normal");
    require_one_error(with_link_lines("    queue: lots\n"), 8, 12, "links[0].queue", "expected a size such as 256KiB or a packet count");
    require_one_error(with_link_lines("    overhead: ethernat\n"), 8, 15, "links[0].overhead", "did you mean \"ethernet\"?");
    require_one_error("ports: 7\nlinks: [{name: x, from: a, to: b}]\n", 1, 8, "ports", "expected a mapping of port names");
    require_one_error("ports: {a: {device: n0}, b: {device: n1}}\nlinks: {a: 1}\n", 2, 8, "links", "expected a list of links");
    require_one_error(with_link_lines("seed: -4\n"), 8, 7, "seed", "\"-4\" is not a whole number");
    require_one_error(with_link_lines("    delay:\n"), 8, 5, "links[0].delay", "got nothing");
}

TEST_CASE("values out of range say what the range is", "[unit][config][errors]") {
    require_one_error(with_link_lines("    bandwidth: 0bit/s\n"), 8, 16, "links[0].bandwidth", "out of range (1bit/s to 1Tbit/s");
    require_one_error(with_link_lines("    bandwidth: 2Tbit/s\n"), 8, 16, "links[0].bandwidth", "out of range");
    require_one_error(with_link_lines("    delay: 61s\n"), 8, 12, "links[0].delay", "61s is out of range (0 to 60s)");
    require_one_error(with_link_lines("    overhead: 2000\n"), 8, 15, "links[0].overhead", "out of range (0 to 1024 bytes)");
    require_one_error(with_link_lines("    queue: 0 packets\n"), 8, 12, "links[0].queue",
                      "out of range (1 to 10000000 packets, 64B to 1GiB)");
    require_one_error(with_link_lines("    queue: 32B\n"), 8, 12, "links[0].queue", "32B is out of range");
    require_one_error(with_link_lines("pipeline: {burst: 0}\n"), 8, 19, "pipeline.burst", "below the smallest allowed, 1 (range 1 to 512)");
    require_one_error(with_link_lines("pipeline: {burst: 513}\n"), 8, 19, "pipeline.burst", "(expected a whole number from 1 to 512)");
    require_one_error(with_link_lines("pipeline: {lcores: [0, 2000]}\n"), 8, 24, "pipeline.lcores[1]", "from 0 to 1023");
    require_one_error(with_link_lines("    arena: 10 packets\n"), 8, 12, "links[0].arena",
                      "10 packets is out of range (64 to 268435456 packets)");
    require_one_error(with_link_lines("pipeline: {sleep_threshold: 2s}\n"), 8, 29, "pipeline.sleep_threshold",
                      "2s is out of range (0 to 1s)");
    require_one_error(with_link_lines("pipeline: {lcores: [1, 1]}\n"), 8, 24, "pipeline.lcores[1]", "lcore 1 is listed twice");
    require_one_error(with_link_lines("pipeline: {lcores: [0, 1], classify_lcore: 1}\n"), 8, 24, "pipeline.lcores[1]",
                      "lcore 1 is also pipeline.classify_lcore");
    require_one_error(with_link_lines("pipeline: {classify_lcore: 4096}\n"), 8, 28, "pipeline.classify_lcore", "from 0 to 1023");
}

TEST_CASE("cross-field checks: endpoints, names, directions, devices", "[unit][config][errors]") {
    require_one_error(with_link_lines("").replace(with_link_lines("").find("to: b"), 5, "to: c"), 7, 9, "links[0].to",
                      "unknown port \"c\" (defined ports: a, b)");
    require_one_error(with_link_lines("").replace(with_link_lines("").find("to: b"), 5, "to: bb"), 7, 9, "links[0].to",
                      "did you mean \"b\"?");
    require_one_error(with_link_lines("").replace(with_link_lines("").find("to: b"), 5, "to: a"), 7, 9, "links[0].to",
                      "cannot go from port \"a\" back to the same port");
    require_one_error(with_link_lines("  - {name: ab, from: b, to: a}\n"), 8, 12, "links[1].name",
                      "duplicate link name \"ab\" (first used at line 5)");
    // Several links may start at one port (rules choose; the first is the default).
    const Config two = must_load(with_link_lines("  - {name: ab2, from: a, to: b}\n"));
    CHECK(two.links.size() == 2);
    require_one_error("ports:\n  a: {device: net_null0}\n  b: {device: net_null0}\nlinks: [{name: x, from: a, to: b}]\n", 3, 15,
                      "ports.b.device", "already used by port \"a\"");
    require_one_error(with_link_lines("").replace(with_link_lines("").find("    from: a\n"), 12, ""), 5, 5, "links[0]",
                      "link \"ab\" needs from and to (it is not a hop of any chain)");
    require_one_error("links: [{name: x, from: a, to: b}]\n", 1, 1, "ports", "missing required key \"ports\"");
    require_one_error(with_link_lines("    loss: {p: 1%}\n"), 8, 11, "links[0].loss.plugin", "missing required key \"plugin\"");
    require_one_error(with_link_lines("    loss: {plugin: x, p: {q: 1}}\n"), 8, 26, "links[0].loss.p",
                      "expected a value or a list of values");
    require_one_error("ports:\n  a b: {device: n0}\n  b: {device: n1}\nlinks: [{name: x, from: b, to: \"a b\"}]\n", 2, 3, "ports.a b",
                      "port name must be 1 to 24 letters");
}

TEST_CASE("duplicate keys are errors that point at both places", "[unit][config][errors]") {
    require_one_error(with_link_lines("    delay: 1ms\n    delay: 2ms\n"), 9, 5, "links[0].delay",
                      "duplicate key \"delay\" (first at line 8, column 5)");
    require_one_error("seed: 1\n" + with_link_lines("seed: 2\n"), 9, 1, "seed", "duplicate key \"seed\"");
}

TEST_CASE("all errors are collected, in file order", "[unit][config][errors]") {
    const auto errors = errors_of(with_link_lines("    delay: 5 parsecs\n    loss: 200%\n    bandwith: 1\npipeline: {burst: 0}\n"));
    REQUIRE(errors.size() == 4);
    CHECK(errors[0].path == "links[0].delay");
    CHECK(errors[1].path == "links[0].loss");
    CHECK(errors[2].path == "links[0].bandwith");
    CHECK(errors[3].path == "pipeline.burst");
    CHECK(errors[0].to_string() ==
          "t.yaml:8:12: links[0].delay: \"5 parsecs\" is not a duration: unknown unit \"parsecs\" "
          "(examples: 250ns, 10us, 1.5ms, 2s)");
}

TEST_CASE("a flood of errors is capped with a count of the rest", "[unit][config][errors]") {
    std::string text = "ports: {a: {device: n0}, b: {device: n1}}\nlinks:\n";
    for (int i = 0; i < 80; ++i) text += "  - {name: l" + std::to_string(i) + ", from: a, to: b, delay: x}\n";
    const LoadResult r = load_config_text(text, "t.yaml");
    CHECK(r.errors.size() == kMaxErrors);
    CHECK(r.error_count == 80);
}

TEST_CASE("malformed documents give one positioned error, never a crash", "[unit][config][malformed]") {
    SECTION("syntax error") { require_one_error("ports: {a: [1, 2\n", 2, 1, "", "YAML syntax: end of sequence flow not found"); }
    SECTION("tab indentation") {
        require_one_error("ports:\n\ta: {device: n0}\n", 2, 3, "", "indented with a tab; YAML indents with spaces only");
    }
    SECTION("empty file") { require_one_error("", 1, 1, "", "the file is empty"); }
    SECTION("only comments") { require_one_error("# nothing here\n", 1, 1, "", "the file is empty"); }
    SECTION("a scalar document") { require_one_error("hello\n", 1, 1, "", "expected a mapping with \"ports\" and \"links\""); }
    SECTION("binary data") { require_one_error(std::string("ports:\n  a\0b", 11), 2, 4, "", "binary data"); }
    SECTION("invalid UTF-8") { require_one_error("seed: \xff\xfe\n", 1, 7, "", "binary data"); }
    SECTION("overlong UTF-8") { require_one_error("seed: 1 # \xc0\x80\n", 1, 11, "", "binary data"); }
    SECTION("UTF-16 surrogate") { require_one_error("# \xc3\xa9 \xed\xa0\x80\n", 1, 6, "", "binary data"); }
    SECTION("two documents") { require_one_error(with_link_lines("---\nfoo: 1\n"), 9, 1, "", "a second YAML document"); }
    SECTION("deep nesting") {
        const std::string deep = "ports: " + std::string(100000, '[') + std::string(100000, ']') + "\n";
        const auto errors = errors_of(deep);
        REQUIRE(errors.size() == 1);
        CHECK(errors[0].pos.line == 1);  // yaml-cpp marks where it gave up, not where the limit was crossed
        CHECK_THAT(errors[0].message, Catch::Contains("nested deeper than"));
    }
    SECTION("too large") {
        const std::string big(kMaxConfigBytes + 1, '#');
        require_one_error(big, 1, 1, "", "a configuration is at most 256KiB");
    }
}

TEST_CASE("alias bombs are not expanded", "[unit][config][malformed]") {
    // Ten levels of nine-fold aliases: 9^10 nodes if anything expanded them.
    std::string text = "x0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n";
    for (int i = 1; i < 10; ++i) {
        text += "x" + std::to_string(i) + ": &a" + std::to_string(i) + " [";
        for (int k = 0; k < 9; ++k) text += (k ? ", *a" : "*a") + std::to_string(i - 1);
        text += "]\n";
    }
    const auto started = std::chrono::steady_clock::now();
    const auto unknown = errors_of(text + "ports: *a9\nlinks: *a9\neal: *a9\n");
    CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(1));
    CHECK(unknown.size() > 3);
    CHECK(unknown.front().path == "x0");
}

TEST_CASE("the effective configuration prints as YAML that loads back to itself", "[unit][config]") {
    const Config c = must_load(kIssueExample);
    const std::string printed = to_yaml(c);
    CHECK_THAT(printed, Catch::Contains("bandwidth: 50Mbit/s") && Catch::Contains("queue: 256KiB") && Catch::Contains("loss: 1%") &&
                            Catch::Contains("queue: \"1000 packets\""));
    const Config again = must_load(printed);
    CHECK(to_yaml(again) == printed);

    const Config units =
        must_load(with_link_lines("    bandwidth: 0.05Gbit/s\n    delay: 0.5s\n    loss: 0.001\n"
                                  "    queue: {packets: 10, bytes: 65536B}\n"));
    const std::string canonical = to_yaml(units);
    CHECK_THAT(canonical, Catch::Contains("bandwidth: 50Mbit/s") && Catch::Contains("delay: 500ms") && Catch::Contains("loss: 0.1%") &&
                              Catch::Contains("queue: {packets: 10, bytes: 64KiB}"));
    CHECK(to_yaml(must_load(canonical)) == canonical);

    const Config plugin =
        must_load(with_link_lines("    loss: {plugin: \"./my model.so\", drop: [1, 2], note: \"a: b\"}\n") + "eal: [\"--vdev=x,y=1\"]\n");
    const std::string quoted = to_yaml(plugin);
    CHECK_THAT(quoted, Catch::Contains("{plugin: \"./my model.so\", drop: [1, 2], note: \"a: b\"}"));
    CHECK(to_yaml(must_load(quoted)) == quoted);

    const std::string classify = to_yaml(must_load(with_link_lines("pipeline: {lcores: [0, 1], classify_lcore: 3}\n")));
    CHECK_THAT(classify, Catch::Contains("lcores: [0, 1], classify_lcore: 3"));
    CHECK(to_yaml(must_load(classify)) == classify);
}

TEST_CASE("corner cases: exact paths, no cascades, no hidden characters", "[unit][config][errors]") {
    // The path of a cross-link error uses the YAML index even when an earlier link failed.
    const auto errors =
        errors_of(with_link_lines("    delay: 5 parsecs\n  - {name: ba, from: b, to: a}\n  - {name: ba, from: b, to: a}\n"));
    REQUIRE(errors.size() == 2);
    CHECK(errors[1].path == "links[2].name");  // duplicate name (10:12)
    // A bad port is reported once, not again by every link that names it.
    require_one_error("ports:\n  a: null\n  b: {device: n1}\nlinks: [{name: x, from: a, to: b}]\n", 2, 3, "ports.a", "got nothing");
    require_one_error("ports: {}\nlinks: [{name: x, from: a, to: b}]\n", 1, 8, "ports", "got an empty mapping");
    require_one_error("ports:\n  a: {device: \"n0\\0x\"}\n  b: {device: n1}\nlinks: [{name: x, from: a, to: b}]\n", 2, 15, "ports.a.device",
                      "holds a control character");
    require_one_error(with_link_lines("    overhead: 99999999999999999999999\n"), 8, 15, "links[0].overhead",
                      "out of range (0 to 1024 bytes)");
}

TEST_CASE("strings YAML would read as null are quoted when printed", "[unit][config]") {
    const Config c = must_load("ports:\n  \"null\": {device: \"null\"}\n  b: {device: n1}\nlinks: [{name: x, from: \"null\", to: b}]\n");
    const std::string printed = to_yaml(c);
    CHECK_THAT(printed, Catch::Contains("\"null\": {device: \"null\"}"));
    CHECK(to_yaml(must_load(printed)) == printed);
}

TEST_CASE("long unknown names cost no more than short ones", "[unit][config][malformed]") {
    std::string text = "ports:\n";
    for (int i = 0; i < 2000; ++i) text += "  p" + std::to_string(i) + ": {device: n" + std::to_string(i) + "}\n";
    text += "  " + std::string(20000, 'p') + ": {device: x}\nlinks:\n";
    for (int i = 0; i < 100; ++i) text += "  - {name: l" + std::to_string(i) + ", from: " + std::string(20000, 'q') + ", to: p1}\n";
    text.resize(std::min(text.size(), kMaxConfigBytes));
    const auto started = std::chrono::steady_clock::now();
    const LoadResult r = load_config_text(text, "t.yaml");
    CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(1));
    CHECK_FALSE(r.config);
}
