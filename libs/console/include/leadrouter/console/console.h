#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <map>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "leadrouter/api/service_calls.h"
#include "leadrouter/http/server.h"

namespace leadrouter::console {

struct ConsoleOptions {
  // Live feeds open at once; one more is answered 503 (each holds a worker thread of the
  // console's HTTP server, which needs some left for the JSON calls).
  size_t max_live_streams = 4;
  // How often a live feed reads the shared log for new events.
  std::chrono::milliseconds live_poll{200};
  // A heartbeat comment is sent after this long without an event: proxies and the browser see
  // the feed is alive, and a client gone away is noticed (its write fails) and its slot freed.
  std::chrono::milliseconds live_heartbeat{5000};
  // Events a feed opened without a cursor starts with (the newest of the log).
  size_t live_backlog = 100;
  // redis.tenant: lead ids are derived from it and the event id (search by event id).
  std::string tenant;
};

// The sales-ops console: a browser front end (assets compiled into the binary) and the
// JSON-over-HTTP layer it talks to. Every endpoint calls api::ServiceCalls, the same
// implementation the gRPC services use, so scopes, rep limits and validation are those of the
// gRPC API: nothing is reachable here that a token could not do over gRPC.
//
// The caller sends its API token as `Authorization: Bearer <token>` on every request (the
// page keeps it in sessionStorage; no cookie, so a cross-site request carries no credentials
// and there is nothing to forge: the API is CSRF-safe by construction). Request bodies are the
// protobuf JSON mapping of the RPC's request (field names as in the .proto); responses are the
// RPC's response in the same mapping. Errors are
//   {"error":{"code":"INVALID_ARGUMENT","field":"rep_id","message":"rep_id: required"}}
// with HTTP 400 (invalid argument, out of range), 401, 403, 404, 409 (failed precondition,
// aborted, already exists), 429, 503 or 500; `field` is present when the message names one.
// The endpoints are listed in README "Sales-ops console".
//
// The live feed (GET /console/api/live) is Server-Sent Events read from the shared log: any
// instance serves it, every event carries its cursor as the SSE id, and a reconnect with
// ?after=<cursor> resumes exactly after it (nothing missed, nothing twice, within the log's
// retention). Browsers' EventSource cannot send the Authorization header; the page reads the
// stream with fetch().
//
// Thread-safety: the handlers run concurrently on the HTTP server's threads. Stop() (or the
// destructor) ends every live feed at its next poll; the Console must outlive the server that
// serves its routes.
class Console {
 public:
  Console(api::ServiceCalls& calls, ConsoleOptions options);
  Console(const Console&) = delete;
  Console& operator=(const Console&) = delete;
  ~Console();

  // The routes to serve: "/" (redirects to the console), "/console/*" (assets and API).
  std::map<std::string, http::Handler> Routes();

  void Stop();

 private:
  http::Response Serve(const http::Request& request);
  http::Response ServeApi(const http::Request& request, std::string_view path);
  http::Response Live(const http::Request& request, const api::Principal& caller);

  api::ServiceCalls& calls_;
  const ConsoleOptions options_;
  std::atomic<bool> stopping_{false};
  std::atomic<size_t> live_streams_{0};
};

// The HTTP status for a status code of the API (see Console).
int HttpStatusOf(absl::StatusCode code);
// The JSON error body for `status` ({"error":{...}} with a newline), and for a code name and
// message of the console's own (METHOD_NOT_ALLOWED).
std::string ErrorJson(const absl::Status& status);
std::string ErrorBody(std::string_view code, std::string_view message);
// The field an error message names ("rep_id: required" names rep_id), or "".
std::string FieldOfError(std::string_view message);

}  // namespace leadrouter::console
