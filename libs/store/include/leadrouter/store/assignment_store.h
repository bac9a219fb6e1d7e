#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "leadrouter/store/key_schema.h"
#include "leadrouter/store/lua_script.h"
#include "leadrouter/store/redis_connection.h"

namespace leadrouter::store {

// The shared decision state of one tenant: a hash of routing counters with a version, the
// stored outcome of every input event (under its event id), and the queue of unassigned leads.
//
// Usage is optimistic concurrency: Load, decide in memory, Commit with the version that was
// loaded; on kVersionMoved or kRecordExists, Load again and decide again. Commit is one atomic
// Lua script, so any number of processes may race without double-assigning, skipping a turn or
// exceeding a cap: every commit is decided on exactly the state it replaces.
//
// Thread-compatible (it owns one RedisConnection): one instance per thread.
class AssignmentStore {
 public:
  // InvalidArgument for a bad tenant (see KeySchema::ValidateTenant), else as
  // RedisConnection::Connect.
  static absl::StatusOr<std::unique_ptr<AssignmentStore>> Connect(const RedisOptions& options);

  struct Snapshot {
    int64_t version = 0;                              // 0 before the first commit
    std::map<std::string, std::string> state;         // the routing hash without "version"
    std::vector<std::optional<std::string>> records;  // records[i] belongs to event_ids[i]
  };
  // One round trip (pipelined HGETALL + MGET): the routing state and these events' records.
  // DataLoss if the version field is not an integer.
  absl::StatusOr<Snapshot> Load(const std::vector<std::string>& event_ids);

  // Every field has a default, so designated initializers may name only what they use.
  struct CommitRequest {
    int64_t expected_version = 0;
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
  };
  enum class CommitResult {
    kCommitted,     // everything written, version + 1
    kVersionMoved,  // the state changed since Load; nothing written
    kRecordExists,  // a new record's event already has one; nothing written
  };
  // Atomically: if the version is still expected_version and no new record exists, applies every
  // part of the request and bumps the version (a request with nothing in it writes nothing).
  // InvalidArgument for a duplicate event id, a non-positive ttl, or a state field named
  // "version".
  absl::StatusOr<CommitResult> Commit(const CommitRequest& request);

  // Up to `limit` queued event ids, oldest first, and the queue's length.
  absl::StatusOr<std::pair<std::vector<std::string>, int64_t>> PeekUnassigned(size_t limit);

  const KeySchema& keys() const { return keys_; }
  RedisConnection& connection() { return *connection_; }

 private:
  AssignmentStore(std::unique_ptr<RedisConnection> connection, KeySchema keys);

  std::unique_ptr<RedisConnection> connection_;
  KeySchema keys_;
  LuaScript commit_script_;
};

}  // namespace leadrouter::store
