#include "linkem/command_line.hpp"
#include "linkem/instance.hpp"
#include "linkem/suggest.hpp"
#include "linkem_commit.h"
#include "linkem_version.h"

#include <fmt/format.h>

#include <algorithm>

namespace linkem {
namespace {

const std::vector<std::string> kLogLevels = {"error", "warning", "notice", "info", "debug"};
const std::vector<std::string> kOptions = {"--check",          "--duration",   "--stats-json", "--stats-jsonl",
                                           "--stats-interval", "--log-level",  "--help",       "--version",
                                           "--list-plugins",   "--from-netem", "--name"};

}  // namespace

std::string version_line(const std::string &program) {
    return fmt::format("{} {} (commit {})", program, LINKEM_VERSION, LINKEM_GIT_COMMIT);
}

std::string usage_text() {
    return "usage: linkem CONFIG.yaml [options] [-- EAL arguments]\n"
           "\n"
           "Emulates the links described in CONFIG.yaml between DPDK ports.\n"
           "\n"
           "options:\n"
           "  --check               validate the configuration, print it in human units, start nothing\n"
           "  --duration D          stop after D (e.g. 30s); default: run until SIGINT or SIGTERM\n"
           "  --stats-json FILE     write final per-link statistics as JSON to FILE\n"
           "  --stats-interval D    print a status line per link every D (default 1s; 0 turns it off)\n"
           "  --stats-jsonl FILE    append a JSON line per --stats-interval to FILE while running, and a\n"
           "                        last one at the end (JSON Lines, for plotting)\n"
           "  --log-level L         error, warning, notice (default), info or debug\n"
           "  --name NAME           the instance's name (default: the configuration's name:, else linkem):\n"
           "                        EAL's file prefix, what linkemctl --name NAME and dpdk-telemetry.py -f NAME find\n"
           "  --list-plugins        list the loss, delay, bandwidth and queue models and their parameters\n"
           "  --from-netem \"OPTS\"  print the linkem configuration for netem's options, such as\n"
           "                        \"delay 100ms 10ms loss 1% rate 10mbit\" (docs/NETEM.md)\n"
           "  --help                print this help\n"
           "  --version             print linkem's version, its git commit and DPDK's version\n"
           "\n"
           "EAL arguments come from the configuration's `eal:` list and from after `--`.\n"
           "With neither, linkem runs --in-memory on the configured lcores, and adds\n"
           "--no-huge when no hugepages are reserved.\n"
           "\n"
           "exit status: 0 success, 1 runtime failure, 2 bad command line or configuration\n"
           "configuration reference: docs/CONFIG.md\n";
}

Parsed<CommandLine> parse_command_line(const std::vector<std::string> &args) {
    using Result = Parsed<CommandLine>;
    CommandLine cl;
    for (size_t i = 0; i < args.size(); ++i) {
        const std::string &arg = args[i];
        if (arg == "--") {
            cl.eal_args.assign(args.begin() + static_cast<std::ptrdiff_t>(i) + 1, args.end());
            for (const std::string &a : cl.eal_args)
                if (a == "--file-prefix" || a.rfind("--file-prefix=", 0) == 0)
                    return Result::fail("--file-prefix after --: the file prefix is linkem's instance name; use --name NAME instead");
            break;
        }
        if (arg.size() < 2 || arg[0] != '-') {
            if (!cl.config_path.empty())
                return Result::fail(fmt::format("more than one configuration file: \"{}\" and \"{}\"", cl.config_path, arg));
            cl.config_path = arg;
            continue;
        }
        const size_t eq = arg.find('=');
        const std::string name = arg.substr(0, eq);
        std::optional<std::string> inline_value;
        if (eq != std::string::npos) inline_value = arg.substr(eq + 1);

        // The next argument is the value, unless it is another option.
        auto value = [&]() -> std::optional<std::string> {
            if (inline_value) return inline_value;
            if (i + 1 < args.size() && args[i + 1].rfind("--", 0) != 0) return args[++i];
            return std::nullopt;
        };
        auto flag = [&](bool &target) -> std::string {
            if (inline_value) return fmt::format("{} takes no value", name);
            target = true;
            return {};
        };

        std::string problem;
        if (name == "--check")
            problem = flag(cl.check);
        else if (name == "--help" || name == "-h")
            problem = flag(cl.help);
        else if (name == "--version")
            problem = flag(cl.version);
        else if (name == "--list-plugins")
            problem = flag(cl.list_plugins);
        else if (name == "--duration" || name == "--stats-interval") {
            const auto v = value();
            if (!v) return Result::fail(fmt::format("{} needs a duration (examples: {})", name, Duration::kExamples));
            const Parsed<Duration> d = Duration::parse(*v);
            if (!d) return Result::fail(fmt::format("{}: {}", name, d.error));
            if (name == "--duration")
                cl.duration = d.value;
            else
                cl.stats_interval = *d.value;
        } else if (name == "--from-netem") {
            // netem's options start with a word, never "--": the next argument is taken as it is.
            std::optional<std::string> v = inline_value;
            if (!v && i + 1 < args.size()) v = args[++i];
            if (!v || v->empty())
                return Result::fail("--from-netem needs netem's options in one argument, such as --from-netem \"delay 100ms 10ms\"");
            cl.from_netem = *v;
        } else if (name == "--stats-json" || name == "--stats-jsonl") {
            const auto v = value();
            if (!v || v->empty()) return Result::fail(fmt::format("{} needs a file name", name));
            (name == "--stats-json" ? cl.stats_json_path : cl.stats_jsonl_path) = *v;
        } else if (name == "--name") {
            const auto v = value();
            if (!v) return Result::fail("--name needs an instance name, such as --name lab2");
            if (const std::string bad = instance_name_problem(*v); !bad.empty()) return Result::fail("--name: " + bad);
            cl.name = *v;
        } else if (name == "--log-level") {
            const auto v = value();
            if (!v || std::find(kLogLevels.begin(), kLogLevels.end(), *v) == kLogLevels.end())
                return Result::fail(
                    fmt::format("--log-level needs one of: {}{}", join(kLogLevels), v ? fmt::format(" (got \"{}\")", *v) : ""));
            cl.log_level = *v;
        } else {
            const auto guess = nearest_word(name, kOptions);
            return Result::fail(fmt::format("unknown option \"{}\"{}", arg, guess ? fmt::format("; did you mean {}?", *guess) : ""));
        }
        if (!problem.empty()) return Result::fail(problem);
    }
    if (!cl.stats_jsonl_path.empty() && cl.stats_interval.ns == 0)
        return Result::fail("--stats-jsonl writes a line per --stats-interval: give an interval above 0 (such as 1s)");
    if (!cl.stats_jsonl_path.empty() && cl.stats_jsonl_path == cl.stats_json_path)
        return Result::fail(fmt::format("--stats-json and --stats-jsonl name the same file \"{}\"", cl.stats_json_path));
    if (cl.config_path.empty() && !cl.help && !cl.version && !cl.list_plugins && !cl.from_netem)
        return Result::fail("no configuration file given");
    return Result::ok(std::move(cl));
}

}  // namespace linkem
