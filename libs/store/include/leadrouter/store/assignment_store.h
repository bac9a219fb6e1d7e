#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "leadrouter/core/ids.h"
#include "leadrouter/store/key_schema.h"
#include "leadrouter/store/redis_connection.h"

namespace leadrouter::store {

// The shared decision state of one tenant: a hash of routing counters with versions, the
// stored outcome of every input event (under its event id), and the queue of unassigned leads.
//
// Usage is optimistic concurrency: Load, decide in memory, Commit with what the decision read;
// on kVersionMoved or kRecordExists, Load again and decide again. Commit is one atomic Lua
// script, so any number of processes may race without double-assigning, skipping a turn or
// exceeding a cap: every commit is decided on exactly the state it replaces.
//
// Two grains of "what the decision read" (CommitRequest): the whole tenant (expected_version,
// moved by every commit that writes), or guards naming exactly the scopes, values and records it
// read. A state field's scope is its name up to its second ':' ("pool:west" for
// "pool:west:step", "rep:ada" for "rep:ada:open"); the store keeps one version per scope, moved
// by every commit that writes or deletes a field of it. Guarded commits of instances deciding on
// disjoint scopes and keys never refuse each other.
//
// An interface, so the code above it (the pipeline, the lifecycle, claims) can be tested with an
// in-memory store (tests/support: testing::FakeAssignmentStore, checked against this contract
// by the same tests as Redis). Connect returns the Redis implementation, whose commit is one
// Lua script.
//
// Thread-compatible (the Redis implementation owns one RedisConnection): one instance per
// thread.
class AssignmentStore {
 public:
  // The Redis implementation. InvalidArgument for a bad tenant (see KeySchema::ValidateTenant),
  // else as RedisConnection::Connect.
  static absl::StatusOr<std::unique_ptr<AssignmentStore>> Connect(const RedisOptions& options);

  virtual ~AssignmentStore() = default;

  struct Snapshot {
    int64_t version = 0;                       // 0 before the first commit
    std::map<std::string, std::string> state;  // the routing hash without the store's versions
    // The version of every scope of `state` that a commit ever wrote (absent: 0).
    std::map<std::string, int64_t> scope_versions;
    // Commits of writers that keep no scope versions (an older leadrouter during a rolling
    // upgrade): a guarded commit is refused when one happened since the load.
    int64_t unscoped_commits = 0;
    std::vector<std::optional<std::string>> records;  // records[i] belongs to event_ids[i]
    std::vector<std::optional<std::string>> values;   // values[i] belongs to value_keys[i]
  };
  // One round trip (pipelined HGETALL + MGET + MGET): the routing state, these events' records
  // and the string values of `value_keys` (full key names, e.g. KeySchema::Person). DataLoss if
  // the version field is not an integer.
  virtual absl::StatusOr<Snapshot> Load(const std::vector<std::string>& event_ids,
                                        const std::vector<std::string>& value_keys) = 0;
  absl::StatusOr<Snapshot> Load(const std::vector<std::string>& event_ids) {
    return Load(event_ids, {});
  }

  // One round trip (MGET): the stored records of these events; nullopt where there is none.
  absl::StatusOr<std::vector<std::optional<std::string>>> LoadRecords(
      const std::vector<std::string>& event_ids);
  // The same with each record's stamp (an opaque digest of its stored bytes): what a guarded
  // Commit names to apply only while those records are unchanged.
  struct StampedRecords {
    std::vector<std::optional<std::string>> records;  // records[i] belongs to event_ids[i]
    std::vector<std::optional<std::string>> stamps;   // nullopt exactly where records[i] is
  };
  virtual absl::StatusOr<StampedRecords> LoadStampedRecords(
      const std::vector<std::string>& event_ids) = 0;
  // One round trip (MGET) of full key names (e.g. KeySchema::Account); nullopt where a key is
  // missing or not a string. No round trip for an empty list.
  virtual absl::StatusOr<std::vector<std::optional<std::string>>> LoadValues(
      const std::vector<std::string>& keys) = 0;

  // One round trip (HMGET): fields of a hash of the tenant; nullopt where a field is missing.
  virtual absl::StatusOr<std::vector<std::optional<std::string>>> LoadHashFields(
      const std::string& key, const std::vector<std::string>& fields) = 0;
  // One round trip (HGETALL): every field of a hash of the tenant, in Redis's order.
  virtual absl::StatusOr<std::vector<std::pair<std::string, std::string>>> LoadHash(
      const std::string& key) = 0;

  // Every field has a default, so designated initializers may name only what they use.
  struct CommitRequest {
    // Whole-tenant concurrency: applies only while the tenant's version is still this one (the
    // Snapshot's). Ignored when `guards` is set.
    int64_t expected_version = 0;
    // Finer concurrency: applies only while every guard holds, whatever else moved.
    struct Guards {
      // Scopes with the version the decision read (Snapshot::scope_versions; 0 when absent).
      std::vector<std::pair<std::string, int64_t>> scopes{};
      // Full key names of string values with the value read (nullopt: the key did not exist).
      std::vector<std::pair<std::string, std::optional<std::string>>> values{};
      // Event ids with the stamp of the record read (LoadStampedRecords; nullopt: none).
      std::vector<std::pair<std::string, std::optional<std::string>>> records{};
      // Snapshot::unscoped_commits as loaded: another writer's commit since refuses this one.
      int64_t unscoped_commits = 0;
    };
    std::optional<Guards> guards{};
    // New outcomes: written only if none of these events has a record yet.
    std::vector<std::pair<std::string /*event_id*/, std::string /*bytes*/>> new_records{};
    // Replacements of existing records (a queued lead that got routed later).
    std::vector<std::pair<std::string, std::string>> replaced_records{};
    std::map<std::string, std::string> state_updates{};  // HSET into the routing hash
    std::vector<std::string> state_deletes{};            // HDEL (e.g. yesterday's counters)
    std::vector<std::pair<std::string /*event_id*/, int64_t /*queued at, s*/>> queue_add{};
    std::vector<std::string> queue_remove{};
    // lead id -> event id, so a lead's stored outcome (and its trace) can be found by lead id.
    std::vector<std::pair<std::string /*lead_id*/, std::string /*event_id*/>> lead_index{};
    std::chrono::seconds ttl{0};  // of every written record; must be positive when writing any
    // Plain string keys with their own expiry (dedupe person and account keys); the key must
    // be one of this tenant's (KeySchema) and the ttl positive. Rewriting a key with the value
    // it already has never shortens its remaining expiry.
    struct ExpiringValue {
      std::string key;
      std::string value;
      std::chrono::seconds ttl{0};
    };
    std::vector<ExpiringValue> expiring_values{};
    // Accept-SLA deadlines: lead id -> deadline (seconds since the epoch); and removals.
    std::vector<std::pair<std::string /*lead_id*/, int64_t /*deadline, s*/>> sla_add{};
    std::vector<std::string> sla_remove{};
    // AssignmentEvents (serialized) appended to the shared assignment log, in order; then the
    // assignments of the records `log_records` names (indexes into new_records followed by
    // replaced_records, each a serialized EventOutcome holding an assignment), in order: the
    // store keeps such an event once, compressed, for its record and its log entry. The log is
    // trimmed to about log_max_events entries.
    std::vector<std::string> log_events{};
    std::vector<size_t> log_records{};
    int64_t log_max_events = 0;
    // Fields of other hashes of the tenant (e.g. KeySchema::Claims): HSET, and HDEL (value
    // ignored). Not the routing hash, which state_updates writes.
    struct HashField {
      std::string key;
      std::string field;
      std::string value;
    };
    std::vector<HashField> hash_sets{};
    std::vector<HashField> hash_deletes{};
  };
  enum class CommitResult {
    kCommitted,     // everything written, version + 1, each written scope's version + 1
    kVersionMoved,  // what the decision read changed since Load; nothing written
    kRecordExists,  // a new record's event already has one; nothing written
  };
  // Atomically: if the version is still expected_version (or every guard holds) and no new
  // record exists, applies every part of the request and bumps the tenant's version and the
  // version of every scope whose fields it writes or deletes (a request with nothing in it
  // writes nothing). InvalidArgument for a duplicate event id, a non-positive ttl, a state field
  // named "version" or starting with "v:" (the store's own), a guard or an expiring value or
  // hash field outside the tenant's keys.
  virtual absl::StatusOr<CommitResult> Commit(const CommitRequest& request) = 0;
  // The scopes whose versions a commit moves: those of its state updates and deletes, sorted,
  // each once.
  static std::vector<std::string> WrittenScopes(const CommitRequest& request);

  // Up to `limit` lead ids whose accept-SLA deadline is at or before `now_s`, earliest first.
  virtual absl::StatusOr<std::vector<core::LeadId>> DueSlaLeads(int64_t now_s, size_t limit) = 0;
  // How many leads wait for acceptance under an SLA.
  virtual absl::StatusOr<int64_t> SlaPendingCount() = 0;

  // The event id whose record holds the lead (the lead index), or nullopt.
  virtual absl::StatusOr<std::optional<core::EventId>> EventIdOfLead(
      const core::LeadId& lead_id) = 0;

  // One entry of the assignment log.
  struct LogEntry {
    std::string id;     // the stream id ("<ms>-<seq>"): the subscriber's cursor
    std::string bytes;  // a serialized AssignmentEvent (stored compressed: see record_codec.h)
  };
  // Up to `limit` entries after `after_id` (exclusive; "0-0" for the beginning), oldest first.
  virtual absl::StatusOr<std::vector<LogEntry>> ReadLog(const std::string& after_id,
                                                        size_t limit) = 0;
  // The newest `limit` entries (at least one), oldest first: where a viewer of the log starts.
  virtual absl::StatusOr<std::vector<LogEntry>> ReadLogTail(size_t limit) = 0;
  // Blocks up to `block` for entries after `after_id` ("$": only entries added from now on).
  // Empty when none arrived. The connection's command timeout must exceed `block`.
  virtual absl::StatusOr<std::vector<LogEntry>> TailLog(const std::string& after_id, size_t limit,
                                                        std::chrono::milliseconds block) = 0;
  // The id of the newest entry ever added ("0-0" when the log does not exist yet).
  virtual absl::StatusOr<std::string> LogLastId() = 0;
  // "0-0" when the log never lost an entry; else the id of its oldest retained entry: a cursor
  // older than that may have missed trimmed events (one exactly at the last trimmed entry is
  // refused too: conservative).
  virtual absl::StatusOr<std::string> LogTrimmedUpTo() = 0;

  // A message that Kafka refused for a permanent reason (too large for the broker, invalid
  // record or topic), so that it is recorded instead of stalling its partition.
  struct UndeliverableRecord {
    std::string id;  // the event id, or "<topic>/<partition>/<offset>" of the input
    // Field/value pairs describing it (kind, reason, error, source offset, size, sha256, ...).
    std::vector<std::pair<std::string, std::string>> fields;
  };
  // One round trip (pipelined): each record as a hash under KeySchema::Undeliverable(id) with
  // `ttl`, and appended to KeySchema::UndeliverableLog() (trimmed to about `log_max` entries).
  // Idempotent per id (a replay rewrites the same hash; the stream gets another entry).
  virtual absl::Status RecordUndeliverable(const std::vector<UndeliverableRecord>& records,
                                           std::chrono::seconds ttl, int64_t log_max) = 0;
  absl::Status RecordUndeliverable(const std::vector<UndeliverableRecord>& records,
                                   std::chrono::seconds ttl) {
    return RecordUndeliverable(records, ttl, kUndeliverableLogMax);
  }
  static constexpr int64_t kUndeliverableLogMax = 10000;
  // The hash of one undeliverable record (empty when there is none).
  virtual absl::StatusOr<std::vector<std::pair<std::string, std::string>>> LoadUndeliverable(
      const std::string& id) = 0;

  // Up to `limit` queued event ids, oldest first, and the queue's length.
  virtual absl::StatusOr<std::pair<std::vector<std::string>, int64_t>> PeekUnassigned(
      size_t limit) = 0;

  // The key names of the tenant: what Load's value_keys and Commit's expiring values name.
  const KeySchema& keys() const { return keys_; }
  // Whether the last round trip reached the store (false after a connection or protocol error
  // until one succeeds again): a pooled client that is not healthy is dropped, not reused.
  virtual bool healthy() const = 0;

 protected:
  explicit AssignmentStore(KeySchema keys) : keys_(std::move(keys)) {}
  // The InvalidArgument checks every implementation's Commit makes before anything else.
  absl::Status CheckCommitRequest(const CommitRequest& request) const;

 private:
  KeySchema keys_;
};

// The scope of a routing-state field: its name up to its second ':' (the whole name when it has
// fewer).
std::string_view ScopeOfField(std::string_view field);
// The field of the routing hash holding a scope's version: "v:<scope>".
std::string ScopeVersionField(std::string_view scope);

namespace internal {
// The entries of an XRANGE reply, and of an XREAD reply on one stream (empty when it timed out),
// each decoded (DecodeRecord; an entry that does not decode is passed on as it is, so its
// reader's parse refuses it as before).
absl::StatusOr<std::vector<AssignmentStore::LogEntry>> LogEntries(const RedisReply& reply);
absl::StatusOr<std::vector<AssignmentStore::LogEntry>> XReadEntries(const RedisReply& reply);
}  // namespace internal

}  // namespace leadrouter::store
