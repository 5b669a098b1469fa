#include "interface_lock.hpp"

#include <fmt/format.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <filesystem>

namespace linkem {
namespace {

constexpr const char *kLockDir = "/run/linkem";

// Interface names are per network namespace: the namespace's inode tells them apart.
std::string netns_id() {
    struct stat st {};
    return stat("/proc/self/ns/net", &st) == 0 ? std::to_string(st.st_ino) : "unknown";
}

std::string read_all(int fd) {
    std::string text;
    char buffer[512];
    lseek(fd, 0, SEEK_SET);
    for (ssize_t n; (n = read(fd, buffer, sizeof buffer)) > 0;) text.append(buffer, static_cast<size_t>(n));
    while (!text.empty() && text.back() == '\n') text.pop_back();
    return text;
}

}  // namespace

InterfaceLocks::~InterfaceLocks() {
    for (size_t i = 0; i < fds_.size(); ++i) {
        unlink(paths_[i].c_str());  // while still locked: a process waiting on it sees the file gone and retries
        close(fds_[i]);             // releases the lock
    }
}

bool InterfaceLocks::acquire(const std::vector<std::string> &interfaces, const std::string &config_path, std::string *error) {
    if (interfaces.empty()) return true;
    std::error_code ec;
    std::filesystem::create_directories(kLockDir, ec);
    const std::string netns = netns_id();
    std::error_code abs_ec;
    const std::filesystem::path config_abs = std::filesystem::absolute(config_path, abs_ec);
    const std::string owner = fmt::format("pid {}, config {}\n", getpid(), abs_ec ? config_path : config_abs.string());
    for (const std::string &iface : interfaces) {
        std::string file_name = iface;  // a kernel interface name has no '/', but the configuration's string might
        std::replace(file_name.begin(), file_name.end(), '/', '_');
        const std::string path = fmt::format("{}/iface-{}-{}.lock", kLockDir, netns, file_name);
        // A lock file is removed by its holder at exit (while still holding it), so a lock taken on a
        // file that was removed meanwhile is no lock: check that the path still names the locked file.
        int fd = -1;
        for (int attempt = 0; attempt < 8 && fd < 0; ++attempt) {
            fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
            if (fd < 0) break;
            if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
                const int why = errno;
                const std::string other = read_all(fd);
                close(fd);
                *error = why == EWOULDBLOCK
                             ? fmt::format("kernel interface {} is in use by another linkem ({}); one interface, one linkem (lock {})",
                                           iface, other.empty() ? "pid unknown" : other, path)
                             : fmt::format("cannot lock {} for kernel interface {}: {}", path, iface, std::strerror(why));
                return false;
            }
            struct stat held {
            }, named{};
            if (fstat(fd, &held) != 0 || stat(path.c_str(), &named) != 0 || held.st_ino != named.st_ino || held.st_dev != named.st_dev) {
                close(fd);
                fd = -1;
            }
        }
        if (fd < 0) {  // no lock to take (a read-only /run, no permission): say so, and run unguarded
            warnings_.push_back(fmt::format("cannot open {} to lock kernel interface {} ({}): another linkem on it would not be refused",
                                            path, iface, std::strerror(errno)));
            continue;
        }
        if (ftruncate(fd, 0) != 0 || pwrite(fd, owner.data(), owner.size(), 0) != static_cast<ssize_t>(owner.size())) {
            // The lock holds without the note; only the refusal message of another instance is poorer.
        }
        fds_.push_back(fd);
        paths_.push_back(path);
    }
    return true;
}

}  // namespace linkem
