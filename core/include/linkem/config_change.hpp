// A change to the running configuration (docs/ARCHITECTURE.md "Runtime
// changes"), validated by the loader itself so it speaks the YAML's keys,
// units and messages:
//
//  - `set LINK KEY=VALUE...` is a patch: the assignments become a YAML
//    mapping of link keys, one line per assignment ("delay: 30ms"), in a
//    file named "set", laid over the link as it runs; errors read
//    `set:1:8: links[0].delay: ...` (the key path names the link by its
//    index in the configuration);
//  - `apply FILE` loads FILE as a whole configuration and takes the
//    difference from the running one: only links' keys may differ.
//
// What may change: a link's bandwidth, overhead, queue, delay, order, loss
// and mangle (but not mangle.ecn: it decides which frames the ingress
// parses). What is refused, with a positioned message: unknown links or
// keys, bad values, a link's name, from, to, arena or per_flow, a per-flow
// template's keys (for now), links added, removed or reordered, and any
// change to ports, rules, pipeline, stats, capture, seed or eal.
#pragma once

#include "linkem/config.hpp"

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace linkem {

// One link's changed keys, each with its new value as the configuration
// would print it ("30ms", "{plugin: normal, mean: 20ms, stddev: 2ms}",
// "none" for a key that is no longer given).
struct LinkEdit {
    size_t link = 0;  // index into Config::links
    std::vector<std::pair<std::string, std::string>> keys;
};

struct ChangeCandidate {
    std::optional<Config> config;  // the running configuration with the edits; none when there are errors
    std::vector<LinkEdit> edits;   // in Config::links order; empty: nothing would change
    std::vector<ConfigError> errors;
};

// The file name `set` patches are loaded under (errors read "set:LINE:COL: ...").
inline constexpr const char *kSetFileName = "set";

ChangeCandidate load_link_set(const Config &running, const std::string &link, const std::vector<std::string> &assignments);
// Several sets as one change (a timeline's steps at one instant), each laid
// over the running configuration as the ones before it left it; the edits
// are each link's keys that differ from `running`.
struct LinkSet {
    std::string link;
    std::vector<std::string> assignments;  // KEY=VALUE
};
ChangeCandidate load_link_sets(const Config &running, const std::vector<LinkSet> &sets);
ChangeCandidate load_change_file(const Config &running, const std::string &path);
ChangeCandidate load_change_text(const Config &running, std::string_view text, const std::string &file_name);

// A link's keys other than name, from and to, each with its value as
// to_yaml() prints it (the keys it does not give left out).
std::vector<std::pair<std::string, std::string>> link_key_values(const Link &link);

}  // namespace linkem
