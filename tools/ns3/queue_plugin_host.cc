// A minimal host for one queue-discipline plugin (plugin ABI 1.3), for
// comparing a discipline with ns-3 before linkem's own host runs it: reads
// the arrivals of tools/ns3/queue_reference.cc ("id,time_ns,size,flow,ecn"
// per line) and writes the same fates ("id,sent|mark|drop,start_ns"), with
// the same link (a busy period's n-th bit leaves at start + ceil(bits 1e9 /
// rate) ns, no overhead), the same tie rule (a transmission's end before an
// arrival at the same instant) and a limit in waiting packets. The calls
// follow the ABI: enqueue after the limit, dequeue when the link is free
// (again at the same instant after a DROP), dequeue(NULL) when the link
// frees and finds the queue empty.
//
//   queue_plugin_host PLUGIN.so RATE_BPS LIMIT_PACKETS [KEY VALUE]... < arrivals.csv > fates.csv
//
// Parameters are passed as text: durations and sizes as plain ns and bytes,
// yes/no flags and names as they are. tools/ns3/compare_queue.py runs it
// beside queue_reference. Not built by meson.
#include <linkem/plugin.h>
#include <dlfcn.h>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
struct P {
    uint64_t id, t, size;
    uint32_t flow;
    int ecn;
    bool marked;
};
static std::map<std::string, std::string> params;
static int get(const lkm_create_args *, const char *key, std::string *v) {
    auto it = params.find(key);
    if (it == params.end()) return LKM_ABSENT;
    *v = it->second;
    return LKM_OK;
}
static uint32_t h_count(const lkm_create_args *, const char *k) { return params.count(k); }
static int h_number(const lkm_create_args *a, const char *k, uint32_t, double *o) {
    std::string v;
    int rc = get(a, k, &v);
    if (rc == LKM_OK) *o = std::stod(v);
    return rc;
}
static int h_dur(const lkm_create_args *a, const char *k, uint32_t, uint64_t *o) {
    std::string v;
    int rc = get(a, k, &v);
    if (rc == LKM_OK) *o = std::stoull(v);
    return rc;
}
static int h_str(const lkm_create_args *a, const char *k, uint32_t, const char **o) {
    static std::string v;
    int rc = get(a, k, &v);
    if (rc == LKM_OK) *o = v.c_str();
    return rc;
}
static void h_fail(const lkm_create_args *, const char *k, const char *m) { std::fprintf(stderr, "fail %s: %s\n", k ? k : "-", m); }
int main(int argc, char **argv) {
    const char *so = argv[1];
    uint64_t rate = std::stoull(argv[2]);
    uint64_t limit = std::stoull(argv[3]);
    for (int i = 4; i + 1 < argc; i += 2) params[argv[i]] = argv[i + 1];
    void *h = dlopen(so, RTLD_NOW);
    if (!h) {
        std::fprintf(stderr, "%s\n", dlerror());
        return 1;
    }
    auto *m = (const lkm_model *)dlsym(h, LKM_ENTRY_SYMBOL);
    lkm_create_args a{};
    a.struct_size = sizeof a;
    a.abi_version = LKM_ABI_VERSION;
    a.link_name = "x";
    a.rng.s[0] = 1;
    a.rng.s[1] = 2;
    a.rng.s[2] = 3;
    a.rng.s[3] = 4;
    a.count = h_count;
    a.number = h_number;
    a.duration_ns = h_dur;
    a.size_bytes = h_dur;
    a.rate_bps = h_dur;
    a.probability = h_number;
    a.string = h_str;
    a.path = h_str;
    a.fail = h_fail;
    a.link_rate_bps = rate;
    void *st = nullptr;
    if (m->create(&a, &st) != 0) return 1;
    std::deque<P> q;
    uint64_t bytes = 0;
    bool busy = false;
    uint64_t busy_start = 0, busy_bits = 0, busy_until = 0;
    auto state = [&](uint64_t now) { return lkm_queue_state{now, q.size(), bytes, rate}; };
    auto qp = [](const P &p) {
        lkm_queue_pkt x{};
        x.arrival_ns = p.t;
        x.len_bytes = x.wire_bytes = (uint32_t)p.size;
        x.flow = p.flow;
        x.ecn_capable = (uint8_t)p.ecn;
        return x;
    };
    auto start_next = [&](uint64_t now, bool freed) {
        if (busy) return;
        bool dropped = false;
        while (!q.empty()) {
            P p = q.front();
            q.pop_front();
            bytes -= p.size;
            const lkm_queue_pkt x = qp(p);
            const lkm_queue_state s = state(now);
            uint32_t v = m->dequeue(st, &x, &s);
            if (v == LKM_QUEUE_MARK && !p.ecn) v = LKM_QUEUE_DROP;
            if (v == LKM_QUEUE_DROP) {
                std::printf("%llu,drop,0\n", (unsigned long long)p.id);
                dropped = true;
                continue;
            }
            std::printf("%llu,%s,%llu\n", (unsigned long long)p.id, (p.marked || v == LKM_QUEUE_MARK) ? "mark" : "sent",
                        (unsigned long long)now);
            busy_bits += p.size * 8;
            busy_until = busy_start + (uint64_t)(((unsigned __int128)busy_bits * 1000000000u + rate - 1) / rate);
            busy = true;
            return;
        }
        if (freed || dropped) {
            const lkm_queue_state s = state(now);
            m->dequeue(st, nullptr, &s);
        }
    };
    std::string line;
    while (std::getline(std::cin, line)) {
        P p{};
        char c;
        std::istringstream in(line);
        in >> p.id >> c >> p.t >> c >> p.size >> c >> p.flow >> c >> p.ecn;
        while (busy && busy_until <= p.t) {
            busy = false;
            start_next(busy_until, true);
        }
        if (!busy && q.empty()) {
            busy_start = p.t;
            busy_bits = 0;
        }
        if (q.size() >= limit) {
            std::printf("%llu,drop,0\n", (unsigned long long)p.id);
        } else {
            const lkm_queue_pkt x = qp(p);
            const lkm_queue_state s = state(p.t);
            uint32_t v = m->enqueue(st, &x, &s);
            if (v == LKM_QUEUE_MARK && !p.ecn) v = LKM_QUEUE_DROP;
            if (v == LKM_QUEUE_DROP)
                std::printf("%llu,drop,0\n", (unsigned long long)p.id);
            else {
                p.marked = v == LKM_QUEUE_MARK;
                q.push_back(p);
                bytes += p.size;
            }
        }
        start_next(p.t, false);
    }
    while (busy) {
        busy = false;
        start_next(busy_until, true);
    }
}
