// A scheduler among several queues in front of a link (fair queueing:
// link_model.hpp QueueScheduler, docs/CONFIG.md "Fair queueing"): deficit
// round robin by quantum and weight, FQ-CoDel's new flows first, the
// overload drop from the fattest queue's head, the per-queue figures, the
// configuration and how a packet's queue is chosen.
#include "link_fixture.hpp"

#include "config_errors.hpp"
#include "linkem/pipeline.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

using namespace linkem;
using namespace linkem::test;

namespace {

constexpr uint64_t kMs = 1'000'000;

// A 8 Mbit/s link without framing overhead: a 1000-byte frame takes exactly 1 ms.
std::string link_with(const std::string &queue) { return "bandwidth: 8Mbit/s, overhead: none, queue: " + queue; }

// The packets sent, by handle, in the order of their transmission starts.
std::vector<size_t> send_order(const HeldRun &r) {
    std::vector<size_t> sent;
    for (size_t i = 0; i < r.by_packet.size(); ++i)
        if (r.by_packet[i].verdict.fate == Fate::kForward) sent.push_back(i);
    // A packet's start is its release less its 1 ms on the link (no delay model).
    std::stable_sort(sent.begin(), sent.end(),
                     [&](size_t a, size_t b) { return r.by_packet[a].verdict.release_ns < r.by_packet[b].verdict.release_ns; });
    return sent;
}

}  // namespace

TEST_CASE("drr serves backlogged classes in proportion to their weights", "[queue][scheduler]") {
    TestLink link(link_with("{scheduler: drr, classes: [{name: a, weight: 3}, {name: b, weight: 1}]}"));
    LinkModel &m = link.model();
    REQUIRE(m.scheduler_queues() == 2);
    std::vector<PacketIn> pkts;
    for (int i = 0; i < 40; ++i) pkts.push_back({0, 1000, false, 0});  // class a
    for (int i = 0; i < 40; ++i) pkts.push_back({0, 1000, false, 1});  // class b
    const HeldRun r = run_held(m, pkts);
    const std::vector<size_t> order = send_order(r);
    REQUIRE(order.size() == 80);
    // Quanta of 3 x 1514 and 1514 bytes; a queue sends while its deficit is
    // above 0 (RFC 8290's DRR): a sends 5 frames of 1000 bytes (4542 -> -458),
    // b 2 (1514 -> -486); then a has 4084 (5 frames), b 1028 (2 frames).
    std::string classes;
    for (size_t i = 0; i < 14; ++i) classes += order[i] < 40 ? 'a' : 'b';
    CHECK(classes == "aaaaabbaaaaabb");
    // While both are backlogged (a's 40 frames), a sends 3 bytes for each of b's, to within one round.
    const auto a_last = std::find(order.begin(), order.end(), size_t{39});
    const size_t b_before = static_cast<size_t>(std::count_if(order.begin(), a_last, [](size_t i) { return i >= 40; }));
    CHECK(b_before >= 40 / 3 - 2);
    CHECK(b_before <= 40 / 3 + 2);
    const QueueDisciplineStats &q = m.discipline_stats();
    REQUIRE(q.queue_count == 2);
    CHECK(q.queues[0].sent.load() == 40);
    CHECK(q.queues[1].sent.load() == 40);
    CHECK(q.queues[0].sent_bytes.load() == 40000);
}

TEST_CASE("fq serves a flow that becomes active before the backlogged ones (new flows list)", "[queue][scheduler]") {
    TestLink link(link_with("{scheduler: fq, flows: 16}"));
    LinkModel &m = link.model();
    std::vector<PacketIn> pkts;
    for (int i = 0; i < 20; ++i) pkts.push_back({0, 1000, false, 5});  // a backlogged flow: 20 ms of frames
    pkts.push_back({2'500'000, 200, false, 9});                        // a sparse one, at 2.5 ms
    const HeldRun r = run_held(m, pkts);
    const Decided &sparse = r.by_packet.at(20);
    REQUIRE(sparse.verdict.fate == Fate::kForward);
    // The link is busy until 3 ms; then the new flow goes first: 200 bytes take 200 us.
    CHECK(sparse.verdict.release_ns == 3 * kMs + 200'000);
    // The backlogged flow loses only that slot: its 4th frame starts at 3.2 ms.
    CHECK(r.by_packet.at(3).verdict.release_ns == 3 * kMs + 200'000 + kMs);
    // Without new flows' priority (drr with one class per flow), the sparse packet waits its round.
    TestLink plain(link_with("{scheduler: drr, classes: [{match: {src_port: 1}}, {match: {src_port: 2}}, {weight: 1}]}"));
    for (PacketIn &p : pkts) p.queue = p.queue == 5 ? 0 : 1;
    const HeldRun r2 = run_held(plain.model(), pkts);
    // Its queue joins the end of the round: the backlogged queue still has deficit (1028 - 1000 bytes) at 3 ms.
    CHECK(r2.by_packet.at(20).verdict.release_ns == 4 * kMs + 200'000);
}

TEST_CASE("an overload drops from the head of the fattest queue until half its bytes are gone", "[queue][scheduler]") {
    TestLink link(link_with("{scheduler: fq, flows: 4, limit: 10 packets}"));
    LinkModel &m = link.model();
    CHECK(m.held_capacity() == 11);  // the limit, and one for the arrival queued before the drop
    std::vector<PacketIn> pkts;
    for (int i = 0; i < 8; ++i) pkts.push_back({0, 1000, false, 1});  // 0 goes on the wire at 0; 7 wait
    for (int i = 0; i < 4; ++i) pkts.push_back({0, 500, false, 2});   // 3 wait: 10 in all; the 4th is one too many
    const HeldRun r = run_held(m, pkts);
    std::map<Fate, int> fates;
    for (const Decided &d : r.by_packet) ++fates[d.verdict.fate];
    CHECK(fates[Fate::kDropQueue] == 4);                                                     // 4 x 1000 bytes reach half of queue 1's 7000
    for (size_t i = 1; i <= 4; ++i) CHECK(r.by_packet[i].verdict.fate == Fate::kDropQueue);  // its oldest waiting
    CHECK(r.by_packet[0].verdict.fate == Fate::kForward);
    for (size_t i = 5; i < pkts.size(); ++i) CHECK(r.by_packet[i].verdict.fate == Fate::kForward);
    for (Fate f : r.refused) CHECK(f == Fate::kForward);  // the arrival itself was queued
    const QueueDisciplineStats &q = m.discipline_stats();
    CHECK(q.overload_drops.load() == 4);
    CHECK(q.queues[1].overload_drops.load() == 4);
    CHECK(q.queues[2].overload_drops.load() == 0);
    CHECK(q.queues[1].sent.load() + q.queues[2].sent.load() == pkts.size() - 4);
    CHECK(m.held_packets() == 0);
}

TEST_CASE("an overload's drops not yet handed out are held, handed out first, and reset() forgets all", "[queue][scheduler]") {
    TestLink link(link_with("{scheduler: fq, flows: 4, limit: 4 packets}"));
    LinkModel &m = link.model();
    Decided out[kMaxBurst];
    CHECK(m.hold({0, 1000, false, 1}, 0) == Fate::kForward);
    CHECK(m.advance(0, out, kMaxBurst) == 1);                                                   // 0 on the wire
    for (uint64_t i = 1; i <= 5; ++i) CHECK(m.hold({0, 1000, false, 1}, i) == Fate::kForward);  // the 5th waiting is one too many
    CHECK(m.held_packets() == 5);  // 2 waiting and 3 dropped (until 3000 of 5000 bytes: half), not handed out yet
    uint64_t seen = 0;
    m.for_each_held([&](const HeldPacket &) { ++seen; });
    CHECK(seen == 5);
    CHECK(m.advance(0, out, 1) == 1);  // the drops come first, even when only one decision fits
    CHECK(out[0].handle == 1);
    CHECK(out[0].verdict.fate == Fate::kDropQueue);
    CHECK(m.advance(0, out, kMaxBurst) == 2);  // the other drops; the link is busy until 1 ms
    CHECK(out[0].handle == 2);
    CHECK(out[1].handle == 3);
    CHECK(out[1].verdict.fate == Fate::kDropQueue);
    CHECK(m.held_packets() == 2);
    m.reset();
    CHECK(m.held_packets() == 0);
    seen = 0;
    m.for_each_held([&](const HeldPacket &) { ++seen; });
    CHECK(seen == 0);
    // It runs as new: every record free again, the lists empty.
    std::vector<PacketIn> again;
    for (int i = 0; i < 5; ++i) again.push_back({10 * kMs, 1000, false, static_cast<uint32_t>(i % 2)});
    const HeldRun r = run_held(m, again);
    for (const Decided &d : r.by_packet) CHECK(d.verdict.fate == Fate::kForward);
    CHECK(m.held_capacity() == 5);
}

TEST_CASE("fq_codel runs codel in each flow's queue: a heavy flow's drops leave a light flow alone", "[queue][scheduler]") {
    TestLink link(link_with("{discipline: fq_codel}"));
    LinkModel &m = link.model();
    REQUIRE(m.scheduler_queues() == 1024);
    REQUIRE(link.plan().queue_instances.size() == 1024);  // one codel per flow queue
    std::vector<PacketIn> pkts;
    // 2 s of a heavy flow at 12 Mbit/s (a 1000-byte frame every 0.667 ms) and a light one, 100 bytes every 10 ms.
    for (uint64_t i = 0; i < 3000; ++i) {
        pkts.push_back({i * 2 * kMs / 3, 1000, false, 7});
        if (i % 15 == 0) pkts.push_back({i * 2 * kMs / 3, 100, false, 300});
    }
    const HeldRun r = run_held(m, pkts);
    const QueueDisciplineStats &q = m.discipline_stats();
    CHECK(q.queues[7].aqm_drops.load() > 0);  // codel drops the heavy flow's packets
    CHECK(q.queues[300].aqm_drops.load() == 0);
    CHECK(q.queues[300].overload_drops.load() == 0);
    // The light flow never waits behind the heavy one's standing queue: at most a frame on the wire and its own.
    const uint64_t light_sent = q.queues[300].sent.load();
    REQUIRE(light_sent > 0);
    CHECK(q.queues[300].sojourn_sum_ns.load() / light_sent < 2 * kMs);
    CHECK(q.queues[7].sojourn_sum_ns.load() / q.queues[7].sent.load() > 5 * kMs);  // about codel's 5 ms target
    uint64_t decided = 0;
    for (const Decided &d : r.by_packet) decided += d.len_bytes != 0 ? 1 : 0;
    CHECK(decided == pkts.size());
}

TEST_CASE("queue: {discipline: fq_codel} and {scheduler: ...}: defaults, printing and errors", "[queue][scheduler][config]") {
    const auto load = [](const std::string &queue) {
        return load_config_text(
            "ports: {a: {device: n0}, b: {device: n1}}\nlinks:\n  - {name: ab, from: a, to: b, bandwidth: "
            "10Mbit/s, queue: " +
                queue + "}\n",
            "t.yaml");
    };
    LoadResult fq = load("{discipline: fq_codel, target: 5ms, ecn: true}");
    REQUIRE(fq.config);
    const Link &l = fq.config->links[0];
    REQUIRE(l.scheduler);
    CHECK(l.scheduler->kind == QueueSchedulerSpec::Kind::kFq);
    CHECK(l.scheduler->flows == 1024);
    CHECK(l.scheduler->quantum_bytes == 1514);
    CHECK(l.queue.packets == 10240u);  // RFC 8290's limit when none is given
    REQUIRE(l.discipline);
    CHECK(l.discipline->plugin == "codel");
    std::string printed;
    for (const auto &[key, value] : link_yaml_fields(l))
        if (key == "queue") printed = value;
    CHECK(printed == "{discipline: fq_codel, limit: 10240 packets, flows: 1024, quantum: 1514B, target: 5ms, ecn: true}");
    // What is printed loads back to the same link.
    LoadResult again = load(printed);
    REQUIRE(again.config);
    CHECK(again.config->links[0].scheduler->flows == 1024);

    LoadResult drr = load("{scheduler: drr, classes: [{name: tcp, match: {proto: tcp}, weight: 3}, {name: rest}]}");
    REQUIRE(drr.config);
    REQUIRE(drr.config->links[0].scheduler->classes.size() == 2);
    CHECK(drr.config->links[0].scheduler->classes[0].weight == 3);
    CHECK(drr.config->links[0].queue.packets == 1000u);
    CHECK_FALSE(drr.config->links[0].discipline);  // no discipline: only the shared limit drops

    // Each refusal names the file, the line, the column of what is wrong, and its key path.
    const std::string prefix = "  - {name: ab, from: a, to: b, bandwidth: 10Mbit/s, queue: ";
    const auto refused = [&](const std::string &queue, const std::string &at, const std::string &path, const std::string &message) {
        const std::string text = "ports: {a: {device: n0}, b: {device: n1}}\nlinks:\n" + prefix + queue + "}\n";
        require_one_error(text, 3, static_cast<int>(prefix.size() + queue.find(at) + 1), path, message);
    };
    refused("{scheduler: drr}", "{scheduler", "links[0].queue", "scheduler: drr needs classes:");
    refused("{scheduler: wfq}", "wfq", "links[0].queue.scheduler", "\"wfq\" is not a scheduler");
    refused("{scheduler: fq, flows: 0}", "0}", "links[0].queue.flows", "0 is below the smallest allowed");
    refused("{scheduler: fq, flows: 70000}", "70000", "links[0].queue.flows", "65536");
    refused("{scheduler: fq, classes: [{weight: 1}]}", "classes", "links[0].queue.classes", "classes: go with scheduler: drr");
    refused("{scheduler: drr, classes: [{match: {port: a}}]}", "a}}", "links[0].queue.classes[0].match.port", "a class cannot match");
    refused("{scheduler: drr, classes: [{weight: 0}]}", "0}", "links[0].queue.classes[0].weight", "below the smallest");
    refused("{scheduler: drr, classes: [{match: {proto: tcpp}}]}", "tcpp", "links[0].queue.classes[0].match.proto", "tcpp");
    refused("{discipline: fq_codel, quantum: 10B}", "10B", "links[0].queue.quantum", "10B is out of range");
    refused("{discipline: fq_codel, scheduler: drr, classes: [{weight: 1}]}", "drr", "links[0].queue.scheduler",
            "fq_codel is fair queueing");
    // A discipline's parameter with no discipline to take it; a scheduler's key with no scheduler.
    refused("{scheduler: fq, target: 5ms}", "5ms", "links[0].queue.target", "target: is a queue discipline's parameter");
    refused("{scheduler: drr, ecn: true, classes: [{weight: 1}]}", "true", "links[0].queue.ecn", "ecn: is a queue discipline's parameter");
    refused("{discipline: codel, flows: 16}", "flows", "links[0].queue.flows", "flows: is a scheduler's");
    refused("{discipline: pie, quantum: 3000B}", "quantum", "links[0].queue.quantum", "quantum: is a scheduler's");
}

TEST_CASE("a packet's queue: fq hashes its addresses, protocol and ports; drr takes the first class it matches", "[queue][scheduler]") {
    const auto fields = [](uint16_t src_port, uint8_t proto) {
        PacketFields f;
        f.ip_version = 4;
        f.has_proto = true;
        f.ip_proto = proto;
        f.has_ports = true;
        f.src_port = src_port;
        f.dst_port = 9;
        f.src_ip[0] = 10;
        f.dst_ip[0] = 10;
        f.dst_ip[3] = 2;
        return f;
    };
    LinkRuntime::QueueChoice fq;
    fq.flows = 1024;
    std::map<uint32_t, int> spread;  // 256 flows over 1024 queues: few share one
    for (uint16_t port = 0; port < 256; ++port) ++spread[fq.of(fields(static_cast<uint16_t>(20000 + port), 17))];
    CHECK(spread.size() > 200);
    // A fragmented datagram's fragments share a queue: the first carries the ports, the others do not.
    PacketFields first = fields(20000, 17), later = fields(20000, 17);
    first.notes = kNoteFragment;
    later.notes = kNoteFragment | kNoteLaterFragment;
    later.has_ports = false;
    later.src_port = later.dst_port = 0;
    CHECK(fq.of(first) == fq.of(later));
    int other_ports = 0;  // ports set the queue of an unfragmented packet
    for (uint16_t port = 0; port < 8; ++port) other_ports += fq.of(fields(static_cast<uint16_t>(20000 + port), 17)) != fq.of(later) ? 1 : 0;
    CHECK(other_ports >= 7);

    LoadResult drr = load_config_text(
        "ports: {a: {device: n0}, b: {device: n1}}\nlinks:\n  - {name: ab, from: a, to: b, bandwidth: 10Mbit/s, queue: {scheduler: "
        "drr, classes: [{match: {proto: tcp}, weight: 3}, {match: {proto: udp}}, {name: other}]}}\n",
        "t.yaml");
    REQUIRE(drr.config);
    LinkRuntime::QueueChoice classes;
    for (const QueueClass &c : drr.config->links[0].scheduler->classes) classes.classes.push_back(c.match);
    CHECK(classes.of(fields(80, 6)) == 0);
    CHECK(classes.of(fields(80, 17)) == 1);
    CHECK(classes.of(fields(80, 1)) == 2);
    PacketFields non_ip;
    CHECK(classes.of(non_ip) == 2);  // the last class takes what matches none
}
