#include "leadrouter/dedupe/claims.h"

#include <charconv>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace leadrouter::dedupe {

std::string FormatOwners(const std::vector<Share>& owners) {
  if (owners.size() == 1 && owners[0].percent == 100) return owners[0].rep_id;
  std::string text;
  for (const Share& owner : owners) {
    absl::StrAppend(&text, text.empty() ? "" : ",", owner.rep_id, "=", owner.percent);
  }
  return text;
}

std::vector<Share> ParseOwners(std::string_view value) {
  std::vector<Share> owners;
  if (value.empty()) return owners;
  if (value.find_first_of("=,") == std::string_view::npos) {
    owners.push_back({std::string(value), 100});
    return owners;
  }
  for (absl::string_view entry :
       absl::StrSplit(absl::string_view(value.data(), value.size()), ',', absl::SkipEmpty())) {
    const size_t eq = entry.find('=');
    if (eq == absl::string_view::npos || eq == 0) continue;
    int percent = 0;
    const absl::string_view digits = entry.substr(eq + 1);
    const auto [end, err] = std::from_chars(digits.data(), digits.data() + digits.size(), percent);
    if (err != std::errc() || end != digits.data() + digits.size() || percent < 1 ||
        percent > 100) {
      continue;
    }
    owners.push_back({std::string(entry.substr(0, eq)), percent});
  }
  return owners;
}

bool IsOwner(const std::vector<Share>& owners, std::string_view rep_id) {
  for (const Share& owner : owners) {
    if (owner.rep_id == rep_id) return true;
  }
  return false;
}

std::vector<Share> ShareWith(const std::vector<Share>& owners, const std::string& claimant,
                             int claimant_percent) {
  std::vector<Share> others;
  int others_total = 0;
  for (const Share& owner : owners) {
    if (owner.rep_id == claimant) continue;
    others.push_back(owner);
    others_total += owner.percent;
  }
  if (others.empty() || others_total <= 0) return {{claimant, 100}};
  const int remaining = 100 - claimant_percent;
  int given = 0;
  for (Share& other : others) {
    other.percent = other.percent * remaining / others_total;
    given += other.percent;
  }
  others.front().percent += remaining - given;
  // Owners with nothing left after rounding drop out rather than hold a 0% share.
  std::erase_if(others, [](const Share& s) { return s.percent <= 0; });
  others.push_back({claimant, claimant_percent});
  return others;
}

ClaimDecision DecideClaim(const std::vector<Share>& current_owners, const std::string& claimant,
                          ClaimPolicy policy, int shared_percent) {
  ClaimDecision d;
  if (current_owners.empty()) {
    d.kind = ClaimDecision::Kind::kOwned;
    d.owners_after = {{claimant, 100}};
    d.write_account = true;
    return d;
  }
  if (IsOwner(current_owners, claimant)) {
    d.kind = ClaimDecision::Kind::kRenewed;
    d.owners_after = current_owners;
    d.write_account = true;
    return d;
  }
  switch (policy) {
    case ClaimPolicy::kFirstClaimWins:
      d.kind = ClaimDecision::Kind::kConflictRefused;
      d.owners_after = current_owners;
      return d;
    case ClaimPolicy::kManagerDecides:
      d.kind = ClaimDecision::Kind::kConflictPending;
      d.owners_after = current_owners;
      return d;
    case ClaimPolicy::kShared:
      d.kind = ClaimDecision::Kind::kConflictShared;
      d.owners_after = ShareWith(current_owners, claimant, shared_percent);
      d.write_account = true;
      return d;
  }
  return d;
}

Resolution ResolveConflict(const std::vector<Share>& current_owners, const std::string& claimant,
                           ConflictDecision decision, int claimant_percent) {
  Resolution r;
  switch (decision) {
    case ConflictDecision::kKeepOwner:
      r.owners_after = current_owners;
      return r;
    case ConflictDecision::kAwardClaimant:
      r.owners_after = {{claimant, 100}};
      r.write_account = true;
      return r;
    case ConflictDecision::kShare:
      r.owners_after = ShareWith(current_owners, claimant, claimant_percent);
      r.write_account = true;
      return r;
  }
  return r;
}

}  // namespace leadrouter::dedupe
