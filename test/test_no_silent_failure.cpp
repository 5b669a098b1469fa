// [eal][silent] Nothing fails silently (issue 15, item 4): the real linkem,
// with net_af_packet on a veth pair inside a network namespace this file
// creates and deletes, or on net_null ports:
//  - frames a driver accepted and did not deliver (an interface deleted
//    mid-run) are reported per port and fail the run;
//  - the link state at the start (an administratively down interface) and
//    every change, with its time, in the log and the JSON;
//  - a second linkem on an interface in use is refused, naming the first;
//  - SIGTERM stops cleanly with the summary; SIGUSR1 prints the summary so far;
//  - the runtime files: what a killed run left is removed by the next one,
//    and a clean exit with capture: true leaves no hugepage files.
// Needs root; the namespace tests need `ip` and network namespaces.
#include "linkem_process.hpp"
#include "skip.hpp"

#include <catch2/catch.hpp>

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using namespace linkem::test;

namespace {

bool have_root() { return geteuid() == 0; }

int sh(const std::string &command) { return std::system((command + " >/dev/null 2>&1").c_str()); }

// A network namespace holding a veth pair, A and B (both up), removed with everything in it at scope end.
class VethNamespace {
  public:
    VethNamespace() : ns_("lkms-" + std::to_string(getpid())) {
        if (sh("ip netns add " + ns_) != 0) return;
        ok_ = sh(in_ns("ip link add lkms-a type veth peer name lkms-b")) == 0 && sh(in_ns("ip link set lkms-a up")) == 0 &&
              sh(in_ns("ip link set lkms-b up")) == 0;
    }
    ~VethNamespace() { sh("ip netns del " + ns_); }
    bool ok() const { return ok_; }
    std::string in_ns(const std::string &command) const { return "ip netns exec " + ns_ + " " + command; }
    std::string prefix() const { return "ip netns exec " + ns_ + " "; }
    // linkem's lock file for an interface of this namespace (named by the namespace's inode).
    fs::path lock_file(const std::string &iface) const {
        struct stat st {};
        REQUIRE(stat(("/var/run/netns/" + ns_).c_str(), &st) == 0);
        return fs::path("/run/linkem") / ("iface-" + std::to_string(st.st_ino) + "-" + iface + ".lock");
    }

  private:
    std::string ns_;
    bool ok_ = false;
};

// net_null floods a-to-b, whose port b is net_af_packet on the namespace's lkms-a.
std::string flood_into_veth_config() {
    return "ports:\n  a: {device: \"net_null0,size=64\"}\n  b: {device: \"net_af_packet0,iface=lkms-a\"}\n"
           "links:\n  - {name: a-to-b, from: a, to: b, bandwidth: 10Mbit/s, delay: 1ms}\n";
}

size_t count_of(const std::string &text, const std::string &what) {
    size_t n = 0;
    for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
    return n;
}

// The last `n` lines of text.
std::string last_lines(const std::string &text, int n) {
    size_t at = text.size();
    if (at != 0 && text[at - 1] == '\n') --at;
    while (n-- > 0 && at != std::string::npos && at != 0) at = text.rfind('\n', at - 1);
    return at == std::string::npos ? text : text.substr(at);
}

}  // namespace

TEST_CASE("frames a driver accepted but did not deliver are reported per port and fail the run", "[eal][silent]") {
    if (!have_root()) LINKEM_SKIP("needs root to start DPDK's EAL");
    VethNamespace ns;
    if (!ns.ok()) LINKEM_SKIP("needs `ip` and network namespaces (ip netns add / veth failed)");
    TempDir dir;
    const std::string config = dir.write("af.yaml", flood_into_veth_config()), stats = (dir / "stats.json").string();
    // The interface port b sends on is deleted mid-run: af_packet's sends then fail (oerrors).
    const Run r = run_linkem_and(
        shell_quote(config) + " --duration 3s --stats-interval 0 --stats-json " + shell_quote(stats), 60,
        [&](pid_t) {
            usleep(1'800'000);
            sh(ns.in_ns("ip link del lkms-a"));
        },
        ns.prefix());
    INFO(r.output);
    CHECK(r.status == 1);
    CHECK_THAT(r.output, Catch::Contains("port b (driver): ipackets 0, opackets"));
    CHECK_THAT(r.output, Catch::Contains("driver errors: ") && Catch::Contains("frames not delivered (oerrors)"));
    CHECK_THAT(last_lines(r.output, 4), Catch::Contains("DRIVER ERRORS: port b:") && Catch::Contains("exit status 1: driver errors"));
    const nlohmann::json j = read_json(stats);
    const nlohmann::json &b = port_in(j, "b");
    INFO(b.dump());
    CHECK(b.at("oerrors") > 0);
    CHECK(b.at("driver_errors") == b.at("oerrors"));
    CHECK(port_in(j, "a").at("driver_errors") == 0);
}

TEST_CASE("link state: an administratively down interface is down at the start, and every change is reported with its time",
          "[eal][silent]") {
    if (!have_root()) LINKEM_SKIP("needs root to start DPDK's EAL");
    VethNamespace ns;
    if (!ns.ok()) LINKEM_SKIP("needs `ip` and network namespaces (ip netns add / veth failed)");
    sh(ns.in_ns("ip link set lkms-a down"));
    TempDir dir;
    const std::string config = dir.write("af.yaml", flood_into_veth_config()), stats = (dir / "stats.json").string();
    const Run r = run_linkem_and(
        shell_quote(config) + " --duration 3s --stats-interval 0 --stats-json " + shell_quote(stats), 60,
        [&](pid_t) {
            usleep(1'500'000);
            sh(ns.in_ns("ip link set lkms-a up"));
            usleep(700'000);
            sh(ns.in_ns("ip link del lkms-a"));
        },
        ns.prefix());
    INFO(r.output);
    CHECK((r.status == 0 || r.status == 1));  // 1 when sends into the down or deleted interface failed
    CHECK_THAT(r.output, Catch::Contains("port b (net_af_packet0,iface=lkms-a): ethdev 1, mtu 1500, link down (interface lkms-a is "
                                         "administratively down)"));
    CHECK_THAT(r.output, Catch::Contains("linkem: port b: link up ") && Catch::Contains("(was down (interface lkms-a is"));
    CHECK_THAT(r.output, Catch::Contains("linkem: port b: link gone (interface lkms-a no longer exists) at "));
    const nlohmann::json j = read_json(stats);
    const nlohmann::json &link = port_in(j, "b").at("link");
    INFO(link.dump());
    REQUIRE(link.size() == 3);
    CHECK(link[0].at("t_ns") == 0);
    CHECK(link[0].at("up") == false);
    CHECK(link[1].at("t_ns") > 100'000'000);  // the change's time since the start, not 0
    CHECK(link[1].at("up") == true);
    CHECK(link[2].at("t_ns") > link[1].at("t_ns"));
    CHECK(link[2].at("up") == false);
}

TEST_CASE("a second linkem on a kernel interface in use is refused, naming the first; two ports on one are refused", "[eal][silent]") {
    if (!have_root()) LINKEM_SKIP("needs root to start DPDK's EAL");
    VethNamespace ns;
    if (!ns.ok()) LINKEM_SKIP("needs `ip` and network namespaces (ip netns add / veth failed)");
    TempDir dir;
    const std::string first = dir.write("first.yaml", flood_into_veth_config());
    const std::string second = dir.write("second.yaml",
                                         "ports:\n  a: {device: \"net_af_packet0,iface=lkms-a\"}\n"
                                         "  b: {device: \"net_af_packet1,iface=lkms-b\"}\n"
                                         "links:\n  - {name: a-to-b, from: a, to: b}\n");
    Run refused;
    pid_t first_pid = 0;
    const Run r = run_linkem_and(
        shell_quote(first) + " --duration 3s --stats-interval 0", 60,
        [&](pid_t pid) {
            first_pid = pid;
            usleep(1'000'000);
            refused = run_linkem_and(
                shell_quote(second) + " --duration 1s --stats-interval 0", 30, [](pid_t) {}, ns.prefix());
        },
        ns.prefix());
    INFO(r.output);
    INFO(refused.output);
    CHECK(r.status == 0);
    CHECK(refused.status == 2);
    CHECK_THAT(refused.output, Catch::Contains("kernel interface lkms-a is in use by another linkem (pid " + std::to_string(first_pid) +
                                               ", config " + first + ")"));
    CHECK(!fs::exists(ns.lock_file("lkms-a")));  // the first removed its lock file as it exited
    const std::string twice = dir.write("twice.yaml",
                                        "ports:\n  a: {device: \"net_af_packet0,iface=lkms-a\"}\n"
                                        "  b: {device: \"net_af_packet1,iface=lkms-a\"}\n"
                                        "links:\n  - {name: a-to-b, from: a, to: b}\n");
    const Run config_error = run_linkem(shell_quote(twice) + " --duration 1s", 30);
    INFO(config_error.output);
    CHECK(config_error.status == 2);
    CHECK_THAT(config_error.output, Catch::Contains("twice.yaml:3:15: ports.b.device") &&
                                        Catch::Contains("kernel interface \"lkms-a\" is already used by port \"a\""));
}

namespace {

std::string null_config() {
    return "ports:\n  a: {device: \"net_null0,size=64\"}\n  b: {device: \"net_null1,size=64\"}\n"
           "links:\n  - {name: a-to-b, from: a, to: b, delay: 1ms}\n";
}

}  // namespace

TEST_CASE("SIGTERM stops cleanly with the summary and the JSON; SIGUSR1 prints the summary so far and the run goes on", "[eal][silent]") {
    if (!have_root()) LINKEM_SKIP("needs root to start DPDK's EAL");
    TempDir dir;
    const std::string config = dir.write("null.yaml", null_config()), stats = (dir / "stats.json").string();
    const Run hup = run_linkem_and(shell_quote(config) + " --stats-interval 0 --stats-json " + shell_quote(stats), 60, [](pid_t pid) {
        usleep(1'500'000);
        kill(pid, SIGTERM);  // SIGHUP reloads (test_change_live.cpp)
    });
    INFO(hup.output);
    CHECK(hup.status == 0);
    CHECK_THAT(hup.output,
               Catch::Contains("stopping") && Catch::Contains("accounting: rx = tx + drops + in flight:") && Catch::Contains(": balanced"));
    const nlohmann::json j = read_json(stats);
    CHECK(!j.at("links").empty());
    CHECK(all_balanced(j));

    const Run usr1 = run_linkem_and(shell_quote(config) + " --duration 3s --stats-interval 0", 60, [](pid_t pid) {
        usleep(1'500'000);
        kill(pid, SIGUSR1);
    });
    INFO(usr1.output);
    CHECK(usr1.status == 0);
    const size_t so_far = usr1.output.find("linkem: summary so far (SIGUSR1)");
    REQUIRE(so_far != std::string::npos);
    CHECK(usr1.output.find("link a-to-b: rx ", so_far) != std::string::npos);
    CHECK(usr1.output.find("linkem: ran 3", so_far) != std::string::npos);  // it went on to the end of --duration
    CHECK(count_of(usr1.output, "link a-to-b: rx ") == 2);                  // the summary so far, and the final one
}

namespace {

std::vector<fs::path> hugepage_files(const std::string &prefix) {
    std::vector<fs::path> files;
    std::error_code ec;
    for (const auto &e : fs::directory_iterator("/dev/hugepages", ec))
        if (e.path().filename().string().rfind(prefix + "map_", 0) == 0) files.push_back(e.path());
    return files;
}

bool socket_refuses(const fs::path &path) {
    const int fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::strncpy(address.sun_path, path.c_str(), sizeof address.sun_path - 1);
    const bool refused = connect(fd, reinterpret_cast<const sockaddr *>(&address), sizeof address) != 0 && errno == ECONNREFUSED;
    close(fd);
    return refused;
}

}  // namespace

TEST_CASE("a killed run's stale telemetry socket is removed by the next run", "[eal][silent]") {
    if (!have_root()) LINKEM_SKIP("needs root to start DPDK's EAL");
    TempDir dir;
    const std::string config = dir.write("null.yaml", null_config());
    // A prefix of its own, so that no other DPDK process on the machine shares the runtime directory.
    const std::string prefix = "lkmt-stale-" + std::to_string(getpid());
    const fs::path socket_path = "/var/run/dpdk/" + prefix + "/dpdk_telemetry.v2";
    const std::string eal = " --name " + prefix;  // the instance's name is EAL's file prefix
    const Run killed = run_linkem_and(shell_quote(config) + " --stats-interval 0" + eal, 60, [](pid_t pid) {
        usleep(1'500'000);
        kill(pid, SIGKILL);
    });
    INFO(killed.output);
    CHECK(killed.status == 128 + SIGKILL);
    if (!fs::exists(socket_path)) LINKEM_SKIP("EAL made no telemetry socket in " + socket_path.parent_path().string());
    CHECK(socket_refuses(socket_path));  // stale: nobody listens

    const Run next = run_linkem(shell_quote(config) + " --duration 1s --stats-interval 0" + eal, 60);
    INFO(next.output);
    CHECK(next.status == 0);
    CHECK_THAT(next.output, Catch::Contains("linkem: removed a stale socket " + socket_path.string() +
                                            " (no process listens on it), left by a run that was killed"));
    CHECK(!fs::exists(socket_path));
    std::error_code ec;
    fs::remove_all(socket_path.parent_path(), ec);
}

TEST_CASE("capture: true leaves no hugepage files or runtime directory, even after a killed run", "[eal][silent]") {
    if (!have_root()) LINKEM_SKIP("needs root to start DPDK's EAL");
    if (!fs::exists("/dev/hugepages")) LINKEM_SKIP("needs hugepages mounted at /dev/hugepages (tools/setup.sh reserves them)");
    TempDir dir;
    const std::string config = dir.write("capture.yaml", null_config() + "capture: true\n");
    const std::string prefix = "lkmtcap" + std::to_string(getpid());
    const fs::path runtime_dir = "/var/run/dpdk/" + prefix;
    const std::string eal = " --name " + prefix;
    const Run killed = run_linkem_and(shell_quote(config) + " --stats-interval 0" + eal, 60, [](pid_t pid) {
        usleep(2'000'000);
        kill(pid, SIGKILL);
    });
    INFO(killed.output);
    if (hugepage_files(prefix).empty()) LINKEM_SKIP("EAL used no hugepage files (no hugepages reserved?)");
    CHECK(fs::exists(runtime_dir / "config"));

    const Run next = run_linkem(shell_quote(config) + " --duration 1s --stats-interval 0" + eal, 60);
    INFO(next.output);
    CHECK(next.status == 0);
    CHECK_THAT(next.output, Catch::Contains("linkem: removed a stale hugepage file /dev/hugepages/" + prefix + "map_"));
    CHECK(hugepage_files(prefix).empty());
    CHECK(!fs::exists(runtime_dir));
    for (const fs::path &f : hugepage_files(prefix)) fs::remove(f);
    std::error_code ec;
    fs::remove_all(runtime_dir, ec);
}
