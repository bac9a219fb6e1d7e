#include "leadrouter/pipeline/lifecycle.h"

#include <cmath>
#include <thread>

#include "absl/strings/str_cat.h"
#include "leadrouter/api/error_text.h"
#include "leadrouter/core/backoff.h"
#include "leadrouter/core/hash.h"
#include "leadrouter/pipeline/assigner.h"

namespace leadrouter::pipeline {
namespace {

constexpr size_t kMaxNoteBytes = 2000;
constexpr int kMaxCommitAttempts = 32;
constexpr auto kBackoffStart = std::chrono::milliseconds(1);
constexpr auto kBackoffMax = std::chrono::milliseconds(50);

std::string StatusName(v1::AssignmentStatus status) {
  return ShortEnumName(v1::AssignmentStatus_Name(status), "ASSIGNMENT_STATUS_");
}

// The rep must be named and must hold the lead, which must be in one of `allowed`.
absl::Status CheckHolder(const v1::AssignmentEvent& lead, const std::string& rep_id,
                         std::initializer_list<v1::AssignmentStatus> allowed, const char* verb) {
  if (rep_id.empty()) return absl::InvalidArgumentError("rep_id: required");
  bool ok = false;
  for (v1::AssignmentStatus status : allowed) ok |= lead.status() == status;
  if (!ok) {
    return absl::FailedPreconditionError(absl::StrCat(
        "lead ", lead.lead_id(), " is ", StatusName(lead.status()), "; cannot ", verb, " it"));
  }
  if (lead.rep_id() != rep_id) {
    return absl::FailedPreconditionError(
        absl::StrCat("lead ", lead.lead_id(), " is held by ",
                     lead.rep_id().empty() ? "nobody" : lead.rep_id(), ", not ", rep_id));
  }
  return absl::OkStatus();
}

// Moves `lead` to `status` at `now` by `actor`, with a history entry; returns the event.
v1::AssignmentEvent Move(v1::AssignmentEvent& lead, v1::AssignmentStatus status,
                         const std::string& actor, core::TimePoint now) {
  lead.set_status(status);
  lead.set_actor(actor);
  *lead.mutable_event_time() = ToTimestamp(now);
  lead.clear_sla_deadline();
  v1::LeadTransition* entry = lead.add_history();
  entry->set_status(status);
  entry->set_rep_id(lead.rep_id());
  *entry->mutable_at() = ToTimestamp(now);
  entry->set_actor(actor);
  entry->set_return_reason(lead.return_reason());
  entry->set_note(lead.note());
  entry->set_assignment_id(lead.assignment_id());
  StampMessageIdentity(lead);
  return lead;
}

void ReleaseOpenLead(const std::string& rep_id, routing::RoutingState& state) {
  routing::RepCounters& rep = state.reps[rep_id];
  rep.open_leads = std::max<int64_t>(0, rep.open_leads - 1);
}

int64_t EpochSeconds(core::TimePoint t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

}  // namespace

std::set<std::string> PreviousHolders(const v1::AssignmentEvent& lead) {
  std::set<std::string> holders;
  for (const auto& entry : lead.history()) {
    if (entry.status() == v1::ASSIGNMENT_STATUS_ASSIGNED && !entry.rep_id().empty()) {
      holders.insert(entry.rep_id());
    }
  }
  if (!lead.rep_id().empty()) holders.insert(lead.rep_id());
  return holders;
}

absl::StatusOr<AcceptResult> ApplyAccept(v1::AssignmentEvent& lead, const std::string& rep_id,
                                         const std::string& actor, core::TimePoint now) {
  if (lead.status() == v1::ASSIGNMENT_STATUS_ACCEPTED && !rep_id.empty() &&
      lead.rep_id() == rep_id) {
    return AcceptResult{lead, false};
  }
  if (absl::Status held = CheckHolder(lead, rep_id, {v1::ASSIGNMENT_STATUS_ASSIGNED}, "accept");
      !held.ok()) {
    return held;
  }
  lead.clear_return_reason();
  lead.clear_note();
  return AcceptResult{Move(lead, v1::ASSIGNMENT_STATUS_ACCEPTED, actor, now), true};
}

absl::StatusOr<v1::AssignmentEvent> ApplyReturn(v1::AssignmentEvent& lead,
                                                const std::string& rep_id, v1::ReturnReason reason,
                                                const std::string& note, const std::string& actor,
                                                core::TimePoint now, routing::RoutingState& state) {
  if (reason == v1::RETURN_REASON_UNSPECIFIED || !v1::ReturnReason_IsValid(reason)) {
    return absl::InvalidArgumentError(
        "reason: required, one of BAD_FIT, WRONG_TERRITORY, DUPLICATE, NO_CONTACT_INFO, "
        "NOT_READY, EXISTING_CUSTOMER, OTHER");
  }
  if (reason == v1::RETURN_REASON_OTHER && note.empty()) {
    return absl::InvalidArgumentError("note: required when reason is OTHER");
  }
  if (note.size() > kMaxNoteBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("note: at most ", kMaxNoteBytes, " bytes, got ", note.size()));
  }
  if (absl::Status held = CheckHolder(
          lead, rep_id, {v1::ASSIGNMENT_STATUS_ASSIGNED, v1::ASSIGNMENT_STATUS_ACCEPTED}, "return");
      !held.ok()) {
    return held;
  }
  lead.set_return_reason(reason);
  lead.set_note(note);
  ReleaseOpenLead(rep_id, state);
  return Move(lead, v1::ASSIGNMENT_STATUS_RETURNED, actor, now);
}

absl::StatusOr<v1::AssignmentEvent> ApplyConvert(v1::AssignmentEvent& lead,
                                                 const std::string& rep_id, double value,
                                                 const std::string& note, const std::string& actor,
                                                 core::TimePoint now,
                                                 routing::RoutingState& state) {
  if (!std::isfinite(value) || value < 0) {
    return absl::InvalidArgumentError(absl::StrCat("value: must be >= 0, got ", value));
  }
  if (note.size() > kMaxNoteBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("note: at most ", kMaxNoteBytes, " bytes, got ", note.size()));
  }
  if (absl::Status held =
          CheckHolder(lead, rep_id,
                      {v1::ASSIGNMENT_STATUS_ASSIGNED, v1::ASSIGNMENT_STATUS_ACCEPTED}, "convert");
      !held.ok()) {
    return held;
  }
  lead.clear_return_reason();
  lead.set_note(note);
  lead.set_conversion_value(value);
  ReleaseOpenLead(rep_id, state);
  ++state.reps[rep_id].recent_converted;
  return Move(lead, v1::ASSIGNMENT_STATUS_CONVERTED, actor, now);
}

absl::StatusOr<v1::AssignmentEvent> ApplyExpire(v1::AssignmentEvent& lead, core::TimePoint now,
                                                routing::RoutingState& state) {
  if (lead.status() != v1::ASSIGNMENT_STATUS_ASSIGNED || !lead.has_sla_deadline()) {
    return absl::FailedPreconditionError(
        absl::StrCat("lead ", lead.lead_id(), " is ", StatusName(lead.status()),
                     lead.has_sla_deadline() ? "" : " without an SLA", "; nothing to expire"));
  }
  if (lead.sla_deadline().seconds() > EpochSeconds(now)) {
    return absl::FailedPreconditionError(
        absl::StrCat("lead ", lead.lead_id(), " is not due until its SLA deadline"));
  }
  lead.clear_return_reason();
  lead.clear_note();
  ReleaseOpenLead(lead.rep_id(), state);
  return Move(lead, v1::ASSIGNMENT_STATUS_EXPIRED, std::string(kRouterActor), now);
}

RerouteResult Reroute(const config::Config& config, core::TimePoint now, v1::AssignmentEvent& lead,
                      routing::RoutingState& state) {
  RerouteResult result;
  const int attempts = std::max(1, lead.attempt());
  if (attempts >= config.lifecycle.max_attempts) {
    const std::string previous = lead.rep_id();
    lead.set_rep_id("");
    lead.set_reason(absl::StrCat("recycled to marketing after ", attempts,
                                 attempts == 1 ? " attempt" : " attempts", " (max_attempts ",
                                 config.lifecycle.max_attempts, ")"));
    result.event = Move(lead, v1::ASSIGNMENT_STATUS_RECYCLED, std::string(kRouterActor), now);
    v1::NurtureEvent nurture;
    nurture.set_event_id(lead.event_id());
    nurture.set_lead_id(lead.lead_id());
    *nurture.mutable_qualification() = lead.qualification();
    nurture.set_config_version(config.version);
    *nurture.mutable_decided_at() = ToTimestamp(now);
    *nurture.mutable_lead() = lead.lead();
    *nurture.mutable_history() = lead.history();
    nurture.set_recycle_reason(lead.reason());
    result.recycled = std::move(nurture);
    return result;
  }
  routing::LeadFacts facts = LeadFactsFor(lead.lead(), lead.qualification().segments());
  facts.excluded_reps = PreviousHolders(lead);
  const routing::RoutingState before = state;
  const routing::RoutingDecision route = config.engine->Route(facts, now, state);
  lead.set_attempt(attempts + 1);
  lead.set_assignment_id("as_" +
                         core::Sha256Hex(absl::StrCat("reassignment\n", config.redis.tenant, "\n",
                                                      lead.lead_id(), "\n", lead.attempt()),
                                         24));
  ApplyRoute(config, now, route, before, state, std::nullopt, lead);
  result.event = lead;
  return result;
}

LeadLifecycle::LeadLifecycle(store::AssignmentStore& store,
                             std::shared_ptr<const config::Config> config, const core::Clock& clock)
    : store_(store), config_(std::move(config)), clock_(clock) {}

absl::Status LeadLifecycle::UnknownLead(const std::string& lead_id) {
  return absl::NotFoundError(
      absl::StrCat("lead ", api::QuoteForError(lead_id), " is unknown (or expired)"));
}

absl::StatusOr<std::string> LeadLifecycle::RecordOf(const std::string& lead_id) {
  auto event_id = store_.EventIdOfLead(lead_id);
  if (!event_id.ok()) return event_id.status();
  if (!event_id->has_value()) return UnknownLead(lead_id);
  return **event_id;
}

absl::StatusOr<LeadUpdate> LeadLifecycle::Transition(const std::string& lead_id,
                                                     const Change& change) {
  if (lead_id.empty()) return absl::InvalidArgumentError("lead_id: required");
  core::Backoff backoff(kBackoffStart, kBackoffMax, reinterpret_cast<uintptr_t>(this));
  for (int attempt = 0; attempt < kMaxCommitAttempts; ++attempt) {
    if (attempt > 0) std::this_thread::sleep_for(backoff.Next());
    auto event_id = RecordOf(lead_id);
    if (!event_id.ok()) return event_id.status();
    auto snapshot = store_.Load({*event_id});
    if (!snapshot.ok()) return snapshot.status();
    if (!snapshot->records[0].has_value()) return UnknownLead(lead_id);
    auto parsed = ParseStoredOutcome("lead " + lead_id, *snapshot->records[0]);
    if (!parsed.ok()) return parsed.status();
    v1::EventOutcome& outcome = **parsed;
    if (!outcome.has_assignment()) {
      return absl::FailedPreconditionError(
          absl::StrCat("lead ", lead_id, " was not qualified (sent to nurture); it has no rep"));
    }
    routing::RoutingState state = StateFromFields(snapshot->state);
    store::AssignmentStore::CommitRequest commit;
    commit.expected_version = snapshot->version;
    commit.ttl = config_->redis.idempotency_ttl;
    commit.log_max_events = config_->lifecycle.stream_retention_events;
    KeepFirstMessage(outcome);
    absl::StatusOr<LeadUpdate> update = change(*outcome.mutable_assignment(), state, commit);
    if (!update.ok()) return update.status();
    if (update->unchanged || (update->events.empty() && commit.sla_remove.empty())) return update;
    commit.replaced_records.emplace_back(*event_id, outcome.SerializeAsString());
    commit.state_updates = ChangedFields(snapshot->state, state);
    for (const auto& event : update->events)
      commit.log_events.push_back(event->SerializeAsString());
    auto committed = store_.Commit(commit);
    if (!committed.ok()) return committed.status();
    if (*committed == store::AssignmentStore::CommitResult::kCommitted) return update;
  }
  return absl::AbortedError(absl::StrCat("lead ", api::QuoteForError(lead_id),
                                         " still contended after ", kMaxCommitAttempts,
                                         " attempts; retry"));
}

namespace {

// After a return or expiry: the re-route's event and its bookkeeping.
void RerouteInto(const config::Config& config, core::TimePoint now, v1::AssignmentEvent& lead,
                 routing::RoutingState& state, store::AssignmentStore::CommitRequest& commit,
                 LeadUpdate& update) {
  RerouteResult rerouted = Reroute(config, now, lead, state);
  if (lead.status() == v1::ASSIGNMENT_STATUS_UNASSIGNED) {
    commit.queue_add.emplace_back(lead.event_id(), EpochSeconds(now));
  }
  if (lead.has_sla_deadline()) {
    commit.sla_add.emplace_back(lead.lead_id(), lead.sla_deadline().seconds());
  }
  update.events.push_back(std::make_shared<const v1::AssignmentEvent>(std::move(rerouted.event)));
  if (rerouted.recycled) {
    update.recycled.push_back(
        std::make_shared<const v1::NurtureEvent>(std::move(*rerouted.recycled)));
  }
}

}  // namespace

absl::StatusOr<LeadUpdate> LeadLifecycle::Accept(const std::string& lead_id,
                                                 const std::string& rep_id,
                                                 const std::string& actor) {
  return Transition(
      lead_id,
      [&](v1::AssignmentEvent& lead, routing::RoutingState&,
          store::AssignmentStore::CommitRequest& commit) -> absl::StatusOr<LeadUpdate> {
        auto accepted = ApplyAccept(lead, rep_id, actor, clock_.Now());
        if (!accepted.ok()) return accepted.status();
        LeadUpdate update;
        update.events.push_back(std::make_shared<const v1::AssignmentEvent>(accepted->event));
        update.unchanged = !accepted->changed;
        commit.sla_remove.push_back(lead.lead_id());
        return update;
      });
}

absl::StatusOr<LeadUpdate> LeadLifecycle::Return(const std::string& lead_id,
                                                 const std::string& rep_id, v1::ReturnReason reason,
                                                 const std::string& note,
                                                 const std::string& actor) {
  return Transition(
      lead_id,
      [&](v1::AssignmentEvent& lead, routing::RoutingState& state,
          store::AssignmentStore::CommitRequest& commit) -> absl::StatusOr<LeadUpdate> {
        const core::TimePoint now = clock_.Now();
        auto returned = ApplyReturn(lead, rep_id, reason, note, actor, now, state);
        if (!returned.ok()) return returned.status();
        LeadUpdate update;
        update.events.push_back(std::make_shared<const v1::AssignmentEvent>(*std::move(returned)));
        commit.sla_remove.push_back(lead.lead_id());
        RerouteInto(*config_, now, lead, state, commit, update);
        return update;
      });
}

absl::StatusOr<LeadUpdate> LeadLifecycle::Convert(const std::string& lead_id,
                                                  const std::string& rep_id, double value,
                                                  const std::string& note,
                                                  const std::string& actor) {
  return Transition(
      lead_id,
      [&](v1::AssignmentEvent& lead, routing::RoutingState& state,
          store::AssignmentStore::CommitRequest& commit) -> absl::StatusOr<LeadUpdate> {
        auto converted = ApplyConvert(lead, rep_id, value, note, actor, clock_.Now(), state);
        if (!converted.ok()) return converted.status();
        LeadUpdate update;
        update.events.push_back(std::make_shared<const v1::AssignmentEvent>(*std::move(converted)));
        commit.sla_remove.push_back(lead.lead_id());
        return update;
      });
}

absl::StatusOr<LeadUpdate> LeadLifecycle::ExpireDue(size_t limit) {
  const core::TimePoint now = clock_.Now();
  auto due = store_.DueSlaLeads(EpochSeconds(now), limit);
  if (!due.ok()) return due.status();
  LeadUpdate all;
  for (const std::string& lead_id : *due) {
    auto expired = Transition(
        lead_id,
        [&](v1::AssignmentEvent& lead, routing::RoutingState& state,
            store::AssignmentStore::CommitRequest& commit) -> absl::StatusOr<LeadUpdate> {
          LeadUpdate update;
          auto event = ApplyExpire(lead, now, state);
          if (!event.ok()) {
            // Re-routed meanwhile (by another instance): its new deadline stays. Accepted, returned
            // or converted: the stale deadline goes.
            const bool waits_for_acceptance =
                lead.status() == v1::ASSIGNMENT_STATUS_ASSIGNED && lead.has_sla_deadline();
            if (!waits_for_acceptance) commit.sla_remove.push_back(lead_id);
            return update;
          }
          commit.sla_remove.push_back(lead_id);
          update.events.push_back(std::make_shared<const v1::AssignmentEvent>(*std::move(event)));
          RerouteInto(*config_, now, lead, state, commit, update);
          return update;
        });
    if (absl::IsNotFound(expired.status()) || absl::IsFailedPrecondition(expired.status())) {
      // The lead's record is gone (its TTL passed): drop the deadline so it is not retried.
      auto snapshot = store_.Load({});
      if (!snapshot.ok()) return snapshot.status();
      store::AssignmentStore::CommitRequest drop;
      drop.expected_version = snapshot->version;
      drop.sla_remove.push_back(lead_id);
      if (auto dropped = store_.Commit(drop); !dropped.ok()) return dropped.status();
      continue;  // a moved version only means another instance got there; the next pass retries
    }
    if (!expired.ok()) return expired.status();
    for (auto& event : expired->events) all.events.push_back(std::move(event));
    for (auto& nurture : expired->recycled) all.recycled.push_back(std::move(nurture));
  }
  return all;
}

absl::StatusOr<v1::AssignmentEvent> LeadLifecycle::Explain(const std::string& lead_id) {
  if (lead_id.empty()) return absl::InvalidArgumentError("lead_id: required");
  auto event_id = RecordOf(lead_id);
  if (!event_id.ok()) return event_id.status();
  auto records = store_.LoadRecords({*event_id});
  if (!records.ok()) return records.status();
  if (!(*records)[0].has_value()) return UnknownLead(lead_id);
  auto parsed = ParseStoredOutcome("lead " + lead_id, *(*records)[0]);
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
