// One linkem per kernel interface: before any port starts, linkem takes an
// exclusive flock(2) on /run/linkem/iface-NETNS-NAME.lock for every kernel
// interface its ports name (linkem/device_iface.hpp), and writes its pid and
// configuration there. A second linkem on one of those interfaces in the
// same network namespace is refused, naming the first (pid and
// configuration). The kernel drops the locks when the process ends, however
// it ends, so nothing stale is left to clean up; a linkem that exits removes
// its lock files (one that is killed leaves a file that locks nothing).
#pragma once

#include <string>
#include <vector>

namespace linkem {

class InterfaceLocks {
  public:
    InterfaceLocks() = default;
    ~InterfaceLocks();
    InterfaceLocks(const InterfaceLocks &) = delete;
    InterfaceLocks &operator=(const InterfaceLocks &) = delete;

    // Locks every interface or none; on refusal returns false with `error`
    // naming the interface and the other instance.
    // An interface whose lock file cannot be opened (a read-only /run, no
    // permission) is not locked: warnings() says which.
    bool acquire(const std::vector<std::string> &interfaces, const std::string &config_path, std::string *error);
    const std::vector<std::string> &warnings() const { return warnings_; }

  private:
    std::vector<int> fds_;
    std::vector<std::string> paths_;  // of each lock in fds_, removed at exit
    std::vector<std::string> warnings_;
};

}  // namespace linkem
