#include "leadrouter/store/assignment_store.h"

#include <algorithm>
#include <charconv>
#include <string_view>
#include <unordered_set>
#include <utility>

#include "absl/strings/str_cat.h"

namespace leadrouter::store {
namespace {

// KEYS: routing hash, unassigned queue, new record keys, replaced record keys, lead index keys.
// ARGV: expected version, ttl, #new, #replaced, #updates, #deletes, #queue adds, #queue removes,
// #lead index entries, then new bytes, replaced bytes, update field/value pairs, delete fields, add
// score/member pairs, remove members, indexed event ids. The version is compared as a canonical
// decimal string, not a Lua number (Lua 5.1 numbers are doubles). All checks run before the first
// write, so a refused commit writes nothing; since the first write is where Redis applies its OOM
// refusal, a script that starts writing finishes. Returns 0 committed, 1 version moved, 2 a record
// exists.
constexpr std::string_view kCommitScript = R"lua(
local version = redis.call('HGET', KEYS[1], 'version')
if version == false then version = '0' end
if version ~= ARGV[1] then return 1 end
local n_new, n_rep = tonumber(ARGV[3]), tonumber(ARGV[4])
local n_upd, n_del = tonumber(ARGV[5]), tonumber(ARGV[6])
local n_qadd, n_qrem, n_idx = tonumber(ARGV[7]), tonumber(ARGV[8]), tonumber(ARGV[9])
for i = 1, n_new do
  if redis.call('EXISTS', KEYS[2 + i]) == 1 then return 2 end
end
local a = 10
for i = 1, n_new + n_rep do
  redis.call('SET', KEYS[2 + i], ARGV[a], 'EX', ARGV[2])
  a = a + 1
end
for i = 1, n_upd do
  redis.call('HSET', KEYS[1], ARGV[a], ARGV[a + 1])
  a = a + 2
end
for i = 1, n_del do
  redis.call('HDEL', KEYS[1], ARGV[a])
  a = a + 1
end
for i = 1, n_qadd do
  redis.call('ZADD', KEYS[2], ARGV[a], ARGV[a + 1])
  a = a + 2
end
for i = 1, n_qrem do
  redis.call('ZREM', KEYS[2], ARGV[a])
  a = a + 1
end
for i = 1, n_idx do
  redis.call('SET', KEYS[2 + n_new + n_rep + i], ARGV[a], 'EX', ARGV[2])
  a = a + 1
end
if n_new + n_rep + n_upd + n_del + n_qadd + n_qrem + n_idx > 0 then
  redis.call('HINCRBY', KEYS[1], 'version', 1)
end
return 0
)lua";

constexpr char kVersionField[] = "version";

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
    const std::vector<std::string>& event_ids) {
  std::vector<std::vector<std::string>> commands;
  commands.push_back({"HGETALL", keys_.RoutingState()});
  if (!event_ids.empty()) {
    std::vector<std::string> mget{"MGET"};
    mget.reserve(1 + event_ids.size());
    for (const std::string& event_id : event_ids) mget.push_back(keys_.EventRecord(event_id));
    commands.push_back(std::move(mget));
  }
  absl::StatusOr<std::vector<RedisReply>> replies = connection_->Pipeline(commands);
  if (!replies.ok()) return replies.status();
  for (const RedisReply& reply : *replies) {
    if (reply.is_error()) return absl::InternalError(absl::StrCat("load failed: ", reply.str));
    if (reply.type != RedisReply::Type::kArray) {
      return absl::InternalError("load answered an unexpected shape");
    }
  }

  Snapshot snapshot;
  const std::vector<RedisReply>& fields = (*replies)[0].elements;
  for (size_t i = 0; i + 1 < fields.size(); i += 2) {
    if (fields[i].str == kVersionField) {
      const std::string& v = fields[i + 1].str;
      auto [end, error] = std::from_chars(v.data(), v.data() + v.size(), snapshot.version);
      if (error != std::errc() || end != v.data() + v.size()) {
        return absl::DataLossError(
            absl::StrCat(keys_.RoutingState(), " holds a non-integer version: ", v));
      }
      continue;
    }
    snapshot.state.emplace(fields[i].str, fields[i + 1].str);
  }
  snapshot.records.reserve(event_ids.size());
  if (!event_ids.empty()) {
    const std::vector<RedisReply>& records = (*replies)[1].elements;
    if (records.size() != event_ids.size()) return absl::InternalError("MGET answered short");
    for (const RedisReply& record : records) {
      if (record.type == RedisReply::Type::kString) {
        snapshot.records.emplace_back(record.str);
      } else {
        snapshot.records.emplace_back(std::nullopt);
      }
    }
  }
  return snapshot;
}

absl::StatusOr<AssignmentStore::CommitResult> AssignmentStore::Commit(const CommitRequest& r) {
  const bool writes_records =
      !r.new_records.empty() || !r.replaced_records.empty() || !r.lead_index.empty();
  if (writes_records && r.ttl.count() <= 0) {
    return absl::InvalidArgumentError("record ttl must be positive");
  }
  if (r.state_updates.count(kVersionField) ||
      std::find(r.state_deletes.begin(), r.state_deletes.end(), kVersionField) !=
          r.state_deletes.end()) {
    return absl::InvalidArgumentError("the state field \"version\" belongs to the store");
  }
  std::unordered_set<std::string_view> seen;
  std::vector<std::string> keys{keys_.RoutingState(), keys_.UnassignedQueue()};
  std::vector<std::string> args{
      std::to_string(r.expected_version),     std::to_string(r.ttl.count()),
      std::to_string(r.new_records.size()),   std::to_string(r.replaced_records.size()),
      std::to_string(r.state_updates.size()), std::to_string(r.state_deletes.size()),
      std::to_string(r.queue_add.size()),     std::to_string(r.queue_remove.size()),
      std::to_string(r.lead_index.size())};
  for (const auto* records : {&r.new_records, &r.replaced_records}) {
    for (const auto& [event_id, bytes] : *records) {
      // Within one script the existence check cannot see the commit's own writes, so a
      // duplicate would silently overwrite its twin.
      if (!seen.insert(event_id).second) {
        return absl::InvalidArgumentError(
            absl::StrCat("event id '", event_id, "' appears twice in one commit"));
      }
      keys.push_back(keys_.EventRecord(event_id));
      args.push_back(bytes);
    }
  }
  for (const auto& [field, value] : r.state_updates) {
    args.push_back(field);
    args.push_back(value);
  }
  for (const auto& field : r.state_deletes) args.push_back(field);
  for (const auto& [event_id, queued_at] : r.queue_add) {
    args.push_back(std::to_string(queued_at));
    args.push_back(event_id);
  }
  for (const auto& event_id : r.queue_remove) args.push_back(event_id);
  for (const auto& [lead_id, event_id] : r.lead_index) {
    keys.push_back(keys_.LeadIndex(lead_id));
    args.push_back(event_id);
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
        return CommitResult::kVersionMoved;
      case 2:
        return CommitResult::kRecordExists;
    }
  }
  return absl::InternalError("commit script answered an unexpected value");
}

absl::StatusOr<std::pair<std::vector<std::string>, int64_t>> AssignmentStore::PeekUnassigned(
    size_t limit) {
  if (limit == 0) limit = 1;
  absl::StatusOr<std::vector<RedisReply>> replies =
      connection_->Pipeline({{"ZRANGE", keys_.UnassignedQueue(), "0", std::to_string(limit - 1)},
                             {"ZCARD", keys_.UnassignedQueue()}});
  if (!replies.ok()) return replies.status();
  if ((*replies)[0].type != RedisReply::Type::kArray ||
      (*replies)[1].type != RedisReply::Type::kInteger) {
    return absl::InternalError("unassigned queue answered an unexpected shape");
  }
  std::vector<std::string> ids;
  for (const RedisReply& id : (*replies)[0].elements) ids.push_back(id.str);
  return std::make_pair(std::move(ids), (*replies)[1].integer);
}

}  // namespace leadrouter::store
