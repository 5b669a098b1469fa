#include "linkem_process.hpp"

#include <catch2/catch.hpp>

#include <poll.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace linkem::test {

std::string shell_quote(const std::string &s) {
    std::string out = "'";
    for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
}

Run run_linkem(const std::string &arguments, int timeout_s) { return run_program("LINKEM_BIN", arguments, timeout_s); }

std::string read_file(const std::filesystem::path &p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

nlohmann::json read_json(const std::filesystem::path &p) { return nlohmann::json::parse(read_file(p)); }

const nlohmann::json &named(const nlohmann::json &stats, const std::string &list, const std::string &name) {
    for (const nlohmann::json &o : stats.at(list))
        if (o.at("name") == name) return o;
    throw std::runtime_error("no " + list + " entry named \"" + name + "\" in " + stats.dump());
}

bool all_balanced(const nlohmann::json &stats) {
    for (const nlohmann::json &l : stats.at("links"))
        if (l.at("balanced") != true) return false;
    return true;
}

namespace {

// Runs a shell command line, its stdout and stderr collected together.
// User plus system time of the children this process waited for, so far.
double children_cpu_seconds() {
    rusage usage{};
    getrusage(RUSAGE_CHILDREN, &usage);
    const auto seconds = [](const timeval &t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
    return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

Run run_shell(const std::string &command) {
    Run run;
    const double cpu_before = children_cpu_seconds();
    const auto started = std::chrono::steady_clock::now();
    FILE *pipe = popen(command.c_str(), "r");
    REQUIRE(pipe != nullptr);
    char buffer[4096];
    for (size_t n; (n = fread(buffer, 1, sizeof buffer, pipe)) > 0;) run.output.append(buffer, n);
    const int raw = pclose(pipe);
    run.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    run.cpu_seconds = children_cpu_seconds() - cpu_before;
    run.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : 128 + WTERMSIG(raw);
    return run;
}

std::string timed_command(const char *binary_env, const std::string &arguments, int timeout_s) {
    const char *bin = std::getenv(binary_env);
    REQUIRE(bin != nullptr);
    return "timeout " + std::to_string(timeout_s) + " " + shell_quote(bin) + " " + arguments + " 2>&1";
}

}  // namespace

Run run_shell_command(const std::string &command) { return run_shell(command + " 2>&1"); }

Run run_program(const char *binary_env, const std::string &arguments, int timeout_s) {
    return run_shell(timed_command(binary_env, arguments, timeout_s));
}

Run run_program_limited(const char *binary_env, const std::string &arguments, int timeout_s, int memory_mib) {
    return run_shell("ulimit -v " + std::to_string(memory_mib * 1024) + " && " + timed_command(binary_env, arguments, timeout_s));
}

Run run_linkem_and(const std::string &arguments, int timeout_s, const std::function<void(pid_t)> &while_running,
                   const std::string &prefix) {
    const char *bin = std::getenv("LINKEM_BIN");
    REQUIRE(bin != nullptr);
    int fds[2];
    REQUIRE(pipe(fds) == 0);
    const auto started = std::chrono::steady_clock::now();
    const pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {  // the child becomes linkem itself (exec), so pid is linkem's
        dup2(fds[1], 1);
        dup2(fds[1], 2);
        close(fds[0]);
        close(fds[1]);
        const std::string command = "exec " + prefix + shell_quote(bin) + " " + arguments;
        execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char *>(nullptr));
        _exit(127);
    }
    close(fds[1]);
    while_running(pid);
    Run run;
    char buffer[4096];
    for (;;) {
        pollfd p{fds[0], POLLIN, 0};
        const double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
        if (waited > timeout_s) {
            kill(pid, SIGKILL);
            break;
        }
        if (poll(&p, 1, 100) <= 0) continue;
        const ssize_t n = read(fds[0], buffer, sizeof buffer);
        if (n <= 0) break;
        run.output.append(buffer, static_cast<size_t>(n));
    }
    close(fds[0]);
    int raw = 0;
    waitpid(pid, &raw, 0);
    run.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    run.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : 128 + WTERMSIG(raw);
    return run;
}

TempDir::TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "linkem-test-XXXXXX").string();
    REQUIRE(mkdtemp(pattern.data()) != nullptr);
    path_ = pattern;
}

TempDir::~TempDir() { std::filesystem::remove_all(path_); }

std::string TempDir::write(const std::string &name, const std::string &content) const {
    const std::filesystem::path p = path_ / name;
    std::ofstream(p, std::ios::binary) << content;
    return p.string();
}

}  // namespace linkem::test
