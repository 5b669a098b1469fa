// [integration] Runtime changes in a running linkem (root, net_null): SIGHUP
// applies linkem's own file again; a change of delay from 10 ms to 30 ms
// mid-run (1 Gbit/s of 64-byte frames: the queue is full all along)
// balances, drops nothing but the queue's, and the delays measured before and after
// are the old and the new; refused changes (a bad value, too big for the
// arena) change nothing and the run goes on. A link with fq_codel takes a
// bandwidth change mid-run: its queue goes on, and the rate becomes the new one.
#include "linkem_process.hpp"
#include "skip.hpp"

#include <catch2/catch.hpp>

#include <signal.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

using namespace linkem::test;
using nlohmann::json;

namespace {

std::string config_with(const std::string &delay) {
    return "ports:\n  a: {device: \"net_null0,size=64\"}\n  b: {device: \"net_null1,size=64\"}\n"
           "links:\n  - {name: a-to-b, from: a, to: b, bandwidth: 1Gbit/s, delay: " +
           delay + ", arena: 100K packets}\n";
}

}  // namespace

TEST_CASE("SIGHUP reloads: delay 10ms -> 30ms mid-run at full rate; refused changes change nothing", "[eal][change]") {
    if (geteuid() != 0) LINKEM_SKIP("needs root to start DPDK's EAL");
    TempDir dir;
    const std::string config = dir.write("run.yaml", config_with("10ms"));
    const std::string stats = (dir / "stats.json").string(), lines = (dir / "stats.jsonl").string();
    const Run run = run_linkem_and(shell_quote(config) + " --duration 4s --stats-interval 250ms --stats-json " + shell_quote(stats) +
                                       " --stats-jsonl " + shell_quote(lines),
                                   60, [&](pid_t pid) {
                                       usleep(1'500'000);
                                       dir.write("run.yaml", config_with("30ms"));
                                       kill(pid, SIGHUP);
                                       usleep(500'000);
                                       dir.write("run.yaml", config_with("fast"));  // a bad value: refused
                                       kill(pid, SIGHUP);
                                       usleep(300'000);
                                       dir.write("run.yaml", config_with("50s").replace(config_with("50s").find(", arena: 100K packets"),
                                                                                        21, ""));  // arena changes: refused
                                       kill(pid, SIGHUP);
                                       usleep(300'000);
                                       dir.write("run.yaml", config_with("50s"));  // needs more arena than the link has: refused
                                       kill(pid, SIGHUP);
                                   });
    INFO(run.output);
    CHECK(run.status == 0);
    CHECK_THAT(run.output, Catch::Contains(" change 1 at +") && Catch::Contains("a-to-b: delay=30ms"));
    CHECK_THAT(run.output, Catch::Contains("run.yaml:5:63: links[0].delay: \"fast\" is not a duration"));
    CHECK_THAT(run.output, Catch::Contains("links[0].arena: the arena is made at start"));
    CHECK_THAT(run.output, Catch::Contains("links[0]: the change needs an arena of"));
    CHECK(run.output.find(" change 2 at ") == std::string::npos);

    const json j = read_json(stats);
    REQUIRE(j.at("changes").size() == 1);
    const json &change = j.at("changes")[0];
    CHECK(change.at("links").at("a-to-b").at("delay") == "30ms");
    const uint64_t at_ns = change.at("at_ns").get<uint64_t>();
    CHECK(at_ns > 1'000'000'000);
    CHECK(at_ns < 3'000'000'000);
    const json &link = link_in(j, "a-to-b");
    CHECK(link.at("balanced") == true);
    for (const auto &[reason, count] : link.at("drops").items())
        if (reason != "queue") CHECK(count == 0);  // the queue's drops are the model's; a change by itself loses nothing
    INFO(link.dump());
    CHECK(link.at("rx_packets").get<uint64_t>() > 1'000'000);

    // Per interval (cumulative histograms): before the change every delay is ~10 ms; at the end the largest ~30 ms.
    std::ifstream in(lines);
    std::string line;
    bool saw_before = false;
    json last;
    while (std::getline(in, line)) {
        const json l = json::parse(line);
        const json &d = named(l, "links", "a-to-b").at("delay_ns");
        if (l.at("t_ns").get<uint64_t>() + 300'000'000 < at_ns && d.at("count").get<uint64_t>() > 0) {
            saw_before = true;
            CHECK(d.at("max").get<uint64_t>() >= 10'000'000);
            CHECK(d.at("max").get<uint64_t>() < 12'000'000);
        }
        last = l;
    }
    CHECK(saw_before);
    const json &final_delay = named(last, "links", "a-to-b").at("delay_ns");
    CHECK(final_delay.at("max").get<uint64_t>() >= 30'000'000);
    CHECK(final_delay.at("max").get<uint64_t>() < 32'000'000);
    CHECK(final_delay.at("p50").get<uint64_t>() >= 29'000'000);  // most packets came after the change (2.5 s of 4)
}

TEST_CASE("SIGHUP on a link with fq_codel: bandwidth 1Gbit/s -> 100Mbit/s mid-run; its queue goes on", "[eal][change][queue]") {
    if (geteuid() != 0) LINKEM_SKIP("needs root to start DPDK's EAL");
    TempDir dir;
    const auto fq_config = [](const std::string &bandwidth) {
        return "ports:\n  a: {device: \"net_null0,size=64\"}\n  b: {device: \"net_null1,size=64\"}\n"
               "links:\n  - {name: a-to-b, from: a, to: b, bandwidth: " +
               bandwidth + ", delay: 1ms, queue: {discipline: fq_codel}}\n";
    };
    const std::string config = dir.write("run.yaml", fq_config("1Gbit/s"));
    const std::string stats = (dir / "stats.json").string(), lines = (dir / "stats.jsonl").string();
    const Run run = run_linkem_and(shell_quote(config) + " --duration 4s --stats-interval 250ms --stats-json " + shell_quote(stats) +
                                       " --stats-jsonl " + shell_quote(lines),
                                   60, [&](pid_t pid) {
                                       usleep(1'500'000);
                                       dir.write("run.yaml", fq_config("100Mbit/s"));
                                       kill(pid, SIGHUP);
                                   });
    INFO(run.output);
    CHECK(run.status == 0);
    CHECK_THAT(run.output, Catch::Contains(" change 1 at +") && Catch::Contains("a-to-b: bandwidth=100Mbit/s"));
    const json j = read_json(stats);
    REQUIRE(j.at("changes").size() == 1);
    const uint64_t at_ns = j.at("changes")[0].at("at_ns").get<uint64_t>();
    const json &link = link_in(j, "a-to-b");
    INFO(link.dump());
    CHECK(link.at("balanced") == true);
    for (const auto &[reason, count] : link.at("drops").items())
        if (reason != "queue" && reason != "aqm_drop" && reason != "shutdown")
            CHECK(count == 0);  // the queue's, the discipline's and what it held at the end: the change lost nothing

    // The link's rate over the intervals wholly before and wholly after the
    // change (backlogged all along: net_null offers far more than 1 Gbit/s).
    std::ifstream in(lines);
    std::string line;
    std::vector<std::pair<uint64_t, uint64_t>> tx;  // (t_ns, tx bytes so far)
    while (std::getline(in, line)) {
        const json l = json::parse(line);
        tx.emplace_back(l.at("t_ns").get<uint64_t>(), named(l, "links", "a-to-b").at("tx_bytes").get<uint64_t>());
    }
    double before_bps = 0, after_bps = 0;
    for (size_t i = 1; i < tx.size(); ++i) {
        const double bps =
            8.0 * static_cast<double>(tx[i].second - tx[i - 1].second) / static_cast<double>(tx[i].first - tx[i - 1].first) * 1e9;
        if (tx[i].first + 100'000'000 < at_ns && tx[i - 1].first > 300'000'000) before_bps = std::max(before_bps, bps);
        if (tx[i - 1].first > at_ns + 100'000'000 && tx[i].first < 3'800'000'000) after_bps = std::max(after_bps, bps);
    }
    INFO("tx bits per second before " << before_bps << ", after " << after_bps);
    // The rate counts the frames' bytes (no overhead given).
    CHECK(before_bps > 0.5e9);
    CHECK(after_bps > 0.5e8);
    CHECK(after_bps < 1.1e8);
}
