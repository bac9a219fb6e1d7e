#include "leadrouter/pipeline/lifecycle.h"

#include <thread>

#include "absl/strings/str_cat.h"
#include "leadrouter/api/error_text.h"
#include "leadrouter/core/backoff.h"
#include "leadrouter/decide/outcome.h"
#include "leadrouter/pipeline/assigner.h"

namespace leadrouter::pipeline {
namespace {

constexpr int kMaxCommitAttempts = 32;
constexpr auto kBackoffStart = std::chrono::milliseconds(1);
constexpr auto kBackoffMax = std::chrono::milliseconds(50);

}  // namespace

LeadLifecycle::LeadLifecycle(store::AssignmentStore& store,
                             std::shared_ptr<const config::Config> config, const core::Clock& clock)
    : store_(store), config_(std::move(config)), clock_(clock) {}

absl::Status LeadLifecycle::UnknownLead(const core::LeadId& lead_id) {
  return absl::NotFoundError(
      absl::StrCat("lead ", api::QuoteForError(lead_id.value()), " is unknown (or expired)"));
}

absl::StatusOr<core::EventId> LeadLifecycle::RecordOf(const core::LeadId& lead_id) {
  auto event_id = store_.EventIdOfLead(lead_id);
  if (!event_id.ok()) return event_id.status();
  if (!event_id->has_value()) return UnknownLead(lead_id);
  return **event_id;
}

absl::StatusOr<LeadUpdate> LeadLifecycle::Transition(const core::LeadId& lead_id,
                                                     const Decision& decision) {
  if (lead_id.empty()) return absl::InvalidArgumentError("lead_id: required");
  core::Backoff backoff(kBackoffStart, kBackoffMax, reinterpret_cast<uintptr_t>(this));
  for (int attempt = 0; attempt < kMaxCommitAttempts; ++attempt) {
    if (attempt > 0) std::this_thread::sleep_for(backoff.Next());
    auto event_id = RecordOf(lead_id);
    if (!event_id.ok()) return event_id.status();
    auto snapshot = store_.Load({event_id->value()});
    if (!snapshot.ok()) return snapshot.status();
    if (!snapshot->records[0].has_value()) return UnknownLead(lead_id);
    auto parsed = ParseStoredOutcome("lead " + lead_id.value(), *snapshot->records[0]);
    if (!parsed.ok()) return parsed.status();
    if (!(*parsed)->has_assignment()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "lead ", lead_id.value(), " was not qualified (sent to nurture); it has no rep"));
    }
    auto state = StateFromFields(snapshot->state);
    if (!state.ok()) return state.status();
    absl::StatusOr<decide::LeadChange> change = decision(*event_id, **parsed, *std::move(state));
    if (!change.ok()) return change.status();
    if (change->writes.empty()) return std::move(change->update);
    auto committed = store_.Commit(ToCommitRequest(change->writes, store_.keys(), snapshot->state,
                                                   *config_, snapshot->version));
    if (!committed.ok()) return committed.status();
    if (*committed == store::AssignmentStore::CommitResult::kCommitted) {
      return std::move(change->update);
    }
  }
  return absl::AbortedError(absl::StrCat("lead ", api::QuoteForError(lead_id.value()),
                                         " still contended after ", kMaxCommitAttempts,
                                         " attempts; retry"));
}

absl::StatusOr<LeadUpdate> LeadLifecycle::Accept(const core::LeadId& lead_id,
                                                 const core::RepId& rep_id,
                                                 const std::string& actor) {
  return Transition(lead_id, [&](const core::EventId& event_id, const v1::EventOutcome& record,
                                 routing::RoutingState state) {
    return decide::DecideAccept(*config_, event_id, record, rep_id, actor, std::move(state),
                                clock_.Now());
  });
}

absl::StatusOr<LeadUpdate> LeadLifecycle::Return(const core::LeadId& lead_id,
                                                 const core::RepId& rep_id, v1::ReturnReason reason,
                                                 const std::string& note,
                                                 const std::string& actor) {
  return Transition(lead_id, [&](const core::EventId& event_id, const v1::EventOutcome& record,
                                 routing::RoutingState state) {
    return decide::DecideReturn(*config_, event_id, record, rep_id, reason, note, actor,
                                std::move(state), clock_.Now());
  });
}

absl::StatusOr<LeadUpdate> LeadLifecycle::Convert(const core::LeadId& lead_id,
                                                  const core::RepId& rep_id, double value,
                                                  const std::string& note,
                                                  const std::string& actor) {
  return Transition(lead_id, [&](const core::EventId& event_id, const v1::EventOutcome& record,
                                 routing::RoutingState state) {
    return decide::DecideConvert(*config_, event_id, record, rep_id, value, note, actor,
                                 std::move(state), clock_.Now());
  });
}

absl::StatusOr<LeadUpdate> LeadLifecycle::ExpireDue(size_t limit) {
  const core::TimePoint now = clock_.Now();
  auto due = store_.DueSlaLeads(decide::EpochSeconds(now), limit);
  if (!due.ok()) return due.status();
  LeadUpdate all;
  for (const core::LeadId& lead_id : *due) {
    auto expired =
        Transition(lead_id, [&](const core::EventId& event_id, const v1::EventOutcome& record,
                                routing::RoutingState state) {
          return decide::DecideExpire(*config_, lead_id, event_id, record, std::move(state), now);
        });
    if (absl::IsNotFound(expired.status()) || absl::IsFailedPrecondition(expired.status())) {
      // The lead's record is gone (its TTL passed): drop the deadline so it is not retried.
      auto snapshot = store_.Load({});
      if (!snapshot.ok()) return snapshot.status();
      store::AssignmentStore::CommitRequest drop;
      drop.expected_version = snapshot->version;
      drop.sla_remove.push_back(lead_id.value());
      if (auto dropped = store_.Commit(drop); !dropped.ok()) return dropped.status();
      continue;  // a moved version only means another instance got there; the next pass retries
    }
    if (!expired.ok()) return expired.status();
    for (auto& event : expired->events) all.events.push_back(std::move(event));
    for (auto& nurture : expired->recycled) all.recycled.push_back(std::move(nurture));
  }
  return all;
}

absl::StatusOr<v1::AssignmentEvent> LeadLifecycle::Explain(const core::LeadId& lead_id) {
  if (lead_id.empty()) return absl::InvalidArgumentError("lead_id: required");
  auto event_id = RecordOf(lead_id);
  if (!event_id.ok()) return event_id.status();
  auto records = store_.LoadRecords({event_id->value()});
  if (!records.ok()) return records.status();
  if (!(*records)[0].has_value()) return UnknownLead(lead_id);
  auto parsed = ParseStoredOutcome("lead " + lead_id.value(), *(*records)[0]);
  if (!parsed.ok()) return parsed.status();
  const v1::EventOutcome& outcome = **parsed;
  if (outcome.has_assignment()) return outcome.assignment();
  // Not qualified: explain the qualification.
  const v1::NurtureEvent& nurture = outcome.nurture();
  v1::AssignmentEvent explained;
  explained.set_lead_id(nurture.lead_id());
  explained.set_event_id(nurture.event_id());
  explained.set_status(v1::ASSIGNMENT_STATUS_UNSPECIFIED);
  explained.set_reason(absl::StrCat(
      "not qualified (", v1::QualificationOutcome_Name(nurture.qualification().outcome()),
      "): sent to marketing, never routed"));
  explained.set_config_version(nurture.config_version());
  *explained.mutable_event_time() = nurture.decided_at();
  *explained.mutable_lead() = nurture.lead();
  *explained.mutable_qualification() = nurture.qualification();
  *explained.mutable_lead_occurred_at() = nurture.lead().occurred_at();
  *explained.mutable_history() = nurture.history();
  return explained;
}

}  // namespace leadrouter::pipeline
