#include "leadrouter/store/redis_observer.h"

namespace leadrouter::store {

std::string_view RedisOpName(RedisOp op) {
  switch (op) {
    case RedisOp::kLoad:
      return "load";
    case RedisOp::kCommit:
      return "commit";
    case RedisOp::kQueue:
      return "queue";
    case RedisOp::kSla:
      return "sla";
    case RedisOp::kLog:
      return "log";
    case RedisOp::kLogTail:
      return "log_tail";
    case RedisOp::kOutbox:
      return "outbox";
    case RedisOp::kOther:
      return "other";
  }
  return "other";
}

}  // namespace leadrouter::store
