#include "leadrouter/http/server.h"

#include <httplib.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>

#include <atomic>
#include <exception>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace leadrouter::http {
namespace {

constexpr std::string_view kJsonType = "application/json";

void Fill(const Response& response, httplib::Response& out,
          const std::atomic<bool>* stopping = nullptr) {
  out.status = response.status;
  out.set_header("Cache-Control", "no-store");
  for (const auto& [name, value] : response.headers) out.set_header(name, value);
  if (!response.stream || stopping == nullptr) {
    out.set_content(response.body, response.content_type);
    return;
  }
  out.set_chunked_content_provider(
      response.content_type,
      [stream = response.stream, stopping](size_t /*offset*/, httplib::DataSink& sink) {
        bool written = true;
        const StreamWriter write = [&sink, &written](std::string_view chunk) {
          written = written && sink.write(chunk.data(), chunk.size());
          return written;
        };
        bool more = false;
        try {
          more = !stopping->load() && stream(write);
        } catch (const std::exception&) {
          more = false;  // the headers are gone: all that is left is to end the body
        }
        if (!more || !written) sink.done();
        // false would make httplib drop the connection; done() ends the chunked body cleanly.
        return true;
      });
}

std::string JsonError(std::string_view code, std::string_view message) {
  return absl::StrCat("{\"error\":{\"code\":\"", std::string(code), "\",\"message\":\"",
                      std::string(message), "\"}}\n");
}

// The last OpenSSL error as text, for a refused certificate or key.
std::string OpenSslError() {
  const unsigned long code = ERR_get_error();
  if (code == 0) return "unknown error";
  char text[256];
  ERR_error_string_n(code, text, sizeof(text));
  return text;
}

}  // namespace

std::string Request::Header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (absl::EqualsIgnoreCase(key, absl::string_view(name.data(), name.size()))) return value;
  }
  return "";
}

struct Server::Impl {
  ServerOptions options;
  std::map<std::string, Handler> routes;
  std::unique_ptr<httplib::Server> server;
  std::thread listener;
  std::string tls_error;              // set while loading the certificate or key
  std::atomic<bool> stopping{false};  // streamed responses end at their next call

  // The exact route for `path`, else the longest prefix route ("/a/*") it starts with.
  const Handler* Find(const std::string& path) const {
    if (const auto exact = routes.find(path); exact != routes.end()) return &exact->second;
    const Handler* best = nullptr;
    size_t best_length = 0;
    for (const auto& [key, handler] : routes) {
      if (key.empty() || key.back() != '*') continue;
      const std::string_view prefix(key.data(), key.size() - 1);
      if (path.size() >= prefix.size() && path.compare(0, prefix.size(), prefix) == 0 &&
          (best == nullptr || prefix.size() > best_length)) {
        best = &handler;
        best_length = prefix.size();
      }
    }
    return best;
  }

  // Loads the chain and the key from their own files and checks that they belong together.
  bool SetUpTls(SSL_CTX& ctx) {
    SSL_CTX_set_min_proto_version(&ctx, TLS1_2_VERSION);
    if (SSL_CTX_use_certificate_chain_file(&ctx, options.tls_cert_file.c_str()) != 1) {
      tls_error =
          absl::StrCat("cannot use the certificate ", options.tls_cert_file, ": ", OpenSslError());
      return false;
    }
    if (SSL_CTX_use_PrivateKey_file(&ctx, options.tls_key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
      tls_error =
          absl::StrCat("cannot use the private key ", options.tls_key_file, ": ", OpenSslError());
      return false;
    }
    if (SSL_CTX_check_private_key(&ctx) != 1) {
      tls_error = "the private key does not match the certificate";
      return false;
    }
    return true;
  }

  void Serve(const httplib::Request& in, httplib::Response& out) const {
    Request request;
    request.method = in.method;
    // The target as sent (not decoded): what a signature covers.
    const size_t question = in.target.find('?');
    request.path = in.target.substr(0, question);
    if (question != std::string::npos) request.query = in.target.substr(question + 1);
    for (const auto& [name, value] : in.headers) {
      // httplib adds these for its own bookkeeping; they were not sent.
      if (name == "REMOTE_ADDR" || name == "REMOTE_PORT" || name == "LOCAL_ADDR" ||
          name == "LOCAL_PORT") {
        continue;
      }
      request.headers.emplace_back(name, value);
    }
    // A chunked body has no declared length for httplib to refuse up front.
    if (in.body.size() > options.max_body_bytes) {
      Fill({413,
            std::string(kJsonType),
            JsonError("too_large", absl::StrCat("body over ", options.max_body_bytes, " bytes")),
            {{"Connection", "close"}}},
           out);
      return;
    }
    request.body = in.body;
    request.tls = in.ssl != nullptr;
    request.remote_addr = in.remote_addr;
    const Handler* route = Find(request.path);
    if (route == nullptr) {
      Fill({404, "text/plain; charset=utf-8", "not found\n", {}}, out);
      return;
    }
    Response response;
    try {
      response = (*route)(request);
    } catch (const std::exception&) {
      response = {500, "text/plain; charset=utf-8", "internal error\n", {}};
    }
    Fill(response, out, &stopping);
  }

  ~Impl() {
    stopping.store(true);
    if (server != nullptr) server->stop();
    if (listener.joinable()) listener.join();
  }
};

absl::StatusOr<std::unique_ptr<Server>> Server::Start(const ServerOptions& options,
                                                      std::map<std::string, Handler> routes) {
  const bool tls = !options.tls_cert_file.empty() || !options.tls_key_file.empty();
  if (tls && (options.tls_cert_file.empty() || options.tls_key_file.empty())) {
    return absl::InvalidArgumentError("http: TLS needs both a certificate and a key file");
  }
  const size_t colon = options.listen.rfind(':');
  int port = -1;
  if (colon == std::string::npos || !absl::SimpleAtoi(options.listen.substr(colon + 1), &port) ||
      port < 0 || port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("http: listen \"", options.listen, "\" is not host:port"));
  }
  std::string host = options.listen.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }

  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->routes = std::move(routes);
  Impl* self = impl.get();
  if (tls) {
    impl->server =
        std::make_unique<httplib::SSLServer>([self](SSL_CTX& ctx) { return self->SetUpTls(ctx); });
  } else {
    impl->server = std::make_unique<httplib::Server>();
  }
  if (!impl->server->is_valid()) {
    return absl::FailedPreconditionError(
        absl::StrCat("http: ", impl->tls_error.empty() ? "cannot set up TLS" : impl->tls_error));
  }
  httplib::Server& server = *impl->server;
  const int workers = std::max(1, options.worker_threads);
  server.new_task_queue = [workers] {
    return new httplib::ThreadPool(static_cast<size_t>(workers));
  };
  const auto timeout =
      std::chrono::duration_cast<std::chrono::microseconds>(options.request_timeout);
  server.set_read_timeout(timeout);
  server.set_write_timeout(timeout);
  server.set_keep_alive_timeout(std::max<time_t>(
      1, std::chrono::duration_cast<std::chrono::seconds>(options.request_timeout).count()));
  server.set_payload_max_length(options.max_body_bytes);
  // httplib closes a keep-alive connection after 5 requests by default: senders that batch
  // deliveries on one connection (HubSpot, Marketo) would reconnect (and redo TLS) constantly.
  server.set_keep_alive_max_count(1000);
  // SO_REUSEADDR only: httplib's default adds SO_REUSEPORT, which would let a second process
  // bind a port already in use and silently share its connections. TCP_NODELAY (inherited by
  // accepted connections): httplib writes a response's headers and body separately, and with
  // Nagle the body waited for the client's delayed ACK, 40 ms on Linux, on every response.
  server.set_socket_options([](socket_t sock) {
    const int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    setsockopt(sock, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof(yes));
  });
  auto serve = [self](const httplib::Request& in, httplib::Response& out) { self->Serve(in, out); };
  server.Get(".*", serve);
  server.Post(".*", serve);
  server.Put(".*", serve);
  server.Patch(".*", serve);
  server.Delete(".*", serve);
  server.Options(".*", serve);
  // httplib's own refusals (a body over the limit, a request it cannot parse) as JSON errors.
  server.set_error_handler(
      [limit = options.max_body_bytes](const httplib::Request&, httplib::Response& out) {
        if (!out.body.empty()) return;
        if (out.status == 413) {
          out.set_content(JsonError("too_large", absl::StrCat("body over ", limit, " bytes")),
                          std::string(kJsonType));
        } else if (out.status == 400 || out.status == 414 || out.status == 431) {
          out.set_content(JsonError("bad_request", "not a well-formed HTTP request"),
                          std::string(kJsonType));
        }
      });
  server.set_exception_handler(
      [](const httplib::Request&, httplib::Response& out, std::exception_ptr) {
        out.status = 500;
        out.set_content("internal error\n", "text/plain; charset=utf-8");
      });

  int bound = port;
  if (port == 0) {
    bound = server.bind_to_any_port(host);
  } else if (!server.bind_to_port(host, port)) {
    bound = -1;
  }
  if (bound <= 0) {
    return absl::FailedPreconditionError(absl::StrCat("http: cannot listen on ", options.listen));
  }
  impl->listener = std::thread([self] { self->server->listen_after_bind(); });
  // httplib's stop() before its accept loop has started is lost (the loop would then run on and
  // the destructor's join hang): return only once it is running.
  const auto started_by = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!server.is_running() && std::chrono::steady_clock::now() < started_by) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  std::unique_ptr<Server> out(new Server());
  out->port_ = bound;
  out->impl_ = std::move(impl);
  return out;
}

Server::~Server() = default;

}  // namespace leadrouter::http
