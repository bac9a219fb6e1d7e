#include "leadrouter/testing/fake_assignment_store.h"

#include <algorithm>
#include <charconv>
#include <set>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "leadrouter/store/record_codec.h"

namespace leadrouter::testing {
namespace {

constexpr char kVersionField[] = "version";
constexpr std::string_view kScopeVersionPrefix = "v:";

absl::StatusOr<int64_t> ParseInt(std::string_view text) {
  int64_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) {
    return absl::InvalidArgumentError(absl::StrCat("not an integer: ", std::string(text)));
  }
  return value;
}

}  // namespace

FakeAssignmentStore::FakeAssignmentStore(const core::Clock& clock, std::string tenant)
    : store::AssignmentStore(store::KeySchema(std::move(tenant))), clock_(clock) {}

void FakeAssignmentStore::FailNext(Call call, absl::Status status, int times) {
  std::lock_guard lock(mu_);
  for (int i = 0; i < times; ++i) failures_[call].push_back(status);
}

void FakeAssignmentStore::BumpVersion() {
  std::lock_guard lock(mu_);
  hashes_[keys().RoutingState()][kVersionField] = std::to_string(VersionLocked() + 1);
}

int FakeAssignmentStore::commit_calls() const {
  std::lock_guard lock(mu_);
  return commit_calls_;
}

int FakeAssignmentStore::committed() const {
  std::lock_guard lock(mu_);
  return committed_;
}

std::optional<std::string> FakeAssignmentStore::Record(const std::string& event_id) const {
  return Value(keys().EventRecord(event_id));
}

std::optional<std::string> FakeAssignmentStore::Value(const std::string& key) const {
  std::lock_guard lock(mu_);
  const StringValue* found = FindLocked(key);
  if (found == nullptr) return std::nullopt;
  return found->value;
}

std::optional<std::chrono::seconds> FakeAssignmentStore::Ttl(const std::string& key) const {
  std::lock_guard lock(mu_);
  const StringValue* found = FindLocked(key);
  if (found == nullptr) {
    auto hash = hashes_.find(key);
    if (hash != hashes_.end() && !hash->second.empty()) return std::chrono::seconds(-1);
    return std::nullopt;
  }
  if (!found->expires.has_value()) return std::chrono::seconds(-1);
  return std::chrono::ceil<std::chrono::seconds>(*found->expires - clock_.Now());
}

bool FakeAssignmentStore::Exists(const std::string& key) const {
  std::lock_guard lock(mu_);
  if (FindLocked(key) != nullptr) return true;
  auto hash = hashes_.find(key);
  return hash != hashes_.end() && !hash->second.empty();
}

std::vector<store::AssignmentStore::LogEntry> FakeAssignmentStore::Log() const {
  std::lock_guard lock(mu_);
  std::vector<LogEntry> entries;
  for (const auto& [id, bytes] : log_) entries.push_back({Format(id), bytes});
  return entries;
}

std::map<std::string, std::string> FakeAssignmentStore::RoutingHash() const {
  std::lock_guard lock(mu_);
  auto it = hashes_.find(keys().RoutingState());
  return it == hashes_.end() ? std::map<std::string, std::string>{} : it->second;
}

absl::Status FakeAssignmentStore::TakeFailureLocked(Call call) {
  auto it = failures_.find(call);
  if (it == failures_.end() || it->second.empty()) {
    healthy_ = true;
    return absl::OkStatus();
  }
  absl::Status failure = it->second.front();
  it->second.pop_front();
  healthy_ = false;
  return failure;
}

const FakeAssignmentStore::StringValue* FakeAssignmentStore::FindLocked(
    const std::string& key) const {
  auto it = strings_.find(key);
  if (it == strings_.end()) return nullptr;
  if (it->second.expires.has_value() && *it->second.expires <= clock_.Now()) return nullptr;
  return &it->second;
}

void FakeAssignmentStore::SetLocked(const std::string& key, std::string value,
                                    std::chrono::seconds ttl) {
  strings_[key] = {std::move(value), clock_.Now() + ttl};
}

bool FakeAssignmentStore::GuardsHoldLocked(const CommitRequest::Guards& guards) const {
  const auto hash = hashes_.find(keys().RoutingState());
  int64_t scoped = 0;
  if (hash != hashes_.end()) {
    if (auto field = hash->second.find(store::ScopeVersionField("")); field != hash->second.end()) {
      scoped = ParseInt(field->second).value_or(-1);
    }
  }
  if (VersionLocked() - scoped != guards.unscoped_commits) return false;
  for (const auto& [scope, expected] : guards.scopes) {
    int64_t version = 0;
    if (hash != hashes_.end()) {
      if (auto field = hash->second.find(store::ScopeVersionField(scope));
          field != hash->second.end()) {
        version = ParseInt(field->second).value_or(-1);
      }
    }
    if (version != expected) return false;
  }
  for (const auto& [key, expected] : guards.values) {
    const StringValue* value = FindLocked(key);
    if (expected ? value == nullptr || value->value != *expected : value != nullptr) return false;
  }
  for (const auto& [event_id, expected] : guards.records) {
    const StringValue* record = FindLocked(keys().EventRecord(event_id));
    if (expected ? record == nullptr || store::RecordStamp(record->value) != *expected
                 : record != nullptr) {
      return false;
    }
  }
  return true;
}

int64_t FakeAssignmentStore::VersionLocked() const {
  auto hash = hashes_.find(keys().RoutingState());
  if (hash == hashes_.end()) return 0;
  auto field = hash->second.find(kVersionField);
  if (field == hash->second.end()) return 0;
  absl::StatusOr<int64_t> version = ParseInt(field->second);
  return version.ok() ? *version : -1;
}

FakeAssignmentStore::StreamId FakeAssignmentStore::NextLogIdLocked() {
  const int64_t ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(clock_.Now().time_since_epoch())
          .count();
  last_log_id_ =
      ms > last_log_id_.ms ? StreamId{ms, 0} : StreamId{last_log_id_.ms, last_log_id_.seq + 1};
  return last_log_id_;
}

std::vector<std::string> FakeAssignmentStore::ByScore(const SortedSet& set) {
  std::set<std::pair<int64_t, std::string>> ordered;
  for (const auto& [member, score] : set) ordered.emplace(score, member);
  std::vector<std::string> members;
  for (const auto& [score, member] : ordered) members.push_back(member);
  return members;
}

absl::StatusOr<FakeAssignmentStore::StreamId> FakeAssignmentStore::ParseStreamId(
    const std::string& id) {
  const size_t dash = id.find('-');
  absl::StatusOr<int64_t> ms = ParseInt(std::string_view(id).substr(0, dash));
  if (!ms.ok()) return absl::InvalidArgumentError(absl::StrCat("bad stream id \"", id, "\""));
  if (dash == std::string::npos) return StreamId{*ms, 0};
  absl::StatusOr<int64_t> seq = ParseInt(std::string_view(id).substr(dash + 1));
  if (!seq.ok()) return absl::InvalidArgumentError(absl::StrCat("bad stream id \"", id, "\""));
  return StreamId{*ms, *seq};
}

std::string FakeAssignmentStore::Format(const StreamId& id) {
  return absl::StrCat(id.ms, "-", id.seq);
}

absl::StatusOr<store::AssignmentStore::Snapshot> FakeAssignmentStore::Load(
    const std::vector<std::string>& event_ids, const std::vector<std::string>& value_keys) {
  std::lock_guard lock(mu_);
  if (absl::Status failure = TakeFailureLocked(Call::kLoad); !failure.ok()) return failure;
  Snapshot snapshot;
  if (auto hash = hashes_.find(keys().RoutingState()); hash != hashes_.end()) {
    for (const auto& [field, value] : hash->second) {
      if (field.starts_with(kScopeVersionPrefix)) {
        absl::StatusOr<int64_t> version = ParseInt(value);
        if (!version.ok()) {
          return absl::DataLossError(
              absl::StrCat(keys().RoutingState(), " holds a non-integer ", field));
        }
        snapshot.scope_versions[field.substr(kScopeVersionPrefix.size())] = *version;
      } else if (field != kVersionField) {
        snapshot.state.emplace(field, value);
      }
    }
  }
  snapshot.version = VersionLocked();
  if (snapshot.version < 0) {
    return absl::DataLossError(absl::StrCat(keys().RoutingState(), " holds a non-integer version"));
  }
  snapshot.unscoped_commits = snapshot.version - snapshot.scope_versions[""];
  snapshot.scope_versions.erase("");
  for (const std::string& event_id : event_ids) {
    const StringValue* record = FindLocked(keys().EventRecord(event_id));
    snapshot.records.push_back(record ? std::optional<std::string>(record->value) : std::nullopt);
  }
  for (const std::string& key : value_keys) {
    const StringValue* value = FindLocked(key);
    snapshot.values.push_back(value ? std::optional<std::string>(value->value) : std::nullopt);
  }
  return snapshot;
}

absl::StatusOr<store::AssignmentStore::StampedRecords> FakeAssignmentStore::LoadStampedRecords(
    const std::vector<std::string>& event_ids) {
  std::vector<std::string> record_keys;
  for (const std::string& event_id : event_ids) record_keys.push_back(keys().EventRecord(event_id));
  absl::StatusOr<std::vector<std::optional<std::string>>> records = LoadValues(record_keys);
  if (!records.ok()) return records.status();
  StampedRecords stamped;
  for (const std::optional<std::string>& record : *records) {
    stamped.stamps.push_back(record ? std::optional<std::string>(store::RecordStamp(*record))
                                    : std::nullopt);
  }
  stamped.records = *std::move(records);
  return stamped;
}

absl::StatusOr<std::vector<std::optional<std::string>>> FakeAssignmentStore::LoadValues(
    const std::vector<std::string>& keys) {
  std::lock_guard lock(mu_);
  if (absl::Status failure = TakeFailureLocked(Call::kLoad); !failure.ok()) return failure;
  std::vector<std::optional<std::string>> values;
  for (const std::string& key : keys) {
    const StringValue* value = FindLocked(key);
    values.push_back(value ? std::optional<std::string>(value->value) : std::nullopt);
  }
  return values;
}

absl::StatusOr<std::vector<std::optional<std::string>>> FakeAssignmentStore::LoadHashFields(
    const std::string& key, const std::vector<std::string>& fields) {
  std::lock_guard lock(mu_);
  if (absl::Status failure = TakeFailureLocked(Call::kLoad); !failure.ok()) return failure;
  std::vector<std::optional<std::string>> values;
  auto hash = hashes_.find(key);
  for (const std::string& field : fields) {
    std::optional<std::string> value;
    if (hash != hashes_.end()) {
      if (auto it = hash->second.find(field); it != hash->second.end()) value = it->second;
    }
    values.push_back(std::move(value));
  }
  return values;
}

absl::StatusOr<std::vector<std::pair<std::string, std::string>>> FakeAssignmentStore::LoadHash(
    const std::string& key) {
  std::lock_guard lock(mu_);
  if (absl::Status failure = TakeFailureLocked(Call::kLoad); !failure.ok()) return failure;
  std::vector<std::pair<std::string, std::string>> fields;
  if (auto hash = hashes_.find(key); hash != hashes_.end()) {
    fields.assign(hash->second.begin(), hash->second.end());
  }
  return fields;
}

absl::StatusOr<store::AssignmentStore::CommitResult> FakeAssignmentStore::Commit(
    const CommitRequest& r) {
  std::unique_lock lock(mu_);
  ++commit_calls_;
  if (absl::Status valid = CheckCommitRequest(r); !valid.ok()) return valid;
  if (absl::Status failure = TakeFailureLocked(Call::kCommit); !failure.ok()) return failure;

  if (!r.guards) {
    if (VersionLocked() != r.expected_version) return CommitResult::kVersionMoved;
  } else if (!GuardsHoldLocked(*r.guards)) {
    return CommitResult::kVersionMoved;
  }
  for (const auto& [event_id, bytes] : r.new_records) {
    if (FindLocked(keys().EventRecord(event_id)) != nullptr) return CommitResult::kRecordExists;
  }

  for (const auto* records : {&r.new_records, &r.replaced_records}) {
    for (const auto& [event_id, bytes] : *records) {
      SetLocked(keys().EventRecord(event_id), bytes, r.ttl);
    }
  }
  std::map<std::string, std::string>& routing = hashes_[keys().RoutingState()];
  for (const auto& [field, value] : r.state_updates) routing[field] = value;
  for (const std::string& field : r.state_deletes) routing.erase(field);
  for (const auto& [event_id, queued_at] : r.queue_add) queue_[event_id] = queued_at;
  for (const std::string& event_id : r.queue_remove) queue_.erase(event_id);
  for (const auto& [lead_id, event_id] : r.lead_index) {
    SetLocked(keys().LeadIndex(lead_id), event_id, r.ttl);
  }
  for (const auto& value : r.expiring_values) {
    const StringValue* current = FindLocked(value.key);
    const bool keeps_longer =
        current != nullptr && current->value == value.value &&
        (!current->expires.has_value() || *current->expires - clock_.Now() >= value.ttl);
    if (!keeps_longer) SetLocked(value.key, value.value, value.ttl);
  }
  for (const std::string& lead_id : r.sla_remove) sla_.erase(lead_id);
  for (const auto& [lead_id, deadline_s] : r.sla_add) sla_[lead_id] = deadline_s;
  for (const std::string& bytes : r.log_events) log_.emplace_back(NextLogIdLocked(), bytes);
  for (size_t record : r.log_records) {
    const std::string& outcome = record < r.new_records.size()
                                     ? r.new_records[record].second
                                     : r.replaced_records[record - r.new_records.size()].second;
    const std::optional<std::string_view> assignment = store::AssignmentOfOutcome(outcome);
    log_.emplace_back(NextLogIdLocked(), assignment ? std::string(*assignment) : outcome);
  }
  for (const CommitRequest::HashField& write : r.hash_sets)
    hashes_[write.key][write.field] = write.value;
  for (const CommitRequest::HashField& write : r.hash_deletes) {
    if (auto hash = hashes_.find(write.key); hash != hashes_.end()) hash->second.erase(write.field);
  }
  const bool wrote = !r.new_records.empty() || !r.replaced_records.empty() ||
                     !r.state_updates.empty() || !r.state_deletes.empty() || !r.queue_add.empty() ||
                     !r.queue_remove.empty() || !r.lead_index.empty() ||
                     !r.expiring_values.empty() || !r.sla_add.empty() || !r.sla_remove.empty() ||
                     !r.log_events.empty() || !r.log_records.empty() || !r.hash_sets.empty() ||
                     !r.hash_deletes.empty();
  if (wrote) {
    routing[kVersionField] = std::to_string(VersionLocked() + 1);
    std::vector<std::string> moved = WrittenScopes(r);
    moved.emplace_back();  // "v:": this store's commits (Snapshot::unscoped_commits)
    for (const std::string& scope : moved) {
      const std::string field = store::ScopeVersionField(scope);
      absl::StatusOr<int64_t> version = ParseInt(routing[field]);
      routing[field] = std::to_string(version.ok() ? *version + 1 : 1);
    }
    ++committed_;
  } else if (routing.empty()) {
    hashes_.erase(keys().RoutingState());
  }
  lock.unlock();
  if (!r.log_events.empty() || !r.log_records.empty()) appended_.notify_all();
  return CommitResult::kCommitted;
}

absl::StatusOr<std::vector<core::LeadId>> FakeAssignmentStore::DueSlaLeads(int64_t now_s,
                                                                           size_t limit) {
  std::lock_guard lock(mu_);
  if (absl::Status failure = TakeFailureLocked(Call::kQueue); !failure.ok()) return failure;
  std::vector<core::LeadId> due;
  for (const std::string& lead_id : ByScore(sla_)) {
    if (sla_.at(lead_id) > now_s || due.size() >= std::max<size_t>(limit, 1)) break;
    due.emplace_back(lead_id);
  }
  return due;
}

absl::StatusOr<int64_t> FakeAssignmentStore::SlaPendingCount() {
  std::lock_guard lock(mu_);
  if (absl::Status failure = TakeFailureLocked(Call::kQueue); !failure.ok()) return failure;
  return static_cast<int64_t>(sla_.size());
}

absl::StatusOr<std::optional<core::EventId>> FakeAssignmentStore::EventIdOfLead(
    const core::LeadId& lead_id) {
  std::lock_guard lock(mu_);
  if (absl::Status failure = TakeFailureLocked(Call::kLoad); !failure.ok()) return failure;
  const StringValue* indexed = FindLocked(keys().LeadIndex(lead_id.value()));
  if (indexed == nullptr) return std::optional<core::EventId>();
  return std::optional<core::EventId>(core::EventId(indexed->value));
}

absl::StatusOr<std::vector<store::AssignmentStore::LogEntry>> FakeAssignmentStore::ReadLogTail(
    size_t limit) {
  std::lock_guard lock(mu_);
  if (absl::Status failure = TakeFailureLocked(Call::kLog); !failure.ok()) return failure;
  std::vector<LogEntry> entries;
  for (auto it = log_.rbegin(); it != log_.rend() && entries.size() < std::max<size_t>(limit, 1);
       ++it) {
    entries.push_back({Format(it->first), it->second});
  }
  std::reverse(entries.begin(), entries.end());
  return entries;
}

absl::StatusOr<std::vector<store::AssignmentStore::LogEntry>> FakeAssignmentStore::ReadLog(
    const std::string& after_id, size_t limit) {
  std::lock_guard lock(mu_);
  if (absl::Status failure = TakeFailureLocked(Call::kLog); !failure.ok()) return failure;
  absl::StatusOr<StreamId> after = ParseStreamId(after_id);
  if (!after.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("cursor \"", after_id, "\": ", after.status().message()));
  }
  std::vector<LogEntry> entries;
  for (const auto& [id, bytes] : log_) {
    if (entries.size() >= std::max<size_t>(limit, 1)) break;
    if (*after < id) entries.push_back({Format(id), bytes});
  }
  return entries;
}

absl::StatusOr<std::vector<store::AssignmentStore::LogEntry>> FakeAssignmentStore::TailLog(
    const std::string& after_id, size_t limit, std::chrono::milliseconds block) {
  StreamId after;
  {
    std::lock_guard lock(mu_);
    if (absl::Status failure = TakeFailureLocked(Call::kLog); !failure.ok()) return failure;
    if (after_id == "$") {
      after = last_log_id_;
    } else {
      absl::StatusOr<StreamId> parsed = ParseStreamId(after_id);
      if (!parsed.ok()) return parsed.status();
      after = *parsed;
    }
  }
  std::unique_lock lock(mu_);
  appended_.wait_for(lock, block, [&] { return after < last_log_id_; });
  std::vector<LogEntry> entries;
  for (const auto& [id, bytes] : log_) {
    if (entries.size() >= std::max<size_t>(limit, 1)) break;
    if (after < id) entries.push_back({Format(id), bytes});
  }
  return entries;
}

absl::StatusOr<std::string> FakeAssignmentStore::LogLastId() {
  std::lock_guard lock(mu_);
  if (absl::Status failure = TakeFailureLocked(Call::kLog); !failure.ok()) return failure;
  return Format(last_log_id_);
}

absl::StatusOr<std::string> FakeAssignmentStore::LogTrimmedUpTo() {
  std::lock_guard lock(mu_);
  if (absl::Status failure = TakeFailureLocked(Call::kLog); !failure.ok()) return failure;
  return std::string("0-0");  // never trimmed (see the class comment)
}

absl::Status FakeAssignmentStore::RecordUndeliverable(
    const std::vector<UndeliverableRecord>& records, std::chrono::seconds ttl, int64_t) {
  std::lock_guard lock(mu_);
  if (records.empty()) return absl::OkStatus();
  if (ttl.count() <= 0) return absl::InvalidArgumentError("undeliverable: ttl must be positive");
  if (absl::Status failure = TakeFailureLocked(Call::kCommit); !failure.ok()) return failure;
  for (const UndeliverableRecord& record : records) {
    std::map<std::string, std::string>& hash = hashes_[keys().Undeliverable(record.id)];
    hash["id"] = record.id;
    for (const auto& [field, value] : record.fields) hash[field] = value;
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::pair<std::string, std::string>>>
FakeAssignmentStore::LoadUndeliverable(const std::string& id) {
  return LoadHash(keys().Undeliverable(id));
}

absl::StatusOr<std::pair<std::vector<std::string>, int64_t>> FakeAssignmentStore::PeekUnassigned(
    size_t limit) {
  std::lock_guard lock(mu_);
  if (absl::Status failure = TakeFailureLocked(Call::kQueue); !failure.ok()) return failure;
  std::vector<std::string> ids = ByScore(queue_);
  if (ids.size() > std::max<size_t>(limit, 1)) ids.resize(std::max<size_t>(limit, 1));
  return std::make_pair(std::move(ids), static_cast<int64_t>(queue_.size()));
}

bool FakeAssignmentStore::healthy() const {
  std::lock_guard lock(mu_);
  return healthy_;
}

}  // namespace leadrouter::testing
