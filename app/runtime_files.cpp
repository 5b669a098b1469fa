#include "runtime_files.hpp"

#include "linkem/instance.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace fs = std::filesystem;

namespace linkem {
namespace {

// The value of EAL option `name` ("--file-prefix=x" or "--file-prefix x"), or empty.
std::string option_value(const std::vector<std::string> &args, const std::string &name) {
    std::string value;
    for (size_t i = 0; i < args.size(); ++i) {
        if (args[i].rfind(name + "=", 0) == 0) value = args[i].substr(name.size() + 1);
        if (args[i] == name && i + 1 < args.size()) value = args[i + 1];
    }
    return value;
}

// Whether a process listens on the unix socket at `path` (any socket type EAL uses).
bool socket_is_live(const fs::path &path) {
    for (int type : {SOCK_SEQPACKET, SOCK_STREAM, SOCK_DGRAM}) {
        const int fd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
        if (fd < 0) continue;
        sockaddr_un address{};
        address.sun_family = AF_UNIX;
        std::strncpy(address.sun_path, path.c_str(), sizeof address.sun_path - 1);
        const int rc = connect(fd, reinterpret_cast<const sockaddr *>(&address), sizeof address);
        const int why = errno;
        close(fd);
        if (rc == 0) return true;
        if (why != EPROTOTYPE && why != ECONNREFUSED) return true;  // unsure: leave it alone
        if (why == ECONNREFUSED) return false;
    }
    return true;
}

// Whether a live EAL primary holds the runtime directory's config file (EAL keeps a write lock on it).
bool primary_is_live(const fs::path &config) {
    const int fd = open(config.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    struct flock probe {};
    probe.l_type = F_WRLCK;
    probe.l_whence = SEEK_SET;
    const bool live = fcntl(fd, F_GETLK, &probe) != 0 || probe.l_type != F_UNLCK;
    close(fd);
    return live;
}

std::vector<fs::path> hugetlbfs_mounts() {
    std::vector<fs::path> mounts;
    std::ifstream in("/proc/mounts");
    for (std::string line; std::getline(in, line);) {
        std::istringstream fields(line);
        std::string device, where, type;
        if (fields >> device >> where >> type && type == "hugetlbfs") mounts.emplace_back(where);
    }
    return mounts;
}

// PREFIXmap_N in each hugetlbfs mount.
std::vector<fs::path> hugepage_files(const std::string &prefix) {
    std::vector<fs::path> files;
    for (const fs::path &mount : hugetlbfs_mounts()) {
        std::error_code ec;
        for (const fs::directory_entry &e : fs::directory_iterator(mount, ec)) {
            const std::string name = e.path().filename().string();
            if (name.rfind(prefix + "map_", 0) == 0) files.push_back(e.path());
        }
    }
    return files;
}

}  // namespace

std::string eal_file_prefix(const std::vector<std::string> &eal_args) {
    const std::string prefix = option_value(eal_args, "--file-prefix");
    return prefix.empty() ? "rte" : prefix;
}

bool eal_in_memory(const std::vector<std::string> &eal_args) {
    for (const std::string &a : eal_args)
        if (a == "--in-memory" || a == "--no-shconf") return true;
    return false;
}

std::string eal_runtime_dir(const std::vector<std::string> &eal_args) {
    return dpdk_runtime_dir(eal_file_prefix(eal_args));  // EAL's rule (eal_create_runtime_dir)
}

bool instance_is_running(const std::vector<std::string> &eal_args, std::string *what) {
    const fs::path dir = eal_runtime_dir(eal_args);
    const fs::path socket = dir / kTelemetrySocketName;
    std::error_code ec;
    if (fs::is_socket(socket, ec) && socket_is_live(socket)) {
        *what = fmt::format("its telemetry socket {} answers", socket.string());
        return true;
    }
    if (fs::exists(dir / "config", ec) && primary_is_live(dir / "config")) {
        *what = fmt::format("a DPDK primary process holds {}", (dir / "config").string());
        return true;
    }
    return false;
}

std::vector<std::string> remove_stale_runtime_files(const std::vector<std::string> &eal_args) {
    std::vector<std::string> removed;
    const fs::path dir = eal_runtime_dir(eal_args);
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) return removed;
    for (const fs::directory_entry &e : fs::directory_iterator(dir, ec)) {
        if (!e.is_socket(ec) || socket_is_live(e.path())) continue;
        if (fs::remove(e.path(), ec)) removed.push_back(fmt::format("a stale socket {} (no process listens on it)", e.path().string()));
    }
    // Under a file prefix: a primary that was killed left its hugepages and runtime files.
    const fs::path config = dir / "config";
    if (!eal_in_memory(eal_args) && fs::exists(config, ec) && !primary_is_live(config)) {
        for (const fs::path &f : hugepage_files(eal_file_prefix(eal_args)))
            if (fs::remove(f, ec)) removed.push_back(fmt::format("a stale hugepage file {}", f.string()));
        for (const fs::directory_entry &e : fs::directory_iterator(dir, ec))
            if (!e.is_socket(ec) && fs::remove(e.path(), ec)) removed.push_back(fmt::format("a stale runtime file {}", e.path().string()));
    }
    return removed;
}

namespace {
std::string g_runtime_dir_at_exit;
void remove_runtime_dir_if_empty() {
    std::error_code ec;
    if (fs::is_directory(g_runtime_dir_at_exit, ec) && fs::is_empty(g_runtime_dir_at_exit, ec)) fs::remove(g_runtime_dir_at_exit, ec);
}
}  // namespace

void remove_empty_runtime_dir_at_exit(const std::vector<std::string> &eal_args) {
    if (!eal_in_memory(eal_args) || !g_runtime_dir_at_exit.empty()) return;
    g_runtime_dir_at_exit = eal_runtime_dir(eal_args);
    std::atexit(remove_runtime_dir_if_empty);
}

std::vector<std::string> remove_runtime_files(const std::vector<std::string> &eal_args) {
    std::vector<std::string> left;
    std::error_code ec;
    if (eal_in_memory(eal_args)) return left;  // EAL made no files but its sockets: remove_empty_runtime_dir_at_exit()
    for (const fs::path &f : hugepage_files(eal_file_prefix(eal_args)))
        if (!fs::remove(f, ec) && ec) left.push_back(fmt::format("{}: {}", f.string(), ec.message()));
    const fs::path dir = eal_runtime_dir(eal_args);
    fs::remove_all(dir, ec);
    if (ec) left.push_back(fmt::format("{}: {}", dir.string(), ec.message()));
    return left;
}

}  // namespace linkem
