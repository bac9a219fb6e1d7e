#pragma once

#include <memory>
#include <set>
#include <string>

#include "absl/status/statusor.h"
#include "leadrouter/api/auth.h"
#include "leadrouter/api/lead_operations.h"
#include "leadrouter/v1/admin_service.pb.h"
#include "leadrouter/v1/router_service.pb.h"

namespace leadrouter::api {

// Which events of the shared log one subscriber gets: the reps and pools it asked for, within
// what its token may see (checked against the config of the moment it subscribed). A value type.
struct StreamFilter {
  std::set<std::string> reps;
  std::set<std::string> pools;
  Principal principal;
  std::shared_ptr<const config::Config> config;

  bool Wants(const v1::AssignmentEvent& event) const;
};

// The RPCs of leadrouter.v1.RouterService and AdminService without a transport: for an
// authenticated caller, the scope and rep checks, the validation of the request, then the
// operation. The gRPC services and the console's JSON endpoints both call these, so a request
// is refused or served the same way over either (one implementation, two transports). Errors
// are absl::Status codes that map 1:1 to gRPC codes, with a message naming the field.
//
// Every call may block for a few Redis round trips (and one Kafka produce for the lifecycle
// calls): call it from a worker thread, never from gRPC's callback threads. Thread-safe; the
// operations and the authorizer must outlive it.
class ServiceCalls {
 public:
  ServiceCalls(LeadOperations& operations, const Authorizer& authorizer);

  // Scope act, and the caller may act for request.rep_id.
  absl::StatusOr<v1::LeadUpdate> Accept(const Principal& caller,
                                        const v1::AcceptLeadRequest& request);
  absl::StatusOr<v1::LeadUpdate> Return(const Principal& caller,
                                        const v1::ReturnLeadRequest& request);
  absl::StatusOr<v1::LeadUpdate> Convert(const Principal& caller,
                                         const v1::ConvertLeadRequest& request);
  // Scope stream or act; a restricted token only the leads of its reps.
  absl::StatusOr<v1::AssignmentEvent> Explain(const Principal& caller,
                                              const v1::ExplainLeadRequest& request);
  absl::StatusOr<v1::ClaimAccountsResponse> ClaimAccounts(const Principal& caller,
                                                          const v1::ClaimAccountsRequest& request);
  // Scope stream or act; a restricted token sees only its reps' claims.
  absl::StatusOr<v1::ListClaimsResponse> ListClaims(const Principal& caller,
                                                    const v1::ListClaimsRequest& request);

  // AdminService: scope admin.
  absl::StatusOr<v1::RepLoad> SetAvailability(const Principal& caller,
                                              const v1::SetAvailabilityRequest& request);
  absl::StatusOr<v1::RepLoad> SetCapacity(const Principal& caller,
                                          const v1::SetCapacityRequest& request);
  absl::StatusOr<v1::ListUnassignedResponse> ListUnassigned(
      const Principal& caller, const v1::ListUnassignedRequest& request);
  absl::StatusOr<v1::ListRepLoadResponse> ListRepLoad(const Principal& caller);
  absl::StatusOr<v1::ReloadConfigResponse> ReloadConfig(const Principal& caller);
  absl::StatusOr<v1::ClaimConflict> ResolveClaimConflict(
      const Principal& caller, const v1::ResolveClaimConflictRequest& request);

  // StreamAssignments' checks (scope stream; every rep asked for must be one the caller may
  // see; no empty names) and the filter they give. Does no I/O.
  absl::StatusOr<StreamFilter> FilterFor(const Principal& caller,
                                         const v1::StreamAssignmentsRequest& request) const;

  LeadOperations& operations() { return operations_; }
  const Authorizer& authorizer() const { return authorizer_; }

 private:
  // The caller has `scope` and (rep_id non-empty) may act for rep_id.
  absl::Status RequireFor(const Principal& caller, Scope scope, const std::string& rep_id) const;
  template <typename Request>
  absl::StatusOr<v1::LeadUpdate> Act(const Principal& caller, const Request& request,
                                     absl::StatusOr<v1::LeadUpdate> (LeadOperations::*operation)(
                                         const Request&, const std::string&));

  LeadOperations& operations_;
  const Authorizer& authorizer_;
};

}  // namespace leadrouter::api
