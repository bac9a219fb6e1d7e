#include "leadrouter/pipeline/pipeline.h"

#include <google/protobuf/util/time_util.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>
#include <variant>

#include "absl/strings/str_cat.h"
#include "leadrouter/core/backoff.h"
#include "leadrouter/core/hash.h"
#include "leadrouter/lead/decode.h"
#include "leadrouter/lead/validate.h"
#include "leadrouter/normalize/normalize.h"
#include "leadrouter/pipeline/lead_metrics.h"
#include "leadrouter/pipeline/observability.h"
#include "leadrouter/pipeline/source_decode.h"

namespace leadrouter::pipeline {
namespace {

using Seconds = std::chrono::duration<double>;

// What a dead letter may carry: the original value whole when it was within
// kafka.max_event_bytes (the config checks that this fits in the producer's message.max.bytes
// with the headers), a bounded prefix with its size and SHA-256 otherwise.
DeadLetterLimits DeadLetterLimitsFor(const config::Config& config) {
  DeadLetterLimits limits;
  limits.max_value_bytes = static_cast<size_t>(config.kafka.max_event_bytes);
  return limits;
}

// What the pipeline itself publishes for one decided event, if anything. A nurture record goes
// to the nurture topic (new or replayed). A new assignment is published by the outbox, from the
// shared log its commit appended to (OutboxForwarder), so the topic gets it in log order even
// after an outage; a replayed one is re-published here, as exactly the message first published
// for the event (never the lead's current state). Both JSON keyed by lead id.
absl::StatusOr<std::optional<kafka::OutgoingMessage>> OutcomeMessage(const config::Config& config,
                                                                     const LeadResult& result) {
  const v1::EventOutcome& outcome = *result.outcome;
  if (outcome.has_assignment()) {
    if (!result.replayed) return std::nullopt;
    return AssignmentMessage(config.kafka.topics.assignments, FirstMessage(outcome),
                             /*replayed=*/true);
  }
  const v1::NurtureEvent& n = outcome.nurture();
  return JsonMessage(config.kafka.topics.nurture, n.lead_id(), n.event_id(), n, result.replayed);
}

const std::string& EventIdOf(const v1::EventOutcome& outcome) {
  return outcome.has_assignment() ? outcome.assignment().event_id() : outcome.nurture().event_id();
}

// How often queued (unassigned) leads are retried, and how many at a time.
constexpr auto kQueueRetryInterval = std::chrono::seconds(1);
constexpr size_t kQueueRetryBatch = 100;

}  // namespace

// Publishes one batch's outputs at a time on its own thread, so that the pipeline can prepare
// the next batch while Kafka acknowledges this one. Start and Wait alternate, on one thread.
class Pipeline::BackgroundPublisher {
 public:
  explicit BackgroundPublisher(kafka::Producer& producer)
      : producer_(producer), thread_([this] { Loop(); }) {}
  BackgroundPublisher(const BackgroundPublisher&) = delete;
  BackgroundPublisher& operator=(const BackgroundPublisher&) = delete;
  // Finishes a publication in progress, then stops the thread.
  ~BackgroundPublisher() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    changed_.notify_all();
    thread_.join();
  }

  // Starts publishing `messages`, which must stay alive and unchanged until Wait returns; it
  // gives up when `cancel` (optional) becomes true. Precondition: no publication in progress
  // (Wait returned for the previous Start).
  void Start(const std::vector<kafka::OutgoingMessage>& messages, std::chrono::milliseconds timeout,
             const std::atomic<bool>* cancel) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      job_ = &messages;
      timeout_ = timeout;
      cancel_ = cancel;
      done_ = false;
    }
    changed_.notify_all();
  }

  // Blocks until the started publication ends; its result, the messages Kafka refused for good,
  // and how long it took in `seconds`.
  absl::Status Wait(double& seconds, std::vector<kafka::RefusedMessage>& refused) {
    std::unique_lock<std::mutex> lock(mutex_);
    changed_.wait(lock, [&] { return done_; });
    job_ = nullptr;
    seconds = seconds_;
    refused = std::move(refused_);
    refused_.clear();
    return result_;
  }

 private:
  void Loop() {
    std::unique_lock<std::mutex> lock(mutex_);
    while (true) {
      changed_.wait(lock, [&] { return stopping_ || (job_ != nullptr && !done_); });
      if (job_ == nullptr || done_) return;  // stopping, nothing to finish
      const std::vector<kafka::OutgoingMessage>& messages = *job_;
      const std::chrono::milliseconds timeout = timeout_;
      const std::atomic<bool>* cancel = cancel_;
      lock.unlock();
      const auto started = std::chrono::steady_clock::now();
      std::vector<kafka::RefusedMessage> refused;
      absl::Status result = producer_.ProduceAndWait(messages, timeout, &refused, cancel);
      const double seconds = Seconds(std::chrono::steady_clock::now() - started).count();
      lock.lock();
      result_ = std::move(result);
      refused_ = std::move(refused);
      seconds_ = seconds;
      done_ = true;
      changed_.notify_all();
    }
  }

  kafka::Producer& producer_;
  std::mutex mutex_;
  std::condition_variable changed_;
  const std::vector<kafka::OutgoingMessage>* job_ = nullptr;  // guarded by mutex_
  std::chrono::milliseconds timeout_{0};                      // guarded by mutex_
  const std::atomic<bool>* cancel_ = nullptr;                 // guarded by mutex_
  std::vector<kafka::RefusedMessage> refused_;                // guarded by mutex_
  bool done_ = true;                                          // guarded by mutex_
  bool stopping_ = false;                                     // guarded by mutex_
  absl::Status result_;                                       // guarded by mutex_
  double seconds_ = 0;                                        // guarded by mutex_
  std::thread thread_;  // last: starts after the fields above exist
};

Pipeline::Pipeline(const config::ConfigReloader& configs, kafka::Consumer& consumer,
                   kafka::Producer& producer, store::AssignmentStore& store,
                   metrics::PipelineMetrics& metrics, const core::Clock& clock)
    : configs_(configs),
      consumer_(consumer),
      producer_(producer),
      metrics_(metrics),
      store_(store),
      clock_(clock),
      publisher_(std::make_unique<BackgroundPublisher>(producer)),
      queue_(consumer),
      recovery_(queue_) {
  queue_.OnPausedChange([this](bool paused) {
    metrics_.SetConsumerPaused(paused);
    if (on_paused_) on_paused_(paused);
  });
  UseCurrentConfig();
}

Pipeline::~Pipeline() = default;

void Pipeline::UseCurrentConfig() {
  std::shared_ptr<const config::Config> current = configs_.Current();
  if (current == config_) return;
  if (config_ != nullptr) {
    spdlog::info("routing with config {} from the next batch on", current->version);
  }
  config_ = std::move(current);
  assigner_ = std::make_unique<Assigner>(store_, config_, clock_);
  PrecreateLeadSeries(metrics_, *config_);
}

void Pipeline::SampleConsumerLag() {
  const auto now = std::chrono::steady_clock::now();
  if (now < next_lag_sample_) return;
  next_lag_sample_ = now + kLagSampleInterval;
  metrics_.SetNormalizeCaches(normalize::CacheStatistics());
  auto lags = consumer_.Lag();
  if (!lags.ok()) {
    spdlog::warn("consumer lag: {}", lags.status().ToString());
    return;
  }
  std::vector<metrics::PipelineMetrics::PartitionLag> known;
  for (const kafka::PartitionLag& lag : *lags) {
    if (lag.messages) {
      known.push_back({lag.topic, lag.partition, static_cast<double>(*lag.messages)});
    }
  }
  metrics_.SetConsumerLag(known);
}

absl::Status Pipeline::PublishAndFinish(const PreparedBatch& prepared) {
  const auto publish_started = std::chrono::steady_clock::now();
  std::vector<kafka::RefusedMessage> refused;
  const absl::Status produced =
      producer_.ProduceAndWait(prepared.outputs, config_->kafka.produce_timeout, &refused, stop_);
  metrics_.ObserveStage("publish",
                        Seconds(std::chrono::steady_clock::now() - publish_started).count());
  return Finish(prepared, produced, refused);
}

absl::Status Pipeline::RecordUndeliverable(const std::vector<OutputOrigin>& origins,
                                           const std::vector<kafka::OutgoingMessage>& outputs,
                                           const std::vector<kafka::RefusedMessage>& refused) {
  if (refused.empty()) return absl::OkStatus();
  std::vector<store::AssignmentStore::UndeliverableRecord> records;
  std::vector<std::string_view> kinds;
  const std::string recorded_at = google::protobuf::util::TimeUtil::ToString(
      google::protobuf::util::TimeUtil::NanosecondsToTimestamp(
          std::chrono::duration_cast<std::chrono::nanoseconds>(clock_.Now().time_since_epoch())
              .count()));
  for (const kafka::RefusedMessage& refusal : refused) {
    const OutputOrigin& origin = origins.at(refusal.index);
    const kafka::OutgoingMessage& output = outputs.at(refusal.index);
    std::string_view kind = "dead_letter";
    switch (origin.kind) {
      case OutputOrigin::Kind::kDeadLetter:
        kind = "dead_letter";
        break;
      case OutputOrigin::Kind::kAssignment:
        kind = "assignment";
        break;
      case OutputOrigin::Kind::kNurture:
        kind = "nurture";
        break;
    }
    store::AssignmentStore::UndeliverableRecord& record = records.emplace_back();
    record.fields = {{"kind", std::string(kind)},
                     {"reason", refusal.reason},
                     {"error", refusal.error},
                     {"topic", output.topic},
                     {"message_bytes", std::to_string(output.value.size() + output.key.size())},
                     {"recorded_at", recorded_at}};
    if (!origin.event_id.empty()) record.fields.push_back({"event_id", origin.event_id});
    if (origin.input != nullptr) {
      const kafka::ConsumedMessage& in = *origin.input;
      const std::string source = absl::StrCat(in.topic, "/", in.partition, "/", in.offset);
      record.fields.push_back({"source", source});
      record.fields.push_back({"original_bytes", std::to_string(in.value.size())});
      record.fields.push_back({"original_sha256", core::Sha256Hex(in.value)});
      for (const kafka::Header& header : output.headers) {
        if (header.name == kHeaderErrorCode) record.fields.push_back({"error_code", header.value});
      }
      record.id = origin.event_id.empty() ? source : origin.event_id;
    } else {
      record.id = origin.event_id;
    }
    kinds.push_back(kind);
  }
  if (absl::Status recorded = store_.RecordUndeliverable(records, config_->redis.idempotency_ttl);
      !recorded.ok()) {
    metrics_.BatchFailed("redis");
    return recorded;
  }
  for (size_t i = 0; i < refused.size(); ++i) {
    metrics_.MessageUndeliverable(kinds[i], refused[i].reason);
    // Ids and offsets only: the message itself may carry personal data.
    spdlog::error("{} to {} refused by Kafka for good ({}), recorded as {} instead: {}", kinds[i],
                  outputs[refused[i].index].topic, refused[i].reason,
                  store_.keys().Undeliverable(records[i].id), refused[i].error);
  }
  return absl::OkStatus();
}

namespace {

// The leadrouter_events_outcome_total label of a decided lead.
std::string_view OutcomeName(const LeadResult& result) {
  if (result.replayed) return "replayed";
  const v1::EventOutcome& outcome = *result.outcome;
  if (outcome.has_nurture()) {
    return outcome.nurture().qualification().outcome() == v1::QUALIFICATION_OUTCOME_DISQUALIFIED
               ? "disqualified"
               : "nurture";
  }
  // As Finish counts them: a duplicate, a queued lead, else an assignment.
  const v1::AssignmentStatus status = outcome.assignment().status();
  if (status == v1::ASSIGNMENT_STATUS_DUPLICATE) return "duplicate";
  if (status == v1::ASSIGNMENT_STATUS_UNASSIGNED) return "unassigned";
  return "assigned";
}

}  // namespace

absl::Status Pipeline::Prepare(PreparedBatch& prepared) {
  prepared.started = std::chrono::steady_clock::now();
  prepared.outputs.clear();
  prepared.results.clear();
  prepared.rejected_reasons.clear();
  UseCurrentConfig();
  prepared.config = config_;
  const config::Config& config = *config_;

  // Decode and validate: pure, per event. Rejections become dead letters, never errors.
  std::vector<v1::LeadEvent> leads;
  leads.reserve(prepared.messages.size());
  std::vector<kafka::OutgoingMessage>& outputs = prepared.outputs;
  const core::TimePoint now = clock_.Now();
  prepared.origins.clear();
  const DeadLetterLimits dead_letter_limits = DeadLetterLimitsFor(config);
  std::vector<std::string> lead_sources;  // the source label of each of `leads`
  prepared.result_sources.clear();
  prepared.rejected_sources.clear();
  prepared.filtered.clear();
  prepared.consumed_events = 0;
  auto dead_letter = [&](const kafka::ConsumedMessage& message, const lead::Rejection& rejection,
                         std::string event_id, const std::string& source) {
    // The reason and a value-free description only: logs reach people who may not read the
    // leads' personal data (the dead letter's own header keeps the full detail).
    spdlog::warn("dead-lettering {}/{}@{}: {}: {}", message.topic, message.partition,
                 message.offset, lead::RejectReasonName(rejection.reason), rejection.log_detail);
    // For debugging a producer: the payload's shape only (letters x, digits 9), and only at
    // --log-level trace.
    if (spdlog::should_log(spdlog::level::trace)) {
      spdlog::trace("dead-lettered payload (redacted, first 256 bytes): {}",
                    lead::RedactForTrace(std::string_view(message.value).substr(0, 256)));
    }
    outputs.push_back(BuildDeadLetter(message, config.kafka.topics.deadletter,
                                      lead::RejectReasonName(rejection.reason), rejection.detail,
                                      dead_letter_limits));
    prepared.origins.push_back({OutputOrigin::Kind::kDeadLetter, &message, std::move(event_id)});
    prepared.rejected_reasons.emplace_back(lead::RejectReasonName(rejection.reason));
    prepared.rejected_sources.push_back(source);
  };
  if (enricher_ != nullptr && !config.sources.empty()) {
    // One batch read for the batch's HubSpot contacts instead of one request per event.
    std::vector<std::optional<std::string>> types, names;
    std::vector<decide::RecordView> views;
    types.reserve(prepared.messages.size());
    names.reserve(prepared.messages.size());
    for (const kafka::ConsumedMessage& message : prepared.messages) {
      types.push_back(message.HeaderValue("content-type"));
      names.push_back(message.HeaderValue(kHeaderSource));
      auto view = [](const std::optional<std::string>& v) {
        return v ? std::optional<std::string_view>(*v) : std::nullopt;
      };
      views.push_back({message.value, view(types.back()), view(names.back()), message.topic});
    }
    decide::PrefetchEnrichment(config, views, *enricher_);
  }
  for (const kafka::ConsumedMessage& message : prepared.messages) {
    const std::optional<std::string> content_type = message.HeaderValue("content-type");
    const std::optional<std::string> source_name = message.HeaderValue(kHeaderSource);
    const core::TimePoint received_at =
        message.timestamp_ms > 0 ? core::TimePoint(std::chrono::milliseconds(message.timestamp_ms))
                                 : now;
    DecodedRecord record =
        DecodeRecord(config, message.value,
                     content_type ? std::optional<std::string_view>(*content_type) : std::nullopt,
                     source_name ? std::optional<std::string_view>(*source_name) : std::nullopt,
                     message.topic, received_at, enricher_);
    if (!record.transient.ok()) {
      // Not the record's fault (HubSpot unreachable, rate limiting): the whole batch is retried
      // after a backoff, so no record of it is dead-lettered or committed meanwhile.
      metrics_.BatchFailed("enrich");
      return record.transient;
    }
    if (record.rejection) {
      ++prepared.consumed_events;
      dead_letter(message, *record.rejection, "", record.source);
      continue;
    }
    if (record.filtered > 0) prepared.filtered.emplace_back(record.source, record.filtered);
    prepared.consumed_events += record.events.size();
    for (size_t i = 0; i < record.events.size(); ++i) {
      v1::LeadEvent& event = record.events[i];
      std::optional<lead::Rejection> rejection = lead::ValidateLeadEvent(event, now);
      if (!rejection) {
        leads.push_back(std::move(event));
        lead_sources.push_back(record.source);
        continue;
      }
      if (record.events.size() > 1) {
        // Which of the record's events: its dead letter holds the whole record.
        const std::string which = absl::StrCat("event ", i + 1, " of ", record.events.size(), ": ");
        rejection->detail = which + rejection->detail;
        rejection->log_detail = which + rejection->log_detail;
      }
      dead_letter(message, *rejection, event.event_id().size() <= 128 ? event.event_id() : "",
                  record.source);
    }
  }

  const auto decoded_at = std::chrono::steady_clock::now();
  metrics_.ObserveStage("decode", Seconds(decoded_at - prepared.started).count());

  std::vector<const v1::LeadEvent*> lead_ptrs;
  lead_ptrs.reserve(leads.size());
  for (const auto& lead : leads) lead_ptrs.push_back(&lead);
  auto results = assigner_->DecideBatch(lead_ptrs);
  prepared.committed_at = clock_.Now();
  const Assigner::StageTimings& timings = assigner_->last_timings();
  metrics_.ObserveStage("dedupe", timings.dedupe);
  metrics_.ObserveStage("qualify", timings.qualify);
  metrics_.ObserveStage("route", timings.route);
  metrics_.ObserveStage("redis_load", timings.redis_load);
  metrics_.ObserveStage("redis_commit", timings.redis_commit);
  metrics_.CommitConflicts(timings.commit_conflicts);
  if (!results.ok()) {
    metrics_.BatchFailed("redis");
    return results.status();
  }
  prepared.results = *std::move(results);
  prepared.result_sources = std::move(lead_sources);
  for (LeadResult& result : prepared.results) {
    if (result.replayed && assigned_in_failed_attempt_.count(EventIdOf(*result.outcome))) {
      result.replayed = false;
    }
    auto message = OutcomeMessage(config, result);
    if (!message.ok()) return message.status();
    if (!message->has_value()) continue;
    outputs.push_back(**std::move(message));
    prepared.origins.push_back({result.outcome->has_assignment() ? OutputOrigin::Kind::kAssignment
                                                                 : OutputOrigin::Kind::kNurture,
                                nullptr, EventIdOf(*result.outcome)});
  }
  return absl::OkStatus();
}

void Pipeline::RememberAssigned(const PreparedBatch& prepared) {
  for (const auto& result : prepared.results) {
    if (!result.replayed) assigned_in_failed_attempt_.insert(EventIdOf(*result.outcome));
  }
}

absl::Status Pipeline::Finish(const PreparedBatch& prepared, const absl::Status& produced,
                              const std::vector<kafka::RefusedMessage>& refused) {
  if (!produced.ok()) {
    metrics_.BatchFailed("kafka_produce");
    RememberAssigned(prepared);
    return produced;
  }
  // A message Kafka will never take is recorded instead; only if even that fails is the batch
  // retried (the replay is harmless: outcomes are stored, dead letters are produced again).
  if (absl::Status recorded = RecordUndeliverable(prepared.origins, prepared.outputs, refused);
      !recorded.ok()) {
    RememberAssigned(prepared);
    return recorded;
  }
  const config::Config& config = *prepared.config;

  // Durable in Redis (and its assignment log, which feeds stream subscribers) and Kafka: now the
  // offsets move.
  const auto commit_started = std::chrono::steady_clock::now();
  absl::Status committed = consumer_.Commit(prepared.messages);
  metrics_.ObserveStage("kafka_commit",
                        Seconds(std::chrono::steady_clock::now() - commit_started).count());
  if (!committed.ok()) {
    // Not retried: the outputs are out, and whoever consumes these offsets again (this
    // instance or another after a rebalance) finds the stored assignments and replays them.
    // (The commit itself is asynchronous: a broker's refusal is counted when it arrives.)
    metrics_.BatchFailed("kafka_commit");
    spdlog::warn("offset commit refused; the batch will be replayed idempotently: {}",
                 committed.ToString());
  }

  const double processing = Seconds(std::chrono::steady_clock::now() - prepared.started).count();
  metrics_.EventsConsumed(static_cast<double>(prepared.consumed_events));
  for (const auto& reason : prepared.rejected_reasons) metrics_.EventDeadLettered(reason);
  for (const auto& source : prepared.rejected_sources) metrics_.SourceEvent(source, "dead_letter");
  for (const auto& [source, records] : prepared.filtered) {
    metrics_.SourceEvent(source, "filtered", static_cast<double>(records));
  }
  for (size_t i = 0; i < prepared.results.size(); ++i) {
    metrics_.SourceEvent(prepared.result_sources[i], OutcomeName(prepared.results[i]));
  }
  for (const auto& result : prepared.results) {
    assigned_in_failed_attempt_.erase(EventIdOf(*result.outcome));
    if (result.replayed) {
      metrics_.EventReplayed();
      continue;
    }
    const v1::EventOutcome& outcome = *result.outcome;
    if (outcome.has_nurture()) {
      const v1::NurtureEvent& nurture = outcome.nurture();
      std::vector<std::string> failed_requirements;
      for (const auto& rule : nurture.qualification().rules()) {
        if (rule.rule_kind() == v1::RULE_KIND_REQUIREMENT && !rule.fired())
          failed_requirements.push_back(rule.name());
      }
      metrics_.LeadNotQualified(
          nurture.qualification().outcome() == v1::QUALIFICATION_OUTCOME_DISQUALIFIED,
          v1::LeadSourceKind_Name(nurture.lead().source_kind()), failed_requirements);
      continue;
    }
    const v1::AssignmentEvent& assignment = outcome.assignment();
    CountLeadEvent(metrics_, config, assignment);
    if (assignment.status() == v1::ASSIGNMENT_STATUS_DUPLICATE) {
      metrics_.LeadDuplicate();
      continue;
    }
    if (result.match == LeadResult::Match::kAccount) metrics_.DedupeMatch("account");
    if (assignment.status() == v1::ASSIGNMENT_STATUS_UNASSIGNED) {
      metrics_.LeadQueuedUnassigned();
      continue;
    }
    metrics_.LeadAssigned(v1::LeadSourceKind_Name(assignment.lead().source_kind()));
    const auto occurred = std::chrono::system_clock::time_point(std::chrono::nanoseconds(
        google::protobuf::util::TimeUtil::TimestampToNanoseconds(assignment.lead_occurred_at())));
    // Stamped at the commit, not here: this runs after the outputs' acknowledgement, the offset
    // commit and (pipelined) the next batch's preparation.
    metrics_.ObserveLeadToAssignment(
        std::max(0.0, Seconds(prepared.committed_at - occurred).count()));
  }
  for (size_t i = 0; i < prepared.messages.size(); ++i) metrics_.ObserveProcessing(processing);
  return absl::OkStatus();
}

absl::Status Pipeline::RetryQueuedLeads() {
  UseCurrentConfig();
  auto retried = assigner_->RetryUnassigned(kQueueRetryBatch);
  if (!retried.ok()) return retried.status();
  metrics_.SetUnassignedQueueDepth(static_cast<double>(retried->queue_depth));
  if (retried->assigned.empty()) return absl::OkStatus();
  // Their assignments reach Kafka through the outbox, like every other transition.
  for (const auto& outcome : retried->assigned) {
    metrics_.QueuedLeadAssigned();
    CountLeadEvent(metrics_, *config_, outcome->assignment());
  }
  spdlog::info("{} queued lead(s) assigned; {} still waiting", retried->assigned.size(),
               retried->queue_depth);
  return absl::OkStatus();
}

absl::Status Pipeline::Land() {
  if (in_flight_ == nullptr) return absl::OkStatus();
  const auto wait_started = std::chrono::steady_clock::now();
  double publish_seconds = 0;
  std::vector<kafka::RefusedMessage> refused;
  const absl::Status produced = publisher_->Wait(publish_seconds, refused);
  metrics_.ObserveStage("publish", publish_seconds);
  metrics_.ObserveStage("publish_wait",
                        Seconds(std::chrono::steady_clock::now() - wait_started).count());
  absl::Status finished = Finish(*in_flight_, produced, refused);
  if (!finished.ok()) queue_.Requeue(in_flight_->messages);
  in_flight_.reset();
  return finished;
}

absl::Status Pipeline::Run(const std::atomic<bool>& stop) {
  stop_ = &stop;
  auto next_queue_retry = std::chrono::steady_clock::now();
  while (!stop.load()) {
    SampleConsumerLag();
    const auto max_messages = static_cast<size_t>(config_->kafka.batch_max_messages);
    // With a batch in flight, only take what is already fetched: an empty poll lands it.
    auto batch = queue_.Next(
        max_messages,
        in_flight_ != nullptr ? std::chrono::milliseconds(0) : config_->kafka.batch_max_wait,
        config_->kafka.batch_linger);
    if (!batch.ok()) {
      metrics_.BatchFailed("kafka_consume");
      return batch.status();
    }
    if (std::chrono::steady_clock::now() >= next_queue_retry) {
      // Due, idle or not: give queued leads another chance (a rep came back, a cap reset). Not
      // on every empty poll: that read the queue from Redis ~40 times a second when idle.
      next_queue_retry = std::chrono::steady_clock::now() + kQueueRetryInterval;
      if (absl::Status retried = RetryQueuedLeads(); !retried.ok()) {
        spdlog::warn("retrying unassigned leads failed: {}", retried.ToString());
      }
    }

    absl::Status failure = absl::OkStatus();
    size_t failed_events = 0;
    if (batch->empty()) {
      if (in_flight_ == nullptr) continue;
      failed_events = in_flight_->messages.size();
      failure = Land();
    } else {
      auto next = std::make_unique<PreparedBatch>();
      next->messages = *std::move(batch);
      const absl::Status prepared = Prepare(*next);
      // Offsets are committed in order: the batch in flight lands first.
      if (in_flight_ != nullptr) failed_events = in_flight_->messages.size();
      failure = Land();
      if (!failure.ok()) {
        // `next` may be in Redis already but is not published: it is retried after the other.
        if (prepared.ok()) RememberAssigned(*next);
        failed_events += next->messages.size();
        queue_.Requeue(next->messages);
      } else if (!prepared.ok()) {
        failure = prepared;
        failed_events = next->messages.size();
        queue_.Requeue(next->messages);
      } else if (recovery_.recovering()) {
        // Recovering from a failure: one batch at a time until one goes all the way through.
        failure = PublishAndFinish(*next);
        if (failure.ok()) {
          recovery_.Succeeded();
        } else {
          failed_events = next->messages.size();
          queue_.Requeue(next->messages);
        }
      } else {
        publisher_->Start(next->outputs, config_->kafka.produce_timeout, stop_);
        in_flight_ = std::move(next);
      }
    }
    if (failure.ok()) {
      if (queue_.empty() && in_flight_ == nullptr) assigned_in_failed_attempt_.clear();
      continue;
    }
    auto go_on = recovery_.BackOff(failure, failed_events, max_messages, stop,
                                   [this] { SampleConsumerLag(); });
    if (!go_on.ok()) {
      metrics_.BatchFailed("kafka_consume");
      return go_on.status();
    }
    if (!*go_on) {
      spdlog::warn("stopping with {} unfinished events; their offsets stay uncommitted",
                   queue_.size());
      return absl::OkStatus();
    }
  }
  if (absl::Status landed = Land(); !landed.ok()) {
    spdlog::warn("stopping: the last batch was not acknowledged; its offsets stay uncommitted: {}",
                 landed.ToString());
  }
  return absl::OkStatus();
}

}  // namespace leadrouter::pipeline
