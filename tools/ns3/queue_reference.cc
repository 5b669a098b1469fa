// The queue-discipline reference: feeds a sequence of arrivals through one of
// ns-3's queue discs in front of a link of a given rate, and writes each
// packet's fate. tools/aqm_compare.py runs it beside linkem-sim on the same
// arrivals (docs/DECISIONS.md, "Queue limits against ns-3").
//
//   queue_reference --rate-bps R --disc pfifo|codel|pie|red|fq_codel
//                   [--limit-packets N] [--ecn] < arrivals.csv > fates.csv
//
// arrivals.csv: one "id,time_ns,size_bytes,flow,ecn_capable" per line, in
// time order. fates.csv: one "id,fate,start_ns" per line, fate being
// "sent" (start_ns: when its transmission started), "drop" or "mark" (sent,
// marked CE), in the order ns-3 decided them.
//
// Ties: an arrival at the very instant a transmission ends sees the link
// after it, the next packet already on the wire (the transmission's end runs
// first), as in linkem; ns-3 alone would run whichever event was scheduled
// first. The link is linkem's `constant` bandwidth model, computed the same way so
// that only the queue differs: within a busy period the n-th bit leaves at
// start + ceil(bits_so_far * 1e9 / rate) ns. No overhead is added (give the
// linkem side `overhead: 0`, the default). Built against Debian's libns3-dev
// (3.37); CI does not need it.
#include <ns3/core-module.h>
#include <ns3/network-module.h>
#include <ns3/traffic-control-module.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <iostream>
#include <map>
#include <sstream>
#include <string>

using namespace ns3;

namespace {

// A queued packet: its id, flow and whether it may be marked instead of dropped.
class RefItem : public QueueDiscItem {
  public:
    RefItem(Ptr<Packet> p, uint64_t id, uint32_t flow, bool ecn_capable)
        : QueueDiscItem(p, Address(), 0), id_(id), flow_(flow), ecn_capable_(ecn_capable) {}
    void AddHeader() override {}
    bool Mark() override {
        if (!ecn_capable_) return false;
        marked_ = true;
        return true;
    }
    // fq_codel's flow hash: the flow column, which tools/aqm_compare.py
    // writes as the queue linkem's scheduler gives the flow, so that both
    // sides queue each flow alike (ns-3 takes it modulo its 1024 flows).
    uint32_t Hash(uint32_t) const override { return flow_; }
    uint64_t id() const { return id_; }
    bool marked() const { return marked_; }

  private:
    uint64_t id_;
    uint32_t flow_;
    bool ecn_capable_;
    bool marked_ = false;
};

struct Link {
    uint64_t rate_bps = 0;
    Ptr<QueueDisc> disc;
    bool busy = false;
    uint64_t busy_start_ns = 0;  // the current busy period's start
    uint64_t busy_bits = 0;      // bits sent in it so far
    uint64_t busy_until_ns = 0;  // when the transmission on the wire ends
    EventId end;                 // its event
};

Link g_link;

void fate(uint64_t id, const char *what, uint64_t start_ns) {
    std::printf("%llu,%s,%llu\n", (unsigned long long)id, what, (unsigned long long)start_ns);
}

void start_next();

void finish() {
    g_link.busy = false;
    start_next();
}

// The link is free: the disc chooses what goes next (and may drop on the way).
void start_next() {
    if (g_link.busy) return;
    Ptr<QueueDiscItem> item = g_link.disc->Dequeue();
    if (!item) return;
    const uint64_t now = Simulator::Now().GetNanoSeconds();
    const auto *ref = static_cast<const RefItem *>(PeekPointer(item));
    fate(ref->id(), ref->marked() ? "mark" : "sent", now);
    g_link.busy_bits += uint64_t{item->GetSize()} * 8;
    const auto at = [](uint64_t bits) {
        return (static_cast<unsigned __int128>(bits) * 1'000'000'000u + g_link.rate_bps - 1) / g_link.rate_bps;
    };
    const uint64_t end = g_link.busy_start_ns + static_cast<uint64_t>(at(g_link.busy_bits));
    g_link.busy = true;
    g_link.busy_until_ns = end;
    g_link.end = Simulator::Schedule(NanoSeconds(end - now), &finish);
}

void arrive(Ptr<RefItem> item) {
    if (g_link.busy && g_link.busy_until_ns == static_cast<uint64_t>(Simulator::Now().GetNanoSeconds())) {  // a tie: the end first
        g_link.end.Cancel();
        finish();
    }
    if (!g_link.busy && g_link.disc->GetNPackets() == 0) {  // an idle link starts a new busy period
        g_link.busy_start_ns = Simulator::Now().GetNanoSeconds();
        g_link.busy_bits = 0;
    }
    g_link.disc->Enqueue(item);  // a drop is reported by the disc's trace
    start_next();
}

void on_drop(Ptr<const QueueDiscItem> item, const char *) { fate(static_cast<const RefItem *>(PeekPointer(item))->id(), "drop", 0); }

}  // namespace

int main(int argc, char **argv) {
    std::string disc = "pfifo";
    uint64_t limit_packets = 1000, rate_bps = 10'000'000;
    bool ecn = false;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        const auto value = [&]() -> std::string {
            if (i + 1 >= argc) {
                std::fprintf(stderr, "queue_reference: %s needs a value\n", a.c_str());
                std::exit(2);
            }
            return argv[++i];
        };
        if (a == "--disc")
            disc = value();
        else if (a == "--limit-packets")
            limit_packets = std::stoull(value());
        else if (a == "--rate-bps")
            rate_bps = std::stoull(value());
        else if (a == "--ecn")
            ecn = true;
        else {
            std::fprintf(stderr, "queue_reference: unknown argument %s\n", a.c_str());
            return 2;
        }
    }
    const std::map<std::string, std::string> types = {{"pfifo", "ns3::FifoQueueDisc"},
                                                      {"codel", "ns3::CoDelQueueDisc"},
                                                      {"pie", "ns3::PieQueueDisc"},
                                                      {"red", "ns3::RedQueueDisc"},
                                                      {"fq_codel", "ns3::FqCoDelQueueDisc"}};
    if (!types.count(disc)) {
        std::fprintf(stderr, "queue_reference: unknown disc %s (pfifo, codel, pie, red, fq_codel)\n", disc.c_str());
        return 2;
    }
    ObjectFactory factory;
    factory.SetTypeId(types.at(disc));
    factory.Set("MaxSize", QueueSizeValue(QueueSize(QueueSizeUnit::PACKETS, static_cast<uint32_t>(limit_packets))));
    if (disc != "pfifo") factory.Set("UseEcn", BooleanValue(ecn));

    g_link.rate_bps = rate_bps;
    g_link.disc = factory.Create<QueueDisc>();
    if (disc == "fq_codel")  // linkem's default quantum (there is no device to take an MTU from); a setter, not an attribute
        DynamicCast<FqCoDelQueueDisc>(g_link.disc)->SetQuantum(1514);
    g_link.disc->TraceConnectWithoutContext("DropBeforeEnqueue", MakeCallback(&on_drop));
    g_link.disc->TraceConnectWithoutContext("DropAfterDequeue", MakeCallback(&on_drop));
    g_link.disc->Initialize();

    std::string line;
    uint64_t last_ns = 0, largest = 0;
    while (std::getline(std::cin, line)) {
        if (line.empty() || line[0] == '#') continue;
        std::istringstream in(line);
        uint64_t id, time_ns, size;
        uint32_t flow;
        int ecn_capable;
        char c1, c2, c3, c4;
        if (!(in >> id >> c1 >> time_ns >> c2 >> size >> c3 >> flow >> c4 >> ecn_capable)) {
            std::fprintf(stderr, "queue_reference: bad line: %s\n", line.c_str());
            return 2;
        }
        Simulator::Schedule(NanoSeconds(time_ns), &arrive, Create<RefItem>(Create<Packet>(size), id, flow, ecn_capable != 0));
        last_ns = std::max(last_ns, time_ns);
        largest = std::max(largest, size);
    }
    // PIE's update timer reschedules itself for ever: stop once the last
    // arrival's queue has certainly drained (a full queue of the largest frames, and a second).
    Simulator::Stop(NanoSeconds(last_ns + (limit_packets + 1) * largest * 8 * 1'000'000'000ULL / rate_bps + 1'000'000'000ULL));
    Simulator::Run();
    Simulator::Destroy();
    return 0;
}
