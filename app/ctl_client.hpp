// linkemctl's side of DPDK telemetry (v2): a SOCK_SEQPACKET unix socket; on
// connecting, the process sends a hello ({"version", "pid", "max_output_len"});
// each request is one message "/command,params", each reply one message
// {"/command": value} (null for an unknown command or one that failed).
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>

namespace linkem {

class TelemetryClient {
  public:
    TelemetryClient() = default;
    ~TelemetryClient();
    TelemetryClient(const TelemetryClient &) = delete;
    TelemetryClient &operator=(const TelemetryClient &) = delete;

    // Connects and reads the hello. On failure `error` says why; `no_listener`
    // tells a missing or dead socket (no such instance) from other failures.
    bool connect(const std::string &socket_path, std::string *error, bool *no_listener);
    const nlohmann::json &hello() const { return hello_; }

    // Sends "/command,params" (or "/command") and returns the reply's value
    // (null when the process answered null); none, with `error`, when the
    // request is too long for telemetry (over 1023 bytes: too_long is set) or
    // the socket failed.
    std::optional<nlohmann::json> request(const std::string &command, const std::string &params, std::string *error,
                                          bool *too_long = nullptr);

  private:
    int fd_ = -1;
    size_t max_reply_bytes_ = 16384;
    nlohmann::json hello_;
};

}  // namespace linkem
