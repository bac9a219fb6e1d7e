#pragma once

#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace leadrouter::store {

// The Redis key names of one tenant. Every key carries the hash tag "{<tenant>}" so all keys of a
// tenant live in one Redis Cluster slot and multi-key scripts stay valid; tenants spread across
// shards. Because Redis hashes the first "{...}" only, pool names and event ids may contain any
// bytes. Immutable; thread-safe.
class KeySchema {
 public:
  // `tenant` should satisfy ValidateTenant(); otherwise the hash tag would be wrong.
  explicit KeySchema(std::string tenant);

  // InvalidArgument when the tenant is empty or contains '{' or '}'.
  static absl::Status ValidateTenant(std::string_view tenant);

  const std::string& tenant() const { return tenant_; }
  // "lr:{<tenant>}:": every key of the tenant starts with it.
  const std::string& prefix() const { return prefix_; }
  // "lr:{<tenant>}:routing": one hash holding the shared routing counters (pool rotation
  // credits, rep open / daily counts) and their "version", bumped by every commit.
  std::string RoutingState() const;
  // "lr:{<tenant>}:unassigned": sorted set of event ids nobody could take, scored by the time
  // they were queued (seconds since the epoch).
  std::string UnassignedQueue() const;
  // "lr:{<tenant>}:event:<event_id>": the stored outcome of one input event.
  std::string EventRecord(std::string_view event_id) const;
  // "lr:{<tenant>}:lead:<lead_id>": the event id whose record holds the lead's outcome.
  std::string LeadIndex(std::string_view lead_id) const;
  // "lr:{<tenant>}:sla": sorted set of lead ids waiting to be accepted, scored by their deadline
  // (seconds since the epoch).
  std::string SlaDeadlines() const;
  // "lr:{<tenant>}:log": stream of every AssignmentEvent published (field "e"), the source of
  // every instance's gRPC subscribers and their resume cursors.
  std::string AssignmentLog() const;
  // "lr:{<tenant>}:outbox": hash of the log's forwarding to Kafka: "position" (the id of the
  // last entry published), "appended" and "forwarded" (entries counted since the outbox began).
  std::string Outbox() const;
  // "lr:{<tenant>}:outbox:lease": the forwarder's lease ("<epoch>:<holder>"), with an expiry.
  std::string OutboxLease() const;
  // "lr:{<tenant>}:outbox:epoch": incremented by every lease taken (the fencing token).
  std::string OutboxEpoch() const;
  // "lr:{<tenant>}:person:<hmac>": the event id whose record holds the live lead of the person
  // with this e-mail or phone HMAC; expires with the dedupe window.
  std::string Person(std::string_view hmac) const;
  // "lr:{<tenant>}:account:<hmac>": the owners of the account with this domain or company-name
  // HMAC (dedupe::FormatOwners); expires after the owners' idle period or claim period.
  std::string Account(std::string_view hmac) const;
  // "lr:{<tenant>}:claims": hash of account claims, field "<domain hmac>:<rep id>" -> a
  // serialized AccountClaim.
  std::string Claims() const;
  // "lr:{<tenant>}:claim_conflicts": hash of claim conflicts, field "<domain hmac>:<claimant rep
  // id>" -> a serialized ClaimConflict.
  std::string ClaimConflicts() const;
  // "lr:{<tenant>}:undeliverable:<id>": a hash describing one message Kafka refused for good
  // (AssignmentStore::RecordUndeliverable); <id> is the event id, or "<topic>/<partition>/<offset>"
  // of the input when it had none. Expires with the idempotency TTL.
  std::string Undeliverable(std::string_view id) const;
  // "lr:{<tenant>}:undeliverable": stream of the same records, newest last, capped.
  std::string UndeliverableLog() const;

 private:
  std::string tenant_;
  std::string prefix_;  // "lr:{<tenant>}:"
};

}  // namespace leadrouter::store
