#pragma once

#include <chrono>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace leadrouter::testing {

// What a server answered: the status, its headers (names lower-cased) and the body.
struct HttpResponse {
  int status = 0;
  std::map<std::string, std::string> headers;
  std::string body;
};

struct HttpRequestOptions {
  std::string method = "POST";
  std::vector<std::pair<std::string, std::string>> headers;
  // For https:// URLs: the CA (e.g. a test's self-signed certificate) to verify the server with.
  std::string ca_file;
  std::chrono::milliseconds timeout = std::chrono::seconds(15);
  // Sends the body with Transfer-Encoding: chunked instead of a Content-Length.
  bool chunked = false;
};

// One HTTP(S) request with libcurl, a real client as a sender's would be (for tests of HTTP
// servers: leadrouter-ingest, fake third parties). An error is a transport failure (cannot
// connect, TLS refused, timeout); any HTTP status is a response. Thread-safe.
absl::StatusOr<HttpResponse> HttpRequest(const std::string& url, const std::string& body,
                                         const HttpRequestOptions& options = {});

}  // namespace leadrouter::testing
