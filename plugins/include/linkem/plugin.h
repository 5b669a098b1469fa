/*
 * linkem plugin ABI: the one header a loss, delay or bandwidth model compiles
 * against. C11 or C++; no other linkem header is needed.
 *
 * A plugin is a shared object that exports exactly one symbol, the constant
 * descriptor LKM_ENTRY_SYMBOL ("lkm_entry"), of type lkm_model. linkem loads
 * it with dlopen(), checks the descriptor, and then, for every link that uses
 * the model, calls create() once and the model's burst function for every
 * burst of packets.
 *
 * COMPATIBILITY RULE
 *   - abi_version is (major << 16) | minor. linkem loads a plugin only when
 *     its major equals the host's and its minor is <= the host's.
 *   - A minor version only appends fields at the end of structs; it never
 *     moves, removes or changes one. Every struct passed either way starts
 *     with its struct_size, so each side can tell which fields the other has.
 *   - A new major version may change anything; plugins must be rebuilt.
 *
 * THREAD CONTRACTS (in brackets on every callback)
 *   [control thread]  called from linkem's main thread at start-up or shutdown;
 *                     may allocate, read files, and take its time.
 *   [lcore, hot path] called on a data-path lcore once per burst (or per
 *                     packet for bandwidth models): no allocation, no locks,
 *                     no system calls, no logging, no blocking. The instance
 *                     state belongs to that one lcore: no synchronisation.
 *
 * DETERMINISM
 *   Each instance gets its own random stream (lkm_create_args.rng), derived by
 *   the host from the configuration's seed, the link's name and the model's
 *   kind. A model that draws only from it, and keeps no global state, makes
 *   the same decisions for the same seed and the same packets: linkem-sim
 *   relies on this to reproduce runs byte for byte.
 *
 * TIME AND UNITS
 *   Times are nanoseconds on linkem's clock (0 = when linkem started), lengths
 *   are bytes. A frame's "wire length" includes the link's configured
 *   framing overhead (for example 24 bytes of Ethernet preamble, FCS and gap).
 *
 * RESULTS (docs/PLUGINS.md, "Results")
 *   No time a model produces (a finish time, exit_ns + a delay) may exceed
 *   LKM_TIME_LIMIT_NS. A result outside a callback's contract (below) is not
 *   used: linkem drops the packet as `model_error` and reports the model and
 *   its first bad value. Output arrays are exactly n entries long.
 *
 * See docs/PLUGINS.md for a walk-through, and plugins/template/ for a model
 * that builds out of the tree.
 */
#ifndef LINKEM_PLUGIN_H
#define LINKEM_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define LKM_ABI_MAJOR 1
#define LKM_ABI_MINOR 3
#define LKM_ABI_VERSION ((LKM_ABI_MAJOR << 16) | LKM_ABI_MINOR)
#define LKM_ENTRY_SYMBOL "lkm_entry"

/* The latest time a model may produce: 2^62 ns, about 146 years. */
#define LKM_TIME_LIMIT_NS (UINT64_C(1) << 62)

/* Put this before the descriptor so that it is the one exported symbol. */
#if defined(__GNUC__)
#define LKM_EXPORT __attribute__((visibility("default")))
#else
#define LKM_EXPORT
#endif

typedef enum lkm_kind {
    LKM_KIND_LOSS = 1,      /* decides which packets are lost on the link */
    LKM_KIND_DELAY = 2,     /* adds propagation or jitter delay after the link */
    LKM_KIND_BANDWIDTH = 3, /* decides when a frame has finished crossing the link */
    LKM_KIND_QUEUE = 4      /* ABI 1.3: a queue discipline (AQM): admits, drops or marks a queued
                               packet when it arrives and when its transmission would start */
} lkm_kind;

/* One packet as a model sees it. */
typedef struct lkm_pkt {
    uint64_t arrival_ns; /* when linkem received it */
    uint64_t exit_ns;    /* when it left the emulated link (after queue and bandwidth) */
    uint32_t len_bytes;  /* frame length as received, without FCS */
    uint32_t wire_bytes; /* len_bytes plus the link's framing overhead */
} lkm_pkt;

/* ABI 1.3: a packet as a queue discipline (LKM_KIND_QUEUE) sees it. */
typedef struct lkm_queue_pkt {
    uint64_t arrival_ns; /* when it reached the link's queue */
    uint32_t len_bytes;  /* frame length as received, without FCS */
    uint32_t wire_bytes; /* len_bytes plus the link's framing overhead */
    uint32_t flow;       /* the flow's queue number under a fair-queueing scheduler, else 0 */
    uint8_t ecn_capable; /* 1: IP with ECT(0), ECT(1) or CE, so it may be marked instead of dropped */
    uint8_t reserved[3];
} lkm_queue_pkt;

/* ABI 1.3: the queue a discipline decides for, at the instant of the call. */
typedef struct lkm_queue_state {
    uint64_t now_ns;          /* the decision's instant on the link model's clock */
    uint64_t backlog_packets; /* packets waiting in this queue (see enqueue and dequeue for which) */
    uint64_t backlog_bytes;   /* their wire bytes */
    uint64_t link_rate_bps;   /* the link's rate at now_ns when its bandwidth model states one, else 0 */
} lkm_queue_state;

/* ABI 1.3: a queue discipline's verdicts. MARK on a packet that is not
 * ecn_capable counts and acts as DROP (a discipline asked to use ECN
 * returns MARK for congestion signals and lets the host fall back). */
#define LKM_QUEUE_PASS 0
#define LKM_QUEUE_DROP 1
#define LKM_QUEUE_MARK 2

/* The host's random generator, xoshiro256**: fast, and the same in every
 * build. Use only the instance's own stream from lkm_create_args.rng. */
typedef struct lkm_rng {
    uint64_t s[4];
} lkm_rng;

static inline uint64_t lkm_rng_rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

/* A uniformly distributed 64-bit value. */
static inline uint64_t lkm_rng_next(lkm_rng *r) {
    const uint64_t result = lkm_rng_rotl(r->s[1] * 5, 7) * 9;
    const uint64_t t = r->s[1] << 17;
    r->s[2] ^= r->s[0];
    r->s[3] ^= r->s[1];
    r->s[1] ^= r->s[2];
    r->s[0] ^= r->s[3];
    r->s[2] ^= t;
    r->s[3] = lkm_rng_rotl(r->s[3], 45);
    return result;
}

/* A uniformly distributed double in [0, 1), with 53 random bits. */
static inline double lkm_rng_uniform(lkm_rng *r) {
    const double bits = lkm_rng_next(r) >> 11; /* exact: fits in a double's 53-bit mantissa */
    return bits * (1.0 / 9007199254740992.0);
}

/* Results of the parameter accessors. */
#define LKM_OK 0     /* the value was written to *out */
#define LKM_ABSENT 1 /* the key was not given: *out is untouched (keep your default) */
#define LKM_INVALID                                                        \
    -1 /* the key was given but is not of that type or index: the host has \
          recorded an error naming the parameter; return -1 from create */

/* What create() receives. The accessors read the model's parameters from the
 * configuration, in the units linkem parses everywhere (docs/CONFIG.md,
 * "Units"); `index` selects an element of a list parameter (0 for a plain
 * value). Every parameter the configuration gives must be read at least once
 * during create(): linkem reports the others as unknown. */
typedef struct lkm_create_args lkm_create_args;
struct lkm_create_args {
    uint32_t struct_size; /* sizeof(lkm_create_args) as the host was built */
    uint32_t abi_version; /* the host's LKM_ABI_VERSION */

    const char *link_name; /* for messages */
    lkm_rng rng;           /* this instance's own seeded stream: copy it into your state */

    /* [control thread, during create only] Number of values given for key:
     * 0 when absent, 1 for a plain value, the length for a list. */
    uint32_t (*count)(const lkm_create_args *args, const char *key);
    /* A plain number such as 3, 0.5 or 1e-6. */
    int (*number)(const lkm_create_args *args, const char *key, uint32_t index, double *out);
    /* A duration such as 20ms, in ns. */
    int (*duration_ns)(const lkm_create_args *args, const char *key, uint32_t index, uint64_t *out);
    /* A rate such as 100Mbit/s, in bit/s. */
    int (*rate_bps)(const lkm_create_args *args, const char *key, uint32_t index, uint64_t *out);
    /* A size such as 1500B or 64KiB, in bytes. */
    int (*size_bytes)(const lkm_create_args *args, const char *key, uint32_t index, uint64_t *out);
    /* A probability such as 1% or 0.5%, in [0, 1] (a bare number other than 0 is refused: write 0.5% or 50%). */
    int (*probability)(const lkm_create_args *args, const char *key, uint32_t index, double *out);
    /* Any text; the pointer is valid until create() returns. */
    int (*string)(const lkm_create_args *args, const char *key, uint32_t index, const char **out);
    /* A file name, resolved relative to the configuration file's directory;
     * valid until create() returns. */
    int (*path)(const lkm_create_args *args, const char *key, uint32_t index, const char **out);
    /* Records an error about parameter key (or about the model as a whole when
     * key is NULL); linkem prints it as "file:line:col: links[0].loss.key: message".
     * Return -1 from create() afterwards. */
    void (*fail)(const lkm_create_args *args, const char *key, const char *message);

    void *host_private; /* the host's; do not touch */

    /* ---- ABI 1.2 ---- The link the instance serves, as far as the host
     * knows it at creation. Read these only when struct_size covers them
     * (a plugin built for 1.2 always runs in a host of 1.2 or later, so it
     * may; a plugin that supports older hosts checks
     * args->struct_size >= offsetof(lkm_create_args, max_burst) + sizeof(uint32_t)). */
    uint64_t link_rate_bps;  /* the link's rate when it is constant (its bandwidth model states one
                                rate, lkm_ext_bounds), else 0: unknown, or no bandwidth limit.
                                Always 0 for the bandwidth model itself. */
    uint32_t overhead_bytes; /* the link's framing overhead per frame (wire_bytes - len_bytes for
                                frames of 60 bytes and more); 0 with overhead: none */
    uint32_t max_burst;      /* n never exceeds this in loss_burst and delay_burst (512 today) */
};

/* A parameter, as --list-plugins and the documentation show it. */
typedef struct lkm_param_info {
    const char *name;        /* "mean" */
    const char *type;        /* "duration", "rate", "size", "probability", "number", "string", "path", or "list of ..." */
    const char *description; /* "mean delay; default 0" */
} lkm_param_info;

/* The descriptor a plugin exports as LKM_ENTRY_SYMBOL. */
typedef struct lkm_model {
    uint32_t struct_size;         /* sizeof(lkm_model) as the plugin was built */
    uint32_t abi_version;         /* LKM_ABI_VERSION as the plugin was built */
    const char *name;             /* the model's name in configurations: lower case, digits, '_' */
    uint32_t kind;                /* an lkm_kind */
    const char *description;      /* one line */
    const lkm_param_info *params; /* param_count entries */
    uint32_t param_count;

    /* [control thread] Builds an instance for one link. Returns 0 and sets
     * *state to a non-NULL pointer (0 with NULL is refused at load), or
     * returns -1 after calling args->fail(). */
    int (*create)(const lkm_create_args *args, void **state);
    /* [control thread] Frees an instance; state may be NULL. */
    void (*destroy)(void *state);

    /* Exactly the one matching `kind` must be set; the others stay NULL. */

    /* [lcore, hot path] LKM_KIND_LOSS: for each of n packets, drop[i] = 1 to
     * lose it, 0 to keep it (drop[] arrives uninitialised: set every entry,
     * and no more than n; any other value is a model error).
     * Called in arrival order, after the queue and the bandwidth model, so
     * exit_ns is set. */
    void (*loss_burst)(void *state, const lkm_pkt *pkts, uint32_t n, uint8_t *drop);

    /* [lcore, hot path] LKM_KIND_DELAY: for each of n packets, the delay in ns
     * added after it leaves the link (release = exit_ns + delay_ns[i], at most
     * LKM_TIME_LIMIT_NS: beyond, a model error); set every entry, and no more
     * than n. Called for the packets the loss model kept. The host keeps
     * releases in order (links[].order, docs/CONFIG.md). */
    void (*delay_burst)(void *state, const lkm_pkt *pkts, uint32_t n, uint64_t *delay_ns);

    /* [lcore, hot path] LKM_KIND_BANDWIDTH: a frame of wire_bytes starts
     * crossing the link at start_ns (never earlier than the previous frame's
     * finish): when has it finished? Returns a time >= start_ns and <=
     * LKM_TIME_LIMIT_NS (else a model error: the frame is dropped and takes
     * no link time). Called once per packet that the queue admits, in order. */
    uint64_t (*finish_ns)(void *state, uint64_t start_ns, uint32_t wire_bytes);

    /* ---- ABI 1.1 ---- (the host reads these only when struct_size covers them) */

    /* [control thread] Optional, LKM_KIND_LOSS only; superseded in 1.2 by
     * lkm_ext_bounds.loss (read first when both are set): the fraction of packets
     * the instance loses in the long run (its stationary loss probability),
     * in [0, 1], or a negative value when it depends on the traffic (for
     * example on frame lengths). linkem reports it beside the measured loss.
     * NULL: unknown. */
    double (*expected_loss)(const void *state);

    /* ---- ABI 1.2 ---- */

    /* [control thread] Optional: the extension with this id (one of the
     * LKM_EXT_* below), or NULL when the model does not implement it. The
     * answer must depend on id alone (not on an instance) and its struct
     * must live as long as the plugin is loaded (a static const). linkem
     * asks when it loads the plugin (to check the extensions) and when it
     * creates an instance; a model that leaves get_extension NULL
     * implements none. */
    const void *(*get_extension)(const char *id);

    /* ---- ABI 1.3 ---- LKM_KIND_QUEUE only (lkm_queue_pkt and the verdicts
     * below); both must be set for that kind and NULL for the others. */

    /* [lcore, hot path] A packet arrives at the link's queue at q->now_ns
     * (= pkt->arrival_ns). The host has already checked the link's hard
     * limits (queue: limit, in packets and bytes): a packet over them is
     * dropped as overload without this call (under a fair-queueing
     * scheduler the packet is queued after this call, and the overload
     * drops the fattest queue's head instead). Returns LKM_QUEUE_PASS to
     * admit it, LKM_QUEUE_DROP to drop it, LKM_QUEUE_MARK to admit it
     * marked CE. q counts the packets waiting before this one. */
    uint32_t (*enqueue)(void *state, const lkm_queue_pkt *pkt, const lkm_queue_state *q);

    /* [lcore, hot path] The link is free at q->now_ns and pkt is the head of
     * the queue: its transmission would start now (its sojourn time is
     * q->now_ns - pkt->arrival_ns). Returns LKM_QUEUE_PASS to send it,
     * LKM_QUEUE_DROP to drop it (the host then calls dequeue again, at the
     * same now_ns, with the next head, if any), LKM_QUEUE_MARK to send it
     * marked CE. q counts the packets still waiting, without pkt (after it
     * left the queue).
     * pkt == NULL: the link became free at q->now_ns and found the queue
     * empty (called once per busy period, when it ends; under a scheduler,
     * each time the round finds this queue empty: RFC 8290's new list, then
     * the old one; the result is ignored), as CoDel's dequeue of an empty
     * queue.
     * now_ns never decreases from one call (enqueue or dequeue) to the
     * next, but may jump by any amount: a model with periodic work (PIE's
     * tupdate) catches up on it from now_ns. */
    uint32_t (*dequeue)(void *state, const lkm_queue_pkt *pkt, const lkm_queue_state *q);
} lkm_model;

/* ---- Extensions (ABI 1.2) ----
 * Each is a struct of callbacks that starts with its struct_size, found by
 * its id through lkm_model.get_extension. A later minor ABI may append
 * callbacks to an extension (the host reads them only when struct_size
 * covers them) or add extensions with new ids; an id's existing fields
 * never change. docs/PLUGINS.md, "Extensions", walks through each. */

/* "linkem.reset": forget what the instance learnt from the packets it saw.
 * A per-flow template (links[].per_flow) reuses an instance for a new flow
 * once the old one went quiet; linkem calls reset() on each of the
 * instance's models before its first packet, so the new flow does not
 * inherit (say) a Gilbert-Elliott "bad" state. Without the extension the
 * instance goes on in the state its previous flow left. */
#define LKM_EXT_RESET "linkem.reset"
typedef struct lkm_ext_reset {
    uint32_t struct_size; /* sizeof(lkm_ext_reset) as the plugin was built */
    /* [lcore, hot path] Returns the state to what create() made of the
     * parameters: chains to their initial state, counters and windows to
     * zero, caches of the previous frames emptied. The random stream goes
     * on (do not rewind it: successive flows would draw the same numbers).
     * Times the model keeps on linkem's clock (a schedule's position)
     * stay valid: the clock does not restart; the next call's times are
     * later than any the instance saw. No allocation: the state's memory
     * is reused as it is. */
    void (*reset)(void *state);
} lkm_ext_reset;

/* "linkem.bounds": what the model promises about its results, read once
 * after create(). linkem uses them to size the delay arena, to know how
 * soon a packet can be due (the transmit lcore naps no longer than the
 * smallest delay) and for the expectations printed beside the measured
 * figures. Set the one callback of the model's kind; leave the others
 * NULL. Each returns 0 after filling its outputs, or -1 when this instance
 * has no bound to state (its outputs are then ignored).
 * A bound must hold for every result the instance returns: a delay below
 * min_ns would be released late (the arena and the nap trust it). */
#define LKM_EXT_BOUNDS "linkem.bounds"
#define LKM_UNBOUNDED UINT64_MAX /* a max_ns or max_bps with no finite bound */
typedef struct lkm_ext_bounds {
    uint32_t struct_size; /* sizeof(lkm_ext_bounds) as the plugin was built */
    /* [control thread] LKM_KIND_DELAY: every delay_ns[i] delay_burst writes is
     * in [*min_ns, *max_ns]; *max_ns may be LKM_UNBOUNDED. */
    int (*delay_ns)(const void *state, uint64_t *min_ns, uint64_t *max_ns);
    /* [control thread] LKM_KIND_BANDWIDTH: the link never carries more than
     * *max_bps, and while it has frames to send never fewer than *min_bps,
     * at any moment (0: it may stall). A constant rate gives both equal.
     * In bits per second of wire bytes. */
    int (*rate_bps)(const void *state, uint64_t *min_bps, uint64_t *max_bps);
    /* [control thread] LKM_KIND_LOSS: the fraction of packets the instance
     * loses in the long run (its stationary loss probability), in [0, 1],
     * into *long_run; returns -1 when that depends on the traffic (for
     * example on frame lengths).
     * Replaces ABI 1.1's expected_loss, which linkem still reads from a
     * model without this callback. */
    int (*loss)(const void *state, double *long_run);
} lkm_ext_bounds;

/* "linkem.carry": a running instance's state taken over by a new instance
 * of the same model with other parameters. A runtime change (`linkemctl
 * set`, SIGHUP, a timeline) that gives a link's model new parameters
 * creates a new instance from them on the control thread; at the swap, on
 * the link's lcore, linkem calls carry(new_state, old_state) when both are
 * instances of this very model (the same descriptor), and then destroys
 * the old one on the control thread. Copy what the instance learnt and
 * where it stands, not its parameters: the random stream (so the draws go
 * on where the old instance left them), a chain's current state, a
 * schedule's position. Without the extension (or for a different model)
 * the new instance starts as create() made it, with a random stream of its
 * own (docs/PLUGINS.md, "Runtime changes"). */
#define LKM_EXT_CARRY "linkem.carry"
typedef struct lkm_ext_carry {
    uint32_t struct_size; /* sizeof(lkm_ext_carry) as the plugin was built */
    /* [lcore, hot path: no allocation, no locks, no logging] old_state
     * belongs to an instance of the same model; it is not used again
     * except to be destroyed. */
    void (*carry)(void *new_state, const void *old_state);
} lkm_ext_carry;

#ifdef __cplusplus
}
#endif

#endif /* LINKEM_PLUGIN_H */
