#include "leadrouter/decide/outcome.h"

#include <google/protobuf/util/time_util.h>

#include <cctype>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "leadrouter/core/hash.h"

namespace leadrouter::decide {
namespace {

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

v1::RuleKind ToProto(qualify::RuleResult::Kind kind) {
  switch (kind) {
    case qualify::RuleResult::Kind::kRequirement:
      return v1::RULE_KIND_REQUIREMENT;
    case qualify::RuleResult::Kind::kCriterion:
      return v1::RULE_KIND_CRITERION;
    case qualify::RuleResult::Kind::kSegment:
      return v1::RULE_KIND_SEGMENT;
  }
  return v1::RULE_KIND_UNSPECIFIED;
}

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

const char* TraceStageName(TraceStage stage) {
  switch (stage) {
    case TraceStage::kDedupe:
      return "dedupe";
    case TraceStage::kQualify:
      return "qualify";
    case TraceStage::kAccount:
      return "account";
    case TraceStage::kTerritory:
      return "territory";
    case TraceStage::kPool:
      return "pool";
    case TraceStage::kCandidate:
      return "candidate";
    case TraceStage::kCounters:
      return "counters";
    case TraceStage::kRoute:
      return "route";
  }
  return "unknown";
}

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
    r->set_rule_kind(ToProto(rule.kind));
    r->set_kind(ShortEnumName(v1::RuleKind_Name(r->rule_kind()), "RULE_KIND_", /*lower=*/true));
    r->set_name(rule.name);
    r->set_fired(rule.fired);
    r->set_points(rule.points);
    r->set_detail(rule.detail);
  }
  return q;
}

core::TimePoint ToTimePoint(const google::protobuf::Timestamp& t) {
  return core::TimePoint(std::chrono::duration_cast<core::TimePoint::duration>(
      std::chrono::seconds(t.seconds()) + std::chrono::nanoseconds(t.nanos())));
}

int64_t EpochSeconds(core::TimePoint t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

std::string LeadIdFor(const std::string& tenant, const std::string& event_id) {
  return "ld_" + core::Sha256Hex(absl::StrCat("lead\n", tenant, "\n", event_id), 24);
}

std::string AssignmentIdFor(const std::string& tenant, const std::string& event_id) {
  return "as_" + core::Sha256Hex(absl::StrCat("assignment\n", tenant, "\n", event_id), 24);
}

std::string ReassignmentIdFor(const std::string& tenant, const std::string& lead_id, int attempt) {
  return "as_" +
         core::Sha256Hex(absl::StrCat("reassignment\n", tenant, "\n", lead_id, "\n", attempt), 24);
}

bool IsLive(const v1::EventOutcome& outcome) {
  if (!outcome.has_assignment()) return false;
  switch (outcome.assignment().status()) {
    case v1::ASSIGNMENT_STATUS_ASSIGNED:
    case v1::ASSIGNMENT_STATUS_ACCEPTED:
    case v1::ASSIGNMENT_STATUS_UNASSIGNED:
      return true;
    case v1::ASSIGNMENT_STATUS_UNSPECIFIED:
    case v1::ASSIGNMENT_STATUS_DUPLICATE:
    case v1::ASSIGNMENT_STATUS_RETURNED:
    case v1::ASSIGNMENT_STATUS_EXPIRED:
    case v1::ASSIGNMENT_STATUS_CONVERTED:
    case v1::ASSIGNMENT_STATUS_RECYCLED:
    case v1::AssignmentStatus_INT_MIN_SENTINEL_DO_NOT_USE_:
    case v1::AssignmentStatus_INT_MAX_SENTINEL_DO_NOT_USE_:
      return false;
  }
  return false;
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
  const std::chrono::seconds sla = config.lifecycle.AcceptSlaFor(core::PoolName(route.pool));
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
    if (step.stage() == TraceStageName(TraceStage::kQualify)) *kept.Add() = step;
  }
  a.mutable_trace()->Swap(&kept);
  auto add = [&a](TraceStage stage, const std::string& decision, const std::string& reason) {
    v1::TraceStep* step = a.add_trace();
    step->set_stage(TraceStageName(stage));
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
    add(TraceStage::kAccount, owner->owners.front().rep_id,
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
  for (const auto& territory : route.territories_tried) add(TraceStage::kTerritory, "", territory);
  for (const auto& pool : route.pools_tried) add(TraceStage::kPool, pool, "");
  for (const auto& candidate : route.candidates) {
    add(TraceStage::kCandidate, candidate.rep_id, candidate.why);
  }
  if (route.rep_id) add(TraceStage::kCounters, *route.rep_id, CountersMoved(route, before, after));
  add(TraceStage::kRoute, route.rep_id.value_or("unassigned"), route.reason);
}

}  // namespace leadrouter::decide
