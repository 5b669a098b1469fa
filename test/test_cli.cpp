// [cli] The real `linkem` binary: --check on every example and on each class of
// malformed input. A bad configuration must exit with status 2 within a second,
// with a message naming file, line, column and key path, and start nothing.
#include "linkem_process.hpp"

#include <catch2/catch.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <string>

namespace fs = std::filesystem;
using namespace linkem::test;

namespace {

// linkem --check FILE must fail with status 2, quickly, naming the position.
void require_rejected(const std::string &file, const std::string &position_and_path) {
    const Run r = run_linkem("--check " + shell_quote(file), 10);
    INFO(r.output);
    CHECK(r.status == 2);
    CHECK(r.cpu_seconds < 1.0);  // CPU, not wall-clock time: a busy host must not fail it (the 10 s timeout catches a hang)
    CHECK_THAT(r.output, Catch::Contains(file + ":" + position_and_path));
    CHECK_THAT(r.output, Catch::Contains("nothing was started"));
}

const std::string kGood =
    "ports:\n  a: {device: net_null0}\n  b: {device: net_null1}\nlinks:\n  - {name: ab, from: a, to: b, delay: 10ms}\n";

}  // namespace

TEST_CASE("linkem --check accepts every example and prints it in human units", "[cli]") {
    const char *dir = std::getenv("LINKEM_CONFIG_DIR");
    REQUIRE(dir != nullptr);
    size_t checked = 0;
    for (const auto &entry : fs::directory_iterator(dir)) {
        if (entry.path().extension() != ".yaml") continue;
        const Run r = run_linkem("--check " + shell_quote(entry.path().string()), 10);
        INFO(entry.path() << "\n" << r.output);
        CHECK(r.status == 0);
        CHECK_THAT(r.output, Catch::Contains(": valid.") && Catch::Contains("links:") && Catch::Contains("# EAL arguments:"));
        ++checked;
    }
    CHECK(checked >= 3);
}

TEST_CASE("linkem --check rejects each class of malformed input with status 2", "[cli]") {
    TempDir dir;
    SECTION("syntax error") { require_rejected(dir.write("syntax.yaml", "ports: {a: [1, 2\n"), "2:1: YAML syntax"); }
    SECTION("tab") { require_rejected(dir.write("tab.yaml", "ports:\n\ta: {device: n0}\n"), "2:3: YAML syntax"); }
    SECTION("duplicate key") { require_rejected(dir.write("dup.yaml", kGood + "seed: 1\nseed: 2\n"), "7:1: seed: duplicate key"); }
    SECTION("wrong type") {
        require_rejected(dir.write("type.yaml", kGood + "pipeline: {burst: [1]}\n"), "6:19: pipeline.burst: expected a whole number");
    }
    SECTION("unknown key") {
        require_rejected(dir.write("key.yaml", kGood + "sed: 3\n"), "6:1: sed: unknown key \"sed\"; did you mean \"seed\"?");
    }
    SECTION("bad unit") {
        std::string text = kGood;
        text.replace(text.find("10ms"), 4, "10 parsecs");
        require_rejected(dir.write("unit.yaml", text), "5:39: links[0].delay: \"10 parsecs\" is not a duration");
    }
    SECTION("empty file") { require_rejected(dir.write("empty.yaml", ""), "1:1: the file is empty"); }
    SECTION("directory") { require_rejected(dir.path().string(), "1:1: this is a directory"); }
    SECTION("missing file") { require_rejected((dir.path() / "absent.yaml").string(), "1:1: cannot read the file"); }
    SECTION("binary file") {
        std::string bytes(
            "\x7f"
            "ELF\x02\x01\x01\x00",
            8);  // an ELF header: its first NUL is byte 8
        for (int i = 0; i < 4096; ++i) bytes += static_cast<char>((i * 131) & 0xff);
        require_rejected(dir.write("binary.yaml", bytes), "1:8: binary data");
    }
    SECTION("100 MB file") {
        const std::string path = (dir.path() / "huge.yaml").string();
        {
            std::ofstream out(path, std::ios::binary);
            const std::string line(1023, 'x');
            for (int i = 0; i < 100 * 1024; ++i) out << "# " << line << '\n';
        }
        REQUIRE(fs::file_size(path) > 100'000'000);
        require_rejected(path, "1:1: the file is");
    }
    SECTION("deep nesting") {
        // yaml-cpp marks where it gave up (the end of the line), not where the limit was crossed.
        require_rejected(dir.write("deep.yaml", "ports: " + std::string(200000, '{') + "\n"), "2:1: YAML syntax: nested deeper than");
    }
    SECTION("alias bomb") {
        std::string text = "a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n";
        for (int i = 1; i < 12; ++i) {
            text += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " [";
            for (int k = 0; k < 9; ++k) text += (k ? ", *a" : "*a") + std::to_string(i - 1);
            text += "]\n";
        }
        require_rejected(dir.write("bomb.yaml", text + "ports: *a11\nlinks: *a11\n"), "1:1: a0: unknown key");
    }
}

TEST_CASE("text that starts endless YAML documents is refused at once by linkem and linkem-sim", "[cli]") {
    // yaml-cpp 0.7's YAML::LoadAll never ends on these (jbeder/yaml-cpp#1040):
    // it yields empty documents without consuming the ",", memory grows until
    // bad_alloc. The memory limit turns such a hang into a quick failure here.
    TempDir dir;
    const std::string stray_line = "# a to b, 10 ms\n,\n" + kGood;  // a stray "," above the first key
    const struct {
        const char *name;
        std::string text, position, message;
    } cases[] = {
        {"comma.yaml", ",", "1:1", "YAML syntax: unexpected ','"},
        {"tag.yaml", "!,#A", "1:2", "YAML syntax: unexpected ','"},
        {"list.yaml", "- a\n,\n", "2:1", "YAML syntax: unexpected ','"},
        {"stray.yaml", stray_line, "2:1", "YAML syntax: unexpected ','"},
        {"second.yaml", kGood + "---\n" + kGood, "6:1", "a second YAML document"},
        {"second_bad.yaml", kGood + "---\n,\n", "6:1", "a second YAML document"},
    };
    for (const auto &c : cases) {
        const std::string file = dir.write(c.name, c.text);
        INFO(c.name);
        const Run check = run_program_limited("LINKEM_BIN", "--check " + shell_quote(file), 10, 512);
        INFO(check.output);
        CHECK(check.status == 2);
        CHECK(check.cpu_seconds < 1.0);
        CHECK_THAT(check.output, Catch::Contains(file + ":" + c.position + ": " + c.message));
        const Run run = run_program_limited("LINKEM_BIN", shell_quote(file), 10, 512);
        INFO(run.output);
        CHECK(run.status == 2);
        CHECK_THAT(run.output, Catch::Contains(file + ":" + c.position + ": " + c.message) && Catch::Contains("nothing was started"));
        const Run sim = run_program_limited("LINKEM_SIM_BIN", shell_quote(file) + " --synthetic rate=1kpps,size=64,count=1", 10, 512);
        INFO(sim.output);
        CHECK(sim.status == 2);
        CHECK_THAT(sim.output, Catch::Contains(file + ":" + c.position + ": " + c.message));
    }
}

TEST_CASE("linkem's command line: help, version, mistakes", "[cli]") {
    const Run help = run_linkem("--help", 10);
    CHECK(help.status == 0);
    CHECK_THAT(help.output, Catch::Contains("usage: linkem CONFIG.yaml"));
    const Run version = run_linkem("--version", 10);
    CHECK(version.status == 0);
    CHECK_THAT(version.output, Catch::StartsWith("linkem ") && Catch::Contains("DPDK 22.11"));
    // The commit the binary was built from, the same in linkem and linkem-sim
    // (tools/package.sh puts it in the .deb's version).
    const std::regex commit_line(R"(^linkem(-sim)? \d+\.\d+\.\d+ \(commit ([0-9a-f]{12}(-dirty)?|unknown)\)[,\n][^]*)");
    CHECK(std::regex_match(version.output, commit_line));
    const Run sim_version = run_program("LINKEM_SIM_BIN", "--version", 10);
    CHECK(sim_version.status == 0);
    CHECK(std::regex_match(sim_version.output, commit_line));
    const auto commit_of = [](const std::string &text) {
        return text.substr(text.find("(commit "), text.find(')') - text.find("(commit "));
    };
    CHECK(commit_of(sim_version.output) == commit_of(version.output));
    const Run typo = run_linkem("x.yaml --chek", 10);
    CHECK(typo.status == 2);
    CHECK_THAT(typo.output, Catch::Contains("did you mean --check?"));
    const Run none = run_linkem("", 10);
    CHECK(none.status == 2);
    CHECK_THAT(none.output, Catch::Contains("no configuration file given"));
}

TEST_CASE("linkem --from-netem prints a configuration that --check accepts, and refuses netem syntax errors with status 2",
          "[cli][netem]") {
    TempDir dir;
    const Run printed =
        run_linkem("--from-netem " + shell_quote("delay 100ms 10ms distribution normal loss 1% 25% rate 10mbit limit 1000"), 10);
    INFO(printed.output);
    REQUIRE(printed.status == 0);
    CHECK_THAT(printed.output, Catch::Contains("delay: {plugin: normal, mean: 100ms, jitter: 10ms}") &&
                                   Catch::Contains("# loss correlation 25% not translated"));
    const Run checked = run_linkem("--check " + shell_quote(dir.write("netem.yaml", printed.output)), 10);
    INFO(checked.output);
    CHECK(checked.status == 0);
    const Run bad = run_linkem("--from-netem " + shell_quote("delay 100ms lost 1%"), 10);
    CHECK(bad.status == 2);
    CHECK_THAT(bad.output, Catch::Contains("linkem: --from-netem: unknown netem word \"lost\"; did you mean \"loss\"?"));
}

TEST_CASE("linkem --check refuses a device no DPDK driver claims, and lcores the process may not run on", "[cli]") {
    TempDir dir;
    SECTION("unknown driver, with the nearest name") {
        require_rejected(
            dir.write("foo.yaml", "ports:\n  a: {device: net_null0}\n  b: {device: net_nul1}\nlinks:\n  - {name: ab, from: a, to: b}\n"),
            "3:15: ports.b.device: no DPDK driver is called \"net_nul1\" (did you mean net_null?)");
    }
    SECTION("an lcore beyond the CPUs: one line, not EAL's usage") {
        const std::string file = dir.write("lcores.yaml", kGood + "pipeline: {lcores: [0, 1023]}\n");
        const Run r = run_linkem("--check " + shell_quote(file), 10);
        INFO(r.output);
        CHECK(r.status == 2);
        CHECK_THAT(r.output, Catch::Contains(file + ":6:24: pipeline.lcores[1]: lcore 1023: this process may run on CPU"));
        CHECK_THAT(r.output, !Catch::Contains("Usage"));
    }
}

TEST_CASE("linkem --check warns when an interface net_af_packet needs does not exist", "[cli]") {
    TempDir dir;
    const std::string file =
        dir.write("af.yaml",
                  "ports:\n  a: {device: \"net_af_packet0,iface=lkm-absent0\"}\n  b: {device: \"net_tap0,iface=lkm-absent1\"}\n"
                  "links:\n  - {name: ab, from: a, to: b}\n");
    const Run r = run_linkem("--check " + shell_quote(file), 10);
    INFO(r.output);
    CHECK(r.status == 0);
    CHECK_THAT(r.output, Catch::Contains("# warning: " + file + ":2:15: ports.a.device: interface lkm-absent0 does not exist"));
    CHECK_THAT(r.output, !Catch::Contains("lkm-absent1 does not exist"));  // net_tap creates its own
}
