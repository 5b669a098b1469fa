// [eal] A quiet, honest start-up of the real linkem (root; skips otherwise):
// no expected EAL/driver noise at the default log level, all of it at
// --log-level debug, EAL's usage never printed, "run as root" when a device
// fails to open without root.
#include "linkem_process.hpp"
#include "skip.hpp"

#include <catch2/catch.hpp>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

using namespace linkem::test;

namespace {

const std::string kTapPorts =
    "ports:\n  a: {device: \"net_tap0,iface=lkmq0\"}\n  b: {device: \"net_tap1,iface=lkmq1\"}\n"
    "links:\n  - {name: ab, from: a, to: b, delay: 1ms}\n";

}  // namespace

TEST_CASE("the expected start-up lines appear at --log-level debug only", "[eal]") {
    if (geteuid() != 0) LINKEM_SKIP("needs root (DPDK)");
    TempDir dir;
    const std::string file = dir.write("tap.yaml", kTapPorts);
    const Run quiet = run_linkem(shell_quote(file) + " --duration 0.2s --stats-interval 0", 60);
    INFO(quiet.output);
    REQUIRE(quiet.status == 0);
    for (const char *noise : {"TELEMETRY: No legacy callbacks", "multiq qdisc", "Disabling rte flow support", "Frame size",
                              "Failed to send start req to secondary"})
        CHECK_THAT(quiet.output, !Catch::Contains(noise));
    const Run debug = run_linkem(shell_quote(file) + " --duration 0.2s --stats-interval 0 --log-level debug", 60);
    INFO(debug.output);
    REQUIRE(debug.status == 0);
    CHECK_THAT(debug.output, Catch::Contains("TELEMETRY: No legacy callbacks") && Catch::Contains("multiq qdisc"));
}

TEST_CASE("EAL refusing an argument prints its reason, not its usage", "[eal]") {
    if (geteuid() != 0) LINKEM_SKIP("needs root (DPDK)");
    TempDir dir;
    const std::string file =
        dir.write("null.yaml", "ports: {a: {device: net_null0}, b: {device: net_null1}}\nlinks: [{name: ab, from: a, to: b}]\n");
    const Run r = run_linkem(shell_quote(file) + " --duration 0.2s --stats-interval 0 -- -l 0,99", 60);
    INFO(r.output);
    CHECK(r.status == 1);
    CHECK_THAT(r.output, Catch::Contains("lcore 99 unavailable") && Catch::Contains("it refused an argument"));
    CHECK_THAT(r.output, !Catch::Contains("Usage:") && !Catch::Contains("--log-level=<type-match>"));
}

TEST_CASE("a device that cannot open without root says to run as root", "[eal]") {
    if (geteuid() != 0) LINKEM_SKIP("needs root to drop it (setpriv)");
    if (system("command -v setpriv >/dev/null") != 0) LINKEM_SKIP("setpriv is missing");
    TempDir dir;
    const std::string file = dir.write("tap.yaml", kTapPorts);
    std::filesystem::permissions(dir.path(), std::filesystem::perms::others_read | std::filesystem::perms::others_exec,
                                 std::filesystem::perm_options::add);
    std::filesystem::permissions(file, std::filesystem::perms::others_read, std::filesystem::perm_options::add);
    // nobody may read the build tree only if its directories are searchable; skip otherwise.
    if (system(("setpriv --reuid=nobody --regid=nogroup --clear-groups test -x " + shell_quote(getenv("LINKEM_BIN")) + " -a -r " +
                shell_quote(file))
                   .c_str()) != 0)
        LINKEM_SKIP("nobody cannot run the build's linkem or read the scratch file");
    const Run r = run_linkem_and(
        shell_quote(file) + " --duration 0.2s --stats-interval 0", 60, [](pid_t) {},
        "setpriv --reuid=nobody --regid=nogroup --clear-groups ");
    INFO(r.output);
    CHECK(r.status == 1);
    CHECK_THAT(r.output, Catch::Contains("run as root"));
}
