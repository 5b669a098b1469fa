// netem's words in linkem: the translation of a tc/netem command into a linkem
// link, and the hints given when netem's words appear in a configuration.
//
// Pure functions (no I/O), used by `linkem --from-netem` (app/main.cpp) and by
// the configuration loader (core/config_load.cpp). docs/NETEM.md is the user's
// side-by-side reference; it must agree with what translate_netem produces.
//
// Grammar taken (man tc-netem), optionally after "tc qdisc add dev DEV root netem":
//   delay TIME [JITTER [CORRELATION]] [distribution uniform|normal|pareto|paretonormal|NAME]
//   loss [random] PERCENT [CORRELATION] | loss state P13 [P31 [P32 [P23 [P14]]]]
//        | loss gemodel P [R [1-H [1-K]]]   (then optionally "ecn")
//   duplicate PERCENT [CORRELATION]   corrupt PERCENT [CORRELATION]
//   reorder PERCENT [CORRELATION] [gap DISTANCE]
//   rate RATE [PACKETOVERHEAD [CELLSIZE [CELLOVERHEAD]]]   limit PACKETS
//   slot MIN_DELAY [MAX_DELAY] [packets N] [bytes SIZE]   ecn   seed N
// netem's units: a time without unit is in microseconds, a percentage may omit
// its "%", a rate without unit is in bytes per second (tc's "mbps" is megabytes
// per second, "mbit" megabits), a size without unit is in bytes (k = 1024).
//
// Everything linkem has is translated exactly; what it has not (correlations,
// netem's ecn, cell sizes, ...) becomes a note naming the closest linkem form.
#pragma once

#include "linkem/units.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace linkem {

struct NetemTranslation {
    // The link's keys as one YAML line each, in a fixed order: "bandwidth: 10Mbit/s",
    // "delay: {plugin: normal, mean: 100ms, jitter: 10ms}", "mangle: {duplicate: 1%}".
    std::vector<std::string> link_lines;
    // One line per netem word not translated, with the closest linkem form.
    std::vector<std::string> notes;
};

// A syntax error (unknown word, missing or malformed value) fails with a message
// naming the word and what was expected.
Parsed<NetemTranslation> translate_netem(std::string_view command);

// A whole loadable configuration: a comment with the netem command and the notes,
// two null ports a and b (to be replaced by real devices), and the link a-to-b.
std::string netem_configuration_yaml(std::string_view command, const NetemTranslation &translation);

// For a key netem or tc users write in a link ("jitter", "limit", "rate", ...):
// what to write in linkem instead. nullopt for other keys.
std::optional<std::string> netem_key_hint(std::string_view key);

// For a delay or loss value written the netem way ("100ms 10ms", "1% 25%"):
// the linkem form. nullopt when the text does not look like netem's.
std::optional<std::string> netem_delay_value_hint(std::string_view text);
std::optional<std::string> netem_loss_value_hint(std::string_view text);

}  // namespace linkem
