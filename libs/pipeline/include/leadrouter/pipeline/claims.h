#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "leadrouter/config/config.h"
#include "leadrouter/core/clock.h"
#include "leadrouter/core/ids.h"
#include "leadrouter/decide/claims.h"
#include "leadrouter/store/assignment_store.h"
#include "leadrouter/v1/admin_service.pb.h"
#include "leadrouter/v1/router_service.pb.h"

namespace leadrouter::pipeline {

// The account a claim names (decide::ClaimDomain).
using decide::ClaimDomain;

// Account claims against the shared state. An account's owners live in its account key (the one
// lead routing reads, dedupe::FormatOwners); claims and conflicts are records in two hashes of
// the tenant (KeySchema::Claims, KeySchema::ClaimConflicts). Each claim or resolution of one
// account is decided on the owners it read and committed with the routing version in one
// compare-and-set (store::AssignmentStore::Commit), so a concurrent claim or routing batch on
// any instance makes one of them decide again: an account never gets two sole owners.
//
// Needs config.dedupe (the account key is the HMAC of the domain); FailedPrecondition
// otherwise. Thread-compatible: one instance per call (it borrows the caller's store).
class AccountClaims {
 public:
  AccountClaims(store::AssignmentStore& store, std::shared_ptr<const config::Config> config,
                const core::Clock& clock);

  // Claims each distinct domain of the request for request.rep_id (a configured rep: NotFound
  // otherwise), by config.claims.policy. Validates every domain before claiming any.
  absl::StatusOr<v1::ClaimAccountsResponse> Claim(const v1::ClaimAccountsRequest& request,
                                                  const std::string& actor);
  // Unexpired claims and the conflicts (open, or resolved within the last 30 days), newest
  // first, filtered by the request (a conflict matches a rep who claimed or owned the account).
  absl::StatusOr<v1::ListClaimsResponse> List(const v1::ListClaimsRequest& request);
  // Settles an open conflict. NotFound when there is none, FailedPrecondition when resolved.
  absl::StatusOr<v1::ClaimConflict> Resolve(const v1::ResolveClaimConflictRequest& request,
                                            const std::string& actor);

 private:
  absl::StatusOr<v1::ClaimResult> ClaimOne(const std::string& domain, const core::RepId& claimant,
                                           const std::string& note, const std::string& actor);
  absl::Status RequireDedupe() const;
  std::string DomainHmac(const std::string& domain) const;

  store::AssignmentStore& store_;
  std::shared_ptr<const config::Config> config_;
  const core::Clock& clock_;
};

}  // namespace leadrouter::pipeline
