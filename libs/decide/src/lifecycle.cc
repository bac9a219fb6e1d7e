#include "leadrouter/decide/lifecycle.h"

#include <algorithm>
#include <cmath>
#include <functional>

#include "absl/strings/str_cat.h"
#include "leadrouter/decide/outcome.h"

namespace leadrouter::decide {
namespace {

constexpr size_t kMaxNoteBytes = 2000;

std::string StatusName(v1::AssignmentStatus status) {
  return ShortEnumName(v1::AssignmentStatus_Name(status), "ASSIGNMENT_STATUS_");
}

// The rep must be named and must hold the lead, which must be in one of `allowed`.
absl::Status CheckHolder(const v1::AssignmentEvent& lead, const core::RepId& rep_id,
                         std::initializer_list<v1::AssignmentStatus> allowed, const char* verb) {
  if (rep_id.empty()) return absl::InvalidArgumentError("rep_id: required");
  bool ok = false;
  for (v1::AssignmentStatus status : allowed) ok |= lead.status() == status;
  if (!ok) {
    return absl::FailedPreconditionError(absl::StrCat(
        "lead ", lead.lead_id(), " is ", StatusName(lead.status()), "; cannot ", verb, " it"));
  }
  if (lead.rep_id() != rep_id.value()) {
    return absl::FailedPreconditionError(
        absl::StrCat("lead ", lead.lead_id(), " is held by ",
                     lead.rep_id().empty() ? "nobody" : lead.rep_id(), ", not ", rep_id.value()));
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

// After a return or expiry: the re-route's event and its bookkeeping.
void RerouteInto(const config::Config& config, core::TimePoint now, v1::AssignmentEvent& lead,
                 routing::RoutingState& state, Writes& writes, LeadUpdate& update) {
  RerouteResult rerouted = Reroute(config, now, lead, state);
  if (lead.status() == v1::ASSIGNMENT_STATUS_UNASSIGNED) {
    writes.queue_add.emplace_back(lead.event_id(), EpochSeconds(now));
  }
  if (lead.has_sla_deadline()) {
    writes.sla_add.emplace_back(lead.lead_id(), lead.sla_deadline().seconds());
  }
  update.events.push_back(std::make_shared<const v1::AssignmentEvent>(std::move(rerouted.event)));
  if (rerouted.recycled) {
    update.recycled.push_back(
        std::make_shared<const v1::NurtureEvent>(std::move(*rerouted.recycled)));
  }
}

// The transition `change` applied to the lead of `record`, with the common bookkeeping: the
// first message kept, the record replaced, the counters and the events for the log.
using Change = std::function<absl::StatusOr<LeadUpdate>(
    v1::AssignmentEvent& lead, routing::RoutingState& state, Writes& writes)>;
absl::StatusOr<LeadChange> ChangeRecord(const core::EventId& event_id,
                                        const v1::EventOutcome& record, routing::RoutingState state,
                                        const Change& change) {
  if (!record.has_assignment()) {
    return absl::FailedPreconditionError(absl::StrCat("lead ", record.nurture().lead_id(),
                                                      " was not qualified (sent to nurture); it "
                                                      "has no rep"));
  }
  auto outcome = std::make_shared<v1::EventOutcome>(record);
  KeepFirstMessage(*outcome);
  LeadChange result;
  absl::StatusOr<LeadUpdate> update = change(*outcome->mutable_assignment(), state, result.writes);
  if (!update.ok()) return update.status();
  result.update = *std::move(update);
  if (result.update.unchanged) {
    result.writes = {};
    return result;
  }
  if (result.update.events.empty() && result.writes.empty()) return result;
  result.writes.replaced_records.emplace_back(event_id.value(), std::move(outcome));
  result.writes.state = std::move(state);  // the store writes the counters that moved
  for (const auto& event : result.update.events) result.writes.log.push_back(event);
  return result;
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

absl::StatusOr<AcceptResult> ApplyAccept(v1::AssignmentEvent& lead, const core::RepId& rep_id,
                                         const std::string& actor, core::TimePoint now) {
  if (lead.status() == v1::ASSIGNMENT_STATUS_ACCEPTED && !rep_id.empty() &&
      lead.rep_id() == rep_id.value()) {
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
                                                const core::RepId& rep_id, v1::ReturnReason reason,
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
  ReleaseOpenLead(rep_id.value(), state);
  return Move(lead, v1::ASSIGNMENT_STATUS_RETURNED, actor, now);
}

absl::StatusOr<v1::AssignmentEvent> ApplyConvert(v1::AssignmentEvent& lead,
                                                 const core::RepId& rep_id, double value,
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
  ReleaseOpenLead(rep_id.value(), state);
  ++state.reps[rep_id.value()].recent_converted;
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
  lead.set_assignment_id(ReassignmentIdFor(config.redis.tenant, lead.lead_id(), lead.attempt()));
  ApplyRoute(config, now, route, before, state, std::nullopt, lead);
  result.event = lead;
  return result;
}

absl::StatusOr<LeadChange> DecideAccept(const config::Config& config, const core::EventId& event_id,
                                        const v1::EventOutcome& record, const core::RepId& rep_id,
                                        const std::string& actor, routing::RoutingState state,
                                        core::TimePoint now) {
  return ChangeRecord(
      event_id, record, std::move(state),
      [&](v1::AssignmentEvent& lead, routing::RoutingState&,
          Writes& writes) -> absl::StatusOr<LeadUpdate> {
        auto accepted = ApplyAccept(lead, rep_id, actor, now);
        if (!accepted.ok()) return accepted.status();
        LeadUpdate update;
        update.events.push_back(std::make_shared<const v1::AssignmentEvent>(accepted->event));
        update.unchanged = !accepted->changed;
        writes.sla_remove.push_back(lead.lead_id());
        return update;
      });
}

absl::StatusOr<LeadChange> DecideReturn(const config::Config& config, const core::EventId& event_id,
                                        const v1::EventOutcome& record, const core::RepId& rep_id,
                                        v1::ReturnReason reason, const std::string& note,
                                        const std::string& actor, routing::RoutingState state,
                                        core::TimePoint now) {
  return ChangeRecord(
      event_id, record, std::move(state),
      [&](v1::AssignmentEvent& lead, routing::RoutingState& counters,
          Writes& writes) -> absl::StatusOr<LeadUpdate> {
        auto returned = ApplyReturn(lead, rep_id, reason, note, actor, now, counters);
        if (!returned.ok()) return returned.status();
        LeadUpdate update;
        update.events.push_back(std::make_shared<const v1::AssignmentEvent>(*std::move(returned)));
        writes.sla_remove.push_back(lead.lead_id());
        RerouteInto(config, now, lead, counters, writes, update);
        return update;
      });
}

absl::StatusOr<LeadChange> DecideConvert(const config::Config& config,
                                         const core::EventId& event_id,
                                         const v1::EventOutcome& record, const core::RepId& rep_id,
                                         double value, const std::string& note,
                                         const std::string& actor, routing::RoutingState state,
                                         core::TimePoint now) {
  return ChangeRecord(
      event_id, record, std::move(state),
      [&](v1::AssignmentEvent& lead, routing::RoutingState& counters,
          Writes& writes) -> absl::StatusOr<LeadUpdate> {
        auto converted = ApplyConvert(lead, rep_id, value, note, actor, now, counters);
        if (!converted.ok()) return converted.status();
        LeadUpdate update;
        update.events.push_back(std::make_shared<const v1::AssignmentEvent>(*std::move(converted)));
        writes.sla_remove.push_back(lead.lead_id());
        return update;
      });
}

absl::StatusOr<LeadChange> DecideExpire(const config::Config& config, const core::LeadId& lead_id,
                                        const core::EventId& event_id,
                                        const v1::EventOutcome& record, routing::RoutingState state,
                                        core::TimePoint now) {
  if (!record.has_assignment()) {
    LeadChange stale;  // a nurture record has no deadline to keep
    stale.writes.sla_remove.push_back(lead_id.value());
    return stale;
  }
  return ChangeRecord(
      event_id, record, std::move(state),
      [&](v1::AssignmentEvent& lead, routing::RoutingState& counters,
          Writes& writes) -> absl::StatusOr<LeadUpdate> {
        LeadUpdate update;
        auto event = ApplyExpire(lead, now, counters);
        if (!event.ok()) {
          // Re-routed meanwhile (by another instance): its new deadline stays. Accepted, returned
          // or converted: the stale deadline goes.
          const bool waits_for_acceptance =
              lead.status() == v1::ASSIGNMENT_STATUS_ASSIGNED && lead.has_sla_deadline();
          if (!waits_for_acceptance) writes.sla_remove.push_back(lead_id.value());
          return update;
        }
        writes.sla_remove.push_back(lead_id.value());
        update.events.push_back(std::make_shared<const v1::AssignmentEvent>(*std::move(event)));
        RerouteInto(config, now, lead, counters, writes, update);
        return update;
      });
}

}  // namespace leadrouter::decide
