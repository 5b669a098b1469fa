#include "linkem/timeline.hpp"

namespace linkem {

size_t TimelineCursor::group_end() const {
    size_t end = index_ + 1;
    while (end < t_.steps.size() && t_.steps[end].at.ns == t_.steps[index_].at.ns) ++end;
    return end;
}

uint64_t TimelineCursor::next_ns() const {
    if (!started_ || index_ >= t_.steps.size()) return kNone;
    __extension__ using u128 = unsigned __int128;
    const u128 at = u128{base_ns_} + (t_.repeat ? u128{round_} * static_cast<uint64_t>(t_.repeat->ns) : 0) +
                    static_cast<uint64_t>(t_.steps[index_].at.ns);
    return at >= kNone ? kNone : static_cast<uint64_t>(at);
}

std::vector<const TimelineStep *> TimelineCursor::next_steps() const {
    std::vector<const TimelineStep *> out;
    if (index_ >= t_.steps.size()) return out;
    for (size_t k = index_; k < group_end(); ++k) out.push_back(&t_.steps[k]);
    return out;
}

ChangeCandidate TimelineCursor::next_change(const Config &running) const {
    std::vector<LinkSet> sets;
    for (const TimelineStep *s : next_steps()) {
        LinkSet set{s->link_name, {}};
        for (const auto &[key, value] : s->set) set.assignments.push_back(key + "=" + value);
        sets.push_back(std::move(set));
    }
    return load_link_sets(running, sets);
}

void TimelineCursor::advance() {
    if (index_ >= t_.steps.size()) return;
    index_ = group_end();
    if (index_ == t_.steps.size() && t_.repeat) {
        index_ = 0;
        ++round_;
    }
}

}  // namespace linkem
