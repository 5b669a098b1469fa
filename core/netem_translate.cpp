// tc/netem commands and words translated to linkem (see netem_translate.hpp).
#include "linkem/netem_translate.hpp"

#include "linkem/suggest.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

namespace linkem {
namespace {

const std::vector<std::string> kNetemWords = {"delay", "distribution", "loss",  "duplicate", "corrupt", "reorder",
                                              "gap",   "rate",         "limit", "slot",      "ecn",     "seed"};

std::string lower(std::string_view s) {
    std::string out(s);
    for (char &c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

// The number at the start of text and the rest (its unit); nullopt if no digit starts it.
std::optional<std::pair<std::string, std::string>> split_number(std::string_view text) {
    size_t i = 0;
    while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.')) ++i;
    if (i == 0 || !std::isdigit(static_cast<unsigned char>(text[0]))) return std::nullopt;
    return std::make_pair(std::string(text.substr(0, i)), std::string(text.substr(i)));
}

// netem's time (tc's get_time64): s/sec/secs, ms/msec/msecs, us/usec/usecs, ns/nsec/nsecs; bare = us.
Parsed<Duration> netem_time(std::string_view word) {
    const auto parts = split_number(word);
    const std::string unit = parts ? lower(parts->second) : "";
    std::string linkem_unit;
    if (unit.empty() || unit == "us" || unit == "usec" || unit == "usecs")
        linkem_unit = "us";
    else if (unit == "s" || unit == "sec" || unit == "secs")
        linkem_unit = "s";
    else if (unit == "ms" || unit == "msec" || unit == "msecs")
        linkem_unit = "ms";
    else if (unit == "ns" || unit == "nsec" || unit == "nsecs")
        linkem_unit = "ns";
    if (!parts || linkem_unit.empty())
        return Parsed<Duration>::fail(fmt::format("\"{}\" is not a netem time (examples: 100ms, 10us, 1s)", word));
    Parsed<Duration> d = Duration::parse(parts->first + linkem_unit);
    if (!d) return Parsed<Duration>::fail(fmt::format("\"{}\": {}", word, d.error));
    return d;
}

// netem's percentage: "1%" or "1" (both mean 1%).
Parsed<Probability> netem_percent(std::string_view word) {
    const auto parts = split_number(word);
    if (!parts || !(parts->second.empty() || parts->second == "%"))
        return Parsed<Probability>::fail(fmt::format("\"{}\" is not a netem percentage (examples: 1%, 0.5, 25%)", word));
    Parsed<Probability> p = Probability::parse(parts->first + "%");
    if (!p) return Parsed<Probability>::fail(fmt::format("\"{}\": {}", word, p.error));
    return p;
}

// tc's rate (get_rate64): bit units are bits per second, bps units bytes per second,
// a bare number bytes per second; "k", "m", "g", "t" are powers of 1000, "ki", "mi", ... of 1024.
Parsed<Rate> netem_rate(std::string_view word) {
    const auto parts = split_number(word);
    const std::string unit = parts ? lower(parts->second) : "";
    struct TcRate {
        const char *tc;
        const char *linkem;
    };
    static const TcRate kRates[] = {
        {"bit", "bit/s"}, {"kbit", "kbit/s"}, {"mbit", "Mbit/s"}, {"gbit", "Gbit/s"}, {"tbit", "Tbit/s"}, {"", "B/s"},
        {"bps", "B/s"},   {"kbps", "kB/s"},   {"mbps", "MB/s"},   {"gbps", "GB/s"},   {"tbps", "TB/s"},
    };
    static const std::pair<const char *, uint64_t> kBinary[] = {{"kibit", 1ULL << 10}, {"mibit", 1ULL << 20}, {"gibit", 1ULL << 30},
                                                                {"tibit", 1ULL << 40}, {"kibps", 8ULL << 10}, {"mibps", 8ULL << 20},
                                                                {"gibps", 8ULL << 30}, {"tibps", 8ULL << 40}};
    if (parts) {
        for (const TcRate &r : kRates)
            if (unit == r.tc) {
                Parsed<Rate> rate = Rate::parse(parts->first + r.linkem);
                if (!rate) return Parsed<Rate>::fail(fmt::format("\"{}\": {}", word, rate.error));
                return rate;
            }
        for (const auto &[tc, bits] : kBinary)
            if (unit == tc) {
                // tc's IEC rates, such as 1mibit: an integer count only (exact in bit/s).
                const Parsed<PacketCount> n = PacketCount::parse(parts->first + " packets");
                if (!n) break;
                return Parsed<Rate>::ok(Rate{n.value->packets * bits});
            }
    }
    return Parsed<Rate>::fail(fmt::format("\"{}\" is not a tc rate (examples: 10mbit, 512kbit, 1gbit, 1mbps = 1 megabyte/s)", word));
}

// tc's size (get_size): b, k/kb, m/mb, g/gb in bytes with powers of 1024; kbit, mbit, gbit in bits; bare = bytes.
Parsed<ByteSize> netem_size(std::string_view word) {
    const auto parts = split_number(word);
    const std::string unit = parts ? lower(parts->second) : "";
    static const std::pair<const char *, const char *> kSizes[] = {{"", "B"},    {"b", "B"},    {"k", "KiB"}, {"kb", "KiB"},
                                                                   {"m", "MiB"}, {"mb", "MiB"}, {"g", "GiB"}, {"gb", "GiB"}};
    if (parts)
        for (const auto &[tc, linkem] : kSizes)
            if (unit == tc) {
                Parsed<ByteSize> s = ByteSize::parse(parts->first + linkem);
                if (!s) return Parsed<ByteSize>::fail(fmt::format("\"{}\": {}", word, s.error));
                return s;
            }
    return Parsed<ByteSize>::fail(fmt::format("\"{}\" is not a tc size (examples: 1500, 30kb, 1mb)", word));
}

bool is_number_word(std::string_view word) { return split_number(word).has_value(); }

class Translator {
  public:
    explicit Translator(std::string_view command) {
        size_t i = 0;
        while (i < command.size()) {
            while (i < command.size() && std::isspace(static_cast<unsigned char>(command[i]))) ++i;
            const size_t start = i;
            while (i < command.size() && !std::isspace(static_cast<unsigned char>(command[i]))) ++i;
            if (i > start) words_.emplace_back(command.substr(start, i - start));
        }
        // "tc qdisc add dev eth0 root netem delay 100ms": only what follows "netem" is netem's.
        if (const auto it = std::find(words_.begin(), words_.end(), "netem"); it != words_.end()) words_.erase(words_.begin(), it + 1);
    }

    Parsed<NetemTranslation> run() {
        if (words_.empty()) return fail("nothing to translate: give netem's options, such as \"delay 100ms 10ms loss 1%\"");
        while (pos_ < words_.size()) {
            const std::string word = words_[pos_++];
            std::string problem;
            if (word == "delay" || word == "latency")
                problem = delay();
            else if (word == "distribution")
                problem = distribution();
            else if (word == "loss" || word == "drop")
                problem = loss();
            else if (word == "duplicate")
                problem = duplicate_or_corrupt("duplicate", duplicate_);
            else if (word == "corrupt")
                problem = duplicate_or_corrupt("corrupt", corrupt_);
            else if (word == "reorder")
                problem = reorder();
            else if (word == "gap")
                problem = gap();
            else if (word == "rate")
                problem = rate();
            else if (word == "limit")
                problem = limit();
            else if (word == "slot")
                problem = slot();
            else if (word == "ecn")
                out_.notes.push_back(
                    "ecn not translated: netem marks CE on packets its loss model would drop; linkem's `mangle: {ecn: true}` marks "
                    "instead on a full queue (a different trigger)");
            else if (word == "seed") {
                const auto n = next();
                if (!n || !is_number_word(*n)) return fail("seed needs a number");
                out_.notes.push_back(fmt::format("seed {0}: linkem seeds all links at the top level: `seed: {0}`", *n));
            } else {
                const auto guess = nearest_word(word, kNetemWords);
                return fail(fmt::format("unknown netem word \"{}\"{} (netem's words: {})", word,
                                        guess ? fmt::format("; did you mean \"{}\"?", *guess) : "", join(kNetemWords)));
            }
            if (!problem.empty()) return fail(problem);
        }
        return finish();
    }

  private:
    std::vector<std::string> words_;
    size_t pos_ = 0;
    NetemTranslation out_;
    std::optional<Duration> delay_, jitter_;
    std::string distribution_ = "uniform";  // netem's default table
    std::optional<std::string> loss_line_, duplicate_, corrupt_, bandwidth_line_, queue_line_, overhead_line_;
    std::optional<Probability> reorder_;
    std::optional<std::string> gap_;

    static Parsed<NetemTranslation> fail(std::string message) { return Parsed<NetemTranslation>::fail(std::move(message)); }

    std::optional<std::string> next() { return pos_ < words_.size() ? std::optional<std::string>(words_[pos_++]) : std::nullopt; }
    // The next word when it is a value (a number), for netem's optional arguments.
    std::optional<std::string> next_number() {
        if (pos_ < words_.size() && is_number_word(words_[pos_])) return words_[pos_++];
        return std::nullopt;
    }

    std::string correlation_note(const std::string &what, const std::string &word, const std::string &closest) {
        const Parsed<Probability> c = netem_percent(word);
        if (!c) return fmt::format("{} correlation: {}", what, c.error);
        if (c.value->scaled != 0)
            out_.notes.push_back(fmt::format("{} correlation {} not translated: {}", what, c.value->to_string(), closest));
        return {};
    }

    std::string delay() {
        const auto time = next();
        if (!time) return "delay needs a time, such as delay 100ms [10ms [25%]]";
        Parsed<Duration> d = netem_time(*time);
        if (!d) return "delay: " + d.error;
        delay_ = d.value;
        if (const auto j = next_number()) {
            Parsed<Duration> jd = netem_time(*j);
            if (!jd) return "delay jitter: " + jd.error;
            jitter_ = jd.value;
            if (const auto c = next_number())
                return correlation_note("delay", *c, "linkem's delay models draw each packet's delay independently");
        }
        return {};
    }

    std::string distribution() {
        const auto name = next();
        if (!name) return "distribution needs a name: uniform, normal, pareto, paretonormal or a table's name";
        distribution_ = *name;
        return {};
    }

    std::string loss() {
        if (pos_ < words_.size() && words_[pos_] == "random") ++pos_;
        if (pos_ < words_.size() && (words_[pos_] == "state" || words_[pos_] == "gemodel")) {
            const bool gemodel = words_[pos_++] == "gemodel";
            const std::vector<std::string> keys = gemodel ? std::vector<std::string>{"p", "r", "loss_bad", "loss_good"}
                                                          : std::vector<std::string>{"p13", "p31", "p32", "p23", "p14"};
            std::vector<std::string> params;
            while (params.size() < keys.size()) {
                const auto w = next_number();
                if (!w) break;
                const Parsed<Probability> p = netem_percent(*w);
                if (!p) return fmt::format("loss {}: {}", gemodel ? "gemodel" : "state", p.error);
                params.push_back(fmt::format("{}: {}", keys[params.size()], p.value->to_string()));
                if (gemodel && params.size() == 1 && (pos_ >= words_.size() || !is_number_word(words_[pos_])))
                    // netem's default r is 1 - p.
                    params.push_back(fmt::format("r: {}", Probability{Probability::kOne - p.value->scaled}.to_string()));
            }
            if (params.empty())
                return gemodel ? "loss gemodel needs at least p, such as loss gemodel 1% 10% 70% 0.1%"
                               : "loss state needs at least p13, such as loss state 1% 30%";
            loss_line_ = fmt::format("loss: {{plugin: {}, {}}}", gemodel ? "gilbert_elliott" : "markov4", fmt::join(params, ", "));
        } else {
            const auto w = next();
            if (!w) return "loss needs a percentage, such as loss 1% [25%]";
            const Parsed<Probability> p = netem_percent(*w);
            if (!p) return "loss: " + p.error;
            loss_line_ = "loss: " + p.value->to_string();
            if (const auto c = next_number()) {
                const std::string problem = correlation_note(
                    "loss", *c,
                    fmt::format("for bursty loss linkem has loss: {{plugin: gilbert_elliott, mean_loss: {}, mean_burst: N}} "
                                "(N: the mean number of packets lost in a row)",
                                p.value->to_string()));
                if (!problem.empty()) return problem;
            }
        }
        if (pos_ < words_.size() && words_[pos_] == "ecn") {
            ++pos_;
            out_.notes.push_back(
                "loss ... ecn not translated: linkem's loss models drop; `mangle: {ecn: true}` marks CE only on a full queue");
        }
        return {};
    }

    std::string duplicate_or_corrupt(const std::string &what, std::optional<std::string> &target) {
        const auto w = next();
        if (!w) return fmt::format("{} needs a percentage, such as {} 1% [25%]", what, what);
        const Parsed<Probability> p = netem_percent(*w);
        if (!p) return what + ": " + p.error;
        target = p.value->to_string();
        if (const auto c = next_number())
            return correlation_note(what, *c, fmt::format("linkem's mangle {} draws each packet independently", what));
        return {};
    }

    std::string reorder() {
        const auto w = next();
        if (!w) return "reorder needs a percentage, such as reorder 25% [50%] [gap 5]";
        const Parsed<Probability> p = netem_percent(*w);
        if (!p) return "reorder: " + p.error;
        reorder_ = p.value;
        if (const auto c = next_number()) return correlation_note("reorder", *c, "linkem chooses the packets to reorder independently");
        return {};
    }

    std::string gap() {
        const auto w = next_number();
        if (!w) return "gap needs a packet count, such as reorder 25% gap 5";
        gap_ = *w;
        return {};
    }

    std::string rate() {
        const auto w = next();
        if (!w) return "rate needs a rate, such as rate 10mbit";
        const Parsed<Rate> r = netem_rate(*w);
        if (!r) return "rate: " + r.error;
        bandwidth_line_ = "bandwidth: " + r.value->to_string();
        if (const auto overhead = next_number()) {
            overhead_line_ = fmt::format("overhead: {}", *overhead);
            if (const auto cell = next_number()) {
                out_.notes.push_back(
                    fmt::format("rate's cell size {} not translated: linkem adds a fixed overhead per frame, no cells", *cell));
                if (const auto cell_overhead = next_number()) (void)cell_overhead;
            }
        } else if (pos_ < words_.size() && words_[pos_].size() > 1 && words_[pos_][0] == '-' &&
                   is_number_word(std::string_view(words_[pos_]).substr(1))) {
            out_.notes.push_back(
                fmt::format("rate's negative packet overhead {} not translated: linkem's overhead is 0 to 1024 bytes", words_[pos_++]));
        }
        return {};
    }

    std::string limit() {
        const auto w = next_number();
        if (!w) return "limit needs a packet count, such as limit 1000";
        const Parsed<PacketCount> n = PacketCount::parse(*w + " packets");
        if (!n) return "limit: " + n.error;
        queue_line_ = "queue: " + n.value->to_string();
        return {};
    }

    std::string slot() {
        const bool with_distribution = pos_ < words_.size() && words_[pos_] == "distribution";
        if (with_distribution) {
            out_.notes.push_back("slot distribution not translated: linkem's slot model draws gaps uniformly in [min_gap, max_gap]");
            ++pos_;
            next();                                        // the distribution's name
            for (int k = 0; k < 2 && next_number();) ++k;  // DELAY JITTER
        }
        std::vector<std::string> params;
        if (const auto min = next_number()) {
            const Parsed<Duration> d = netem_time(*min);
            if (!d) return "slot: " + d.error;
            params.push_back("min_gap: " + d.value->to_string());
            if (const auto max = next_number()) {
                const Parsed<Duration> m = netem_time(*max);
                if (!m) return "slot: " + m.error;
                params.push_back("max_gap: " + m.value->to_string());
            }
        } else if (!with_distribution) {
            return "slot needs a time, such as slot 2ms 4ms packets 20 bytes 30kb";
        }
        while (pos_ < words_.size() && (words_[pos_] == "packets" || words_[pos_] == "bytes")) {
            const std::string what = words_[pos_++];
            const auto v = next_number();
            if (!v) return fmt::format("slot {} needs a value", what);
            if (what == "packets") {
                params.push_back("packets: " + *v);
            } else {
                const Parsed<ByteSize> s = netem_size(*v);
                if (!s) return "slot bytes: " + s.error;
                params.push_back("bytes: " + s.value->to_string());
            }
        }
        if (!params.empty()) slot_line_ = fmt::format("bandwidth: {{plugin: slot, {}}}", fmt::join(params, ", "));
        return {};
    }
    std::optional<std::string> slot_line_;

    Parsed<NetemTranslation> finish() {
        static const std::vector<std::string> kTables = {"uniform", "normal", "pareto", "paretonormal"};
        const bool known_table = std::find(kTables.begin(), kTables.end(), distribution_) != kTables.end();
        const Duration delay = delay_.value_or(Duration{});
        const bool jitter = jitter_ && jitter_->ns != 0;

        if (bandwidth_line_ && slot_line_) {
            out_.notes.push_back(
                "rate and slot together not translated: a linkem link has one bandwidth model; kept rate, "
                "slot alone would be `" +
                *slot_line_ + "`");
            slot_line_.reset();
        }
        if (bandwidth_line_) out_.link_lines.push_back(*bandwidth_line_);
        if (slot_line_) out_.link_lines.push_back(*slot_line_);
        if (overhead_line_) out_.link_lines.push_back(*overhead_line_);
        if (queue_line_) {
            out_.link_lines.push_back(*queue_line_);
            if (!bandwidth_line_ && !slot_line_)
                out_.notes.push_back(
                    "limit: netem's limit also bounds packets in delay; linkem's queue is the one in front of the "
                    "bandwidth limit, so without a rate it has no effect");
        }

        // netem's reorder: a fraction P leaves at once, the rest after the delay. With a
        // constant delay D that is linkem's reorder of the other 100% - P by D.
        bool reorder_as_delay = false;
        std::optional<std::string> reorder_entry;
        if (reorder_) {
            if (delay.ns == 0) {
                out_.notes.push_back("reorder without delay not translated: netem reorders only packets it delays");
            } else if (jitter || gap_) {
                out_.notes.push_back(
                    fmt::format("reorder {}{} not translated: with {} netem's reorder sends those packets at once; closest linkem form: "
                                "`mangle: {{reorder: {{probability: {}, extra_delay: D}}}}` (held back D longer)",
                                reorder_->to_string(), gap_ ? " gap " + *gap_ : "", gap_ ? "a gap" : "jitter", reorder_->to_string()));
            } else {
                reorder_as_delay = true;
                const Probability held{Probability::kOne - reorder_->scaled};
                reorder_entry = fmt::format("reorder: {{probability: {}, extra_delay: {}}}", held.to_string(), delay.to_string());
                out_.notes.push_back(fmt::format(
                    "reorder {0} with delay {1}: netem sends {0} of packets at once and delays the rest {1}; linkem's form of the "
                    "same: no base delay and {2} of packets held back {1}",
                    reorder_->to_string(), delay.to_string(), held.to_string()));
            }
        } else if (gap_) {
            out_.notes.push_back("gap without reorder: ignored, as netem does");
        }

        if (delay_ && !reorder_as_delay) {
            if (!jitter) {
                out_.link_lines.push_back("delay: " + delay.to_string());
            } else if (known_table) {
                out_.link_lines.push_back(
                    fmt::format("delay: {{plugin: {}, mean: {}, jitter: {}}}", distribution_, delay.to_string(), jitter_->to_string()));
            } else {
                out_.link_lines.push_back(
                    fmt::format("delay: {{plugin: uniform, mean: {}, jitter: {}}}", delay.to_string(), jitter_->to_string()));
                out_.notes.push_back(
                    fmt::format("distribution {0} not translated (a table file): linkem reads netem's tables with "
                                "`delay: {{plugin: empirical, file: /usr/lib/tc/{0}.dist, mean: {1}, jitter: {2}}}`; uniform used instead",
                                distribution_, delay.to_string(), jitter_->to_string()));
            }
        } else if (!delay_ && distribution_ != "uniform") {
            out_.notes.push_back("distribution without delay jitter: ignored, as netem does");
        }
        if (loss_line_) out_.link_lines.push_back(*loss_line_);

        std::vector<std::string> mangle;
        if (duplicate_) mangle.push_back("duplicate: " + *duplicate_);
        if (corrupt_) mangle.push_back("corrupt: " + *corrupt_);
        if (reorder_entry) mangle.push_back(*reorder_entry);
        if (!mangle.empty()) out_.link_lines.push_back(fmt::format("mangle: {{{}}}", fmt::join(mangle, ", ")));
        return Parsed<NetemTranslation>::ok(std::move(out_));
    }
};

}  // namespace

Parsed<NetemTranslation> translate_netem(std::string_view command) { return Translator(command).run(); }

std::string netem_configuration_yaml(std::string_view command, const NetemTranslation &translation) {
    const bool with_tc = command.find("netem") != std::string_view::npos;  // "tc qdisc add ... netem ..." as given
    std::string out = fmt::format("# linkem's form of: {}{}\n", with_tc ? "" : "netem ", command);
    for (const std::string &note : translation.notes) out += "# " + note + "\n";
    out +=
        "# Ports a and b are null devices: put your NICs there (such as device: 0000:01:00.0).\n"
        "ports:\n"
        "  a: {device: net_null0}\n"
        "  b: {device: net_null1}\n"
        "links:\n"
        "  - name: a-to-b\n"
        "    from: a\n"
        "    to: b\n";
    for (const std::string &line : translation.link_lines) out += "    " + line + "\n";
    // linkem reads only the ports a link starts from: without the way back,
    // nothing that answers (ping, TCP) would work.
    out +=
        "  # netem shapes one direction; replies come back this way, untouched (give it keys to shape them too)\n"
        "  - {name: b-to-a, from: b, to: a}\n";
    return out;
}

std::optional<std::string> netem_key_hint(std::string_view key) {
    struct Hint {
        const char *key;
        const char *hint;
    };
    static const Hint kHints[] = {
        {"jitter", "netem's jitter is a delay model's: delay: {plugin: normal, mean: 100ms, stddev: 10ms}"},
        {"distribution",
         "netem's distribution is a delay model: delay: {plugin: normal, mean: 100ms, stddev: 10ms} "
         "(also uniform, pareto, paretonormal, empirical)"},
        {"correlation", "linkem has no correlation; for bursty loss write loss: {plugin: gilbert_elliott, mean_loss: 1%, mean_burst: 3}"},
        {"limit", "netem's limit is linkem's queue: queue: 1000 packets"},
        {"latency", "tc's latency is linkem's delay: delay: 100ms"},
        {"rate", "netem's rate is linkem's bandwidth: bandwidth: 10Mbit/s"},
        {"duplicate", "netem's duplicate goes under mangle: mangle: {duplicate: 1%}"},
        {"corrupt", "netem's corrupt goes under mangle: mangle: {corrupt: 0.1%}"},
        {"reorder", "netem's reorder goes under mangle: mangle: {reorder: {probability: 1%, extra_delay: 5ms}}"},
        {"slot", "netem's slot is a bandwidth model: bandwidth: {plugin: slot, min_gap: 2ms, max_gap: 4ms}"},
        {"gemodel", "netem's gemodel is a loss model: loss: {plugin: gilbert_elliott, p: 1%, r: 10%}"},
    };
    for (const Hint &h : kHints)
        if (key == h.key) return std::string(h.hint);
    return std::nullopt;
}

// "100ms 10ms [25%]" or "100ms 10ms distribution normal": netem's delay arguments in one value.
std::optional<std::string> netem_delay_value_hint(std::string_view text) {
    const Parsed<NetemTranslation> t = translate_netem("delay " + std::string(text));
    if (!t || text.find(' ') == std::string_view::npos) return std::nullopt;
    for (const std::string &line : t.value->link_lines)
        if (line.rfind("delay: {", 0) == 0) return fmt::format("netem's \"delay {}\" is linkem's {}", text, line);
    return std::nullopt;
}

// "1% 25%": netem's loss with a correlation.
std::optional<std::string> netem_loss_value_hint(std::string_view text) {
    const Parsed<NetemTranslation> t = translate_netem("loss " + std::string(text));
    if (!t || text.find(' ') == std::string_view::npos || t.value->link_lines.empty()) return std::nullopt;
    if (t.value->notes.empty()) return fmt::format("netem's \"loss {}\" is linkem's {}", text, t.value->link_lines.front());
    return fmt::format("netem's \"loss {}\" is linkem's {}; {}", text, t.value->link_lines.front(), t.value->notes.front());
}

}  // namespace linkem
