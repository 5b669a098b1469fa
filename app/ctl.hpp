// linkemctl: steer and watch a running linkem by its instance name, over DPDK
// telemetry (app/ctl_client.hpp; linkem's side: app/telemetry_commands.hpp).
//
//   linkemctl [--name NAME] [--socket PATH] show [LINK] [--json]
//   linkemctl [--name NAME] set LINK KEY=VALUE...
//   linkemctl [--name NAME] apply FILE.yaml
//   linkemctl [--name NAME] watch [--count N] [--interval D]
//
// Exit status: 0 done; 2 bad input, nothing changed (linkem's positioned
// message, or linkemctl's own about its command line); 1 no such instance,
// or linkem could not carry the request out.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

namespace linkem {

constexpr int kCtlOk = 0;
constexpr int kCtlFailed = 1;
constexpr int kCtlBadInput = 2;

struct CtlOptions {
    std::string name = "linkem";
    std::string socket;   // --socket: this telemetry socket instead of the instance's
    std::string command;  // show, set, apply, watch; empty with --help or --version
    std::string link;
    bool json = false;
    std::vector<std::string> assignments;
    std::string file;
    uint64_t count = 0;                    // watch: tables to print; 0: until interrupted
    uint64_t interval_ns = 1'000'000'000;  // watch
    bool help = false, version = false;
    std::string help_text;
};

// args without argv[0]. On a mistake: false, and `error` says it.
bool parse_ctl_args(const std::vector<std::string> &args, CtlOptions *options, std::string *error);

// Runs linkemctl: its exit status. Output to out, messages to err.
int run_linkemctl(const std::vector<std::string> &args, std::ostream &out, std::ostream &err);

// One link of `show`, as a person reads it (the reply of /linkem/link without status and message).
std::string show_text(const nlohmann::json &link);
// watch's table: a line per link, rates over the two samples (/linkem/link replies by link,
// in the same order; `before` may be empty: no rates yet).
std::string watch_table(const std::vector<nlohmann::json> &now, const std::vector<nlohmann::json> &before);

}  // namespace linkem
