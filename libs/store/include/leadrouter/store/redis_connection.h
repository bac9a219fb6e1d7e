#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "leadrouter/store/redis_observer.h"

namespace leadrouter::store {

// Where and how to reach Redis. Passed by value into connections; never shared mutable state.
struct RedisOptions {
  std::string host = "127.0.0.1";
  int port = 6379;
  // Sent with AUTH right after every (re)connect when non-empty.
  std::string password;
  std::chrono::milliseconds connect_timeout{2000};
  // Applies to every socket read and write; hiredis 0.14 has no other deadline mechanism.
  std::chrono::milliseconds command_timeout{2000};
  // Prefix scope of every key (see KeySchema). Must not contain '{' or '}'.
  std::string tenant = "default";
  // Hears every round trip of every connection made with these options (nullptr: none). Not
  // owned; must outlive those connections.
  RedisObserver* observer = nullptr;
};

// A value copy of one Redis reply, so no hiredis type crosses the library boundary.
// An error reply (e.g. "WRONGTYPE ...") is a value of Type::kError with the message in `str`,
// not a Status failure: Status failures mean the command's outcome is unknown (I/O, timeout).
struct RedisReply {
  enum class Type { kNil, kInteger, kString, kStatus, kError, kArray };
  Type type = Type::kNil;
  int64_t integer = 0;               // kInteger
  std::string str;                   // kString (binary-safe), kStatus, kError
  std::vector<RedisReply> elements;  // kArray

  bool is_error() const { return type == Type::kError; }
  bool is_nil() const { return type == Type::kNil; }
};

// A blocking hiredis connection owned for its whole life (RAII).
//
// Contract: every call either returns the server's replies (possibly error replies) or a
// Status. An I/O error or a timeout returns Unavailable and marks the connection broken: the
// command may or may not have run on the server, so it is never retried here. The next call on a
// broken connection first reconnects once (with AUTH); if that fails it returns Unavailable and
// stays broken, so callers drive their own backoff (see core::Backoff).
//
// Thread-compatible: one thread at a time; use one connection per thread.
class RedisConnection {
 public:
  // Connects, applies timeouts, authenticates. Unavailable (naming host:port) when the server
  // cannot be reached; Unauthenticated when AUTH is refused.
  static absl::StatusOr<std::unique_ptr<RedisConnection>> Connect(const RedisOptions& options);

  ~RedisConnection();
  RedisConnection(const RedisConnection&) = delete;
  RedisConnection& operator=(const RedisConnection&) = delete;

  // One command, one round trip. Arguments are binary-safe (may contain NUL bytes). `op` is
  // what the round trip is reported as to the options' observer.
  absl::StatusOr<RedisReply> Command(const std::vector<std::string>& args,
                                     RedisOp op = RedisOp::kOther);

  // Many commands in one round trip: all are written, then every reply is read, in order.
  // replies[i] answers commands[i]. An I/O failure part-way fails the whole call (Unavailable):
  // some commands may have run.
  absl::StatusOr<std::vector<RedisReply>> Pipeline(
      const std::vector<std::vector<std::string>>& commands, RedisOp op = RedisOp::kOther);

  // False after an I/O error or timeout until the next successful reconnect.
  bool healthy() const;
  const RedisOptions& options() const;

 private:
  struct Impl;
  explicit RedisConnection(std::unique_ptr<Impl> impl);
  // Reconnects once if the connection is broken.
  absl::Status EnsureConnected();
  absl::StatusOr<RedisReply> CommandUnobserved(const std::vector<std::string>& args);
  absl::StatusOr<std::vector<RedisReply>> PipelineUnobserved(
      const std::vector<std::vector<std::string>>& commands);

  std::unique_ptr<Impl> impl_;
};

}  // namespace leadrouter::store
