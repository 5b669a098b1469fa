// The Prometheus endpoint (stats.prometheus): GET /metrics on a thread of its
// own, started and stopped by the control side. The body comes from a callback
// that reads snapshots as the status lines do (relaxed loads, histograms
// copied as a torn view); the server never touches an lcore. HTTP is
// cpp-httplib's (Debian libcpp-httplib-dev).
#pragma once

#include "linkem/config.hpp"

#include <functional>
#include <memory>
#include <string>
#include <thread>

namespace httplib {
class Server;
}

namespace linkem {

class MetricsServer {
  public:
    MetricsServer();
    ~MetricsServer();
    MetricsServer(const MetricsServer &) = delete;
    MetricsServer &operator=(const MetricsServer &) = delete;

    // Binds the listening socket (no SO_REUSEPORT: a second linkem on the same
    // port is refused). False with *error ("Address already in use") when it cannot.
    bool bind(const ListenAddress &address, std::string *error);
    // Serves GET /metrics with body() (Prometheus text format 0.0.4) until stop().
    // body() runs on the server's one worker thread.
    void start(std::function<std::string()> body);
    // Stops serving and joins the thread; safe to call more than once.
    void stop();

  private:
    std::unique_ptr<httplib::Server> server_;
    std::thread thread_;
};

}  // namespace linkem
