#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "leadrouter/http/server.h"
#include "leadrouter/normalize/normalize.h"

namespace prometheus {
class Counter;
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

// The outcome label values of leadrouter_source_events_total.
inline constexpr std::string_view kSourceOutcomes[] = {"assigned",    "unassigned",   "duplicate",
                                                       "nurture",     "disqualified", "replayed",
                                                       "dead_letter", "filtered"};

// At most this many labelled lead series are created ahead of their first increment (see
// PipelineMetrics::PrecreateLeadSeries).
inline constexpr size_t kMaxPrecreatedSeries = 20000;

// Owns the series of one gauge family whose label sets come and go (partitions, pools, reps):
// Replace() leaves exactly the given series. Defined in metrics.cc.
class GaugeSet;

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
  // Seconds one batch spent in a stage: "decode", "dedupe", "qualify", "route",
  // "redis_load", "redis_commit", "publish" (publish and wait for the acknowledgements: overlaps
  // the next batch), "publish_wait" (how long the pipeline waited for that), "kafka_commit".
  void ObserveStage(std::string_view stage, double seconds);
  // A queued lead routed on a later attempt.
  void QueuedLeadAssigned();
  void SetUnassignedQueueDepth(double n);
  // 1 while the consumer is paused for backpressure (a dependency is failing).
  void SetConsumerPaused(bool paused);
  // reason is a RejectReason name, e.g. "missing_field".
  void EventDeadLettered(std::string_view reason);
  // Events of one source (leadrouter_source_events_total): `source` is a configured source
  // name, "none" (a native record on the inbound topic) or "unknown" (a header naming no
  // source); `outcome` one of kSourceOutcomes: an event's final outcome, or "filtered" for a
  // record the source's filter dropped (not consumed, see README "Metrics").
  void SourceEvent(std::string_view source, std::string_view outcome, double n = 1);
  // A lead that did not qualify: outcome is "nurture" or "disqualified"; failed_requirements
  // are requirement names from the config (bounded by it).
  void LeadNotQualified(bool disqualified, std::string_view source_kind,
                        const std::vector<std::string>& failed_requirements);
  // result: "applied", "refused", "unchanged".
  void ConfigReload(std::string_view result);
  // Seconds from the first poll of the batch holding the event until its offset was committed.
  void ObserveProcessing(double seconds);
  // Seconds from the lead's occurred_at until its assignment was committed (in Redis and on the
  // stream: speed-to-lead as a gRPC subscriber sees it).
  void ObserveLeadToAssignment(double seconds);
  // Seconds from the lead's occurred_at until Kafka acknowledged its first assignment (the
  // outbox's publication: speed-to-lead as a Kafka consumer sees it).
  void ObserveLeadToKafka(double seconds);
  // stage: "redis", "kafka_produce", "kafka_commit", "kafka_consume", "enrich".
  void BatchFailed(std::string_view stage);
  // A batch's compare-and-set commits refused because the routing state changed between its
  // load and its commit (another instance, a lifecycle call or a retry committed first), each a
  // decision made again; `refusals` may be 0 (nothing counted).
  void CommitConflicts(int refusals);
  // A message Kafka refused for good and that was recorded in Redis instead: kind is
  // "dead_letter", "assignment" or "nurture"; reason "too_large", "invalid_record" or
  // "invalid_topic" (kafka::RefusedMessage).
  void MessageUndeliverable(std::string_view kind, std::string_view reason);
  // Readiness (grpc.health.v1 and /readyz): 1 while the daemon can make progress.
  void SetReady(bool ready);
  // The outbox forwarder (pipeline::OutboxForwarder): messages it published, whether this
  // instance holds its lease, the log entries not yet on Kafka and the age of the oldest of them
  // (both 0 when caught up; reported by the holder), and failed rounds by stage ("redis",
  // "kafka", "undecodable").
  void OutboxForwarded(double n);
  void SetOutboxHolder(bool holder);
  void SetOutboxBacklog(double messages, double oldest_age_seconds);
  void OutboxFailed(std::string_view stage);
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

  // ---- consumer lag ----
  struct PartitionLag {
    std::string topic;
    int32_t partition = 0;
    double messages = 0;
  };
  // leadrouter_consumer_lag_messages{topic,partition} becomes exactly `lags`: series of
  // partitions not listed (revoked in a rebalance, or lag unknown) are removed, so no stale lag
  // outlives an assignment.
  void SetConsumerLag(const std::vector<PartitionLag>& lags);
  // The normalizers' caches (normalize::CacheStatistics, cumulative): lookups as
  // leadrouter_normalize_cache_lookups_total{cache, result="hit"|"miss"}, what each holds as
  // leadrouter_normalize_cache_bytes{cache} and _entries{cache}, its budget as
  // leadrouter_normalize_cache_budget_bytes{cache}.
  void SetNormalizeCaches(const std::vector<normalize::CacheStats>& caches);

  // ---- Redis ----
  // One round trip to Redis for `op` (a fixed set, see store::RedisOp): its duration in
  // leadrouter_redis_command_seconds{op}, and when !ok leadrouter_redis_errors_total{op}.
  void ObserveRedis(std::string_view op, double seconds, bool ok);
  // Creates op's series at 0, so rate() sees them from the first scrape.
  void PrecreateRedisOp(std::string_view op);

  // ---- gRPC ----
  // A finished call: leadrouter_grpc_requests_total{method,code}, and, when `seconds` is given
  // (unary calls), leadrouter_grpc_request_seconds{method}. method is a full method name the
  // server implements ("/leadrouter.v1.RouterService/AcceptLead"), code a status code name
  // ("OK", "INVALID_ARGUMENT", ...): the caller keeps both bounded.
  void RpcFinished(std::string_view method, std::string_view code, std::optional<double> seconds);

  // ---- routing load (shared state, sampled) ----
  struct RoutingLoad {
    std::vector<std::pair<std::string, double>> pool_fairness_deviation;  // pool -> 0..1
    std::vector<std::pair<std::string, double>> pool_open_leads;          // pool -> n
    std::vector<std::pair<std::string, double>> rep_open_leads;           // rep -> n
  };
  // The three gauge families become exactly these series (pools or reps dropped from the config
  // lose theirs).
  void SetRoutingLoad(const RoutingLoad& load);

  // ---- series created ahead of their first increment ----
  // The label values the config bounds. Lead-event labels are as LeadEvent receives them.
  struct LeadSeriesSpace {
    std::vector<std::string> events;        // lifecycle event names ("assigned", ...)
    std::vector<std::string> source_kinds;  // short names ("PARTNER") of lead events
    std::vector<std::string> campaigns;     // the allowlist plus "other" and "none"
    std::vector<std::pair<std::string, std::string>> territory_pools;  // (territory, pool)
    std::vector<std::string> return_reasons;                           // "bad_fit", ...
    std::vector<std::string> reps;
    std::vector<std::string> source_kind_names;  // enum names ("LEAD_SOURCE_KIND_PARTNER")
    std::vector<std::string> deadletter_reasons;
    std::vector<std::string> requirements;  // hard requirement names of the ICP
    std::vector<std::string> sources;       // source labels: the config's, "none", "unknown"
  };
  struct PrecreateReport {
    size_t wanted = 0;   // series the space spans
    size_t created = 0;  // series that exist now (min(wanted, max_series))
  };
  // Creates every series of `space` at 0 (existing ones are kept as they are), at most
  // `max_series` of them: small families first (per rep, per source kind, dead-letter reasons,
  // requirements), then leadrouter_lead_events_total, then leadrouter_lead_returns_total.
  // When wanted > created the caller should warn: the rest appear at their first increment.
  // Call again after a config change; series of values no longer in the config stay.
  PrecreateReport PrecreateLeadSeries(const LeadSeriesSpace& space,
                                      size_t max_series = kMaxPrecreatedSeries);

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
  prometheus::Family<prometheus::Counter>* source_events_;
  prometheus::Family<prometheus::Counter>* batch_failures_;
  prometheus::Family<prometheus::Counter>* normalize_cache_lookups_;
  prometheus::Family<prometheus::Gauge>* normalize_cache_bytes_;
  prometheus::Family<prometheus::Gauge>* normalize_cache_entries_;
  prometheus::Family<prometheus::Gauge>* normalize_cache_budget_;
  prometheus::Counter* commit_conflicts_;
  prometheus::Counter* conflicted_batches_;
  prometheus::Family<prometheus::Counter>* undeliverable_;
  prometheus::Gauge* ready_;
  prometheus::Counter* outbox_forwarded_;
  prometheus::Gauge* outbox_holder_;
  prometheus::Gauge* outbox_backlog_;
  prometheus::Gauge* outbox_lag_;
  prometheus::Family<prometheus::Counter>* outbox_failures_;
  prometheus::Family<prometheus::Gauge>* config_info_;
  prometheus::Histogram* processing_;
  prometheus::Histogram* lead_to_assignment_;
  prometheus::Histogram* lead_to_kafka_;
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
  std::unique_ptr<GaugeSet> consumer_lag_;
  prometheus::Family<prometheus::Histogram>* redis_seconds_;
  prometheus::Family<prometheus::Counter>* redis_errors_;
  prometheus::Family<prometheus::Counter>* grpc_requests_;
  prometheus::Family<prometheus::Histogram>* grpc_seconds_;
  std::unique_ptr<GaugeSet> pool_fairness_;
  std::unique_ptr<GaugeSet> pool_open_leads_;
  std::unique_ptr<GaugeSet> rep_open_leads_;
};

// Whether the process can make progress now, and if not, why (for /readyz). Thread-safe.
using ReadinessCheck = std::function<std::pair<bool, std::string>()>;

// Serves, on http://<listen>/:
//   /metrics  the registry in Prometheus's text format; with ?name=N (repeatable) only the
//             families named (a cheap poll of a few counters in a busy daemon)
//   /healthz  200 "ok" while the process serves HTTP at all (liveness)
//   /readyz   200 "ready" when `readiness` says so (or there is none), else 503 with the reasons
// on two worker threads, slow clients timed out after 10 s. Thread-safe.
class MetricsServer {
 public:
  // listen is host:port; port 0 picks a free port. FailedPrecondition when it cannot bind.
  static absl::StatusOr<std::unique_ptr<MetricsServer>> Start(
      const std::string& listen, std::shared_ptr<prometheus::Registry> registry,
      ReadinessCheck readiness = nullptr);
  ~MetricsServer();
  int port() const;

 private:
  MetricsServer() = default;
  std::unique_ptr<http::Server> server_;
};

}  // namespace leadrouter::metrics
