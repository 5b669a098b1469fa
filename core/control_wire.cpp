#include "linkem/control_wire.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <limits>

namespace linkem {

std::vector<std::string> split_params(std::string_view params) {
    std::vector<std::string> words;
    std::string word;
    int depth = 0;
    char quote = 0;
    bool in_word = false;
    for (char c : params) {
        const bool blank = c == ' ' || c == '\t' || c == '\n' || c == '\r';
        if (quote == 0 && depth == 0 && blank) {
            if (in_word) words.push_back(word);
            word.clear();
            in_word = false;
            continue;
        }
        in_word = true;
        word += c;
        if (quote != 0) {
            if (c == quote) quote = 0;
        } else if (c == '"' || c == '\'') {
            quote = c;
        } else if (c == '{' || c == '[') {
            ++depth;
        } else if ((c == '}' || c == ']') && depth > 0) {
            --depth;
        }
    }
    if (in_word) words.push_back(word);
    return words;
}

std::string join_params(const std::vector<std::string> &words) { return fmt::format("{}", fmt::join(words, " ")); }

bool params_round_trip(const std::vector<std::string> &words) { return split_params(join_params(words)) == words; }

namespace {

using nlohmann::json;

std::string telemetry_name(const std::string &key) {
    std::string name = key.substr(0, kTelemetryMaxStringBytes);
    for (char &c : name)
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '/')) c = '_';
    return name.empty() ? "_" : name;
}

// A string in pieces of at most 127 bytes, never cutting a UTF-8 sequence.
json string_value(const std::string &s) {
    if (s.size() <= kTelemetryMaxStringBytes) return s;
    json pieces = json::array();
    for (size_t at = 0; at < s.size() && pieces.size() < kTelemetryMaxArrayEntries;) {
        size_t n = std::min(kTelemetryMaxStringBytes, s.size() - at);
        while (n > 0 && at + n < s.size() && (static_cast<unsigned char>(s[at + n]) & 0xC0) == 0x80) --n;
        if (n == 0) n = std::min(kTelemetryMaxStringBytes, s.size() - at);
        pieces.push_back(s.substr(at, n));
        at += n;
    }
    return pieces;
}

// A scalar as telemetry carries it; null for a null.
json scalar_value(const json &v) {
    switch (v.type()) {
    case json::value_t::string: return string_value(v.get<std::string>());
    case json::value_t::number_unsigned: return v;
    case json::value_t::number_integer: {
        const int64_t i = v.get<int64_t>();
        if (i >= 0) return static_cast<uint64_t>(i);
        if (i >= std::numeric_limits<int32_t>::min()) return i;
        return std::to_string(i);
    }
    case json::value_t::number_float: return fmt::format("{}", v.get<double>());
    case json::value_t::boolean: return v.get<bool>() ? "true" : "false";
    default: return nullptr;
    }
}

// The telemetry type of a shaped scalar: 's' string, 'u' unsigned, 'i' signed.
char kind(const json &v) { return v.is_string() ? 's' : v.is_number_unsigned() ? 'u' : 'i'; }

}  // namespace

json telemetry_shape(const json &value) {
    if (value.is_object()) {
        json out = json::object();
        for (const auto &[key, v] : value.items()) {
            if (out.size() >= kTelemetryMaxDictEntries) break;
            json shaped = telemetry_shape(v);
            if (!shaped.is_null()) out[telemetry_name(key)] = std::move(shaped);
        }
        return out;
    }
    if (value.is_array()) {
        // An array of one scalar type stays an array; anything else becomes an object "0", "1", ...
        json scalars = json::array();
        bool plain = true;
        for (const json &v : value) {
            const json s = v.is_structured() ? json() : scalar_value(v);
            if (s.is_null() || s.is_array() || (!scalars.empty() && kind(s) != kind(scalars.front()))) {
                plain = false;
                break;
            }
            scalars.push_back(s);
        }
        if (plain) {
            if (scalars.size() > kTelemetryMaxArrayEntries) scalars.erase(scalars.begin() + kTelemetryMaxArrayEntries, scalars.end());
            return scalars;
        }
        json out = json::object();
        for (size_t i = 0; i < value.size() && i < kTelemetryMaxDictEntries; ++i) {
            json shaped = telemetry_shape(value[i]);
            if (!shaped.is_null()) out[std::to_string(i)] = std::move(shaped);
        }
        return out;
    }
    return scalar_value(value);
}

std::string join_pieces(const json &value) {
    if (value.is_string()) return value.get<std::string>();
    std::string out;
    if (value.is_array())
        for (const json &piece : value)
            if (piece.is_string()) out += piece.get<std::string>();
    return out;
}

json telemetry_reply(int status, const std::string &message, const json &body) {
    json reply = {{"status", status}, {"message", message}};
    if (body.is_object()) {
        for (const auto &[key, v] : body.items())
            if (key != "status" && key != "message") reply[key] = v;
    } else if (!body.is_null()) {
        reply["body"] = body;
    }
    return telemetry_shape(reply);
}

json link_show_json(const Link &link, const std::vector<const LinkSnapshot *> &instances) {
    json config = json::object();
    for (const auto &[key, value] : link_yaml_fields(link)) config[key] = value;
    uint64_t rx_packets = 0, rx_bytes = 0, tx_packets = 0, tx_bytes = 0, in_flight = 0, queue_depth = 0, run_ns = 0;
    std::array<uint64_t, kDropReasons> drops{};
    Histogram delay, lateness;
    for (const LinkSnapshot *s : instances) {
        rx_packets += s->rx_packets;
        rx_bytes += s->rx_bytes;
        tx_packets += s->tx_packets;
        tx_bytes += s->tx_bytes;
        in_flight += s->in_flight;
        queue_depth += s->queue_depth;
        run_ns = std::max(run_ns, s->run_ns);
        for (size_t r = 0; r < kDropReasons; ++r) drops[r] += s->drops[r];
        delay.replace(Histogram{}, s->delay_ns);
        lateness.replace(Histogram{}, s->lateness_ns);
    }
    json drop_json = json::object();
    for (size_t r = 0; r < kDropReasons; ++r) drop_json[drop_reason_name(static_cast<DropReason>(r))] = drops[r];
    const auto percentiles = [](const Histogram &h) {
        return json{{"count", h.total()}, {"p50", h.percentile(0.5)}, {"p99", h.percentile(0.99)}, {"max", h.max()}};
    };
    return {{"name", link.name},
            {"config", std::move(config)},
            {"run_ns", run_ns},
            {"rx_packets", rx_packets},
            {"rx_bytes", rx_bytes},
            {"tx_packets", tx_packets},
            {"tx_bytes", tx_bytes},
            {"in_flight", in_flight},
            {"queue_depth", queue_depth},
            {"drops", std::move(drop_json)},
            {"delay_ns", percentiles(delay)},
            {"lateness_ns", percentiles(lateness)},
            {"instances", instances.size()}};
}

}  // namespace linkem
