#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "leadrouter/store/redis_connection.h"

namespace leadrouter::store {

// A Lua script run by EVALSHA, so the source crosses the network only when the server lacks it
// (after a restart, failover or SCRIPT FLUSH): on a NOSCRIPT reply it is loaded with SCRIPT LOAD
// and the EVALSHA is sent once more.
//
// Immutable after construction; safe to share between threads (each with its own connection).
class LuaScript {
 public:
  explicit LuaScript(std::string source);

  const std::string& source() const { return source_; }
  // Lower-case hex SHA-1 of the source, as Redis computes it.
  const std::string& sha1() const { return sha1_; }

  // Runs the script. Script errors come back as a kError reply (a value); Status failures are
  // connection failures (see RedisConnection). Every round trip is reported as `op`.
  absl::StatusOr<RedisReply> Run(RedisConnection& connection, const std::vector<std::string>& keys,
                                 const std::vector<std::string>& args,
                                 RedisOp op = RedisOp::kOther) const;

  // The EVALSHA command for these keys and args, for callers that pipeline many runs. If any
  // pipelined reply is a NOSCRIPT error, call Load() and resend.
  std::vector<std::string> EvalShaCommand(const std::vector<std::string>& keys,
                                          const std::vector<std::string>& args) const;

  // Sends SCRIPT LOAD. FailedPrecondition if the server refuses or answers another digest.
  absl::Status Load(RedisConnection& connection, RedisOp op = RedisOp::kOther) const;

  // True when `reply` is the server's "script not cached" error.
  static bool IsNoScript(const RedisReply& reply);

 private:
  std::string source_;
  std::string sha1_;
};

}  // namespace leadrouter::store
