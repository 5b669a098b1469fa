#include "ctl.hpp"

#include "ctl_client.hpp"

#include "linkem/command_line.hpp"
#include "linkem/control_wire.hpp"
#include "linkem/instance.hpp"
#include "linkem/units.hpp"

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <ostream>
#include <thread>

namespace linkem {
namespace {

using nlohmann::json;

uint64_t number(const json &o, const char *key) {
    const auto it = o.find(key);
    return it != o.end() && it->is_number_integer() && it->get<int64_t>() >= 0 ? it->get<uint64_t>() : 0;
}

uint64_t nested(const json &o, const char *outer, const char *inner) {
    const auto it = o.find(outer);
    return it != o.end() && it->is_object() ? number(*it, inner) : 0;
}

// A reply of linkem's without its status and message, its strings whole again.
json document(const json &reply) {
    json doc = reply;
    doc.erase("status");
    doc.erase("message");
    if (doc.contains("config") && doc["config"].is_object())
        for (auto &[key, value] : doc["config"].items()) value = join_pieces(value);
    return doc;
}

std::string drops_text(const json &link) {
    std::vector<std::string> parts;
    if (const auto it = link.find("drops"); it != link.end() && it->is_object())
        for (const auto &[reason, n] : it->items())
            if (n.is_number_integer() && n.get<int64_t>() > 0) parts.push_back(fmt::format("{} {}", reason, n.get<uint64_t>()));
    return parts.empty() ? "none" : fmt::format("{}", fmt::join(parts, ", "));
}

std::string percentiles_text(const json &link, const char *key) {
    if (nested(link, key, "count") == 0) return "-";
    return fmt::format("{} / {}", human_duration(static_cast<double>(nested(link, key, "p50"))),
                       human_duration(static_cast<double>(nested(link, key, "p99"))));
}

// A connection to the instance, and what each request means for the exit status.
class Session {
  public:
    Session(const CtlOptions &o, std::ostream &out, std::ostream &err) : o_(o), out_(out), err_(err) {}

    int open() {
        const std::string path = o_.socket.empty() ? telemetry_socket_path(o_.name) : o_.socket;
        std::string error;
        bool no_listener = false;
        if (client_.connect(path, &error, &no_listener)) return kCtlOk;
        std::error_code ec;
        if (no_listener && o_.socket.empty()) {
            const bool maybe_root = geteuid() != 0 && std::filesystem::exists("/var/run/dpdk", ec);
            err_ << fmt::format(
                "linkemctl: no linkem instance named \"{}\" runs: {}{}\n", o_.name, error,
                maybe_root ? fmt::format("; a linkem run by root keeps its socket in /var/run/dpdk/{}: run linkemctl as root", o_.name)
                           : "");
        } else {
            err_ << fmt::format("linkemctl: {}\n", error);
        }
        return kCtlFailed;
    }

    // A command's reply; on failure the status to exit with (and the message printed).
    int ask(const std::string &command, const std::string &params, json *reply) {
        std::string error;
        bool too_long = false;
        const std::optional<json> r = client_.request(command, params, &error, &too_long);
        if (!r) {
            err_ << "linkemctl: " << error << "\n";
            return too_long ? kCtlBadInput : kCtlFailed;
        }
        if (!r->is_object() || !r->contains("status")) {
            err_ << fmt::format("linkemctl: the DPDK process behind {} does not answer {}: is it linkem?\n",
                                o_.socket.empty() ? telemetry_socket_path(o_.name) : o_.socket, command);
            return kCtlFailed;
        }
        *reply = *r;
        const json &status = (*r)["status"];
        const int code = status.is_number_integer() ? status.get<int>() : kCtlFailed;
        return code == kCtlOk || code == kCtlBadInput ? code : kCtlFailed;
    }

    // Prints a failed reply's message; returns its status.
    int report(int status, const json &reply) {
        const std::string message = reply.is_object() && reply.contains("message") ? join_pieces(reply["message"]) : std::string();
        if (!message.empty()) err_ << message << (message.back() == '\n' ? "" : "\n");
        return status;
    }

    int links(std::vector<std::string> *names) {
        json reply;
        if (const int s = ask(kCmdLinks, "", &reply); s != kCtlOk) return report(s, reply);
        for (const json &n : reply.value("links", json::array()))
            if (n.is_string()) names->push_back(n.get<std::string>());
        return kCtlOk;
    }

    int link(const std::string &name, json *doc) {
        json reply;
        if (const int s = ask(kCmdLink, name, &reply); s != kCtlOk) return report(s, reply);
        *doc = document(reply);
        return kCtlOk;
    }

    int show() {
        std::vector<std::string> names;
        if (!o_.link.empty())
            names.push_back(o_.link);
        else if (const int s = links(&names); s != kCtlOk)
            return s;
        json docs = json::array();
        for (const std::string &n : names) {
            json doc;
            if (const int s = link(n, &doc); s != kCtlOk) return s;
            docs.push_back(std::move(doc));
        }
        if (o_.json) {
            out_ << json{{"name", o_.name}, {"links", docs}}.dump(2) << "\n";
            return kCtlOk;
        }
        for (size_t i = 0; i < docs.size(); ++i) out_ << (i ? "\n" : "") << show_text(docs[i]);
        return kCtlOk;
    }

    int set() {
        for (const std::string &a : o_.assignments)
            if (a.find('=') == std::string::npos || a.front() == '=') {
                err_ << fmt::format("linkemctl: set: expected KEY=VALUE (such as delay=30ms), got \"{}\"; nothing was changed\n", a);
                return kCtlBadInput;
            }
        std::vector<std::string> words = {o_.link};
        words.insert(words.end(), o_.assignments.begin(), o_.assignments.end());
        if (!params_round_trip(words)) {
            err_ << "linkemctl: set: a KEY=VALUE holds a blank outside {}, [] or quotes (write delay={plugin: normal, mean: 20ms} "
                    "or quote the value); nothing was changed\n";
            return kCtlBadInput;
        }
        return change(kCmdSet, join_params(words));
    }

    int apply() {
        std::error_code ec;
        const std::filesystem::path path = std::filesystem::absolute(o_.file, ec);
        if (ec || !std::filesystem::is_regular_file(path, ec)) {
            err_ << fmt::format("linkemctl: apply: {} is not a file; nothing was changed\n", o_.file);
            return kCtlBadInput;
        }
        return change(kCmdApply, path.string());  // linkem's working directory is not ours
    }

    int change(const char *command, const std::string &params) {
        json reply;
        const int s = ask(command, params, &reply);
        if (s != kCtlOk) return report(s, reply);
        const std::string message = join_pieces(reply.value("message", json("")));
        if (!message.empty()) out_ << message << (message.back() == '\n' ? "" : "\n");
        return kCtlOk;
    }

    int watch() {
        std::vector<std::string> names;
        if (const int s = links(&names); s != kCtlOk) return s;
        std::vector<json> before;
        const bool tty = &out_ == &std::cout && isatty(STDOUT_FILENO) != 0;
        for (uint64_t shown = 0; o_.count == 0 || shown < o_.count;) {
            std::vector<json> now;
            for (const std::string &n : names) {
                json doc;
                if (const int s = link(n, &doc); s != kCtlOk) return s;
                now.push_back(std::move(doc));
            }
            if (!before.empty()) {
                out_ << (tty ? "\033[H\033[2J" : shown ? "\n" : "") << watch_table(now, before) << std::flush;
                ++shown;
            }
            before = std::move(now);
            if (o_.count == 0 || shown < o_.count) std::this_thread::sleep_for(std::chrono::nanoseconds(o_.interval_ns));
        }
        return kCtlOk;
    }

  private:
    const CtlOptions &o_;
    std::ostream &out_, &err_;
    TelemetryClient client_;
};

}  // namespace

bool parse_ctl_args(const std::vector<std::string> &args, CtlOptions *o, std::string *error) {
    CLI::App app{"Steers and watches a running linkem over DPDK telemetry.", "linkemctl"};
    app.set_version_flag("--version", version_line("linkemctl"));
    app.add_option("--name,-n", o->name, "the instance's name (linkem --name, or name: in its file)")->capture_default_str();
    app.add_option("--socket", o->socket, "connect to this telemetry socket instead of the instance's");
    app.require_subcommand(1);
    app.fallthrough();
    CLI::App *show = app.add_subcommand("show", "the configuration in force and the live counters of LINK, or of every link");
    show->add_option("link", o->link, "a link's name");
    show->add_flag("--json", o->json, "print JSON");
    CLI::App *set = app.add_subcommand("set", "change LINK: KEY=VALUE with the YAML's keys and units (delay=30ms loss=1%)");
    set->add_option("link", o->link, "a link's name")->required();
    set->add_option("assignments", o->assignments, "KEY=VALUE...")->required();
    CLI::App *apply = app.add_subcommand("apply", "make the links what FILE says (its ports, rules and pipeline as running)");
    apply->add_option("file", o->file, "a configuration file")->required();
    CLI::App *watch = app.add_subcommand("watch", "a live table every second: rates, queue, drops, delay and lateness");
    watch->add_option("--count", o->count, "print N tables, then stop (default: until interrupted)");
    std::string interval;
    watch->add_option("--interval", interval, "the time between tables (default 1s)");
    app.footer(
        "exit status: 0 done, 2 bad input (nothing changed), 1 no such instance or linkem could not do it\n"
        "linkemctl(1), docs/ARCHITECTURE.md \"Steering a running linkem\"");

    std::vector<const char *> argv = {"linkemctl"};
    for (const std::string &a : args) argv.push_back(a.c_str());
    try {
        app.parse(static_cast<int>(argv.size()), argv.data());
    } catch (const CLI::CallForHelp &) {
        o->help = true;
        o->help_text = app.help();
        return true;
    } catch (const CLI::CallForVersion &) {
        o->version = true;
        o->help_text = version_line("linkemctl") + "\n";
        return true;
    } catch (const CLI::ParseError &e) {
        *error = e.what();
        return false;
    }
    if (const std::string problem = instance_name_problem(o->name); !problem.empty()) {
        *error = "--name: " + problem;
        return false;
    }
    if (!interval.empty()) {
        const Parsed<Duration> d = Duration::parse(interval);
        if (!d || d.value->ns <= 0) {
            *error = fmt::format("--interval: {}", d ? "give a duration above 0, such as 1s" : d.error);
            return false;
        }
        o->interval_ns = static_cast<uint64_t>(d.value->ns);
    }
    for (CLI::App *sub : {show, set, apply, watch})
        if (sub->parsed()) o->command = sub->get_name();
    return true;
}

int run_linkemctl(const std::vector<std::string> &args, std::ostream &out, std::ostream &err) {
    CtlOptions o;
    std::string error;
    if (!parse_ctl_args(args, &o, &error)) {
        err << "linkemctl: " << error << "\nTry 'linkemctl --help'.\n";
        return kCtlBadInput;
    }
    if (o.help || o.version) {
        out << o.help_text;
        return kCtlOk;
    }
    Session session(o, out, err);
    if (const int s = session.open(); s != kCtlOk) return s;
    if (o.command == "show") return session.show();
    if (o.command == "set") return session.set();
    if (o.command == "apply") return session.apply();
    return session.watch();
}

std::string show_text(const json &link) {
    std::string out = fmt::format("link {}\n", link.value("name", std::string("?")));
    if (const auto it = link.find("config"); it != link.end() && it->is_object())
        for (const auto &[key, value] : it->items()) out += fmt::format("  {}: {}\n", key, join_pieces(value));
    out +=
        fmt::format("  packets: in {} ({}), out {} ({}), in flight {}, queue {}\n", number(link, "rx_packets"),
                    human_si(static_cast<double>(number(link, "rx_bytes")), "B"), number(link, "tx_packets"),
                    human_si(static_cast<double>(number(link, "tx_bytes")), "B"), number(link, "in_flight"), number(link, "queue_depth"));
    out += fmt::format("  drops: {}\n", drops_text(link));
    out += fmt::format("  delay p50 / p99: {}\n", percentiles_text(link, "delay_ns"));
    out += fmt::format("  lateness p50 / p99: {}\n", percentiles_text(link, "lateness_ns"));
    return out;
}

std::string watch_table(const std::vector<json> &now, const std::vector<json> &before) {
    std::string out = fmt::format("{:<16} {:>10} {:>12} {:>10} {:>12} {:>7}  {:<21} {:<21} {}\n", "LINK", "IN pps", "IN bit/s", "OUT pps",
                                  "OUT bit/s", "QUEUE", "DELAY p50 / p99", "LATENESS p50 / p99", "DROPS");
    for (size_t i = 0; i < now.size(); ++i) {
        const json &n = now[i];
        const json empty = json::object();
        const json &b = i < before.size() ? before[i] : empty;
        const uint64_t t1 = number(n, "run_ns"), t0 = number(b, "run_ns");
        const double seconds = t1 > t0 ? static_cast<double>(t1 - t0) / 1e9 : 0.0;
        const auto rate = [&](const char *key, double scale, const char *unit) -> std::string {
            if (seconds <= 0 || b.empty()) return "-";
            const uint64_t a = number(n, key), z = number(b, key);
            return human_si(a >= z ? scale * static_cast<double>(a - z) / seconds : 0.0, unit);
        };
        out += fmt::format("{:<16} {:>10} {:>12} {:>10} {:>12} {:>7}  {:<21} {:<21} {}\n", n.value("name", std::string("?")),
                           rate("rx_packets", 1, ""), rate("rx_bytes", 8, "bit/s"), rate("tx_packets", 1, ""), rate("tx_bytes", 8, "bit/s"),
                           number(n, "queue_depth"), percentiles_text(n, "delay_ns"), percentiles_text(n, "lateness_ns"), drops_text(n));
    }
    return out;
}

}  // namespace linkem
