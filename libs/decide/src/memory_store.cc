#include "leadrouter/decide/memory_store.h"

#include "absl/strings/str_cat.h"
#include "leadrouter/decide/outcome.h"

namespace leadrouter::decide {

MemoryStore::MemoryStore(std::chrono::seconds record_ttl) : record_ttl_(record_ttl) {}

std::shared_ptr<const v1::EventOutcome> MemoryStore::Record(const core::EventId& event_id,
                                                            core::TimePoint now) const {
  auto it = records_.find(event_id.value());
  if (it == records_.end() || it->second.expires_at <= now) return nullptr;
  return it->second.value;
}

std::optional<std::string> MemoryStore::Key(Writes::Key::Kind kind, const std::string& hmac,
                                            core::TimePoint now) const {
  auto it = keys_.find({kind, hmac});
  if (it == keys_.end() || it->second.expires_at <= now) return std::nullopt;
  return it->second.value;
}

absl::StatusOr<dedupe::ClaimDecision> MemoryStore::RunClaim(const config::Config& config,
                                                            const dedupe::KeyMaker& key_maker,
                                                            const std::string& domain,
                                                            const core::RepId& claimant,
                                                            core::TimePoint now) {
  absl::StatusOr<std::string> account = ClaimDomain(domain, "domain");
  if (!account.ok()) return account.status();
  const std::string hmac = key_maker.Hmac(dedupe::MatchKey::Field::kDomain, *account);
  const std::vector<dedupe::Share> owners =
      dedupe::ParseOwners(Key(Writes::Key::Kind::kAccount, hmac, now).value_or(""));
  AccountClaim claim = DecideAccountClaim(config.claims, hmac, owners, claimant);
  Apply(claim.writes, now);
  return claim.decision;
}

std::optional<core::EventId> MemoryStore::EventIdOfLead(const core::LeadId& lead_id,
                                                        core::TimePoint now) const {
  auto it = lead_index_.find(lead_id.value());
  if (it == lead_index_.end() || it->second.expires_at <= now) return std::nullopt;
  return core::EventId(it->second.value);
}

std::vector<core::LeadId> MemoryStore::DueSla(core::TimePoint now, size_t limit) const {
  std::vector<core::LeadId> due;
  const int64_t now_s = EpochSeconds(now);
  for (const auto& [deadline, lead_id] : sla_) {
    if (deadline > now_s || due.size() >= limit) break;
    due.emplace_back(lead_id);
  }
  return due;
}

std::vector<std::string> MemoryStore::Queue(size_t limit) const {
  std::vector<std::string> ids;
  for (const auto& [at, event_id] : queue_) {
    if (ids.size() >= limit) break;
    ids.push_back(event_id);
  }
  return ids;
}

bool MemoryStore::Apply(const Writes& writes, core::TimePoint now) {
  for (const auto& [event_id, record] : writes.new_records) {
    if (Record(core::EventId(event_id), now) != nullptr) return false;
  }
  const core::TimePoint record_expiry = now + record_ttl_;
  for (const auto* records : {&writes.new_records, &writes.replaced_records}) {
    for (const auto& [event_id, record] : *records) records_[event_id] = {record, record_expiry};
  }
  if (writes.state) state_ = *writes.state;
  for (const auto& [event_id, at] : writes.queue_add) {
    if (auto it = queued_at_.find(event_id); it != queued_at_.end()) {
      queue_.erase({it->second, event_id});
    }
    queued_at_[event_id] = at;
    queue_.insert({at, event_id});
  }
  for (const std::string& event_id : writes.queue_remove) {
    if (auto it = queued_at_.find(event_id); it != queued_at_.end()) {
      queue_.erase({it->second, event_id});
      queued_at_.erase(it);
    }
  }
  for (const auto& [lead_id, event_id] : writes.lead_index) {
    lead_index_[lead_id] = {event_id, record_expiry};
  }
  for (const Writes::Key& key : writes.keys) {
    const auto id = std::make_pair(key.kind, key.hmac);
    auto it = keys_.find(id);
    const bool alive = it != keys_.end() && it->second.expires_at > now;
    // As the script: an unchanged value keeps a longer remaining expiry (whole seconds, as TTL).
    if (alive && it->second.value == key.value &&
        std::chrono::duration_cast<std::chrono::seconds>(it->second.expires_at - now) >= key.ttl) {
      continue;
    }
    keys_[id] = {key.value, now + key.ttl};
  }
  for (const std::string& lead_id : writes.sla_remove) {
    if (auto it = deadline_of_.find(lead_id); it != deadline_of_.end()) {
      sla_.erase({it->second, lead_id});
      deadline_of_.erase(it);
    }
  }
  for (const auto& [lead_id, deadline] : writes.sla_add) {
    if (auto it = deadline_of_.find(lead_id); it != deadline_of_.end()) {
      sla_.erase({it->second, lead_id});
    }
    deadline_of_[lead_id] = deadline;
    sla_.insert({deadline, lead_id});
  }
  log_.insert(log_.end(), writes.log.begin(), writes.log.end());
  return true;
}

BatchDecision MemoryStore::RunBatch(const config::Config& config, const dedupe::KeyMaker* key_maker,
                                    const std::vector<const v1::LeadEvent*>& leads,
                                    core::TimePoint now) {
  const BatchPlan plan = PlanBatch(leads, key_maker);
  BatchSnapshot snapshot;
  snapshot.state = state_;
  for (const std::string& event_id : plan.event_ids) {
    snapshot.records.push_back(Record(core::EventId(event_id), now));
  }
  for (const KeyRef& key : plan.keys) snapshot.key_values.push_back(Key(key.kind, key.hmac, now));
  for (const std::string& event_id : EarlierEventIds(plan, snapshot.key_values)) {
    if (auto record = Record(core::EventId(event_id), now)) {
      snapshot.earlier.emplace(event_id, std::move(record));
    }
  }
  BatchDecision decision = DecideBatch(config, key_maker, plan, snapshot, now);
  // Nothing else writes between the read and this write: it cannot be refused.
  Apply(decision.writes, now);
  return decision;
}

RetryDecision MemoryStore::RunRetry(const config::Config& config, const dedupe::KeyMaker* key_maker,
                                    size_t limit, core::TimePoint now) {
  const std::vector<std::string> queued = Queue(limit);
  std::vector<std::shared_ptr<const v1::EventOutcome>> records;
  for (const std::string& event_id : queued)
    records.push_back(Record(core::EventId(event_id), now));
  std::vector<std::optional<std::string>> values;
  const RetryPlan plan = PlanRetry(records, key_maker);
  for (const KeyRef& key : plan.keys) values.push_back(Key(key.kind, key.hmac, now));
  RetryDecision decision =
      DecideRetry(config, key_maker, queued, records, plan, values, state_, now);
  Apply(decision.writes, now);
  return decision;
}

absl::StatusOr<std::pair<core::EventId, std::shared_ptr<const v1::EventOutcome>>>
MemoryStore::LeadRecord(const core::LeadId& lead_id, core::TimePoint now) const {
  if (lead_id.empty()) return absl::InvalidArgumentError("lead_id: required");
  std::optional<core::EventId> event_id = EventIdOfLead(lead_id, now);
  std::shared_ptr<const v1::EventOutcome> record =
      event_id ? Record(*event_id, now) : std::shared_ptr<const v1::EventOutcome>();
  if (!record) {
    return absl::NotFoundError(
        absl::StrCat("lead \"", lead_id.value(), "\" is unknown (or expired)"));
  }
  return std::make_pair(*event_id, std::move(record));
}

absl::StatusOr<LeadUpdate> MemoryStore::ApplyChange(absl::StatusOr<LeadChange> change,
                                                    core::TimePoint now) {
  if (!change.ok()) return change.status();
  Apply(change->writes, now);
  return std::move(change->update);
}

absl::StatusOr<LeadUpdate> MemoryStore::RunAccept(const config::Config& config,
                                                  const core::LeadId& lead_id,
                                                  const core::RepId& rep_id,
                                                  const std::string& actor, core::TimePoint now) {
  auto found = LeadRecord(lead_id, now);
  if (!found.ok()) return found.status();
  return ApplyChange(DecideAccept(config, found->first, *found->second, rep_id, actor, state_, now),
                     now);
}

absl::StatusOr<LeadUpdate> MemoryStore::RunReturn(const config::Config& config,
                                                  const core::LeadId& lead_id,
                                                  const core::RepId& rep_id,
                                                  v1::ReturnReason reason, const std::string& note,
                                                  const std::string& actor, core::TimePoint now) {
  auto found = LeadRecord(lead_id, now);
  if (!found.ok()) return found.status();
  return ApplyChange(
      DecideReturn(config, found->first, *found->second, rep_id, reason, note, actor, state_, now),
      now);
}

absl::StatusOr<LeadUpdate> MemoryStore::RunConvert(const config::Config& config,
                                                   const core::LeadId& lead_id,
                                                   const core::RepId& rep_id, double value,
                                                   const std::string& note,
                                                   const std::string& actor, core::TimePoint now) {
  auto found = LeadRecord(lead_id, now);
  if (!found.ok()) return found.status();
  return ApplyChange(
      DecideConvert(config, found->first, *found->second, rep_id, value, note, actor, state_, now),
      now);
}

LeadUpdate MemoryStore::RunExpireDue(const config::Config& config, core::TimePoint now,
                                     size_t limit) {
  LeadUpdate all;
  for (const core::LeadId& lead_id : DueSla(now, limit)) {
    auto found = LeadRecord(lead_id, now);
    if (!found.ok()) {
      // The lead's record is gone (its TTL passed): drop the deadline so it is not retried.
      Writes drop;
      drop.sla_remove.push_back(lead_id.value());
      Apply(drop, now);
      continue;
    }
    auto expired =
        ApplyChange(DecideExpire(config, lead_id, found->first, *found->second, state_, now), now);
    if (!expired.ok()) continue;  // DecideExpire only fails on what RunExpireDue excluded
    for (auto& event : expired->events) all.events.push_back(std::move(event));
    for (auto& nurture : expired->recycled) all.recycled.push_back(std::move(nurture));
  }
  return all;
}

}  // namespace leadrouter::decide
