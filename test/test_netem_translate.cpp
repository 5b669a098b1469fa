// [unit][netem] netem's words in linkem: translate_netem (what `linkem --from-netem`
// prints) and the hints for netem's keys in a configuration. Every translation is
// loaded as a configuration and its models created, so the printed YAML cannot rot.
#include "link_fixture.hpp"
#include "linkem/config.hpp"
#include "linkem/link_plan.hpp"
#include "linkem/netem_translate.hpp"

#include <catch2/catch.hpp>

using namespace linkem;
using namespace linkem::test;

namespace {

NetemTranslation must_translate(const std::string &command) {
    Parsed<NetemTranslation> t = translate_netem(command);
    INFO("translating \"" << command << "\": " << t.error);
    REQUIRE(t);
    return *t.value;
}

std::string translate_error(const std::string &command) {
    Parsed<NetemTranslation> t = translate_netem(command);
    INFO("translating \"" << command << "\" should fail");
    REQUIRE_FALSE(t);
    return t.error;
}

// The whole printed configuration loads and its link's models are created.
void require_loads(const std::string &command) {
    const std::string yaml = netem_configuration_yaml(command, must_translate(command));
    INFO(yaml);
    const LoadResult loaded = load_config_text(yaml, "netem.yaml");
    for (const auto &e : loaded.errors) UNSCOPED_INFO(e.to_string());
    REQUIRE(loaded.config);
    // The way back is there, untouched: replies (ping, TCP) come back.
    REQUIRE(loaded.config->links.size() == 2);
    CHECK(loaded.config->links[1].from == "b");
    CHECK(loaded.config->links[1].to == "a");
    CHECK(!loaded.config->links[1].delay);
    std::vector<ConfigError> errors;
    const auto plan = plan_link(*loaded.config, 0, 1, PluginHost(plugin_dirs()), &errors);
    for (const auto &e : errors) UNSCOPED_INFO(e.to_string());
    CHECK(plan);
}

std::string first_error(const std::string &link_fields) {
    const std::string yaml = "ports: {a: {device: n0}, b: {device: n1}}\nlinks:\n  - {name: ab, from: a, to: b, " + link_fields + "}\n";
    const LoadResult loaded = load_config_text(yaml, "t.yaml");
    REQUIRE_FALSE(loaded.errors.empty());
    return loaded.errors.front().to_string();
}

}  // namespace

TEST_CASE("netem's example translates key by key", "[unit][netem]") {
    const NetemTranslation t = must_translate("delay 100ms 10ms distribution normal loss 1% rate 10mbit limit 1000");
    CHECK(t.link_lines == std::vector<std::string>{"bandwidth: 10Mbit/s", "queue: 1000 packets",
                                                   "delay: {plugin: normal, mean: 100ms, jitter: 10ms}", "loss: 1%"});
    CHECK(t.notes.empty());
}

TEST_CASE("netem's units: bare times are microseconds, bare percentages are percent, tc's rates", "[unit][netem]") {
    CHECK(must_translate("delay 250").link_lines == std::vector<std::string>{"delay: 250us"});
    CHECK(must_translate("delay 1.5s").link_lines == std::vector<std::string>{"delay: 1.5s"});
    CHECK(must_translate("loss 0.5").link_lines == std::vector<std::string>{"loss: 0.5%"});
    CHECK(must_translate("loss random 3%").link_lines == std::vector<std::string>{"loss: 3%"});
    CHECK(must_translate("rate 1mbps").link_lines == std::vector<std::string>{"bandwidth: 8Mbit/s"});
    CHECK(must_translate("rate 512kbit").link_lines == std::vector<std::string>{"bandwidth: 512kbit/s"});
    CHECK(must_translate("rate 1gbit").link_lines == std::vector<std::string>{"bandwidth: 1Gbit/s"});
    CHECK(must_translate("rate 1000").link_lines == std::vector<std::string>{"bandwidth: 8kbit/s"});  // bytes per second
    CHECK(must_translate("rate 1mibit").link_lines == std::vector<std::string>{"bandwidth: 1048576bit/s"});
}

TEST_CASE("the tc prefix is skipped and netem's default distribution is uniform", "[unit][netem]") {
    CHECK(must_translate("tc qdisc add dev eth0 root netem delay 100ms 10ms").link_lines ==
          std::vector<std::string>{"delay: {plugin: uniform, mean: 100ms, jitter: 10ms}"});
    CHECK(must_translate("delay 20ms 5ms distribution pareto").link_lines ==
          std::vector<std::string>{"delay: {plugin: pareto, mean: 20ms, jitter: 5ms}"});
}

TEST_CASE("netem's loss models become gilbert_elliott and markov4", "[unit][netem]") {
    CHECK(must_translate("loss gemodel 1% 10% 70% 0.1%").link_lines ==
          std::vector<std::string>{"loss: {plugin: gilbert_elliott, p: 1%, r: 10%, loss_bad: 70%, loss_good: 0.1%}"});
    CHECK(must_translate("loss gemodel 1%").link_lines == std::vector<std::string>{"loss: {plugin: gilbert_elliott, p: 1%, r: 99%}"});
    CHECK(must_translate("loss state 1% 30% 2").link_lines ==
          std::vector<std::string>{"loss: {plugin: markov4, p13: 1%, p31: 30%, p32: 2%}"});
}

TEST_CASE("manglers, overhead and slot translate; reorder becomes linkem's with a constant delay", "[unit][netem]") {
    CHECK(must_translate("duplicate 1% corrupt 0.1%").link_lines == std::vector<std::string>{"mangle: {duplicate: 1%, corrupt: 0.1%}"});
    CHECK(must_translate("rate 100mbit 20").link_lines == std::vector<std::string>{"bandwidth: 100Mbit/s", "overhead: 20"});
    CHECK(must_translate("slot 2ms 4ms packets 20 bytes 30kb").link_lines ==
          std::vector<std::string>{"bandwidth: {plugin: slot, min_gap: 2ms, max_gap: 4ms, packets: 20, bytes: 30KiB}"});
    const NetemTranslation reorder = must_translate("delay 10ms reorder 25%");
    CHECK(reorder.link_lines == std::vector<std::string>{"mangle: {reorder: {probability: 75%, extra_delay: 10ms}}"});
    REQUIRE(reorder.notes.size() == 1);
    CHECK_THAT(reorder.notes[0], Catch::Contains("netem sends 25% of packets at once"));
}

TEST_CASE("what linkem has not is a note with the closest form", "[unit][netem]") {
    const NetemTranslation t = must_translate("loss 1% 25% delay 10ms 2ms 50% duplicate 1% 10% ecn");
    CHECK(t.link_lines ==
          std::vector<std::string>{"delay: {plugin: uniform, mean: 10ms, jitter: 2ms}", "loss: 1%", "mangle: {duplicate: 1%}"});
    REQUIRE(t.notes.size() == 4);
    CHECK_THAT(t.notes[0], Catch::StartsWith("loss correlation 25% not translated") &&
                               Catch::Contains("loss: {plugin: gilbert_elliott, mean_loss: 1%, mean_burst: N}"));
    CHECK_THAT(t.notes[1], Catch::StartsWith("delay correlation 50% not translated"));
    CHECK_THAT(t.notes[2], Catch::StartsWith("duplicate correlation 10% not translated"));
    CHECK_THAT(t.notes[3], Catch::StartsWith("ecn not translated"));
    const NetemTranslation table = must_translate("delay 10ms 2ms distribution experimental");
    REQUIRE(table.notes.size() == 1);
    CHECK_THAT(table.notes[0], Catch::Contains("{plugin: empirical, file: /usr/lib/tc/experimental.dist, mean: 10ms, jitter: 2ms}"));
    const NetemTranslation gap = must_translate("delay 10ms reorder 25% gap 5");
    CHECK(gap.link_lines == std::vector<std::string>{"delay: 10ms"});
    REQUIRE(gap.notes.size() == 1);
    CHECK_THAT(gap.notes[0], Catch::StartsWith("reorder 25% gap 5 not translated"));
}

TEST_CASE("netem syntax errors are refused with the word and what was expected", "[unit][netem]") {
    CHECK_THAT(translate_error("dealy 100ms"), Catch::Contains("unknown netem word \"dealy\"; did you mean \"delay\"?"));
    CHECK_THAT(translate_error("delay"), Catch::Contains("delay needs a time"));
    CHECK_THAT(translate_error("delay 100parsecs"), Catch::Contains("\"100parsecs\" is not a netem time"));
    CHECK_THAT(translate_error("loss 150%"), Catch::Contains("above the largest, 100%"));
    CHECK_THAT(translate_error("rate 10furlongs"), Catch::Contains("\"10furlongs\" is not a tc rate"));
    CHECK_THAT(translate_error("limit lots"), Catch::Contains("limit needs a packet count"));
    CHECK_THAT(translate_error(""), Catch::Contains("nothing to translate"));
}

TEST_CASE("every translation prints a configuration that loads and creates its models", "[unit][netem]") {
    for (const char *command :
         {"delay 100ms 10ms distribution normal loss 1% rate 10mbit limit 1000", "tc qdisc add dev eth0 root netem delay 100ms 10ms 25%",
          "delay 20ms 5ms distribution paretonormal", "loss gemodel 1% 10% 70% 0.1%", "loss gemodel 1%", "loss state 1% 30%",
          "duplicate 1% corrupt 0.1%", "delay 10ms reorder 25%", "delay 10ms reorder 25% gap 5", "rate 100mbit 20 limit 50",
          "slot 2ms 4ms packets 20 bytes 30kb", "loss 1% 25% ecn", "delay 10ms 2ms distribution experimental"}) {
        INFO(command);
        require_loads(command);
    }
}

TEST_CASE("netem's keys in a link get the linkem form", "[unit][netem][config]") {
    CHECK_THAT(first_error("jitter: 10ms"), Catch::Contains("t.yaml:3:32: links[0].jitter: unknown key \"jitter\"; netem's jitter") &&
                                                Catch::Contains("delay: {plugin: normal, mean: 100ms, stddev: 10ms}"));
    CHECK_THAT(first_error("limit: 1000"), Catch::Contains("queue: 1000 packets"));
    CHECK_THAT(first_error("rate: 10mbit"), Catch::Contains("bandwidth: 10Mbit/s"));
    CHECK_THAT(first_error("latency: 10ms"), Catch::Contains("delay: 100ms"));
    CHECK_THAT(first_error("correlation: 25%"), Catch::Contains("gilbert_elliott"));
    CHECK_THAT(first_error("distribution: normal"), Catch::Contains("delay: {plugin: normal"));
    CHECK_THAT(first_error("duplicate: 1%"), Catch::Contains("mangle: {duplicate: 1%}"));
    CHECK_THAT(first_error("delay: \"100ms 10ms\""),
               Catch::Contains("links[0].delay") && Catch::Contains("netem's \"delay 100ms 10ms\" is linkem's delay: {plugin: uniform, "
                                                                    "mean: 100ms, jitter: 10ms}"));
    CHECK_THAT(first_error("loss: \"1% 25%\""), Catch::Contains("links[0].loss") && Catch::Contains("loss correlation 25% not translated"));
    CHECK_THAT(first_error("loss: 0.5"), Catch::Contains("links[0].loss") && Catch::Contains("write 0.5% or 50%"));
    CHECK_THAT(first_error("bandwidth: 10mbit"), Catch::Contains("links[0].bandwidth") && Catch::Contains("write 10Mbit/s"));
}

TEST_CASE("a bare-number probability is refused in every probability key, built-in or plugin's", "[unit][netem][config]") {
    for (const char *fields :
         {"loss: 0.01", "mangle: {duplicate: 0.01}", "mangle: {corrupt: 0.01}", "mangle: {corrupt: {probability: 0.01}}",
          "mangle: {corrupt: {ber: 0.01}}", "mangle: {reorder: {probability: 0.01, extra_delay: 5ms}}"}) {
        INFO(fields);
        CHECK_THAT(first_error(fields), Catch::Contains("write 0.01% or 1%"));
    }
    for (const char *fields : {"loss: {plugin: bernoulli, p: 0.01}", "loss: {plugin: gilbert_elliott, p: 0.01, r: 10%}",
                               "loss: {plugin: markov4, p13: 0.01}", "loss: {plugin: gilbert_elliott, mean_loss: 0.01, mean_burst: 3}"}) {
        INFO(fields);
        const std::string yaml =
            "ports: {a: {device: n0}, b: {device: n1}}\nlinks:\n  - {name: ab, from: a, to: b, " + std::string(fields) + "}\n";
        const LoadResult loaded = load_config_text(yaml, "t.yaml");
        REQUIRE(loaded.config);
        std::vector<ConfigError> errors;
        CHECK_FALSE(plan_link(*loaded.config, 0, 1, PluginHost(plugin_dirs()), &errors));
        REQUIRE(errors.size() == 1);
        CHECK_THAT(errors[0].message, Catch::Contains("write 0.01% or 1%"));
    }
}
