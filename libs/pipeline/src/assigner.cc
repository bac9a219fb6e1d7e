#include "leadrouter/pipeline/assigner.h"

#include <google/protobuf/util/time_util.h>

#include <algorithm>
#include <charconv>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "leadrouter/core/backoff.h"
#include "leadrouter/core/hash.h"
#include "leadrouter/pipeline/lifecycle.h"
#include "leadrouter/qualify/qualifier.h"

namespace leadrouter::pipeline {
namespace {

// Optimistic concurrency: another instance committing between our load and commit makes us
// decide again. Jittered backoff between attempts keeps racing instances from retrying in
// lockstep; the budget only ends a pathological race (the pipeline then retries the batch).
constexpr int kMaxCommitAttempts = 64;
constexpr auto kContentionBackoffStart = std::chrono::milliseconds(1);
constexpr auto kContentionBackoffMax = std::chrono::milliseconds(50);

int64_t ToInt(const std::string& text) {
  int64_t value = 0;
  std::from_chars(text.data(), text.data() + text.size(), value);
  return value;
}

constexpr int kMaxRetryCommitAttempts = 8;

v1::QualificationOutcome ToProto(qualify::Outcome outcome) {
  switch (outcome) {
    case qualify::Outcome::kQualified:
      return v1::QUALIFICATION_OUTCOME_QUALIFIED;
    case qualify::Outcome::kNurture:
      return v1::QUALIFICATION_OUTCOME_NURTURE;
    case qualify::Outcome::kDisqualified:
      return v1::QUALIFICATION_OUTCOME_DISQUALIFIED;
  }
  return v1::QUALIFICATION_OUTCOME_UNSPECIFIED;
}

const char* KindName(qualify::RuleResult::Kind kind) {
  switch (kind) {
    case qualify::RuleResult::Kind::kRequirement:
      return "requirement";
    case qualify::RuleResult::Kind::kCriterion:
      return "criterion";
    case qualify::RuleResult::Kind::kSegment:
      return "segment";
  }
  return "unknown";
}

}  // namespace

google::protobuf::Timestamp ToTimestamp(core::TimePoint t) {
  return google::protobuf::util::TimeUtil::NanosecondsToTimestamp(
      std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count());
}

std::string ShortEnumName(const std::string& full_name, std::string_view prefix, bool lower) {
  std::string name = full_name.rfind(prefix, 0) == 0 ? full_name.substr(prefix.size()) : full_name;
  if (lower) {
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return name;
}

std::string ShortSourceKind(v1::LeadSourceKind kind) {
  return ShortEnumName(v1::LeadSourceKind_Name(kind), "LEAD_SOURCE_KIND_");
}

absl::StatusOr<std::shared_ptr<v1::EventOutcome>> ParseStoredOutcome(const std::string& what,
                                                                     const std::string& bytes) {
  auto outcome = std::make_shared<v1::EventOutcome>();
  if (!outcome->ParseFromString(bytes) ||
      outcome->outcome_case() == v1::EventOutcome::OUTCOME_NOT_SET) {
    return absl::DataLossError(absl::StrCat("stored outcome of ", what, " does not parse"));
  }
  return outcome;
}

routing::LeadFacts LeadFactsFor(const v1::LeadEvent& lead,
                                const google::protobuf::RepeatedPtrField<std::string>& segments) {
  routing::LeadFacts facts;
  const v1::Company& company = lead.company();
  facts.country = company.country();
  facts.region = company.region();
  facts.postal_code = company.postal_code();
  facts.industry = company.industry();
  facts.domain = qualify::CompanyDomain(lead);
  facts.employees = company.employee_count();
  facts.revenue_usd = company.annual_revenue_usd();
  facts.segments.insert(segments.begin(), segments.end());
  facts.source_kind = ShortSourceKind(lead.source_kind());
  if (lead.source_kind() == v1::LEAD_SOURCE_KIND_REP_SOURCED) {
    facts.sourced_by_rep_id = lead.sourced_by_rep_id();
  }
  // Skills the lead needs, e.g. a language: attributes.required_skills = "de,product-x".
  if (auto it = lead.attributes().find("required_skills"); it != lead.attributes().end()) {
    for (absl::string_view skill : absl::StrSplit(it->second, ',', absl::SkipWhitespace())) {
      facts.required_skills.insert(std::string(absl::StripAsciiWhitespace(skill)));
    }
  }
  return facts;
}

v1::Qualification ToProto(const qualify::Decision& decision) {
  v1::Qualification q;
  q.set_outcome(ToProto(decision.outcome));
  q.set_score(decision.score);
  for (const auto& reason : decision.reasons) q.add_reasons(reason);
  for (const auto& segment : decision.segments) q.add_segments(segment);
  for (const auto& rule : decision.rules) {
    v1::RuleEvaluation* r = q.add_rules();
    r->set_kind(KindName(rule.kind));
    r->set_name(rule.name);
    r->set_fired(rule.fired);
    r->set_points(rule.points);
    r->set_detail(rule.detail);
  }
  return q;
}

routing::RoutingState StateFromFields(const std::map<std::string, std::string>& fields) {
  routing::RoutingState state;
  for (const auto& [field, value] : fields) {
    const std::vector<std::string> parts = absl::StrSplit(field, ':');
    if (parts.size() == 3 && parts[0] == "rep") {
      routing::RepCounters& rep = state.reps[parts[1]];
      if (parts[2] == "open") rep.open_leads = ToInt(value);
      if (parts[2] == "day") rep.day = value;
      if (parts[2] == "day_count") rep.assigned_on_day = ToInt(value);
      if (parts[2] == "recent_assigned") rep.recent_assigned = ToInt(value);
      if (parts[2] == "recent_converted") rep.recent_converted = ToInt(value);
      if (parts[2] == "paused") rep.paused = value == "1";
      if (parts[2] == "max_open_override") rep.max_open_override = ToInt(value);
      if (parts[2] == "daily_cap_override") rep.daily_cap_override = ToInt(value);
      if (parts[2] == "ooo") {
        // "from_s-to_s,from_s-to_s": windows added through AdminService.SetAvailability.
        for (absl::string_view window : absl::StrSplit(value, ',', absl::SkipEmpty())) {
          const std::vector<std::string> ends = absl::StrSplit(window, '-');
          if (ends.size() != 2) continue;
          rep.extra_out_of_office.push_back(
              {core::TimePoint(std::chrono::seconds(ToInt(ends[0]))),
               core::TimePoint(std::chrono::seconds(ToInt(ends[1])))});
        }
      }
    } else if (parts.size() == 3 && parts[0] == "pool" && parts[2] == "step") {
      state.pools[parts[1]].step = ToInt(value);
    } else if (parts.size() == 3 && parts[0] == "pool" && parts[2] == "present") {
      state.pools[parts[1]].present = value;  // the present set's signature (routing::Engine)
    } else if (parts.size() == 4 && parts[0] == "pool" && parts[2] == "credit") {
      state.pools[parts[1]].credit[parts[3]] = ToInt(value);
    } else if (parts.size() == 4 && parts[0] == "pool" && parts[2] == "count") {
      state.pools[parts[1]].count[parts[3]] = ToInt(value);
    }
  }
  return state;
}

std::map<std::string, std::string> FieldsFromState(const routing::RoutingState& state) {
  std::map<std::string, std::string> fields;
  for (const auto& [id, rep] : state.reps) {
    const std::string prefix = absl::StrCat("rep:", id, ":");
    fields[prefix + "open"] = std::to_string(rep.open_leads);
    if (!rep.day.empty()) fields[prefix + "day"] = rep.day;
    fields[prefix + "day_count"] = std::to_string(rep.assigned_on_day);
    fields[prefix + "recent_assigned"] = std::to_string(rep.recent_assigned);
    fields[prefix + "recent_converted"] = std::to_string(rep.recent_converted);
    fields[prefix + "paused"] = rep.paused ? "1" : "0";
    if (rep.max_open_override) {
      fields[prefix + "max_open_override"] = std::to_string(*rep.max_open_override);
    }
    if (rep.daily_cap_override) {
      fields[prefix + "daily_cap_override"] = std::to_string(*rep.daily_cap_override);
    }
    if (!rep.extra_out_of_office.empty()) {
      std::string windows;
      for (const routing::Absence& a : rep.extra_out_of_office) {
        auto seconds = [](core::TimePoint t) {
          return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
        };
        absl::StrAppend(&windows, windows.empty() ? "" : ",", seconds(a.from), "-", seconds(a.to));
      }
      fields[prefix + "ooo"] = windows;
    }
  }
  for (const auto& [name, pool] : state.pools) {
    const std::string prefix = absl::StrCat("pool:", name, ":");
    fields[prefix + "step"] = std::to_string(pool.step);
    if (!pool.present.empty()) fields[prefix + "present"] = pool.present;
    for (const auto& [rep, credit] : pool.credit) {
      fields[absl::StrCat(prefix, "credit:", rep)] = std::to_string(credit);
    }
    for (const auto& [rep, count] : pool.count) {
      fields[absl::StrCat(prefix, "count:", rep)] = std::to_string(count);
    }
  }
  return fields;
}

namespace {}  // namespace

// The fields of `after` that differ from `before`: what a commit must write.
std::map<std::string, std::string> ChangedFields(const std::map<std::string, std::string>& before,
                                                 const routing::RoutingState& after) {
  std::map<std::string, std::string> changed;
  for (auto& [field, value] : FieldsFromState(after)) {
    auto it = before.find(field);
    if (it == before.end() ? value != "0" : it->second != value) changed[field] = value;
  }
  return changed;
}

namespace {

// "rep-ada open 3->4, day 2026-11-23 2->3; pool americas step 10->11, count 7->8, credit 1->-1":
// the shared counters this decision moved, for the trace.
std::string CountersMoved(const routing::RoutingDecision& route,
                          const routing::RoutingState& before, const routing::RoutingState& after) {
  const std::string& rep = *route.rep_id;
  auto rep_of = [&rep](const routing::RoutingState& s) {
    auto it = s.reps.find(rep);
    return it == s.reps.end() ? routing::RepCounters{} : it->second;
  };
  const routing::RepCounters b = rep_of(before), a = rep_of(after);
  const int64_t day_before = b.day == a.day ? b.assigned_on_day : 0;
  std::string text = absl::StrCat(rep, " open ", b.open_leads, "->", a.open_leads, ", day ", a.day,
                                  " ", day_before, "->", a.assigned_on_day);
  auto pool_of = [&route](const routing::RoutingState& s) {
    auto it = s.pools.find(route.pool);
    return it == s.pools.end() ? routing::PoolCounters{} : it->second;
  };
  if (!route.pool.empty()) {
    const routing::PoolCounters pb = pool_of(before), pa = pool_of(after);
    auto value = [&rep](const std::map<std::string, int64_t>& m) {
      auto it = m.find(rep);
      return it == m.end() ? int64_t{0} : it->second;
    };
    absl::StrAppend(&text, "; pool ", route.pool, " step ", pb.step, "->", pa.step, ", count ",
                    value(pb.count), "->", value(pa.count), ", credit ", value(pb.credit), "->",
                    value(pa.credit));
  }
  return text;
}

}  // namespace

Assigner::Assigner(store::AssignmentStore& store, std::shared_ptr<const config::Config> config,
                   const core::Clock& clock)
    : store_(store),
      config_(std::move(config)),
      clock_(clock),
      key_maker_(config_->dedupe.enabled
                     ? std::make_unique<const dedupe::KeyMaker>(
                           config_->dedupe.hmac_key, config_->dedupe.default_phone_region,
                           config_->dedupe.match_company_name,
                           config_->dedupe.keep_plus_tags_domains)
                     : nullptr) {}

std::string Assigner::LeadIdFor(const std::string& tenant, const std::string& event_id) {
  return "ld_" + core::Sha256Hex(absl::StrCat("lead\n", tenant, "\n", event_id), 24);
}

std::string Assigner::AssignmentIdFor(const std::string& tenant, const std::string& event_id) {
  return "as_" + core::Sha256Hex(absl::StrCat("assignment\n", tenant, "\n", event_id), 24);
}

void KeepFirstMessage(v1::EventOutcome& outcome) {
  if (outcome.has_assignment() && !outcome.has_first_message()) {
    *outcome.mutable_first_message() = outcome.assignment();
  }
}

const v1::AssignmentEvent& FirstMessage(const v1::EventOutcome& outcome) {
  return outcome.has_first_message() ? outcome.first_message() : outcome.assignment();
}

void StampMessageIdentity(v1::AssignmentEvent& a) {
  if (a.status() == v1::ASSIGNMENT_STATUS_DUPLICATE) {
    a.set_sequence(0);
    a.set_message_id(
        "m_" + core::Sha256Hex(absl::StrCat("duplicate\n", a.lead_id(), "\n", a.event_id()), 32));
    return;
  }
  a.set_sequence(a.history_size());
  a.set_message_id(
      "m_" + core::Sha256Hex(absl::StrCat("transition\n", a.lead_id(), "\n", a.sequence()), 32));
}

namespace {

std::vector<std::string> OwnerIds(const dedupe::AccountOwner& owner) {
  std::vector<std::string> ids;
  for (const dedupe::Share& share : owner.owners) ids.push_back(share.rep_id);
  return ids;
}

}  // namespace

void ApplyRoute(const config::Config& config, core::TimePoint now,
                const routing::RoutingDecision& route, const routing::RoutingState& before,
                const routing::RoutingState& after,
                const std::optional<dedupe::AccountOwner>& owner, v1::AssignmentEvent& a) {
  a.set_status(route.rep_id ? v1::ASSIGNMENT_STATUS_ASSIGNED : v1::ASSIGNMENT_STATUS_UNASSIGNED);
  a.set_rep_id(route.rep_id.value_or(""));
  a.set_territory(route.territory);
  a.set_pool(route.pool);
  a.set_reason(route.reason);
  a.set_config_version(config.version);
  *a.mutable_assigned_at() = ToTimestamp(now);
  *a.mutable_event_time() = ToTimestamp(now);
  a.set_actor(std::string(kRouterActor));
  a.clear_return_reason();
  a.clear_note();
  if (a.attempt() == 0) a.set_attempt(1);
  a.clear_sla_deadline();
  const std::chrono::seconds sla = config.lifecycle.AcceptSlaFor(route.pool);
  if (route.rep_id && sla.count() > 0) *a.mutable_sla_deadline() = ToTimestamp(now + sla);
  v1::LeadTransition* entry = a.add_history();
  entry->set_status(a.status());
  entry->set_rep_id(a.rep_id());
  *entry->mutable_at() = ToTimestamp(now);
  entry->set_actor(std::string(kRouterActor));
  entry->set_assignment_id(a.assignment_id());
  const config::RepConfig* rep = route.rep_id ? config.FindRep(*route.rep_id) : nullptr;
  a.set_crm_user_id(rep != nullptr ? rep->crm_user_id : "");
  StampMessageIdentity(a);
  // Keep the qualification step, replace the routing steps (a retry re-routes).
  google::protobuf::RepeatedPtrField<v1::TraceStep> kept;
  for (const auto& step : a.trace()) {
    if (step.stage() == "qualify") *kept.Add() = step;
  }
  a.mutable_trace()->Swap(&kept);
  auto add = [&a](const char* stage, const std::string& decision, const std::string& reason) {
    v1::TraceStep* step = a.add_trace();
    step->set_stage(stage);
    step->set_decision(decision);
    step->set_reason(reason);
  };
  a.clear_account_split();
  if (owner) {
    std::vector<std::string> named;
    for (const dedupe::Share& share : owner->owners) {
      named.push_back(owner->shared() ? absl::StrCat(share.rep_id, " (", share.percent, "%)")
                                      : share.rep_id);
    }
    add("account", owner->owners.front().rep_id,
        absl::StrCat("the account (by ", dedupe::FieldName(owner->via), ") is ",
                     owner->shared() ? "shared by " : "owned by ", absl::StrJoin(named, ", ")));
    // The credit split travels with an assignment to one of the owners, so the CRM can record
    // it on the opportunity.
    if (owner->shared() && route.rep_id && dedupe::IsOwner(owner->owners, *route.rep_id)) {
      for (const dedupe::Share& share : owner->owners) {
        v1::OwnerShare* split = a.add_account_split();
        split->set_rep_id(share.rep_id);
        split->set_percent(static_cast<uint32_t>(share.percent));
      }
    }
  }
  for (const auto& territory : route.territories_tried) add("territory", "", territory);
  for (const auto& pool : route.pools_tried) add("pool", pool, "");
  for (const auto& candidate : route.candidates) {
    add("candidate", candidate.rep_id, candidate.why);
  }
  if (route.rep_id) add("counters", *route.rep_id, CountersMoved(route, before, after));
  add("route", route.rep_id.value_or("unassigned"), route.reason);
}

v1::EventOutcome Assigner::DecideDuplicate(const v1::LeadEvent& lead,
                                           const v1::AssignmentEvent& existing,
                                           const dedupe::PersonCandidate& match) const {
  v1::EventOutcome outcome;
  v1::AssignmentEvent* a = outcome.mutable_assignment();
  a->set_assignment_id(AssignmentIdFor(config_->redis.tenant, lead.event_id()));
  a->set_lead_id(existing.lead_id());
  a->set_event_id(lead.event_id());
  a->set_rep_id(existing.rep_id());
  a->set_pool(existing.pool());
  a->set_territory(existing.territory());
  a->set_status(v1::ASSIGNMENT_STATUS_DUPLICATE);
  a->set_reason(absl::StrCat(
      "same person (", dedupe::FieldName(match.via), ") as live lead ", existing.lead_id(),
      existing.rep_id().empty() ? ", still unassigned" : ", held by " + existing.rep_id()));
  a->set_config_version(config_->version);
  *a->mutable_lead_occurred_at() = lead.occurred_at();
  *a->mutable_assigned_at() = existing.assigned_at();
  *a->mutable_event_time() = ToTimestamp(clock_.Now());
  a->set_actor(std::string(kRouterActor));
  a->set_attempt(existing.attempt());
  a->set_crm_user_id(existing.crm_user_id());
  a->set_source_record_id(lead.source_record_id());
  *a->mutable_lead() = lead;  // the renewed activity, for the owner to see
  v1::TraceStep* step = a->add_trace();
  step->set_stage("dedupe");
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

void Assigner::ClaimKeys(const dedupe::Identity& identity, const std::string& record_event_id,
                         const v1::AssignmentEvent& decided, dedupe::KnownKeys& known,
                         store::AssignmentStore::CommitRequest& commit) const {
  const config::DedupeConfig& settings = config_->dedupe;
  const bool duplicate = decided.status() == v1::ASSIGNMENT_STATUS_DUPLICATE;
  for (const dedupe::MatchKey& key : identity.person) {
    // A new lead takes over its person keys (whatever they pointed at is no longer live); a
    // duplicate only adds identifiers its lead did not have yet (a new phone number).
    if (duplicate && known.Person(key.hmac) != nullptr) continue;
    known.SetPerson(key.hmac, record_event_id);
    commit.expiring_values.push_back(
        {store_.keys().Person(key.hmac), record_event_id, settings.person_window});
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
    commit.expiring_values.push_back(
        {store_.keys().Account(key.hmac), std::move(renewed), settings.account_owner_idle});
  }
}

v1::EventOutcome Assigner::Decide(const v1::LeadEvent& lead,
                                  const std::optional<dedupe::AccountOwner>& owner,
                                  routing::RoutingState& state, double* qualify_seconds) const {
  const config::Config& config = *config_;
  const auto qualify_started = std::chrono::steady_clock::now();
  const qualify::Decision decision = config.qualifier->Evaluate(lead);
  if (qualify_seconds != nullptr) {
    *qualify_seconds +=
        std::chrono::duration<double>(std::chrono::steady_clock::now() - qualify_started).count();
  }
  const std::string lead_id = LeadIdFor(config.redis.tenant, lead.event_id());
  v1::EventOutcome outcome;

  if (decision.outcome != qualify::Outcome::kQualified) {
    v1::NurtureEvent* nurture = outcome.mutable_nurture();
    nurture->set_event_id(lead.event_id());
    nurture->set_lead_id(lead_id);
    *nurture->mutable_qualification() = ToProto(decision);
    nurture->set_config_version(config.version);
    *nurture->mutable_decided_at() = ToTimestamp(clock_.Now());
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
  qualify_step->set_stage("qualify");
  qualify_step->set_decision("qualified");
  qualify_step->set_reason(decision.reasons.empty() ? "" : decision.reasons.front());
  routing::LeadFacts facts = LeadFactsFor(lead, a->qualification().segments());
  if (owner) facts.account_owner_rep_ids = OwnerIds(*owner);
  const routing::RoutingDecision route = config.engine->Route(facts, clock_.Now(), state);
  ApplyRoute(config, clock_.Now(), route, before, state, owner, *a);
  return outcome;
}

namespace {

// A lead that dedupe may still attach activity to: someone holds it or it waits for someone.
bool IsLive(const v1::EventOutcome& outcome) {
  if (!outcome.has_assignment()) return false;
  switch (outcome.assignment().status()) {
    case v1::ASSIGNMENT_STATUS_ASSIGNED:
    case v1::ASSIGNMENT_STATUS_ACCEPTED:
    case v1::ASSIGNMENT_STATUS_UNASSIGNED:
      return true;
    default:
      return false;
  }
}

// The name of an event's record in errors: `event "e1"`.
std::string EventNamed(const std::string& event_id) {
  return absl::StrCat("event \"", event_id, "\"");
}

}  // namespace

absl::StatusOr<std::vector<LeadResult>> Assigner::DecideBatch(
    const std::vector<const v1::LeadEvent*>& leads) {
  // Decide each distinct event id once; later occurrences in the batch replay the first.
  std::vector<std::string> unique_ids;
  std::unordered_map<std::string, size_t> index_of;
  std::vector<size_t> first_lead_of_unique;
  for (size_t i = 0; i < leads.size(); ++i) {
    if (index_of.emplace(leads[i]->event_id(), unique_ids.size()).second) {
      unique_ids.push_back(leads[i]->event_id());
      first_lead_of_unique.push_back(i);
    }
  }

  timings_ = {};
  using SteadyClock = std::chrono::steady_clock;
  auto since = [](SteadyClock::time_point start) {
    return std::chrono::duration<double>(SteadyClock::now() - start).count();
  };
  auto started = SteadyClock::now();
  // Who each lead is, and the dedupe keys to read with the routing state (pure, computed once).
  std::vector<dedupe::Identity> identities(unique_ids.size());
  std::vector<std::string> value_keys;
  struct ValueKey {
    bool person;
    std::string hmac;
  };
  std::vector<ValueKey> value_key_meaning;
  if (key_maker_) {
    std::unordered_set<std::string> requested;
    auto request = [&](bool person, const std::string& hmac) {
      std::string key = person ? store_.keys().Person(hmac) : store_.keys().Account(hmac);
      if (!requested.insert(key).second) return;
      value_keys.push_back(std::move(key));
      value_key_meaning.push_back({person, hmac});
    };
    for (size_t u = 0; u < unique_ids.size(); ++u) {
      const v1::LeadEvent& lead = *leads[first_lead_of_unique[u]];
      identities[u] = key_maker_->IdentityOf(lead, qualify::CompanyDomain(lead));
      for (const auto& key : identities[u].person) request(true, key.hmac);
      for (const auto& key : identities[u].account_aliases) request(false, key.hmac);
    }
  }

  timings_.dedupe += since(started);

  core::Backoff backoff(kContentionBackoffStart, kContentionBackoffMax,
                        reinterpret_cast<uintptr_t>(this));
  for (int attempt = 0; attempt < kMaxCommitAttempts; ++attempt) {
    if (attempt > 0) std::this_thread::sleep_for(backoff.Next());
    started = SteadyClock::now();
    auto snapshot = store_.Load(unique_ids, value_keys);
    timings_.redis_load += since(started);
    if (!snapshot.ok()) return snapshot.status();

    routing::RoutingState state = StateFromFields(snapshot->state);
    std::vector<std::shared_ptr<const v1::EventOutcome>> decided(unique_ids.size());
    std::vector<bool> was_stored(unique_ids.size(), false);
    std::vector<LeadResult::Match> matched(unique_ids.size(), LeadResult::Match::kNone);
    for (size_t u = 0; u < unique_ids.size(); ++u) {
      if (!snapshot->records[u].has_value()) continue;
      auto existing = ParseStoredOutcome(EventNamed(unique_ids[u]), *snapshot->records[u]);
      if (!existing.ok()) return existing.status();
      decided[u] = *std::move(existing);
      was_stored[u] = true;
    }

    // Dedupe: what the keys say, and the stored leads person keys point at outside the batch
    // (a second round trip, only when some person was seen before).
    started = SteadyClock::now();
    dedupe::KnownKeys known;
    std::vector<std::string> earlier_ids;
    for (size_t k = 0; k < value_keys.size(); ++k) {
      const std::optional<std::string>& value = snapshot->values[k];
      if (!value.has_value()) continue;
      if (value_key_meaning[k].person) {
        known.SetPerson(value_key_meaning[k].hmac, *value);
        if (!index_of.contains(*value)) earlier_ids.push_back(*value);
      } else {
        known.SetAccount(value_key_meaning[k].hmac, *value);
      }
    }
    std::sort(earlier_ids.begin(), earlier_ids.end());
    earlier_ids.erase(std::unique(earlier_ids.begin(), earlier_ids.end()), earlier_ids.end());
    std::unordered_map<std::string, std::shared_ptr<const v1::EventOutcome>> earlier;
    if (!earlier_ids.empty()) {
      auto records = store_.LoadRecords(earlier_ids);
      if (!records.ok()) return records.status();
      for (size_t i = 0; i < earlier_ids.size(); ++i) {
        if (!(*records)[i].has_value()) continue;  // expired with its record: not live
        auto record = ParseStoredOutcome(EventNamed(earlier_ids[i]), *(*records)[i]);
        if (!record.ok()) return record.status();
        earlier.emplace(earlier_ids[i], *std::move(record));
      }
    }
    auto record_of = [&](const std::string& event_id) -> const v1::EventOutcome* {
      if (auto it = index_of.find(event_id); it != index_of.end()) return decided[it->second].get();
      auto it = earlier.find(event_id);
      return it == earlier.end() ? nullptr : it->second.get();
    };

    timings_.dedupe += since(started);

    started = SteadyClock::now();
    double qualify_seconds = 0;  // within the routing stage's time
    store::AssignmentStore::CommitRequest commit;
    commit.expected_version = snapshot->version;
    commit.ttl = config_->redis.idempotency_ttl;
    commit.log_max_events = config_->lifecycle.stream_retention_events;
    const int64_t now_s =
        std::chrono::duration_cast<std::chrono::seconds>(clock_.Now().time_since_epoch()).count();
    for (size_t u = 0; u < unique_ids.size(); ++u) {
      if (was_stored[u]) continue;
      const v1::LeadEvent& lead = *leads[first_lead_of_unique[u]];
      const dedupe::Identity& identity = identities[u];
      std::shared_ptr<v1::EventOutcome> outcome;
      std::string record_event_id = unique_ids[u];
      for (const dedupe::PersonCandidate& candidate : dedupe::PersonCandidates(identity, known)) {
        const v1::EventOutcome* existing = record_of(candidate.event_id);
        if (existing == nullptr || !IsLive(*existing)) continue;
        outcome = std::make_shared<v1::EventOutcome>(
            DecideDuplicate(lead, existing->assignment(), candidate));
        record_event_id = candidate.event_id;
        matched[u] = LeadResult::Match::kPerson;
        break;
      }
      if (!outcome) {
        const std::optional<dedupe::AccountOwner> owner =
            key_maker_ ? dedupe::FindAccountOwner(identity, known) : std::nullopt;
        outcome = std::make_shared<v1::EventOutcome>(Decide(lead, owner, state, &qualify_seconds));
        if (owner && outcome->has_assignment() &&
            dedupe::IsOwner(owner->owners, outcome->assignment().rep_id())) {
          matched[u] = LeadResult::Match::kAccount;
        }
      }
      if (outcome->has_assignment()) {
        const v1::AssignmentEvent& a = outcome->assignment();
        if (a.status() == v1::ASSIGNMENT_STATUS_UNASSIGNED) {
          commit.queue_add.emplace_back(unique_ids[u], now_s);
        }
        if (a.has_sla_deadline())
          commit.sla_add.emplace_back(a.lead_id(), a.sla_deadline().seconds());
        commit.log_events.push_back(a.SerializeAsString());
        if (key_maker_) ClaimKeys(identity, record_event_id, a, known, commit);
        // A duplicate's lead id is its lead's, whose index already points at the original.
        if (a.status() != v1::ASSIGNMENT_STATUS_DUPLICATE) {
          commit.lead_index.emplace_back(a.lead_id(), unique_ids[u]);
        }
      } else {
        commit.lead_index.emplace_back(outcome->nurture().lead_id(), unique_ids[u]);
      }
      commit.new_records.emplace_back(unique_ids[u], outcome->SerializeAsString());
      decided[u] = std::move(outcome);
    }

    if (!commit.new_records.empty()) {
      commit.state_updates = ChangedFields(snapshot->state, state);
      timings_.route += since(started) - qualify_seconds;
      timings_.qualify += qualify_seconds;
      started = SteadyClock::now();
      auto committed = store_.Commit(commit);
      timings_.redis_commit += since(started);
      if (!committed.ok()) return committed.status();
      if (*committed != store::AssignmentStore::CommitResult::kCommitted) continue;
    } else {
      timings_.route += since(started) - qualify_seconds;
      timings_.qualify += qualify_seconds;
    }

    std::vector<LeadResult> results;
    results.reserve(leads.size());
    std::vector<bool> seen(unique_ids.size(), false);
    for (size_t i = 0; i < leads.size(); ++i) {
      const size_t u = index_of.at(leads[i]->event_id());
      const bool replayed = was_stored[u] || seen[u];
      results.push_back(
          LeadResult{decided[u], replayed, replayed ? LeadResult::Match::kNone : matched[u]});
      seen[u] = true;
    }
    return results;
  }
  return absl::AbortedError(
      absl::StrCat("routing state still contended after ", kMaxCommitAttempts, " attempts"));
}

absl::StatusOr<Assigner::RetryResult> Assigner::RetryUnassigned(size_t limit) {
  core::Backoff backoff(kContentionBackoffStart, kContentionBackoffMax,
                        reinterpret_cast<uintptr_t>(this));
  for (int attempt = 0; attempt < kMaxRetryCommitAttempts; ++attempt) {
    if (attempt > 0) std::this_thread::sleep_for(backoff.Next());
    auto queue = store_.PeekUnassigned(limit);
    if (!queue.ok()) return queue.status();
    RetryResult result;
    result.queue_depth = queue->second;
    if (queue->first.empty()) return result;

    auto snapshot = store_.Load(queue->first);
    if (!snapshot.ok()) return snapshot.status();
    routing::RoutingState state = StateFromFields(snapshot->state);
    store::AssignmentStore::CommitRequest commit;
    commit.expected_version = snapshot->version;
    commit.ttl = config_->redis.idempotency_ttl;
    commit.log_max_events = config_->lifecycle.stream_retention_events;
    std::vector<std::shared_ptr<v1::EventOutcome>> queued(queue->first.size());
    for (size_t i = 0; i < queue->first.size(); ++i) {
      auto outcome = std::make_shared<v1::EventOutcome>();
      if (!snapshot->records[i].has_value() || !outcome->ParseFromString(*snapshot->records[i]) ||
          !outcome->has_assignment() ||
          outcome->assignment().status() != v1::ASSIGNMENT_STATUS_UNASSIGNED) {
        commit.queue_remove.push_back(queue->first[i]);  // expired or already resolved
        continue;
      }
      queued[i] = std::move(outcome);
    }
    // Account owners of the queued leads: an owner who became available takes the lead.
    std::vector<dedupe::Identity> identities(queued.size());
    dedupe::KnownKeys known;
    if (key_maker_) {
      std::vector<std::string> account_keys, account_hmacs;
      for (size_t i = 0; i < queued.size(); ++i) {
        if (!queued[i]) continue;
        const v1::LeadEvent& lead = queued[i]->assignment().lead();
        identities[i] = key_maker_->IdentityOf(lead, qualify::CompanyDomain(lead));
        for (const auto& key : identities[i].account_aliases) {
          account_keys.push_back(store_.keys().Account(key.hmac));
          account_hmacs.push_back(key.hmac);
        }
      }
      auto owners = store_.LoadValues(account_keys);
      if (!owners.ok()) return owners.status();
      for (size_t k = 0; k < account_keys.size(); ++k) {
        if ((*owners)[k].has_value()) known.SetAccount(account_hmacs[k], *(*owners)[k]);
      }
    }
    for (size_t i = 0; i < queue->first.size(); ++i) {
      if (!queued[i]) continue;
      const std::string& event_id = queue->first[i];
      std::shared_ptr<v1::EventOutcome>& outcome = queued[i];
      v1::AssignmentEvent* a = outcome->mutable_assignment();
      const routing::RoutingState before = state;
      const std::optional<dedupe::AccountOwner> owner =
          key_maker_ ? dedupe::FindAccountOwner(identities[i], known) : std::nullopt;
      routing::LeadFacts facts = LeadFactsFor(a->lead(), a->qualification().segments());
      if (owner) facts.account_owner_rep_ids = OwnerIds(*owner);
      // A lead queued after a return or expiry never goes back to a rep who held it.
      facts.excluded_reps = PreviousHolders(*a);
      const routing::RoutingDecision route = config_->engine->Route(facts, clock_.Now(), state);
      if (!route.rep_id) continue;  // still nobody: stays queued, state untouched for it
      KeepFirstMessage(*outcome);
      ApplyRoute(*config_, clock_.Now(), route, before, state, owner, *a);
      if (key_maker_) {
        // Its person keys already point at it; only the account gains an owner.
        dedupe::Identity account_only = identities[i];
        account_only.person.clear();
        ClaimKeys(account_only, event_id, *a, known, commit);
      }
      commit.replaced_records.emplace_back(event_id, outcome->SerializeAsString());
      commit.queue_remove.push_back(event_id);
      if (a->has_sla_deadline()) {
        commit.sla_add.emplace_back(a->lead_id(), a->sla_deadline().seconds());
      }
      commit.log_events.push_back(a->SerializeAsString());
      result.assigned.push_back(std::move(outcome));
    }
    if (commit.replaced_records.empty() && commit.queue_remove.empty()) return result;
    commit.state_updates = ChangedFields(snapshot->state, state);
    auto committed = store_.Commit(commit);
    if (!committed.ok()) return committed.status();
    if (*committed == store::AssignmentStore::CommitResult::kCommitted) {
      result.queue_depth -= static_cast<int64_t>(commit.queue_remove.size());
      return result;
    }
  }
  return absl::AbortedError("unassigned queue still contended");
}

}  // namespace leadrouter::pipeline
