#include "telemetry_commands.hpp"

#include "linkem/command_line.hpp"
#include "linkem/control_wire.hpp"

#include <fmt/format.h>
#include <rte_telemetry.h>
#include <rte_version.h>
#include <unistd.h>

#include <chrono>
#include <exception>
#include <mutex>
#include <shared_mutex>

namespace linkem {
namespace {

using nlohmann::json;

struct State {
    std::shared_mutex mutex;  // commands hold it shared while they use the target; set_telemetry_target exclusively
    ControlTarget *target = nullptr;
    std::string state = "starting";
    TelemetryInstance instance;
    std::chrono::steady_clock::time_point registered;
};

State &state() {
    // Never destroyed: DPDK's telemetry threads outlive main() and may answer during exit.
    static State *s = new State;
    return *s;
}

// A shaped value into a telemetry container (an object or an array of one scalar type).
void fill(rte_tel_data *d, const json &shaped);

rte_tel_data *container(const json &shaped) {
    rte_tel_data *c = rte_tel_data_alloc();
    if (c != nullptr) fill(c, shaped);
    return c;
}

void fill(rte_tel_data *d, const json &shaped) {
    if (shaped.is_array()) {
        const rte_tel_value_type type = shaped.empty() || shaped.front().is_string() ? RTE_TEL_STRING_VAL
                                        : shaped.front().is_number_unsigned()        ? RTE_TEL_U64_VAL
                                                                                     : RTE_TEL_INT_VAL;
        rte_tel_data_start_array(d, type);
        for (const json &v : shaped) {
            if (type == RTE_TEL_STRING_VAL)
                rte_tel_data_add_array_string(d, v.get<std::string>().c_str());
            else if (type == RTE_TEL_U64_VAL)
                rte_tel_data_add_array_u64(d, v.get<uint64_t>());
            else
                rte_tel_data_add_array_int(d, static_cast<int>(v.get<int64_t>()));
        }
        return;
    }
    rte_tel_data_start_dict(d);
    for (const auto &[key, v] : shaped.items()) {
        if (v.is_string()) {
            rte_tel_data_add_dict_string(d, key.c_str(), v.get<std::string>().c_str());
        } else if (v.is_number_unsigned()) {
            rte_tel_data_add_dict_u64(d, key.c_str(), v.get<uint64_t>());
        } else if (v.is_number_integer()) {
            rte_tel_data_add_dict_int(d, key.c_str(), static_cast<int>(v.get<int64_t>()));
        } else if (rte_tel_data *c = container(v); c != nullptr) {
            if (rte_tel_data_add_dict_container(d, key.c_str(), c, 0) != 0) rte_tel_data_free(c);
        }
    }
}

int answer(rte_tel_data *d, int status, const std::string &message, const json &body = json()) {
    fill(d, telemetry_reply(status, message, body));
    return 0;
}
int answer(rte_tel_data *d, const ControlReply &r) { return answer(d, r.status, r.message, r.body); }

std::string param_text(const char *params) { return params == nullptr ? std::string() : std::string(params); }

// Calls `call` with the target, or answers status 1 while there is none. A
// command never lets an exception reach DPDK's C code.
template <class Call>
int with_target(rte_tel_data *d, Call call) {
    State &s = state();
    try {
        std::shared_lock lock(s.mutex);
        if (s.target == nullptr) return answer(d, 1, fmt::format("linkem \"{}\" is {}: try again in a moment", s.instance.name, s.state));
        return answer(d, call(*s.target));
    } catch (const std::exception &e) {
        return answer(d, 1, fmt::format("linkem could not answer: {}", e.what()));
    }
}

int cmd_links(const char *, const char *, rte_tel_data *d) {
    return with_target(d, [](ControlTarget &) { return ControlReply{0, "", json{{"links", state().instance.links}}}; });
}

int cmd_link(const char *, const char *params, rte_tel_data *d) {
    const std::vector<std::string> words = split_params(param_text(params));
    if (words.size() != 1) return answer(d, 2, "give one link name: /linkem/link,NAME (/linkem/links lists them)");
    return with_target(d, [&](ControlTarget &t) { return t.show(words.front()); });
}

int cmd_info(const char *, const char *, rte_tel_data *d) {
    State &s = state();
    std::shared_lock lock(s.mutex);
    const auto uptime = std::chrono::steady_clock::now() - s.registered;
    return answer(d, 0, "",
                  {{"name", s.instance.name},
                   {"version", version_line("linkem")},
                   {"dpdk", rte_version()},
                   {"config_file", s.instance.config_file},
                   {"seed", s.instance.seed},
                   {"pid", static_cast<uint64_t>(getpid())},
                   {"state", s.target != nullptr ? "running" : s.state},
                   {"uptime_ns", static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(uptime).count())}});
}

int cmd_set(const char *, const char *params, rte_tel_data *d) {
    std::vector<std::string> words = split_params(param_text(params));
    if (words.size() < 2) return answer(d, 2, "give a link and its changes: /linkem/set,LINK KEY=VALUE... (such as a-to-b delay=30ms)");
    const std::string link = words.front();
    words.erase(words.begin());
    return with_target(d, [&](ControlTarget &t) { return t.set_link(link, words); });
}

int cmd_apply(const char *, const char *params, rte_tel_data *d) {
    const std::string path = param_text(params);
    if (path.empty()) return answer(d, 2, "give a configuration file: /linkem/apply,FILE.yaml (a path linkem can read)");
    return with_target(d, [&](ControlTarget &t) { return t.apply_file(path); });
}

}  // namespace

std::string register_telemetry_commands(const TelemetryInstance &instance) {
    State &s = state();
    {
        std::unique_lock lock(s.mutex);
        s.instance = instance;
        s.registered = std::chrono::steady_clock::now();
    }
    struct Command {
        const char *name;
        telemetry_cb fn;
        const char *help;  // at most 63 bytes
    };
    const Command commands[] = {
        {kCmdLinks, cmd_links, "linkem's links. No parameters"},
        {kCmdLink, cmd_link, "A link's configuration and counters. Parameter: link name"},
        {kCmdInfo, cmd_info, "linkem's name, version, file, seed, uptime. No parameters"},
        {kCmdSet, cmd_set, "Change a link. Parameters: LINK KEY=VALUE..."},
        {kCmdApply, cmd_apply, "Make the links what a file says. Parameter: file path"},
    };
    std::string problems;
    for (const Command &c : commands)
        if (const int rc = rte_telemetry_register_cmd(c.name, c.fn, c.help); rc != 0)
            problems += fmt::format("{}cannot register telemetry command {} ({})", problems.empty() ? "" : "; ", c.name, rc);
    return problems;
}

void set_telemetry_target(ControlTarget *target, const std::string &what) {
    State &s = state();
    std::unique_lock lock(s.mutex);
    s.target = target;
    s.state = what;
}

}  // namespace linkem
