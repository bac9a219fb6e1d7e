#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace leadrouter::http {

// One HTTP request, copied out of the server's buffers. A plain value type.
struct Request {
  std::string method{};                                        // "GET", "POST", ...
  std::string path{};                                          // without the query string
  std::string query{};                                         // after '?', not decoded
  std::vector<std::pair<std::string, std::string>> headers{};  // names as sent
  std::string body{};
  bool tls = false;           // arrived over HTTPS
  std::string remote_addr{};  // the peer's IP address

  // The value of the first header named `name` (case-insensitive), or "".
  std::string Header(std::string_view name) const;
};

// Sends one chunk of a streamed body; false once the client is gone (or a write timed out).
using StreamWriter = std::function<bool(std::string_view chunk)>;

struct Response {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body{};
  std::vector<std::pair<std::string, std::string>> headers{};  // extra headers
  // Set: the body is produced while it is sent (chunked; Server-Sent Events), and `body` is
  // ignored. After the headers the server calls it again and again on the handler's worker
  // thread; each call writes what it has and returns whether to go on. A call should return
  // within a second or so (wait with a timeout): between calls the server ends the response
  // when it is stopping, and a writer that failed ends it too.
  std::function<bool(const StreamWriter& write)> stream{};
};

// Handles one request. Runs on one of the server's worker threads; must not throw (an
// exception is answered 500) and should not block for long (each blocked handler holds a
// worker; so does a streamed response, for as long as it streams).
using Handler = std::function<Response(const Request&)>;

struct ServerOptions {
  std::string listen = "127.0.0.1:0";  // host:port; port 0 picks a free port
  int worker_threads = 2;              // requests served at once; more wait in the accept queue
  // A connection that sends no complete request within this is closed (slow clients cannot
  // hold a worker forever).
  std::chrono::milliseconds request_timeout{10000};
  size_t max_body_bytes = 1 << 20;  // larger bodies are answered 413 unread
  // HTTPS (TLS 1.2 or later) when both are set: the certificate chain and the private key, PEM
  // files read at Start (an unusable one fails Start naming the file).
  std::string tls_cert_file{};
  std::string tls_key_file{};
};

// A small HTTP/1.1 server on cpp-httplib (Debian's libcpp-httplib, built against the system's
// OpenSSL 3; Debian 12's civetweb cannot do TLS with it), with exact-path routes and prefix routes
// (a key ending in `*`, e.g.
// "/v1/sources/*", matches every path that starts with what precedes the `*`; an exact route
// wins, then the longest prefix). Requests to an unknown path are 404; a method a route does not
// accept is answered by the route's handler (it sees `method`). Chunked bodies are read like
// sized ones; a body over max_body_bytes is answered 413 with a JSON error. Each connection is
// served on one thread of a pool of `worker_threads` (more wait in the queue); `request_timeout`
// bounds each read and write, so a slow client holds its thread for at most that long per
// stall, and a stop waits at most that long for it.
//
// Thread-safety: handlers run concurrently on the worker threads; Start and the destructor on
// one thread. The destructor stops the server and waits for running handlers.
class Server {
 public:
  // FailedPrecondition naming the address when it cannot listen.
  static absl::StatusOr<std::unique_ptr<Server>> Start(const ServerOptions& options,
                                                       std::map<std::string, Handler> routes);
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;
  ~Server();

  int port() const { return port_; }

 private:
  struct Impl;
  Server() = default;
  std::unique_ptr<Impl> impl_;
  int port_ = 0;
};

}  // namespace leadrouter::http
