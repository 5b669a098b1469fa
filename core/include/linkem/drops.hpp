// The one list of drop reasons: a link's (LINKEM_LINK_DROPS) and an arrival
// port's (LINKEM_PORT_DROPS). Everything else is generated from these lists:
//   - Fate::kDrop<Camel> (link_model.hpp), a model's verdict, for a link drop counted on the rx side;
//   - DropReason::k<Camel> and drop_reason_name() / drop_reason_text() (stats.hpp);
//   - the counters RxCounters::drop_<name> or TxCounters::drop_<name>, and
//     IngressCounters::drop_<name> / PortClassifySnapshot::drop_<name> for a port drop;
//   - the snapshot (LinkSnapshot::drops[DropReason::k<Camel>]), the names in the
//     status line and the summary ("drops: queue=0 loss=3 ..."), the keys of the
//     JSON "drops" objects, and the accounting identity (LinkSnapshot::balanced()
//     sums every reason).
// A new drop reason is one line here, plus the code that counts it (for an
// rx-side link drop, a model's verdict or add_drop(); otherwise the counter's add()).
// docs/ARCHITECTURE.md "Counters and drop reasons" says the same for a reader.
#pragma once

// X(name, Camel, side, judged, description)
//   name         the counter's suffix, the name in the text reports, the key in the JSON
//   Camel        the enumerator: DropReason::k<Camel>; with side rx also Fate::kDrop<Camel>
//   side         rx: counted by the link's rx/model stage (RxCounters), a model's verdict;
//                tx: counted by the link's tx stage (TxCounters)
//   judged       1 when the loss model had judged the packet before it was dropped
//                (LinkSnapshot::offered_to_loss() counts it), else 0
//   description  why the packet was dropped, for a reader
#define LINKEM_LINK_DROPS(X)                                                                                             \
    X(queue, Queue, rx, 0, "the link's queue was full when it arrived (queue_limit)")                                    \
    X(loss, Loss, rx, 1, "the loss model dropped it")                                                                    \
    X(order, Order, rx, 1, "order: drop, and it would have been released before a packet that arrived earlier")          \
    X(arena_full, ArenaFull, rx, 0, "the link's delay arena had no room for it")                                         \
    X(tx_full, TxFull, tx, 1, "the port's transmit queue stayed full at its release")                                    \
    X(shutdown, Shutdown, tx, 1, "the link still held it when the run stopped")                                          \
    X(model_error, ModelError, rx, 0, "a model's result for it broke the plugin contract (docs/PLUGINS.md \"Results\")") \
    X(aqm_drop, AqmDrop, rx, 0, "the link's queue discipline dropped it (at its arrival or at its transmission start)")

// X(name, description): counted at an arrival port, before any link (IngressCounters::drop_<name>).
#define LINKEM_PORT_DROPS(X)                                                \
    X(rule, "a rule with action drop matched it")                           \
    X(unclassified, "no rule matched it and the port's default is to drop") \
    X(flow_limit, "its per-flow template had every instance taken and none to recycle")

// For the generators: LINKEM_DROP_IF_RX(side, ...) is the rest for side rx and nothing for tx;
// LINKEM_DROP_IF_TX the other way round.
#define LINKEM_DROP_IF_RX(side, ...) LINKEM_DROP_IF_RX_##side(__VA_ARGS__)
#define LINKEM_DROP_IF_RX_rx(...) __VA_ARGS__
#define LINKEM_DROP_IF_RX_tx(...)
#define LINKEM_DROP_IF_TX(side, ...) LINKEM_DROP_IF_TX_##side(__VA_ARGS__)
#define LINKEM_DROP_IF_TX_rx(...)
#define LINKEM_DROP_IF_TX_tx(...) __VA_ARGS__
