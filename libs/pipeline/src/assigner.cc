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

}  // namespace

Assigner::Assigner(store::AssignmentStore& store, const config::Config& config,
                   const core::Clock& clock)
    : store_(store), config_(config), clock_(clock), router_(RepIds(config)) {}

std::string Assigner::LeadIdFor(const std::string& tenant, const std::string& event_id) {
  return "ld_" + core::Sha256Hex(absl::StrCat("lead\n", tenant, "\n", event_id), 24);
}

std::string Assigner::AssignmentIdFor(const std::string& tenant, const std::string& event_id) {
  return "as_" + core::Sha256Hex(absl::StrCat("assignment\n", tenant, "\n", event_id), 24);
}

v1::AssignmentEvent Assigner::BuildAssignment(const v1::LeadEvent& lead,
                                              const routing::Route& route) const {
  using google::protobuf::util::TimeUtil;
  v1::AssignmentEvent a;
  a.set_assignment_id(AssignmentIdFor(config_.redis.tenant, lead.event_id()));
  a.set_lead_id(LeadIdFor(config_.redis.tenant, lead.event_id()));
  a.set_event_id(lead.event_id());
  a.set_rep_id(route.rep_id);
  a.set_pool(config_.pool);
  a.set_status(v1::ASSIGNMENT_STATUS_ASSIGNED);
  a.set_reason(route.reason);
  a.set_config_version(config_.version);
  *a.mutable_lead_occurred_at() = lead.occurred_at();
  const auto now =
      std::chrono::duration_cast<std::chrono::nanoseconds>(clock_.Now().time_since_epoch());
  *a.mutable_assigned_at() = TimeUtil::NanosecondsToTimestamp(now.count());
  auto* validate = a.add_trace();
  validate->set_stage("validate");
  validate->set_decision("valid");
  validate->set_reason("required fields present and in range");
  auto* route_step = a.add_trace();
  route_step->set_stage("route");
  route_step->set_decision(route.rep_id);
  route_step->set_reason(route.reason);
  *a.mutable_lead() = lead;
  return a;
}

absl::StatusOr<std::vector<AssignmentOutcome>> Assigner::AssignBatch(
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
    auto snapshot = store_.Load(config_.pool, unique_ids);
    if (!snapshot.ok()) return snapshot.status();

    std::vector<api::SharedAssignment> decided(unique_ids.size());
    std::vector<bool> was_stored(unique_ids.size(), false);
    std::vector<std::pair<std::string, std::string>> records;
    int64_t slot = snapshot->cursor;
    for (size_t u = 0; u < unique_ids.size(); ++u) {
      const std::optional<std::string>& stored = snapshot->records[u];
      if (stored.has_value()) {
        auto existing = std::make_shared<v1::AssignmentEvent>();
        if (!existing->ParseFromString(*stored)) {
          return absl::DataLossError(
              absl::StrCat("stored assignment of event \"", unique_ids[u], "\" does not parse"));
        }
        decided[u] = std::move(existing);
        was_stored[u] = true;
        continue;
      }
      const v1::LeadEvent& lead = *leads[first_lead_of_unique[u]];
      const routing::Route route = router_.Decide(RoutingInputFor(lead), slot);
      if (route.took_rotation_slot) ++slot;
      auto assignment = std::make_shared<v1::AssignmentEvent>(BuildAssignment(lead, route));
      records.emplace_back(unique_ids[u], assignment->SerializeAsString());
      decided[u] = std::move(assignment);
    }

    if (!records.empty()) {
      auto committed = store_.Commit(config_.pool, snapshot->cursor, slot, records,
                                     config_.redis.idempotency_ttl);
      if (!committed.ok()) return committed.status();
      if (*committed != store::AssignmentStore::CommitResult::kCommitted) continue;
    }

    std::vector<AssignmentOutcome> outcomes;
    outcomes.reserve(leads.size());
    std::vector<bool> seen(unique_ids.size(), false);
    for (size_t i = 0; i < leads.size(); ++i) {
      const size_t u = index_of.at(leads[i]->event_id());
      outcomes.push_back(AssignmentOutcome{decided[u], was_stored[u] || seen[u]});
      seen[u] = true;
    }
    return outcomes;
  }
  return absl::AbortedError(absl::StrCat("rotation of pool \"", config_.pool,
                                         "\" still contended after ", kMaxCommitAttempts,
                                         " attempts"));
}

}  // namespace leadrouter::pipeline
