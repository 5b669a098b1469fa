// Snapshots -> the Prometheus text exposition format (version 0.0.4), what
// `stats: {prometheus: HOST:PORT}` serves at /metrics. Pure: no HTTP, no
// clock; app/metrics_server.cpp serves it and the unit tests read it.
//
// Families (every one with its # HELP and # TYPE lines; docs/CONFIG.md
// "stats" lists them for a reader):
//   linkem_run_seconds                         gauge      time since the run started
//   linkem_link_{rx,tx}_{packets,bytes}_total  counter    {link}
//   linkem_link_drops_total                    counter    {link, reason}: every reason of LINKEM_LINK_DROPS
//   linkem_link_in_flight_packets              gauge      {link}
//   linkem_link_queue_depth_packets            gauge      {link}
//   linkem_link_late_packets_total, _out_of_order_packets_total, _handed_on_packets_total
//   linkem_link_mangled_packets_total          counter    {link, kind}
//   linkem_link_stage_busy_seconds_total       counter    {link, stage="rx"|"tx"}
//   linkem_link_backlogged_{wire_bytes,seconds}_total, linkem_link_{achieved,configured}_rate_bits_per_second
//   linkem_link_delay_seconds, linkem_link_lateness_seconds   histogram {link, le}
//   a link with a queue discipline (declared when one link has one; samples for those links):
//   linkem_link_aqm_marks_total, linkem_link_aqm_mark_drops_total   counter {link}
//   linkem_link_aqm_drops_total                counter    {link, when="enqueue"|"dequeue"}
//   linkem_link_queue_sojourn_seconds          histogram  {link, le}
//   linkem_port_{rx_packets,rx_bytes,default_packets}_total, _classify_seconds_total   {port}
//   linkem_port_drops_total {port, reason} (LINKEM_PORT_DROPS), linkem_port_rule_packets_total {port, rule},
//   linkem_port_frames_total {port, note}
//
// Histograms: linkem's log buckets (histogram.hpp) summed into power-of-two
// bounds, le = (2^k - 1) ns for k = 6..36 written exactly in seconds, so each
// cumulative count is exact (no bucket straddles a bound); _count is the
// +Inf bucket (the sum of the copied buckets, so a view taken while an lcore
// writes stays self-consistent) and _sum the recorded sum in seconds.
#pragma once

#include "linkem/stats.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace linkem {

// A label value escaped for the format: \ -> \\, " -> \", line feed -> \n.
std::string prometheus_label_value(std::string_view value);
// A whole number of nanoseconds in seconds, exactly: 1023 -> "0.000001023", 2000000000 -> "2".
std::string prometheus_seconds(uint64_t ns);
// The histograms' upper bounds in ns (2^k - 1, k = 6..36), ascending; +Inf follows them.
const std::vector<uint64_t> &prometheus_bucket_bounds_ns();

// The whole scrape. links: with their histograms (link_snapshots(run_ns, true)); run_ns: the time since the start.
std::string prometheus_text(const std::vector<LinkSnapshot> &links, const std::vector<PortClassifySnapshot> &ports, uint64_t run_ns);

}  // namespace linkem
