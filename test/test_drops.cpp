// [unit][stats] The one list of drop reasons (linkem/drops.hpp): every reason in
// it is counted, named in the text reports, keyed in the JSON and part of the
// accounting identity; the JSON is what nlohmann parses back.
#include "linkem/drops.hpp"
#include "linkem/stats.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <set>
#include <string>

using namespace linkem;

namespace {

// Adds n to the counter of reason r, on the side the list gives it.
void count_drop(RxCounters &rx, TxCounters &tx, DropReason r, uint64_t n) {
    switch (r) {
#define LINKEM_COUNT(name, Camel, side, judged, text) \
    case DropReason::k##Camel: side.drop_##name.add(n); break;
        LINKEM_LINK_DROPS(LINKEM_COUNT)
#undef LINKEM_COUNT
    case DropReason::kCount: break;
    }
}

std::vector<DropReason> all_reasons() {
    std::vector<DropReason> out;
    for (size_t r = 0; r < kDropReasons; ++r) out.push_back(static_cast<DropReason>(r));
    return out;
}

nlohmann::json parsed_link(const LinkSnapshot &s) { return nlohmann::json::parse(stats_json({s}, nullptr)).at("links").at(0); }

}  // namespace

TEST_CASE("every link drop reason has a name of its own and a description; the names readers use are there", "[unit][stats]") {
    std::vector<std::string> names;
    for (DropReason r : all_reasons()) {
        names.push_back(drop_reason_name(r));
        CHECK(std::string(drop_reason_text(r)).size() > 10);
    }
    // The names and JSON keys readers rely on (tools/*.py, test/*.sh): the list may grow, never rename these.
    const std::set<std::string> unique(names.begin(), names.end());
    CHECK(unique.size() == names.size());
    for (const char *known : {"queue", "loss", "order", "arena_full", "tx_full", "shutdown", "model_error"})
        CHECK(unique.count(known) == 1);
}

TEST_CASE("one drop of each reason: counted, in the summary, the status line and the JSON, and it balances", "[unit][stats]") {
    RxCounters rx;
    TxCounters tx;
    uint64_t n = 0;
    for (DropReason r : all_reasons()) count_drop(rx, tx, r, ++n);  // reason i dropped i + 1 packets: each is told apart
    rx.packets.add(n * (n + 1) / 2);
    const LinkSnapshot s = snapshot("ab", LinkExpectations{}, rx, tx, 0, true);
    const std::string text = summary_text({s}), status = status_line(s, LinkSnapshot{}, 1.0);
    const nlohmann::json link = parsed_link(s);
    INFO(text << "\n" << link.dump(2));
    CHECK(s.dropped() == n * (n + 1) / 2);
    CHECK(s.balanced());
    CHECK_THAT(text, Catch::Contains(": balanced") && !Catch::Contains("NOT BALANCED"));
    CHECK(link.at("balanced") == true);
    CHECK(link.at("drops").size() == kDropReasons);
    uint64_t i = 0;
    for (DropReason r : all_reasons()) {
        const std::string name = drop_reason_name(r);
        ++i;
        INFO(name);
        CHECK(s.drop(r) == i);
        CHECK_THAT(text, Catch::Contains(" " + name + "=" + std::to_string(i)));
        CHECK_THAT(status, Catch::Contains(" " + name + "=" + std::to_string(i)));
        CHECK(link.at("drops").at(name) == i);
    }
    // queue, arena_full, model_error and aqm_drop took no link time: the loss model never judged them.
    CHECK(s.offered_to_loss() == s.rx_packets - s.drop(DropReason::kQueue) - s.drop(DropReason::kArenaFull) -
                                     s.drop(DropReason::kModelError) - s.drop(DropReason::kAqmDrop));
    CHECK(link.at("loss").at("offered") == s.offered_to_loss());
}

TEST_CASE("each drop reason is in the accounting identity: one uncounted packet unbalances it", "[unit][stats]") {
    for (DropReason r : all_reasons()) {
        INFO(drop_reason_name(r));
        RxCounters rx;
        TxCounters tx;
        rx.packets.add(5);
        tx.packets.add(3);
        count_drop(rx, tx, r, 2);
        CHECK(snapshot("ab", LinkExpectations{}, rx, tx, 0, false).balanced());
        rx.packets.add(1);  // a packet that went nowhere
        const LinkSnapshot s = snapshot("ab", LinkExpectations{}, rx, tx, 0, false);
        CHECK_FALSE(s.balanced());
        CHECK_THAT(summary_text({s}), Catch::Contains("NOT BALANCED"));
        CHECK(parsed_link(s).at("balanced") == false);
    }
}

TEST_CASE("a model's drop Fate counts on its rx counter (add_drop, RxDropTally)", "[unit][stats]") {
    // The names the data path and the models use.
    CHECK(drop_reason(Fate::kDropQueue) == DropReason::kQueue);
    CHECK(drop_reason(Fate::kDropLoss) == DropReason::kLoss);
    CHECK(drop_reason(Fate::kDropOrder) == DropReason::kOrder);
    CHECK(drop_reason(Fate::kDropArenaFull) == DropReason::kArenaFull);
    CHECK(drop_reason(Fate::kDropModelError) == DropReason::kModelError);
    std::vector<std::pair<Fate, DropReason>> fates;  // every rx-side reason of the list
#define LINKEM_FATE_PAIR(name, Camel, side, judged, text) \
    LINKEM_DROP_IF_RX(side, fates.emplace_back(Fate::kDrop##Camel, DropReason::k##Camel);)
    LINKEM_LINK_DROPS(LINKEM_FATE_PAIR)
#undef LINKEM_FATE_PAIR
    CHECK(kFates == fates.size() + 1);  // and kForward
    CHECK(drop_reason(Fate::kForward) == DropReason::kCount);
    RxCounters none;
    CHECK(drop_counter(none, Fate::kForward) == nullptr);
    for (const auto &[fate, reason] : fates) {
        INFO(drop_reason_name(reason));
        CHECK(drop_reason(fate) == reason);
        RxCounters rx;
        add_drop(rx, fate, 2);
        RxDropTally tally;
        tally.count(fate);
        tally.count(Fate::kForward);
        tally.flush(rx);
        tally.flush(rx);  // flushed once: the second adds nothing
        const LinkSnapshot s = snapshot("ab", LinkExpectations{}, rx, TxCounters{}, 0, false);
        CHECK(s.drop(reason) == 3);
        CHECK(s.dropped() == 3);
    }
}

TEST_CASE("every port drop reason is counted, named in the classification summary and keyed in its JSON", "[unit][stats]") {
    IngressCounters c(0);
    uint64_t n = 0;
#define LINKEM_PORT_COUNT(name, text) c.drop_##name.add(++n);
    LINKEM_PORT_DROPS(LINKEM_PORT_COUNT)
#undef LINKEM_PORT_COUNT
    PortClassifySnapshot p;
    p.port = "a";
    take_port_drops(p, c);
    const std::string text = classify_summary_text({p});
    const nlohmann::json port = nlohmann::json::parse(classify_json({p}).dump()).at(0);
    INFO(text << "\n" << port.dump());
    CHECK(port.at("drops").size() == n);
    uint64_t i = 0;
#define LINKEM_PORT_CHECK(name, text_)                                                                     \
    ++i;                                                                                                   \
    CHECK(p.drop_##name == i);                                                                             \
    CHECK(port.at("drops").at(#name) == i);                                                                \
    CHECK_THAT(text, Catch::Contains(std::string(#name) == "rule" ? "by a drop rule: " + std::to_string(i) \
                                                                  : std::string(#name) + " " + std::to_string(i)));
    LINKEM_PORT_DROPS(LINKEM_PORT_CHECK)
#undef LINKEM_PORT_CHECK
}

TEST_CASE("the stats JSON round-trips through a parser, names with quotes and stray bytes included", "[unit][stats]") {
    RxCounters rx;
    TxCounters tx;
    rx.packets.add(2);
    tx.packets.add(1);
    rx.drop_loss.add(1);
    LinkSnapshot s = snapshot("a\"b\\c\xff", LinkExpectations{}, rx, tx, 0, true);
    s.flow = "src 10.0.0.0/24";
    s.model_error = ModelError{ModelError::What::kLossVerdict, LKM_KIND_LOSS, "q\"uote", 2, 7};
    Json ports = Json::array();
    ports.push_back(Json{{"name", "x\ny"}});
    const std::string text = stats_json({s}, Json{{"seed", 9}, {"ports", ports}});
    const nlohmann::json doc = nlohmann::json::parse(text);
    CHECK(nlohmann::json::parse(doc.dump()) == doc);
    const nlohmann::json &link = doc.at("links").at(0);
    CHECK(link.at("name") == "a\"b\\c\xef\xbf\xbd");  // the stray byte became U+FFFD
    CHECK(link.at("flow").at("key") == "src 10.0.0.0/24");
    CHECK(link.at("model_error").at("model") == "q\"uote");
    CHECK(link.at("model_error").at("text") == model_error_text(*s.model_error));
    CHECK(doc.at("seed") == 9);
    CHECK(doc.at("ports").at(0).at("name") == "x\ny");
    // The keys the readers use (tools/bench.py, tools/fidelity.py, tools/models_report.py, test/*.sh).
    for (const char *key : {"name",         "rx_packets",  "tx_packets",  "rx_bytes", "tx_bytes",    "drops", "in_flight",
                            "balanced",     "rx_stage_ns", "tx_stage_ns", "delay_ns", "lateness_ns", "rate",  "loss",
                            "out_of_order", "order_keep",  "handed_on",   "mangle",   "model_error", "flow"})
        CHECK(link.contains(key));
    CHECK(text.back() == '\n');
}
