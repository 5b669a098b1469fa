// What travels between linkemctl and linkem over DPDK telemetry (docs/ARCHITECTURE.md
// "Steering a running linkem"), in the pieces that need no DPDK: the request
// parameters, the shape a reply takes to fit DPDK 22.11's telemetry data, and
// a link's `show` document. linkem's telemetry commands (app/telemetry_commands.cpp)
// and linkemctl (app/ctl_*.cpp) both use them.
//
// DPDK 22.11's telemetry limits (lib/telemetry, rte_telemetry.h):
//  - a request "/cmd,params" is read into 1024 bytes: at most 1023, longer is cut (linkemctl refuses it);
//  - a command name is at most 55 bytes, its help at most 63;
//  - a reply is at most 16384 bytes of JSON (what does not fit is left out);
//  - dictionary names hold only letters, digits, '_' and '/', at most 127 bytes;
//    a dictionary holds 256 entries, an array 512;
//  - a string value in a dictionary or array holds at most 127 bytes;
//  - values are strings, 32-bit signed or 64-bit unsigned integers, or containers.
#pragma once

#include "linkem/config.hpp"
#include "linkem/stats.hpp"

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace linkem {

constexpr size_t kTelemetryMaxRequestBytes = 1023;
constexpr size_t kTelemetryMaxStringBytes = 127;
constexpr size_t kTelemetryMaxDictEntries = 256;
constexpr size_t kTelemetryMaxArrayEntries = 512;
constexpr size_t kTelemetryMaxReplyBytes = 16384;

// linkem's commands.
constexpr const char *kCmdLinks = "/linkem/links";
constexpr const char *kCmdLink = "/linkem/link";
constexpr const char *kCmdInfo = "/linkem/info";
constexpr const char *kCmdSet = "/linkem/set";
constexpr const char *kCmdApply = "/linkem/apply";

// "a-to-b delay=30ms 'x=y z'" -> words split at blanks outside {}, [], and quotes
// ("delay={plugin: normal, mean: 20ms}" stays one word). Quotes are kept: they are YAML's.
std::vector<std::string> split_params(std::string_view params);
// The words joined by single spaces; split_params(join_params(w)) == w when no word
// holds a blank outside {}, [] and quotes, or is empty (params_round_trip says).
std::string join_params(const std::vector<std::string> &words);
bool params_round_trip(const std::vector<std::string> &words);

// A reply as DPDK 22.11's telemetry can carry it: an object whose names hold
// only letters, digits, '_' and '/' (others become '_'); strings of at most
// 127 bytes (a longer one becomes an array of pieces whose concatenation it
// is: join_pieces); integers as unsigned, or signed when negative and within
// 32 bits; other numbers and booleans as text; nulls left out; arrays of one
// scalar type, else (an array of objects or mixed values) an object named
// "0", "1", ...; at most 256 entries per object and 512 per array.
nlohmann::json telemetry_shape(const nlohmann::json &value);
// A string, or the pieces telemetry_shape cut it into, as the string again.
std::string join_pieces(const nlohmann::json &value);

// What a telemetry command of linkem's answers: {"status": 0|1|2, "message": ..., and
// the body's fields (a body that is not an object goes under "body")}, shaped.
nlohmann::json telemetry_reply(int status, const std::string &message, const nlohmann::json &body);

// A link's `show` document: {"name", "config": {key: YAML text} (link_yaml_fields),
// "run_ns", "rx_packets", "rx_bytes", "tx_packets", "tx_bytes", "in_flight", "queue_depth",
// "drops": {reason: packets}, "delay_ns" and "lateness_ns": {"count", "p50", "p99", "max"},
// "instances"}. `instances` are the link's snapshots: one, or a per-flow link's flows (summed).
nlohmann::json link_show_json(const Link &link, const std::vector<const LinkSnapshot *> &instances);

}  // namespace linkem
