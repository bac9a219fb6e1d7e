#pragma once

#include <array>
#include <string_view>

namespace leadrouter::store {

// What a round trip to Redis was for: a small fixed set, so it can label a metric. Every
// AssignmentStore method tags its round trips with one of these.
enum class RedisOp {
  kLoad,     // routing state, event records, dedupe values, the lead index (Load*, EventIdOfLead)
  kCommit,   // the atomic commit script (EVALSHA, and SCRIPT LOAD after a NOSCRIPT)
  kQueue,    // the unassigned queue (PeekUnassigned)
  kSla,      // accept-SLA deadlines (DueSlaLeads, SlaPendingCount)
  kLog,      // the assignment log, non-blocking (ReadLog, LogLastId, LogTrimmedUpTo)
  kLogTail,  // the assignment log, blocking (TailLog: XREAD BLOCK; its time includes the wait)
  kOutbox,   // the outbox forwarder: its lease, its position and its reads of the log
  kOther,    // untagged commands (tools, tests)
};
inline constexpr std::array<RedisOp, 8> kAllRedisOps = {
    RedisOp::kLoad, RedisOp::kCommit,  RedisOp::kQueue,  RedisOp::kSla,
    RedisOp::kLog,  RedisOp::kLogTail, RedisOp::kOutbox, RedisOp::kOther};

// "load", "commit", "queue", "sla", "log", "log_tail", "outbox", "other".
std::string_view RedisOpName(RedisOp op);

// Hears every round trip a RedisConnection makes (one command or one pipeline): what it was
// for, how long it took from the caller's point of view (including a reconnect it needed) and
// whether it completed. `ok` is false exactly when the call returned a Status failure (I/O error,
// timeout, refused connection or AUTH on reconnect): the outcome is unknown. An error reply
// (e.g. WRONGTYPE, or NOSCRIPT before the script is loaded) is an answer, so `ok` is true.
//
// Lets the store be measured without depending on a metrics library. Implementations must be
// thread-safe (every connection of the process may call one observer concurrently), fast and
// must not throw; Observe runs on the caller's thread, right after the round trip.
class RedisObserver {
 public:
  virtual ~RedisObserver() = default;
  virtual void Observe(RedisOp op, double seconds, bool ok) = 0;
};

}  // namespace leadrouter::store
