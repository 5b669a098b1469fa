#include "eal_log.hpp"

#include "linkem/log_filter.hpp"

#include <rte_eal.h>
#include <rte_log.h>

#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>

namespace linkem {
namespace {

bool g_drop_expected = true;

// The cookie stream's write: `size` bytes of one or more whole log lines
// (the stream is fully buffered and rte_log flushes after each message).
ssize_t write_log(void *, const char *bytes, size_t size) {
    const std::string kept = without_expected_lines(std::string_view(bytes, size), g_drop_expected);
    if (!kept.empty()) {
        const ssize_t ignored = write(STDERR_FILENO, kept.data(), kept.size());
        (void)ignored;  // nowhere to report a failing stderr
    }
    return static_cast<ssize_t>(size);
}

}  // namespace

void install_eal_log(bool drop_expected) {
    g_drop_expected = drop_expected;
    cookie_io_functions_t functions{};
    functions.write = write_log;
    FILE *stream = fopencookie(nullptr, "w", functions);
    if (stream == nullptr) return;  // DPDK keeps its own stream: unfiltered, still correct
    setvbuf(stream, nullptr, _IOFBF, 16384);
    rte_openlog_stream(stream);
}

int init_eal(std::vector<std::string> args, bool *refused_arguments) {
    *refused_arguments = false;
    std::vector<char *> argv;
    for (std::string &a : args) argv.push_back(a.data());
    argv.push_back(nullptr);

    std::fflush(stdout);
    FILE *held = std::tmpfile();
    const int saved_stdout = held != nullptr ? dup(STDOUT_FILENO) : -1;
    if (saved_stdout < 0 || dup2(fileno(held), STDOUT_FILENO) < 0) {  // cannot hold it back: EAL prints as it will
        if (held != nullptr) std::fclose(held);
        if (saved_stdout >= 0) close(saved_stdout);
        return rte_eal_init(static_cast<int>(args.size()), argv.data());
    }
    const int rc = rte_eal_init(static_cast<int>(args.size()), argv.data());
    std::fflush(stdout);
    dup2(saved_stdout, STDOUT_FILENO);
    close(saved_stdout);

    std::string printed;
    std::rewind(held);
    char chunk[4096];
    for (size_t n; (n = std::fread(chunk, 1, sizeof chunk, held)) > 0;) printed.append(chunk, n);
    std::fclose(held);
    const size_t usage = printed.find("Usage: ");
    if (rc < 0 && usage != std::string::npos) {
        *refused_arguments = true;
        printed.erase(usage);
        while (!printed.empty() && printed.back() == '\n') printed.pop_back();
        if (!printed.empty()) printed.push_back('\n');
    }
    std::fwrite(printed.data(), 1, printed.size(), stdout);
    std::fflush(stdout);
    return rc;
}

}  // namespace linkem
