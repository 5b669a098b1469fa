// linkem: command line -> configuration -> link plans -> EAL arguments ->
// --check report, or the emulation (app/emulator.cpp).
//
// Exit status: 0 success, 1 runtime failure, 2 bad command line or configuration.
#include "linkem/command_line.hpp"
#include "linkem/config.hpp"
#include "emulator.hpp"
#include "linkem/eal_args.hpp"
#include "linkem/link_plan.hpp"
#include "linkem_version.h"

#include <fmt/format.h>
#include <rte_version.h>

#include <cstdio>
#include <random>
#include <string>
#include <vector>

namespace {

constexpr int kExitOk = 0;
constexpr int kExitUsage = 2;

std::string quote_arg(const std::string &a) {
    if (!a.empty() && a.find_first_of(" \t\"'$\\") == std::string::npos) return a;
    std::string out = "'";
    for (char c : a) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
}

}  // namespace

int main(int argc, char **argv) {
    using namespace linkem;
    const std::vector<std::string> args(argv + 1, argv + argc);
    const Parsed<CommandLine> parsed = parse_command_line(args);
    if (!parsed) {
        fmt::print(stderr, "linkem: {}\nTry 'linkem --help'.\n", parsed.error);
        return kExitUsage;
    }
    const CommandLine &cl = *parsed.value;
    if (cl.help) {
        fmt::print("{}", usage_text());
        return kExitOk;
    }
    if (cl.version) {
        fmt::print("linkem {} ({})\n", LINKEM_VERSION, rte_version());
        return kExitOk;
    }

    const LoadResult loaded = load_config_file(cl.config_path);
    if (!loaded.config) {
        for (const ConfigError &e : loaded.errors) fmt::print(stderr, "{}\n", e.to_string());
        if (loaded.error_count > loaded.errors.size())
            fmt::print(stderr, "... and {} more errors not shown\n", loaded.error_count - loaded.errors.size());
        fmt::print(stderr, "linkem: {} error{} in {}; nothing was started\n", loaded.error_count, loaded.error_count == 1 ? "" : "s",
                   cl.config_path);
        return kExitUsage;
    }
    const Config &config = *loaded.config;
    // `seed: random` draws one now and reports it, so the run can be repeated.
    const uint64_t seed = config.seed_random ? (uint64_t{std::random_device{}()} << 32) | std::random_device{}() : config.seed;

    std::vector<LinkPlan> plans;
    std::vector<std::string> plan_errors;
    for (size_t i = 0; i < config.links.size(); ++i) {
        Parsed<LinkPlan> plan = plan_link(config, i, seed);
        if (plan)
            plans.push_back(std::move(*plan.value));
        else
            plan_errors.push_back(fmt::format("{}: {}", cl.config_path, plan.error));
    }
    const EalPlan eal = plan_eal_arguments(config, cl.eal_args, probe_host());

    if (cl.check) {
        fmt::print("# {}: valid. The effective configuration, defaults filled in:\n{}", cl.config_path, to_yaml(config));
        for (size_t i = 0; i < plans.size(); ++i)
            fmt::print("# link {}: delay arena {} entries, {} KiB ({})\n", config.links[i].name, plans[i].arena_entries,
                       plans[i].arena_entries * sizeof(ArenaEntry) >> 10, plans[i].arena_reason);
        for (const std::string &e : plan_errors) fmt::print("# cannot run yet: {}\n", e);
        std::vector<std::string> shown;
        for (const std::string &a : eal.args) shown.push_back(quote_arg(a));
        fmt::print("# EAL arguments: {}\n", fmt::join(shown.begin() + 1, shown.end(), " "));
        for (const std::string &w : eal.warnings) fmt::print("# warning: {}\n", w);
        return kExitOk;
    }

    if (!plan_errors.empty()) {
        for (const std::string &e : plan_errors) fmt::print(stderr, "{}\n", e);
        return kExitUsage;
    }
    for (const std::string &w : eal.warnings) fmt::print(stderr, "linkem: warning: {}\n", w);
    return run_emulator(config, plans, cl, eal, seed);
}
