// [unit] A quiet, honest start-up: the expected EAL and driver lines are
// recognised (and only they), device strings name a driver DPDK has, and the
// interfaces a device needs are looked for.
#include "linkem/config.hpp"
#include "linkem/device_driver.hpp"
#include "linkem/device_iface.hpp"
#include "linkem/log_filter.hpp"

#include <catch2/catch.hpp>

using namespace linkem;

TEST_CASE("the expected start-up lines are recognised, lines that matter are not", "[unit][log]") {
    // As DPDK 22.11 prints them (a run on two net_tap ports in a container).
    for (const char *line :
         {"TELEMETRY: No legacy callbacks, legacy socket not created", "EAL: No available 1048576 kB hugepages reported",
          "EAL: No free 1048576 kB hugepages reported on node 0", "tap_nl_dump_ext_ack(): Specified qdisc kind is unknown",
          "qdisc_create_multiq(): Could not add multiq qdisc (2): No such file or directory",
          "eth_dev_tap_create(): qtest0: failed to create multiq qdisc.",
          "eth_dev_tap_create():  Disabling rte flow support: No such file or directory(2)",
          "tap_mp_req_on_rxtx(): Failed to send start req to secondary 95"}) {
        INFO(line);
        CHECK(is_expected_startup_line(line));
    }
    for (const char *line :
         {"EAL: Cannot get hugepage information.", "EAL: lcore 99 unavailable", "eth_dev_tap_create(): Unable to create qtest0 interface",
          "TELEMETRY: Error with create legacy socket thread: x", "rte_pmd_af_packet_probe(): eth0: ioctl failed (SIOCGIFINDEX)",
          "vdev_probe(): failed to initialize net_foo0 device", "EAL: No available hugepages reported in hugepages-2048kB", ""}) {
        INFO(line);
        CHECK_FALSE(is_expected_startup_line(line));
    }
}

TEST_CASE("only the expected lines are dropped from what a log call wrote, and only when filtering", "[unit][log]") {
    const std::string text =
        "TELEMETRY: No legacy callbacks, legacy socket not created\nEAL: lcore 99 unavailable\n"
        "tap_mp_req_on_rxtx(): Failed to send start req to secondary 95\nlast line without newline";
    CHECK(without_expected_lines(text, true) == "EAL: lcore 99 unavailable\nlast line without newline");
    CHECK(without_expected_lines(text, false) == text);
    CHECK(without_expected_lines("TELEMETRY: No legacy callbacks, legacy socket not created\n", true).empty());
}

TEST_CASE("a device names a DPDK driver: a known vdev driver, an alias or a PCI address", "[unit][config]") {
    for (const char *device :
         {"net_null0", "net_null_a,size=64", "net_tap0,iface=lkm-a", "net_af_packet1,iface=veth0", "eth_af_packet0,iface=x",
          "net_pcap0,rx_pcap=in.pcap", "net_ring0", "0000:01:00.0", "01:00.0,txq_inline=1"}) {
        INFO(device);
        CHECK_FALSE(device_driver_problem(device));
    }
    const auto unknown = device_driver_problem("net_foo0");
    REQUIRE(unknown);
    CHECK_THAT(*unknown, Catch::Contains("no DPDK driver is called \"net_foo0\"") && Catch::Contains("net_null") &&
                             Catch::Contains("net_af_packet") && !Catch::Contains("did you mean"));
    const auto typo = device_driver_problem("net_nul0,size=64");
    REQUIRE(typo);
    CHECK_THAT(*typo, Catch::Contains("\"net_nul0\"") && Catch::Contains("(did you mean net_null?)"));
    CHECK_THAT(device_driver_problem("net_tpa1,iface=x").value_or(""), Catch::Contains("did you mean net_tap?"));
    CHECK(device_driver_problem("n0"));
}

TEST_CASE("unknown drivers are errors at each port's device string, unless EAL loads drivers", "[unit][config]") {
    Config c;
    c.file = "f.yaml";
    c.ports = {{"a", "net_null0", {2, 3}, {2, 14}, {}}, {"b", "net_foo1", {3, 3}, {3, 14}, {}}};
    const std::vector<ConfigError> errors = check_device_drivers(c, {});
    REQUIRE(errors.size() == 1);
    CHECK_THAT(errors[0].to_string(), Catch::StartsWith("f.yaml:3:14: ports.b.device: no DPDK driver is called \"net_foo1\""));
    CHECK(check_device_drivers(c, {"-d", "/opt/pmds/librte_net_foo.so"}).empty());
    c.eal = {"-d/opt/pmds"};
    CHECK(check_device_drivers(c, {}).empty());
}

TEST_CASE("an interface net_af_packet or net_pcap needs is warned about when missing; net_tap creates its own", "[unit][config]") {
    CHECK(interfaces_needed("net_af_packet0,iface=veth-a") == std::vector<std::string>{"veth-a"});
    CHECK(interfaces_needed("net_pcap0,rx_iface=a,tx_iface=b") == std::vector<std::string>{"a", "b"});
    CHECK(interfaces_needed("net_tap0,iface=lkm-a").empty());
    CHECK(interfaces_needed("net_null0").empty());
    Config c;
    c.file = "f.yaml";
    c.ports = {{"a", "net_af_packet0,iface=present", {2, 3}, {2, 14}, {}},
               {"b", "net_af_packet1,iface=absent", {3, 3}, {3, 14}, {}},
               {"c", "net_tap0,iface=absent-too", {4, 3}, {4, 14}, {}}};
    const std::vector<std::string> warnings = missing_interface_warnings(c, [](const std::string &iface) { return iface == "present"; });
    REQUIRE(warnings.size() == 1);
    CHECK_THAT(warnings[0], Catch::StartsWith("f.yaml:3:14: ports.b.device: interface absent does not exist"));
}
