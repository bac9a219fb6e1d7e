#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace leadrouter::dedupe {

// Account ownership and claims, decided without I/O. The account key in Redis
// (store::KeySchema::Account) holds an account's owners in the text form of FormatOwners; the
// pipeline reads it, calls these functions, and writes the result in one compare-and-set.
// Everything here is pure and thread-safe.

// One owner of an account and its share of the credit, percent.
struct Share {
  std::string rep_id;
  int percent = 100;

  friend bool operator==(const Share&, const Share&) = default;
};

// "rep-a" (one owner, 100%) or "rep-a=60,rep-b=40". Rep ids are config identifiers
// ([A-Za-z0-9._-]), so neither separator can occur in one.
std::string FormatOwners(const std::vector<Share>& owners);
// The owners of a stored account value, in stored order. A value written before shares existed
// ("rep-a") is one owner at 100%. Malformed entries are skipped; "" gives no owner.
std::vector<Share> ParseOwners(std::string_view value);
// True when `rep_id` is one of the owners.
bool IsOwner(const std::vector<Share>& owners, std::string_view rep_id);

// `owners` plus `claimant` with `claimant_percent` (1..99); the others keep the rest, split in
// proportion to their current shares (rounding leftovers go to the first owner), so the shares
// still sum to 100. A claimant already among the owners keeps its place with the new share.
std::vector<Share> ShareWith(const std::vector<Share>& owners, const std::string& claimant,
                             int claimant_percent);

// How a claim is settled; mirrors config::ClaimsConfig::Policy.
enum class ClaimPolicy { kFirstClaimWins, kManagerDecides, kShared };

// The result of one rep's claim on one account.
struct ClaimDecision {
  enum class Kind {
    kOwned,            // the account had no owner: the claimant is the sole owner
    kRenewed,          // the claimant already was an owner: same owners, period restarted
    kConflictRefused,  // another rep owns it; first claim wins
    kConflictPending,  // another rep owns it; a manager decides, owners unchanged meanwhile
    kConflictShared,   // another rep owns it; now shared
  };
  Kind kind = Kind::kOwned;
  // The account's owners after the claim (unchanged for refused and pending).
  std::vector<Share> owners_after;
  // True when the account value must be (re)written with the claim's ownership period: a new or
  // renewed ownership, or a share. Refused and pending claims leave the account alone.
  bool write_account = false;
  bool conflict() const {
    return kind == Kind::kConflictRefused || kind == Kind::kConflictPending ||
           kind == Kind::kConflictShared;
  }
};
ClaimDecision DecideClaim(const std::vector<Share>& current_owners, const std::string& claimant,
                          ClaimPolicy policy, int shared_percent);

// A manager's decision on an open conflict, applied to the account's owners as they are now
// (they may have changed since the conflict was raised, e.g. the ownership lapsed).
enum class ConflictDecision { kKeepOwner, kAwardClaimant, kShare };
struct Resolution {
  std::vector<Share> owners_after;
  bool write_account = false;
};
// kKeepOwner leaves the owners (a lapsed account stays unowned); kAwardClaimant makes the
// claimant the sole owner; kShare adds it with `claimant_percent` (the sole owner when there is
// no other owner any more).
Resolution ResolveConflict(const std::vector<Share>& current_owners, const std::string& claimant,
                           ConflictDecision decision, int claimant_percent);

}  // namespace leadrouter::dedupe
