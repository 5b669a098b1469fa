#include "linkem/lcore_plan.hpp"

namespace linkem {

std::vector<LcoreRole> plan_lcores(size_t lcore_count, size_t rx_stage_count, size_t tx_stage_count, size_t classify_lcore) {
    if (classify_lcore < lcore_count && lcore_count >= 2) {
        // The others as without a classify lcore, receiving only; then the classify lcore in its place.
        std::vector<LcoreRole> roles = plan_lcores(lcore_count - 1, rx_stage_count, tx_stage_count);
        for (LcoreRole &r : roles) r.receive_stages.swap(r.rx_stages);
        LcoreRole classify;
        for (size_t i = 0; i < rx_stage_count; ++i) classify.classify_stages.push_back(i);
        roles.insert(roles.begin() + static_cast<std::ptrdiff_t>(classify_lcore), classify);
        return roles;
    }
    std::vector<LcoreRole> roles(lcore_count);
    if (lcore_count == 0) return roles;
    const bool own_lcores = lcore_count >= rx_stage_count + tx_stage_count;
    for (size_t i = 0; i < rx_stage_count; ++i) roles[own_lcores ? i : 0].rx_stages.push_back(i);
    for (size_t j = 0; j < tx_stage_count; ++j) roles[own_lcores ? rx_stage_count + j : lcore_count >= 2 ? 1 : 0].tx_stages.push_back(j);
    return roles;
}

}  // namespace linkem
