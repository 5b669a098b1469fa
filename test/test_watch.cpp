// [eal] Watching a run (issue 17): stats.prometheus's /metrics scraped while
// linkem runs on net_null and parsed by a real parser (python3-prometheus-client),
// an address in use refused before the run, the status lines' UTC time, and
// --stats-jsonl's lines. Needs root (EAL); skips with a message otherwise.
#include "linkem_process.hpp"
#include "skip.hpp"

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <thread>

namespace fs = std::filesystem;
using namespace linkem::test;
using nlohmann::json;

namespace {

bool have_root() { return geteuid() == 0; }

// A socket bound to 127.0.0.1 on a port the kernel chose; listening when asked.
class HeldPort {
  public:
    explicit HeldPort(bool listening) {
        fd_ = socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t size = sizeof a;
        if (bind(fd_, reinterpret_cast<sockaddr *>(&a), sizeof a) == 0 && getsockname(fd_, reinterpret_cast<sockaddr *>(&a), &size) == 0)
            port_ = ntohs(a.sin_port);
        if (listening) listen(fd_, 1);
    }
    ~HeldPort() { release(); }
    void release() {
        if (fd_ >= 0) close(fd_);
        fd_ = -1;
    }
    int port() const { return port_; }

  private:
    int fd_ = -1;
    int port_ = 0;
};

// The scrape, fetched by Python and parsed by prometheus_client, as JSON:
// {"families": {name: type}, "samples": [[name, labels, value], ...]}; or the error.
const char *kScrape = R"(import json, sys, urllib.request
from prometheus_client.parser import text_string_to_metric_families
text = urllib.request.urlopen(sys.argv[1], timeout=5).read().decode()
families, samples = {}, []
for f in text_string_to_metric_families(text):
    families[f.name] = f.type
    samples += [[s.name, s.labels, s.value] for s in f.samples]
print(json.dumps({"families": families, "samples": samples}))
)";

bool have_prometheus_client() { return std::system("/usr/bin/python3 -c 'import prometheus_client' >/dev/null 2>&1") == 0; }

std::string run_capture(const std::string &command) {
    std::string out;
    FILE *p = popen(command.c_str(), "r");
    if (p == nullptr) return out;
    char buf[4096];
    for (size_t n; (n = fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
    pclose(p);
    return out;
}

double sample(const json &scrape, const std::string &name, const json &labels) {
    for (const json &s : scrape.at("samples"))
        if (s.at(0) == name && s.at(1) == labels) return s.at(2).get<double>();
    throw std::runtime_error("no sample " + name + labels.dump());
}

std::string null_config(const std::string &stats_line) {
    return "ports:\n  a: {device: \"net_null0,size=64\"}\n  b: {device: \"net_null1,size=64\"}\n"
           "links:\n  - {name: a-to-b, from: a, to: b, delay: 1ms}\n" +
           stats_line;
}

}  // namespace

TEST_CASE("stats.prometheus: /metrics during the run parses with prometheus_client, per link and per reason", "[eal]") {
    if (!have_root()) LINKEM_SKIP("needs root to start DPDK's EAL");
    if (!have_prometheus_client()) LINKEM_SKIP("needs Python's prometheus_client (Debian python3-prometheus-client; tools/setup.sh)");
    TempDir dir;
    HeldPort free_port(false);
    const int port = free_port.port();
    REQUIRE(port != 0);
    free_port.release();  // linkem binds it
    const fs::path config = dir / "null.yaml", script = dir / "scrape.py";
    std::ofstream(config) << null_config(fmt::format("stats: {{prometheus: \"127.0.0.1:{}\"}}\n", port));
    std::ofstream(script) << kScrape;
    std::string scraped;
    const Run r = run_linkem_and(config.string() + " --duration 4s --stats-interval 0", 60, [&](pid_t) {
        // Scrape once traffic has moved: the server is up from the run's start.
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
        while (std::chrono::steady_clock::now() < deadline) {
            std::this_thread::sleep_for(std::chrono::milliseconds(500));
            scraped = run_capture(fmt::format("/usr/bin/python3 {} http://127.0.0.1:{}/metrics 2>&1", script.string(), port));
            if (scraped.rfind("{\"families\"", 0) == 0 && scraped.find("linkem_link_rx_packets_total") != std::string::npos &&
                scraped.find("\"linkem_link_rx_packets_total\", {\"link\": \"a-to-b\"}, 0.0]") == std::string::npos)
                break;
        }
    });
    INFO(r.output);
    INFO(scraped);
    REQUIRE(r.status == 0);
    CHECK_THAT(r.output, Catch::Contains(fmt::format("linkem: metrics: http://127.0.0.1:{}/metrics", port)));
    const json scrape = json::parse(scraped);
    const json &families = scrape.at("families");
    // prometheus_client names a counter family without its _total.
    CHECK(families.at("linkem_link_rx_packets") == "counter");
    CHECK(families.at("linkem_link_drops") == "counter");
    CHECK(families.at("linkem_link_queue_depth_packets") == "gauge");
    CHECK(families.at("linkem_link_delay_seconds") == "histogram");
    CHECK(families.at("linkem_link_lateness_seconds") == "histogram");
    const json link = {{"link", "a-to-b"}};
    CHECK(sample(scrape, "linkem_link_rx_packets_total", link) > 0);
    CHECK(sample(scrape, "linkem_link_tx_packets_total", link) > 0);
    for (const char *reason : {"queue", "loss", "order", "arena_full", "tx_full", "shutdown", "model_error"})
        CHECK(sample(scrape, "linkem_link_drops_total", {{"link", "a-to-b"}, {"reason", reason}}) >= 0);
    // A constant 1 ms delay: every delayed packet is in the bucket up to 2^20 - 1 ns (1.05 ms), none below 2^19 - 1.
    const double count = sample(scrape, "linkem_link_delay_seconds_count", link);
    CHECK(count > 0);
    CHECK(sample(scrape, "linkem_link_delay_seconds_bucket", {{"link", "a-to-b"}, {"le", "0.000524287"}}) == 0);
    CHECK(sample(scrape, "linkem_link_delay_seconds_bucket", {{"link", "a-to-b"}, {"le", "0.001048575"}}) == count);
    CHECK(sample(scrape, "linkem_link_delay_seconds_sum", link) ==
          Approx(count * 1e-3).epsilon(1e-3));  // _sum is copied a moment after the buckets
    CHECK(sample(scrape, "linkem_port_rx_packets_total", {{"port", "a"}}) > 0);
}

TEST_CASE("stats.prometheus on an address in use: a clear error before the run, exit status 1", "[eal]") {
    if (!have_root()) LINKEM_SKIP("needs root to start DPDK's EAL");
    TempDir dir;
    HeldPort taken(true);
    REQUIRE(taken.port() != 0);
    const fs::path config = dir / "null.yaml";
    std::ofstream(config) << null_config(fmt::format("stats: {{prometheus: \"127.0.0.1:{}\"}}\n", taken.port()));
    const Run r = run_linkem(config.string() + " --duration 1s --stats-interval 0", 60);
    INFO(r.output);
    CHECK(r.status == 1);
    CHECK_THAT(r.output, Catch::Contains(
                             fmt::format("linkem: stats.prometheus: cannot listen on 127.0.0.1:{}: Address already in use", taken.port())));
    CHECK_THAT(r.output, !Catch::Contains("linkem: running"));
}

TEST_CASE("status lines start with the UTC time; --stats-jsonl writes a line per interval and a final one", "[eal]") {
    if (!have_root()) LINKEM_SKIP("needs root to start DPDK's EAL");
    TempDir dir;
    const fs::path config = dir / "null.yaml", lines = dir / "stats.jsonl", stats = dir / "stats.json";
    std::ofstream(config) << null_config("");
    const Run r = run_linkem(
        config.string() + " --duration 2s --stats-interval 250ms --stats-jsonl " + lines.string() + " --stats-json " + stats.string(), 60);
    INFO(r.output);
    REQUIRE(r.status == 0);
    const std::regex status(R"(^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z a-to-b: rx [\d.]+ \w*pps [\d.]+ \w*bit/s \| tx )");
    int status_lines = 0;
    std::istringstream out(r.output);
    for (std::string line; std::getline(out, line);) status_lines += std::regex_search(line, status) ? 1 : 0;
    CHECK(status_lines >= 5);  // 2 s at 250 ms: 7 (fewer on a busy host)

    std::ifstream in(lines);
    std::vector<json> parsed;
    for (std::string line; std::getline(in, line);) {
        INFO(line);
        parsed.push_back(json::parse(line));  // each line is one JSON document
    }
    REQUIRE(parsed.size() >= 3);
    uint64_t last_t = 0, last_rx = 0;
    for (size_t i = 0; i < parsed.size(); ++i) {
        const json &p = parsed[i];
        INFO(p.dump());
        CHECK(p.at("final") == (i + 1 == parsed.size()));
        CHECK(std::regex_match(p.at("time").get<std::string>(), std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)")));
        const uint64_t t = p.at("t_ns"), rx = p.at("links").at(0).at("rx_packets");
        CHECK(t > last_t);  // times increase
        CHECK(rx >= last_rx);
        CHECK(p.at("interval_ns").get<uint64_t>() > 0);
        CHECK(p.at("links").at(0).at("interval").at("rx_pps").get<double>() >= 0);
        last_t = t;
        last_rx = rx;
    }
    CHECK(last_rx > 0);
    // The final line agrees with the --stats-json document, which stays one document.
    const json doc = read_json(stats);
    CHECK(parsed.back().at("links").at(0).at("rx_packets") == link_in(doc, "a-to-b").at("rx_packets"));
    CHECK(parsed.back().at("links").at(0).at("drops") == link_in(doc, "a-to-b").at("drops"));
}

TEST_CASE("--stats-jsonl on a file that cannot take the lines: said, and exit status 1", "[eal]") {
    if (!have_root()) LINKEM_SKIP("needs root to start DPDK's EAL");
    if (!fs::exists("/dev/full")) LINKEM_SKIP("needs /dev/full (every write fails with ENOSPC)");
    TempDir dir;
    const fs::path config = dir / "null.yaml";
    std::ofstream(config) << null_config("");
    const Run r = run_linkem(config.string() + " --duration 1s --stats-interval 250ms --stats-jsonl /dev/full", 60);
    INFO(r.output);
    CHECK(r.status == 1);
    CHECK_THAT(r.output, Catch::Contains("linkem: --stats-jsonl: cannot write /dev/full: No space left on device"));
    CHECK_THAT(r.output, Catch::Contains("accounting: rx = tx + drops + in flight"));  // the run itself went on to its summary
}
