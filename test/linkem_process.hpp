// Helpers for tests that run the real `linkem` binary (path in $LINKEM_BIN,
// set by meson test) as a child process, and for their scratch files.
#pragma once

#include <nlohmann/json.hpp>

#include <filesystem>
#include <functional>
#include <sys/types.h>
#include <string>

namespace linkem::test {

struct Run {
    int status = -1;         // exit status; 128 + signal when killed
    std::string output;      // stdout and stderr together
    double seconds = 0;      // wall-clock time
    double cpu_seconds = 0;  // CPU time (user + system) the program used: a busy host does not inflate it
};

std::string shell_quote(const std::string &s);

// Runs `linkem ARGUMENTS` (already shell-quoted) under `timeout`, so a hang
// becomes a failure instead of a stuck test run.
Run run_linkem(const std::string &arguments, int timeout_s);
// A shell command line, its stdout and stderr together.
Run run_shell_command(const std::string &command);
// The same for the program whose path is in environment variable `binary_env`.
Run run_program(const char *binary_env, const std::string &arguments, int timeout_s);
// The same with the address space limited to memory_mib (ulimit -v): a
// runaway allocation ends in std::bad_alloc within moments instead of
// filling the host's memory while the time limit runs.
Run run_program_limited(const char *binary_env, const std::string &arguments, int timeout_s, int memory_mib);
// Runs `linkem ARGUMENTS` and calls while_running(pid) as soon as it has
// started (to send it signals); then waits for it, killing it after timeout_s.
// `prefix` (shell words ending in a space, such as "ip netns exec NS ") runs linkem
// through a program that execs it, so pid stays linkem's.
Run run_linkem_and(const std::string &arguments, int timeout_s, const std::function<void(pid_t)> &while_running,
                   const std::string &prefix = "");

std::string read_file(const std::filesystem::path &p);

// A JSON file (linkem's or linkem-sim's --stats-json), parsed; throws when it is not JSON.
nlohmann::json read_json(const std::filesystem::path &p);
// The object named `name` in stats[list] ("links" or "ports"); throws when there is none.
const nlohmann::json &named(const nlohmann::json &stats, const std::string &list, const std::string &name);
inline const nlohmann::json &link_in(const nlohmann::json &stats, const std::string &name) { return named(stats, "links", name); }
inline const nlohmann::json &port_in(const nlohmann::json &stats, const std::string &name) { return named(stats, "ports", name); }
// Whether every link in stats says "balanced": true.
bool all_balanced(const nlohmann::json &stats);

// A directory under /tmp, removed with everything in it at scope end.
class TempDir {
  public:
    TempDir();
    ~TempDir();
    TempDir(const TempDir &) = delete;
    TempDir &operator=(const TempDir &) = delete;
    std::string write(const std::string &name, const std::string &content) const;  // returns the path
    const std::filesystem::path &path() const { return path_; }
    std::filesystem::path operator/(const std::string &name) const { return path_ / name; }

  private:
    std::filesystem::path path_;
};

}  // namespace linkem::test
