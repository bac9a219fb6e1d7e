#include "leadrouter/decide/batch.h"

#include <algorithm>
#include <chrono>
#include <unordered_set>

#include "absl/strings/str_cat.h"
#include "leadrouter/decide/lifecycle.h"
#include "leadrouter/decide/outcome.h"
#include "leadrouter/qualify/qualifier.h"

namespace leadrouter::decide {
namespace {

std::vector<std::string> OwnerIds(const dedupe::AccountOwner& owner) {
  std::vector<std::string> ids;
  for (const dedupe::Share& share : owner.owners) ids.push_back(share.rep_id);
  return ids;
}

// The DUPLICATE outcome of `lead` joining the live lead `existing` (an assignment).
v1::EventOutcome DecideDuplicate(const config::Config& config, core::TimePoint now,
                                 const v1::LeadEvent& lead, const v1::AssignmentEvent& existing,
                                 const dedupe::PersonCandidate& match) {
  v1::EventOutcome outcome;
  v1::AssignmentEvent* a = outcome.mutable_assignment();
  a->set_assignment_id(AssignmentIdFor(config.redis.tenant, lead.event_id()));
  a->set_lead_id(existing.lead_id());
  a->set_event_id(lead.event_id());
  a->set_rep_id(existing.rep_id());
  a->set_pool(existing.pool());
  a->set_territory(existing.territory());
  a->set_status(v1::ASSIGNMENT_STATUS_DUPLICATE);
  a->set_reason(absl::StrCat(
      "same person (", dedupe::FieldName(match.via), ") as live lead ", existing.lead_id(),
      existing.rep_id().empty() ? ", still unassigned" : ", held by " + existing.rep_id()));
  a->set_config_version(config.version);
  *a->mutable_lead_occurred_at() = lead.occurred_at();
  *a->mutable_assigned_at() = existing.assigned_at();
  *a->mutable_event_time() = ToTimestamp(now);
  a->set_actor(std::string(kRouterActor));
  a->set_attempt(existing.attempt());
  a->set_crm_user_id(existing.crm_user_id());
  a->set_source_record_id(lead.source_record_id());
  *a->mutable_lead() = lead;  // the renewed activity, for the owner to see
  v1::TraceStep* step = a->add_trace();
  step->set_stage(TraceStageName(TraceStage::kDedupe));
  step->set_decision("duplicate");
  step->set_reason(absl::StrCat(dedupe::FieldName(match.via),
                                match.fallback ? " (a fallback key from the digits of a number "
                                                 "libphonenumber does not validate)"
                                               : "",
                                " matches event ", match.event_id, " (lead ", existing.lead_id(),
                                ", ", v1::AssignmentStatus_Name(existing.status()), ")"));
  StampMessageIdentity(*a);
  return outcome;
}

// The outcome for a lead without a stored one; routing effects go into `state`. Adds the time
// spent qualifying to `qualify_seconds`; the routing decision of a qualified lead into `route`.
// `qualified`: the lead's qualification when the plan has it (else evaluated here).
v1::EventOutcome DecideNew(const config::Config& config, core::TimePoint now,
                           const v1::LeadEvent& lead,
                           const std::optional<qualify::Decision>& qualified,
                           const std::optional<dedupe::AccountOwner>& owner,
                           routing::RoutingState& state, double& qualify_seconds,
                           std::optional<routing::RoutingDecision>& route) {
  std::optional<qualify::Decision> evaluated;
  if (!qualified) {
    const auto qualify_started = std::chrono::steady_clock::now();
    evaluated = config.qualifier->Evaluate(lead);
    qualify_seconds +=
        std::chrono::duration<double>(std::chrono::steady_clock::now() - qualify_started).count();
  }
  const qualify::Decision& decision = qualified ? *qualified : *evaluated;
  const std::string lead_id = LeadIdFor(config.redis.tenant, lead.event_id());
  v1::EventOutcome outcome;

  if (decision.outcome != qualify::Outcome::kQualified) {
    v1::NurtureEvent* nurture = outcome.mutable_nurture();
    nurture->set_event_id(lead.event_id());
    nurture->set_lead_id(lead_id);
    *nurture->mutable_qualification() = ToProto(decision);
    nurture->set_config_version(config.version);
    *nurture->mutable_decided_at() = ToTimestamp(now);
    *nurture->mutable_lead() = lead;
    return outcome;
  }

  v1::AssignmentEvent* a = outcome.mutable_assignment();
  a->set_assignment_id(AssignmentIdFor(config.redis.tenant, lead.event_id()));
  a->set_lead_id(lead_id);
  a->set_event_id(lead.event_id());
  a->set_source_record_id(lead.source_record_id());
  *a->mutable_lead_occurred_at() = lead.occurred_at();
  *a->mutable_qualification() = ToProto(decision);
  *a->mutable_lead() = lead;
  const routing::RoutingState before = state;  // for the counters' before/after in the trace
  v1::TraceStep* qualify_step = a->add_trace();
  qualify_step->set_stage(TraceStageName(TraceStage::kQualify));
  qualify_step->set_decision("qualified");
  qualify_step->set_reason(decision.reasons.empty() ? "" : decision.reasons.front());
  routing::LeadFacts facts = LeadFactsFor(lead, a->qualification().segments());
  if (owner) facts.account_owner_rep_ids = OwnerIds(*owner);
  route = config.engine->Route(facts, now, state);
  ApplyRoute(config, now, *route, before, state, owner, *a);
  return outcome;
}

// The person and account keys a decided lead claims (into `writes` and `known`).
void ClaimKeys(const config::DedupeConfig& settings, const dedupe::Identity& identity,
               const std::string& record_event_id, const v1::AssignmentEvent& decided,
               dedupe::KnownKeys& known, Writes& writes) {
  const bool duplicate = decided.status() == v1::ASSIGNMENT_STATUS_DUPLICATE;
  for (const dedupe::MatchKey& key : identity.person) {
    // A new lead takes over its person keys (whatever they pointed at is no longer live); a
    // duplicate only adds identifiers its lead did not have yet (a new phone number).
    if (duplicate && known.Person(key.hmac) != nullptr) continue;
    known.SetPerson(key.hmac, record_event_id);
    writes.keys.push_back(
        {Writes::Key::Kind::kPerson, key.hmac, record_event_id, settings.person_window});
  }
  if (duplicate || decided.rep_id().empty()) return;
  // The first assignment into an account makes its rep the owner; every later one into the
  // same owner's account restarts the idle period. Another owner's account is left alone (the
  // lead went elsewhere because the owner was not eligible, or a rep sourced it).
  for (const dedupe::MatchKey& key : identity.account_aliases) {
    const std::string* value = known.Account(key.hmac);
    const std::vector<dedupe::Share> owners =
        value != nullptr ? dedupe::ParseOwners(*value) : std::vector<dedupe::Share>{};
    if (!owners.empty() && !dedupe::IsOwner(owners, decided.rep_id())) continue;
    // The same owners (a shared account stays shared); the store never shortens a longer
    // remaining period, so a claimed account keeps its claim's.
    std::string renewed = owners.empty() ? decided.rep_id() : dedupe::FormatOwners(owners);
    known.SetAccount(key.hmac, renewed);
    writes.keys.push_back(
        {Writes::Key::Kind::kAccount, key.hmac, std::move(renewed), settings.account_owner_idle});
  }
}

}  // namespace

std::unique_ptr<const dedupe::KeyMaker> KeyMakerFor(const config::Config& config) {
  if (!config.dedupe.enabled) return nullptr;
  return std::make_unique<const dedupe::KeyMaker>(
      config.dedupe.hmac_key, config.dedupe.default_phone_region, config.dedupe.match_company_name,
      config.dedupe.keep_plus_tags_domains);
}

BatchPlan PlanBatch(const std::vector<const v1::LeadEvent*>& leads,
                    const dedupe::KeyMaker* key_maker) {
  BatchPlan plan;
  std::unordered_map<std::string, size_t> index_of;
  plan.distinct_of.reserve(leads.size());
  for (const v1::LeadEvent* lead : leads) {
    auto [it, inserted] = index_of.emplace(lead->event_id(), plan.event_ids.size());
    if (inserted) {
      plan.event_ids.push_back(lead->event_id());
      plan.events.push_back(lead);
    }
    plan.distinct_of.push_back(it->second);
  }
  plan.identities.resize(plan.event_ids.size());
  if (key_maker == nullptr) return plan;
  std::unordered_set<std::string> requested;  // "<kind><hmac>"
  auto request = [&](Writes::Key::Kind kind, const std::string& hmac) {
    if (!requested.insert(absl::StrCat(static_cast<int>(kind), hmac)).second) return;
    plan.keys.push_back({kind, hmac});
  };
  for (size_t u = 0; u < plan.events.size(); ++u) {
    const v1::LeadEvent& lead = *plan.events[u];
    plan.identities[u] = key_maker->IdentityOf(lead, qualify::CompanyDomain(lead));
    for (const auto& key : plan.identities[u].person) request(Writes::Key::Kind::kPerson, key.hmac);
    for (const auto& key : plan.identities[u].account_aliases) {
      request(Writes::Key::Kind::kAccount, key.hmac);
    }
  }
  return plan;
}

double QualifyPlan(const config::Config& config, BatchPlan& plan) {
  const auto started = std::chrono::steady_clock::now();
  plan.qualifications.clear();
  plan.qualifications.reserve(plan.events.size());
  for (const v1::LeadEvent* lead : plan.events) {
    plan.qualifications.emplace_back(config.qualifier->Evaluate(*lead));
  }
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
}

std::vector<std::string> EarlierEventIds(
    const BatchPlan& plan, const std::vector<std::optional<std::string>>& key_values) {
  const std::unordered_set<std::string> in_batch(plan.event_ids.begin(), plan.event_ids.end());
  std::vector<std::string> ids;
  for (size_t k = 0; k < plan.keys.size() && k < key_values.size(); ++k) {
    if (plan.keys[k].kind != Writes::Key::Kind::kPerson || !key_values[k]) continue;
    if (!in_batch.contains(*key_values[k])) ids.push_back(*key_values[k]);
  }
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return ids;
}

BatchDecision DecideBatch(const config::Config& config, const dedupe::KeyMaker* key_maker,
                          const BatchPlan& plan, const BatchSnapshot& snapshot,
                          core::TimePoint now) {
  BatchDecision decision;
  const size_t distinct = plan.event_ids.size();
  std::vector<std::shared_ptr<const v1::EventOutcome>> decided = snapshot.records;
  decided.resize(distinct);
  std::vector<bool> was_stored(distinct, false);
  for (size_t u = 0; u < distinct; ++u) was_stored[u] = decided[u] != nullptr;
  std::vector<LeadResult::Match> matched(distinct, LeadResult::Match::kNone);
  std::vector<std::optional<routing::RoutingDecision>> routes(distinct);

  dedupe::KnownKeys known;
  for (size_t k = 0; k < plan.keys.size() && k < snapshot.key_values.size(); ++k) {
    if (!snapshot.key_values[k]) continue;
    if (plan.keys[k].kind == Writes::Key::Kind::kPerson) {
      known.SetPerson(plan.keys[k].hmac, *snapshot.key_values[k]);
    } else {
      known.SetAccount(plan.keys[k].hmac, *snapshot.key_values[k]);
    }
  }
  std::unordered_map<std::string, size_t> index_of;
  for (size_t u = 0; u < distinct; ++u) index_of.emplace(plan.event_ids[u], u);
  auto record_of = [&](const std::string& event_id) -> const v1::EventOutcome* {
    if (auto it = index_of.find(event_id); it != index_of.end()) return decided[it->second].get();
    auto it = snapshot.earlier.find(event_id);
    return it == snapshot.earlier.end() ? nullptr : it->second.get();
  };

  routing::RoutingState state = snapshot.state;
  bool routed_any = false;
  Writes& writes = decision.writes;
  const int64_t now_s = EpochSeconds(now);
  for (size_t u = 0; u < distinct; ++u) {
    if (was_stored[u]) continue;
    const v1::LeadEvent& lead = *plan.events[u];
    const dedupe::Identity& identity = plan.identities[u];
    std::shared_ptr<v1::EventOutcome> outcome;
    std::string record_event_id = plan.event_ids[u];
    for (const dedupe::PersonCandidate& candidate : dedupe::PersonCandidates(identity, known)) {
      const v1::EventOutcome* existing = record_of(candidate.event_id);
      if (existing == nullptr || !IsLive(*existing)) continue;
      outcome = std::make_shared<v1::EventOutcome>(
          DecideDuplicate(config, now, lead, existing->assignment(), candidate));
      record_event_id = candidate.event_id;
      matched[u] = LeadResult::Match::kPerson;
      break;
    }
    if (!outcome) {
      const std::optional<dedupe::AccountOwner> owner =
          key_maker != nullptr ? dedupe::FindAccountOwner(identity, known) : std::nullopt;
      outcome = std::make_shared<v1::EventOutcome>(DecideNew(
          config, now, lead, u < plan.qualifications.size() ? plan.qualifications[u] : std::nullopt,
          owner, state, decision.qualify_seconds, routes[u]));
      if (routes[u]) {
        routed_any = true;
        decision.reads.pools.insert(routes[u]->pools_tried.begin(), routes[u]->pools_tried.end());
        for (const routing::CandidateTrace& candidate : routes[u]->candidates) {
          decision.reads.reps.insert(candidate.rep_id);
        }
      }
      if (owner && outcome->has_assignment() &&
          dedupe::IsOwner(owner->owners, outcome->assignment().rep_id())) {
        matched[u] = LeadResult::Match::kAccount;
      }
    }
    if (outcome->has_assignment()) {
      const v1::AssignmentEvent& a = outcome->assignment();
      if (a.status() == v1::ASSIGNMENT_STATUS_UNASSIGNED) {
        writes.queue_add.emplace_back(plan.event_ids[u], now_s);
      }
      if (a.has_sla_deadline())
        writes.sla_add.emplace_back(a.lead_id(), a.sla_deadline().seconds());
      // The log holds the message as published: the assignment itself (shared, not copied).
      writes.log.push_back(std::shared_ptr<const v1::AssignmentEvent>(outcome, &a));
      if (key_maker != nullptr) {
        ClaimKeys(config.dedupe, identity, record_event_id, a, known, writes);
      }
      // A duplicate's lead id is its lead's, whose index already points at the original.
      if (a.status() != v1::ASSIGNMENT_STATUS_DUPLICATE) {
        writes.lead_index.emplace_back(a.lead_id(), plan.event_ids[u]);
      }
    } else {
      writes.lead_index.emplace_back(outcome->nurture().lead_id(), plan.event_ids[u]);
    }
    writes.new_records.emplace_back(plan.event_ids[u], outcome);
    decided[u] = std::move(outcome);
  }
  if (routed_any) writes.state = std::move(state);

  decision.results.reserve(plan.distinct_of.size());
  std::vector<bool> seen(distinct, false);
  for (size_t u : plan.distinct_of) {
    const bool replayed = was_stored[u] || seen[u];
    LeadResult result{decided[u], replayed, replayed ? LeadResult::Match::kNone : matched[u],
                      std::nullopt};
    if (!replayed) result.route = std::move(routes[u]);
    decision.results.push_back(std::move(result));
    seen[u] = true;
  }
  return decision;
}

namespace {

bool IsQueued(const std::shared_ptr<const v1::EventOutcome>& record) {
  return record && record->has_assignment() &&
         record->assignment().status() == v1::ASSIGNMENT_STATUS_UNASSIGNED;
}

}  // namespace

RetryPlan PlanRetry(const std::vector<std::shared_ptr<const v1::EventOutcome>>& records,
                    const dedupe::KeyMaker* key_maker) {
  RetryPlan plan;
  plan.identities.resize(records.size());
  if (key_maker == nullptr) return plan;
  for (size_t i = 0; i < records.size(); ++i) {
    if (!IsQueued(records[i])) continue;
    const v1::LeadEvent& lead = records[i]->assignment().lead();
    plan.identities[i] = key_maker->IdentityOf(lead, qualify::CompanyDomain(lead));
    for (const auto& key : plan.identities[i].account_aliases) {
      plan.keys.push_back({Writes::Key::Kind::kAccount, key.hmac});
    }
  }
  return plan;
}

RetryDecision DecideRetry(const config::Config& config, const dedupe::KeyMaker* key_maker,
                          const std::vector<std::string>& event_ids,
                          const std::vector<std::shared_ptr<const v1::EventOutcome>>& records,
                          const RetryPlan& plan,
                          const std::vector<std::optional<std::string>>& key_values,
                          routing::RoutingState state, core::TimePoint now) {
  RetryDecision decision;
  Writes& writes = decision.writes;
  dedupe::KnownKeys known;
  for (size_t k = 0; k < plan.keys.size() && k < key_values.size(); ++k) {
    if (key_values[k]) known.SetAccount(plan.keys[k].hmac, *key_values[k]);
  }
  bool routed_any = false;
  for (size_t i = 0; i < event_ids.size(); ++i) {
    const std::shared_ptr<const v1::EventOutcome> stored =
        i < records.size() ? records[i] : nullptr;
    if (!stored || !stored->has_assignment() ||
        stored->assignment().status() != v1::ASSIGNMENT_STATUS_UNASSIGNED) {
      writes.queue_remove.push_back(event_ids[i]);  // expired or already resolved
      continue;
    }
    auto outcome = std::make_shared<v1::EventOutcome>(*stored);
    v1::AssignmentEvent* a = outcome->mutable_assignment();
    dedupe::Identity identity =
        i < plan.identities.size() ? plan.identities[i] : dedupe::Identity{};
    const routing::RoutingState before = state;
    const std::optional<dedupe::AccountOwner> owner =
        key_maker != nullptr ? dedupe::FindAccountOwner(identity, known) : std::nullopt;
    routing::LeadFacts facts = LeadFactsFor(a->lead(), a->qualification().segments());
    if (owner) facts.account_owner_rep_ids = OwnerIds(*owner);
    // A lead queued after a return or expiry never goes back to a rep who held it.
    facts.excluded_reps = PreviousHolders(*a);
    const routing::RoutingDecision route = config.engine->Route(facts, now, state);
    if (!route.rep_id) {
      state = before;  // still nobody: stays queued, state untouched for it
      continue;
    }
    routed_any = true;
    KeepFirstMessage(*outcome);
    ApplyRoute(config, now, route, before, state, owner, *a);
    if (key_maker != nullptr) {
      // Its person keys already point at it; only the account gains an owner.
      identity.person.clear();
      ClaimKeys(config.dedupe, identity, event_ids[i], *a, known, writes);
    }
    writes.replaced_records.emplace_back(event_ids[i], outcome);
    writes.queue_remove.push_back(event_ids[i]);
    if (a->has_sla_deadline())
      writes.sla_add.emplace_back(a->lead_id(), a->sla_deadline().seconds());
    writes.log.push_back(std::shared_ptr<const v1::AssignmentEvent>(outcome, a));
    decision.assigned.push_back(std::move(outcome));
  }
  if (routed_any) writes.state = std::move(state);
  return decision;
}

}  // namespace leadrouter::decide
