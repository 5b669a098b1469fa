#include "linkem/route_plan.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace linkem {
namespace {

size_t port_index(const Config &c, const std::string &name) {
    for (size_t k = 0; k < c.ports.size(); ++k)
        if (c.ports[k].name == name) return k;
    return SIZE_MAX;  // unreachable: the loader checked every port name
}

// The path with these hops, added once.
uint32_t path_of(RoutePlan &plan, std::vector<size_t> hops, size_t from_port, size_t to_port) {
    for (size_t i = 0; i < plan.paths.size(); ++i)
        if (plan.paths[i].hops == hops && plan.paths[i].from_port == from_port) return static_cast<uint32_t>(i);
    plan.paths.push_back({std::move(hops), to_port, from_port});
    return static_cast<uint32_t>(plan.paths.size() - 1);
}

}  // namespace

RoutePlan plan_routes(const Config &c) {
    RoutePlan plan;
    plan.ends_path.assign(c.links.size(), false);
    std::vector<bool> in_chain(c.links.size(), false);
    for (const Rule &r : c.rules)
        if (r.action == Rule::Action::kChain)
            for (size_t i : r.links) in_chain[i] = true;

    for (size_t k = 0; k < c.ports.size(); ++k) {
        const std::string &port = c.ports[k].name;
        const auto first_from = std::find_if(c.links.begin(), c.links.end(), [&](const Link &l) { return l.from == port; });
        if (first_from == c.links.end()) continue;  // nothing starts here: linkem does not receive on it
        IngressPlan in;
        in.port = k;
        const size_t peer = port_index(c, first_from->to.empty() ? first_from->from : first_from->to);
        size_t pass = SIZE_MAX;
        for (size_t r = 0; r < c.rules.size(); ++r) {
            const Rule &rule = c.rules[r];
            const bool port_given = (rule.match.fields & RuleMatch::kPort) != 0;
            if (port_given && rule.match.port != k) continue;
            CompiledRule cr{rule.match, {}, r};
            cr.match.fields &= ~static_cast<uint32_t>(RuleMatch::kPort);
            switch (rule.action) {
            case Rule::Action::kLink:
            case Rule::Action::kChain: {
                const Link &first = c.links[rule.links.front()];
                if (first.from != port) continue;
                const Link &last = c.links[rule.links.back()];
                cr.action = {RouteAction::Kind::kPath, path_of(plan, rule.links, k, port_index(c, last.to))};
                break;
            }
            case Rule::Action::kPass:
                if (pass == SIZE_MAX) pass = path_of(plan, {Path::kPassLane}, k, peer);
                cr.action = {RouteAction::Kind::kPath, static_cast<uint32_t>(pass)};
                break;
            case Rule::Action::kDrop: cr.action = {RouteAction::Kind::kDrop, 0}; break;
            }
            in.needs_fields = in.needs_fields || cr.match.fields != 0;
            in.rules.push_back(cr);
        }
        const auto def =
            std::find_if(c.links.begin(), c.links.end(), [&](const Link &l) { return l.from == port && !in_chain[&l - c.links.data()]; });
        if (def != c.links.end()) {
            const size_t i = static_cast<size_t>(def - c.links.begin());
            in.default_action = {RouteAction::Kind::kPath, path_of(plan, {i}, k, port_index(c, def->to))};
            in.default_text = fmt::format("link {}", def->name);
        } else {
            in.default_action = {RouteAction::Kind::kDrop, 0};
            in.default_text = "drop (unclassified)";
        }
        plan.ingress.push_back(std::move(in));
    }
    for (const Path &p : plan.paths) {
        if (p.hops.front() != Path::kPassLane) plan.ends_path[p.hops.back()] = true;
        if (std::find(plan.egress_ports.begin(), plan.egress_ports.end(), p.to_port) == plan.egress_ports.end())
            plan.egress_ports.push_back(p.to_port);
    }
    return plan;
}

std::string describe_rule(const Config &c, const Rule &r) {
    std::vector<std::string> match, names;
    for (const auto &[key, value] : r.match_text) {
        const char *proto = key == "proto" ? ip_proto_name(r.match.proto) : nullptr;  // "udp" rather than 17
        match.push_back(fmt::format("{}: {}", key, proto != nullptr ? proto : value));
    }
    for (size_t i : r.links) names.push_back(c.links[i].name);
    const std::string what = match.empty() ? std::string("any packet") : fmt::format("{}", fmt::join(match, ", "));
    switch (r.action) {
    case Rule::Action::kLink: return fmt::format("{} -> link {}", what, names.front());
    case Rule::Action::kChain: return fmt::format("{} -> chain {}", what, fmt::join(names, " -> "));
    case Rule::Action::kPass: return what + " -> pass";
    case Rule::Action::kDrop: return what + " -> drop";
    }
    return what;
}

std::string describe_ingress(const Config &c, const RoutePlan &plan, const IngressPlan &in) {
    std::string out = fmt::format("port {}:", c.ports[in.port].name);
    const auto action_text = [&](const RouteAction &a) {
        if (a.kind == RouteAction::Kind::kDrop) return std::string("drop");
        const Path &p = plan.paths[a.path];
        if (p.hops.front() == Path::kPassLane) return fmt::format("pass to {}", c.ports[p.to_port].name);
        std::vector<std::string> names;
        for (size_t i : p.hops) names.push_back(c.links[i].name);
        return fmt::format("{} {}", names.size() == 1 ? "link" : "chain", fmt::join(names, " -> "));
    };
    for (const CompiledRule &r : in.rules) out += fmt::format(" {} -> {};", c.rules[r.rule_index].path, action_text(r.action));
    out += fmt::format(" otherwise {}", in.default_text);
    return out;
}

}  // namespace linkem
