#include "linkem/lcore_plan.hpp"

namespace linkem {

std::vector<LcoreRole> plan_lcores(size_t lcore_count, size_t link_count) {
    std::vector<LcoreRole> roles(lcore_count);
    if (lcore_count == 0) return roles;
    for (size_t i = 0; i < link_count; ++i) {
        if (lcore_count >= 2 * link_count) {
            roles[2 * i].rx_links.push_back(i);
            roles[2 * i + 1].tx_links.push_back(i);
        } else {
            roles[0].rx_links.push_back(i);
            roles[lcore_count >= 2 ? 1 : 0].tx_links.push_back(i);
        }
    }
    return roles;
}

}  // namespace linkem
