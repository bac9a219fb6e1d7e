#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "leadrouter/config/config.h"
#include "leadrouter/core/clock.h"
#include "leadrouter/http/server.h"
#include "leadrouter/ingest/publisher.h"
#include "leadrouter/kafka/producer.h"

namespace prometheus {
class Registry;
}  // namespace prometheus

namespace leadrouter::ingest {

// The headers leadrouter-ingest puts on each record it stores on Kafka (besides
// x-leadrouter-source and content-type, which the daemon reads).
inline constexpr char kHeaderDeliveryId[] = "x-leadrouter-delivery-id";
inline constexpr char kHeaderReceivedBy[] = "x-leadrouter-received-by";

// The metric families of leadrouter-ingest (README "Metrics"), on their own registry. Label
// values are bounded: configured source names, "unknown", HTTP status codes, fixed reasons.
// Thread-safe.
class IngestMetrics {
 public:
  IngestMetrics();
  ~IngestMetrics();
  IngestMetrics(const IngestMetrics&) = delete;
  IngestMetrics& operator=(const IngestMetrics&) = delete;

  std::shared_ptr<prometheus::Registry> registry() const;
  void Request(const std::string& source, int status, double seconds);
  void Records(const std::string& source, size_t records, size_t bytes);
  void AuthFailure(const std::string& source, const std::string& reason);
  void InFlight(int requests);

 private:
  struct Families;
  std::unique_ptr<Families> families_;
};

// The HTTP front door (README "Webhook ingest"): `POST /v1/sources/{name}` takes a delivery as
// the source sends it (JSON object, JSON array, or application/x-www-form-urlencoded), checks
// the source's `auth` before reading the body, divides it into records with the source's
// mapping (sources::Mapping::SplitDelivery: one record per event of a HubSpot batch, keyed by
// its event id), and stores them as they arrived on the source's topic (or
// kafka.topics.inbound) with `x-leadrouter-source` and `content-type`, answering 200 only once
// Kafka has acknowledged every record:
//   200 {"source": S, "records": N, "events": E, "event_ids": [...]}   stored; with
//       "unmappable": [{"record": i, "reason": R}] for records stored that the daemon will
//       dead-letter `unmappable` (the sender's data: retrying will not help)
//   400 bad_request (not the content type's syntax, empty), 401 unauthorized (nothing stored),
//   404 unknown_source, 405 method_not_allowed, 413 too_large / too_many_records,
//   415 unsupported_media_type, 503 unavailable (+ Retry-After: Kafka down or too slow, too many
//   requests at once, shutting down)
// Every error body is {"error": {"code": C, "message": M}}; M names what is wrong, never a value
// sent or a secret. A retried delivery maps to the same event ids, so the daemon's idempotency
// makes it one outcome.
//
// Thread-safety: Handle runs concurrently on the server's worker threads; SetConfig from any
// thread (a request uses the config it started with).
class IngestService {
 public:
  // The config must have been loaded with LoadOptions::for_ingest (the auth secrets read).
  IngestService(std::shared_ptr<const config::Config> config, kafka::Producer& producer,
                IngestMetrics& metrics, const core::Clock& clock);
  ~IngestService();

  void SetConfig(std::shared_ptr<const config::Config> config);
  // From now on every delivery is 503 (draining before a stop).
  void StartDraining();

  // The routes for http::Server: /v1/sources/*, /healthz, /readyz.
  std::map<std::string, http::Handler> Routes();

  http::Response HandleDelivery(const http::Request& request);
  // 200 "ready" when Kafka answers for the inbound topic (checked at most once a second), else
  // 503 with the reason.
  http::Response Readyz();

 private:
  std::shared_ptr<const config::Config> config() const;

  mutable std::mutex mu_;
  std::shared_ptr<const config::Config> config_;
  kafka::Producer& producer_;
  IngestMetrics& metrics_;
  const core::Clock& clock_;
  GroupPublisher publisher_;
  std::atomic<int> in_flight_{0};
  std::atomic<bool> draining_{false};
  std::mutex ready_mu_;
  std::chrono::steady_clock::time_point ready_checked_{};
  absl::Status ready_status_ = absl::UnavailableError("not checked yet");
};

}  // namespace leadrouter::ingest
