#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

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

  // One command, one round trip. Arguments are binary-safe (may contain NUL bytes).
  absl::StatusOr<RedisReply> Command(const std::vector<std::string>& args);

  // Many commands in one round trip: all are written, then every reply is read, in order.
  // replies[i] answers commands[i]. An I/O failure part-way fails the whole call (Unavailable):
  // some commands may have run.
  absl::StatusOr<std::vector<RedisReply>> Pipeline(
      const std::vector<std::vector<std::string>>& commands);

  // False after an I/O error or timeout until the next successful reconnect.
  bool healthy() const;
  const RedisOptions& options() const;

 private:
  struct Impl;
  explicit RedisConnection(std::unique_ptr<Impl> impl);
  // Reconnects once if the connection is broken.
  absl::Status EnsureConnected();

  std::unique_ptr<Impl> impl_;
};

}  // namespace leadrouter::store
