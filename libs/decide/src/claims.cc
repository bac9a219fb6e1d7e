#include "leadrouter/decide/claims.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "leadrouter/core/error_text.h"
#include "leadrouter/normalize/normalize.h"
#include "leadrouter/qualify/qualifier.h"

namespace leadrouter::decide {

absl::StatusOr<std::string> ClaimDomain(const std::string& input, const std::string& field) {
  // A web address names the domain within this; anything longer is refused before it is parsed.
  constexpr size_t kMaxInputBytes = 2048;
  if (input.size() > kMaxInputBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, ": ", core::QuoteForError(input),
        " is too long for a domain or web address (at most ", kMaxInputBytes, " bytes)"));
  }
  const std::string domain = absl::AsciiStrToLower(normalize::RegistrableDomain(input));
  // A DNS name has at most 253 bytes; so every domain in a later message is short.
  if (domain.empty() || domain.size() > 253) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": ", core::QuoteForError(input),
                     " is not a company domain (no registrable domain in it)"));
  }
  if (qualify::IsFreeMailDomain(domain)) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": ", domain, " is a consumer mail provider, not a company's account"));
  }
  return domain;
}

dedupe::ClaimPolicy ClaimPolicyOf(config::ClaimsConfig::Policy policy) {
  switch (policy) {
    case config::ClaimsConfig::Policy::kFirstClaimWins:
      return dedupe::ClaimPolicy::kFirstClaimWins;
    case config::ClaimsConfig::Policy::kManagerDecides:
      return dedupe::ClaimPolicy::kManagerDecides;
    case config::ClaimsConfig::Policy::kShared:
      return dedupe::ClaimPolicy::kShared;
  }
  return dedupe::ClaimPolicy::kFirstClaimWins;
}

AccountClaim DecideAccountClaim(const config::ClaimsConfig& claims, const std::string& account_hmac,
                                const std::vector<dedupe::Share>& owners,
                                const core::RepId& claimant) {
  AccountClaim claim;
  claim.decision = dedupe::DecideClaim(owners, claimant.value(), ClaimPolicyOf(claims.policy),
                                       claims.shared_percent);
  if (claim.decision.write_account) {
    claim.writes.keys.push_back({Writes::Key::Kind::kAccount, account_hmac,
                                 dedupe::FormatOwners(claim.decision.owners_after),
                                 claims.ownership});
  }
  return claim;
}

ConflictResolution DecideConflictResolution(const config::ClaimsConfig& claims,
                                            const std::string& account_hmac,
                                            const std::vector<dedupe::Share>& owners,
                                            const core::RepId& claimant,
                                            dedupe::ConflictDecision decision,
                                            int claimant_percent) {
  ConflictResolution resolved;
  resolved.resolution =
      dedupe::ResolveConflict(owners, claimant.value(), decision, claimant_percent);
  if (resolved.resolution.write_account) {
    resolved.writes.keys.push_back({Writes::Key::Kind::kAccount, account_hmac,
                                    dedupe::FormatOwners(resolved.resolution.owners_after),
                                    claims.ownership});
  }
  return resolved;
}

}  // namespace leadrouter::decide
