#include "leadrouter/metrics/metrics.h"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <algorithm>
#include <map>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace leadrouter::metrics {
namespace {

// Speed-to-lead matters from milliseconds (the pipeline) to hours (an outage), so the buckets
// span both.
// Speed to lead is compared with the broker's own latency (milliseconds): finer below 100 ms.
const prometheus::Histogram::BucketBoundaries& SpeedToLeadBuckets() {
  static const auto* const buckets = new prometheus::Histogram::BucketBoundaries{
      0.001, 0.0025, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.03, 0.04, 0.05, 0.075, 0.1,
      0.25,  0.5,    1,     2.5,    5,    10,    30,   60,   300,  900,  3600};
  return *buckets;
}

const prometheus::Histogram::BucketBoundaries& LatencyBuckets() {
  static const auto* const buckets = new prometheus::Histogram::BucketBoundaries{
      0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
      1,     2.5,    5,     10,   30,    60,   300, 900,  3600};
  return *buckets;
}

size_t Index(Outcome o) {
  return static_cast<size_t>(o);
}

// Redis round trips: tens of microseconds on a LAN up to the 2 s default command timeout;
// log_tail's XREAD BLOCK lands around its 0.5 s block.
const prometheus::Histogram::BucketBoundaries& RedisBuckets() {
  static const auto* const buckets = new prometheus::Histogram::BucketBoundaries{
      0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
      0.025,   0.05,   0.1,     0.25,   0.5,   1,      2.5,   5};
  return *buckets;
}

// Unary RPCs do a Redis transaction and maybe a Kafka produce (acks=all, up to the produce
// timeout).
const prometheus::Histogram::BucketBoundaries& RpcBuckets() {
  static const auto* const buckets = new prometheus::Histogram::BucketBoundaries{
      0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};
  return *buckets;
}

// The values of `name=` in a query string ("name=a&name=b"): the families a scrape asks for.
// Metric names never need percent-encoding, so a value that holds '%' matches no family.
std::vector<std::string> FamilyNamesIn(const std::string& query) {
  std::vector<std::string> names;
  for (absl::string_view pair : absl::StrSplit(query, '&', absl::SkipEmpty())) {
    if (absl::ConsumePrefix(&pair, "name=")) names.emplace_back(pair);
  }
  return names;
}

const prometheus::Histogram::BucketBoundaries& StageBuckets() {
  static const auto* const buckets = new prometheus::Histogram::BucketBoundaries{
      0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5};
  return *buckets;
}

}  // namespace

class GaugeSet {
 public:
  explicit GaugeSet(prometheus::Family<prometheus::Gauge>& family) : family_(family) {}

  void Replace(const std::vector<std::pair<prometheus::Labels, double>>& series) {
    std::lock_guard lock(mu_);
    std::map<prometheus::Labels, prometheus::Gauge*> next;
    for (const auto& [labels, value] : series) {
      prometheus::Gauge* gauge = &family_.Add(labels);
      gauge->Set(value);
      next.emplace(labels, gauge);
    }
    for (const auto& [labels, gauge] : current_) {
      if (!next.count(labels)) family_.Remove(gauge);
    }
    current_ = std::move(next);
  }

 private:
  prometheus::Family<prometheus::Gauge>& family_;
  std::mutex mu_;
  std::map<prometheus::Labels, prometheus::Gauge*> current_;  // guarded by mu_
};

PipelineMetrics::PipelineMetrics() : registry_(std::make_shared<prometheus::Registry>()) {
  consumed_ = &prometheus::BuildCounter()
                   .Name("leadrouter_events_consumed_total")
                   .Help("Events read from the inbound topic.")
                   .Register(*registry_)
                   .Add({});
  auto& outcomes = prometheus::BuildCounter()
                       .Name("leadrouter_events_outcome_total")
                       .Help(
                           "Consumed events by final outcome; once drained, the sum equals "
                           "leadrouter_events_consumed_total.")
                       .Register(*registry_);
  outcomes_[Index(Outcome::kAssigned)] = &outcomes.Add({{"outcome", "assigned"}});
  outcomes_[Index(Outcome::kReplayed)] = &outcomes.Add({{"outcome", "replayed"}});
  outcomes_[Index(Outcome::kDeadLettered)] = &outcomes.Add({{"outcome", "dead_letter"}});
  outcomes_[Index(Outcome::kNurture)] = &outcomes.Add({{"outcome", "nurture"}});
  outcomes_[Index(Outcome::kDisqualified)] = &outcomes.Add({{"outcome", "disqualified"}});
  outcomes_[Index(Outcome::kUnassigned)] = &outcomes.Add({{"outcome", "unassigned"}});
  outcomes_[Index(Outcome::kDuplicate)] = &outcomes.Add({{"outcome", "duplicate"}});
  dedupe_matches_ = &prometheus::BuildCounter()
                         .Name("leadrouter_dedupe_matches_total")
                         .Help(
                             "Dedupe matches by kind: event_replay (a redelivered event id), "
                             "person (joined a live lead of the same person), account (routed "
                             "to the account's owner).")
                         .Register(*registry_);
  lead_events_ =
      &prometheus::BuildCounter()
           .Name("leadrouter_lead_events_total")
           .Help(
               "Lead lifecycle events (assigned, accepted, returned, expired, converted, "
               "recycled, duplicate, unassigned) by source kind, campaign, territory "
               "and pool: return rate = returned / assigned.")
           .Register(*registry_);
  lead_returns_ = &prometheus::BuildCounter()
                       .Name("leadrouter_lead_returns_total")
                       .Help(
                           "Leads returned by reps, by reason, source kind, campaign, territory "
                           "and pool.")
                       .Register(*registry_);
  rep_lead_events_ = &prometheus::BuildCounter()
                          .Name("leadrouter_rep_lead_events_total")
                          .Help("Lead lifecycle events per configured rep.")
                          .Register(*registry_);
  sla_pending_ = &prometheus::BuildGauge()
                      .Name("leadrouter_sla_pending_leads")
                      .Help("Assigned leads waiting to be accepted under an SLA.")
                      .Register(*registry_)
                      .Add({});
  time_to_accept_ = &prometheus::BuildHistogram()
                         .Name("leadrouter_time_to_accept_seconds")
                         .Help("Time from a lead's assignment to its acceptance by the rep.")
                         .Register(*registry_)
                         .Add({}, LatencyBuckets());
  account_claims_ = &prometheus::BuildCounter()
                         .Name("leadrouter_account_claims_total")
                         .Help(
                             "Account claims by outcome: owned, renewed, conflict_refused, "
                             "conflict_pending, conflict_shared.")
                         .Register(*registry_);
  for (const char* outcome :
       {"owned", "renewed", "conflict_refused", "conflict_pending", "conflict_shared"}) {
    account_claims_->Add({{"outcome", outcome}});
  }
  claim_conflicts_resolved_ = &prometheus::BuildCounter()
                                   .Name("leadrouter_claim_conflicts_resolved_total")
                                   .Help(
                                       "Open claim conflicts resolved by a manager, by decision: "
                                       "keep_owner, award_claimant, share.")
                                   .Register(*registry_);
  for (const char* decision : {"keep_owner", "award_claimant", "share"}) {
    claim_conflicts_resolved_->Add({{"decision", decision}});
  }
  stage_seconds_ = &prometheus::BuildHistogram()
                        .Name("leadrouter_stage_seconds")
                        .Help("Time one batch spent in each pipeline stage.")
                        .Register(*registry_);
  unassigned_depth_ = &prometheus::BuildGauge()
                           .Name("leadrouter_unassigned_queue_depth")
                           .Help("Qualified leads waiting for an eligible rep.")
                           .Register(*registry_)
                           .Add({});
  consumer_paused_ = &prometheus::BuildGauge()
                          .Name("leadrouter_consumer_paused")
                          .Help("1 while consumption is paused because Redis or Kafka is failing.")
                          .Register(*registry_)
                          .Add({});
  queued_assigned_ = &prometheus::BuildCounter()
                          .Name("leadrouter_unassigned_routed_total")
                          .Help("Queued leads that found a rep on a later attempt.")
                          .Register(*registry_)
                          .Add({});
  qualification_ = &prometheus::BuildCounter()
                        .Name("leadrouter_leads_qualification_total")
                        .Help("Qualification decisions of new leads, by outcome and source kind.")
                        .Register(*registry_);
  disqualified_by_requirement_ =
      &prometheus::BuildCounter()
           .Name("leadrouter_leads_failed_requirement_total")
           .Help("Leads disqualified by each failed hard requirement of the ICP.")
           .Register(*registry_);
  config_reloads_ = &prometheus::BuildCounter()
                         .Name("leadrouter_config_reloads_total")
                         .Help("Config reload attempts, by result (applied, refused, unchanged).")
                         .Register(*registry_);
  assigned_by_source_ = &prometheus::BuildCounter()
                             .Name("leadrouter_leads_assigned_total")
                             .Help("New assignments of leads to reps, by lead source kind.")
                             .Register(*registry_);
  deadletter_by_reason_ = &prometheus::BuildCounter()
                               .Name("leadrouter_events_deadlettered_total")
                               .Help("Events sent to the dead-letter topic, by reason.")
                               .Register(*registry_);
  source_events_ = &prometheus::BuildCounter()
                        .Name("leadrouter_source_events_total")
                        .Help(
                            "Events by source (a configured source, none, unknown) and outcome; "
                            "filtered counts records a source's filter dropped.")
                        .Register(*registry_);
  batch_failures_ = &prometheus::BuildCounter()
                         .Name("leadrouter_batch_failures_total")
                         .Help("Batches that failed at a stage and were retried, by stage.")
                         .Register(*registry_);
  normalize_cache_lookups_ =
      &prometheus::BuildCounter()
           .Name("leadrouter_normalize_cache_lookups_total")
           .Help(
               "Lookups in the normalizers' caches (phone numbers, company names, registrable "
               "domains), by cache and result: hit or miss (computed).")
           .Register(*registry_);
  normalize_cache_bytes_ = &prometheus::BuildGauge()
                                .Name("leadrouter_normalize_cache_bytes")
                                .Help("Bytes a normalizer cache holds (keys, values, overhead).")
                                .Register(*registry_);
  normalize_cache_entries_ = &prometheus::BuildGauge()
                                  .Name("leadrouter_normalize_cache_entries")
                                  .Help("Entries a normalizer cache holds.")
                                  .Register(*registry_);
  normalize_cache_budget_ = &prometheus::BuildGauge()
                                 .Name("leadrouter_normalize_cache_budget_bytes")
                                 .Help("The most bytes a normalizer cache holds.")
                                 .Register(*registry_);
  SetNormalizeCaches(normalize::CacheStatistics());
  commit_conflicts_ = &prometheus::BuildCounter()
                           .Name("leadrouter_commit_conflicts_total")
                           .Help(
                               "Batch commits refused because the routing state changed "
                               "since the batch's load; each one a decision made again.")
                           .Register(*registry_)
                           .Add({});
  conflicted_batches_ = &prometheus::BuildCounter()
                             .Name("leadrouter_conflicted_batches_total")
                             .Help(
                                 "Batches decided more than once because a commit was refused "
                                 "(see leadrouter_commit_conflicts_total).")
                             .Register(*registry_)
                             .Add({});
  undeliverable_ = &prometheus::BuildCounter()
                        .Name("leadrouter_undeliverable_messages_total")
                        .Help(
                            "Messages Kafka refused for good (too large, invalid record or "
                            "topic), recorded in Redis instead, by kind and reason.")
                        .Register(*registry_);
  ready_ = &prometheus::BuildGauge()
                .Name("leadrouter_ready")
                .Help(
                    "1 while the daemon can make progress (Kafka reachable, Redis answering, "
                    "consumption not paused): what readiness reports.")
                .Register(*registry_)
                .Add({});
  outbox_forwarded_ = &prometheus::BuildCounter()
                           .Name("leadrouter_outbox_forwarded_total")
                           .Help(
                               "Messages the outbox forwarder of this instance published from the "
                               "shared assignment log to the assignments topic.")
                           .Register(*registry_)
                           .Add({});
  outbox_holder_ = &prometheus::BuildGauge()
                        .Name("leadrouter_outbox_holder")
                        .Help("1 while this instance holds the outbox lease (forwards the log).")
                        .Register(*registry_)
                        .Add({});
  outbox_backlog_ = &prometheus::BuildGauge()
                         .Name("leadrouter_outbox_backlog_messages")
                         .Help(
                             "Log entries not yet acknowledged by Kafka, as the lease holder "
                             "last saw them (0 on other instances).")
                         .Register(*registry_)
                         .Add({});
  outbox_lag_ = &prometheus::BuildGauge()
                     .Name("leadrouter_outbox_lag_seconds")
                     .Help(
                         "Age of the oldest log entry not yet on Kafka (0 when caught up), as "
                         "the lease holder last saw it.")
                     .Register(*registry_)
                     .Add({});
  outbox_failures_ = &prometheus::BuildCounter()
                          .Name("leadrouter_outbox_failures_total")
                          .Help("Failed outbox rounds, by stage (redis, kafka, undecodable).")
                          .Register(*registry_);
  for (const char* stage : {"redis", "kafka", "undecodable"})
    outbox_failures_->Add({{"stage", stage}});
  config_info_ = &prometheus::BuildGauge()
                      .Name("leadrouter_config_info")
                      .Help("Always 1; the version label is the live config's content hash.")
                      .Register(*registry_);
  processing_ = &prometheus::BuildHistogram()
                     .Name("leadrouter_event_processing_seconds")
                     .Help("Time from polling an event to committing its offset.")
                     .Register(*registry_)
                     .Add({}, LatencyBuckets());
  lead_to_assignment_ = &prometheus::BuildHistogram()
                             .Name("leadrouter_lead_to_assignment_seconds")
                             .Help(
                                 "Speed to lead: time from the lead's occurred_at to its "
                                 "assignment committed (in Redis and on the stream).")
                             .Register(*registry_)
                             .Add({}, SpeedToLeadBuckets());
  lead_to_kafka_ = &prometheus::BuildHistogram()
                        .Name("leadrouter_lead_to_kafka_seconds")
                        .Help(
                            "Speed to lead on Kafka: time from the lead's occurred_at to Kafka "
                            "acknowledging its first assignment.")
                        .Register(*registry_)
                        .Add({}, SpeedToLeadBuckets());
  subscribers_ = &prometheus::BuildGauge()
                      .Name("leadrouter_stream_subscribers")
                      .Help("Open StreamAssignments gRPC streams.")
                      .Register(*registry_)
                      .Add({});
  consumer_lag_ = std::make_unique<GaugeSet>(
      prometheus::BuildGauge()
          .Name("leadrouter_consumer_lag_messages")
          .Help("Records behind on each inbound partition assigned to this instance: the "
                "partition's high watermark minus the consumer's position, from librdkafka's "
                "caches, sampled about every second. A partition has a series only while it is "
                "assigned here and its lag is known.")
          .Register(*registry_));
  redis_seconds_ = &prometheus::BuildHistogram()
                        .Name("leadrouter_redis_command_seconds")
                        .Help(
                            "Round trip time of one Redis command or pipeline, by store "
                            "operation (load, commit, queue, sla, log, log_tail, other); "
                            "log_tail is a blocking XREAD and includes its wait of up to 0.5 s.")
                        .Register(*registry_);
  redis_errors_ = &prometheus::BuildCounter()
                       .Name("leadrouter_redis_errors_total")
                       .Help(
                           "Redis round trips that failed with an unknown outcome (I/O error, "
                           "timeout, connection or AUTH refused), by store operation.")
                       .Register(*registry_);
  grpc_requests_ = &prometheus::BuildCounter()
                        .Name("leadrouter_grpc_requests_total")
                        .Help(
                            "Finished gRPC calls by full method name and status code name; "
                            "streaming calls are counted when they finish.")
                        .Register(*registry_);
  grpc_seconds_ = &prometheus::BuildHistogram()
                       .Name("leadrouter_grpc_request_seconds")
                       .Help(
                           "Duration of unary gRPC calls, from the start of the call to its "
                           "status, by full method name.")
                       .Register(*registry_);
  pool_fairness_ = std::make_unique<GaugeSet>(
      prometheus::BuildGauge()
          .Name("leadrouter_pool_fairness_deviation")
          .Help("Max over a pool's members of |actual share - target share| (0..1): target = "
                "weight / sum of the pool's weights, actual = leads this pool assigned to the "
                "member / leads it assigned to all members, from the shared routing state.")
          .Register(*registry_));
  pool_open_leads_ = std::make_unique<GaugeSet>(
      prometheus::BuildGauge()
          .Name("leadrouter_pool_open_leads")
          .Help("Open (assigned, not yet closed) leads held by a pool's members, from the shared "
                "routing state; a rep in several pools counts in each.")
          .Register(*registry_));
  rep_open_leads_ = std::make_unique<GaugeSet>(
      prometheus::BuildGauge()
          .Name("leadrouter_rep_open_leads")
          .Help("Open (assigned, not yet closed) leads per configured rep, from the shared "
                "routing state.")
          .Register(*registry_));

  // Series whose label values this library fixes exist from the first scrape, so rate() and
  // increase() count their first events.
  for (const char* kind : {"event_replay", "person", "account"}) {
    dedupe_matches_->Add({{"kind", kind}});
  }
  for (const char* result : {"applied", "refused", "unchanged"}) {
    config_reloads_->Add({{"result", result}});
  }
  for (const char* stage : {"redis", "kafka_produce", "kafka_commit", "kafka_consume", "enrich"}) {
    batch_failures_->Add({{"stage", stage}});
  }
  for (const char* kind : {"dead_letter", "assignment", "nurture"}) {
    for (const char* reason : {"too_large", "invalid_record", "invalid_topic"}) {
      undeliverable_->Add({{"kind", kind}, {"reason", reason}});
    }
  }
  for (const char* stage : {"decode", "dedupe", "qualify", "route", "redis_load", "redis_commit",
                            "publish", "publish_wait", "kafka_commit"}) {
    stage_seconds_->Add({{"stage", stage}}, StageBuckets());
  }
}

PipelineMetrics::~PipelineMetrics() = default;

void PipelineMetrics::EventsConsumed(double n) {
  consumed_->Increment(n);
}

void PipelineMetrics::LeadAssigned(std::string_view source_kind) {
  outcomes_[Index(Outcome::kAssigned)]->Increment();
  qualification_->Add({{"outcome", "qualified"}, {"source_kind", std::string(source_kind)}})
      .Increment();
  assigned_by_source_->Add({{"source_kind", std::string(source_kind)}}).Increment();
}

void PipelineMetrics::EventReplayed() {
  outcomes_[Index(Outcome::kReplayed)]->Increment();
  DedupeMatch("event_replay");
}

void PipelineMetrics::EventDeadLettered(std::string_view reason) {
  outcomes_[Index(Outcome::kDeadLettered)]->Increment();
  deadletter_by_reason_->Add({{"reason", std::string(reason)}}).Increment();
}

void PipelineMetrics::SourceEvent(std::string_view source, std::string_view outcome, double n) {
  source_events_->Add({{"source", std::string(source)}, {"outcome", std::string(outcome)}})
      .Increment(n);
}

void PipelineMetrics::LeadNotQualified(bool disqualified, std::string_view source_kind,
                                       const std::vector<std::string>& failed_requirements) {
  outcomes_[Index(disqualified ? Outcome::kDisqualified : Outcome::kNurture)]->Increment();
  qualification_
      ->Add({{"outcome", disqualified ? "disqualified" : "nurture"},
             {"source_kind", std::string(source_kind)}})
      .Increment();
  for (const auto& requirement : failed_requirements) {
    disqualified_by_requirement_->Add({{"requirement", requirement}}).Increment();
  }
}

void PipelineMetrics::ConfigReload(std::string_view result) {
  config_reloads_->Add({{"result", std::string(result)}}).Increment();
}

void PipelineMetrics::LeadQueuedUnassigned() {
  outcomes_[Index(Outcome::kUnassigned)]->Increment();
}

void PipelineMetrics::LeadDuplicate() {
  outcomes_[Index(Outcome::kDuplicate)]->Increment();
  DedupeMatch("person");
}

void PipelineMetrics::AccountClaim(std::string_view outcome) {
  account_claims_->Add({{"outcome", std::string(outcome)}}).Increment();
}

void PipelineMetrics::ClaimConflictResolved(std::string_view decision) {
  claim_conflicts_resolved_->Add({{"decision", std::string(decision)}}).Increment();
}

void PipelineMetrics::DedupeMatch(std::string_view kind) {
  dedupe_matches_->Add({{"kind", std::string(kind)}}).Increment();
}

void PipelineMetrics::LeadEvent(std::string_view event, const LeadLabels& labels,
                                std::string_view reason) {
  const std::map<std::string, std::string> common{{"source_kind", labels.source_kind},
                                                  {"campaign", labels.campaign},
                                                  {"territory", labels.territory},
                                                  {"pool", labels.pool}};
  auto with_event = common;
  with_event["event"] = std::string(event);
  lead_events_->Add(with_event).Increment();
  if (!reason.empty()) {
    auto with_reason = common;
    with_reason["reason"] = std::string(reason);
    lead_returns_->Add(with_reason).Increment();
  }
  if (!labels.rep.empty()) {
    rep_lead_events_->Add({{"rep", labels.rep}, {"event", std::string(event)}}).Increment();
  }
}

void PipelineMetrics::SetSlaPending(double n) {
  sla_pending_->Set(n);
}

void PipelineMetrics::ObserveTimeToAccept(double seconds) {
  time_to_accept_->Observe(seconds);
}

void PipelineMetrics::ObserveStage(std::string_view stage, double seconds) {
  stage_seconds_->Add({{"stage", std::string(stage)}}, StageBuckets()).Observe(seconds);
}

void PipelineMetrics::SetConsumerPaused(bool paused) {
  consumer_paused_->Set(paused ? 1 : 0);
}

void PipelineMetrics::QueuedLeadAssigned() {
  queued_assigned_->Increment();
}

void PipelineMetrics::SetUnassignedQueueDepth(double n) {
  unassigned_depth_->Set(n);
}

void PipelineMetrics::ObserveProcessing(double seconds) {
  processing_->Observe(seconds);
}

void PipelineMetrics::ObserveLeadToAssignment(double seconds) {
  lead_to_assignment_->Observe(seconds);
}

void PipelineMetrics::ObserveLeadToKafka(double seconds) {
  lead_to_kafka_->Observe(seconds);
}

void PipelineMetrics::MessageUndeliverable(std::string_view kind, std::string_view reason) {
  undeliverable_->Add({{"kind", std::string(kind)}, {"reason", std::string(reason)}}).Increment();
}

void PipelineMetrics::SetReady(bool ready) {
  ready_->Set(ready ? 1 : 0);
}

void PipelineMetrics::OutboxForwarded(double n) {
  outbox_forwarded_->Increment(n);
}

void PipelineMetrics::SetOutboxHolder(bool holder) {
  outbox_holder_->Set(holder ? 1 : 0);
}

void PipelineMetrics::SetOutboxBacklog(double messages, double oldest_age_seconds) {
  outbox_backlog_->Set(messages);
  outbox_lag_->Set(oldest_age_seconds);
}

void PipelineMetrics::OutboxFailed(std::string_view stage) {
  outbox_failures_->Add({{"stage", std::string(stage)}}).Increment();
}

void PipelineMetrics::BatchFailed(std::string_view stage) {
  batch_failures_->Add({{"stage", std::string(stage)}}).Increment();
}

void PipelineMetrics::CommitConflicts(int refusals) {
  if (refusals <= 0) return;
  commit_conflicts_->Increment(refusals);
  conflicted_batches_->Increment();
}

void PipelineMetrics::SetStreamSubscribers(double n) {
  subscribers_->Set(n);
}

void PipelineMetrics::SetConfigInfo(const std::string& version) {
  // Exactly one series: the live version.
  std::lock_guard lock(config_info_mu_);
  if (config_info_current_ != nullptr) config_info_->Remove(config_info_current_);
  config_info_current_ = &config_info_->Add({{"version", version}});
  config_info_current_->Set(1);
}

void PipelineMetrics::SetConsumerLag(const std::vector<PartitionLag>& lags) {
  std::vector<std::pair<prometheus::Labels, double>> series;
  series.reserve(lags.size());
  for (const PartitionLag& lag : lags) {
    series.push_back(
        {{{"topic", lag.topic}, {"partition", std::to_string(lag.partition)}}, lag.messages});
  }
  consumer_lag_->Replace(series);
}

void PipelineMetrics::SetNormalizeCaches(const std::vector<normalize::CacheStats>& caches) {
  for (const normalize::CacheStats& cache : caches) {
    const std::string name(cache.name);
    // Cumulative counts in, counters out: add what is new since the last sample.
    auto advance = [](prometheus::Counter& counter, uint64_t total) {
      const double delta = static_cast<double>(total) - counter.Value();
      if (delta > 0) counter.Increment(delta);
    };
    advance(normalize_cache_lookups_->Add({{"cache", name}, {"result", "hit"}}), cache.hits);
    advance(normalize_cache_lookups_->Add({{"cache", name}, {"result", "miss"}}), cache.misses);
    normalize_cache_bytes_->Add({{"cache", name}}).Set(static_cast<double>(cache.bytes));
    normalize_cache_entries_->Add({{"cache", name}}).Set(static_cast<double>(cache.entries));
    normalize_cache_budget_->Add({{"cache", name}}).Set(static_cast<double>(cache.budget_bytes));
  }
}

void PipelineMetrics::ObserveRedis(std::string_view op, double seconds, bool ok) {
  const prometheus::Labels labels{{"op", std::string(op)}};
  redis_seconds_->Add(labels, RedisBuckets()).Observe(seconds);
  if (!ok) redis_errors_->Add(labels).Increment();
}

void PipelineMetrics::PrecreateRedisOp(std::string_view op) {
  const prometheus::Labels labels{{"op", std::string(op)}};
  redis_seconds_->Add(labels, RedisBuckets());
  redis_errors_->Add(labels);
}

void PipelineMetrics::RpcFinished(std::string_view method, std::string_view code,
                                  std::optional<double> seconds) {
  grpc_requests_->Add({{"method", std::string(method)}, {"code", std::string(code)}}).Increment();
  if (seconds)
    grpc_seconds_->Add({{"method", std::string(method)}}, RpcBuckets()).Observe(*seconds);
}

namespace {

std::vector<std::pair<prometheus::Labels, double>> Series(
    const std::string& label, const std::vector<std::pair<std::string, double>>& values) {
  std::vector<std::pair<prometheus::Labels, double>> series;
  series.reserve(values.size());
  for (const auto& [value, number] : values) series.push_back({{{label, value}}, number});
  return series;
}

}  // namespace

void PipelineMetrics::SetRoutingLoad(const RoutingLoad& load) {
  pool_fairness_->Replace(Series("pool", load.pool_fairness_deviation));
  pool_open_leads_->Replace(Series("pool", load.pool_open_leads));
  rep_open_leads_->Replace(Series("rep", load.rep_open_leads));
}

PipelineMetrics::PrecreateReport PipelineMetrics::PrecreateLeadSeries(const LeadSeriesSpace& space,
                                                                      size_t max_series) {
  PrecreateReport report;
  const size_t pairs = space.territory_pools.size();
  const size_t per_pair = space.source_kinds.size() * space.campaigns.size() * pairs;
  report.wanted = space.reps.size() * space.events.size() + space.source_kind_names.size() * 4 +
                  space.deadletter_reasons.size() + space.requirements.size() +
                  space.sources.size() * std::size(kSourceOutcomes) +
                  space.events.size() * per_pair + space.return_reasons.size() * per_pair;
  // Adds one series unless the budget is spent; false once it is.
  auto add = [&](auto& family, const prometheus::Labels& labels) {
    if (report.created >= max_series) return false;
    family.Add(labels);
    ++report.created;
    return true;
  };
  for (const auto& rep : space.reps) {
    for (const auto& event : space.events) {
      if (!add(*rep_lead_events_, {{"rep", rep}, {"event", event}})) return report;
    }
  }
  for (const auto& kind : space.source_kind_names) {
    if (!add(*assigned_by_source_, {{"source_kind", kind}})) return report;
    for (const char* outcome : {"qualified", "nurture", "disqualified"}) {
      if (!add(*qualification_, {{"outcome", outcome}, {"source_kind", kind}})) return report;
    }
  }
  for (const auto& reason : space.deadletter_reasons) {
    if (!add(*deadletter_by_reason_, {{"reason", reason}})) return report;
  }
  for (const auto& requirement : space.requirements) {
    if (!add(*disqualified_by_requirement_, {{"requirement", requirement}})) return report;
  }
  for (const auto& source : space.sources) {
    for (std::string_view outcome : kSourceOutcomes) {
      if (!add(*source_events_, {{"source", source}, {"outcome", std::string(outcome)}})) {
        return report;
      }
    }
  }
  // The lead families: the same label product, with `event` or with the return `reason`.
  const auto precreate_product = [&](prometheus::Family<prometheus::Counter>& family,
                                     const std::string& label,
                                     const std::vector<std::string>& values) {
    for (const auto& value : values) {
      for (const auto& kind : space.source_kinds) {
        for (const auto& campaign : space.campaigns) {
          for (const auto& [territory, pool] : space.territory_pools) {
            if (!add(family, {{label, value},
                              {"source_kind", kind},
                              {"campaign", campaign},
                              {"territory", territory},
                              {"pool", pool}})) {
              return false;
            }
          }
        }
      }
    }
    return true;
  };
  if (!precreate_product(*lead_events_, "event", space.events)) return report;
  precreate_product(*lead_returns_, "reason", space.return_reasons);
  return report;
}

double PipelineMetrics::Consumed() const {
  return consumed_->Value();
}

double PipelineMetrics::OutcomeTotal(Outcome outcome) const {
  return outcomes_[Index(outcome)]->Value();
}

absl::StatusOr<std::unique_ptr<MetricsServer>> MetricsServer::Start(
    const std::string& listen, std::shared_ptr<prometheus::Registry> registry,
    ReadinessCheck readiness) {
  std::map<std::string, http::Handler> routes;
  routes["/metrics"] = [registry](const http::Request& request) {
    http::Response response;
    response.content_type = "text/plain; version=0.0.4; charset=utf-8";
    std::vector<prometheus::MetricFamily> families = registry->Collect();
    if (const std::vector<std::string> names = FamilyNamesIn(request.query); !names.empty()) {
      std::erase_if(families, [&](const prometheus::MetricFamily& family) {
        return std::find(names.begin(), names.end(), family.name) == names.end();
      });
    }
    response.body = prometheus::TextSerializer().Serialize(families);
    return response;
  };
  routes["/healthz"] = [](const http::Request&) { return http::Response{.body = "ok\n"}; };
  routes["/readyz"] = [readiness](const http::Request&) {
    if (!readiness) return http::Response{.body = "ready\n"};
    auto [ready, why] = readiness();
    if (ready) return http::Response{.body = "ready\n"};
    return http::Response{.status = 503, .body = absl::StrCat("not ready: ", why, "\n")};
  };
  http::ServerOptions options;
  options.listen = listen;
  options.max_body_bytes = 0;
  auto server = http::Server::Start(options, std::move(routes));
  if (!server.ok()) {
    return absl::FailedPreconditionError(absl::StrCat("metrics: cannot listen on ", listen));
  }
  std::unique_ptr<MetricsServer> metrics(new MetricsServer());
  metrics->server_ = *std::move(server);
  return metrics;
}

int MetricsServer::port() const {
  return server_->port();
}

MetricsServer::~MetricsServer() = default;

}  // namespace leadrouter::metrics
