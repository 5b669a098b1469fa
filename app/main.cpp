// linkem: command line -> configuration -> link plans -> EAL arguments ->
// --check report, or the emulation (app/emulator.cpp).
//
// Exit status: 0 success, 1 runtime failure, 2 bad command line or configuration.
#include "linkem/command_line.hpp"
#include "linkem/netem_translate.hpp"
#include "linkem/config.hpp"
#include "emulator.hpp"
#include "interface_lock.hpp"
#include "runtime_files.hpp"
#include "linkem/device_driver.hpp"
#include "linkem/device_iface.hpp"
#include "linkem/eal_args.hpp"
#include "linkem/link_plan.hpp"
#include "linkem/memory_budget.hpp"
#include "linkem/route_plan.hpp"
#include "linkem/plugin_host.hpp"
#include "linkem/replay.hpp"
#include "linkem/replay_stream.hpp"
#include "linkem/seed.hpp"

#include <fmt/format.h>
#include <rte_version.h>

#include <net/if.h>

#include <algorithm>
#include <cstdio>
#include <tuple>
#include <string>
#include <vector>

namespace {

constexpr int kExitOk = 0;
constexpr int kExitRuntime = 1;
constexpr int kExitUsage = 2;

std::string quote_arg(const std::string &a) {
    if (!a.empty() && a.find_first_of(" \t\"'$\\") == std::string::npos) return a;
    std::string out = "'";
    for (char c : a) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
}

int report_errors(const std::vector<linkem::ConfigError> &errors, size_t count, const std::string &file) {
    for (const linkem::ConfigError &e : errors) fmt::print(stderr, "{}\n", e.to_string());
    if (count > errors.size()) fmt::print(stderr, "... and {} more errors not shown\n", count - errors.size());
    fmt::print(stderr, "linkem: {} error{} in {}; nothing was started\n", count, count == 1 ? "" : "s", file);
    return kExitUsage;
}

// --list-plugins: what the plugin host finds, from the descriptors themselves.
int list_plugins() {
    using namespace linkem;
    const PluginHost host;
    std::vector<std::string> problems;
    std::vector<LoadedModel> models = host.discover(&problems);
    std::sort(models.begin(), models.end(), [](const LoadedModel &a, const LoadedModel &b) {
        return std::make_pair(a.model->kind, std::string(a.model->name)) < std::make_pair(b.model->kind, std::string(b.model->name));
    });
    fmt::print("search path: {}\n", fmt::join(PluginHost::default_search_path(), ":"));
    for (const LoadedModel &m : models) {
        fmt::print("\n{:<9} {:<16} {}\n", kind_name(m.model->kind), m.model->name, m.model->description);
        for (uint32_t i = 0; i < m.model->param_count; ++i) {
            const lkm_param_info &p = m.model->params[i];
            fmt::print("          {:<16} {:<12} {}\n", p.name, p.type, p.description);
        }
        fmt::print("          ({})\n", m.path);
        const std::string file = m.path.substr(m.path.rfind('/') + 1), name = m.model->name;
        if (file != PluginHost::file_name_for(m.model->kind, name) && file != name + ".so")
            fmt::print("          (usable by path only: by name it is looked for as {} or {}.so)\n",
                       PluginHost::file_name_for(m.model->kind, name), name);
    }
    for (const std::string &p : problems) fmt::print(stderr, "linkem: refused {}\n", p);
    return problems.empty() ? kExitOk : kExitRuntime;
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
        fmt::print("{}, {}\n", version_line("linkem"), rte_version());
        return kExitOk;
    }

    if (cl.list_plugins) return list_plugins();
    if (cl.from_netem) {
        const Parsed<NetemTranslation> t = translate_netem(*cl.from_netem);
        if (!t) {
            fmt::print(stderr, "linkem: --from-netem: {}\n", t.error);
            return kExitUsage;
        }
        fmt::print("{}", netem_configuration_yaml(*cl.from_netem, *t.value));
        return kExitOk;
    }

    LoadResult loaded = load_config_file(cl.config_path);
    if (!loaded.config) return report_errors(loaded.errors, loaded.error_count, cl.config_path);
    if (cl.name) loaded.config->name = *cl.name;
    Config &config = *loaded.config;             // runtime changes update it in place
    const uint64_t seed = resolve_seed(config);  // reported, so a `seed: random` run can be repeated

    // Every model is loaded and given its parameters now, for --check as for a run.
    const PluginHost host;
    std::vector<ConfigError> plan_errors;
    std::optional<std::vector<LinkPlan>> planned = plan_links(config, seed, host, &plan_errors);
    if (!planned) return report_errors(plan_errors, plan_errors.size(), cl.config_path);
    std::vector<LinkPlan> &plans = *planned;
    // Memory: what the run will allocate against what the host can give.
    const DpdkCosts costs = dpdk_costs();
    HostFacts host_facts = probe_host();
    // What EAL would refuse (with its 100-line usage) or fail on when it probes the devices.
    std::vector<ConfigError> host_errors = check_device_drivers(config, cl.eal_args);
    for (ConfigError &e : check_lcores_allowed(config, cl.eal_args, host_facts)) host_errors.push_back(std::move(e));
    if (!host_errors.empty()) return report_errors(host_errors, host_errors.size(), cl.config_path);
    // Too few free hugepages for DPDK's own objects: --no-huge (eal_args.hpp).
    host_facts.hugepages_available = host_facts.hugepage_free_bytes >= dpdk_fixed_bytes(config, costs);
    const EalPlan eal = plan_eal_arguments(config, cl.eal_args, host_facts);
    const std::vector<std::string> interface_warnings =
        missing_interface_warnings(config, [](const std::string &iface) { return if_nametoindex(iface.c_str()) != 0; });
    const MemoryHost memory_host{eal.hugepages, host_facts.hugepage_free_bytes, eal.dpdk_heap_limit_bytes,
                                 host_facts.memory_available_bytes};
    // Each replay's trace, read through once as a run reads it (a malformed one
    // refuses --check and the run), and how it will be held: loaded, or
    // streamed (memory: smaller than the trace, or auto and the budget
    // cannot hold it whole).
    std::vector<std::optional<ReplayShape>> shapes(config.ports.size());
    std::vector<ConfigError> trace_errors;
    for (size_t k = 0; k < config.ports.size(); ++k) {
        const Port &p = config.ports[k];
        if (!p.replay) continue;
        std::string error;
        shapes[k] = walk_replay_trace(
            *p.replay, [](const ReplayEntry &, const std::string &) { return true; }, &error);
        if (!shapes[k]) trace_errors.push_back({config.file, p.replay->pos, fmt::format("ports.{}.replay", p.name), error});
    }
    const auto refuse_traces = [&] {
        for (const ConfigError &e : trace_errors) fmt::print(stderr, "{}\n", e.to_string());
        fmt::print(stderr, "linkem: a replay trace cannot be used; nothing was started\n");
        return kExitUsage;
    };
    if (!trace_errors.empty()) return refuse_traces();
    std::vector<std::optional<ReplayPlan>> replay_plans(config.ports.size());
    const auto plan_budget = [&](bool auto_whole_fits) {
        std::vector<ReplayMemory> replay_memory;
        for (size_t k = 0; k < config.ports.size(); ++k) {
            if (!shapes[k]) continue;
            const Port &p = config.ports[k];
            std::string error;
            replay_plans[k] = plan_replay(*p.replay, *shapes[k], auto_whole_fits, &error);
            if (!replay_plans[k]) {
                trace_errors.push_back({config.file, p.replay->pos, fmt::format("ports.{}.chunk", p.name), error});
                continue;
            }
            const ReplayPlan &r = *replay_plans[k];
            replay_memory.push_back({p.name, r.memory_bytes, r.streamed,
                                     r.streamed ? fmt::format("{} chunks of {}, the trace being {}{}", r.chunks, bytes_text(r.chunk_bytes),
                                                              bytes_text(r.shape.loaded_bytes()),
                                                              p.replay->memory_bytes ? "" : ": too big to load (memory: auto)")
                                                : fmt::format("{} packets: {} of frames + a {}-byte index entry each", r.shape.count,
                                                              bytes_text(r.shape.total_bytes), sizeof(ReplayEntry))});
        }
        return plan_memory(memory_items(config, plans, plan_routes(config), costs, replay_memory), memory_host);
    };
    MemoryBudget budget = plan_budget(true);
    const bool any_auto_loaded = std::any_of(config.ports.begin(), config.ports.end(), [&](const Port &p) {
        const size_t k = static_cast<size_t>(&p - config.ports.data());
        return p.replay && !p.replay->memory_bytes && replay_plans[k] && !replay_plans[k]->streamed;
    });
    if (!budget.fits && any_auto_loaded && trace_errors.empty()) budget = plan_budget(false);  // auto: stream what does not fit
    if (!trace_errors.empty()) return refuse_traces();
    if (!budget.fits) {
        fmt::print(stderr,
                   "{}: {}.\nlinkem: smaller queues, delays, max_flows or links[].arena, {}or more hugepages (tools/setup.sh), would fit; "
                   "nothing was started\n",
                   cl.config_path, budget.problem,
                   std::any_of(shapes.begin(), shapes.end(), [](const auto &s) { return s.has_value(); })
                       ? "a smaller replay memory: (ports.NAME.memory), "
                       : "");
        return kExitUsage;
    }

    if (cl.check) {
        fmt::print("# {}: valid. The effective configuration, defaults filled in:\n{}", cl.config_path, to_yaml(config));
        for (size_t k = 0; k < config.ports.size(); ++k) {
            if (!replay_plans[k]) continue;
            const Port &p = config.ports[k];
            const ReplayPlan &r = *replay_plans[k];
            fmt::print("# port {}: replay {} ({}, {} packets, {}, over {}), {}, {}\n", p.name, p.replay->path, r.shape.format,
                       r.shape.count, bytes_text(r.shape.loaded_bytes()), human_duration(static_cast<double>(r.shape.span_ns)),
                       replay_pace_text(*p.replay),
                       r.streamed ? fmt::format("streamed through {} chunks of {}", r.chunks, bytes_text(r.chunk_bytes))
                                  : std::string("loaded whole"));
        }
        for (size_t i = 0; i < plans.size(); ++i) {
            fmt::print("# link {}:", config.links[i].name);
            const LinkPlan &models =
                plans[i].flow_instances.empty() ? plans[i] : plans[i].flow_instances[0];  // a template's are its flows'
            for (const auto *m : {models.bandwidth.get(), models.loss.get(), models.delay.get()})
                if (m != nullptr) fmt::print(" {} model \"{}\" ({});", kind_name(m->model().kind), m->model().name, m->path());
            fmt::print(" delay arena {} ({})", ByteSize{plans[i].arena_bytes}.to_string(), plans[i].arena_reason);
            if (const Link &l = config.links[i]; l.per_flow)
                fmt::print("; per flow: {} instances, {} of arenas{}", l.per_flow->max_flows,
                           ByteSize{plans[i].arena_bytes * l.per_flow->max_flows * (l.mangle.reorder ? 2 : 1)}.to_string(),
                           l.per_flow->aggregate ? fmt::format(", behind one {} link shared by every flow ({}/aggregate)",
                                                               l.per_flow->aggregate->to_string(), l.name)
                                                 : "");
            else if (l.mangle.reorder)
                fmt::print("; a second arena of the same size holds what reorder holds back");
            fmt::print("\n");
        }
        const RoutePlan routes = plan_routes(config);
        for (const IngressPlan &in : routes.ingress) fmt::print("# {}\n", describe_ingress(config, routes, in));
        std::vector<std::string> shown;
        for (const std::string &a : eal.args) shown.push_back(quote_arg(a));
        fmt::print("# EAL arguments: {}\n", fmt::join(shown.begin() + 1, shown.end(), " "));
        for (const std::string &w : eal.warnings) fmt::print("# warning: {}\n", w);
        for (const std::string &w : interface_warnings) fmt::print("# warning: {}\n", w);
        fmt::print("{}", budget_text(budget, memory_host));
        return kExitOk;
    }

    // One linkem per kernel interface: a second one would duplicate or black-hole its traffic.
    std::vector<std::string> interfaces;
    for (const Port &p : config.ports)
        for (const std::string &iface : kernel_interfaces(p.device)) interfaces.push_back(iface);
    InterfaceLocks locks;
    if (std::string error; !locks.acquire(interfaces, cl.config_path, &error)) {
        fmt::print(stderr, "linkem: {}; nothing was started\n", error);
        return kExitUsage;
    }
    for (const std::string &w : locks.warnings()) fmt::print(stderr, "linkem: warning: {}\n", w);

    // One instance per name: the name is EAL's file prefix, and linkemctl finds an instance by it.
    if (std::string how; instance_is_running(eal.args, &how)) {
        fmt::print(stderr,
                   "linkem: an instance named \"{}\" is running already ({}): give this one another name with --name NAME or "
                   "name: in {}; nothing was started\n",
                   config.name, how, cl.config_path);
        return kExitUsage;
    }

    for (const std::string &w : eal.warnings) fmt::print(stderr, "linkem: warning: {}\n", w);
    for (const std::string &w : interface_warnings) fmt::print(stderr, "linkem: warning: {}\n", w);
    return run_emulator(config, plans, cl, eal, seed, replay_plans);
}
