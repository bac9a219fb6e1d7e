#include "leadrouter/pipeline/assigner.h"

#include <google/protobuf/util/time_util.h>

#include <charconv>
#include <thread>
#include <unordered_map>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "leadrouter/core/backoff.h"
#include "leadrouter/core/hash.h"
#include "leadrouter/qualify/qualifier.h"

namespace leadrouter::pipeline {
namespace {

// Optimistic concurrency: another instance committing between our load and commit makes us
// decide again. Jittered backoff between attempts keeps racing instances from retrying in
// lockstep; the budget only ends a pathological race (the pipeline then retries the batch).
constexpr int kMaxCommitAttempts = 64;
constexpr auto kContentionBackoffStart = std::chrono::milliseconds(1);
constexpr auto kContentionBackoffMax = std::chrono::milliseconds(50);

google::protobuf::Timestamp ToTimestamp(core::TimePoint t) {
  return google::protobuf::util::TimeUtil::NanosecondsToTimestamp(
      std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count());
}

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

// "LEAD_SOURCE_KIND_PARTNER" → "PARTNER".
std::string ShortSourceKind(v1::LeadSourceKind kind) {
  std::string name = v1::LeadSourceKind_Name(kind);
  constexpr std::string_view kPrefix = "LEAD_SOURCE_KIND_";
  return name.rfind(kPrefix, 0) == 0 ? name.substr(kPrefix.size()) : name;
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
    } else if (parts.size() == 3 && parts[0] == "pool" && parts[2] == "step") {
      state.pools[parts[1]].step = ToInt(value);
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
  }
  for (const auto& [name, pool] : state.pools) {
    const std::string prefix = absl::StrCat("pool:", name, ":");
    fields[prefix + "step"] = std::to_string(pool.step);
    for (const auto& [rep, credit] : pool.credit) {
      fields[absl::StrCat(prefix, "credit:", rep)] = std::to_string(credit);
    }
    for (const auto& [rep, count] : pool.count) {
      fields[absl::StrCat(prefix, "count:", rep)] = std::to_string(count);
    }
  }
  return fields;
}

namespace {

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
    : store_(store), config_(std::move(config)), clock_(clock) {}

std::string Assigner::LeadIdFor(const std::string& tenant, const std::string& event_id) {
  return "ld_" + core::Sha256Hex(absl::StrCat("lead\n", tenant, "\n", event_id), 24);
}

std::string Assigner::AssignmentIdFor(const std::string& tenant, const std::string& event_id) {
  return "as_" + core::Sha256Hex(absl::StrCat("assignment\n", tenant, "\n", event_id), 24);
}

void Assigner::ApplyRoute(const routing::RoutingDecision& route,
                          const routing::RoutingState& before, const routing::RoutingState& after,
                          v1::AssignmentEvent& a) const {
  a.set_status(route.rep_id ? v1::ASSIGNMENT_STATUS_ASSIGNED : v1::ASSIGNMENT_STATUS_UNASSIGNED);
  a.set_rep_id(route.rep_id.value_or(""));
  a.set_territory(route.territory);
  a.set_pool(route.pool);
  a.set_reason(route.reason);
  a.set_config_version(config_->version);
  *a.mutable_assigned_at() = ToTimestamp(clock_.Now());
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
  for (const auto& territory : route.territories_tried) add("territory", "", territory);
  for (const auto& pool : route.pools_tried) add("pool", pool, "");
  for (const auto& candidate : route.candidates) {
    add("candidate", candidate.rep_id, candidate.why);
  }
  if (route.rep_id) add("counters", *route.rep_id, CountersMoved(route, before, after));
  add("route", route.rep_id.value_or("unassigned"), route.reason);
}

v1::EventOutcome Assigner::Decide(const v1::LeadEvent& lead, routing::RoutingState& state) const {
  const config::Config& config = *config_;
  const qualify::Decision decision = config.qualifier->Evaluate(lead);
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
  *a->mutable_lead_occurred_at() = lead.occurred_at();
  *a->mutable_qualification() = ToProto(decision);
  *a->mutable_lead() = lead;
  const routing::RoutingState before = state;  // for the counters' before/after in the trace
  v1::TraceStep* qualify_step = a->add_trace();
  qualify_step->set_stage("qualify");
  qualify_step->set_decision("qualified");
  qualify_step->set_reason(decision.reasons.empty() ? "" : decision.reasons.front());
  const routing::RoutingDecision route =
      config.engine->Route(LeadFactsFor(lead, a->qualification().segments()), clock_.Now(), state);
  ApplyRoute(route, before, state, *a);
  return outcome;
}

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

  core::Backoff backoff(kContentionBackoffStart, kContentionBackoffMax,
                        reinterpret_cast<uintptr_t>(this));
  for (int attempt = 0; attempt < kMaxCommitAttempts; ++attempt) {
    if (attempt > 0) std::this_thread::sleep_for(backoff.Next());
    auto snapshot = store_.Load(unique_ids);
    if (!snapshot.ok()) return snapshot.status();

    routing::RoutingState state = StateFromFields(snapshot->state);
    std::vector<std::shared_ptr<const v1::EventOutcome>> decided(unique_ids.size());
    std::vector<bool> was_stored(unique_ids.size(), false);
    store::AssignmentStore::CommitRequest commit;
    commit.expected_version = snapshot->version;
    commit.ttl = config_->redis.idempotency_ttl;
    const int64_t now_s =
        std::chrono::duration_cast<std::chrono::seconds>(clock_.Now().time_since_epoch()).count();
    for (size_t u = 0; u < unique_ids.size(); ++u) {
      if (const std::optional<std::string>& stored = snapshot->records[u]; stored.has_value()) {
        auto existing = std::make_shared<v1::EventOutcome>();
        if (!existing->ParseFromString(*stored) ||
            existing->outcome_case() == v1::EventOutcome::OUTCOME_NOT_SET) {
          return absl::DataLossError(
              absl::StrCat("stored outcome of event \"", unique_ids[u], "\" does not parse"));
        }
        decided[u] = std::move(existing);
        was_stored[u] = true;
        continue;
      }
      auto outcome =
          std::make_shared<v1::EventOutcome>(Decide(*leads[first_lead_of_unique[u]], state));
      if (outcome->has_assignment() &&
          outcome->assignment().status() == v1::ASSIGNMENT_STATUS_UNASSIGNED) {
        commit.queue_add.emplace_back(unique_ids[u], now_s);
      }
      commit.new_records.emplace_back(unique_ids[u], outcome->SerializeAsString());
      commit.lead_index.emplace_back(outcome->has_assignment() ? outcome->assignment().lead_id()
                                                               : outcome->nurture().lead_id(),
                                     unique_ids[u]);
      decided[u] = std::move(outcome);
    }

    if (!commit.new_records.empty()) {
      commit.state_updates = ChangedFields(snapshot->state, state);
      auto committed = store_.Commit(commit);
      if (!committed.ok()) return committed.status();
      if (*committed != store::AssignmentStore::CommitResult::kCommitted) continue;
    }

    std::vector<LeadResult> results;
    results.reserve(leads.size());
    std::vector<bool> seen(unique_ids.size(), false);
    for (size_t i = 0; i < leads.size(); ++i) {
      const size_t u = index_of.at(leads[i]->event_id());
      results.push_back(LeadResult{decided[u], was_stored[u] || seen[u]});
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
    for (size_t i = 0; i < queue->first.size(); ++i) {
      const std::string& event_id = queue->first[i];
      auto outcome = std::make_shared<v1::EventOutcome>();
      if (!snapshot->records[i].has_value() || !outcome->ParseFromString(*snapshot->records[i]) ||
          !outcome->has_assignment() ||
          outcome->assignment().status() != v1::ASSIGNMENT_STATUS_UNASSIGNED) {
        commit.queue_remove.push_back(event_id);  // expired or already resolved
        continue;
      }
      v1::AssignmentEvent* a = outcome->mutable_assignment();
      const routing::RoutingState before = state;
      const routing::RoutingDecision route = config_->engine->Route(
          LeadFactsFor(a->lead(), a->qualification().segments()), clock_.Now(), state);
      if (!route.rep_id) continue;  // still nobody: stays queued, state untouched for it
      ApplyRoute(route, before, state, *a);
      commit.replaced_records.emplace_back(event_id, outcome->SerializeAsString());
      commit.queue_remove.push_back(event_id);
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
