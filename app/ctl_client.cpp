#include "ctl_client.hpp"

#include "linkem/control_wire.hpp"

#include <fmt/format.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace linkem {
namespace {

constexpr int kReplyTimeoutS = 30;  // a change returns once the lcore took it: far less

}  // namespace

TelemetryClient::~TelemetryClient() {
    if (fd_ >= 0) close(fd_);
}

bool TelemetryClient::connect(const std::string &socket_path, std::string *error, bool *no_listener) {
    *no_listener = false;
    sockaddr_un address{};
    if (socket_path.size() >= sizeof address.sun_path) {
        *error = fmt::format("the socket path {} is too long for a unix socket", socket_path);
        return false;
    }
    fd_ = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (fd_ < 0) {
        *error = fmt::format("cannot make a socket: {}", std::strerror(errno));
        return false;
    }
    const timeval timeout{kReplyTimeoutS, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
    address.sun_family = AF_UNIX;
    std::memcpy(address.sun_path, socket_path.c_str(), socket_path.size() + 1);
    if (::connect(fd_, reinterpret_cast<const sockaddr *>(&address), sizeof address) != 0) {
        const int why = errno;
        *no_listener = why == ENOENT || why == ECONNREFUSED || why == ENOTDIR;
        *error = why == ENOENT         ? fmt::format("no socket {}", socket_path)
                 : why == ECONNREFUSED ? fmt::format("nothing listens on {} (left by a run that was killed?)", socket_path)
                 : why == EACCES ? fmt::format("cannot connect to {}: {} (linkem runs as root: run linkemctl as root too)", socket_path,
                                               std::strerror(why))
                                 : fmt::format("cannot connect to {}: {}", socket_path, std::strerror(why));
        return false;
    }
    std::vector<char> buffer(4096);
    const ssize_t n = recv(fd_, buffer.data(), buffer.size(), 0);
    if (n <= 0) {
        *error = fmt::format("{} sent no telemetry hello: {}", socket_path, n == 0 ? "it closed the connection" : std::strerror(errno));
        return false;
    }
    hello_ = nlohmann::json::parse(buffer.begin(), buffer.begin() + n, nullptr, false);
    if (hello_.is_discarded() || !hello_.is_object()) {
        *error = fmt::format("{} is not a DPDK telemetry v2 socket (its hello is not JSON)", socket_path);
        return false;
    }
    if (hello_.contains("max_output_len") && hello_["max_output_len"].is_number_unsigned())
        max_reply_bytes_ = std::max<size_t>(hello_["max_output_len"].get<size_t>(), 1024);
    return true;
}

std::optional<nlohmann::json> TelemetryClient::request(const std::string &command, const std::string &params, std::string *error,
                                                       bool *too_long) {
    const std::string message = params.empty() ? command : command + "," + params;
    if (too_long != nullptr) *too_long = false;
    if (message.size() > kTelemetryMaxRequestBytes) {
        if (too_long != nullptr) *too_long = true;
        *error = fmt::format("the request is {} bytes long; DPDK's telemetry reads at most {}", message.size(), kTelemetryMaxRequestBytes);
        return std::nullopt;
    }
    if (send(fd_, message.data(), message.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(message.size())) {
        *error = fmt::format("cannot send {}: {}", command, std::strerror(errno));
        return std::nullopt;
    }
    std::vector<char> buffer(max_reply_bytes_ + 1);
    const ssize_t n = recv(fd_, buffer.data(), buffer.size(), 0);
    if (n <= 0) {
        *error = n == 0 ? fmt::format("linkem closed the connection before answering {}", command)
                        : fmt::format("no answer to {}: {}", command, std::strerror(errno));
        return std::nullopt;
    }
    nlohmann::json reply = nlohmann::json::parse(buffer.begin(), buffer.begin() + n, nullptr, false);
    if (reply.is_discarded() || !reply.is_object() || !reply.contains(command)) {
        *error =
            fmt::format("the answer to {} is not what telemetry sends: {}", command, std::string(buffer.data(), std::min<size_t>(n, 200)));
        return std::nullopt;
    }
    return reply[command];
}

}  // namespace linkem
