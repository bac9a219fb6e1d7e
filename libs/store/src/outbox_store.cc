#include "leadrouter/store/outbox_store.h"

#include <algorithm>
#include <string_view>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace leadrouter::store {
namespace {

// KEYS: outbox hash, lease, epoch, log. ARGV: holder, ttl ms. Returns the epoch, or 0 when
// another holder has the lease.
constexpr std::string_view kAcquireScript = R"lua(
if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
local epoch = redis.call('INCR', KEYS[3])
redis.call('SET', KEYS[2], epoch .. ':' .. ARGV[1], 'PX', ARGV[2])
if redis.call('HEXISTS', KEYS[1], 'position') == 0 then
  -- A new outbox: entries made before it existed were published when they were made.
  local last = redis.call('XREVRANGE', KEYS[4], '+', '-', 'COUNT', 1)
  local at = '0-0'
  if #last > 0 then at = last[1][1] end
  redis.call('HSET', KEYS[1], 'position', at, 'appended', 0, 'forwarded', 0)
end
return epoch
)lua";

// KEYS: lease. ARGV: token, ttl ms. 1 renewed, 0 not held.
constexpr std::string_view kRenewScript = R"lua(
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
)lua";

// KEYS: lease. ARGV: token.
constexpr std::string_view kReleaseScript = R"lua(
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 0
)lua";

// KEYS: outbox hash, lease. ARGV: token, from id, to id, count. 0 advanced, 1 lease lost,
// 2 moved.
constexpr std::string_view kAdvanceScript = R"lua(
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return 1 end
if redis.call('HGET', KEYS[1], 'position') ~= ARGV[2] then return 2 end
redis.call('HSET', KEYS[1], 'position', ARGV[3])
redis.call('HINCRBY', KEYS[1], 'forwarded', ARGV[4])
return 0
)lua";

absl::StatusOr<int64_t> IntegerReply(const absl::StatusOr<RedisReply>& reply, const char* what) {
  if (!reply.ok()) return reply.status();
  if (reply->type != RedisReply::Type::kInteger) {
    return absl::InternalError(absl::StrCat("outbox ", what, " answered: ", reply->str));
  }
  return reply->integer;
}

}  // namespace

OutboxStore::OutboxStore(std::unique_ptr<RedisConnection> connection, KeySchema keys)
    : connection_(std::move(connection)),
      keys_(std::move(keys)),
      acquire_script_(std::string(kAcquireScript)),
      renew_script_(std::string(kRenewScript)),
      release_script_(std::string(kReleaseScript)),
      advance_script_(std::string(kAdvanceScript)) {}

absl::StatusOr<std::unique_ptr<OutboxStore>> OutboxStore::Connect(const RedisOptions& options) {
  if (absl::Status valid = KeySchema::ValidateTenant(options.tenant); !valid.ok()) return valid;
  absl::StatusOr<std::unique_ptr<RedisConnection>> connection = RedisConnection::Connect(options);
  if (!connection.ok()) return connection.status();
  return std::unique_ptr<OutboxStore>(
      new OutboxStore(*std::move(connection), KeySchema(options.tenant)));
}

absl::StatusOr<std::optional<OutboxStore::Lease>> OutboxStore::Acquire(
    const std::string& holder, std::chrono::milliseconds ttl) {
  absl::StatusOr<int64_t> epoch = IntegerReply(
      acquire_script_.Run(
          *connection_,
          {keys_.Outbox(), keys_.OutboxLease(), keys_.OutboxEpoch(), keys_.AssignmentLog()},
          {holder, std::to_string(ttl.count())}, RedisOp::kOutbox),
      "lease");
  if (!epoch.ok()) return epoch.status();
  if (*epoch == 0) return std::nullopt;
  return Lease{absl::StrCat(*epoch, ":", holder), *epoch};
}

absl::StatusOr<bool> OutboxStore::Renew(const Lease& lease, std::chrono::milliseconds ttl) {
  absl::StatusOr<int64_t> renewed =
      IntegerReply(renew_script_.Run(*connection_, {keys_.OutboxLease()},
                                     {lease.token, std::to_string(ttl.count())}, RedisOp::kOutbox),
                   "renewal");
  if (!renewed.ok()) return renewed.status();
  return *renewed == 1;
}

absl::Status OutboxStore::Release(const Lease& lease) {
  return IntegerReply(release_script_.Run(*connection_, {keys_.OutboxLease()}, {lease.token},
                                          RedisOp::kOutbox),
                      "release")
      .status();
}

absl::StatusOr<std::optional<OutboxStore::Position>> OutboxStore::Load() {
  absl::StatusOr<RedisReply> reply = connection_->Command(
      {"HMGET", keys_.Outbox(), "position", "appended", "forwarded"}, RedisOp::kOutbox);
  if (!reply.ok()) return reply.status();
  if (reply->type != RedisReply::Type::kArray || reply->elements.size() != 3) {
    return absl::InternalError(absl::StrCat("outbox position answered: ", reply->str));
  }
  if (reply->elements[0].is_nil()) return std::nullopt;
  Position position;
  position.after_id = reply->elements[0].str;
  if (!absl::SimpleAtoi(reply->elements[1].str, &position.appended) ||
      !absl::SimpleAtoi(reply->elements[2].str, &position.forwarded)) {
    return absl::DataLossError(absl::StrCat(keys_.Outbox(), ": counters are not integers"));
  }
  return position;
}

absl::StatusOr<std::vector<AssignmentStore::LogEntry>> OutboxStore::Read(
    const std::string& after_id, size_t limit, std::chrono::milliseconds block) {
  const std::string count = std::to_string(std::max<size_t>(limit, 1));
  if (block.count() <= 0) {
    absl::StatusOr<RedisReply> reply = connection_->Command(
        {"XRANGE", keys_.AssignmentLog(), "(" + after_id, "+", "COUNT", count}, RedisOp::kOutbox);
    if (!reply.ok()) return reply.status();
    return internal::LogEntries(*reply);
  }
  absl::StatusOr<RedisReply> reply =
      connection_->Command({"XREAD", "COUNT", count, "BLOCK", std::to_string(block.count()),
                            "STREAMS", keys_.AssignmentLog(), after_id},
                           RedisOp::kOutbox);
  if (!reply.ok()) return reply.status();
  return internal::XReadEntries(*reply);
}

absl::StatusOr<OutboxStore::AdvanceResult> OutboxStore::Advance(const Lease& lease,
                                                                const std::string& from_id,
                                                                const std::string& to_id,
                                                                int64_t count) {
  absl::StatusOr<int64_t> result = IntegerReply(
      advance_script_.Run(*connection_, {keys_.Outbox(), keys_.OutboxLease()},
                          {lease.token, from_id, to_id, std::to_string(count)}, RedisOp::kOutbox),
      "advance");
  if (!result.ok()) return result.status();
  switch (*result) {
    case 0:
      return AdvanceResult::kAdvanced;
    case 1:
      return AdvanceResult::kLeaseLost;
    case 2:
      return AdvanceResult::kMoved;
  }
  return absl::InternalError(absl::StrCat("outbox advance answered ", *result));
}

}  // namespace leadrouter::store
