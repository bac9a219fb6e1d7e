#include "leadrouter/pipeline/pipeline.h"

#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/time_util.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <thread>
#include <variant>

#include "absl/strings/str_cat.h"
#include "leadrouter/core/backoff.h"
#include "leadrouter/lead/decode.h"
#include "leadrouter/lead/validate.h"

namespace leadrouter::pipeline {
namespace {

using Seconds = std::chrono::duration<double>;

kafka::OutgoingMessage DeadLetter(const config::Config& config, const kafka::ConsumedMessage& in,
                                  const lead::Rejection& why) {
  kafka::OutgoingMessage out;
  out.topic = config.kafka.topics.deadletter;
  out.key = in.key;
  out.value = in.value;
  out.headers = in.headers;
  out.headers.push_back({kHeaderErrorCode, std::string(lead::RejectReasonName(why.reason))});
  out.headers.push_back({kHeaderError, why.detail});
  out.headers.push_back({kHeaderSourceTopic, in.topic});
  out.headers.push_back({kHeaderSourcePartition, std::to_string(in.partition)});
  out.headers.push_back({kHeaderSourceOffset, std::to_string(in.offset)});
  return out;
}

absl::StatusOr<kafka::OutgoingMessage> AssignmentMessage(const config::Config& config,
                                                         const AssignmentOutcome& outcome) {
  kafka::OutgoingMessage out;
  out.topic = config.kafka.topics.assignments;
  out.key = outcome.assignment->lead_id();  // a lead's lifecycle events stay in one partition
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  const auto status =
      google::protobuf::util::MessageToJsonString(*outcome.assignment, &out.value, options);
  if (!status.ok()) {
    return absl::InternalError(
        absl::StrCat("cannot encode assignment as JSON: ", status.ToString()));
  }
  out.headers.push_back({"content-type", "application/json"});
  out.headers.push_back({"x-leadrouter-event-id", outcome.assignment->event_id()});
  if (outcome.replayed) out.headers.push_back({kHeaderReplay, "true"});
  return out;
}

// Sleeps up to `d`, waking early when stop is set.
void SleepUnlessStopped(std::chrono::milliseconds d, const std::atomic<bool>& stop) {
  const auto until = std::chrono::steady_clock::now() + d;
  while (!stop.load() && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

}  // namespace

Pipeline::Pipeline(const config::Config& config, kafka::Consumer& consumer,
                   kafka::Producer& producer, store::AssignmentStore& store,
                   api::AssignmentHub& hub, metrics::PipelineMetrics& metrics,
                   const core::Clock& clock)
    : config_(config),
      consumer_(consumer),
      producer_(producer),
      hub_(hub),
      metrics_(metrics),
      clock_(clock),
      assigner_(store, config, clock) {}

absl::Status Pipeline::ProcessBatch(const std::vector<kafka::ConsumedMessage>& batch) {
  const auto started = std::chrono::steady_clock::now();

  // Decode and validate: pure, per event. Rejections become dead letters, never errors.
  std::vector<v1::LeadEvent> leads;
  leads.reserve(batch.size());
  std::vector<kafka::OutgoingMessage> outputs;
  std::vector<std::string> rejected_reasons;
  const core::TimePoint now = clock_.Now();
  for (const kafka::ConsumedMessage& message : batch) {
    const std::optional<std::string> content_type = message.HeaderValue("content-type");
    lead::DecodeResult decoded = lead::DecodeLeadEvent(
        message.value, content_type ? std::optional<std::string_view>(*content_type) : std::nullopt,
        static_cast<size_t>(config_.kafka.max_event_bytes));
    std::optional<lead::Rejection> rejection;
    if (auto* r = std::get_if<lead::Rejection>(&decoded)) {
      rejection = std::move(*r);
    } else {
      auto& event = std::get<v1::LeadEvent>(decoded);
      rejection = lead::ValidateLeadEvent(event, now);
      if (!rejection) leads.push_back(std::move(event));
    }
    if (rejection) {
      spdlog::warn("dead-lettering {}/{}@{}: {}: {}", message.topic, message.partition,
                   message.offset, lead::RejectReasonName(rejection->reason), rejection->detail);
      outputs.push_back(DeadLetter(config_, message, *rejection));
      rejected_reasons.emplace_back(lead::RejectReasonName(rejection->reason));
    }
  }

  std::vector<const v1::LeadEvent*> lead_ptrs;
  lead_ptrs.reserve(leads.size());
  for (const auto& lead : leads) lead_ptrs.push_back(&lead);
  auto outcomes = assigner_.AssignBatch(lead_ptrs);
  if (!outcomes.ok()) {
    metrics_.BatchFailed("redis");
    return outcomes.status();
  }
  for (AssignmentOutcome& outcome : *outcomes) {
    if (outcome.replayed && assigned_in_failed_attempt_.count(outcome.assignment->event_id())) {
      outcome.replayed = false;
    }
    auto message = AssignmentMessage(config_, outcome);
    if (!message.ok()) return message.status();
    outputs.push_back(std::move(*message));
  }

  if (absl::Status produced = producer_.ProduceAndWait(outputs, config_.kafka.produce_timeout);
      !produced.ok()) {
    metrics_.BatchFailed("kafka_produce");
    for (const auto& outcome : *outcomes) {
      if (!outcome.replayed) assigned_in_failed_attempt_.insert(outcome.assignment->event_id());
    }
    return produced;
  }

  // Durable in Redis and Kafka: now subscribers may see them, then the offsets move.
  std::vector<api::SharedAssignment> published;
  published.reserve(outcomes->size());
  for (const auto& outcome : *outcomes) published.push_back(outcome.assignment);
  hub_.Publish(published);

  if (absl::Status committed = consumer_.Commit(batch); !committed.ok()) {
    // Not retried: the outputs are out, and whoever consumes these offsets again (this
    // instance or another after a rebalance) finds the stored assignments and replays them.
    metrics_.BatchFailed("kafka_commit");
    spdlog::warn("offset commit failed; the batch will be replayed idempotently: {}",
                 committed.ToString());
  }

  const double processing = Seconds(std::chrono::steady_clock::now() - started).count();
  const auto published_at = clock_.Now();
  metrics_.EventsConsumed(static_cast<double>(batch.size()));
  for (const auto& reason : rejected_reasons) metrics_.EventDeadLettered(reason);
  for (const auto& outcome : *outcomes) {
    if (outcome.replayed) {
      metrics_.EventReplayed();
      continue;
    }
    metrics_.LeadAssigned(v1::LeadSourceKind_Name(outcome.assignment->lead().source_kind()));
    const auto occurred = std::chrono::system_clock::time_point(
        std::chrono::nanoseconds(google::protobuf::util::TimeUtil::TimestampToNanoseconds(
            outcome.assignment->lead_occurred_at())));
    metrics_.ObserveLeadToAssignment(std::max(0.0, Seconds(published_at - occurred).count()));
  }
  for (size_t i = 0; i < batch.size(); ++i) metrics_.ObserveProcessing(processing);
  assigned_in_failed_attempt_.clear();
  return absl::OkStatus();
}

absl::Status Pipeline::Run(const std::atomic<bool>& stop) {
  core::Backoff backoff(std::chrono::milliseconds(100), std::chrono::seconds(5));
  while (!stop.load()) {
    auto batch = consumer_.PollBatch(static_cast<size_t>(config_.kafka.batch_max_messages),
                                     config_.kafka.batch_max_wait);
    if (!batch.ok()) {
      metrics_.BatchFailed("kafka_consume");
      return batch.status();
    }
    if (batch->empty()) continue;
    while (true) {
      const absl::Status processed = ProcessBatch(*batch);
      if (processed.ok()) {
        backoff.Reset();
        break;
      }
      const auto delay = backoff.Next();
      spdlog::error("batch of {} events failed (attempt {}), retrying in {} ms: {}", batch->size(),
                    backoff.attempts(), delay.count(), processed.ToString());
      SleepUnlessStopped(delay, stop);
      if (stop.load()) {
        spdlog::warn("stopping with an unfinished batch of {} events; its offsets stay uncommitted",
                     batch->size());
        return absl::OkStatus();
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace leadrouter::pipeline
