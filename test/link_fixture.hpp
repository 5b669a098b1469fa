// Builds one link (a -> b) from YAML link fields through the real loader,
// plugin host (the built plugins in $LINKEM_PLUGIN_DIR) and link plan, and
// runs its link model in virtual time.
#pragma once

#include "linkem/config.hpp"
#include "linkem/link_model.hpp"
#include "linkem/link_plan.hpp"
#include "linkem/plugin_host.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

namespace linkem::test {

inline std::vector<std::string> plugin_dirs() {
    const char *dir = std::getenv("LINKEM_PLUGIN_DIR");
    REQUIRE(dir != nullptr);  // set by meson test
    return {dir};
}

class TestLink {
  public:
    // fields: the YAML inside the link's mapping, e.g. "bandwidth: 1Gbit/s, delay: 10us"
    explicit TestLink(const std::string &fields, uint64_t seed = 1) {
        const std::string yaml = "ports: {a: {device: n0}, b: {device: n1}}\nlinks:\n  - {name: ab, from: a, to: b" +
                                 (fields.empty() ? std::string() : ", " + fields) + "}\n";
        LoadResult loaded = load_config_text(yaml, "test.yaml");
        for (const auto &e : loaded.errors) UNSCOPED_INFO(e.to_string());
        REQUIRE(loaded.config);
        config_ = std::make_unique<Config>(std::move(*loaded.config));
        std::vector<ConfigError> errors;
        auto plan = plan_link(*config_, 0, seed, PluginHost(plugin_dirs()), &errors);
        for (const auto &e : errors) UNSCOPED_INFO(e.to_string());
        REQUIRE(plan);
        plan_ = std::make_unique<LinkPlan>(std::move(*plan));
        model_ = std::make_unique<LinkModel>(plan_->model);
    }

    LinkModel &model() { return *model_; }
    const LinkPlan &plan() const { return *plan_; }

    std::vector<Verdict> run(const std::vector<PacketIn> &pkts, uint64_t room = UINT64_MAX) {
        std::vector<Verdict> out(pkts.size());
        for (size_t at = 0; at < pkts.size(); at += kMaxBurst) {
            const uint32_t n = static_cast<uint32_t>(std::min<size_t>(kMaxBurst, pkts.size() - at));
            model_->admit_burst(pkts.data() + at, n, out.data() + at, room);
        }
        return out;
    }

  private:
    std::unique_ptr<Config> config_;
    std::unique_ptr<LinkPlan> plan_;
    std::unique_ptr<LinkModel> model_;
};

// Release times of forwarded packets; drops show as 0.
inline std::vector<uint64_t> releases(const std::vector<Verdict> &v) {
    std::vector<uint64_t> r;
    for (const Verdict &x : v) r.push_back(x.fate == Fate::kForward ? x.release_ns : 0);
    return r;
}

inline size_t count_fate(const std::vector<Verdict> &v, Fate fate) {
    size_t n = 0;
    for (const Verdict &x : v) n += x.fate == fate ? 1 : 0;
    return n;
}

// Runs packets through a held queue (a link with a queue discipline or a
// scheduler) as linkem-sim does: advance to each arrival, hold it, and at the
// end advance until the queue drains. Returns each packet's decision, by its
// index (its handle), and how hold() answered.
struct HeldRun {
    std::vector<Decided> by_packet;
    std::vector<Fate> refused;  // kForward: held (then decided in by_packet)
};
inline HeldRun run_held(LinkModel &m, const std::vector<PacketIn> &pkts) {
    HeldRun r;
    r.by_packet.resize(pkts.size());
    r.refused.assign(pkts.size(), Fate::kForward);
    Decided out[kMaxBurst];
    const auto drain = [&](uint64_t t) {
        while (const uint32_t n = m.advance(t, out, kMaxBurst))
            for (uint32_t j = 0; j < n; ++j) r.by_packet.at(out[j].handle) = out[j];
    };
    for (size_t i = 0; i < pkts.size(); ++i) {
        drain(pkts[i].arrival_ns);
        const Fate f = m.hold(pkts[i], i);
        r.refused[i] = f;
        if (f != Fate::kForward) r.by_packet[i] = {i, pkts[i].arrival_ns, pkts[i].len_bytes, {f, false, 0, 0}};
    }
    drain(UINT64_MAX);
    return r;
}

}  // namespace linkem::test
