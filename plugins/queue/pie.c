/*
 * queue discipline "pie": Proportional Integral controller Enhanced, RFC 8033.
 *
 *   queue: {discipline: pie}                                  # target 15ms, tupdate 15ms
 *   queue: {discipline: pie, target: 20ms, ecn: yes, derandomize: yes}
 *
 * Parameters
 *   target        duration, above 0 (default 15ms): QDELAY_REF, the latency target
 *   tupdate       duration, above 0 (default 15ms): T_UPDATE, the period of the
 *                 drop probability's update
 *   alpha         number, 0 and up (default 0.125): weight of (delay - target), per second
 *   beta          number, 0 and up (default 1.25): weight of (delay - previous delay), per second
 *   max_burst     duration (default 150ms): MAX_BURST, the burst allowance
 *   ecn           yes or no (default no): mark CE instead of dropping an
 *                 ECN-capable packet while the drop probability is at most
 *                 mark_threshold (RFC 8033 section 5.1)
 *   mark_threshold probability (default 10%): the drop probability above which
 *                 ECN-capable packets are dropped too
 *   mean_pkt_size size (default 1000B): no random drop while at most twice this
 *                 many (wire) bytes wait (RFC 8033 section 4.1's MEAN_PKTSIZE;
 *                 ns-3's default)
 *   derandomize   yes or no (default no): RFC 8033 section 5.4's optional
 *                 de-randomization (the accumulated probability accu_prob)
 *   cap_drop_adjustment yes or no (default yes): RFC 8033 section 5.5's optional
 *                 cap of an increase at 2% once the probability is 10% or more
 *   burst         rfc (default) or ns3: the burst allowance of RFC 8033 section
 *                 4.4 (below), or ns-3 3.37's PieQueueDisc's: the allowance is
 *                 armed by the first arrival that finds it spent while no burst
 *                 is being tracked, the probability is held at 0 while it lasts,
 *                 and it is armed again only after 1.5 s of updates at which
 *                 drop_prob is 0 and both delays are below target/2 (ns-3's
 *                 NO_BURST, IN_BURST_PROTECTING, IN_BURST)
 *
 * What is implemented, by section of RFC 8033:
 *   4.1 random dropping at enqueue: no drop while the burst allowance lasts,
 *       or while (qdelay_old < target/2 and drop_prob < 20%), or while at
 *       most 2 mean_pkt_size bytes wait; else drop (or mark) with
 *       probability drop_prob, drawn from the instance's seeded stream.
 *   4.2 the update every tupdate: p = alpha (qdelay - target) + beta
 *       (qdelay - qdelay_old), scaled down while drop_prob is small (the
 *       "suggested" auto-tuning: /2048 below 0.0001%, /512 below 0.001%,
 *       /128 below 0.01%, /32 below 0.1%, /8 below 1%, /2 below 10%); the
 *       decay drop_prob *= 0.98 when both delays are 0; drop_prob bound to
 *       [0, 1]. Updates fall at multiples of tupdate on linkem's clock (as
 *       ns-3's timer from time 0); every call first runs, in order, the
 *       updates whose time has come (now_ns may jump over several).
 *   4.3 the queue delay from timestamps (the departing packets' sojourn
 *       times, as RFC 8033 Appendix A's basic PIE): qdelay is the sojourn
 *       time of the last packet to leave, and 0 once the queue is found
 *       empty (dequeue(NULL); Linux's rule). The dequeue-rate estimation of
 *       section 5.2 is not implemented (and the link's rate is not needed).
 *   4.4 burst tolerance: burst_allowance starts at max_burst, loses tupdate
 *       at each update, and is max_burst again after an update at which
 *       drop_prob is 0 and both delays are below target/2. drop_prob is
 *       updated (4.2) while the allowance lasts; only the drops wait.
 *   5.1 ECN with the 10% limit; 5.4 de-randomization (optional, off by
 *       default as in ns-3); 5.5 the cap (on by default as in ns-3).
 *   Not implemented: 5.2 (dequeue rate), 5.3 (PIE active only above a
 *   queue threshold: it is always active, as ns-3 by default). The RFC's
 *   reset of accu_prob when the queue is full is the host's drop, unseen here.
 *
 * Extensions: linkem.carry (the random stream, drop_prob, the delays, the
 * burst allowance, burst: ns3's state and the next update's time go on; from
 * burst: rfc to ns3 the state is IN_BURST_PROTECTING) and linkem.reset.
 *
 * See also: codel, red; docs/QUEUES.md.
 */
#include "queue_common.h"

#include <stdlib.h>
#include <string.h>

/* burst: ns3's states (ns-3's BurstStateT). */
enum { NO_BURST, IN_BURST, IN_BURST_PROTECTING };

typedef struct pie_vars {
    double drop_prob, accu_prob;
    uint64_t qdelay_ns, qdelay_old_ns; /* current_qdelay and qdelay_old */
    uint64_t burst_allowance_ns;
    uint64_t next_update_ns;
    int burst_state;       /* burst: ns3 */
    uint32_t burst_resets; /* burst: ns3: calm updates counted in IN_BURST */
} pie_vars;

typedef struct pie {
    lkm_rng rng;
    uint64_t target_ns, tupdate_ns, max_burst_ns, mean_pkt_bytes;
    double alpha, beta, mark_threshold;
    int ecn, derandomize, cap;
    int ns3_burst;              /* burst: ns3 */
    uint32_t burst_reset_limit; /* burst: ns3: 1.5 s in updates */
    pie_vars v;
} pie;

static void vars_init(const pie *s, pie_vars *v) {
    memset(v, 0, sizeof *v);
    v->burst_allowance_ns = s->ns3_burst ? 0 : s->max_burst_ns; /* ns3: armed by the first arrival */
    v->burst_state = NO_BURST;
    v->next_update_ns = s->tupdate_ns;
}

static int create(const lkm_create_args *args, void **state) {
    uint64_t target = 15000000, tupdate = 15000000, max_burst = 150000000, mean_pkt = 1000;
    double alpha = 0.125, beta = 1.25, mark_threshold = 0.1;
    int ecn = 0, derandomize = 0, cap = 1, bad = 0;
    const char *burst = "rfc";
    bad |= args->duration_ns(args, "target", 0, &target) == LKM_INVALID;
    bad |= args->duration_ns(args, "tupdate", 0, &tupdate) == LKM_INVALID;
    bad |= args->duration_ns(args, "max_burst", 0, &max_burst) == LKM_INVALID;
    bad |= args->size_bytes(args, "mean_pkt_size", 0, &mean_pkt) == LKM_INVALID;
    bad |= args->number(args, "alpha", 0, &alpha) == LKM_INVALID;
    bad |= args->number(args, "beta", 0, &beta) == LKM_INVALID;
    bad |= args->probability(args, "mark_threshold", 0, &mark_threshold) == LKM_INVALID;
    bad |= queue_read_flag(args, "ecn", &ecn) != 0;
    bad |= queue_read_flag(args, "derandomize", &derandomize) != 0;
    bad |= queue_read_flag(args, "cap_drop_adjustment", &cap) != 0;
    bad |= args->string(args, "burst", 0, &burst) == LKM_INVALID;
    if (bad) return -1;
    if (strcmp(burst, "rfc") != 0 && strcmp(burst, "ns3") != 0) {
        args->fail(args, "burst", "expected rfc or ns3");
        return -1;
    }
    if (target == 0 || tupdate == 0) {
        args->fail(args, target == 0 ? "target" : "tupdate", "must be above 0");
        return -1;
    }
    if (!(alpha >= 0) || !(beta >= 0)) {
        args->fail(args, !(alpha >= 0) ? "alpha" : "beta", "must be 0 or more");
        return -1;
    }
    pie *s = calloc(1, sizeof *s);
    if (s == NULL) return -1;
    s->rng = args->rng;
    s->target_ns = target;
    s->tupdate_ns = tupdate;
    s->max_burst_ns = max_burst;
    s->mean_pkt_bytes = mean_pkt;
    s->alpha = alpha;
    s->beta = beta;
    s->mark_threshold = mark_threshold;
    s->ecn = ecn;
    s->derandomize = derandomize;
    s->cap = cap;
    s->ns3_burst = strcmp(burst, "ns3") == 0;
    s->burst_reset_limit = (uint32_t)(1.5 / ((double)tupdate / 1e9)); /* ns-3's BURST_RESET_TIMEOUT / Tupdate */
    vars_init(s, &s->v);
    *state = s;
    return 0;
}

static void destroy(void *state) { free(state); }

/* RFC 8033 section 4.2 (and 4.4's burst allowance): one update. */
static void calculate_drop_prob(pie *s) {
    pie_vars *v = &s->v;
    const double qdelay = (double)v->qdelay_ns * 1e-9, old = (double)v->qdelay_old_ns * 1e-9;
    const double target = (double)s->target_ns * 1e-9;
    double p = s->alpha * (qdelay - target) + s->beta * (qdelay - old);
    if (s->ns3_burst && v->burst_allowance_ns > 0) /* ns-3: no update while the allowance lasts */
        p = v->drop_prob = 0;
    /* The suggested auto-tuning: smaller steps while drop_prob is small. */
    else if (v->drop_prob < 0.000001)
        p /= 2048;
    else if (v->drop_prob < 0.00001)
        p /= 512;
    else if (v->drop_prob < 0.0001)
        p /= 128;
    else if (v->drop_prob < 0.001)
        p /= 32;
    else if (v->drop_prob < 0.01)
        p /= 8;
    else if (v->drop_prob < 0.1)
        p /= 2;
    if (s->cap && v->drop_prob >= 0.1 && p > 0.02) p = 0.02; /* section 5.5 */
    v->drop_prob += p;
    if (v->qdelay_ns == 0 && v->qdelay_old_ns == 0) v->drop_prob *= 0.98; /* decay once congestion is gone */
    if (v->drop_prob < 0) v->drop_prob = 0;
    if (v->drop_prob > 1) v->drop_prob = 1;
    v->burst_allowance_ns = v->burst_allowance_ns > s->tupdate_ns ? v->burst_allowance_ns - s->tupdate_ns : 0;
    const int calm = v->drop_prob == 0 && 2 * v->qdelay_ns < s->target_ns && 2 * v->qdelay_old_ns < s->target_ns;
    if (!s->ns3_burst) {
        if (calm) v->burst_allowance_ns = s->max_burst_ns;
    } else if (calm && v->burst_allowance_ns == 0) {
        if (v->burst_state == IN_BURST_PROTECTING) {
            v->burst_state = IN_BURST;
            v->burst_resets = 0;
        } else if (v->burst_state == IN_BURST && ++v->burst_resets > s->burst_reset_limit) {
            v->burst_resets = 0;
            v->burst_state = NO_BURST; /* the next arrival arms the allowance */
        }
    } else if (v->burst_state == IN_BURST) {
        v->burst_resets = 0;
    }
    v->qdelay_old_ns = v->qdelay_ns;
}

/* Runs the updates due by now, in order. The delay does not change between
 * them, so once an update leaves the state as it found it, so would all the
 * others: they are skipped (an idle hour is not 240000 updates). */
static void catch_up(pie *s, uint64_t now) {
    pie_vars *v = &s->v;
    while (now >= v->next_update_ns) {
        const double before_prob = v->drop_prob;
        const uint64_t before_old = v->qdelay_old_ns, before_burst = v->burst_allowance_ns;
        const int before_state = v->burst_state;
        const uint32_t before_resets = v->burst_resets;
        calculate_drop_prob(s);
        v->next_update_ns += s->tupdate_ns;
        if (v->drop_prob == before_prob && v->qdelay_old_ns == before_old && v->burst_allowance_ns == before_burst &&
            v->burst_state == before_state && v->burst_resets == before_resets && now >= v->next_update_ns)
            v->next_update_ns += (now - v->next_update_ns) / s->tupdate_ns * s->tupdate_ns + s->tupdate_ns;
    }
}

/* RFC 8033 section 4.1 (with 5.4's de-randomization): drop this arrival? */
static int drop_early(pie *s, uint64_t backlog_bytes) {
    pie_vars *v = &s->v;
    if (v->burst_allowance_ns > 0) return 0;
    if (s->ns3_burst && v->burst_state == NO_BURST) { /* ns-3: this arrival arms the allowance, and may be dropped */
        v->burst_state = IN_BURST_PROTECTING;
        v->burst_allowance_ns = s->max_burst_ns;
    }
    if ((2 * v->qdelay_old_ns < s->target_ns && v->drop_prob < 0.2) || backlog_bytes <= 2 * s->mean_pkt_bytes) return 0;
    if (s->derandomize) {
        if (v->drop_prob == 0) v->accu_prob = 0;
        v->accu_prob += v->drop_prob;
        if (v->accu_prob < 0.85) return 0;
        if (v->accu_prob >= 8.5) return 1;
    }
    if (lkm_rng_uniform(&s->rng) < v->drop_prob) return 1;
    return 0;
}

static uint32_t enqueue(void *state, const lkm_queue_pkt *pkt, const lkm_queue_state *q) {
    pie *s = state;
    catch_up(s, q->now_ns);
    if (!drop_early(s, q->backlog_bytes)) return LKM_QUEUE_PASS;
    s->v.accu_prob = 0;
    if (s->ecn && pkt->ecn_capable && s->v.drop_prob <= s->mark_threshold) return LKM_QUEUE_MARK;
    return LKM_QUEUE_DROP;
}

static uint32_t dequeue(void *state, const lkm_queue_pkt *pkt, const lkm_queue_state *q) {
    pie *s = state;
    catch_up(s, q->now_ns);
    if (pkt == NULL)
        s->v.qdelay_ns = 0; /* the queue is empty */
    else
        s->v.qdelay_ns = q->now_ns > pkt->arrival_ns ? q->now_ns - pkt->arrival_ns : 0;
    return LKM_QUEUE_PASS;
}

static void reset(void *state) {
    pie *s = state;
    const uint64_t next = s->v.next_update_ns; /* the update clock is linkem's: it goes on */
    vars_init(s, &s->v);
    s->v.next_update_ns = next;
}
static const lkm_ext_reset reset_ext = {.struct_size = sizeof(lkm_ext_reset), .reset = reset};
/* A new instance with other parameters goes on from this one's state. */
static void carry(void *new_state, const void *old_state) {
    pie *to = new_state;
    const pie *from = old_state;
    to->rng = from->rng;
    to->v = from->v;
    if (to->v.burst_allowance_ns > to->max_burst_ns) to->v.burst_allowance_ns = to->max_burst_ns;
    /* From burst: rfc to ns3: a burst is being tracked (NO_BURST would arm an
     * allowance, and hold the probability at 0, in the middle of congestion). */
    if (to->ns3_burst && !from->ns3_burst) {
        to->v.burst_state = IN_BURST_PROTECTING;
        to->v.burst_resets = 0;
    }
}
static const lkm_ext_carry carry_ext = {.struct_size = sizeof(lkm_ext_carry), .carry = carry};
static const void *get_extension(const char *id) {
    if (strcmp(id, LKM_EXT_CARRY) == 0) return &carry_ext;
    if (strcmp(id, LKM_EXT_RESET) == 0) return &reset_ext;
    return NULL;
}

static const lkm_param_info params[] = {
    {"target", "duration", "latency target (QDELAY_REF); default 15ms"},
    {"tupdate", "duration", "drop probability update period (T_UPDATE); default 15ms"},
    {"alpha", "number", "weight of delay - target, 1/s; default 0.125"},
    {"beta", "number", "weight of the delay's change, 1/s; default 1.25"},
    {"max_burst", "duration", "burst allowance (MAX_BURST); default 150ms"},
    {"ecn", "string", "yes or no: mark ECN-capable packets instead of dropping; default no"},
    {"mark_threshold", "probability", "with ecn, drop instead of marking above this drop probability; default 10%"},
    {"mean_pkt_size", "size", "no random drop while at most twice this waits; default 1000B"},
    {"derandomize", "string", "yes or no: RFC 8033 5.4's de-randomization; default no"},
    {"cap_drop_adjustment", "string", "yes or no: RFC 8033 5.5's 2% cap on increases; default yes"},
    {"burst", "string", "rfc (RFC 8033 4.4's burst allowance) or ns3 (ns-3 3.37's burst states); default rfc"},
};

LKM_EXPORT const lkm_model lkm_entry = {
    .struct_size = sizeof(lkm_model),
    .abi_version = LKM_ABI_VERSION,
    .name = "pie",
    .kind = LKM_KIND_QUEUE,
    .description = "PIE (RFC 8033): random drop at enqueue, its probability steered to a delay target",
    .params = params,
    .param_count = sizeof params / sizeof params[0],
    .create = create,
    .destroy = destroy,
    .get_extension = get_extension,
    .enqueue = enqueue,
    .dequeue = dequeue,
};
