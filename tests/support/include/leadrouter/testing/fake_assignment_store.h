#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "leadrouter/core/clock.h"
#include "leadrouter/store/assignment_store.h"

namespace leadrouter::testing {

// store::AssignmentStore in memory, for unit tests of the code above the store seam (the
// pipeline, the lifecycle, claims) without a Redis. AssignmentStoreContractTest runs the same
// assertions against it and against Redis, so the two agree on what the code above relies on:
//
// - Commit is all or nothing, refused as kVersionMoved / kRecordExists before any write, with
//   the same InvalidArgument checks; it bumps the version (and the written scopes' versions)
//   only when it writes something; a guarded commit checks its guards instead of the version.
// - String keys (records, the lead index, expiring values) expire by the injected clock; an
//   expiring value rewritten with the value it has keeps a longer remaining expiry.
// - The queue and the SLA index are ordered by score, then by member, as sorted sets are; in
//   one commit queue additions come before removals, SLA removals before additions.
// - Log ids are "<clock ms>-<seq>", increasing. The log is never trimmed: Redis trims it only
//   behind what the outbox forwarded (store::OutboxStore), and nothing forwards here.
// - Hashes other than the routing hash do not expire (RecordUndeliverable's ttl is ignored).
//
// The test's side can make calls fail (FailNext), move the version as another instance's commit
// would (BumpVersion) and read everything back.
//
// Thread-safety: thread-safe (one mutex), so the code under test may run on its own thread while
// the test inspects. TailLog waits on the log (up to `block`, by the steady clock) and wakes on
// a commit that appends.
class FakeAssignmentStore final : public store::AssignmentStore {
 public:
  // What FailNext makes fail.
  enum class Call {
    kLoad,    // Load, LoadStampedRecords, LoadValues, LoadHashFields, LoadHash, EventIdOfLead
    kCommit,  // Commit, RecordUndeliverable
    kQueue,   // PeekUnassigned, DueSlaLeads, SlaPendingCount
    kLog,     // ReadLog, TailLog, LogLastId, LogTrimmedUpTo
  };

  // `clock` must outlive the store; `tenant` names the keys (store::KeySchema).
  explicit FakeAssignmentStore(const core::Clock& clock, std::string tenant = "default");
  ~FakeAssignmentStore() override = default;

  // --- the test's side ---

  // The next `times` calls of `call` answer `status` and touch nothing; healthy() is false
  // from the first of them until a call succeeds again.
  void FailNext(Call call, absl::Status status, int times = 1);
  // Another instance committed: the version moves by one, nothing else changes.
  void BumpVersion();
  // How many Commit calls were made (refused and failed ones included), and how many wrote.
  int commit_calls() const;
  int committed() const;
  // The stored bytes of an event's record (nullopt when missing or expired).
  std::optional<std::string> Record(const std::string& event_id) const;
  // The value of a string key (full key name), and its remaining ttl as Redis's TTL reports
  // it (nullopt: no key; -1 s: a key without expiry, e.g. a hash).
  std::optional<std::string> Value(const std::string& key) const;
  std::optional<std::chrono::seconds> Ttl(const std::string& key) const;
  // Whether a string key or a non-empty hash of that name exists.
  bool Exists(const std::string& key) const;
  // Every entry of the log still held, oldest first.
  std::vector<LogEntry> Log() const;
  // The routing hash, "version" included.
  std::map<std::string, std::string> RoutingHash() const;

  // --- store::AssignmentStore ---
  using store::AssignmentStore::Load;
  using store::AssignmentStore::LoadRecords;
  using store::AssignmentStore::RecordUndeliverable;
  absl::StatusOr<Snapshot> Load(const std::vector<std::string>& event_ids,
                                const std::vector<std::string>& value_keys) override;
  absl::StatusOr<StampedRecords> LoadStampedRecords(
      const std::vector<std::string>& event_ids) override;
  absl::StatusOr<std::vector<std::optional<std::string>>> LoadValues(
      const std::vector<std::string>& keys) override;
  absl::StatusOr<std::vector<std::optional<std::string>>> LoadHashFields(
      const std::string& key, const std::vector<std::string>& fields) override;
  absl::StatusOr<std::vector<std::pair<std::string, std::string>>> LoadHash(
      const std::string& key) override;
  absl::StatusOr<CommitResult> Commit(const CommitRequest& request) override;
  absl::StatusOr<std::vector<core::LeadId>> DueSlaLeads(int64_t now_s, size_t limit) override;
  absl::StatusOr<int64_t> SlaPendingCount() override;
  absl::StatusOr<std::optional<core::EventId>> EventIdOfLead(const core::LeadId& lead_id) override;
  absl::StatusOr<std::vector<LogEntry>> ReadLog(const std::string& after_id, size_t limit) override;
  absl::StatusOr<std::vector<LogEntry>> ReadLogTail(size_t limit) override;
  absl::StatusOr<std::vector<LogEntry>> TailLog(const std::string& after_id, size_t limit,
                                                std::chrono::milliseconds block) override;
  absl::StatusOr<std::string> LogLastId() override;
  absl::StatusOr<std::string> LogTrimmedUpTo() override;
  absl::Status RecordUndeliverable(const std::vector<UndeliverableRecord>& records,
                                   std::chrono::seconds ttl, int64_t log_max) override;
  absl::StatusOr<std::vector<std::pair<std::string, std::string>>> LoadUndeliverable(
      const std::string& id) override;
  absl::StatusOr<std::pair<std::vector<std::string>, int64_t>> PeekUnassigned(
      size_t limit) override;
  bool healthy() const override;

 private:
  struct StringValue {
    std::string value;
    std::optional<core::TimePoint> expires;  // nullopt: no expiry
  };
  // A sorted set: member -> score, listed by (score, member).
  using SortedSet = std::map<std::string, int64_t>;
  struct StreamId {
    int64_t ms = 0;
    int64_t seq = 0;
    bool operator<(const StreamId& other) const {
      return ms != other.ms ? ms < other.ms : seq < other.seq;
    }
  };

  // The injected failure for `call`, if one is due (consumed); else OK, and healthy again.
  absl::Status TakeFailureLocked(Call call);
  const StringValue* FindLocked(const std::string& key) const;
  void SetLocked(const std::string& key, std::string value, std::chrono::seconds ttl);
  int64_t VersionLocked() const;
  bool GuardsHoldLocked(const CommitRequest::Guards& guards) const;
  StreamId NextLogIdLocked();
  static std::vector<std::string> ByScore(const SortedSet& set);
  static absl::StatusOr<StreamId> ParseStreamId(const std::string& id);
  static std::string Format(const StreamId& id);

  const core::Clock& clock_;
  mutable std::mutex mu_;
  std::condition_variable appended_;
  std::map<Call, std::deque<absl::Status>> failures_;
  bool healthy_ = true;
  int commit_calls_ = 0;
  int committed_ = 0;
  std::map<std::string, StringValue> strings_;
  std::map<std::string, std::map<std::string, std::string>> hashes_;  // the routing hash too
  SortedSet queue_;
  SortedSet sla_;
  std::deque<std::pair<StreamId, std::string>> log_;
  StreamId last_log_id_{};
};

}  // namespace leadrouter::testing
