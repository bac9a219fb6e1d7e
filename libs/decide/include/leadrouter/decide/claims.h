#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "leadrouter/config/config.h"
#include "leadrouter/core/ids.h"
#include "leadrouter/decide/writes.h"
#include "leadrouter/dedupe/claims.h"

namespace leadrouter::decide {

// The account a claim names: the registrable domain (Public Suffix List) of a domain, host or
// URL, lower-case ASCII ("https://www.Acme.co.uk/x" -> "acme.co.uk"). InvalidArgument naming
// `field` when there is none, or when it is a consumer mail provider (gmail.com is nobody's
// account). Pure, thread-safe.
absl::StatusOr<std::string> ClaimDomain(const std::string& input, const std::string& field);

// The config's spelling of a claim policy as the dedupe decision takes it.
dedupe::ClaimPolicy ClaimPolicyOf(config::ClaimsConfig::Policy policy);

// A rep's claim on one account, decided on the owners the account key holds now (`owners`,
// dedupe::ParseOwners of it) under config.claims: the decision, and the account key to write
// when the owners change or are renewed (with the claim's ownership period as its ttl).
struct AccountClaim {
  dedupe::ClaimDecision decision;
  Writes writes;  // at most the account key
};
AccountClaim DecideAccountClaim(const config::ClaimsConfig& claims, const std::string& account_hmac,
                                const std::vector<dedupe::Share>& owners,
                                const core::RepId& claimant);

// A manager's decision on an open conflict over an account, applied to the owners the account
// key holds now: the resolution, and the account key to write when the owners change (with the
// ownership period as its ttl).
struct ConflictResolution {
  dedupe::Resolution resolution;
  Writes writes;  // at most the account key
};
ConflictResolution DecideConflictResolution(const config::ClaimsConfig& claims,
                                            const std::string& account_hmac,
                                            const std::vector<dedupe::Share>& owners,
                                            const core::RepId& claimant,
                                            dedupe::ConflictDecision decision,
                                            int claimant_percent);

}  // namespace leadrouter::decide
