#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "leadrouter/store/key_schema.h"
#include "leadrouter/store/lua_script.h"
#include "leadrouter/store/redis_connection.h"

namespace leadrouter::store {

// The routing state of the skeleton: per pool a rotation cursor (an integer, absent = 0) and, per
// input event id, the stored outcome bytes (the serialized assignment).
//
// Usage is optimistic concurrency: Load, decide, Commit with the cursor that was loaded; on
// kCursorMoved or kRecordExists, Load again and decide again. Commit is one atomic Lua script, so
// any number of processes may race on one pool without double-assigning or skipping.
//
// Thread-compatible (it owns one RedisConnection): one instance per thread.
class AssignmentStore {
 public:
  // InvalidArgument for a bad tenant (see KeySchema::ValidateTenant), else as
  // RedisConnection::Connect.
  static absl::StatusOr<std::unique_ptr<AssignmentStore>> Connect(const RedisOptions& options);

  struct Snapshot {
    int64_t cursor = 0;
    std::vector<std::optional<std::string>> records;  // records[i] belongs to event_ids[i]
  };
  // One round trip (MGET): the pool's cursor and the stored records of these events.
  // DataLoss if the cursor key holds something that is not an integer.
  absl::StatusOr<Snapshot> Load(std::string_view pool, const std::vector<std::string>& event_ids);

  enum class CommitResult {
    kCommitted,     // every record written, cursor set to new_cursor
    kCursorMoved,   // the cursor was not expected_cursor; nothing written
    kRecordExists,  // the cursor matched but an event already had a record; nothing written
  };
  // Atomically: if the pool's cursor equals expected_cursor and none of the events has a record,
  // writes every record (SET ... EX ttl) and sets the cursor to new_cursor. Records are
  // binary-safe. An empty `records` with new_cursor == expected_cursor is a valid no-op commit.
  // InvalidArgument for a duplicate event id within `records` or a non-positive ttl.
  absl::StatusOr<CommitResult> Commit(
      std::string_view pool, int64_t expected_cursor, int64_t new_cursor,
      const std::vector<std::pair<std::string /*event_id*/, std::string /*record bytes*/>>& records,
      std::chrono::seconds ttl);

  const KeySchema& keys() const { return keys_; }
  RedisConnection& connection() { return *connection_; }

 private:
  AssignmentStore(std::unique_ptr<RedisConnection> connection, KeySchema keys);

  std::unique_ptr<RedisConnection> connection_;
  KeySchema keys_;
  LuaScript commit_script_;
};

}  // namespace leadrouter::store
