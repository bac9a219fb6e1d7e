#pragma once

#include <array>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace prometheus {
class Counter;
class Exposer;
class Gauge;
class Histogram;
class Registry;
template <typename T>
class Family;
}  // namespace prometheus

namespace leadrouter::metrics {

// Outcome of one consumed event. Every consumed event ends in exactly one.
enum class Outcome {
  kAssigned,
  kReplayed,
  kDeadLettered,
  kNurture,
  kDisqualified,
  kUnassigned,
  kDuplicate,  // joined a live lead of the same person
};
inline constexpr size_t kOutcomeCount = 7;

// The metric families leadrouter exports, registered once; the hot path increments cached
// references, never looks families up by name. Label values are bounded (enum names, config
// values): never a lead id, event id or email. Thread-safe.
class PipelineMetrics {
 public:
  PipelineMetrics();
  ~PipelineMetrics();

  std::shared_ptr<prometheus::Registry> registry() const { return registry_; }

  void EventsConsumed(double n);
  // source_kind is a LeadSourceKind enum name, e.g. "LEAD_SOURCE_KIND_PARTNER".
  void LeadAssigned(std::string_view source_kind);
  void EventReplayed();
  // A qualified lead nobody could take: queued.
  void LeadQueuedUnassigned();
  // A new event that joined a live lead of the same person (outcome "duplicate"; also counted
  // as a dedupe match of kind "person").
  void LeadDuplicate();
  // A dedupe match by kind: "event_replay" (a redelivered event id), "person" (a duplicate),
  // "account" (routed to the account's owner).
  void DedupeMatch(std::string_view kind);
  // Seconds one batch spent in a stage: "decode", "dedupe", "decide" (qualify + route),
  // "redis_load", "redis_commit", "publish", "kafka_commit".
  void ObserveStage(std::string_view stage, double seconds);
  // A queued lead routed on a later attempt.
  void QueuedLeadAssigned();
  void SetUnassignedQueueDepth(double n);
  // 1 while the consumer is paused for backpressure (a dependency is failing).
  void SetConsumerPaused(bool paused);
  // reason is a RejectReason name, e.g. "missing_field".
  void EventDeadLettered(std::string_view reason);
  // A lead that did not qualify: outcome is "nurture" or "disqualified"; failed_requirements
  // are requirement names from the config (bounded by it).
  void LeadNotQualified(bool disqualified, std::string_view source_kind,
                        const std::vector<std::string>& failed_requirements);
  // result: "applied", "refused", "unchanged".
  void ConfigReload(std::string_view result);
  // Seconds from the first poll of the batch holding the event until its offset was committed.
  void ObserveProcessing(double seconds);
  // Seconds from the lead's occurred_at until its assignment was published (speed-to-lead).
  void ObserveLeadToAssignment(double seconds);
  // stage: "redis", "kafka_produce", "kafka_commit", "kafka_consume".
  void BatchFailed(std::string_view stage);
  void SetStreamSubscribers(double n);
  void SetConfigInfo(const std::string& version);

  // One lead lifecycle event: `event` is "assigned", "accepted", "returned", "expired",
  // "converted", "recycled", "duplicate" or "unassigned"; labels are bounded by the caller
  // (source kind enum, allow-listed campaign, configured territory and pool). `rep` ("" for
  // none) is counted per rep (reps are bounded by the config). For "returned", `reason` (a
  // ReturnReason short name) is counted too.
  struct LeadLabels {
    std::string source_kind, campaign, territory, pool, rep;
  };
  void LeadEvent(std::string_view event, const LeadLabels& labels, std::string_view reason = "");
  void SetSlaPending(double n);
  // Seconds from assignment to acceptance.
  void ObserveTimeToAccept(double seconds);
  // One account claim by outcome: "owned", "renewed", "conflict_refused", "conflict_pending",
  // "conflict_shared" (leadrouter_account_claims_total).
  void AccountClaim(std::string_view outcome);
  // A manager's decision on an open claim conflict: "keep_owner", "award_claimant", "share".
  void ClaimConflictResolved(std::string_view decision);

  // Reads back a counter value: for tests and the conservation check.
  double Consumed() const;
  double OutcomeTotal(Outcome outcome) const;

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Counter* consumed_;
  std::array<prometheus::Counter*, kOutcomeCount> outcomes_;  // indexed by Outcome
  prometheus::Family<prometheus::Counter>* qualification_;
  prometheus::Family<prometheus::Counter>* disqualified_by_requirement_;
  prometheus::Family<prometheus::Counter>* config_reloads_;
  std::mutex config_info_mu_;
  prometheus::Gauge* config_info_current_ = nullptr;  // guarded by config_info_mu_
  prometheus::Family<prometheus::Counter>* assigned_by_source_;
  prometheus::Family<prometheus::Counter>* deadletter_by_reason_;
  prometheus::Family<prometheus::Counter>* batch_failures_;
  prometheus::Family<prometheus::Gauge>* config_info_;
  prometheus::Histogram* processing_;
  prometheus::Histogram* lead_to_assignment_;
  prometheus::Gauge* subscribers_;
  prometheus::Gauge* unassigned_depth_;
  prometheus::Gauge* consumer_paused_;
  prometheus::Counter* queued_assigned_;
  prometheus::Family<prometheus::Counter>* dedupe_matches_;
  prometheus::Family<prometheus::Counter>* lead_events_;
  prometheus::Family<prometheus::Counter>* lead_returns_;
  prometheus::Family<prometheus::Counter>* rep_lead_events_;
  prometheus::Gauge* sla_pending_;
  prometheus::Histogram* time_to_accept_;
  prometheus::Family<prometheus::Histogram>* stage_seconds_;
  prometheus::Family<prometheus::Counter>* account_claims_;
  prometheus::Family<prometheus::Counter>* claim_conflicts_resolved_;
};

// Serves a registry on http://<listen>/metrics. Thread-safe.
class MetricsServer {
 public:
  // listen is host:port; port 0 picks a free port. FailedPrecondition when it cannot bind.
  static absl::StatusOr<std::unique_ptr<MetricsServer>> Start(
      const std::string& listen, std::shared_ptr<prometheus::Registry> registry);
  ~MetricsServer();
  int port() const { return port_; }

 private:
  MetricsServer() = default;
  std::unique_ptr<prometheus::Exposer> exposer_;
  int port_ = 0;
};

}  // namespace leadrouter::metrics
