#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "leadrouter/store/assignment_store.h"
#include "leadrouter/store/key_schema.h"
#include "leadrouter/store/lua_script.h"
#include "leadrouter/store/redis_connection.h"

namespace leadrouter::store {

// The Redis side of the outbox: the forwarder's lease and its durable position in the shared
// assignment log (KeySchema::Outbox, OutboxLease, OutboxEpoch).
//
// One forwarder at a time: a lease taken with SET NX PX and kept by renewing it. Every lease
// taken increments an epoch, and the lease's value "<epoch>:<holder>" is the fencing token: the
// position moves only by a script that checks, atomically, that the caller still holds that very
// lease and that the position is still where the caller read from. So a holder that stalled past
// its lease (and was replaced) can at worst publish some entries again (consumers dedupe on
// message_id), never move the position, skip an entry or count one twice.
//
// AssignmentStore::Commit keeps the log from trimming entries not yet forwarded (see "appended"
// and "forwarded"), so the log between the position and its end is exactly what Kafka lacks.
//
// Thread-compatible (it owns one RedisConnection): one instance per thread.
class OutboxStore {
 public:
  // InvalidArgument for a bad tenant, else as RedisConnection::Connect.
  static absl::StatusOr<std::unique_ptr<OutboxStore>> Connect(const RedisOptions& options);

  // A lease held: its fencing token.
  struct Lease {
    std::string token;  // "<epoch>:<holder>"
    int64_t epoch = 0;
  };
  // Takes the lease for `holder` when nobody holds it; nullopt when another holder does. A new
  // outbox (no position yet) starts after the log's newest entry: entries made before the outbox
  // existed were published when they were made.
  absl::StatusOr<std::optional<Lease>> Acquire(const std::string& holder,
                                               std::chrono::milliseconds ttl);
  // Extends the lease to `ttl` from now; false when it is no longer `lease` (expired, taken).
  absl::StatusOr<bool> Renew(const Lease& lease, std::chrono::milliseconds ttl);
  // Gives the lease up (only if it is still `lease`), so another instance takes over at once.
  absl::Status Release(const Lease& lease);

  struct Position {
    std::string after_id = "0-0";  // the last entry forwarded
    int64_t appended = 0;          // entries appended since the outbox began
    int64_t forwarded = 0;         // of which forwarded
    int64_t backlog() const { return appended - forwarded; }
  };
  // The position; nullopt before the outbox began (no lease ever taken, nothing appended since).
  absl::StatusOr<std::optional<Position>> Load();

  // Up to `limit` log entries after `after_id`, waiting up to `block` (0: no wait) for the first.
  absl::StatusOr<std::vector<AssignmentStore::LogEntry>> Read(const std::string& after_id,
                                                              size_t limit,
                                                              std::chrono::milliseconds block);

  enum class AdvanceResult {
    kAdvanced,
    kLeaseLost,  // `lease` is no longer held: nothing written
    kMoved,      // the position is not `from_id` any more: nothing written
  };
  // Moves the position from `from_id` to `to_id`, `count` entries further, if `lease` is held.
  absl::StatusOr<AdvanceResult> Advance(const Lease& lease, const std::string& from_id,
                                        const std::string& to_id, int64_t count);

  const KeySchema& keys() const { return keys_; }

 private:
  OutboxStore(std::unique_ptr<RedisConnection> connection, KeySchema keys);

  std::unique_ptr<RedisConnection> connection_;
  KeySchema keys_;
  LuaScript acquire_script_;
  LuaScript renew_script_;
  LuaScript release_script_;
  LuaScript advance_script_;
};

}  // namespace leadrouter::store
