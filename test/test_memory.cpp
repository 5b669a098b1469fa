// [memory] linkem's memory: the budget refuses what the host cannot give
// before anything starts; linkem runs without hugetlbfs and without free
// hugepages (inside a private mount namespace, `unshare -m`, where hugetlbfs
// is unmounted and, for the second case, every free_hugepages file reads 0);
// an arena in ordinary memory is resident and locked before any packet.
#include "linkem_process.hpp"
#include "skip.hpp"

#include <catch2/catch.hpp>

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

namespace fs = std::filesystem;
using namespace linkem::test;

namespace {

// Runs a shell script; its output and exit status.
Run run_shell(const std::string &script) {
    Run run;
    FILE *pipe = popen(("sh -c " + shell_quote(script) + " 2>&1").c_str(), "r");
    REQUIRE(pipe != nullptr);
    char buffer[4096];
    for (size_t n; (n = fread(buffer, 1, sizeof buffer, pipe)) > 0;) run.output.append(buffer, n);
    const int raw = pclose(pipe);
    run.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : 128 + WTERMSIG(raw);
    return run;
}

// "VmLck:   524288 kB" from /proc/PID/status, in bytes.
uint64_t locked_bytes(pid_t pid) {
    std::ifstream status("/proc/" + std::to_string(pid) + "/status");
    for (std::string line; std::getline(status, line);)
        if (line.rfind("VmLck:", 0) == 0) return std::stoull(line.substr(6)) * 1024;
    return 0;
}

const char *kTwoNullPorts = "ports:\n  a: {device: \"net_null0,size=64\"}\n  b: {device: \"net_null1,size=64\"}\n";

}  // namespace

TEST_CASE("a derived 1 TiB arena is refused before anything starts, naming the biggest consumers and the total", "[memory][cli]") {
    TempDir dir;
    // 100 Gbit/s x 60 s = 750 GB of delay line: a 1 TiB arena.
    const std::string big =
        dir.write("big.yaml", std::string(kTwoNullPorts) +
                                  "links:\n  - {name: big, from: a, to: b, bandwidth: 100Gbit/s, delay: 60s, overhead: ethernet}\n"
                                  "  - {name: back, from: b, to: a, delay: 1ms}\n");
    for (const std::string mode : {" --check", " --duration 1s"}) {
        const Run r = run_linkem(big + mode, 30);
        INFO(r.output);
        CHECK(r.status == 2);
        CHECK_THAT(r.output, Catch::Contains("the run needs 1 TiB of memory in all and the host cannot give it") &&
                                 Catch::Contains("The biggest: link big: delay arena 1 TiB") && Catch::Contains("nothing was started"));
        CHECK_THAT(r.output, !Catch::Contains("EAL:"));
    }
    // 64 instances of a per-flow template, each with a 32 GiB arena (10 s at
    // the assumed 10 Gbit/s) and reorder's second one: 4 TiB.
    const std::string flows =
        dir.write("flows.yaml", std::string(kTwoNullPorts) +
                                    "links:\n  - {name: flows, from: a, to: b, delay: 10s, per_flow: {key: {src: /32}, max_flows: 64},"
                                    " mangle: {reorder: {probability: 1%, extra_delay: 1ms}}}\n"
                                    "  - {name: back, from: b, to: a, delay: 1ms}\n");
    const Run r = run_linkem(flows + " --check", 30);
    INFO(r.output);
    CHECK(r.status == 2);
    CHECK_THAT(r.output,
               Catch::Contains("The biggest: link flows: delay arenas of its per-flow instances 4 TiB (max_flows 64 x 32 GiB x 2"));
}

TEST_CASE("--check explains every allocation and the host's figures", "[memory][cli]") {
    TempDir dir;
    const std::string config = dir.write("ok.yaml", std::string(kTwoNullPorts) +
                                                        "links:\n  - {name: ab, from: a, to: b, bandwidth: 10Mbit/s, delay: 10ms}\n"
                                                        "  - {name: ba, from: b, to: a, delay: 1ms}\n");
    const Run r = run_linkem(config + " --check", 30);
    INFO(r.output);
    REQUIRE(r.status == 0);
    CHECK_THAT(r.output, Catch::Contains("# memory: mbuf pools: ") && Catch::Contains("# memory: link ab: delay arena: ") &&
                             Catch::Contains("# memory: link ab: queue ring: ") && Catch::Contains("# memory: total ") &&
                             Catch::Contains("in ordinary memory (host: "));
    CHECK_THAT(r.output, Catch::Contains("delay line 10Mbit/s x 10ms = 12.2 KiB of frames"));
}

namespace {

// Runs `linkem CONFIG --check` and a 1 s run of it inside `unshare -m` with
// every hugetlbfs unmounted; with no_free_pages, every free_hugepages file
// reads 0 as well. Skips when unshare or root is missing.
Run run_without_hugetlbfs(const TempDir &dir, const std::string &config, bool no_free_pages) {
    const char *bin = std::getenv("LINKEM_BIN");
    REQUIRE(bin != nullptr);
    const std::string zero = dir.write("zero", "0\n");
    std::string script = "for m in $(awk '$3 == \"hugetlbfs\" {print $2}' /proc/mounts); do umount -l \"$m\" || exit 97; done\n";
    if (no_free_pages)
        script += "for f in /sys/kernel/mm/hugepages/*/free_hugepages; do [ -e \"$f\" ] || continue; mount --bind " + shell_quote(zero) +
                  " \"$f\" || exit 97; done\n";
    script +=
        "grep -c hugetlbfs /proc/mounts; " + shell_quote(bin) + " " + shell_quote(config) + " --check | grep -E 'EAL|warning|total'\n";
    script += "exec timeout 60 " + shell_quote(bin) + " " + shell_quote(config) + " --duration 1s --stats-interval 0 --stats-json " +
              shell_quote((dir / "stats.json").string()) + "\n";
    return run_shell("exec unshare -m sh -c " + shell_quote(script));
}

bool can_unshare(std::string *why) {
    if (geteuid() != 0) {
        *why = "needs root to start DPDK's EAL and to unshare a mount namespace";
        return false;
    }
    const Run probe = run_shell("unshare -m true");
    if (probe.status != 0) {
        *why = "unshare -m is not available here: " + probe.output;
        return false;
    }
    return true;
}

void check_balanced_run(const Run &r, const TempDir &dir) {
    INFO(r.output);
    REQUIRE(r.status == 0);
    CHECK_THAT(r.output, Catch::StartsWith("0\n"));  // no hugetlbfs was mounted in the namespace
    const nlohmann::json stats = read_json(dir / "stats.json");
    CHECK(all_balanced(stats));
    for (const char *link : {"ab", "ba"}) CHECK(link_in(stats, link).at("rx_packets") > 1000);  // traffic moved
    CHECK(stats.at("mbufs").at("pool") == stats.at("mbufs").at("returned"));
}

}  // namespace

TEST_CASE("linkem runs without hugetlbfs: anonymous hugepages with --in-memory, else --no-huge", "[eal][memory]") {
    std::string why;
    if (!can_unshare(&why)) LINKEM_SKIP(why);
    TempDir dir;
    const std::string config = dir.write("null.yaml", std::string(kTwoNullPorts) +
                                                          "links:\n  - {name: ab, from: a, to: b, delay: 1ms}\n"
                                                          "  - {name: ba, from: b, to: a, delay: 1ms}\n");
    {
        // Free hugepages but no mount: --in-memory maps them anonymously.
        const Run r = run_without_hugetlbfs(dir, config, false);
        CHECK_THAT(r.output, Catch::Contains("# EAL arguments: --file-prefix=linkem --in-memory"));
        check_balanced_run(r, dir);
    }
    {
        // No free hugepages either: --no-huge, which DPDK 22.11 refuses beside --in-memory.
        const Run r = run_without_hugetlbfs(dir, config, true);
        CHECK_THAT(r.output, Catch::Contains("# EAL arguments: --file-prefix=linkem --no-shconf --no-huge -m 1024") &&
                                 Catch::Contains("no free hugepages: running with --no-huge"));
        CHECK_THAT(r.output, Catch::Contains("link ab: arena of 2 MiB in ordinary memory"));
        check_balanced_run(r, dir);
    }
}

TEST_CASE("an arena in ordinary memory is resident and locked before the first packet", "[eal][memory]") {
    if (geteuid() != 0) LINKEM_SKIP("needs root to start DPDK's EAL");
    TempDir dir;
    // Ring ports carry no traffic: whatever of the arena is resident was touched at start-up.
    const std::string config = dir.write("ring.yaml",
                                         "ports:\n  a: {device: net_ring0}\n  b: {device: net_ring1}\n"
                                         "links:\n  - {name: ab, from: a, to: b, bandwidth: 10Gbit/s, delay: 100ms}\n"
                                         "  - {name: ba, from: b, to: a}\n");
    uint64_t locked = 0;
    const Run r = run_linkem_and(config + " --duration 2s --stats-interval 0 -- --no-huge --no-shconf -m 256", 60, [&](pid_t pid) {
        for (int i = 0; i < 400 && locked < (256ULL << 20); ++i) {
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
            locked = std::max(locked, locked_bytes(pid));
        }
    });
    INFO(r.output);
    CHECK(r.status == 0);
    CHECK_THAT(r.output, Catch::Contains("link ab: arena of 256 MiB in ordinary memory (transparent hugepages advised), touched in"));
    CHECK(locked >= (256ULL << 20));
}

TEST_CASE("a cgroup memory limit lowers what the budget counts as available: an 8 GiB arena under 6 GiB is refused", "[eal][memory]") {
    std::string why;
    if (!can_unshare(&why)) LINKEM_SKIP(why);
    TempDir dir;
    // 4 000 000 packets of queue at 100 Gbit/s: an 8 GiB arena.
    const std::string config =
        dir.write("8g.yaml", std::string(kTwoNullPorts) +
                                 "links:\n  - {name: ab, from: a, to: b, bandwidth: 100Gbit/s, queue: 4000000 packets, delay: 10ms}\n"
                                 "  - {name: ba, from: b, to: a, delay: 1ms}\n");
    const std::string limit = dir.write("limit", std::to_string(6ULL << 30) + "\n");
    // Inside a private mount namespace, the process's cgroup limit file (v1
    // memory.limit_in_bytes or v2 memory.max) reads 6 GiB; the cgroup itself is untouched.
    const std::string script =
        "v1=$(sed -n 's/^[0-9]*:memory://p' /proc/self/cgroup); v2=$(sed -n 's/^0:://p' /proc/self/cgroup)\n"
        "f=/sys/fs/cgroup/memory$v1/memory.limit_in_bytes; [ -n \"$v1\" ] && [ -e \"$f\" ] || f=/sys/fs/cgroup$v2/memory.max\n"
        "[ -e \"$f\" ] || exit 98\n"
        "mount --bind " +
        shell_quote(limit) + " \"$f\" || exit 97\nexec " + shell_quote(std::getenv("LINKEM_BIN")) + " " + shell_quote(config) +
        " --check\n";
    const Run r = run_shell("exec unshare -m sh -c " + shell_quote(script));
    INFO(r.output);
    if (r.status == 98) LINKEM_SKIP("no cgroup memory limit file for this process");
    CHECK(r.status == 2);
    CHECK_THAT(r.output, Catch::Contains("of ordinary memory is needed") && Catch::Contains("The biggest: link ab: delay arena 8 GiB"));
    const size_t has = r.output.find("the host has ");
    REQUIRE(has != std::string::npos);
    CHECK(std::stod(r.output.substr(has + 13)) <= 6.0);  // GiB: the limit less what the cgroup already uses
    CHECK(r.output.substr(has + 13).find(" GiB available") < 6);
}
