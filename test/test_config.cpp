// [unit] config.hpp: the loader's result for valid input, and the exact
// position, key path and message of every error class.
#include "linkem/config.hpp"
#include "linkem/device_iface.hpp"
#include "linkem/route_plan.hpp"

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

// Links ab (a to b) and ba (b to a), then `rules:` and these lines (the first rule on line 10).
std::string with_rule_lines(const std::string &lines) { return with_link_lines("  - {name: ba, from: b, to: a}\nrules:\n") + lines; }

// Three ports, then `links:` and these lines (the first link on line 6).
std::string with_three_ports(const std::string &lines) {
    return "ports:\n  a: {device: net_null0}\n  b: {device: net_null1}\n  c: {device: net_null2}\nlinks:\n" + lines;
}

constexpr uint64_t kPercent = Probability::kOne / 100;

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

TEST_CASE("stats.prometheus: the metrics address, printed back, with positioned errors", "[unit][config]") {
    CHECK_FALSE(must_load(with_link_lines("")).stats.prometheus);
    const Config c = must_load(with_link_lines("stats: {prometheus: 127.0.0.1:9464}\n"));
    REQUIRE(c.stats.prometheus);
    CHECK(c.stats.prometheus->host == "127.0.0.1");
    CHECK(c.stats.prometheus->port == 9464);
    CHECK_THAT(to_yaml(c), Catch::Contains("stats: {lateness_tolerance: 10us, prometheus: \"127.0.0.1:9464\"}"));
    const Config v6 = must_load(with_link_lines("stats: {prometheus: \"[::1]:9100\"}\n"));
    REQUIRE(v6.stats.prometheus);
    CHECK(v6.stats.prometheus->host == "::1");
    CHECK(v6.stats.prometheus->to_string() == "[::1]:9100");
    CHECK(must_load(to_yaml(v6)).stats.prometheus == v6.stats.prometheus);  // prints back to the same address
    CHECK(must_load(with_link_lines("stats: {prometheus: \"localhost:9464\"}\n")).stats.prometheus->host == "localhost");
    // stats: {prometheus: VALUE}: the value starts at column 21 of line 8.
    require_one_error(with_link_lines("stats: {prometheus: 9464}\n"), 8, 21, "stats.prometheus", "no \":PORT\"");
    require_one_error(with_link_lines("stats: {prometheus: \"127.0.0.1:99999\"}\n"), 8, 21, "stats.prometheus",
                      "the port must be a number from 1 to 65535, not \"99999\"");
    require_one_error(with_link_lines("stats: {prometheus: \"127.0.0.1:0\"}\n"), 8, 21, "stats.prometheus", "from 1 to 65535");
    require_one_error(with_link_lines("stats: {prometheus: \"300.1.1.1:9464\"}\n"), 8, 21, "stats.prometheus",
                      "\"300.1.1.1\" is not an IPv4 address");
    require_one_error(with_link_lines("stats: {prometheus: \"::1:9464\"}\n"), 8, 21, "stats.prometheus", "in brackets");
    require_one_error(with_link_lines("stats: {prometheus: \":9464\"}\n"), 8, 21, "stats.prometheus", "no host");
    require_one_error(with_link_lines("stats: {prometheus: [1, 2]}\n"), 8, 21, "stats.prometheus", "expected an address such as");
    require_one_error(with_link_lines("stats: {prometheus: \"127.0.0.1:9464\", prometeus: 1}\n"), 8, 39, "stats.prometeus",
                      "did you mean \"prometheus\"?");
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

TEST_CASE("name: the instance's name, EAL's file prefix, printed back, with positioned errors", "[unit][config]") {
    CHECK(must_load(with_link_lines("")).name == "linkem");
    const Config c = must_load(with_link_lines("name: lab-2.b_3\n"));
    CHECK(c.name == "lab-2.b_3");
    CHECK_THAT(to_yaml(c), Catch::StartsWith("name: lab-2.b_3\n"));
    CHECK(must_load(to_yaml(c)).name == "lab-2.b_3");
    require_one_error(with_link_lines("name: a/b\n"), 8, 7, "name", "\"a/b\" is not an instance name");
    require_one_error(with_link_lines("name: ..\n"), 8, 7, "name", "not starting with '.' or '-'");
    require_one_error(with_link_lines("name: -x\n"), 8, 7, "name", "not starting with '.' or '-'");
    require_one_error(with_link_lines("name: \"\"\n"), 8, 7, "name", "an instance name is empty");
    require_one_error(with_link_lines("name: " + std::string(33, 'a') + "\n"), 8, 7, "name", "33 characters long");
    require_one_error(with_link_lines("name: [a]\n"), 8, 7, "name", "expected an instance name");
    // The file prefix is the name: an EAL --file-prefix of the user's is refused where it is written.
    require_one_error(with_link_lines("eal: [\"-l\", \"--file-prefix=x\"]\n"), 8, 13, "eal[1]", "write `name: NAME`");
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
    const Config backoff = must_load(with_link_lines("pipeline: {idle_after: 250ms, idle_nap: 2ms}\n"));
    CHECK(backoff.pipeline.idle_after == Duration{250'000'000});
    CHECK(backoff.pipeline.idle_nap == Duration{2'000'000});
    CHECK(must_load(with_link_lines("")).pipeline.idle_nap == Duration{Pipeline::kDefaultIdleNapNs});
    require_one_error(with_link_lines("pipeline: {idle_nap: 20ms}\n"), 8, 22, "pipeline.idle_nap", "20ms is out of range (0 to 10ms)");
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
    SECTION("two documents") {  // at the "---" that starts the second
        require_one_error(with_link_lines("---\nfoo: 1\n"), 8, 1, "", "a second YAML document: a configuration is one document");
    }
    SECTION("a document after \"...\"") {
        require_one_error(with_link_lines("...\nfoo: 1\n"), 9, 1, "", "a second YAML document after a \"...\" line");
    }
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
                            Catch::Contains("queue: 1000 packets"));
    const Config again = must_load(printed);
    CHECK(to_yaml(again) == printed);

    const Config units =
        must_load(with_link_lines("    bandwidth: 0.05Gbit/s\n    delay: 0.5s\n    loss: 0.100%\n"
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

TEST_CASE("model parameter names print as YAML that loads back to the same name", "[unit][config]") {
    // A plain "%" would start a YAML directive: "{plugin: normal, %: 1}" does not load.
    const Config c = must_load(with_link_lines("    delay: {plugin: normal, \"%\": 1, \"%x\": [2], \"a%\": 3}\n"));
    const std::string printed = to_yaml(c);
    CHECK_THAT(printed, Catch::Contains("delay: {plugin: normal, \"%\": 1, \"%x\": [2], a%: 3}"));
    CHECK(to_yaml(must_load(printed)) == printed);
}

TEST_CASE("a model parameter name with a control character is refused where it stands", "[unit][config][errors]") {
    // Such a name matches no model's parameter; refused at load, it never reaches a message or the print.
    require_one_error(with_link_lines("    delay: {plugin: normal, mean: 1ms, \"\\x01\": 1}\n"), 8, 40, "links[0].delay",
                      "a parameter name holds a control character");
    require_one_error(with_link_lines("    loss: {plugin: x, \"a\\tb\": [1]}\n"), 8, 23, "links[0].loss", "holds a control character");
    require_one_error(with_link_lines("    loss: {plugin: x, \"\\x7f\": 0}\n"), 8, 23, "links[0].loss", "holds a control character");
}

TEST_CASE("escapes that yaml-cpp decodes to bytes that are not UTF-8 are refused where they stand", "[unit][config][errors]") {
    // yaml-cpp 0.7 reads "\N" as the byte 0x85 and "\_" as 0xA0; printed back, such a string would not load.
    require_one_error("ports:\n  a: {device: \"n\\N0\"}\n  b: {device: n1}\nlinks: [{name: x, from: a, to: b}]\n", 2, 15, "ports.a.device",
                      "the value holds bytes that are not UTF-8");
    require_one_error(with_link_lines("    delay: {plugin: normal, mean: \"1\\Nms\"}\n"), 8, 35, "links[0].delay.mean", "not UTF-8");
    require_one_error(with_link_lines("    loss: {plugin: x, drop: [1, \"\\_\"]}\n"), 8, 33, "links[0].loss.drop[1]", "not UTF-8");
    require_one_error(with_link_lines("    loss: {plugin: x, \"a\\_\": 1}\n"), 8, 23, "links[0].loss",
                      "a key holds bytes that are not UTF-8");
    require_one_error(with_link_lines("eal: [\"--a\\_b\"]\n"), 8, 7, "eal[0]", "not UTF-8");
    require_one_error(with_link_lines("    loss: {plugin: x, note: \"a\\0b\"}\n"), 8, 29, "links[0].loss.note", "holds a NUL character");
    // The same characters written as \u escapes are text, and print back to themselves.
    const Config c = must_load(with_link_lines("    loss: {plugin: x, note: \"a\\u0085\\u00a0b\"}\n"));
    CHECK(to_yaml(must_load(to_yaml(c))) == to_yaml(c));
}

TEST_CASE("an error is one line: control characters from the file show as \\xHH", "[unit][config][errors]") {
    const auto errors = errors_of("ports: {\"a\\nb\": {device: n0}, b: {device: n1}}\nlinks: [{name: \"x\\e[2Jy\", from: b, to: b}]\n");
    REQUIRE(errors.size() >= 2);
    CHECK(errors[0].to_string().find('\n') == std::string::npos);
    CHECK_THAT(errors[0].to_string(), Catch::StartsWith("t.yaml:1:9: ports.a\\x0ab: port name must be"));
    CHECK(errors[1].to_string().find('\x1b') == std::string::npos);
    CHECK_THAT(errors[1].to_string(), Catch::Contains("link name \"x\\x1b[2Jy\""));
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

TEST_CASE("rules: every match field, each action and a chain load typed", "[unit][config]") {
    const Config c = must_load(
        with_three_ports("  - name: ab\n    from: a\n    to: b\n"
                         "  - {name: ba, from: b, to: a}\n"
                         "  - {name: in, from: a}\n  - {name: mid}\n  - {name: out, to: c, mangle: {ecn: true}}\n"
                         "rules:\n"
                         "  - {match: {port: a, ether_type: ipv4, vlan: 10, inner_vlan: 20, src: 10.1.0.0/16, dst: 10.2.3.4, proto: udp, "
                         "src_port: 53, dst_port: 5000-6000, dscp: 8-15}, link: ab}\n"
                         "  - match: {ether_type: 0x86DD, src: \"2001:db8::/32\", dst: \"::1\", proto: 58}\n    chain: [in, mid, out]\n"
                         "  - {match: {port: b, dscp: 46}, action: pass}\n"
                         "  - {match: {port: a}, link: ab}\n"
                         "  - {action: drop}\n"));
    REQUIRE(c.links.size() == 5);
    CHECK(c.links[2].from == "a");
    CHECK(c.links[2].to.empty());
    CHECK(c.links[3].from.empty());
    CHECK(c.links[3].to.empty());
    CHECK(c.links[4].from.empty());
    CHECK(c.links[4].to == "c");
    REQUIRE(c.rules.size() == 5);

    const Rule &all = c.rules[0];
    CHECK(all.action == Rule::Action::kLink);
    CHECK(all.links == std::vector<size_t>{0});
    CHECK(all.path == "rules[0]");
    CHECK(all.pos.line == 14);
    CHECK(all.pos.column == 5);
    const RuleMatch &m = all.match;
    CHECK(m.fields == (RuleMatch::kPort | RuleMatch::kEtherType | RuleMatch::kVlan | RuleMatch::kInnerVlan | RuleMatch::kSrc |
                       RuleMatch::kDst | RuleMatch::kProto | RuleMatch::kSrcPort | RuleMatch::kDstPort | RuleMatch::kDscp));
    CHECK(m.port == 0);
    CHECK(m.ether_type == 0x0800);
    CHECK(m.vlan == 10);
    CHECK(m.inner_vlan == 20);
    CHECK(m.src.version == 4);
    CHECK(m.src.length == 16);
    CHECK((m.src.bytes[0] == 10 && m.src.bytes[1] == 1 && m.src.bytes[2] == 0));
    CHECK(m.dst.version == 4);
    CHECK(m.dst.length == 32);
    CHECK((m.dst.bytes[0] == 10 && m.dst.bytes[1] == 2 && m.dst.bytes[2] == 3 && m.dst.bytes[3] == 4));
    CHECK(m.proto == 17);
    CHECK((m.src_port.lo == 53 && m.src_port.hi == 53));
    CHECK((m.dst_port.lo == 5000 && m.dst_port.hi == 6000));
    CHECK(m.dscp_set == 0xff00u);  // 8 to 15
    const std::vector<std::pair<std::string, std::string>> canonical = {
        {"port", "a"},          {"ether_type", "0x0800"}, {"vlan", "10"},     {"inner_vlan", "20"},      {"src", "10.1.0.0/16"},
        {"dst", "10.2.3.4/32"}, {"proto", "17"},          {"src_port", "53"}, {"dst_port", "5000-6000"}, {"dscp", "8-15"}};
    CHECK(all.match_text == canonical);

    const Rule &chain = c.rules[1];
    CHECK(chain.action == Rule::Action::kChain);
    CHECK(chain.links == std::vector<size_t>{2, 3, 4});
    CHECK(chain.match.fields == (RuleMatch::kEtherType | RuleMatch::kSrc | RuleMatch::kDst | RuleMatch::kProto));
    CHECK(chain.match.ether_type == 0x86dd);
    CHECK(chain.match.src.version == 6);
    CHECK(chain.match.src.length == 32);
    CHECK((chain.match.src.bytes[0] == 0x20 && chain.match.src.bytes[1] == 0x01 && chain.match.src.bytes[2] == 0x0d &&
           chain.match.src.bytes[3] == 0xb8));
    CHECK(chain.match.dst.version == 6);
    CHECK(chain.match.dst.length == 128);
    CHECK(chain.match.dst.bytes[15] == 1);
    CHECK(chain.match.proto == 58);

    const Rule &pass = c.rules[2];
    CHECK(pass.action == Rule::Action::kPass);
    CHECK(pass.links.empty());
    CHECK(pass.match.fields == (RuleMatch::kPort | RuleMatch::kDscp));
    CHECK(pass.match.port == 1);
    CHECK(pass.match.dscp_set == uint64_t{1} << 46);

    CHECK(c.rules[3].action == Rule::Action::kLink);  // `link: X` with X's own from port
    CHECK(c.rules[3].match.fields == RuleMatch::kPort);

    const Rule &drop = c.rules[4];
    CHECK(drop.action == Rule::Action::kDrop);
    CHECK(drop.match.fields == 0);
    CHECK(drop.match_text.empty());
    CHECK(drop.path == "rules[4]");

    CHECK(must_load(with_link_lines("rules: []\n")).rules.empty());
    CHECK(must_load(with_link_lines("rules:\n  - {match: {ether_type: 2048, proto: ICMPv6, src_port: \" 80 \"}, action: drop}\n"))
              .rules[0]
              .match_text ==
          std::vector<std::pair<std::string, std::string>>{{"ether_type", "0x0800"}, {"proto", "58"}, {"src_port", "80"}});
    // A link may be named by a rule and still be its port's default; per-flow templates may be named.
    const Config named = must_load(with_rule_lines("  - {match: {dst: 10.0.0.0/8}, link: ba}\n"));
    CHECK(named.rules[0].links == std::vector<size_t>{1});
    CHECK(must_load(with_link_lines("    per_flow: {key: {dst: /24}}\nrules: [{link: ab}]\n")).rules.size() == 1);
    // The longest chain: 8 hops.
    const Config eight = must_load(with_link_lines(
        "  - {name: h1, from: b}\n  - {name: h2}\n  - {name: h3}\n  - {name: h4}\n  - {name: h5}\n  - {name: h6}\n  - {name: h7}\n"
        "  - {name: h8, to: a}\nrules: [{chain: [h1, h2, h3, h4, h5, h6, h7, h8]}]\n"));
    CHECK(eight.rules[0].links == std::vector<size_t>{1, 2, 3, 4, 5, 6, 7, 8});
    std::string many = with_link_lines("rules:\n");
    for (size_t i = 0; i < kMaxRules; ++i) many += "  - {action: pass}\n";
    CHECK(must_load(many).rules.size() == kMaxRules);
}

TEST_CASE("mangle: every form loads to its typed value", "[unit][config]") {
    const Mangle m = must_load(with_link_lines("    mangle: {duplicate: 1%, corrupt: 0.5%, truncate: 128B, ecn: true, "
                                               "reorder: {probability: 2%, extra_delay: 5ms}}\n"))
                         .links[0]
                         .mangle;
    CHECK(m.any());
    CHECK(m.duplicate == Probability{kPercent});
    CHECK(m.corrupt == Probability{kPercent / 2});
    CHECK_FALSE(m.corrupt_ber);
    CHECK(m.truncate_bytes == 128u);
    CHECK(m.ecn);
    CHECK(m.reorder == Probability{2 * kPercent});
    CHECK(m.reorder_extra_delay == Duration{5'000'000});

    const Mangle per_packet = must_load(with_link_lines("    mangle:\n      corrupt: {probability: 0.1%}\n")).links[0].mangle;
    CHECK(per_packet.corrupt == Probability{kPercent / 10});
    CHECK_FALSE(per_packet.corrupt_ber);
    const Mangle ber = must_load(with_link_lines("    mangle: {corrupt: {ber: 0.0001%}}\n")).links[0].mangle;
    CHECK_FALSE(ber.corrupt);
    CHECK(ber.corrupt_ber == Probability{1'000'000'000'000});
    CHECK_FALSE(ber.duplicate);
    CHECK_FALSE(ber.reorder);
    CHECK(ber.any());

    CHECK(must_load(with_link_lines("    mangle: {truncate: 14B}\n")).links[0].mangle.truncate_bytes == 14u);
    CHECK(must_load(with_link_lines("    mangle: {truncate: 65535B}\n")).links[0].mangle.truncate_bytes == 65535u);
    CHECK(must_load(with_link_lines("    mangle: {reorder: {probability: 100%, extra_delay: 60s}}\n")).links[0].mangle.reorder ==
          Probability{Probability::kOne});
    CHECK_FALSE(must_load(with_link_lines("")).links[0].mangle.any());
    CHECK_FALSE(must_load(with_link_lines("    mangle: {ecn: false}\n")).links[0].mangle.any());
    CHECK_FALSE(must_load(with_link_lines("    mangle: {}\n")).links[0].mangle.any());
    // The last hop of a chain may mangle.
    const Config chain =
        must_load(with_link_lines("  - {name: h1, from: b}\n  - {name: h2, to: a, mangle: {duplicate: 1%}}\nrules: [{chain: [h1, h2]}]\n"));
    CHECK(chain.links[2].mangle.duplicate == Probability{kPercent});
}

TEST_CASE("per_flow: every key field, the limits and the aggregate load typed", "[unit][config]") {
    const Link l = must_load(with_link_lines("    per_flow:\n      key: {src: /24, dst: 16, src6: /64, dst6: /128, proto: true, "
                                             "src_port: true, dst_port: false}\n"
                                             "      max_flows: 65536\n      idle_timeout: 2s\n      aggregate: 12.5MB/s\n"))
                       .links[0];
    REQUIRE(l.per_flow);
    const FlowKeySpec &k = l.per_flow->key;
    CHECK(k.src_bits == 24);
    CHECK(k.dst_bits == 16);
    CHECK(k.src6_bits == 64);
    CHECK(k.dst6_bits == 128);
    CHECK(k.proto);
    CHECK(k.src_port);
    CHECK_FALSE(k.dst_port);
    CHECK(l.per_flow->max_flows == 65536u);
    CHECK(l.per_flow->idle_timeout == Duration{2'000'000'000});
    CHECK(l.per_flow->aggregate == Rate{100'000'000});

    const PerFlow defaults = *must_load(with_link_lines("    per_flow: {key: {dst_port: true}}\n")).links[0].per_flow;
    CHECK(defaults.key.dst_port);
    CHECK_FALSE(defaults.key.proto);
    CHECK(defaults.key.src_bits == 0);
    CHECK(defaults.max_flows == PerFlow::kDefaultMaxFlows);
    CHECK(defaults.idle_timeout == Duration{PerFlow::kDefaultIdleTimeoutNs});
    CHECK_FALSE(defaults.aggregate);
    CHECK_FALSE(must_load(with_link_lines("")).links[0].per_flow);

    const PerFlow small = *must_load(with_link_lines("    per_flow: {key: {dst: /0, src6: 0}, max_flows: 1, idle_timeout: 0, "
                                                     "aggregate: 1bit/s}\n"))
                               .links[0]
                               .per_flow;
    CHECK(small.max_flows == 1u);
    CHECK(small.key.dst_bits == 0);
    CHECK(small.idle_timeout == Duration{0});
    CHECK(small.aggregate == Rate{1});
    CHECK(must_load(with_link_lines("    per_flow: {key: {dst: /32}, aggregate: 1Tbit/s}\n")).links[0].per_flow->aggregate ==
          Rate{kMaxBandwidthBitsPerS});
}

TEST_CASE("rules errors: position, path and message of each", "[unit][config][errors]") {
    require_one_error(with_link_lines("rules: 5\n"), 8, 8, "rules", "expected a list of rules, such as [{match:");
    require_one_error(with_link_lines("rules:\n"), 8, 1, "rules", "expected a list of rules");
    std::string many = with_link_lines("rules:\n");
    for (size_t i = 0; i <= kMaxRules; ++i) many += "  - {action: pass}\n";
    require_one_error(many, 9, 3, "rules", "1025 rules; at most 1024 are allowed");

    require_one_error(with_rule_lines("  - 5\n"), 10, 5, "rules[0]",
                      "expected a rule such as {match: {proto: udp}, link: slow}, got \"5\"");
    require_one_error(with_rule_lines("  - {action: drop, links: ab}\n"), 10, 20, "rules[0].links",
                      "unknown key \"links\"; did you mean \"link\"? (known keys: match, link, chain, action)");
    require_one_error(with_rule_lines("  - {match: {port: a}}\n"), 10, 5, "rules[0]",
                      "a rule needs exactly one of link, chain or action (example: {match: {proto: udp}, link: slow}); it has 0");
    require_one_error(with_rule_lines("  - {action: drop}\n  - {link: ab, action: drop}\n"), 11, 5, "rules[1]",
                      "exactly one of link, chain or action (example: {match: {proto: udp}, link: slow}); it has 2");

    require_one_error(with_rule_lines("  - {link: abc}\n"), 10, 12, "rules[0].link",
                      "unknown link \"abc\"; did you mean \"ab\"? (defined links: ab, ba)");
    require_one_error(with_rule_lines("  - {link: zzz}\n"), 10, 12, "rules[0].link", "unknown link \"zzz\" (defined links: ab, ba)");
    require_one_error(with_rule_lines("  - {link: [ab]}\n"), 10, 12, "rules[0].link", "expected a link name, got a list");
    require_one_error(with_rule_lines("  - link:\n"), 10, 5, "rules[0].link", "expected a link name, got nothing");

    require_one_error(with_rule_lines("  - {chain: ab}\n"), 10, 13, "rules[0].chain",
                      "expected a list of 2 to 8 link names, such as [access, core], got \"ab\"");
    require_one_error(with_rule_lines("  - {chain: []}\n"), 10, 13, "rules[0].chain", "got an empty list");
    require_one_error(with_rule_lines("  - {chain: [ab]}\n"), 10, 13, "rules[0].chain",
                      "2 to 8 link names, such as [access, core], got a list of 1");
    require_one_error(with_rule_lines("  - {chain: [ab, ba, ab, ba, ab, ba, ab, ba, ab]}\n"), 10, 13, "rules[0].chain", "got a list of 9");
    require_one_error(with_rule_lines("  - chain:\n"), 10, 5, "rules[0].chain", "got nothing");
    require_one_error(with_rule_lines("  - {chain: [ab, bx]}\n"), 10, 18, "rules[0].chain[1]",
                      "unknown link \"bx\"; did you mean \"ba\"? (defined links: ab, ba)");
    require_one_error(with_rule_lines("  - chain:\n      - ab\n      - [ba]\n"), 12, 9, "rules[0].chain[1]",
                      "expected a link name, got a list");

    require_one_error(with_rule_lines("  - {action: forward}\n"), 10, 14, "rules[0].action",
                      "\"forward\" is not an action: pass (forward untouched) or drop (to name a link, use link: or chain:)");
    require_one_error(with_rule_lines("  - {action: [pass]}\n"), 10, 14, "rules[0].action", "expected pass or drop, got a list");
}

TEST_CASE("rules errors: each match field", "[unit][config][errors]") {
    // `  - {match: {` is 13 columns: a field's key is at column 14.
    const auto match = [](const std::string &fields) { return with_rule_lines("  - {match: {" + fields + "}, action: drop}\n"); };
    require_one_error(with_rule_lines("  - {match: 5, action: drop}\n"), 10, 13, "rules[0].match",
                      "expected a mapping of header fields such as {proto: udp, dst_port: 5000-6000}, got \"5\"");
    require_one_error(with_rule_lines("  - match:\n    action: drop\n"), 10, 5, "rules[0].match", "got nothing");
    require_one_error(match("prot: udp"), 10, 14, "rules[0].match.prot",
                      "did you mean \"port\"? (known keys: port, ether_type, vlan, inner_vlan, src, dst, proto, src_port, dst_port, dscp)");
    require_one_error(match("proto: [udp]"), 10, 21, "rules[0].match.proto", "expected a value, got a list");
    require_one_error(match("vlan: 1, dscp:"), 10, 23, "rules[0].match.dscp", "expected a value, got nothing");

    require_one_error(match("port: c"), 10, 20, "rules[0].match.port", "unknown port \"c\" (defined ports: a, b)");
    require_one_error(match("port: bb"), 10, 20, "rules[0].match.port", "unknown port \"bb\"; did you mean \"b\"?");
    require_one_error(match("ether_type: ipv5"), 10, 26, "rules[0].match.ether_type", "\"ipv5\" is not an EtherType (did you mean ipv4?)");
    require_one_error(match("ether_type: 0x12345"), 10, 26, "rules[0].match.ether_type",
                      "\"0x12345\" is not an EtherType: expected a 16-bit value such as 0x0800 or 2048");
    require_one_error(match("ether_type: 1500"), 10, 26, "rules[0].match.ether_type",
                      "0x05DC is below 0x0600 (smaller values are 802.3 lengths)");
    require_one_error(match("vlan: 4096"), 10, 20, "rules[0].match.vlan", "\"4096\" is not a VLAN id (0 to 4095)");
    require_one_error(match("inner_vlan: -1"), 10, 26, "rules[0].match.inner_vlan", "\"-1\" is not a VLAN id (0 to 4095)");
    require_one_error(match("src: 10.1.2.3/24"), 10, 19, "rules[0].match.src", "10.1.2.3/24 has host bits set; did you mean 10.1.2.0/24?");
    require_one_error(match("src: 10.1.2"), 10, 19, "rules[0].match.src", "\"10.1.2\" is not an IP address or prefix");
    require_one_error(match("dst: 10.0.0.0/33"), 10, 19, "rules[0].match.dst",
                      "has a bad prefix length \"/33\": an IPv4 prefix length is 0 to 32");
    require_one_error(match("dst: \"2001:db8::/129\""), 10, 19, "rules[0].match.dst", "an IPv6 prefix length is 0 to 128");
    require_one_error(match("dst: \"\""), 10, 19, "rules[0].match.dst", "empty value: expected an IP address or prefix");
    require_one_error(match("proto: tpc"), 10, 21, "rules[0].match.proto", "\"tpc\" is not an IP protocol (did you mean tcp?)");
    require_one_error(match("proto: 256"), 10, 21, "rules[0].match.proto", "\"256\" is not an IP protocol: numbers are 0 to 255");
    require_one_error(match("src_port: 70000"), 10, 24, "rules[0].match.src_port",
                      "\"70000\" is not a port or port range: ports are 0 to 65535");
    require_one_error(match("dst_port: 6000-5000"), 10, 24, "rules[0].match.dst_port",
                      "the range is empty (6000 is above 5000); write the low end first");
    require_one_error(match("dst_port: http"), 10, 24, "rules[0].match.dst_port", "expected a port 0-65535 or a range lo-hi");
    require_one_error(match("src_port: \"\""), 10, 24, "rules[0].match.src_port", "\"\" is not a port or port range: it is empty");
    require_one_error(match("dscp: 64"), 10, 20, "rules[0].match.dscp",
                      "\"64\" is not a DSCP value or range from 0 to 63 (examples: 46, 8-15)");
    require_one_error(match("dscp: 15-8"), 10, 20, "rules[0].match.dscp", "\"15-8\" is not a DSCP value or range");
    require_one_error(match("dscp: ef"), 10, 20, "rules[0].match.dscp", "\"ef\" is not a DSCP value or range");
}

TEST_CASE("rules errors: how rules use links, at the node the path names", "[unit][config][errors]") {
    // A link named on its own needs from and to: one error, at the name in the rule.
    require_one_error(
        with_three_ports("  - {name: ab, from: a, to: b}\n  - {name: x, from: a}\nrules:\n  - match: {proto: udp}\n    link: x\n"), 10, 11,
        "rules[0].link", "link \"x\" needs from and to to be used on its own (it has no to); name it in a chain");
    require_one_error(with_three_ports("  - {name: ab, from: a, to: b}\n  - {name: x, to: b}\nrules:\n  - {link: x}\n"), 9, 12,
                      "rules[0].link", "(it has no from)");
    // `link: X` applies at X's from port.
    require_one_error(
        with_three_ports("  - {name: ab, from: a, to: b}\nrules:\n  - match:\n      proto: udp\n      port: b\n    link: ab\n"), 10, 13,
        "rules[0].match.port", "link \"ab\" starts at port \"a\", so this rule can only match packets arriving there, not at \"b\"");
    // A chain applies at its first hop's from port.
    require_one_error(with_three_ports("  - {name: h1, from: a}\n  - {name: h2, to: b}\nrules:\n  - {match: {port: b}, chain: [h1, h2]}\n"),
                      9, 20, "rules[0].match.port",
                      "the chain starts at port \"a\" (link \"h1\"), so this rule can only match packets arriving there");
    // pass and drop at a port no link starts from.
    require_one_error(with_three_ports("  - {name: ab, from: a, to: b}\nrules:\n  - {match: {port: c}, action: pass}\n"), 8, 20,
                      "rules[0].match.port", "port \"c\" receives nothing: no link starts there");
    require_one_error(
        with_three_ports("  - {name: ab, from: a, to: b}\nrules:\n  - {action: pass}\n  - {match: {port: b}, action: drop}\n"), 9, 20,
        "rules[1].match.port", "port \"b\" receives nothing");
    // A link belongs to one chain, once.
    require_one_error(with_three_ports("  - {name: h1, from: a}\n  - {name: h2, to: b}\n  - {name: h3, to: c}\nrules:\n"
                                       "  - {chain: [h1, h2]}\n  - chain:\n      - h1\n      - h3\n"),
                      12, 9, "rules[1].chain[0]",
                      "link \"h1\" is already a hop of the chain in rules[0]; a chained link belongs to one chain");
    require_one_error(
        with_three_ports("  - {name: h1, from: a, to: b}\n  - {name: h2, from: b, to: c}\nrules:\n  - {chain: [h1, h2, h1]}\n"), 9, 22,
        "rules[0].chain[2]", "link \"h1\" appears twice in this chain");
    require_one_error(
        with_three_ports("  - {name: h1, from: a, to: b}\n  - {name: h2, to: c}\nrules:\n  - {chain: [h1, h2]}\n  - {link: h1}\n"), 6, 12,
        "links[0].name", "link \"h1\" is a hop of the chain in rules[0] and is also named on its own by a rule");
    // A per-flow template cannot be a hop.
    require_one_error(with_three_ports("  - {name: h1, from: a}\n  - {name: h2, to: b, per_flow: {key: {src: /24}}}\nrules:\n"
                                       "  - {chain: [h1, h2]}\n"),
                      9, 18, "rules[0].chain[1]", "link \"h2\" is a per-flow template, which a chain cannot hold");
    // from is needed on the first hop, to on the last.
    require_one_error(
        with_three_ports("  - {name: ab, from: a, to: b}\n  - {name: h1}\n  - {name: h2, to: b}\nrules:\n  - {chain: [h1, h2]}\n"), 10, 14,
        "rules[0].chain[0]", "the chain's first link, \"h1\", needs from: (the port it receives on)");
    require_one_error(
        with_three_ports("  - {name: ab, from: a, to: b}\n  - {name: h1, from: a}\n  - {name: h2}\nrules:\n  - {chain: [h1, h2]}\n"), 10,
        18, "rules[0].chain[1]", "the chain's last link, \"h2\", needs to: (the port it sends to)");
    // Only the last hop may mangle.
    require_one_error(
        with_three_ports("  - name: h1\n    from: a\n    mangle: {ecn: true}\n  - {name: h2, to: b}\nrules:\n  - {chain: [h1, h2]}\n"), 8,
        13, "links[0].mangle", "link \"h1\" is not the last hop of the chain in rules[0]; only the last hop may mangle");
    // A link in no chain needs both ends.
    require_one_error(with_three_ports("  - {name: ab, from: a, to: b}\n  - {name: x, to: c}\n"), 7, 5, "links[1]",
                      "link \"x\" needs from and to (it is not a hop of any chain)");
}

TEST_CASE("rules errors: a link or port that failed is not reported again by the rules naming it", "[unit][config][errors]") {
    require_one_error(
        with_link_lines("    delay: 5 parsecs\n  - {name: ba, from: b, to: a}\nrules:\n  - {link: ab}\n  - {chain: [ba, ab]}\n"), 8, 12,
        "links[0].delay", "is not a duration");
    require_one_error(
        "ports:\n  a: {device: n0}\n  b: {device: \"\"}\nlinks: [{name: ab, from: a, to: b}]\n"
        "rules: [{match: {port: b}, action: drop}]\n",
        3, 15, "ports.b.device", "the device string is empty");
    require_one_error("ports: {a: {device: n0}, b: {device: n1}}\nlinks: {a: 1}\nrules: [{link: ab}, {match: {port: a}, chain: [x, y]}]\n",
                      2, 8, "links", "expected a list of links");
    require_one_error("ports: 7\nlinks: [{name: x, from: a, to: b}]\nrules: [{match: {port: a}, link: x}]\n", 1, 8, "ports",
                      "expected a mapping of port names");
    // A name that was never written is still unknown.
    require_one_error(with_link_lines("    delay: 1ms\nrules: [{link: ba}]\n"), 9, 16, "rules[0].link",
                      "unknown link \"ba\"; did you mean \"ab\"? (defined links: ab)");
}

TEST_CASE("mangle errors: position, path and message of each", "[unit][config][errors]") {
    require_one_error(with_link_lines("    mangle: 5\n"), 8, 13, "links[0].mangle",
                      "expected a mapping such as {duplicate: 1%, corrupt: 0.1%, truncate: 128B, ecn: true, reorder: {probability: 1%, "
                      "extra_delay: 5ms}}, got \"5\"");
    require_one_error(with_link_lines("    mangle:\n"), 8, 5, "links[0].mangle", "got nothing");
    require_one_error(with_link_lines("    mangle: {dupliate: 1%}\n"), 8, 14, "links[0].mangle.dupliate",
                      "unknown key \"dupliate\"; did you mean \"duplicate\"? (known keys: duplicate, corrupt, truncate, ecn, reorder)");
    require_one_error(with_link_lines("    mangle: {duplicate: 200%}\n"), 8, 25, "links[0].mangle.duplicate",
                      "\"200%\" is not a probability: it is above the largest, 100%");
    require_one_error(with_link_lines("    mangle: {duplicate: [1%]}\n"), 8, 25, "links[0].mangle.duplicate",
                      "expected a probability such as 1% or 0.1%, got a list");
    require_one_error(with_link_lines("    mangle: {corrupt: lots}\n"), 8, 23, "links[0].mangle.corrupt", "\"lots\" is not a probability");
    require_one_error(with_link_lines("    mangle: {corrupt: {probability: 1%, ber: 0.1%}}\n"), 8, 23, "links[0].mangle.corrupt",
                      "give one of probability (per packet: one bit flipped) or ber (every bit: a bit error rate)");
    require_one_error(with_link_lines("    mangle: {corrupt: {}}\n"), 8, 23, "links[0].mangle.corrupt", "give one of probability");
    require_one_error(with_link_lines("    mangle: {corrupt: {probability: 1%, bre: 1%}}\n"), 8, 41, "links[0].mangle.corrupt.bre",
                      "unknown key \"bre\"; did you mean \"ber\"? (known keys: probability, ber)");
    require_one_error(with_link_lines("    mangle: {corrupt: {ber: 200%}}\n"), 8, 29, "links[0].mangle.corrupt.ber",
                      "\"200%\" is not a probability: it is above the largest, 100%");
    require_one_error(with_link_lines("    mangle: {corrupt: {probability: x}}\n"), 8, 37, "links[0].mangle.corrupt.probability",
                      "\"x\" is not a probability");
    require_one_error(with_link_lines("    mangle: {truncate: 13B}\n"), 8, 24, "links[0].mangle.truncate",
                      "13B is out of range (14B, an Ethernet header, to 65535B)");
    require_one_error(with_link_lines("    mangle: {truncate: 65536B}\n"), 8, 24, "links[0].mangle.truncate", "64KiB is out of range");
    require_one_error(with_link_lines("    mangle: {truncate: big}\n"), 8, 24, "links[0].mangle.truncate", "\"big\" is not a size");
    require_one_error(with_link_lines("    mangle: {truncate: [1]}\n"), 8, 24, "links[0].mangle.truncate",
                      "expected a size such as 128B, got a list");
    require_one_error(with_link_lines("    mangle: {ecn: yes}\n"), 8, 19, "links[0].mangle.ecn", "expected true or false, got \"yes\"");
    require_one_error(with_link_lines("    mangle: {reorder: 1%}\n"), 8, 23, "links[0].mangle.reorder",
                      "expected a mapping such as {probability: 1%, extra_delay: 5ms}, got \"1%\"");
    require_one_error(with_link_lines("    mangle:\n      reorder:\n"), 9, 7, "links[0].mangle.reorder", "got nothing");
    require_one_error(with_link_lines("    mangle: {reorder: {probability: 1%}}\n"), 8, 23, "links[0].mangle.reorder",
                      "reorder needs both probability and extra_delay (example: {probability: 1%, extra_delay: 5ms})");
    require_one_error(with_link_lines("    mangle: {reorder: {extra_delay: 5ms}}\n"), 8, 23, "links[0].mangle.reorder",
                      "needs both probability and extra_delay");
    require_one_error(with_link_lines("    mangle: {reorder: {probability: 1%, extra_delay: 0}}\n"), 8, 54,
                      "links[0].mangle.reorder.extra_delay", "0ns is out of range (above 0, up to 60s)");
    require_one_error(with_link_lines("    mangle: {reorder: {probability: 1%, extra_delay: 61s}}\n"), 8, 54,
                      "links[0].mangle.reorder.extra_delay", "61s is out of range (above 0, up to 60s)");
    require_one_error(with_link_lines("    mangle: {reorder: {probability: 1%, extra_delay: soon}}\n"), 8, 54,
                      "links[0].mangle.reorder.extra_delay", "\"soon\" is not a duration");
    require_one_error(with_link_lines("    mangle: {reorder: {probability: 101%, extra_delay: 1ms}}\n"), 8, 37,
                      "links[0].mangle.reorder.probability", "\"101%\" is not a probability");
    require_one_error(with_link_lines("    mangle: {reorder: {probability: 1%, extra_delay: 1ms, jitter: 1ms}}\n"), 8, 59,
                      "links[0].mangle.reorder.jitter", "unknown key \"jitter\" (known keys: probability, extra_delay)");
}

TEST_CASE("per_flow errors: position, path and message of each", "[unit][config][errors]") {
    require_one_error(with_link_lines("    per_flow: 5\n"), 8, 15, "links[0].per_flow",
                      "expected a mapping such as {key: {src: /24}, max_flows: 256, idle_timeout: 10s}, got \"5\"");
    require_one_error(with_link_lines("    per_flow:\n"), 8, 5, "links[0].per_flow", "got nothing");
    require_one_error(with_link_lines("    per_flow: {max_flows: 4}\n"), 8, 15, "links[0].per_flow.key",
                      "missing required key \"key\" (example: key: {src: /24}, one link per source /24)");
    require_one_error(with_link_lines("    per_flow: {key: src}\n"), 8, 21, "links[0].per_flow.key",
                      "expected a mapping of header fields such as {src: /24, dst_port: true}, got \"src\"");
    require_one_error(with_link_lines("    per_flow:\n      key:\n"), 9, 7, "links[0].per_flow.key", "got nothing");
    require_one_error(with_link_lines("    per_flow: {key: {src: /24}, flows: 4}\n"), 8, 33, "links[0].per_flow.flows",
                      "unknown key \"flows\" (known keys: key, max_flows, idle_timeout, aggregate)");
    require_one_error(with_link_lines("    per_flow: {key: {sport: true}}\n"), 8, 22, "links[0].per_flow.key.sport",
                      "unknown key \"sport\" (known keys: src, dst, src6, dst6, proto, src_port, dst_port)");
    require_one_error(with_link_lines("    per_flow: {key: {src: /33}}\n"), 8, 27, "links[0].per_flow.key.src",
                      "\"/33\" is not a prefix length from /0 to /32 (example: /24)");
    require_one_error(with_link_lines("    per_flow: {key: {dst: 33}}\n"), 8, 27, "links[0].per_flow.key.dst", "from /0 to /32");
    require_one_error(with_link_lines("    per_flow: {key: {}}\n"), 8, 21, "links[0].per_flow.key",
                      "an empty key would make every packet one flow");
    require_one_error(with_link_lines("    per_flow: {key: {src6: /129}}\n"), 8, 28, "links[0].per_flow.key.src6",
                      "\"/129\" is not a prefix length from /0 to /128 (example: /64)");
    require_one_error(with_link_lines("    per_flow: {key: {dst6: /-1}}\n"), 8, 28, "links[0].per_flow.key.dst6",
                      "\"/-1\" is not a prefix length");
    require_one_error(with_link_lines("    per_flow: {key: {src: [24]}}\n"), 8, 27, "links[0].per_flow.key.src",
                      "expected a prefix length such as /24 (0 to 32), got a list");
    require_one_error(with_link_lines("    per_flow: {key: {proto: yes}}\n"), 8, 29, "links[0].per_flow.key.proto",
                      "expected true or false, got \"yes\"");
    require_one_error(with_link_lines("    per_flow: {key: {src_port: 1}}\n"), 8, 32, "links[0].per_flow.key.src_port",
                      "expected true or false");
    require_one_error(with_link_lines("    per_flow: {key: {dst_port: {a: 1}}}\n"), 8, 32, "links[0].per_flow.key.dst_port",
                      "expected true or false, got a mapping");
    require_one_error(with_link_lines("    per_flow: {key: {src: /24}, max_flows: 0}\n"), 8, 44, "links[0].per_flow.max_flows",
                      "0 is below the smallest allowed, 1 (range 1 to 65536)");
    require_one_error(with_link_lines("    per_flow: {key: {src: /24}, max_flows: 65537}\n"), 8, 44, "links[0].per_flow.max_flows",
                      "65537 is above the largest allowed, 65536");
    require_one_error(with_link_lines("    per_flow: {key: {src: /24}, max_flows: many}\n"), 8, 44, "links[0].per_flow.max_flows",
                      "\"many\" is not a whole number");
    require_one_error(with_link_lines("    per_flow: {key: {src: /24}, idle_timeout: 10}\n"), 8, 47, "links[0].per_flow.idle_timeout",
                      "\"10\" is not a duration: the unit is missing");
    require_one_error(with_link_lines("    per_flow: {key: {src: /24}, idle_timeout: [1s]}\n"), 8, 47, "links[0].per_flow.idle_timeout",
                      "expected a duration such as 10s, got a list");
    require_one_error(with_link_lines("    per_flow: {key: {src: /24}, aggregate: 0bit/s}\n"), 8, 44, "links[0].per_flow.aggregate",
                      "a rate of 0 would pass nothing; leave aggregate out for no shared limit");
    require_one_error(with_link_lines("    per_flow: {key: {src: /24}, aggregate: 2Tbit/s}\n"), 8, 44, "links[0].per_flow.aggregate",
                      "2Tbit/s is out of range (1bit/s to 1Tbit/s)");
    require_one_error(with_link_lines("    per_flow: {key: {src: /24}, aggregate: fast}\n"), 8, 44, "links[0].per_flow.aggregate",
                      "\"fast\" is not a rate");
    require_one_error(with_link_lines("    per_flow: {key: {src: /24}, aggregate: [1Mbit/s]}\n"), 8, 44, "links[0].per_flow.aggregate",
                      "expected a rate such as 100Mbit/s, got a list");
}

TEST_CASE("duplicate and non-word keys inside rules, mangle and per_flow", "[unit][config][errors]") {
    require_one_error(with_rule_lines("  - {action: drop, action: pass}\n"), 10, 20, "rules[0].action",
                      "duplicate key \"action\" (first at line 10, column 6)");
    require_one_error(with_rule_lines("  - {match: {dscp: 1, dscp: 2}, action: drop}\n"), 10, 23, "rules[0].match.dscp",
                      "duplicate key \"dscp\" (first at line 10, column 14)");
    require_one_error(with_rule_lines("  - {match: {[x]: 1}, action: drop}\n"), 10, 14, "rules[0].match",
                      "a key must be a plain word, not a list");
    require_one_error(with_link_lines("    mangle: {ecn: true, ecn: false}\n"), 8, 25, "links[0].mangle.ecn",
                      "duplicate key \"ecn\" (first at line 8, column 14)");
    require_one_error(with_link_lines("    per_flow: {key: {src: /24, src: /16}}\n"), 8, 32, "links[0].per_flow.key.src",
                      "duplicate key \"src\" (first at line 8, column 22)");
}

TEST_CASE("rules, mangle and per_flow print as YAML that loads back to itself", "[unit][config]") {
    const Config c = must_load(
        "ports:\n  a: {device: net_null0}\n  b: {device: net_null1}\nlinks:\n"
        "  - name: ab\n    from: a\n    to: b\n"
        "    mangle: {duplicate: 1%, corrupt: {probability: 0.5%}, truncate: 1500B, ecn: true, reorder: {probability: 2%, extra_delay: "
        "5ms}}\n"
        "  - {name: hop1, from: b, delay: 1ms}\n"
        "  - {name: hop2, to: a, mangle: {corrupt: {ber: 0.01%}}}\n"
        "  - name: pf\n    from: b\n    to: a\n"
        "    per_flow: {key: {src: 24, dst: /16, src6: /64, dst6: /48, proto: true, src_port: true, dst_port: true}, max_flows: 256, "
        "idle_timeout: 2000ms, aggregate: 12.5MB/s}\n"
        "  - {name: ba, from: b, to: a, per_flow: {key: {dst_port: true, proto: false}}}\n"
        "rules:\n"
        "  - {match: {port: a, ether_type: ipv4, vlan: 10, inner_vlan: 20, src: 10.1.0.0/16, dst: 10.2.3.4, proto: udp, src_port: 53, "
        "dst_port: 5000-6000, dscp: 8-15}, link: ab}\n"
        "  - {match: {port: b, dst: \"2001:db8::/32\"}, chain: [hop1, hop2]}\n"
        "  - {match: {proto: tcp}, link: pf}\n"
        "  - {match: {port: b, dscp: 46}, action: pass}\n"
        "  - action: drop\n");
    const std::string printed = to_yaml(c);
    CHECK_THAT(
        printed,
        Catch::Contains("    mangle: {duplicate: 1%, corrupt: 0.5%, truncate: 1.5KB, ecn: true, "
                        "reorder: {probability: 2%, extra_delay: 5ms}}\n") &&
            Catch::Contains("    mangle: {corrupt: {ber: 0.01%}}\n") &&
            Catch::Contains("    per_flow: {key: {src: /24, dst: /16, src6: /64, dst6: /48, proto: true, src_port: true, dst_port: true}, "
                            "max_flows: 256, idle_timeout: 2s, aggregate: 100Mbit/s}\n") &&
            Catch::Contains("    per_flow: {key: {dst_port: true}, max_flows: 64, idle_timeout: 10s}\n") &&
            Catch::Contains("rules:\n  - {match: {port: a, ether_type: 0x0800, vlan: 10, inner_vlan: 20, src: 10.1.0.0/16, "
                            "dst: 10.2.3.4/32, proto: 17, src_port: 53, dst_port: 5000-6000, dscp: 8-15}, link: ab}\n"
                            "  - {match: {port: b, dst: \"2001:db8::/32\"}, chain: [hop1, hop2]}\n"
                            "  - {match: {proto: 6}, link: pf}\n"
                            "  - {match: {port: b, dscp: 46}, action: pass}\n"
                            "  - {match: {}, action: drop}\n"));
    const Config again = must_load(printed);
    CHECK(to_yaml(again) == printed);
    REQUIRE(again.rules.size() == 5);
    CHECK(again.rules[1].links == std::vector<size_t>{1, 2});
    CHECK(again.rules[4].action == Rule::Action::kDrop);
    CHECK(again.links[0].mangle.reorder_extra_delay == Duration{5'000'000});
    CHECK(again.links[2].mangle.corrupt_ber == Probability{kPercent / 100});
    CHECK(again.links[3].per_flow->aggregate == Rate{100'000'000});
    CHECK(again.links[3].per_flow->key.dst6_bits == 48);
}

TEST_CASE("one kernel interface under two device names is refused at the second port", "[unit][config][errors]") {
    CHECK(linkem::kernel_interfaces("net_af_packet0,iface=veth0,qpairs=1") == std::vector<std::string>{"veth0"});
    CHECK(linkem::kernel_interfaces("net_pcap0,rx_iface=x,tx_iface=y") == std::vector<std::string>{"x", "y"});
    CHECK(linkem::kernel_interfaces("net_pcap0,iface=x,rx_iface_in=x") == std::vector<std::string>{"x"});
    CHECK(linkem::kernel_interfaces("net_pcap0,rx_pcap=in.pcap,tx_pcap=out.pcap").empty());
    CHECK(linkem::kernel_interfaces("net_null0").empty());
    CHECK(linkem::kernel_interfaces("0000:01:00.0").empty());
    require_one_error(
        "ports:\n  a: {device: \"net_af_packet0,iface=x\"}\n  b: {device: \"net_af_packet1,iface=x\"}\n"
        "links: [{name: ab, from: a, to: b}]\n",
        3, 15, "ports.b.device", "kernel interface \"x\" is already used by port \"a\"");
    require_one_error(
        "ports:\n  a: {device: \"net_tap0,iface=t\"}\n  b: {device: \"net_pcap0,rx_iface=u,tx_iface=t\"}\n"
        "links: [{name: ab, from: a, to: b}]\n",
        3, 15, "ports.b.device", "kernel interface \"t\" is already used by port \"a\"");
    // One port may read and write one interface.
    CHECK(must_load("ports:\n  a: {device: \"net_pcap0,rx_iface=x,tx_iface=x\"}\n  b: {device: net_null0}\n"
                    "links: [{name: ab, from: a, to: b}]\n")
              .ports.size() == 2);
}

TEST_CASE("the summary names a rule in words: its match fields as written and its action", "[unit][config][summary]") {
    const Config c =
        must_load(with_three_ports("  - {name: ab, from: a, to: b}\n  - {name: ba, from: b, to: a}\n"
                                   "  - {name: in, from: a}\n  - {name: out, to: c}\n"
                                   "rules:\n"
                                   "  - {match: {proto: udp, dst_port: 5000-6000}, link: ab}\n"
                                   "  - {match: {src: 10.1.2.3}, chain: [in, out]}\n"
                                   "  - {match: {port: b, dscp: 46}, action: pass}\n"
                                   "  - {action: drop}\n"));
    REQUIRE(c.rules.size() == 4);
    CHECK(describe_rule(c, c.rules[0]) == "proto: udp, dst_port: 5000-6000 -> link ab");
    CHECK(describe_rule(c, c.rules[1]) == "src: 10.1.2.3/32 -> chain in -> out");
    CHECK(describe_rule(c, c.rules[2]) == "port: b, dscp: 46 -> pass");
    CHECK(describe_rule(c, c.rules[3]) == "any packet -> drop");
}

TEST_CASE("order is a link key; as a delay model's parameter it is an error that says where it went", "[unit][config]") {
    const Config c = must_load(with_link_lines("    delay: {plugin: normal, mean: 10ms, stddev: 1ms}\n    order: drop\n"));
    CHECK(c.links[0].order_drop);
    CHECK_FALSE(c.links[0].delay->find("order"));
    CHECK_FALSE(must_load(with_link_lines("    order: keep\n")).links[0].order_drop);
    CHECK_FALSE(must_load(with_link_lines("    delay: 1ms\n")).links[0].order_drop);
    // Printed only when it is not the default, and loads back to itself.
    const std::string printed = to_yaml(c);
    CHECK_THAT(printed, Catch::Contains("    order: drop\n"));
    CHECK(must_load(printed).links[0].order_drop);
    CHECK(to_yaml(must_load(printed)) == printed);
    CHECK_THAT(to_yaml(must_load(with_link_lines("    delay: 1ms\n"))), !Catch::Contains("order:"));

    require_one_error(with_link_lines("    delay: {plugin: normal, mean: 10ms, order: drop}\n"), 8, 48, "links[0].delay.order",
                      "order moved to links[0].order: it is a setting of the link, beside delay (`order: drop`)");
    require_one_error(with_link_lines("    order: sideways\n"), 8, 12, "links[0].order", "\"sideways\" is not an order: keep");
    require_one_error(with_link_lines("    order: [keep]\n"), 8, 12, "links[0].order", "keep or drop");
}
