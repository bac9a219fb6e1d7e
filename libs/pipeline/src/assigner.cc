#include "leadrouter/pipeline/assigner.h"

#include <google/protobuf/util/time_util.h>

#include <unordered_map>

#include "absl/strings/str_cat.h"
#include "leadrouter/core/hash.h"

namespace leadrouter::pipeline {
namespace {

constexpr int kMaxCommitAttempts = 32;

std::vector<std::string> RepIds(const config::Config& config) {
  std::vector<std::string> ids;
  for (const auto& rep : config.reps) ids.push_back(rep.id);
  return ids;
}

routing::RoutingInput RoutingInputFor(const v1::LeadEvent& lead) {
  return routing::RoutingInput{lead.source_kind() == v1::LEAD_SOURCE_KIND_REP_SOURCED,
                               lead.sourced_by_rep_id()};
}

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

Assigner::Assigner(store::AssignmentStore& store, std::shared_ptr<const config::Config> config,
                   const core::Clock& clock)
    : store_(store), config_(std::move(config)), clock_(clock), router_(RepIds(*config_)) {}

std::string Assigner::LeadIdFor(const std::string& tenant, const std::string& event_id) {
  return "ld_" + core::Sha256Hex(absl::StrCat("lead\n", tenant, "\n", event_id), 24);
}

std::string Assigner::AssignmentIdFor(const std::string& tenant, const std::string& event_id) {
  return "as_" + core::Sha256Hex(absl::StrCat("assignment\n", tenant, "\n", event_id), 24);
}

v1::EventOutcome Assigner::Decide(const v1::LeadEvent& lead, int64_t& slot) const {
  using google::protobuf::util::TimeUtil;
  const config::Config& config = *config_;
  const auto now = TimeUtil::NanosecondsToTimestamp(
      std::chrono::duration_cast<std::chrono::nanoseconds>(clock_.Now().time_since_epoch())
          .count());
  const qualify::Decision decision = config.qualifier->Evaluate(lead);
  const std::string lead_id = LeadIdFor(config.redis.tenant, lead.event_id());
  v1::EventOutcome outcome;

  if (decision.outcome != qualify::Outcome::kQualified) {
    v1::NurtureEvent* nurture = outcome.mutable_nurture();
    nurture->set_event_id(lead.event_id());
    nurture->set_lead_id(lead_id);
    *nurture->mutable_qualification() = ToProto(decision);
    nurture->set_config_version(config.version);
    *nurture->mutable_decided_at() = now;
    *nurture->mutable_lead() = lead;
    return outcome;
  }

  const routing::Route route = router_.Decide(RoutingInputFor(lead), slot);
  if (route.took_rotation_slot) ++slot;
  v1::AssignmentEvent* a = outcome.mutable_assignment();
  a->set_assignment_id(AssignmentIdFor(config.redis.tenant, lead.event_id()));
  a->set_lead_id(lead_id);
  a->set_event_id(lead.event_id());
  a->set_rep_id(route.rep_id);
  a->set_pool(config.pool);
  a->set_status(v1::ASSIGNMENT_STATUS_ASSIGNED);
  a->set_reason(route.reason);
  a->set_config_version(config.version);
  *a->mutable_lead_occurred_at() = lead.occurred_at();
  *a->mutable_assigned_at() = now;
  auto* qualify_step = a->add_trace();
  qualify_step->set_stage("qualify");
  qualify_step->set_decision("qualified");
  qualify_step->set_reason(decision.reasons.empty() ? "" : decision.reasons.front());
  auto* route_step = a->add_trace();
  route_step->set_stage("route");
  route_step->set_decision(route.rep_id);
  route_step->set_reason(route.reason);
  *a->mutable_qualification() = ToProto(decision);
  *a->mutable_lead() = lead;
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

  for (int attempt = 0; attempt < kMaxCommitAttempts; ++attempt) {
    auto snapshot = store_.Load(config_->pool, unique_ids);
    if (!snapshot.ok()) return snapshot.status();

    std::vector<std::shared_ptr<const v1::EventOutcome>> decided(unique_ids.size());
    std::vector<bool> was_stored(unique_ids.size(), false);
    std::vector<std::pair<std::string, std::string>> records;
    int64_t slot = snapshot->cursor;
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
          std::make_shared<v1::EventOutcome>(Decide(*leads[first_lead_of_unique[u]], slot));
      records.emplace_back(unique_ids[u], outcome->SerializeAsString());
      decided[u] = std::move(outcome);
    }

    if (!records.empty()) {
      auto committed = store_.Commit(config_->pool, snapshot->cursor, slot, records,
                                     config_->redis.idempotency_ttl);
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
  return absl::AbortedError(absl::StrCat("rotation of pool \"", config_->pool,
                                         "\" still contended after ", kMaxCommitAttempts,
                                         " attempts"));
}

}  // namespace leadrouter::pipeline
