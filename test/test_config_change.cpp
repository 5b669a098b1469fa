// [unit] config_change.hpp: a runtime change is validated by the loader
// itself: `set` patches and applied files, their positioned messages, and
// the keys each change records.
#include "linkem/config_change.hpp"

#include <catch2/catch.hpp>

#include <cstdio>
#include <fstream>
#include <string>

using namespace linkem;

namespace {

const char *kRunning = R"(ports:
  a: { device: net_null0 }
  b: { device: net_null1 }
links:
  - { name: a-to-b, from: a, to: b, bandwidth: 50Mbit/s, delay: 10ms, loss: 1% }
  - { name: b-to-a, from: b, to: a, delay: 10ms }
  - name: flows
    from: a
    to: b
    delay: 5ms
    per_flow: { key: { src: /32 } }
rules:
  - { match: { dst: 10.0.0.9 }, link: flows }
seed: 7
)";

Config running() {
    LoadResult r = load_config_text(kRunning, "run.yaml");
    REQUIRE(r.errors.empty());
    return *r.config;
}

std::string first_error(const ChangeCandidate &c) {
    REQUIRE_FALSE(c.errors.empty());
    return c.errors.front().to_string();
}

}  // namespace

TEST_CASE("set: a valid patch changes only the keys it names, with their canonical values", "[unit]") {
    const Config run = running();
    const ChangeCandidate c = load_link_set(run, "a-to-b", {"delay=30ms", "loss={plugin: bernoulli, p: 2%}"});
    REQUIRE(c.errors.empty());
    REQUIRE(c.config);
    REQUIRE(c.edits.size() == 1);
    CHECK(c.edits[0].link == 0);
    CHECK(c.edits[0].keys == std::vector<std::pair<std::string, std::string>>{{"delay", "30ms"}, {"loss", "{plugin: bernoulli, p: 2%}"}});
    CHECK(c.config->links[0].bandwidth->params.front().values.front() == "50Mbit/s");  // untouched
    CHECK(c.config->links[1].delay->params.front().values.front() == "10ms");
    CHECK(c.config->file == "run.yaml");
    CHECK(c.config->seed == 7);
    // A restated value changes nothing.
    const ChangeCandidate same = load_link_set(run, "a-to-b", {"delay=10ms"});
    REQUIRE(same.errors.empty());
    CHECK(same.edits.empty());
}

TEST_CASE("set: a bad value is positioned on its line of the patch, with the loader's message", "[unit]") {
    const Config run = running();
    const ChangeCandidate c = load_link_set(run, "a-to-b", {"loss=1%", "delay=30 parsecs"});
    CHECK_FALSE(c.config);
    CHECK(first_error(c).rfind("set:2:8: links[0].delay: ", 0) == 0);
    CHECK(load_link_set(run, "b-to-a", {"bandwidth=fast"}).errors.front().to_string().rfind("set:1:12: links[1].bandwidth: ", 0) == 0);
}

TEST_CASE("set: unknown key, unknown link, fixed keys and per-flow templates are refused", "[unit]") {
    const Config run = running();
    CHECK(first_error(load_link_set(run, "a-to-b", {"dealy=30ms"})) ==
          "set:1:1: links[0].dealy: unknown key \"dealy\"; did you mean \"delay\"? (known keys: name, from, to, bandwidth, overhead, "
          "queue, delay, order, loss, arena, mangle, per_flow)");
    CHECK(first_error(load_link_set(run, "a-to-c", {"delay=30ms"})) ==
          "set:1:1: unknown link \"a-to-c\"; did you mean \"a-to-b\"? (links: a-to-b, b-to-a, flows)");
    CHECK(first_error(load_link_set(run, "a-to-b", {"to=a"})) == "set:1:1: links[0].to: a link's to cannot change while linkem runs");
    CHECK(first_error(load_link_set(run, "a-to-b", {"delay=1ms", "arena=1M packets"}))
              .rfind("set:2:1: links[0].arena: the arena is made at start", 0) == 0);
    CHECK(first_error(load_link_set(run, "flows", {"delay=1ms"}))
              .rfind("set:1:1: links[2].delay: link \"flows\" is a per-flow template", 0) == 0);
    CHECK(first_error(load_link_set(run, "a-to-b", {"mangle={ecn: true}"})).rfind("set:1:1: links[0].mangle.ecn: ecn cannot change", 0) ==
          0);
    CHECK(first_error(load_link_set(run, "a-to-b", {"delay"})).rfind("set:1:1: expected KEY=VALUE", 0) == 0);
}

TEST_CASE("apply: only links' keys may differ; the rest is refused where the file says it", "[unit]") {
    const Config run = running();
    std::string text = kRunning;
    const auto with = [&](const std::string &from, const std::string &to) {
        std::string t = text;
        const size_t at = t.find(from);
        REQUIRE(at != std::string::npos);
        return t.replace(at, from.size(), to);
    };
    const ChangeCandidate ok =
        load_change_text(run, with("bandwidth: 50Mbit/s, delay: 10ms", "bandwidth: 5Mbit/s, delay: 10ms"), "new.yaml");
    REQUIRE(ok.errors.empty());
    REQUIRE(ok.edits.size() == 1);
    CHECK(ok.edits[0].keys == std::vector<std::pair<std::string, std::string>>{{"bandwidth", "5Mbit/s"}});
    // Removing a key records it as none.
    const ChangeCandidate gone = load_change_text(run, with(", loss: 1% }", " }"), "new.yaml");
    REQUIRE(gone.errors.empty());
    CHECK(gone.edits[0].keys == std::vector<std::pair<std::string, std::string>>{{"loss", "none"}});

    CHECK(first_error(load_change_text(run, with("net_null1", "net_null2"), "new.yaml")) ==
          "new.yaml:1:1: ports: ports cannot change while linkem runs (running: a: net_null0, b: net_null1)");
    CHECK(first_error(load_change_text(run, with("{ name: b-to-a, from: b, to: a,", "{ name: b-to-a, from: a, to: b,"), "new.yaml"))
              .rfind("new.yaml:6:21: links[1].from: a link's from cannot change while linkem runs (it is \"b\")", 0) == 0);
    CHECK(first_error(load_change_text(run, with("dst: 10.0.0.9", "dst: 10.0.0.8"), "new.yaml")) ==
          "new.yaml:13:5: rules[0]: rules cannot change while linkem runs");
    CHECK(first_error(load_change_text(run, with("seed: 7", "seed: 8"), "new.yaml")) ==
          "new.yaml:14:1: seed: seed cannot change while linkem runs (it is 7)");
    CHECK(first_error(load_change_text(run, text + "pipeline: { burst: 64 }\n", "new.yaml"))
              .rfind("new.yaml:15:1: pipeline: pipeline cannot change while linkem runs", 0) == 0);
    CHECK(first_error(load_change_text(run, with("    delay: 5ms\n", "    delay: 6ms\n"), "new.yaml"))
              .rfind("new.yaml:10:5: links[2].delay: link \"flows\" is a per-flow template", 0) == 0);
    CHECK(first_error(load_change_text(run, with("delay: 10ms, loss", "delay: 10 parsecs, loss"), "new.yaml"))
              .rfind("new.yaml:5:65: links[0].delay: ", 0) == 0);
    // Nothing differs: nothing to do.
    const ChangeCandidate none = load_change_text(run, text, "new.yaml");
    REQUIRE(none.errors.empty());
    CHECK(none.edits.empty());
}
