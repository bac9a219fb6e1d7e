#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "leadrouter/routing/engine.h"
#include "leadrouter/v1/assignment.pb.h"

namespace leadrouter::decide {

// What one decision asks the store to write, as intent: no key names, no encodings. A store
// applies all of it atomically or none of it (Redis: one compare-and-set script; MemoryStore:
// one call), and only if the state it was decided on is still current. A value type.
struct Writes {
  using Record = std::pair<std::string /*event_id*/, std::shared_ptr<const v1::EventOutcome>>;
  // New outcomes under their event ids: the whole write is refused when one already has a record
  // (another instance decided it first). Every record lives for config.redis.idempotency_ttl.
  std::vector<Record> new_records;
  // Existing records rewritten (the lead moved on: re-routed, accepted, returned, ...).
  std::vector<Record> replaced_records;
  // lead id -> the event id whose record holds the lead, so a lead can be found by its id.
  std::vector<std::pair<std::string, std::string>> lead_index;
  // The routing counters after the decision, when it moved any: the store writes the counters
  // that differ from the ones it read.
  std::optional<routing::RoutingState> state;
  // The unassigned queue: event id -> queued at (seconds since the epoch); removals.
  std::vector<std::pair<std::string, int64_t>> queue_add;
  std::vector<std::string> queue_remove;
  // Accept-SLA deadlines: lead id -> deadline (seconds since the epoch); removals.
  std::vector<std::pair<std::string, int64_t>> sla_add;
  std::vector<std::string> sla_remove;
  // Dedupe keys with their own expiry. A person key's value is the event id holding the person's
  // lead; an account key's the owners (dedupe::FormatOwners). Rewriting a key with the value it
  // already has never shortens its remaining expiry.
  struct Key {
    enum class Kind { kPerson, kAccount };
    Kind kind = Kind::kPerson;
    std::string hmac;
    std::string value;
    std::chrono::seconds ttl{0};
  };
  std::vector<Key> keys;
  // The transitions, in order, for the shared assignment log (and from it `leads.assignments`).
  std::vector<std::shared_ptr<const v1::AssignmentEvent>> log;

  bool empty() const {
    return new_records.empty() && replaced_records.empty() && lead_index.empty() && !state &&
           queue_add.empty() && queue_remove.empty() && sla_add.empty() && sla_remove.empty() &&
           keys.empty() && log.empty();
  }
};

}  // namespace leadrouter::decide
