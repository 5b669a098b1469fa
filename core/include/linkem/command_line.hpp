// The `linkem` command line, parsed without side effects (so it can be tested).
//
//   linkem CONFIG.yaml [--check] [--duration D] [--stats-json FILE]
//          [--stats-jsonl FILE] [--stats-interval D] [--log-level L] [--name NAME] [-- EAL args]
//   linkem --list-plugins | --help | --version
//   linkem --from-netem "delay 100ms 10ms loss 1%"   (prints the linkem configuration)
//
// Options take their value as the next argument or after '=' (--duration=5s).
// Everything after a lone "--" is passed to DPDK's EAL untouched.
#pragma once

#include "linkem/units.hpp"

#include <optional>
#include <string>
#include <vector>

namespace linkem {

struct CommandLine {
    std::string config_path;
    bool check = false;
    bool help = false;
    bool version = false;
    bool list_plugins = false;
    std::optional<std::string> from_netem;  // netem's options to translate (docs/NETEM.md)
    std::optional<Duration> duration;       // run time; none: until SIGINT/SIGTERM
    std::string stats_json_path;            // empty: no JSON file
    std::string stats_jsonl_path;           // a JSON line per stats_interval (and one at the end); empty: none
    Duration stats_interval{1'000'000'000};
    std::string log_level = "notice";   // error, warning, notice, info, debug
    std::optional<std::string> name;    // --name: the instance's name, in place of the configuration's name:
    std::vector<std::string> eal_args;  // after "--"
};

// args excludes argv[0]. The error names the offending argument.
Parsed<CommandLine> parse_command_line(const std::vector<std::string> &args);

std::string usage_text();

// "PROGRAM VERSION (commit HASH)": the project's version and the git commit
// this build comes from ("-dirty" when the tree had changes, "unknown" when
// built outside git). `linkem --version` and `linkem-sim --version` print it.
std::string version_line(const std::string &program);

}  // namespace linkem
