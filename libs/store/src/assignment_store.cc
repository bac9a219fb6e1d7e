#include "leadrouter/store/assignment_store.h"

#include <algorithm>
#include <charconv>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "leadrouter/store/lua_script.h"
#include "leadrouter/store/record_codec.h"

namespace leadrouter::store {
namespace {

// KEYS: routing hash, unassigned queue, SLA deadlines, assignment log, outbox, then guarded value
// keys, guarded record keys, new record keys, replaced record keys, lead index keys, expiring
// value keys, hash keys of the HSETs, hash keys of the HDELs.
// ARGV: expected version ('' for a guarded commit), ttl, then the counts #new, #replaced,
// #updates, #deletes, #queue adds, #queue removes, #lead index entries, #expiring values, #sla
// adds, #sla removes, #log events, the log's approximate max length, #hash sets, #hash deletes,
// #guarded scopes, #guarded values, #guarded records, #scopes written, #logged records, the
// unscoped commits a guarded commit expects (Snapshot::unscoped_commits); then guarded
// scope/version pairs, guarded value exists-flag/value pairs, guarded record exists-flag/stamp
// pairs, the scopes written, new bytes, replaced bytes, update field/value pairs, delete fields,
// queue score/member pairs, queue removals, indexed event ids, value/ttl/mode triples, sla
// score/member pairs, sla removals, log entries, logged records (0-based indexes into the record
// bytes), hash field/value pairs, hash fields to delete. Versions are compared as canonical
// decimal strings, not Lua numbers (Lua 5.1 numbers are doubles). All checks run
// before the first write, so a refused commit writes nothing; since the first write is where
// Redis applies its OOM refusal, a script that starts writing finishes. Returns 0 committed, 1
// version moved (or a guard failed), 2 a record exists.
constexpr std::string_view kCommitScript = R"lua(
local n = {}
for i = 3, 21 do n[#n + 1] = tonumber(ARGV[i]) end
local n_new, n_rep, n_upd, n_del, n_qadd, n_qrem = n[1], n[2], n[3], n[4], n[5], n[6]
local n_idx, n_exp, n_sadd, n_srem, n_log, log_max = n[7], n[8], n[9], n[10], n[11], n[12]
local n_hset, n_hdel, n_gscope, n_gval, n_grec, n_bump = n[13], n[14], n[15], n[16], n[17], n[18]
local n_logrec = n[19]
if ARGV[1] ~= '' then
  local version = redis.call('HGET', KEYS[1], 'version')
  if version == false then version = '0' end
  if version ~= ARGV[1] then return 1 end
else
  -- A writer that keeps no scope versions (an older leadrouter, mid rolling upgrade) moves only
  -- 'version': every commit of this script moves 'v:' with it, so their difference counts the
  -- other writer's commits, and one since the load refuses a guarded commit.
  local version = tonumber(redis.call('HGET', KEYS[1], 'version') or '0')
  local scoped = tonumber(redis.call('HGET', KEYS[1], 'v:') or '0')
  if version - scoped ~= tonumber(ARGV[22]) then return 1 end
end
local a = 23
for i = 1, n_gscope do
  local version = redis.call('HGET', KEYS[1], 'v:' .. ARGV[a])
  if version == false then version = '0' end
  if version ~= ARGV[a + 1] then return 1 end
  a = a + 2
end
local k = 5
for i = 1, n_gval do
  local value = redis.call('GET', KEYS[k + i])
  if ARGV[a] == '0' then
    if value ~= false then return 1 end
  elseif value ~= ARGV[a + 1] then
    return 1
  end
  a = a + 2
end
k = k + n_gval
for i = 1, n_grec do
  local value = redis.call('GET', KEYS[k + i])
  if ARGV[a] == '0' then
    if value ~= false then return 1 end
  elseif value == false or redis.sha1hex(value) ~= ARGV[a + 1] then
    return 1
  end
  a = a + 2
end
k = k + n_grec
local bump_at = a
a = a + n_bump
for i = 1, n_new do
  if redis.call('EXISTS', KEYS[k + i]) == 1 then return 2 end
end
local record_at = a
for i = 1, n_new + n_rep do
  redis.call('SET', KEYS[k + i], ARGV[a], 'EX', ARGV[2])
  a = a + 1
end
k = k + n_new + n_rep
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
  redis.call('SET', KEYS[k + i], ARGV[a], 'EX', ARGV[2])
  a = a + 1
end
k = k + n_idx
for i = 1, n_exp do
  -- An unchanged value keeps a longer remaining expiry: leads into a claimed account renew its
  -- owner for the idle period but never cut the claim's longer period short. The client says
  -- which it is when a guard told it the current value ('s': changed, 'r': unchanged).
  local key, mode = KEYS[k + i], ARGV[a + 2]
  if mode == 's' then
    redis.call('SET', key, ARGV[a], 'EX', ARGV[a + 1])
  elseif mode == 'r' then
    redis.call('EXPIRE', key, ARGV[a + 1], 'GT')
  elseif redis.call('GET', key) ~= ARGV[a] or redis.call('TTL', key) < tonumber(ARGV[a + 1]) then
    redis.call('SET', key, ARGV[a], 'EX', ARGV[a + 1])
  end
  a = a + 3
end
k = k + n_exp
-- Removals first: a lead re-routed in this commit drops its old deadline and gets a new one.
local sadd_at = a
a = a + 2 * n_sadd
for i = 1, n_srem do
  redis.call('ZREM', KEYS[3], ARGV[a])
  a = a + 1
end
for i = 1, n_sadd do
  redis.call('ZADD', KEYS[3], ARGV[sadd_at + 2 * (i - 1)], ARGV[sadd_at + 2 * (i - 1) + 1])
end
-- The outbox (KEYS[5]) counts what was appended and what its forwarder has published: the log
-- is trimmed to about log_max entries only while fewer than that wait to be forwarded, so an
-- entry is never trimmed before it reached Kafka (MAXLEN ~ keeps at least log_max entries).
if n_log + n_logrec > 0 then
  if redis.call('HEXISTS', KEYS[5], 'position') == 0 then
    -- The first append under an outbox: older entries were published when they were made.
    local last = redis.call('XREVRANGE', KEYS[4], '+', '-', 'COUNT', 1)
    local at = '0-0'
    if #last > 0 then at = last[1][1] end
    redis.call('HSET', KEYS[5], 'position', at, 'appended', 0, 'forwarded', 0)
  end
  local appended = redis.call('HINCRBY', KEYS[5], 'appended', n_log + n_logrec)
  local backlog = appended - tonumber(redis.call('HGET', KEYS[5], 'forwarded'))
  for i = 1, n_log + n_logrec do
    -- 'e': an event's own bytes; 'o': the bytes of a record of this commit (its assignment).
    local field, value = 'e', ARGV[a]
    if i > n_log then field, value = 'o', ARGV[record_at + tonumber(ARGV[a])] end
    if backlog <= log_max then
      redis.call('XADD', KEYS[4], 'MAXLEN', '~', log_max, '*', field, value)
    else
      redis.call('XADD', KEYS[4], '*', field, value)
    end
    a = a + 1
  end
end
for i = 1, n_hset do
  redis.call('HSET', KEYS[k + i], ARGV[a], ARGV[a + 1])
  a = a + 2
end
k = k + n_hset
for i = 1, n_hdel do
  redis.call('HDEL', KEYS[k + i], ARGV[a])
  a = a + 1
end
if n_new + n_rep + n_upd + n_del + n_qadd + n_qrem + n_idx + n_exp + n_sadd + n_srem + n_log +
    n_hset + n_hdel > 0 then
  redis.call('HINCRBY', KEYS[1], 'version', 1)
  redis.call('HINCRBY', KEYS[1], 'v:', 1)
  for i = 0, n_bump - 1 do
    redis.call('HINCRBY', KEYS[1], 'v:' .. ARGV[bump_at + i], 1)
  end
end
return 0
)lua";

constexpr char kVersionField[] = "version";
constexpr std::string_view kScopeVersionPrefix = "v:";

// The store on one Redis connection: plain commands for the reads, one Lua script for Commit.
class RedisAssignmentStore final : public AssignmentStore {
 public:
  RedisAssignmentStore(std::unique_ptr<RedisConnection> connection, KeySchema keys)
      : AssignmentStore(std::move(keys)),
        connection_(std::move(connection)),
        commit_script_(std::string(kCommitScript)) {}

  using AssignmentStore::Load;
  using AssignmentStore::LoadRecords;
  using AssignmentStore::RecordUndeliverable;
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
  bool healthy() const override { return connection_->healthy(); }

 private:
  std::unique_ptr<RedisConnection> connection_;
  LuaScript commit_script_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<AssignmentStore>> AssignmentStore::Connect(
    const RedisOptions& options) {
  if (absl::Status valid = KeySchema::ValidateTenant(options.tenant); !valid.ok()) return valid;
  absl::StatusOr<std::unique_ptr<RedisConnection>> connection = RedisConnection::Connect(options);
  if (!connection.ok()) return connection.status();
  return std::unique_ptr<AssignmentStore>(
      new RedisAssignmentStore(*std::move(connection), KeySchema(options.tenant)));
}

namespace {

// The string values of a MGET reply; nullopt for a missing key (or one of another type).
absl::StatusOr<std::vector<std::optional<std::string>>> MgetValues(const RedisReply& reply,
                                                                   size_t expected) {
  if (reply.type != RedisReply::Type::kArray || reply.elements.size() != expected) {
    return absl::InternalError("MGET answered an unexpected shape");
  }
  std::vector<std::optional<std::string>> values;
  values.reserve(expected);
  for (const RedisReply& value : reply.elements) {
    if (value.type == RedisReply::Type::kString) {
      values.emplace_back(value.str);
    } else {
      values.emplace_back(std::nullopt);
    }
  }
  return values;
}

// Stored records (record_codec.h) in place as the serialized outcomes; DataLoss naming the event
// of one that does not decode.
absl::Status DecodeRecords(const std::vector<std::string>& event_ids,
                           std::vector<std::optional<std::string>>& records) {
  for (size_t i = 0; i < records.size(); ++i) {
    if (!records[i].has_value()) continue;
    absl::StatusOr<std::string> decoded = DecodeRecord(*records[i]);
    if (!decoded.ok()) {
      return absl::DataLossError(
          absl::StrCat("event \"", event_ids[i], "\": ", decoded.status().message()));
    }
    records[i] = *std::move(decoded);
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::vector<std::optional<std::string>>> RedisAssignmentStore::LoadValues(
    const std::vector<std::string>& keys) {
  if (keys.empty()) return std::vector<std::optional<std::string>>{};
  std::vector<std::string> mget{"MGET"};
  mget.insert(mget.end(), keys.begin(), keys.end());
  absl::StatusOr<RedisReply> reply = connection_->Command(mget, RedisOp::kLoad);
  if (!reply.ok()) return reply.status();
  if (reply->is_error()) return absl::InternalError(absl::StrCat("load failed: ", reply->str));
  return MgetValues(*reply, keys.size());
}

absl::StatusOr<std::vector<std::optional<std::string>>> RedisAssignmentStore::LoadHashFields(
    const std::string& key, const std::vector<std::string>& fields) {
  if (fields.empty()) return std::vector<std::optional<std::string>>{};
  std::vector<std::string> hmget{"HMGET", key};
  hmget.insert(hmget.end(), fields.begin(), fields.end());
  absl::StatusOr<RedisReply> reply = connection_->Command(hmget);
  if (!reply.ok()) return reply.status();
  if (reply->is_error()) return absl::InternalError(absl::StrCat("HMGET failed: ", reply->str));
  return MgetValues(*reply, fields.size());
}

absl::StatusOr<std::vector<std::pair<std::string, std::string>>> RedisAssignmentStore::LoadHash(
    const std::string& key) {
  absl::StatusOr<RedisReply> reply = connection_->Command({"HGETALL", key});
  if (!reply.ok()) return reply.status();
  if (reply->is_error()) return absl::InternalError(absl::StrCat("HGETALL failed: ", reply->str));
  if (reply->type != RedisReply::Type::kArray || reply->elements.size() % 2 != 0) {
    return absl::InternalError("HGETALL answered an unexpected shape");
  }
  std::vector<std::pair<std::string, std::string>> fields;
  for (size_t i = 0; i + 1 < reply->elements.size(); i += 2) {
    fields.emplace_back(reply->elements[i].str, reply->elements[i + 1].str);
  }
  return fields;
}

absl::StatusOr<AssignmentStore::StampedRecords> RedisAssignmentStore::LoadStampedRecords(
    const std::vector<std::string>& event_ids) {
  std::vector<std::string> record_keys;
  record_keys.reserve(event_ids.size());
  for (const std::string& event_id : event_ids) record_keys.push_back(keys().EventRecord(event_id));
  auto records = LoadValues(record_keys);
  if (!records.ok()) return records.status();
  StampedRecords stamped;
  stamped.stamps.reserve(records->size());
  for (const std::optional<std::string>& stored : *records) {
    stamped.stamps.push_back(stored ? std::optional<std::string>(RecordStamp(*stored))
                                    : std::nullopt);
  }
  if (absl::Status s = DecodeRecords(event_ids, *records); !s.ok()) return s;
  stamped.records = *std::move(records);
  return stamped;
}

absl::StatusOr<AssignmentStore::Snapshot> RedisAssignmentStore::Load(
    const std::vector<std::string>& event_ids, const std::vector<std::string>& value_keys) {
  std::vector<std::vector<std::string>> commands;
  commands.push_back({"HGETALL", keys().RoutingState()});
  if (!event_ids.empty()) {
    std::vector<std::string> mget{"MGET"};
    mget.reserve(1 + event_ids.size());
    for (const std::string& event_id : event_ids) mget.push_back(keys().EventRecord(event_id));
    commands.push_back(std::move(mget));
  }
  if (!value_keys.empty()) {
    std::vector<std::string> mget{"MGET"};
    mget.insert(mget.end(), value_keys.begin(), value_keys.end());
    commands.push_back(std::move(mget));
  }
  absl::StatusOr<std::vector<RedisReply>> replies = connection_->Pipeline(commands, RedisOp::kLoad);
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
    const std::string& field = fields[i].str;
    int64_t* version = nullptr;
    if (field == kVersionField) {
      version = &snapshot.version;
    } else if (std::string_view(field).starts_with(kScopeVersionPrefix)) {
      version = &snapshot.scope_versions[field.substr(kScopeVersionPrefix.size())];
    } else {
      snapshot.state.emplace(field, fields[i + 1].str);
      continue;
    }
    const std::string& v = fields[i + 1].str;
    auto [end, error] = std::from_chars(v.data(), v.data() + v.size(), *version);
    if (error != std::errc() || end != v.data() + v.size()) {
      return absl::DataLossError(
          absl::StrCat(keys().RoutingState(), " holds a non-integer ", field, ": ", v));
    }
  }
  // "v:" (the empty scope) counts this store's commits; the rest of the version, other writers'.
  if (auto scoped = snapshot.scope_versions.find(""); scoped != snapshot.scope_versions.end()) {
    snapshot.unscoped_commits = snapshot.version - scoped->second;
    snapshot.scope_versions.erase(scoped);
  } else {
    snapshot.unscoped_commits = snapshot.version;
  }
  size_t next_reply = 1;
  if (!event_ids.empty()) {
    auto records = MgetValues((*replies)[next_reply++], event_ids.size());
    if (!records.ok()) return records.status();
    if (absl::Status s = DecodeRecords(event_ids, *records); !s.ok()) return s;
    snapshot.records = *std::move(records);
  }
  if (!value_keys.empty()) {
    auto values = MgetValues((*replies)[next_reply++], value_keys.size());
    if (!values.ok()) return values.status();
    snapshot.values = *std::move(values);
  }
  return snapshot;
}

absl::StatusOr<std::vector<std::optional<std::string>>> AssignmentStore::LoadRecords(
    const std::vector<std::string>& event_ids) {
  absl::StatusOr<StampedRecords> stamped = LoadStampedRecords(event_ids);
  if (!stamped.ok()) return stamped.status();
  return std::move(stamped->records);
}

std::string_view ScopeOfField(std::string_view field) {
  const size_t first = field.find(':');
  if (first == std::string_view::npos) return field;
  const size_t second = field.find(':', first + 1);
  return second == std::string_view::npos ? field : field.substr(0, second);
}

std::string ScopeVersionField(std::string_view scope) {
  std::string field(kScopeVersionPrefix);
  field += scope;
  return field;
}

std::vector<std::string> AssignmentStore::WrittenScopes(const CommitRequest& r) {
  std::vector<std::string> scopes;
  for (const auto& [field, value] : r.state_updates) scopes.emplace_back(ScopeOfField(field));
  for (const std::string& field : r.state_deletes) scopes.emplace_back(ScopeOfField(field));
  std::sort(scopes.begin(), scopes.end());
  scopes.erase(std::unique(scopes.begin(), scopes.end()), scopes.end());
  return scopes;
}

absl::Status AssignmentStore::CheckCommitRequest(const CommitRequest& r) const {
  const bool writes_records =
      !r.new_records.empty() || !r.replaced_records.empty() || !r.lead_index.empty();
  if (writes_records && r.ttl.count() <= 0) {
    return absl::InvalidArgumentError("record ttl must be positive");
  }
  auto store_owned = [](std::string_view field) {
    return field == kVersionField || field.starts_with(kScopeVersionPrefix);
  };
  for (const auto& [field, value] : r.state_updates) {
    if (store_owned(field)) {
      return absl::InvalidArgumentError(
          absl::StrCat("the state field \"", field, "\" belongs to the store"));
    }
  }
  for (const std::string& field : r.state_deletes) {
    if (store_owned(field)) {
      return absl::InvalidArgumentError(
          absl::StrCat("the state field \"", field, "\" belongs to the store"));
    }
  }
  if (r.guards) {
    for (const auto& [key, value] : r.guards->values) {
      if (key.rfind(keys().prefix(), 0) != 0) {
        return absl::InvalidArgumentError(absl::StrCat(
            "guarded key '", key, "' is not one of tenant ", keys().tenant(), "'s keys"));
      }
    }
  }
  if ((!r.log_events.empty() || !r.log_records.empty()) && r.log_max_events <= 0) {
    return absl::InvalidArgumentError("log_max_events must be positive when logging events");
  }
  for (size_t record : r.log_records) {
    if (record >= r.new_records.size() + r.replaced_records.size()) {
      return absl::InvalidArgumentError(
          absl::StrCat("log_records names record ", record, " of ",
                       r.new_records.size() + r.replaced_records.size()));
    }
  }
  // Within one commit the existence check cannot see the commit's own writes, so a duplicate
  // would silently overwrite its twin.
  std::unordered_set<std::string_view> seen;
  for (const auto* records : {&r.new_records, &r.replaced_records}) {
    for (const auto& [event_id, bytes] : *records) {
      if (!seen.insert(event_id).second) {
        return absl::InvalidArgumentError(
            absl::StrCat("event id '", event_id, "' appears twice in one commit"));
      }
    }
  }
  for (const auto& value : r.expiring_values) {
    if (value.key.rfind(keys().prefix(), 0) != 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("key '", value.key, "' is not one of tenant ", keys().tenant(), "'s keys"));
    }
    if (value.ttl.count() <= 0) {
      return absl::InvalidArgumentError(absl::StrCat("ttl of '", value.key, "' must be positive"));
    }
  }
  for (const auto* writes : {&r.hash_sets, &r.hash_deletes}) {
    for (const CommitRequest::HashField& write : *writes) {
      if (write.key.rfind(keys().prefix(), 0) != 0) {
        return absl::InvalidArgumentError(absl::StrCat(
            "key '", write.key, "' is not one of tenant ", keys().tenant(), "'s keys"));
      }
      if (write.key == keys().RoutingState()) {
        return absl::InvalidArgumentError("the routing hash is written through state_updates");
      }
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<AssignmentStore::CommitResult> RedisAssignmentStore::Commit(const CommitRequest& r) {
  if (absl::Status valid = CheckCommitRequest(r); !valid.ok()) return valid;
  std::vector<std::string> script_keys{keys().RoutingState(), keys().UnassignedQueue(),
                                       keys().SlaDeadlines(), keys().AssignmentLog(),
                                       keys().Outbox()};
  const CommitRequest::Guards no_guards;
  const CommitRequest::Guards& guards = r.guards ? *r.guards : no_guards;
  const std::vector<std::string> written_scopes = WrittenScopes(r);
  std::vector<std::string> args{r.guards ? std::string() : std::to_string(r.expected_version),
                                std::to_string(r.ttl.count()),
                                std::to_string(r.new_records.size()),
                                std::to_string(r.replaced_records.size()),
                                std::to_string(r.state_updates.size()),
                                std::to_string(r.state_deletes.size()),
                                std::to_string(r.queue_add.size()),
                                std::to_string(r.queue_remove.size()),
                                std::to_string(r.lead_index.size()),
                                std::to_string(r.expiring_values.size()),
                                std::to_string(r.sla_add.size()),
                                std::to_string(r.sla_remove.size()),
                                std::to_string(r.log_events.size()),
                                std::to_string(r.log_max_events),
                                std::to_string(r.hash_sets.size()),
                                std::to_string(r.hash_deletes.size()),
                                std::to_string(guards.scopes.size()),
                                std::to_string(guards.values.size()),
                                std::to_string(guards.records.size()),
                                std::to_string(written_scopes.size()),
                                std::to_string(r.log_records.size()),
                                std::to_string(guards.unscoped_commits)};
  for (const auto& [scope, version] : guards.scopes) {
    args.push_back(scope);
    args.push_back(std::to_string(version));
  }
  for (const auto& [key, value] : guards.values) {
    script_keys.push_back(key);
    args.push_back(value ? "1" : "0");
    args.push_back(value.value_or(""));
  }
  for (const auto& [event_id, stamp] : guards.records) {
    script_keys.push_back(keys().EventRecord(event_id));
    args.push_back(stamp ? "1" : "0");
    args.push_back(stamp.value_or(""));
  }
  args.insert(args.end(), written_scopes.begin(), written_scopes.end());
  for (const auto* records : {&r.new_records, &r.replaced_records}) {
    for (const auto& [event_id, bytes] : *records) {
      script_keys.push_back(keys().EventRecord(event_id));
      args.push_back(EncodeRecord(bytes));
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
    script_keys.push_back(keys().LeadIndex(lead_id));
    args.push_back(event_id);
  }
  // Where a guard holds a key's value, the commit knows it (the script checks the guards first),
  // so the script need not read it again before each write.
  std::unordered_map<std::string_view, std::optional<std::string_view>> known;
  for (const auto& [key, value] : guards.values) {
    known.emplace(key, value ? std::optional<std::string_view>(*value) : std::nullopt);
  }
  for (const auto& value : r.expiring_values) {
    script_keys.push_back(value.key);
    args.push_back(value.value);
    args.push_back(std::to_string(value.ttl.count()));
    auto current = known.find(value.key);
    if (current == known.end()) {
      args.push_back("?");
    } else {
      args.push_back(current->second == std::string_view(value.value) ? "r" : "s");
      current->second = value.value;
    }
  }
  for (const auto& [lead_id, deadline_s] : r.sla_add) {
    args.push_back(std::to_string(deadline_s));
    args.push_back(lead_id);
  }
  for (const auto& lead_id : r.sla_remove) args.push_back(lead_id);
  // Compressed as records are (~2 KB -> a few hundred bytes): smaller script arguments and a
  // smaller log; every reader decodes through internal::LogEntries.
  for (const auto& bytes : r.log_events) args.push_back(EncodeRecord(bytes));
  for (size_t record : r.log_records) args.push_back(std::to_string(record));
  for (const auto* writes : {&r.hash_sets, &r.hash_deletes}) {
    for (const CommitRequest::HashField& write : *writes) {
      script_keys.push_back(write.key);
      args.push_back(write.field);
      if (writes == &r.hash_sets) args.push_back(write.value);
    }
  }

  absl::StatusOr<RedisReply> reply =
      commit_script_.Run(*connection_, script_keys, args, RedisOp::kCommit);
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

absl::StatusOr<std::pair<std::vector<std::string>, int64_t>> RedisAssignmentStore::PeekUnassigned(
    size_t limit) {
  if (limit == 0) limit = 1;
  absl::StatusOr<std::vector<RedisReply>> replies =
      connection_->Pipeline({{"ZRANGE", keys().UnassignedQueue(), "0", std::to_string(limit - 1)},
                             {"ZCARD", keys().UnassignedQueue()}},
                            RedisOp::kQueue);
  if (!replies.ok()) return replies.status();
  if ((*replies)[0].type != RedisReply::Type::kArray ||
      (*replies)[1].type != RedisReply::Type::kInteger) {
    return absl::InternalError("unassigned queue answered an unexpected shape");
  }
  std::vector<std::string> ids;
  for (const RedisReply& id : (*replies)[0].elements) ids.push_back(id.str);
  return std::make_pair(std::move(ids), (*replies)[1].integer);
}

absl::StatusOr<std::vector<core::LeadId>> RedisAssignmentStore::DueSlaLeads(int64_t now_s,
                                                                            size_t limit) {
  absl::StatusOr<RedisReply> reply =
      connection_->Command({"ZRANGE", keys().SlaDeadlines(), "-inf", std::to_string(now_s),
                            "BYSCORE", "LIMIT", "0", std::to_string(std::max<size_t>(limit, 1))},
                           RedisOp::kSla);
  if (!reply.ok()) return reply.status();
  if (reply->type != RedisReply::Type::kArray) {
    return absl::InternalError(absl::StrCat("SLA deadlines answered: ", reply->str));
  }
  std::vector<core::LeadId> ids;
  for (const RedisReply& id : reply->elements) ids.emplace_back(id.str);
  return ids;
}

absl::StatusOr<int64_t> RedisAssignmentStore::SlaPendingCount() {
  absl::StatusOr<RedisReply> reply =
      connection_->Command({"ZCARD", keys().SlaDeadlines()}, RedisOp::kSla);
  if (!reply.ok()) return reply.status();
  if (reply->type != RedisReply::Type::kInteger) {
    return absl::InternalError(absl::StrCat("ZCARD answered: ", reply->str));
  }
  return reply->integer;
}

absl::StatusOr<std::optional<core::EventId>> RedisAssignmentStore::EventIdOfLead(
    const core::LeadId& lead_id) {
  absl::StatusOr<RedisReply> reply =
      connection_->Command({"GET", keys().LeadIndex(lead_id.value())}, RedisOp::kLoad);
  if (!reply.ok()) return reply.status();
  if (reply->is_error()) return absl::InternalError(absl::StrCat("GET failed: ", reply->str));
  if (reply->type != RedisReply::Type::kString) return std::optional<core::EventId>();
  return std::optional<core::EventId>(core::EventId(reply->str));
}

absl::StatusOr<std::vector<AssignmentStore::LogEntry>> internal::LogEntries(
    const RedisReply& reply) {
  std::vector<AssignmentStore::LogEntry> entries;
  if (reply.is_nil()) return entries;
  if (reply.type != RedisReply::Type::kArray) {
    return absl::InternalError(absl::StrCat("assignment log answered: ", reply.str));
  }
  for (const RedisReply& entry : reply.elements) {
    if (entry.type != RedisReply::Type::kArray || entry.elements.size() != 2 ||
        entry.elements[1].type != RedisReply::Type::kArray) {
      return absl::InternalError("assignment log entry has an unexpected shape");
    }
    const std::vector<RedisReply>& fields = entry.elements[1].elements;
    for (size_t i = 0; i + 1 < fields.size(); i += 2) {
      const bool event = fields[i].str == "e", record = fields[i].str == "o";
      if (!event && !record) continue;
      absl::StatusOr<std::string> decoded = DecodeRecord(fields[i + 1].str);
      if (!decoded.ok()) {
        entries.push_back({entry.elements[0].str, fields[i + 1].str});
      } else if (event) {
        entries.push_back({entry.elements[0].str, *std::move(decoded)});
      } else {
        const std::optional<std::string_view> assignment = AssignmentOfOutcome(*decoded);
        entries.push_back(
            {entry.elements[0].str, assignment ? std::string(*assignment) : *std::move(decoded)});
      }
    }
  }
  return entries;
}

absl::StatusOr<std::vector<AssignmentStore::LogEntry>> internal::XReadEntries(
    const RedisReply& reply) {
  if (reply.is_nil()) return std::vector<AssignmentStore::LogEntry>{};
  if (reply.type != RedisReply::Type::kArray || reply.elements.size() != 1 ||
      reply.elements[0].elements.size() != 2) {
    return absl::InternalError(absl::StrCat("XREAD answered: ", reply.str));
  }
  return LogEntries(reply.elements[0].elements[1]);
}

absl::StatusOr<std::vector<AssignmentStore::LogEntry>> RedisAssignmentStore::ReadLog(
    const std::string& after_id, size_t limit) {
  absl::StatusOr<RedisReply> reply =
      connection_->Command({"XRANGE", keys().AssignmentLog(), "(" + after_id, "+", "COUNT",
                            std::to_string(std::max<size_t>(limit, 1))},
                           RedisOp::kLog);
  if (!reply.ok()) return reply.status();
  if (reply->is_error()) {
    return absl::InvalidArgumentError(absl::StrCat("cursor \"", after_id, "\": ", reply->str));
  }
  return internal::LogEntries(*reply);
}

absl::StatusOr<std::vector<AssignmentStore::LogEntry>> RedisAssignmentStore::ReadLogTail(
    size_t limit) {
  absl::StatusOr<RedisReply> reply =
      connection_->Command({"XREVRANGE", keys().AssignmentLog(), "+", "-", "COUNT",
                            std::to_string(std::max<size_t>(limit, 1))},
                           RedisOp::kLog);
  if (!reply.ok()) return reply.status();
  if (reply->is_error()) return absl::InternalError(absl::StrCat("XREVRANGE: ", reply->str));
  auto entries = internal::LogEntries(*reply);
  if (entries.ok()) std::reverse(entries->begin(), entries->end());
  return entries;
}

absl::StatusOr<std::vector<AssignmentStore::LogEntry>> RedisAssignmentStore::TailLog(
    const std::string& after_id, size_t limit, std::chrono::milliseconds block) {
  absl::StatusOr<RedisReply> reply = connection_->Command(
      {"XREAD", "COUNT", std::to_string(std::max<size_t>(limit, 1)), "BLOCK",
       std::to_string(block.count()), "STREAMS", keys().AssignmentLog(), after_id},
      RedisOp::kLogTail);
  if (!reply.ok()) return reply.status();
  return internal::XReadEntries(*reply);
}

absl::Status RedisAssignmentStore::RecordUndeliverable(
    const std::vector<UndeliverableRecord>& records, std::chrono::seconds ttl, int64_t log_max) {
  if (records.empty()) return absl::OkStatus();
  if (ttl.count() <= 0) return absl::InvalidArgumentError("undeliverable: ttl must be positive");
  std::vector<std::vector<std::string>> commands;
  for (const UndeliverableRecord& record : records) {
    const std::string key = keys().Undeliverable(record.id);
    std::vector<std::string> hset = {"HSET", key, "id", record.id};
    std::vector<std::string> xadd = {
        "XADD",   keys().UndeliverableLog(), "MAXLEN", "~", std::to_string(log_max), "*", "id",
        record.id};
    for (const auto& [field, value] : record.fields) {
      hset.push_back(field);
      hset.push_back(value);
      xadd.push_back(field);
      xadd.push_back(value);
    }
    commands.push_back(std::move(hset));
    commands.push_back({"EXPIRE", key, std::to_string(ttl.count())});
    commands.push_back(std::move(xadd));
  }
  absl::StatusOr<std::vector<RedisReply>> replies =
      connection_->Pipeline(commands, RedisOp::kCommit);
  if (!replies.ok()) return replies.status();
  for (const RedisReply& reply : *replies) {
    if (reply.is_error()) {
      return absl::UnavailableError(absl::StrCat("recording undeliverable messages: ", reply.str));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::pair<std::string, std::string>>>
RedisAssignmentStore::LoadUndeliverable(const std::string& id) {
  return LoadHash(keys().Undeliverable(id));
}

absl::StatusOr<std::string> RedisAssignmentStore::LogLastId() {
  absl::StatusOr<RedisReply> reply =
      connection_->Command({"XINFO", "STREAM", keys().AssignmentLog()}, RedisOp::kLog);
  if (!reply.ok()) return reply.status();
  if (reply->is_error()) return std::string("0-0");  // no log yet
  for (size_t i = 0; i + 1 < reply->elements.size(); i += 2) {
    if (reply->elements[i].str == "last-generated-id") return reply->elements[i + 1].str;
  }
  return absl::InternalError("XINFO STREAM has no last-generated-id");
}

absl::StatusOr<std::string> RedisAssignmentStore::LogTrimmedUpTo() {
  absl::StatusOr<RedisReply> reply =
      connection_->Command({"XINFO", "STREAM", keys().AssignmentLog()}, RedisOp::kLog);
  if (!reply.ok()) return reply.status();
  if (reply->is_error()) return std::string("0-0");  // no log yet: nothing was trimmed
  // Trimming does not move max-deleted-entry-id (only XDEL does): a log that has lost entries has
  // entries-added > length, and what it lost is older than its first entry.
  int64_t added = -1, length = -1;
  std::string first_id;
  for (size_t i = 0; i + 1 < reply->elements.size(); i += 2) {
    const std::string& name = reply->elements[i].str;
    const RedisReply& value = reply->elements[i + 1];
    if (name == "entries-added") added = value.integer;
    if (name == "length") length = value.integer;
    if (name == "first-entry" && value.type == RedisReply::Type::kArray &&
        !value.elements.empty()) {
      first_id = value.elements[0].str;
    }
  }
  if (added < 0 || length < 0) {
    return absl::InternalError("XINFO STREAM has no entries-added (Redis 7 needed)");
  }
  if (added <= length || first_id.empty()) return std::string("0-0");
  return first_id;
}

}  // namespace leadrouter::store
