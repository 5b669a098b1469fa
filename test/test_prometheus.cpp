// [unit][stats] The Prometheus text exposition (linkem/prometheus.hpp): exact
// lines for a small snapshot, a sample for every drop reason of both lists,
// histograms with exact cumulative `le` buckets in seconds, label escaping;
// a queue discipline's families, for its links only;
// and the status lines' UTC timestamp (units.hpp utc_timestamp_text).
#include "linkem/drops.hpp"
#include "linkem/prometheus.hpp"
#include "linkem/units.hpp"

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <sstream>
#include <string>
#include <vector>

using namespace linkem;

namespace {

std::vector<std::string> lines_of(const std::string &text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
}

bool has_line(const std::vector<std::string> &lines, const std::string &line) {
    for (const std::string &l : lines)
        if (l == line) return true;
    return false;
}

LinkSnapshot small_link() {
    LinkSnapshot s;
    s.name = "a-to-b";
    s.rx_packets = 10;
    s.rx_bytes = 640;
    s.tx_packets = 7;
    s.tx_bytes = 448;
    s.drop(DropReason::kLoss) = 2;
    s.in_flight = 1;
    s.queue_depth = 3;
    s.rx_busy_ns = 1500;
    for (uint64_t ns : {100, 127, 128, 1000, 5'000'000}) s.delay_ns.record(ns);
    s.lateness_ns.record(2'000);
    return s;
}

}  // namespace

TEST_CASE("seconds are written exactly, label values escaped", "[unit][stats]") {
    CHECK(prometheus_seconds(0) == "0");
    CHECK(prometheus_seconds(1023) == "0.000001023");
    CHECK(prometheus_seconds(1'500'000'000) == "1.5");
    CHECK(prometheus_seconds(2'000'000'000) == "2");
    CHECK(prometheus_label_value("plain-name_1.x") == "plain-name_1.x");
    CHECK(prometheus_label_value("a\"b\\c\nd") == "a\\\"b\\\\c\\nd");
    const std::vector<uint64_t> &bounds = prometheus_bucket_bounds_ns();
    REQUIRE(bounds.size() == 31);
    CHECK(bounds.front() == 63);
    CHECK(bounds.back() == (uint64_t{1} << 36) - 1);
    // Each bound is the top of one of the histogram's buckets, so no bucket straddles it.
    for (uint64_t b : bounds) CHECK(Histogram::upper_bound(Histogram::bucket_of(b)) == b);
}

TEST_CASE("a small snapshot gives the exact lines", "[unit][stats]") {
    PortClassifySnapshot port;
    port.port = "a";
    port.packets = 12;
    port.drop_rule = 2;
    port.rule_hits = {{"rules[0]", 2}};
    const std::string text = prometheus_text({small_link()}, {port}, 2'500'000'000);
    INFO(text);
    const auto lines = lines_of(text);
    for (const char *expected : {
             "# HELP linkem_run_seconds Time since the run started.",
             "# TYPE linkem_run_seconds gauge",
             "linkem_run_seconds 2.5",
             "# TYPE linkem_link_rx_packets_total counter",
             "linkem_link_rx_packets_total{link=\"a-to-b\"} 10",
             "linkem_link_rx_bytes_total{link=\"a-to-b\"} 640",
             "linkem_link_tx_packets_total{link=\"a-to-b\"} 7",
             "linkem_link_tx_bytes_total{link=\"a-to-b\"} 448",
             "# TYPE linkem_link_drops_total counter",
             "linkem_link_drops_total{link=\"a-to-b\",reason=\"loss\"} 2",
             "linkem_link_drops_total{link=\"a-to-b\",reason=\"queue\"} 0",
             "# TYPE linkem_link_in_flight_packets gauge",
             "linkem_link_in_flight_packets{link=\"a-to-b\"} 1",
             "# TYPE linkem_link_queue_depth_packets gauge",
             "linkem_link_queue_depth_packets{link=\"a-to-b\"} 3",
             "linkem_link_stage_busy_seconds_total{link=\"a-to-b\",stage=\"rx\"} 0.0000015",
             "# TYPE linkem_link_delay_seconds histogram",
             // 100 and 127 are at most 127 ns; 128 is not (the bound is exact).
             "linkem_link_delay_seconds_bucket{link=\"a-to-b\",le=\"0.000000063\"} 0",
             "linkem_link_delay_seconds_bucket{link=\"a-to-b\",le=\"0.000000127\"} 2",
             "linkem_link_delay_seconds_bucket{link=\"a-to-b\",le=\"0.000000255\"} 3",
             "linkem_link_delay_seconds_bucket{link=\"a-to-b\",le=\"0.000001023\"} 4",
             "linkem_link_delay_seconds_bucket{link=\"a-to-b\",le=\"0.004194303\"} 4",
             "linkem_link_delay_seconds_bucket{link=\"a-to-b\",le=\"0.008388607\"} 5",
             "linkem_link_delay_seconds_bucket{link=\"a-to-b\",le=\"68.719476735\"} 5",
             "linkem_link_delay_seconds_bucket{link=\"a-to-b\",le=\"+Inf\"} 5",
             "linkem_link_delay_seconds_sum{link=\"a-to-b\"} 0.005001355",
             "linkem_link_delay_seconds_count{link=\"a-to-b\"} 5",
             "# TYPE linkem_link_lateness_seconds histogram",
             "linkem_link_lateness_seconds_bucket{link=\"a-to-b\",le=\"0.000002047\"} 1",
             "linkem_link_lateness_seconds_count{link=\"a-to-b\"} 1",
             "linkem_port_rx_packets_total{port=\"a\"} 12",
             "linkem_port_drops_total{port=\"a\",reason=\"rule\"} 2",
             "linkem_port_rule_packets_total{port=\"a\",rule=\"rules[0]\"} 2",
             "linkem_port_frames_total{port=\"a\",note=\"runt\"} 0",
         })
        CHECK(has_line(lines, expected));
    // Not backlogged: the rate gauges have no sample (their families stay declared).
    CHECK(has_line(lines, "# TYPE linkem_link_achieved_rate_bits_per_second gauge"));
    CHECK(text.find("linkem_link_achieved_rate_bits_per_second{") == std::string::npos);
    // Every sample line is NAME{LABELS} VALUE or NAME VALUE; every family is declared once, before its samples.
    std::vector<std::string> declared;
    for (const std::string &l : lines) {
        if (l.rfind("# TYPE ", 0) == 0) {
            const std::string name = l.substr(7, l.find(' ', 7) - 7);
            CHECK(std::find(declared.begin(), declared.end(), name) == declared.end());
            declared.push_back(name);
        } else if (l.rfind("# HELP ", 0) != 0) {
            REQUIRE_FALSE(declared.empty());
            CHECK(l.rfind(declared.back(), 0) == 0);
        }
    }
}

TEST_CASE("every drop reason of both lists has its sample", "[unit][stats]") {
    PortClassifySnapshot port;
    port.port = "p";
    const auto lines = lines_of(prometheus_text({small_link()}, {port}, 0));
#define LINKEM_LINK_REASON(name, Camel, side, judged, text) \
    CHECK(has_line(                                         \
        lines, fmt::format("linkem_link_drops_total{{link=\"a-to-b\",reason=\"{}\"}} {}", #name, std::string(#name) == "loss" ? 2 : 0)));
    LINKEM_LINK_DROPS(LINKEM_LINK_REASON)
#undef LINKEM_LINK_REASON
#define LINKEM_PORT_REASON(name, text) CHECK(has_line(lines, "linkem_port_drops_total{port=\"p\",reason=\"" #name "\"} 0"));
    LINKEM_PORT_DROPS(LINKEM_PORT_REASON)
#undef LINKEM_PORT_REASON
}

TEST_CASE("a backlogged link has its achieved and configured rates", "[unit][stats]") {
    LinkSnapshot s = small_link();
    s.backlogged_wire_bytes = 1250;
    s.backlogged_sent_ns = 1'000'000;  // 10 Mbit/s
    s.backlogged_model_ns = 500'000;   // 20 Mbit/s
    const auto lines = lines_of(prometheus_text({s}, {}, 0));
    CHECK(has_line(lines, "linkem_link_achieved_rate_bits_per_second{link=\"a-to-b\"} 10000000"));
    CHECK(has_line(lines, "linkem_link_configured_rate_bits_per_second{link=\"a-to-b\"} 20000000"));
    CHECK(has_line(lines, "linkem_link_backlogged_seconds_total{link=\"a-to-b\"} 0.001"));
}

TEST_CASE("a link with a queue discipline has its marks, drops by when, mark drops and sojourn times", "[unit][stats]") {
    LinkSnapshot plain = small_link(), aqm = small_link();
    aqm.name = "b-to-a";
    aqm.discipline = true;
    aqm.aqm_marks = 4;
    aqm.drop(DropReason::kAqmDrop) = 9;
    aqm.aqm_enqueue_drops = 6;
    aqm.aqm_mark_drops = 2;
    for (uint64_t ns : {1'000'000, 3'000'000, 20'000'000}) aqm.sojourn_ns.record(ns);
    // Without a discipline anywhere, the families are not declared.
    const std::string without = prometheus_text({plain}, {}, 0);
    CHECK(without.find("linkem_link_aqm_") == std::string::npos);
    CHECK(without.find("linkem_link_queue_sojourn_seconds") == std::string::npos);

    const std::string text = prometheus_text({plain, aqm}, {}, 0);
    INFO(text);
    const auto lines = lines_of(text);
    for (const char *expected : {
             "# TYPE linkem_link_aqm_marks_total counter",
             "linkem_link_aqm_marks_total{link=\"b-to-a\"} 4",
             "# TYPE linkem_link_aqm_drops_total counter",
             "linkem_link_aqm_drops_total{link=\"b-to-a\",when=\"enqueue\"} 6",
             "linkem_link_aqm_drops_total{link=\"b-to-a\",when=\"dequeue\"} 3",
             "linkem_link_drops_total{link=\"b-to-a\",reason=\"aqm_drop\"} 9",
             "# TYPE linkem_link_aqm_mark_drops_total counter",
             "linkem_link_aqm_mark_drops_total{link=\"b-to-a\"} 2",
             "# TYPE linkem_link_queue_sojourn_seconds histogram",
             "linkem_link_queue_sojourn_seconds_bucket{link=\"b-to-a\",le=\"0.000524287\"} 0",
             "linkem_link_queue_sojourn_seconds_bucket{link=\"b-to-a\",le=\"0.001048575\"} 1",
             "linkem_link_queue_sojourn_seconds_bucket{link=\"b-to-a\",le=\"0.004194303\"} 2",
             "linkem_link_queue_sojourn_seconds_bucket{link=\"b-to-a\",le=\"0.033554431\"} 3",
             "linkem_link_queue_sojourn_seconds_bucket{link=\"b-to-a\",le=\"+Inf\"} 3",
             "linkem_link_queue_sojourn_seconds_sum{link=\"b-to-a\"} 0.024",
             "linkem_link_queue_sojourn_seconds_count{link=\"b-to-a\"} 3",
         })
        CHECK(has_line(lines, expected));
    // The link without a discipline has no sample in these families.
    for (const std::string &l : lines)
        if (l.rfind("linkem_link_aqm_", 0) == 0 || l.rfind("linkem_link_queue_sojourn_seconds", 0) == 0)
            CHECK(l.find("link=\"a-to-b\"") == std::string::npos);
}

TEST_CASE("a link with a scheduler has each queue's packets, bytes, drops and summed sojourn", "[unit][stats]") {
    LinkSnapshot plain = small_link(), fq = small_link();
    fq.name = "b-to-a";
    fq.discipline = true;
    fq.scheduler = "drr";
    fq.scheduler_queues = 2;
    LinkSnapshot::SchedulerQueue tcp, other;
    tcp.queue = 0;
    tcp.name = "tcp";
    tcp.weight = 3;
    tcp.sent = 30;
    tcp.sent_bytes = 45'000;
    tcp.sojourn_sum_ns = 1'500'000'000;
    tcp.overload_drops = 7;
    other.queue = 1;
    other.name = "other";
    other.weight = 1;
    other.sent = 10;
    other.aqm_drops = 2;
    fq.queues = {tcp, other};
    CHECK(prometheus_text({plain}, {}, 0).find("linkem_link_scheduler_") == std::string::npos);  // no scheduler: not declared
    const std::string text = prometheus_text({plain, fq}, {}, 0);
    INFO(text);
    const auto lines = lines_of(text);
    for (const char *expected : {
             "# TYPE linkem_link_scheduler_sent_packets_total counter",
             "linkem_link_scheduler_sent_packets_total{link=\"b-to-a\",queue=\"0\",class=\"tcp\"} 30",
             "linkem_link_scheduler_sent_packets_total{link=\"b-to-a\",queue=\"1\",class=\"other\"} 10",
             "linkem_link_scheduler_sent_bytes_total{link=\"b-to-a\",queue=\"0\",class=\"tcp\"} 45000",
             "linkem_link_scheduler_drops_total{link=\"b-to-a\",queue=\"0\",class=\"tcp\",why=\"overload\"} 7",
             "linkem_link_scheduler_drops_total{link=\"b-to-a\",queue=\"1\",class=\"other\",why=\"aqm\"} 2",
             "linkem_link_scheduler_sojourn_seconds_total{link=\"b-to-a\",queue=\"0\",class=\"tcp\"} 1.5",
         })
        CHECK(has_line(lines, expected));
    for (const std::string &l : lines)
        if (l.rfind("linkem_link_scheduler_", 0) == 0) CHECK(l.find("link=\"a-to-b\"") == std::string::npos);
}

TEST_CASE("the status lines' timestamp is UTC, ISO 8601, to the millisecond", "[unit][stats]") {
    CHECK(utc_timestamp_text(0) == "1970-01-01T00:00:00.000Z");
    CHECK(utc_timestamp_text(1'764'687'662'250'999'999) == "2025-12-02T15:01:02.250Z");
}
