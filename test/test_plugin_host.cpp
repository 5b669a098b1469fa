// [plugin] The plugin host on deliberately broken shared objects: each refusal
// names the file (and the model when known); parameter errors are positioned
// at the YAML key that carries the parameter.
#include "link_fixture.hpp"
#include "linkem_process.hpp"

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

TEST_CASE("an ABI 1.0 plugin still loads, and the host reads no 1.1 field from it", "[plugin]") {
    for (const char *what : {"good", "abi_1_0"}) {
        const auto expected_loss_of = [&] {
            const std::string yaml = "ports: {a: {device: n0}, b: {device: n1}}\nlinks:\n  - {name: ab, from: a, to: b, loss: {plugin: \"" +
                                     fixture(what) + "\"}}\n";
            LoadResult loaded = load_config_text(yaml, "t.yaml");
            REQUIRE(loaded.config);
            std::vector<ConfigError> errors;
            auto plan = plan_link(*loaded.config, 0, 1, PluginHost(plugin_dirs()), &errors);
            REQUIRE(plan);
            return plan->loss->expected_loss();
        };
        INFO(what);
        const std::optional<double> expected = expected_loss_of();
        if (std::string(what) == "good") {
            REQUIRE(expected);
            CHECK(*expected == 0.0);
        } else {
            CHECK_FALSE(expected);  // its descriptor ends before expected_loss
        }
    }
}

TEST_CASE("the host refuses each kind of broken plugin, saying why", "[plugin]") {
    CHECK_THAT(refusal(fixture("no_entry")), Catch::Contains("no symbol \"lkm_entry\": not a linkem plugin"));
    CHECK_THAT(refusal(fixture("too_small")), Catch::Contains("lkm_model is 16 bytes, smaller than ABI 1.0's"));
    CHECK_THAT(refusal(fixture("major")), Catch::Contains("built for plugin ABI 2.0; this linkem speaks 1.1: rebuild the plugin"));
    CHECK_THAT(refusal(fixture("minor")), Catch::Contains("built for plugin ABI 1.2, newer than this linkem's 1.1: update linkem"));
    CHECK_THAT(refusal(fixture("kind")), Catch::Contains("model \"fixture\": unknown kind 9"));
    CHECK_THAT(refusal(fixture("no_callback")), Catch::Contains("model \"fixture\": a loss model must set loss_burst"));
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
    CHECK(problems.size() >= 7);  // six broken fixtures and the duplicate (abi_1_0 loads)
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
    const auto order = plan_errors("delay: {plugin: normal, mean: 1ms, order: sideways}");
    REQUIRE(order.size() == 1);
    CHECK(order[0].path == "links[0].delay.order");
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
