#include "status_target.hpp"

#include "linkem/control_wire.hpp"
#include "linkem/suggest.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace linkem {
namespace {

constexpr const char *kNotSupported = "not supported: this linkem cannot change a running emulation yet; restart it with the new file";

}  // namespace

ControlReply StatusTarget::set_link(const std::string &, const std::vector<std::string> &) { return {1, kNotSupported, {}}; }

ControlReply StatusTarget::apply_file(const std::string &) { return {1, kNotSupported, {}}; }

ControlReply StatusTarget::show(const std::string &link) {
    std::lock_guard lock(mutex_);
    std::vector<std::string> names;
    for (const Link &l : config_.links) names.push_back(l.name);
    if (!link.empty() && std::find(names.begin(), names.end(), link) == names.end()) {
        const auto guess = nearest_word(link, names);
        return {2,
                fmt::format("no link \"{}\"{}; the links: {}", link, guess ? fmt::format(" (did you mean {}?)", *guess) : "", join(names)),
                {}};
    }
    const std::vector<LinkSnapshot> now = snapshots_();
    nlohmann::json links = nlohmann::json::array();
    for (const Link &l : config_.links) {
        if (!link.empty() && l.name != link) continue;
        std::vector<const LinkSnapshot *> instances;
        for (const LinkSnapshot &s : now)
            if (s.name == l.name) instances.push_back(&s);
        links.push_back(link_show_json(l, instances));
    }
    if (!link.empty()) return {0, "", links.front()};
    return {0, "", {{"links", std::move(links)}}};
}

}  // namespace linkem
