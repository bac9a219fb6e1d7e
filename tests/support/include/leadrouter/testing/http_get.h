#pragma once

#include <string>

#include "absl/status/statusor.h"

namespace leadrouter::testing {

// A minimal HTTP/1.0 GET over loopback for tests (e.g. scraping /metrics): returns the body of a
// 200 response, an error otherwise. Blocking, with a 5 s socket timeout. Thread-safe.
absl::StatusOr<std::string> HttpGet(const std::string& host, int port, const std::string& path);

// The value of an unlabeled-or-labeled sample line `name{labels} value` in a Prometheus text
// exposition (exact match on everything before the value), or NotFound.
absl::StatusOr<double> PrometheusSample(const std::string& exposition, const std::string& series);

}  // namespace leadrouter::testing
