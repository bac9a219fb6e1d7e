#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "leadrouter/api/assignment_hub.h"
#include "leadrouter/config/config.h"
#include "leadrouter/v1/admin_service.pb.h"
#include "leadrouter/v1/router_service.pb.h"

namespace leadrouter::api {

// What the gRPC services delegate to: the lead lifecycle, the shared assignment log and the
// admin views, against Redis and Kafka (implemented by pipeline::LeadService). Requests arrive
// validated for presence of ids only; implementations validate the rest and answer with
// absl::Status codes that map 1:1 to gRPC codes (InvalidArgument naming the field, NotFound,
// FailedPrecondition, Unavailable). `actor` is the authenticated caller ("token:<name>").
// Implementations are thread-safe and may block for a few Redis round trips.
class LeadOperations {
 public:
  virtual ~LeadOperations() = default;

  // The live config (hot-reloaded): reps and pools for authorization checks.
  virtual std::shared_ptr<const config::Config> CurrentConfig() const = 0;

  virtual absl::StatusOr<v1::LeadUpdate> Accept(const v1::AcceptLeadRequest& request,
                                                const std::string& actor) = 0;
  virtual absl::StatusOr<v1::LeadUpdate> Return(const v1::ReturnLeadRequest& request,
                                                const std::string& actor) = 0;
  virtual absl::StatusOr<v1::LeadUpdate> Convert(const v1::ConvertLeadRequest& request,
                                                 const std::string& actor) = 0;
  virtual absl::StatusOr<v1::AssignmentEvent> Explain(const std::string& lead_id) = 0;

  // The shared assignment log: up to `limit` events after `after_cursor` (exclusive), oldest
  // first, each with its `cursor` set.
  virtual absl::StatusOr<std::vector<SharedAssignment>> ReadLog(const std::string& after_cursor,
                                                                size_t limit) = 0;
  // The newest `limit` events of the log, oldest first, each with its `cursor` set.
  virtual absl::StatusOr<std::vector<SharedAssignment>> ReadLogTail(size_t limit) = 0;
  // "0-0" when the log never lost an entry, else its oldest retained cursor: an older cursor may
  // have missed trimmed events.
  virtual absl::StatusOr<std::string> LogTrimmedUpTo() = 0;

  // Runtime overrides of a rep (stored with the routing state, so every instance applies them
  // from its next decision): pause / out-of-office windows, and caps. NotFound for a rep not in
  // the config. Return the rep's load afterwards.
  virtual absl::StatusOr<v1::RepLoad> SetAvailability(
      const v1::SetAvailabilityRequest& request) = 0;
  virtual absl::StatusOr<v1::RepLoad> SetCapacity(const v1::SetCapacityRequest& request) = 0;
  virtual absl::StatusOr<v1::ListUnassignedResponse> ListUnassigned(int limit) = 0;
  virtual absl::StatusOr<v1::ListRepLoadResponse> ListRepLoad() = 0;
  virtual absl::StatusOr<v1::ReloadConfigResponse> ReloadConfig() = 0;

  // Account claims (see pipeline::AccountClaims). ListClaims filters by request.rep_ids as
  // given: the caller narrows it to what the principal may see.
  virtual absl::StatusOr<v1::ClaimAccountsResponse> ClaimAccounts(
      const v1::ClaimAccountsRequest& request, const std::string& actor) = 0;
  virtual absl::StatusOr<v1::ListClaimsResponse> ListClaims(
      const v1::ListClaimsRequest& request) = 0;
  virtual absl::StatusOr<v1::ClaimConflict> ResolveClaimConflict(
      const v1::ResolveClaimConflictRequest& request, const std::string& actor) = 0;
};

// Cursors are Redis stream ids "<milliseconds>-<sequence>". True when `cursor` is one.
bool ParseCursor(const std::string& cursor, uint64_t& ms, uint64_t& seq);
// a < b in log order; both must parse.
bool CursorBefore(const std::string& a, const std::string& b);

}  // namespace leadrouter::api
