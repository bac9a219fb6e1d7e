#include "leadrouter/pipeline/assigner.h"

#include <chrono>
#include <set>
#include <thread>
#include <unordered_map>

#include "absl/strings/str_cat.h"
#include "leadrouter/core/backoff.h"

namespace leadrouter::pipeline {
namespace {

// Optimistic concurrency: another instance committing between our load and commit makes us
// decide again. Jittered backoff between attempts keeps racing instances from retrying in
// lockstep; the budget only ends a pathological race (the pipeline then retries the batch).
constexpr int kMaxCommitAttempts = 64;
constexpr int kMaxRetryCommitAttempts = 8;
constexpr auto kContentionBackoffStart = std::chrono::milliseconds(1);
constexpr auto kContentionBackoffMax = std::chrono::milliseconds(50);

// The name of an event's record in errors: `event "e1"`.
std::string EventNamed(const std::string& event_id) {
  return absl::StrCat("event \"", event_id, "\"");
}

std::string KeyName(const store::KeySchema& keys, decide::Writes::Key::Kind kind,
                    const std::string& hmac) {
  switch (kind) {
    case decide::Writes::Key::Kind::kPerson:
      return keys.Person(hmac);
    case decide::Writes::Key::Kind::kAccount:
      return keys.Account(hmac);
  }
  return keys.Person(hmac);
}

// Stored records as the decision core takes them: null where there is none, DataLoss where one
// does not parse.
absl::StatusOr<std::vector<std::shared_ptr<const v1::EventOutcome>>> ParseRecords(
    const std::vector<std::string>& event_ids,
    const std::vector<std::optional<std::string>>& bytes) {
  std::vector<std::shared_ptr<const v1::EventOutcome>> records(event_ids.size());
  for (size_t i = 0; i < event_ids.size() && i < bytes.size(); ++i) {
    if (!bytes[i].has_value()) continue;
    auto record = ParseStoredOutcome(EventNamed(event_ids[i]), *bytes[i]);
    if (!record.ok()) return record.status();
    records[i] = *std::move(record);
  }
  return records;
}

std::vector<std::string> KeyNames(const store::KeySchema& keys,
                                  const std::vector<decide::KeyRef>& refs) {
  std::vector<std::string> names;
  names.reserve(refs.size());
  for (const decide::KeyRef& ref : refs) names.push_back(KeyName(keys, ref.kind, ref.hmac));
  return names;
}

// Guards (store::AssignmentStore::CommitRequest::Guards) on exactly what a batch's decision
// read: the scopes of the pools and reps it routed over and of every counter it writes (their
// versions as loaded), the dedupe keys (their values as loaded) and the earlier records the
// person keys pointed at (their stamps). Another instance's commit refuses this one only when it
// wrote one of those.
store::AssignmentStore::CommitRequest::Guards BatchGuards(
    const decide::StateReads& reads, const std::map<std::string, int64_t>& scope_versions,
    const store::AssignmentStore::CommitRequest& commit, const std::vector<std::string>& key_names,
    const std::vector<std::optional<std::string>>& key_values,
    const std::vector<std::string>& earlier_ids,
    const std::vector<std::optional<std::string>>& earlier_stamps, int64_t unscoped_commits) {
  std::set<std::string> scopes;
  for (const std::string& pool : reads.pools) scopes.insert(decide::PoolScope(pool));
  for (const std::string& rep : reads.reps) scopes.insert(decide::RepScope(rep));
  for (std::string& scope : store::AssignmentStore::WrittenScopes(commit)) {
    scopes.insert(std::move(scope));
  }
  store::AssignmentStore::CommitRequest::Guards guards;
  guards.unscoped_commits = unscoped_commits;
  guards.scopes.reserve(scopes.size());
  for (const std::string& scope : scopes) {
    const auto version = scope_versions.find(scope);
    guards.scopes.emplace_back(scope, version == scope_versions.end() ? 0 : version->second);
  }
  guards.values.reserve(key_names.size());
  for (size_t k = 0; k < key_names.size() && k < key_values.size(); ++k) {
    guards.values.emplace_back(key_names[k], key_values[k]);
  }
  for (size_t i = 0; i < earlier_ids.size() && i < earlier_stamps.size(); ++i) {
    guards.records.emplace_back(earlier_ids[i], earlier_stamps[i]);
  }
  return guards;
}

}  // namespace

store::AssignmentStore::CommitRequest ToCommitRequest(
    const decide::Writes& writes, const store::KeySchema& keys,
    const std::map<std::string, std::string>& loaded_state, const config::Config& config,
    int64_t expected_version) {
  store::AssignmentStore::CommitRequest commit;
  commit.expected_version = expected_version;
  commit.ttl = config.redis.idempotency_ttl;
  commit.log_max_events = config.lifecycle.stream_retention_events;
  // A logged transition that is the assignment of a record written with it is serialized once,
  // as the record (the store keeps it once for both).
  std::unordered_map<const v1::AssignmentEvent*, size_t> record_of_assignment;
  for (const auto* records : {&writes.new_records, &writes.replaced_records}) {
    for (const auto& [event_id, record] : *records) {
      if (record->has_assignment()) {
        record_of_assignment.emplace(&record->assignment(),
                                     commit.new_records.size() + commit.replaced_records.size());
      }
      (records == &writes.new_records ? commit.new_records : commit.replaced_records)
          .emplace_back(event_id, record->SerializeAsString());
    }
  }
  if (writes.state) commit.state_updates = ChangedFields(loaded_state, *writes.state);
  commit.queue_add = writes.queue_add;
  commit.queue_remove = writes.queue_remove;
  commit.lead_index = writes.lead_index;
  for (const decide::Writes::Key& key : writes.keys) {
    commit.expiring_values.push_back({KeyName(keys, key.kind, key.hmac), key.value, key.ttl});
  }
  commit.sla_add = writes.sla_add;
  commit.sla_remove = writes.sla_remove;
  // The store appends log_events before log_records, so only the events after the last one that
  // is no record's assignment go by reference: the log keeps its order.
  size_t by_reference = writes.log.size();
  while (by_reference > 0 && record_of_assignment.contains(writes.log[by_reference - 1].get())) {
    --by_reference;
  }
  for (size_t i = 0; i < writes.log.size(); ++i) {
    if (i < by_reference) {
      commit.log_events.push_back(writes.log[i]->SerializeAsString());
    } else {
      commit.log_records.push_back(record_of_assignment.at(writes.log[i].get()));
    }
  }
  return commit;
}

Assigner::Assigner(store::AssignmentStore& store, std::shared_ptr<const config::Config> config,
                   const core::Clock& clock)
    : store_(store),
      config_(std::move(config)),
      clock_(clock),
      key_maker_(decide::KeyMakerFor(*config_)) {}

std::string Assigner::LeadIdFor(const std::string& tenant, const std::string& event_id) {
  return decide::LeadIdFor(tenant, event_id);
}

std::string Assigner::AssignmentIdFor(const std::string& tenant, const std::string& event_id) {
  return decide::AssignmentIdFor(tenant, event_id);
}

absl::StatusOr<std::vector<LeadResult>> Assigner::DecideBatch(
    const std::vector<const v1::LeadEvent*>& leads) {
  timings_ = {};
  using SteadyClock = std::chrono::steady_clock;
  auto since = [](SteadyClock::time_point start) {
    return std::chrono::duration<double>(SteadyClock::now() - start).count();
  };
  auto started = SteadyClock::now();
  // Who each lead is, and the dedupe keys to read with the routing state (computed once).
  decide::BatchPlan plan = decide::PlanBatch(leads, key_maker_.get());
  const std::vector<std::string> key_names = KeyNames(store_.keys(), plan.keys);
  timings_.dedupe += since(started);
  // Before the load: the time between load and commit is when another instance's commit can
  // refuse this one, so it holds only what depends on the shared state.
  timings_.qualify += decide::QualifyPlan(*config_, plan);

  core::Backoff backoff(kContentionBackoffStart, kContentionBackoffMax,
                        reinterpret_cast<uintptr_t>(this));
  for (int attempt = 0; attempt < kMaxCommitAttempts; ++attempt) {
    if (attempt > 0) std::this_thread::sleep_for(backoff.Next());
    started = SteadyClock::now();
    auto loaded = store_.Load(plan.event_ids, key_names);
    timings_.redis_load += since(started);
    if (!loaded.ok()) return loaded.status();

    decide::BatchSnapshot snapshot;
    auto state = StateFromFields(loaded->state);
    if (!state.ok()) return state.status();
    snapshot.state = *std::move(state);
    auto records = ParseRecords(plan.event_ids, loaded->records);
    if (!records.ok()) return records.status();
    snapshot.records = *std::move(records);
    snapshot.key_values = std::move(loaded->values);

    // Dedupe: the stored leads person keys point at outside the batch (a second round trip,
    // only when some person was seen before).
    started = SteadyClock::now();
    const std::vector<std::string> earlier_ids = decide::EarlierEventIds(plan, snapshot.key_values);
    std::vector<std::optional<std::string>> earlier_stamps;
    if (!earlier_ids.empty()) {
      auto stored = store_.LoadStampedRecords(earlier_ids);
      if (!stored.ok()) return stored.status();
      earlier_stamps = std::move(stored->stamps);
      auto earlier = ParseRecords(earlier_ids, stored->records);
      if (!earlier.ok()) return earlier.status();
      for (size_t i = 0; i < earlier_ids.size(); ++i) {
        if ((*earlier)[i]) snapshot.earlier.emplace(earlier_ids[i], std::move((*earlier)[i]));
      }
    }
    timings_.dedupe += since(started);

    started = SteadyClock::now();
    decide::BatchDecision decision =
        decide::DecideBatch(*config_, key_maker_.get(), plan, snapshot, clock_.Now());
    if (decision.writes.empty()) {
      timings_.route += since(started) - decision.qualify_seconds;
      timings_.qualify += decision.qualify_seconds;
      return std::move(decision.results);
    }
    store::AssignmentStore::CommitRequest commit =
        ToCommitRequest(decision.writes, store_.keys(), loaded->state, *config_, loaded->version);
    commit.guards =
        BatchGuards(decision.reads, loaded->scope_versions, commit, key_names, snapshot.key_values,
                    earlier_ids, earlier_stamps, loaded->unscoped_commits);
    timings_.route += since(started) - decision.qualify_seconds;
    timings_.qualify += decision.qualify_seconds;
    started = SteadyClock::now();
    auto committed = store_.Commit(commit);
    timings_.redis_commit += since(started);
    if (!committed.ok()) return committed.status();
    if (*committed == store::AssignmentStore::CommitResult::kCommitted) {
      return std::move(decision.results);
    }
    ++timings_.commit_conflicts;
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
    const std::vector<std::string>& queued = queue->first;
    if (queued.empty()) return result;

    auto loaded = store_.Load(queued);
    if (!loaded.ok()) return loaded.status();
    auto state = StateFromFields(loaded->state);
    if (!state.ok()) return state.status();
    // A record that does not parse leaves the queue like an expired one: it can never route.
    std::vector<std::shared_ptr<const v1::EventOutcome>> records(queued.size());
    for (size_t i = 0; i < queued.size(); ++i) {
      if (!loaded->records[i].has_value()) continue;
      auto record = ParseStoredOutcome(EventNamed(queued[i]), *loaded->records[i]);
      if (record.ok()) records[i] = *std::move(record);
    }
    // Account owners of the queued leads: an owner who became available takes the lead.
    const decide::RetryPlan plan = decide::PlanRetry(records, key_maker_.get());
    auto values = store_.LoadValues(KeyNames(store_.keys(), plan.keys));
    if (!values.ok()) return values.status();
    decide::RetryDecision decision =
        decide::DecideRetry(*config_, key_maker_.get(), queued, records, plan, *values,
                            *std::move(state), clock_.Now());
    if (decision.writes.replaced_records.empty() && decision.writes.queue_remove.empty()) {
      return result;
    }
    const store::AssignmentStore::CommitRequest commit =
        ToCommitRequest(decision.writes, store_.keys(), loaded->state, *config_, loaded->version);
    auto committed = store_.Commit(commit);
    if (!committed.ok()) return committed.status();
    if (*committed == store::AssignmentStore::CommitResult::kCommitted) {
      result.queue_depth -= static_cast<int64_t>(commit.queue_remove.size());
      result.assigned = std::move(decision.assigned);
      return result;
    }
  }
  return absl::AbortedError("unassigned queue still contended");
}

}  // namespace leadrouter::pipeline
