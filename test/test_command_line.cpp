// [unit] The command line and the EAL arguments linkem derives.
#include "linkem/command_line.hpp"
#include "linkem/eal_args.hpp"
#include "linkem/instance.hpp"

#include <unistd.h>

#include <catch2/catch.hpp>

#include <algorithm>

using namespace linkem;

namespace {

CommandLine must_parse(const std::vector<std::string> &args) {
    const Parsed<CommandLine> p = parse_command_line(args);
    INFO(p.error);
    REQUIRE(p);
    return *p.value;
}

std::string error_of(const std::vector<std::string> &args) {
    const Parsed<CommandLine> p = parse_command_line(args);
    REQUIRE_FALSE(p);
    return p.error;
}

Config two_ports(const std::string &dev_a, const std::string &dev_b) {
    Config c;
    c.ports = {{"a", dev_a, {}, {}, {}}, {"b", dev_b, {}, {}, {}}};
    return c;
}

std::string value_after(const std::vector<std::string> &v, const std::string &option) {
    const auto it = std::find(v.begin(), v.end(), option);
    return it != v.end() && it + 1 != v.end() ? *(it + 1) : std::string{};
}

bool contains(const std::vector<std::string> &v, const std::string &s) { return std::find(v.begin(), v.end(), s) != v.end(); }

}  // namespace

TEST_CASE("options take values separately or after '='", "[unit][cli]") {
    const CommandLine cl = must_parse({"wan.yaml", "--check", "--duration", "5s", "--stats-json=s.json", "--stats-interval=250ms",
                                       "--log-level", "debug", "--", "-l", "0,1", "--check"});
    CHECK(cl.config_path == "wan.yaml");
    CHECK(cl.check);
    CHECK(cl.duration == Duration{5'000'000'000});
    CHECK(cl.stats_json_path == "s.json");
    CHECK(cl.stats_interval == Duration{250'000'000});
    CHECK(cl.log_level == "debug");
    CHECK(cl.eal_args == std::vector<std::string>{"-l", "0,1", "--check"});
    CHECK(must_parse({"--help"}).help);
    CHECK(must_parse({"--version"}).version);
    CHECK_FALSE(must_parse({"x.yaml"}).duration);
}

TEST_CASE("command line mistakes are named", "[unit][cli]") {
    CHECK(error_of({}) == "no configuration file given");
    CHECK_THAT(error_of({"x.yaml", "--chek"}), Catch::Contains("unknown option \"--chek\"; did you mean --check?"));
    CHECK_THAT(error_of({"x.yaml", "--duration"}), Catch::Contains("--duration needs a duration"));
    CHECK_THAT(error_of({"x.yaml", "--duration", "soon"}), Catch::Contains("--duration: \"soon\" is not a duration"));
    CHECK_THAT(error_of({"x.yaml", "--log-level", "loud"}), Catch::Contains("error, warning, notice, info, debug"));
    CHECK_THAT(error_of({"x.yaml", "y.yaml"}), Catch::Contains("more than one configuration file"));
    CHECK_THAT(error_of({"x.yaml", "--check=yes"}), Catch::Contains("--check takes no value"));
    CHECK_THAT(error_of({"x.yaml", "--stats-json", "--check"}), Catch::Contains("--stats-json needs a file name"));
    CHECK_THAT(error_of({"x.yaml", "--stats-jsonl"}), Catch::Contains("--stats-jsonl needs a file name"));
    CHECK_THAT(error_of({"x.yaml", "--stats-jsonl", "s.jsonl", "--stats-interval", "0"}),
               Catch::Contains("--stats-jsonl writes a line per --stats-interval"));
    CHECK_THAT(error_of({"x.yaml", "--stats-jsonl", "s.json", "--stats-json", "s.json"}), Catch::Contains("name the same file"));
    const CommandLine cl = must_parse({"x.yaml", "--stats-jsonl=s.jsonl", "--stats-interval", "250ms"});
    CHECK(cl.stats_jsonl_path == "s.jsonl");
    CHECK(cl.stats_json_path.empty());
}

TEST_CASE("--name names the instance; --file-prefix after -- is refused in its favour", "[unit][cli]") {
    CHECK_FALSE(must_parse({"x.yaml"}).name);
    CHECK(must_parse({"x.yaml", "--name", "lab2"}).name == std::string("lab2"));
    CHECK(must_parse({"x.yaml", "--name=lab2"}).name == std::string("lab2"));
    CHECK_THAT(error_of({"x.yaml", "--name"}), Catch::Contains("--name needs an instance name"));
    CHECK_THAT(error_of({"x.yaml", "--name", "a b"}), Catch::Contains("--name: \"a b\" is not an instance name"));
    CHECK_THAT(error_of({"x.yaml", "--", "--file-prefix=x"}), Catch::Contains("use --name NAME instead"));
    CHECK_THAT(error_of({"x.yaml", "--", "--file-prefix", "x"}), Catch::Contains("use --name NAME instead"));
    CHECK_THAT(usage_text(), Catch::Contains("--name NAME"));
}

TEST_CASE("an instance's runtime directory and telemetry socket follow EAL's rule", "[unit][cli]") {
    if (geteuid() == 0) {
        CHECK(dpdk_runtime_dir("lab2") == "/var/run/dpdk/lab2");
        CHECK(telemetry_socket_path("lab2") == "/var/run/dpdk/lab2/dpdk_telemetry.v2");
    } else {
        CHECK_THAT(telemetry_socket_path("lab2"), Catch::EndsWith("/dpdk/lab2/dpdk_telemetry.v2"));
    }
    CHECK(instance_name_problem("linkem").empty());
    CHECK(instance_name_problem(std::string(32, 'x')).empty());
    CHECK_FALSE(instance_name_problem(std::string(33, 'x')).empty());
    CHECK_FALSE(instance_name_problem("a%b").empty());
}

TEST_CASE("--from-netem takes netem's options in one argument and needs no configuration", "[unit][cli][netem]") {
    CHECK(must_parse({"--from-netem", "delay 100ms 10ms loss 1%"}).from_netem == std::string("delay 100ms 10ms loss 1%"));
    CHECK(must_parse({"--from-netem=loss 1%"}).from_netem == std::string("loss 1%"));
    CHECK_FALSE(must_parse({"x.yaml"}).from_netem);
    CHECK_THAT(error_of({"--from-netem"}), Catch::Contains("--from-netem needs netem's options"));
    CHECK_THAT(error_of({"--from-netm", "loss 1%"}), Catch::Contains("did you mean --from-netem?"));
}

TEST_CASE("with no EAL arguments linkem picks working defaults", "[unit][eal]") {
    Config c = two_ports("net_null0", "net_null1");
    c.pipeline.lcores = {0, 1};
    // DPDK 22.11 refuses --in-memory beside --no-huge (it implies --legacy-mem):
    // the fallback shares nothing with --no-shconf instead.
    const EalPlan no_huge = plan_eal_arguments(c, {}, HostFacts{false, {0, 1}});
    CHECK(no_huge.args == std::vector<std::string>{"linkem", "--file-prefix=linkem", "--no-shconf", "--no-huge", "-m", "1024", "-l", "0,1",
                                                   "--vdev=net_null0", "--vdev=net_null1", "--no-pci"});
    CHECK_FALSE(no_huge.hugepages);
    CHECK(no_huge.dpdk_heap_limit_bytes == 1024ULL << 20);
    REQUIRE(no_huge.warnings.size() == 1);
    CHECK_THAT(no_huge.warnings[0], Catch::Contains("--no-huge"));

    const EalPlan huge = plan_eal_arguments(c, {}, HostFacts{true, {0, 1}});
    CHECK_FALSE(contains(huge.args, "--no-huge"));
    CHECK(contains(huge.args, "--in-memory"));
    CHECK(huge.hugepages);
    CHECK(huge.dpdk_heap_limit_bytes == 0);
    CHECK(huge.warnings.empty());
}

TEST_CASE("without a hugetlbfs mount, hugepages are used only by --in-memory, which maps them anonymously", "[unit][eal]") {
    Config c = two_ports("net_null0", "net_null1");
    HostFacts unmounted{true, {0, 1}};
    unmounted.hugetlbfs_mounted = false;
    const EalPlan in_memory = plan_eal_arguments(c, {}, unmounted);
    CHECK(contains(in_memory.args, "--in-memory"));
    CHECK_FALSE(contains(in_memory.args, "--no-huge"));
    c.capture = true;  // multi-process mode needs the mount
    const EalPlan shared = plan_eal_arguments(c, {}, unmounted);
    CHECK(contains(shared.args, "--file-prefix=linkem"));
    CHECK(contains(shared.args, "--no-huge"));
    CHECK_FALSE(shared.hugepages);
    CHECK_THAT(shared.warnings[0], Catch::Contains("no hugetlbfs mount"));
}

TEST_CASE("the user's memory arguments decide DPDK's heap; --in-memory with --no-huge is warned about", "[unit][eal]") {
    Config c = two_ports("net_null0", "net_null1");
    const EalPlan own = plan_eal_arguments(c, {"--no-huge", "--no-shconf", "-m", "512"}, HostFacts{true, {0, 1}});
    CHECK_FALSE(own.hugepages);
    CHECK(own.dpdk_heap_limit_bytes == 512ULL << 20);
    CHECK(own.warnings.empty());
    CHECK(plan_eal_arguments(c, {"--no-huge", "--no-shconf"}, HostFacts{true, {0, 1}}).dpdk_heap_limit_bytes == 64ULL << 20);
    CHECK(plan_eal_arguments(c, {"-m256"}, HostFacts{true, {0, 1}}).dpdk_heap_limit_bytes == 0);  // dynamic hugepage memory grows
    // The user's own --no-huge: linkem's default sharing is --no-shconf, not --in-memory (DPDK would refuse).
    const EalPlan user_no_huge = plan_eal_arguments(c, {"--no-huge"}, HostFacts{true, {0, 1}});
    CHECK(contains(user_no_huge.args, "--no-shconf"));
    CHECK_FALSE(contains(user_no_huge.args, "--in-memory"));
    const EalPlan refused = plan_eal_arguments(c, {"--in-memory"}, HostFacts{false, {0, 1}});
    REQUIRE(refused.warnings.size() == 2);
    CHECK_THAT(refused.warnings[1], Catch::Contains("use --no-shconf"));
}

TEST_CASE("capture: true puts EAL in multi-process mode under a file prefix dpdk-dumpcap can name", "[unit][eal]") {
    Config c = two_ports("net_null0", "net_null1");
    c.capture = true;
    const EalPlan huge = plan_eal_arguments(c, {}, HostFacts{true, {0, 1}});
    CHECK(contains(huge.args, "--file-prefix=linkem"));
    CHECK_FALSE(contains(huge.args, "--in-memory"));
    CHECK(huge.warnings.empty());
    c.name = "lab2";  // the instance's name is the prefix
    const EalPlan named = plan_eal_arguments(c, {}, HostFacts{true, {0, 1}});
    CHECK_FALSE(contains(named.args, "--file-prefix=linkem"));
    CHECK(contains(named.args, "--file-prefix=lab2"));
    c.name = "linkem";
    const EalPlan no_huge = plan_eal_arguments(c, {}, HostFacts{false, {0, 1}});
    REQUIRE(no_huge.warnings.size() == 2);
    CHECK_THAT(no_huge.warnings[1], Catch::Contains("dpdk-dumpcap cannot share linkem's memory"));
    const EalPlan in_memory = plan_eal_arguments(c, {"--in-memory"}, HostFacts{true, {0, 1}});
    REQUIRE(in_memory.warnings.size() == 1);
    CHECK_THAT(in_memory.warnings[0], Catch::Contains("dpdk-dumpcap will not find linkem"));
}

TEST_CASE("lcores come from the configuration, the host, or the user", "[unit][eal]") {
    Config c = two_ports("net_null0", "net_null1");
    const EalPlan automatic = plan_eal_arguments(c, {}, HostFacts{true, {2, 3, 5}});
    CHECK(value_after(automatic.args, "-l") == "2,3");
    c.pipeline.lcores = {0, 7};
    const EalPlan user = plan_eal_arguments(c, {"-l", "1"}, HostFacts{true, {0, 1}});
    CHECK(std::count(user.args.begin(), user.args.end(), "-l") == 1);
    CHECK(contains(user.args, "--in-memory"));  // choosing lcores says nothing about memory
    c.pipeline.lcores = {0, 1};
    c.pipeline.classify_lcore = 2;
    CHECK(value_after(plan_eal_arguments(c, {}, HostFacts{true, {0, 1, 2}}).args, "-l") == "0,1,2");  // the classify lcore joins
    c.pipeline.lcores.clear();
    CHECK(value_after(plan_eal_arguments(c, {}, HostFacts{true, {0, 1, 2, 3}}).args, "-l") == "0,1,2");
}

TEST_CASE("lcores the process may not run on are errors at their positions, before EAL sees them", "[unit][eal]") {
    Config c = two_ports("net_null0", "net_null1");
    c.file = "f.yaml";
    c.pipeline.lcores = {0, 7};
    c.pipeline.lcores_pos = {{3, 21}, {3, 24}};
    const std::vector<ConfigError> errors = check_lcores_allowed(c, {}, HostFacts{true, {0, 1}});
    REQUIRE(errors.size() == 1);
    CHECK_THAT(errors[0].to_string(),
               Catch::StartsWith("f.yaml:3:24: pipeline.lcores[1]: lcore 7: this process may run on CPUs 0,1 only") &&
                   Catch::Contains("--lcores"));
    CHECK(check_lcores_allowed(c, {}, HostFacts{true, {0, 1, 7}}).empty());
    CHECK(check_lcores_allowed(c, {"--lcores", "0@0,7@1"}, HostFacts{true, {0, 1}}).empty());  // EAL's own mapping rules
    c.pipeline.lcores = {0, 1};
    c.pipeline.classify_lcore = 2;
    c.pipeline.classify_lcore_pos = {4, 40};
    const std::vector<ConfigError> classify = check_lcores_allowed(c, {}, HostFacts{true, {1, 0}});
    REQUIRE(classify.size() == 1);
    CHECK_THAT(classify[0].to_string(), Catch::StartsWith("f.yaml:4:40: pipeline.classify_lcore: lcore 2:"));
    c.pipeline.lcores.clear();
    c.pipeline.classify_lcore.reset();
    CHECK(check_lcores_allowed(c, {}, HostFacts{true, {0}}).empty());  // automatic lcores come from the allowed CPUs
}

TEST_CASE("PCI devices are allow-listed, anything else is a vdev", "[unit][eal]") {
    CHECK(is_pci_address("0000:01:00.0"));
    CHECK(is_pci_address("01:00.1"));
    CHECK(is_pci_address("0000:af:00.0,rxq_cqe_comp_en=0"));
    CHECK_FALSE(is_pci_address("net_null0"));
    CHECK_FALSE(is_pci_address("net_tap0,iface=lkm-a"));
    Config c = two_ports("0000:01:00.0", "net_tap0,iface=x");
    c.eal = {"--log-level=lib.eal:notice"};
    const EalPlan plan = plan_eal_arguments(c, {}, HostFacts{true, {0, 1}});
    CHECK(value_after(plan.args, "-a") == "0000:01:00.0");
    CHECK(contains(plan.args, "--vdev=net_tap0,iface=x"));
    CHECK_FALSE(contains(plan.args, "--no-pci"));
    CHECK(plan.args.back() == "--log-level=lib.eal:notice");
    CHECK(contains(plan.args, "--in-memory"));  // a log level does not turn the defaults off
}

TEST_CASE("a default steps aside for a user argument about the same thing", "[unit][eal]") {
    Config c = two_ports("net_null0", "net_null1");
    c.eal = {"--no-shconf", "-m", "256"};
    const EalPlan plan = plan_eal_arguments(c, {}, HostFacts{false, {0, 1}});
    CHECK_FALSE(contains(plan.args, "--in-memory"));
    CHECK_FALSE(contains(plan.args, "--no-huge"));
    CHECK(plan.warnings.empty());
}
