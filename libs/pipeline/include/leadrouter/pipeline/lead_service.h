#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "leadrouter/api/assignment_hub.h"
#include "leadrouter/api/lead_operations.h"
#include "leadrouter/config/reloader.h"
#include "leadrouter/core/clock.h"
#include "leadrouter/kafka/producer.h"
#include "leadrouter/metrics/metrics.h"
#include "leadrouter/pipeline/lifecycle.h"
#include "leadrouter/store/assignment_store.h"

namespace leadrouter::pipeline {

// The lifecycle API's implementation: each call borrows a Redis connection from a small pool,
// runs the LeadLifecycle transition on the live config, and counts the resulting events.
//
// Delivery: a transition is committed in Redis with its events appended to the shared log, which
// feeds every stream subscriber and the outbox (OutboxForwarder), the one publisher of
// `leads.assignments`: the events reach Kafka even when it is down at the time of the call. A lead
// recycled to marketing is also produced to `leads.nurture` here; if Kafka does not acknowledge
// that within kafka.produce_timeout_ms the call still succeeds (the transition happened), and the
// failure is logged and counted in leadrouter_batch_failures_total{stage="kafka_produce"}.
// Thread-safe.
class LeadService final : public api::LeadOperations {
 public:
  LeadService(config::ConfigReloader& configs, store::RedisOptions redis, kafka::Producer& producer,
              metrics::PipelineMetrics& metrics, const core::Clock& clock);
  ~LeadService() override;

  std::shared_ptr<const config::Config> CurrentConfig() const override;
  absl::StatusOr<v1::LeadUpdate> Accept(const v1::AcceptLeadRequest& request,
                                        const std::string& actor) override;
  absl::StatusOr<v1::LeadUpdate> Return(const v1::ReturnLeadRequest& request,
                                        const std::string& actor) override;
  absl::StatusOr<v1::LeadUpdate> Convert(const v1::ConvertLeadRequest& request,
                                         const std::string& actor) override;
  absl::StatusOr<v1::AssignmentEvent> Explain(const std::string& lead_id) override;
  absl::StatusOr<std::vector<api::SharedAssignment>> ReadLogTail(size_t limit) override;
  absl::StatusOr<std::vector<api::SharedAssignment>> ReadLog(const std::string& after_cursor,
                                                             size_t limit) override;
  absl::StatusOr<std::string> LogTrimmedUpTo() override;
  absl::StatusOr<v1::RepLoad> SetAvailability(const v1::SetAvailabilityRequest& request) override;
  absl::StatusOr<v1::RepLoad> SetCapacity(const v1::SetCapacityRequest& request) override;
  absl::StatusOr<v1::ListUnassignedResponse> ListUnassigned(int limit) override;
  absl::StatusOr<v1::ListRepLoadResponse> ListRepLoad() override;
  absl::StatusOr<v1::ReloadConfigResponse> ReloadConfig() override;
  absl::StatusOr<v1::ClaimAccountsResponse> ClaimAccounts(const v1::ClaimAccountsRequest& request,
                                                          const std::string& actor) override;
  absl::StatusOr<v1::ListClaimsResponse> ListClaims(const v1::ListClaimsRequest& request) override;
  absl::StatusOr<v1::ClaimConflict> ResolveClaimConflict(
      const v1::ResolveClaimConflictRequest& request, const std::string& actor) override;

  // Expires the leads whose accept SLA passed (any instance, each lead once), re-routes and
  // publishes them; updates the SLA-pending gauge. Returns how many expired.
  absl::StatusOr<size_t> ExpireDue();
  // Calls ExpireDue every `interval` until `stop` (errors are logged and retried).
  void RunExpiry(const std::atomic<bool>& stop, std::chrono::milliseconds interval);

 private:
  // A pooled connection, returned on destruction (dropped if it broke).
  class Lease;
  absl::StatusOr<Lease> Borrow();
  // Borrows a connection, runs `transition` on the live config, publishes what it did.
  absl::StatusOr<v1::LeadUpdate> RunTransition(
      const std::function<absl::StatusOr<LeadUpdate>(LeadLifecycle&)>& transition);
  // Applies `change` to one configured rep's runtime overrides in a compare-and-set of the
  // routing state; returns the rep's load afterwards.
  absl::StatusOr<v1::RepLoad> UpdateRep(
      const std::string& rep_id, const std::function<absl::Status(routing::RepCounters&)>& change);
  // Counts the update's events, produces recycled leads to the nurture topic; returns the proto
  // answer.
  v1::LeadUpdate Publish(const config::Config& config, const LeadUpdate& update);

  config::ConfigReloader& configs_;
  const store::RedisOptions redis_;
  kafka::Producer& producer_;
  metrics::PipelineMetrics& metrics_;
  const core::Clock& clock_;
  std::mutex mu_;
  std::vector<std::unique_ptr<store::AssignmentStore>> idle_;  // guarded by mu_
};

// Feeds the hub from the shared assignment log: blocks on the log (XREAD), parses each event,
// stamps its cursor and publishes it, so every instance's subscribers see every instance's
// events in log order. Starts at the log's end; after a Redis failure it reconnects and carries
// on from the last cursor it published (nothing skipped). Run() on one thread.
class LogTailer {
 public:
  LogTailer(store::RedisOptions redis, api::AssignmentHub& hub);
  void Run(const std::atomic<bool>& stop);

 private:
  store::RedisOptions redis_;
  api::AssignmentHub& hub_;
};

}  // namespace leadrouter::pipeline
