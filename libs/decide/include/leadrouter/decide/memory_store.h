#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "leadrouter/config/config.h"
#include "leadrouter/core/clock.h"
#include "leadrouter/core/ids.h"
#include "leadrouter/decide/batch.h"
#include "leadrouter/decide/claims.h"
#include "leadrouter/decide/lifecycle.h"
#include "leadrouter/decide/writes.h"
#include "leadrouter/dedupe/dedupe.h"
#include "leadrouter/routing/engine.h"

namespace leadrouter::decide {

// The shared state of one tenant, in memory, with the semantics of the Redis store
// (store::AssignmentStore and its commit script): records, the lead index and dedupe keys expire
// by the caller's clock (`now` of each call, so a simulation runs on simulated time); a new
// record is never overwritten (the whole Apply is refused); a dedupe key rewritten with the
// value it has keeps a longer remaining expiry; the unassigned queue and the SLA index are
// ordered by time, then by id, as Redis's sorted sets are; in one Apply queue additions come
// before removals and SLA removals before additions, as in the script.
//
// The Decide*/Run* methods run the decision core on this store the way the daemon runs it on
// Redis (one read, one decision, one atomic write), without contention. Used by the simulator
// and by tests. Thread-compatible: one thread at a time.
class MemoryStore {
 public:
  // `record_ttl`: how long records and the lead index live (config.redis.idempotency_ttl).
  explicit MemoryStore(std::chrono::seconds record_ttl);

  // The routing counters. Mutable so that a caller can change availability the way
  // AdminService does (pause, out-of-office windows, capacity overrides).
  const routing::RoutingState& state() const { return state_; }
  routing::RoutingState& mutable_state() { return state_; }

  // nullptr / nullopt for a missing or expired entry.
  std::shared_ptr<const v1::EventOutcome> Record(const core::EventId& event_id,
                                                 core::TimePoint now) const;
  std::optional<std::string> Key(Writes::Key::Kind kind, const std::string& hmac,
                                 core::TimePoint now) const;
  std::optional<core::EventId> EventIdOfLead(const core::LeadId& lead_id,
                                             core::TimePoint now) const;
  // Up to `limit` lead ids whose SLA deadline is at or before `now`, earliest first.
  std::vector<core::LeadId> DueSla(core::TimePoint now, size_t limit) const;
  // Up to `limit` queued event ids, oldest first; and the queue's length.
  std::vector<std::string> Queue(size_t limit) const;
  size_t QueueLength() const { return queue_.size(); }
  // Every event appended to the assignment log, in order.
  const std::vector<std::shared_ptr<const v1::AssignmentEvent>>& log() const { return log_; }

  // Applies `writes` as one commit: false, and nothing written, when one of its new records'
  // events already has a record.
  bool Apply(const Writes& writes, core::TimePoint now);

  // Decides a batch on this store and applies its writes.
  BatchDecision RunBatch(const config::Config& config, const dedupe::KeyMaker* key_maker,
                         const std::vector<const v1::LeadEvent*>& leads, core::TimePoint now);
  // Routes up to `limit` queued leads again, oldest first, and applies the writes.
  RetryDecision RunRetry(const config::Config& config, const dedupe::KeyMaker* key_maker,
                         size_t limit, core::TimePoint now);
  // Lifecycle operations by lead id, applied when they succeed. NotFound for an unknown lead.
  absl::StatusOr<LeadUpdate> RunAccept(const config::Config& config, const core::LeadId& lead_id,
                                       const core::RepId& rep_id, const std::string& actor,
                                       core::TimePoint now);
  absl::StatusOr<LeadUpdate> RunReturn(const config::Config& config, const core::LeadId& lead_id,
                                       const core::RepId& rep_id, v1::ReturnReason reason,
                                       const std::string& note, const std::string& actor,
                                       core::TimePoint now);
  absl::StatusOr<LeadUpdate> RunConvert(const config::Config& config, const core::LeadId& lead_id,
                                        const core::RepId& rep_id, double value,
                                        const std::string& note, const std::string& actor,
                                        core::TimePoint now);
  // A rep's claim on the account of `domain` (decide::ClaimDomain of it), decided as the daemon's
  // AccountClaims decides it (DecideAccountClaim on the account key's owners, under
  // config.claims) and applied: the decision. InvalidArgument for a domain that names no
  // company account.
  absl::StatusOr<dedupe::ClaimDecision> RunClaim(const config::Config& config,
                                                 const dedupe::KeyMaker& key_maker,
                                                 const std::string& domain,
                                                 const core::RepId& claimant, core::TimePoint now);
  // Expires up to `limit` leads past their SLA deadline and re-routes them (the daemon's
  // LeadLifecycle::ExpireDue): the events of every lead that expired.
  LeadUpdate RunExpireDue(const config::Config& config, core::TimePoint now, size_t limit);

 private:
  template <typename T>
  struct Expiring {
    T value;
    core::TimePoint expires_at;
  };
  // The record of `lead_id` and its event id, or NotFound.
  absl::StatusOr<std::pair<core::EventId, std::shared_ptr<const v1::EventOutcome>>> LeadRecord(
      const core::LeadId& lead_id, core::TimePoint now) const;
  absl::StatusOr<LeadUpdate> ApplyChange(absl::StatusOr<LeadChange> change, core::TimePoint now);

  std::chrono::seconds record_ttl_;
  routing::RoutingState state_;
  std::map<std::string, Expiring<std::shared_ptr<const v1::EventOutcome>>> records_;
  std::map<std::string, Expiring<std::string>> lead_index_;
  std::map<std::pair<Writes::Key::Kind, std::string>, Expiring<std::string>> keys_;
  std::set<std::pair<int64_t, std::string>> queue_;  // (queued at, event id)
  std::map<std::string, int64_t> queued_at_;
  std::set<std::pair<int64_t, std::string>> sla_;  // (deadline, lead id)
  std::map<std::string, int64_t> deadline_of_;
  std::vector<std::shared_ptr<const v1::AssignmentEvent>> log_;
};

}  // namespace leadrouter::decide
