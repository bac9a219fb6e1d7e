#include "leadrouter/store/assignment_store.h"

#include <charconv>
#include <string_view>
#include <unordered_set>
#include <utility>

#include "absl/strings/str_cat.h"

namespace leadrouter::store {
namespace {

// KEYS[1] the pool's cursor, KEYS[2..n] the event records.
// ARGV[1] expected cursor, ARGV[2] new cursor, ARGV[3] ttl in seconds, ARGV[i+2] the bytes for
// KEYS[i]. Cursors are compared as canonical decimal strings, not Lua numbers, because Lua 5.1
// numbers are doubles and would round int64 values above 2^53.
// All checks run before the first write, so a refused commit writes nothing; and since the first
// write is where Redis applies its OOM refusal, a script that starts writing finishes.
// Returns 0 committed, 1 cursor moved, 2 a record exists.
constexpr std::string_view kCommitScript = R"lua(
local cursor = redis.call('GET', KEYS[1])
if cursor == false then cursor = '0' end
if cursor ~= ARGV[1] then return 1 end
for i = 2, #KEYS do
  if redis.call('EXISTS', KEYS[i]) == 1 then return 2 end
end
for i = 2, #KEYS do
  redis.call('SET', KEYS[i], ARGV[i + 2], 'EX', ARGV[3])
end
if ARGV[2] ~= ARGV[1] then redis.call('SET', KEYS[1], ARGV[2]) end
return 0
)lua";

}  // namespace

AssignmentStore::AssignmentStore(std::unique_ptr<RedisConnection> connection, KeySchema keys)
    : connection_(std::move(connection)),
      keys_(std::move(keys)),
      commit_script_(std::string(kCommitScript)) {}

absl::StatusOr<std::unique_ptr<AssignmentStore>> AssignmentStore::Connect(
    const RedisOptions& options) {
  if (absl::Status valid = KeySchema::ValidateTenant(options.tenant); !valid.ok()) return valid;
  absl::StatusOr<std::unique_ptr<RedisConnection>> connection = RedisConnection::Connect(options);
  if (!connection.ok()) return connection.status();
  return std::unique_ptr<AssignmentStore>(
      new AssignmentStore(*std::move(connection), KeySchema(options.tenant)));
}

absl::StatusOr<AssignmentStore::Snapshot> AssignmentStore::Load(
    std::string_view pool, const std::vector<std::string>& event_ids) {
  std::vector<std::string> command;
  command.reserve(2 + event_ids.size());
  command.push_back("MGET");
  command.push_back(keys_.RotationCursor(pool));
  for (const std::string& event_id : event_ids) command.push_back(keys_.EventRecord(event_id));

  absl::StatusOr<RedisReply> reply = connection_->Command(command);
  if (!reply.ok()) return reply.status();
  if (reply->is_error()) return absl::InternalError(absl::StrCat("MGET failed: ", reply->str));
  if (reply->type != RedisReply::Type::kArray || reply->elements.size() != command.size() - 1) {
    return absl::InternalError("MGET answered an unexpected shape");
  }

  Snapshot snapshot;
  const RedisReply& cursor = reply->elements.front();
  if (cursor.type == RedisReply::Type::kString) {
    const char* end = cursor.str.data() + cursor.str.size();
    auto [parsed_to, error] = std::from_chars(cursor.str.data(), end, snapshot.cursor);
    if (error != std::errc() || parsed_to != end) {
      return absl::DataLossError(
          absl::StrCat(keys_.RotationCursor(pool), " holds a non-integer cursor: ", cursor.str));
    }
  }
  snapshot.records.reserve(event_ids.size());
  for (size_t i = 1; i < reply->elements.size(); ++i) {
    RedisReply& record = reply->elements[i];
    if (record.type == RedisReply::Type::kString) {
      snapshot.records.emplace_back(std::move(record.str));
    } else {
      snapshot.records.emplace_back(std::nullopt);
    }
  }
  return snapshot;
}

absl::StatusOr<AssignmentStore::CommitResult> AssignmentStore::Commit(
    std::string_view pool, int64_t expected_cursor, int64_t new_cursor,
    const std::vector<std::pair<std::string, std::string>>& records, std::chrono::seconds ttl) {
  if (!records.empty() && ttl.count() <= 0) {
    return absl::InvalidArgumentError("record ttl must be positive");
  }
  std::unordered_set<std::string_view> seen;
  std::vector<std::string> keys;
  std::vector<std::string> args;
  keys.reserve(1 + records.size());
  args.reserve(3 + records.size());
  keys.push_back(keys_.RotationCursor(pool));
  args.push_back(std::to_string(expected_cursor));
  args.push_back(std::to_string(new_cursor));
  args.push_back(std::to_string(ttl.count()));
  for (const auto& [event_id, bytes] : records) {
    // Within one script the existence check cannot see the batch's own writes, so a duplicate
    // would silently overwrite its twin.
    if (!seen.insert(event_id).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("event id '", event_id, "' appears twice in one commit"));
    }
    keys.push_back(keys_.EventRecord(event_id));
    args.push_back(bytes);
  }

  absl::StatusOr<RedisReply> reply = commit_script_.Run(*connection_, keys, args);
  if (!reply.ok()) return reply.status();
  if (reply->is_error()) {
    return absl::InternalError(absl::StrCat("commit script failed: ", reply->str));
  }
  if (reply->type == RedisReply::Type::kInteger) {
    switch (reply->integer) {
      case 0:
        return CommitResult::kCommitted;
      case 1:
        return CommitResult::kCursorMoved;
      case 2:
        return CommitResult::kRecordExists;
    }
  }
  return absl::InternalError("commit script answered an unexpected value");
}

}  // namespace leadrouter::store
