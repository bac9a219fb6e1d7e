#include "leadrouter/http/server.h"

#include <civetweb.h>

#include <exception>
#include <mutex>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace leadrouter::http {
namespace {

const char* ReasonPhrase(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 202:
      return "Accepted";
    case 204:
      return "No Content";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 413:
      return "Payload Too Large";
    case 429:
      return "Too Many Requests";
    case 500:
      return "Internal Server Error";
    case 503:
      return "Service Unavailable";
    default:
      return "Status";
  }
}

void Send(mg_connection* connection, const Response& response) {
  std::string head =
      absl::StrCat("HTTP/1.1 ", response.status, " ", ReasonPhrase(response.status),
                   "\r\nContent-Type: ", response.content_type,
                   "\r\nContent-Length: ", response.body.size(), "\r\nCache-Control: no-store\r\n");
  for (const auto& [name, value] : response.headers)
    absl::StrAppend(&head, name, ": ", value, "\r\n");
  head += "\r\n";
  mg_write(connection, head.data(), head.size());
  if (!response.body.empty()) mg_write(connection, response.body.data(), response.body.size());
}

// civetweb's library state is process-wide and reference counted.
std::once_flag library_once;

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
  mg_context* context = nullptr;

  ~Impl() {
    if (context != nullptr) mg_stop(context);
  }

  static int Serve(mg_connection* connection, void* data) {
    auto* self = static_cast<Impl*>(data);
    const mg_request_info* info = mg_get_request_info(connection);
    Request request;
    request.method = info->request_method != nullptr ? info->request_method : "";
    request.path = info->local_uri != nullptr ? info->local_uri : "";
    if (info->query_string != nullptr) request.query = info->query_string;
    for (int i = 0; i < info->num_headers; ++i) {
      request.headers.emplace_back(info->http_headers[i].name, info->http_headers[i].value);
    }
    const auto route = self->routes.find(request.path);
    if (route == self->routes.end()) {
      Send(connection, {404, "text/plain; charset=utf-8", "not found\n", {}});
      return 404;
    }
    if (info->content_length > 0) {
      if (static_cast<unsigned long long>(info->content_length) > self->options.max_body_bytes) {
        Send(connection, {413,
                          "text/plain; charset=utf-8",
                          absl::StrCat("body over ", self->options.max_body_bytes, " bytes\n"),
                          {{"Connection", "close"}}});
        return 413;
      }
      request.body.resize(static_cast<size_t>(info->content_length));
      size_t got = 0;
      while (got < request.body.size()) {
        const int n = mg_read(connection, request.body.data() + got, request.body.size() - got);
        if (n <= 0) break;
        got += static_cast<size_t>(n);
      }
      request.body.resize(got);
    }
    Response response;
    try {
      response = route->second(request);
    } catch (const std::exception& e) {
      response = {500, "text/plain; charset=utf-8", "internal error\n", {}};
    }
    Send(connection, response);
    return response.status;
  }
};

absl::StatusOr<std::unique_ptr<Server>> Server::Start(const ServerOptions& options,
                                                      std::map<std::string, Handler> routes) {
  std::call_once(library_once, [] { mg_init_library(0); });
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->routes = std::move(routes);
  const std::string threads = std::to_string(options.worker_threads);
  const std::string timeout = std::to_string(options.request_timeout.count());
  const char* settings[] = {"listening_ports",
                            options.listen.c_str(),
                            "num_threads",
                            threads.c_str(),
                            "request_timeout_ms",
                            timeout.c_str(),
                            "enable_keep_alive",
                            "yes",
                            nullptr};
  mg_callbacks callbacks{};
  // civetweb logs its own errors (e.g. "cannot bind") through log_message; the Start error
  // below names the address instead.
  callbacks.log_message = [](const mg_connection*, const char*) { return 1; };
  impl->context = mg_start(&callbacks, nullptr, settings);
  if (impl->context == nullptr) {
    return absl::FailedPreconditionError(absl::StrCat("http: cannot listen on ", options.listen));
  }
  mg_set_request_handler(impl->context, "/", &Impl::Serve, impl.get());
  std::unique_ptr<Server> server(new Server());
  mg_server_port ports[4] = {};
  const int count = mg_get_server_ports(impl->context, 4, ports);
  server->port_ = count > 0 ? ports[0].port : 0;
  server->impl_ = std::move(impl);
  return server;
}

Server::~Server() = default;

}  // namespace leadrouter::http
