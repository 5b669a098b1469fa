// [unit] linkemctl without linkem: its command line, its reply formatting, the
// shape replies take to fit DPDK 22.11's telemetry, and its exit statuses
// against a fake telemetry server (a seqpacket socket in a scratch directory)
// that answers as linkem's telemetry commands do, from a fake ControlTarget.
#include "control.hpp"
#include "ctl.hpp"
#include "linkem_process.hpp"
#include "status_target.hpp"

#include "linkem/control_wire.hpp"

#include <catch2/catch.hpp>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <functional>
#include <mutex>
#include <sstream>
#include <thread>

using namespace linkem;
using linkem::test::TempDir;
using nlohmann::json;

namespace {

// Answers as the emulator's ControlTarget would: a link "a-to-b"; delay must be a duration.
class FakeTarget : public ControlTarget {
  public:
    ControlReply set_link(const std::string &link, const std::vector<std::string> &assignments) override {
        std::lock_guard lock(mutex);
        seen.push_back(link + " | " + join_params(assignments));
        if (link != "a-to-b") return {2, "no link \"" + link + "\"; the links: a-to-b", {}};
        for (const std::string &a : assignments)
            if (a == "delay=soon") return {2, "set:1:7: links[0].delay: \"soon\" is not a duration (examples: 10ms, 1.5s)", {}};
        if (busy) return {1, "the lcore did not take the change in time", {}};
        delay = assignments.front().substr(6);
        return {0, "changed a-to-b at 2026-12-02T17:00:00Z: " + join_params(assignments), {{"links", {{"a-to-b", {{"delay", delay}}}}}}};
    }
    ControlReply apply_file(const std::string &path) override {
        std::lock_guard lock(mutex);
        seen.push_back("apply " + path);
        return {0, "applied " + path, {}};
    }
    ControlReply show(const std::string &link) override {
        if (link != "a-to-b") return {2, "no link \"" + link + "\"", {}};
        ++shows;
        const uint64_t n = shows * 1000;  // each look: 1000 more packets over 1 s of run time
        return {0,
                "",
                {{"name", "a-to-b"},
                 {"config",
                  {{"from", "a"},
                   {"to", "b"},
                   {"delay", delay},
                   {"loss", "{plugin: gilbert_elliott, p: 1%, r: 10%, " + std::string(150, 'x') + "}"}}},
                 {"run_ns", shows * 1'000'000'000ULL},
                 {"rx_packets", n},
                 {"rx_bytes", n * 100},
                 {"tx_packets", n - 10},
                 {"tx_bytes", (n - 10) * 100},
                 {"in_flight", 7},
                 {"queue_depth", 3},
                 {"drops", {{"queue", 0}, {"loss", 10}}},
                 {"delay_ns", {{"count", n}, {"p50", 10'000'000}, {"p99", 10'400'000}, {"max", 11'000'000}}},
                 {"lateness_ns", {{"count", n}, {"p50", 1'500}, {"p99", 9'000}, {"max", 20'000}}}}};
    }
    std::mutex mutex;
    std::vector<std::string> seen;
    std::string delay = "10ms";
    uint64_t shows = 0;
    bool busy = false;
};

// A DPDK telemetry v2 server in miniature: hello, then a reply per request, as
// linkem's commands build them (telemetry_reply); `linkem` false: a DPDK process
// without linkem's commands (every reply null).
class FakeTelemetry {
  public:
    FakeTelemetry(const std::string &path, ControlTarget &target, bool linkem = true) : path_(path), target_(target), linkem_(linkem) {
        fd_ = socket(AF_UNIX, SOCK_SEQPACKET, 0);
        sockaddr_un a{};
        a.sun_family = AF_UNIX;
        std::strncpy(a.sun_path, path.c_str(), sizeof a.sun_path - 1);
        REQUIRE(bind(fd_, reinterpret_cast<sockaddr *>(&a), sizeof a) == 0);
        REQUIRE(listen(fd_, 4) == 0);
        thread_ = std::thread([this] { serve(); });
    }
    ~FakeTelemetry() {
        shutdown(fd_, SHUT_RDWR);
        close(fd_);
        thread_.join();
        unlink(path_.c_str());
    }
    std::vector<std::string> requests;  // as received, read after the linkemctl run

  private:
    void serve() {
        for (;;) {
            const int c = accept(fd_, nullptr, nullptr);
            if (c < 0) return;
            const std::string hello = R"({"version":"DPDK 22.11.11","pid":1,"max_output_len":16384})";
            send(c, hello.data(), hello.size(), MSG_NOSIGNAL);
            char buffer[1024];
            for (ssize_t n; (n = recv(c, buffer, sizeof buffer - 1, 0)) > 0;) {
                const std::string request(buffer, static_cast<size_t>(n));
                requests.push_back(request);
                const size_t comma = request.find(',');
                const std::string cmd = request.substr(0, comma), params = comma == std::string::npos ? "" : request.substr(comma + 1);
                const json reply = {{cmd, linkem_ ? answer(cmd, params) : json()}};
                const std::string text = reply.dump();
                send(c, text.data(), text.size(), MSG_NOSIGNAL);
            }
            close(c);
        }
    }
    json answer(const std::string &cmd, const std::string &params) {
        const auto shaped = [](const ControlReply &r) { return telemetry_reply(r.status, r.message, r.body); };
        std::vector<std::string> words = split_params(params);
        if (cmd == kCmdLinks) return telemetry_reply(0, "", {{"links", {"a-to-b"}}});
        if (cmd == kCmdLink) return shaped(target_.show(params));
        if (cmd == kCmdApply) return shaped(target_.apply_file(params));
        if (cmd == kCmdSet) {
            const std::string link = words.front();
            words.erase(words.begin());
            return shaped(target_.set_link(link, words));
        }
        return json();
    }
    std::string path_;
    ControlTarget &target_;
    bool linkem_;
    int fd_ = -1;
    std::thread thread_;
};

struct Result {
    int status;
    std::string out, err;
};

Result ctl(const std::vector<std::string> &args) {
    std::ostringstream out, err;
    const int status = run_linkemctl(args, out, err);
    return {status, out.str(), err.str()};
}

CtlOptions parsed(const std::vector<std::string> &args) {
    CtlOptions o;
    std::string error;
    INFO(error);
    REQUIRE(parse_ctl_args(args, &o, &error));
    return o;
}

std::string parse_error(const std::vector<std::string> &args) {
    CtlOptions o;
    std::string error;
    REQUIRE_FALSE(parse_ctl_args(args, &o, &error));
    return error;
}

}  // namespace

TEST_CASE("linkemctl's command line: subcommands, the instance's name, watch's options", "[unit][linkemctl]") {
    const CtlOptions show = parsed({"show"});
    CHECK(show.command == "show");
    CHECK(show.name == "linkem");
    CHECK(show.link.empty());
    CHECK_FALSE(show.json);
    const CtlOptions json_show = parsed({"--name", "lab2", "show", "a-to-b", "--json"});
    CHECK(json_show.name == "lab2");
    CHECK(json_show.link == "a-to-b");
    CHECK(json_show.json);
    CHECK(parsed({"show", "--name=lab3"}).name == "lab3");  // the name may follow the subcommand
    const CtlOptions set = parsed({"set", "a-to-b", "delay=30ms", "loss=1%", "delay={plugin: normal, mean: 20ms, stddev: 2ms}"});
    CHECK(set.command == "set");
    CHECK(set.link == "a-to-b");
    CHECK(set.assignments == std::vector<std::string>{"delay=30ms", "loss=1%", "delay={plugin: normal, mean: 20ms, stddev: 2ms}"});
    CHECK(parsed({"apply", "x.yaml"}).file == "x.yaml");
    const CtlOptions watch = parsed({"watch", "--count", "3", "--interval", "250ms"});
    CHECK(watch.count == 3);
    CHECK(watch.interval_ns == 250'000'000);
    CHECK(parsed({"--help"}).help);
    CHECK_THAT(parsed({"--help"}).help_text, Catch::Contains("show") && Catch::Contains("exit status"));
    CHECK(parsed({"--version"}).version);

    CHECK_THAT(parse_error({}), Catch::Contains("subcommand"));
    CHECK_THAT(parse_error({"shw"}), Catch::Contains("subcommand"));
    CHECK_THAT(parse_error({"set", "a-to-b"}), Catch::Contains("assignments"));
    CHECK_THAT(parse_error({"apply"}), Catch::Contains("file"));
    CHECK_THAT(parse_error({"--name", "a/b", "show"}), Catch::Contains("--name: \"a/b\" is not an instance name"));
    CHECK_THAT(parse_error({"watch", "--interval", "soon"}), Catch::Contains("--interval"));
    CHECK_THAT(parse_error({"watch", "--interval", "0s"}), Catch::Contains("above 0"));
    // A bad command line is exit status 2, with a hint.
    const Result r = ctl({"frobnicate"});
    CHECK(r.status == 2);
    CHECK_THAT(r.err, Catch::Contains("Try 'linkemctl --help'"));
}

TEST_CASE("request parameters split at blanks outside braces, brackets and quotes", "[unit][linkemctl]") {
    CHECK(split_params("a-to-b delay=30ms  loss=1%") == std::vector<std::string>{"a-to-b", "delay=30ms", "loss=1%"});
    CHECK(split_params("a delay={plugin: normal, mean: 20ms, stddev: 2ms} loss=[1, 2]") ==
          std::vector<std::string>{"a", "delay={plugin: normal, mean: 20ms, stddev: 2ms}", "loss=[1, 2]"});
    CHECK(split_params("a x='b c' y=\"d e\"") == std::vector<std::string>{"a", "x='b c'", "y=\"d e\""});
    CHECK(split_params("").empty());
    CHECK(params_round_trip({"a", "delay={plugin: normal, mean: 20ms}"}));
    CHECK_FALSE(params_round_trip({"a", "delay=30 ms"}));
    CHECK_FALSE(params_round_trip({"a", ""}));
}

TEST_CASE("replies take the shape DPDK 22.11's telemetry can carry", "[unit][linkemctl]") {
    const std::string long_text = std::string(126, 'a') + "\xc3\xa9" + std::string(200, 'b');  // an é across the 127-byte cut
    const json shaped = telemetry_shape({{"a-to-b", 1},
                                         {"neg", -5},
                                         {"big_neg", -5'000'000'000LL},
                                         {"ratio", 0.25},
                                         {"ok", true},
                                         {"none", nullptr},
                                         {"text", long_text},
                                         {"names", {"x", "y"}},
                                         {"mixed", {1, "y"}},
                                         {"objects", {{{"k", 1}}, {{"k", 2}}}}});
    CHECK(shaped["a_to_b"] == 1);  // names hold letters, digits, '_' and '/' only
    CHECK(shaped["neg"] == -5);
    CHECK(shaped["big_neg"] == "-5000000000");
    CHECK(shaped["ratio"] == "0.25");
    CHECK(shaped["ok"] == "true");
    CHECK_FALSE(shaped.contains("none"));
    REQUIRE(shaped["text"].is_array());
    for (const json &piece : shaped["text"]) CHECK(piece.get<std::string>().size() <= kTelemetryMaxStringBytes);
    CHECK(shaped["text"][0].get<std::string>().size() == 126);  // not cutting the two-byte é
    CHECK(join_pieces(shaped["text"]) == long_text);
    CHECK(shaped["names"] == json({"x", "y"}));
    CHECK(shaped["mixed"] == json({{"0", 1}, {"1", "y"}}));
    CHECK(shaped["objects"] == json({{"0", {{"k", 1}}}, {"1", {{"k", 2}}}}));
    json many = json::object();
    for (int i = 0; i < 300; ++i) many["k" + std::to_string(i)] = i;
    CHECK(telemetry_shape(many).size() == kTelemetryMaxDictEntries);
    const json reply = telemetry_reply(2, "bad", {{"status", 9}, {"name", "x"}});
    CHECK(reply["status"] == 2);  // the reply's own status wins over a body field of that name
    CHECK(reply["name"] == "x");
    CHECK(telemetry_reply(0, "", json::array({1, 2}))["body"] == json({1, 2}));
}

TEST_CASE("show and watch print the configuration, counters, rates and percentiles", "[unit][linkemctl]") {
    FakeTarget target;
    const json link = target.show("a-to-b").body;
    const std::string text = show_text(link);
    CHECK_THAT(text, Catch::Contains("link a-to-b") && Catch::Contains("  delay: 10ms\n") && Catch::Contains("in 1000 (100 kB)") &&
                         Catch::Contains("loss 10") && Catch::Contains("10 ms / 10.4 ms") && Catch::Contains("1.5 us / 9 us") &&
                         Catch::Contains("queue 3"));
    const json later = target.show("a-to-b").body;  // 1000 packets more, 1 s later
    const std::string table = watch_table({later}, {link});
    CHECK_THAT(table, Catch::Contains("LINK") && Catch::Contains("IN pps") && Catch::Contains("LATENESS p50 / p99"));
    CHECK_THAT(table, Catch::Contains(" 1 k ") && Catch::Contains("800 kbit/s") && Catch::Contains("loss 10"));
    CHECK_THAT(watch_table({link}, {}), Catch::Contains(" - "));  // no rates before a second sample
}

TEST_CASE("linkemctl's exit statuses against a fake linkem: 0 done, 2 bad input, 1 no instance or not done", "[unit][linkemctl]") {
    TempDir dir;
    const std::string socket = (dir / "dpdk_telemetry.v2").string();
    FakeTarget target;
    FakeTelemetry server(socket, target);

    Result r = ctl({"--socket", socket, "show"});
    INFO(r.err);
    CHECK(r.status == 0);
    CHECK_THAT(r.out, Catch::Contains("link a-to-b") && Catch::Contains("gilbert_elliott") && Catch::Contains(std::string(150, 'x')));

    r = ctl({"--socket", socket, "show", "--json"});
    CHECK(r.status == 0);
    const json doc = json::parse(r.out);
    CHECK(doc["name"] == "linkem");
    REQUIRE(doc["links"].size() == 1);
    CHECK(doc["links"][0]["name"] == "a-to-b");
    CHECK(doc["links"][0]["config"]["loss"].get<std::string>().size() > kTelemetryMaxStringBytes);  // the pieces joined again
    CHECK_FALSE(doc["links"][0].contains("status"));

    r = ctl({"--socket", socket, "show", "b-to-a"});
    CHECK(r.status == 2);
    CHECK_THAT(r.err, Catch::Contains("no link \"b-to-a\""));

    r = ctl({"--socket", socket, "set", "a-to-b", "delay=30ms", "loss={plugin: bernoulli, p: 1%}"});
    CHECK(r.status == 0);
    CHECK_THAT(r.out, Catch::Contains("changed a-to-b at"));
    CHECK(target.seen.back() == "a-to-b | delay=30ms loss={plugin: bernoulli, p: 1%}");
    CHECK(target.delay == "30ms");

    r = ctl({"--socket", socket, "set", "a-to-b", "delay=soon"});
    CHECK(r.status == 2);
    CHECK_THAT(r.err, Catch::Contains("set:1:7: links[0].delay: \"soon\" is not a duration"));
    CHECK(target.delay == "30ms");

    target.busy = true;
    r = ctl({"--socket", socket, "set", "a-to-b", "delay=40ms"});
    CHECK(r.status == 1);
    CHECK_THAT(r.err, Catch::Contains("did not take the change in time"));
    target.busy = false;

    // Refused before asking linkem: no KEY=VALUE, a blank outside braces, too long for telemetry.
    const size_t asked = server.requests.size();
    r = ctl({"--socket", socket, "set", "a-to-b", "delay"});
    CHECK(r.status == 2);
    CHECK_THAT(r.err, Catch::Contains("expected KEY=VALUE") && Catch::Contains("got \"delay\""));
    r = ctl({"--socket", socket, "set", "a-to-b", "delay=30 ms"});
    CHECK(r.status == 2);
    r = ctl({"--socket", socket, "set", "a-to-b", "x=" + std::string(1100, 'y')});
    CHECK(r.status == 2);
    CHECK_THAT(r.err, Catch::Contains("at most 1023"));
    CHECK(server.requests.size() == asked);

    const std::string file = dir.write("new.yaml", "ports: {}\n");
    r = ctl({"--socket", socket, "apply", file});
    CHECK(r.status == 0);
    CHECK(target.seen.back() == "apply " + file);
    r = ctl({"--socket", socket, "apply", (dir / "missing.yaml").string()});
    CHECK(r.status == 2);

    r = ctl({"--socket", socket, "watch", "--count", "2", "--interval", "10ms"});
    CHECK(r.status == 0);
    CHECK(std::count(r.out.begin(), r.out.end(), '\n') == 5);  // two tables: a title and a line each, a blank line between
    CHECK_THAT(r.out, Catch::Contains(" 1 k ") && Catch::Contains("10 ms / 10.4 ms"));

    // No such instance: status 1, naming the socket looked for.
    r = ctl({"--name", "no-such-linkem-here", "show"});
    CHECK(r.status == 1);
    CHECK_THAT(r.err, Catch::Contains("no linkem instance named \"no-such-linkem-here\" runs") &&
                          Catch::Contains("/dpdk/no-such-linkem-here/dpdk_telemetry.v2"));
}

TEST_CASE("a DPDK process that is not linkem, and a dead socket, are status 1", "[unit][linkemctl]") {
    TempDir dir;
    const std::string socket = (dir / "other.sock").string();
    FakeTarget target;
    {
        FakeTelemetry server(socket, target, false);
        const Result r = ctl({"--socket", socket, "show"});
        CHECK(r.status == 1);
        CHECK_THAT(r.err, Catch::Contains("is it linkem?"));
    }
    const Result gone = ctl({"--socket", socket, "show"});
    CHECK(gone.status == 1);
    CHECK_THAT(gone.err, Catch::Contains("no socket " + socket));
}

TEST_CASE("until linkem can change a running emulation, its target shows and refuses changes with status 1", "[unit][linkemctl]") {
    LoadResult loaded = load_config_text(
        "ports: {a: {device: net_null0}, b: {device: net_null1}}\nlinks: [{name: a-to-b, from: a, to: b, delay: 10ms}]\n", "t.yaml");
    REQUIRE(loaded.config);
    LinkSnapshot s;
    s.name = "a-to-b";
    s.rx_packets = 5;
    s.tx_packets = 4;
    s.drop(DropReason::kLoss) = 1;
    s.delay_ns.record(10'000'000);
    StatusTarget target(*loaded.config, [&] { return std::vector<LinkSnapshot>{s}; });
    const ControlReply shown = target.show("a-to-b");
    CHECK(shown.status == 0);
    CHECK(shown.body["config"]["delay"] == "10ms");
    CHECK(shown.body["config"]["from"] == "a");
    CHECK(shown.body["rx_packets"] == 5);
    CHECK(shown.body["drops"]["loss"] == 1);
    CHECK(shown.body["delay_ns"]["count"] == 1);
    CHECK(target.show("").body["links"].size() == 1);
    const ControlReply unknown = target.show("a-to-c");
    CHECK(unknown.status == 2);
    CHECK_THAT(unknown.message, Catch::Contains("did you mean a-to-b?"));
    const ControlReply set = target.set_link("a-to-b", {"delay=30ms"});
    CHECK(set.status == 1);
    CHECK_THAT(set.message, Catch::Contains("not supported"));
    CHECK(target.apply_file("x.yaml").status == 1);
}
