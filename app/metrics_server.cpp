#include "metrics_server.hpp"

#include <httplib.h>

#include <pthread.h>
#include <sys/socket.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>

namespace linkem {

MetricsServer::MetricsServer() : server_(std::make_unique<httplib::Server>()) {
    // One worker: scrapes are rare, and each takes a snapshot of every link.
    server_->new_task_queue = [] { return new httplib::ThreadPool(1); };
    server_->set_socket_options([](int sock) {
        int yes = 1;  // a restart may bind while the last run's connections linger in TIME_WAIT
        setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    });
}

MetricsServer::~MetricsServer() { stop(); }

bool MetricsServer::bind(const ListenAddress &address, std::string *error) {
    errno = 0;
    if (server_->bind_to_port(address.host, address.port)) return true;
    *error = errno != 0 ? std::strerror(errno) : "the address is in use, or not one of this machine's";
    return false;
}

void MetricsServer::start(std::function<std::string()> body) {
    server_->Get("/metrics", [body = std::move(body)](const httplib::Request &, httplib::Response &response) {
        response.set_content(body(), "text/plain; version=0.0.4; charset=utf-8");
    });
    thread_ = std::thread([this] {
        // Signals go to linkem's own threads: one here could interrupt the listener's accept
        // and end the server (SIGUSR1 asks for a summary and the run goes on). The worker
        // threads, started from this one, inherit the mask.
        sigset_t all;
        sigfillset(&all);
        pthread_sigmask(SIG_BLOCK, &all, nullptr);
        server_->listen_after_bind();
    });
    // stop() does nothing to a server not yet running: wait until it runs (listen_after_bind
    // sets that first), so that an early stop cannot leave the thread listening.
    for (int waited_ms = 0; !server_->is_running() && waited_ms < 2000; ++waited_ms)
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

void MetricsServer::stop() {
    if (!thread_.joinable()) return;
    server_->stop();
    thread_.join();
}

}  // namespace linkem
