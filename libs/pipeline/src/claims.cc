#include "leadrouter/pipeline/claims.h"

#include <algorithm>
#include <set>
#include <thread>
#include <unordered_set>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "leadrouter/api/error_text.h"
#include "leadrouter/core/backoff.h"
#include "leadrouter/decide/claims.h"
#include "leadrouter/dedupe/claims.h"
#include "leadrouter/dedupe/dedupe.h"
#include "leadrouter/normalize/normalize.h"
#include "leadrouter/pipeline/assigner.h"
#include "leadrouter/qualify/qualifier.h"

namespace leadrouter::pipeline {
namespace {

constexpr int kMaxCommitAttempts = 32;
constexpr size_t kMaxDomainsPerClaim = 100;
constexpr size_t kMaxNoteBytes = 2000;
// Refused and superseded claims, and resolved conflicts, stay listed this long.
constexpr auto kHistoryRetention = std::chrono::hours(24 * 30);

using Commit = store::AssignmentStore::CommitRequest;

v1::ClaimPolicy ProtoPolicy(config::ClaimsConfig::Policy policy) {
  switch (policy) {
    case config::ClaimsConfig::Policy::kFirstClaimWins:
      return v1::CLAIM_POLICY_FIRST_CLAIM_WINS;
    case config::ClaimsConfig::Policy::kManagerDecides:
      return v1::CLAIM_POLICY_MANAGER_DECIDES;
    case config::ClaimsConfig::Policy::kShared:
      return v1::CLAIM_POLICY_SHARED;
  }
  return v1::CLAIM_POLICY_UNSPECIFIED;
}

v1::ClaimOutcome OutcomeOf(dedupe::ClaimDecision::Kind kind) {
  using Kind = dedupe::ClaimDecision::Kind;
  switch (kind) {
    case Kind::kOwned:
      return v1::CLAIM_OUTCOME_OWNED;
    case Kind::kRenewed:
      return v1::CLAIM_OUTCOME_RENEWED;
    case Kind::kConflictRefused:
      return v1::CLAIM_OUTCOME_CONFLICT_REFUSED;
    case Kind::kConflictPending:
      return v1::CLAIM_OUTCOME_CONFLICT_PENDING;
    case Kind::kConflictShared:
      return v1::CLAIM_OUTCOME_CONFLICT_SHARED;
  }
  return v1::CLAIM_OUTCOME_UNSPECIFIED;
}

void SetShares(const std::vector<dedupe::Share>& owners,
               google::protobuf::RepeatedPtrField<v1::OwnerShare>& out) {
  out.Clear();
  for (const dedupe::Share& owner : owners) {
    v1::OwnerShare* share = out.Add();
    share->set_rep_id(owner.rep_id);
    share->set_percent(static_cast<uint32_t>(owner.percent));
  }
}

int PercentOf(const std::vector<dedupe::Share>& owners, const std::string& rep_id) {
  for (const dedupe::Share& owner : owners) {
    if (owner.rep_id == rep_id) return owner.percent;
  }
  return 0;
}

// "<domain hmac>:<rep id>": a claim's or a conflict's field.
std::string FieldOf(const std::string& hmac, const std::string& rep_id) {
  return absl::StrCat(hmac, ":", rep_id);
}

absl::Status CheckNote(const std::string& note) {
  if (note.size() > kMaxNoteBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("note: at most ", kMaxNoteBytes, " bytes, got ", note.size()));
  }
  return absl::OkStatus();
}

template <typename Message>
absl::StatusOr<Message> ParseRecord(const std::string& bytes, const std::string& what) {
  Message message;
  if (!message.ParseFromString(bytes)) {
    return absl::DataLossError(absl::StrCat("stored ", what, " does not parse"));
  }
  return message;
}

// The stored claim records of `reps` on one account (absent ones skipped), keyed by rep.
absl::StatusOr<std::map<std::string, v1::AccountClaim>> LoadClaimRecords(
    store::AssignmentStore& store, const std::string& hmac, const std::vector<std::string>& reps) {
  std::vector<std::string> fields;
  for (const std::string& rep : reps) fields.push_back(FieldOf(hmac, rep));
  auto values = store.LoadHashFields(store.keys().Claims(), fields);
  if (!values.ok()) return values.status();
  std::map<std::string, v1::AccountClaim> records;
  for (size_t i = 0; i < reps.size(); ++i) {
    if (!(*values)[i].has_value()) continue;
    auto claim = ParseRecord<v1::AccountClaim>(*(*values)[i], "claim " + fields[i]);
    if (!claim.ok()) return claim.status();
    records.emplace(reps[i], *std::move(claim));
  }
  return records;
}

// Rewrites the records of the account's other claimants after its owners changed: their share,
// or SUPERSEDED when they no longer own it.
void UpdateOtherClaims(std::map<std::string, v1::AccountClaim>& records,
                       const std::string& except_rep,
                       const std::vector<dedupe::Share>& owners_after, core::TimePoint now,
                       const std::string& hmac, const store::KeySchema& keys, Commit& commit) {
  for (auto& [rep, record] : records) {
    if (rep == except_rep || record.status() != v1::CLAIM_STATUS_OWNER) continue;
    const int percent = PercentOf(owners_after, rep);
    if (percent > 0) {
      record.set_percent(static_cast<uint32_t>(percent));
    } else {
      record.set_status(v1::CLAIM_STATUS_SUPERSEDED);
      record.set_percent(0);
      *record.mutable_expires_at() = ToTimestamp(now + kHistoryRetention);
    }
    commit.hash_sets.push_back({keys.Claims(), FieldOf(hmac, rep), record.SerializeAsString()});
  }
}

std::vector<std::string> RepsOf(const std::vector<dedupe::Share>& a,
                                const std::vector<dedupe::Share>& b) {
  std::vector<std::string> reps;
  for (const auto* owners : {&a, &b}) {
    for (const dedupe::Share& s : *owners) {
      if (std::find(reps.begin(), reps.end(), s.rep_id) == reps.end()) reps.push_back(s.rep_id);
    }
  }
  return reps;
}

// One try at changing an account: its owners as loaded with the routing version, and the commit
// that `decide` fills.
struct AccountAttempt {
  std::vector<dedupe::Share> owners;
  Commit commit;
  bool commit_needed = true;  // false: the answer changes nothing
};

// The compare-and-set loop of one account: loads the version and the account's owners, lets
// `decide` answer (and fill the commit), commits with that version, and decides again on fresh
// state when anything moved in between (a routing batch or another claim on any instance).
template <typename Result, typename Decide>
absl::StatusOr<Result> CompareAndSetAccount(store::AssignmentStore& store,
                                            const std::string& account_key,
                                            const std::string& domain, Decide decide) {
  core::Backoff backoff(std::chrono::milliseconds(1), std::chrono::milliseconds(50),
                        reinterpret_cast<uintptr_t>(&store));
  for (int tries = 0; tries < kMaxCommitAttempts; ++tries) {
    if (tries > 0) std::this_thread::sleep_for(backoff.Next());
    auto snapshot = store.Load({}, {account_key});
    if (!snapshot.ok()) return snapshot.status();
    AccountAttempt attempt;
    attempt.owners = dedupe::ParseOwners(snapshot->values[0].value_or(""));
    attempt.commit.expected_version = snapshot->version;
    absl::StatusOr<Result> result = decide(attempt);
    if (!result.ok() || !attempt.commit_needed) return result;
    auto committed = store.Commit(attempt.commit);
    if (!committed.ok()) return committed.status();
    if (*committed == store::AssignmentStore::CommitResult::kCommitted) return result;
  }
  return absl::AbortedError(absl::StrCat("account ", domain, " still contended after ",
                                         kMaxCommitAttempts, " attempts; retry"));
}

}  // namespace

AccountClaims::AccountClaims(store::AssignmentStore& store,
                             std::shared_ptr<const config::Config> config, const core::Clock& clock)
    : store_(store), config_(std::move(config)), clock_(clock) {}

absl::Status AccountClaims::RequireDedupe() const {
  if (config_->dedupe.enabled) return absl::OkStatus();
  return absl::FailedPreconditionError(
      "claims need the dedupe section in the config: accounts are matched by their domain keys");
}

std::string AccountClaims::DomainHmac(const std::string& domain) const {
  const dedupe::KeyMaker keys(config_->dedupe.hmac_key, config_->dedupe.default_phone_region,
                              config_->dedupe.match_company_name);
  return keys.Hmac(dedupe::MatchKey::Field::kDomain, domain);
}

absl::StatusOr<v1::ClaimAccountsResponse> AccountClaims::Claim(
    const v1::ClaimAccountsRequest& request, const std::string& actor) {
  if (absl::Status dedupe = RequireDedupe(); !dedupe.ok()) return dedupe;
  if (request.rep_id().empty()) return absl::InvalidArgumentError("rep_id: required");
  if (std::none_of(config_->reps.begin(), config_->reps.end(),
                   [&](const config::RepConfig& rep) { return rep.id == request.rep_id(); })) {
    return absl::NotFoundError(
        absl::StrCat("rep_id: no rep ", api::QuoteForError(request.rep_id()), " in the config"));
  }
  if (request.domains().empty()) return absl::InvalidArgumentError("domains: at least one");
  if (static_cast<size_t>(request.domains_size()) > kMaxDomainsPerClaim) {
    return absl::InvalidArgumentError(absl::StrCat("domains: at most ", kMaxDomainsPerClaim,
                                                   " per call, got ", request.domains_size()));
  }
  if (absl::Status note = CheckNote(request.note()); !note.ok()) return note;
  std::vector<std::string> domains;
  for (int i = 0; i < request.domains_size(); ++i) {
    auto domain = ClaimDomain(request.domains(i), absl::StrCat("domains[", i, "]"));
    if (!domain.ok()) return domain.status();
    if (std::find(domains.begin(), domains.end(), *domain) == domains.end()) {
      domains.push_back(*std::move(domain));
    }
  }
  v1::ClaimAccountsResponse response;
  for (const std::string& domain : domains) {
    auto result = ClaimOne(domain, core::RepId(request.rep_id()), request.note(), actor);
    if (!result.ok()) return result.status();
    *response.add_results() = *std::move(result);
  }
  return response;
}

absl::StatusOr<v1::ClaimResult> AccountClaims::ClaimOne(const std::string& domain,
                                                        const core::RepId& claimant,
                                                        const std::string& note,
                                                        const std::string& actor) {
  const std::string& rep_id = claimant.value();
  const config::ClaimsConfig& settings = config_->claims;
  const std::string hmac = DomainHmac(domain);
  const std::string account_key = store_.keys().Account(hmac);
  const std::string field = FieldOf(hmac, rep_id);
  return CompareAndSetAccount<v1::ClaimResult>(
      store_, account_key, domain, [&](AccountAttempt& attempt) -> absl::StatusOr<v1::ClaimResult> {
        const std::vector<dedupe::Share>& owners = attempt.owners;
        Commit& commit = attempt.commit;
        const core::TimePoint now = clock_.Now();

        v1::ClaimResult result;
        result.set_domain(domain);
        // Claiming again while a manager has not decided changes nothing: the same open conflict.
        auto open = store_.LoadHashFields(store_.keys().ClaimConflicts(), {field});
        if (!open.ok()) return open.status();
        if ((*open)[0].has_value() && !dedupe::IsOwner(owners, rep_id)) {
          auto conflict = ParseRecord<v1::ClaimConflict>(*(*open)[0], "claim conflict " + field);
          if (!conflict.ok()) return conflict.status();
          if (conflict->status() == v1::CONFLICT_STATUS_OPEN) {
            result.set_outcome(v1::CLAIM_OUTCOME_CONFLICT_PENDING);
            SetShares(owners, *result.mutable_owners());
            *result.mutable_conflict() = *std::move(conflict);
            attempt.commit_needed = false;
            return result;
          }
        }

        const decide::AccountClaim decided =
            decide::DecideAccountClaim(settings, hmac, owners, claimant);
        const dedupe::ClaimDecision& decision = decided.decision;
        for (const decide::Writes::Key& key : decided.writes.keys) {
          commit.expiring_values.push_back({account_key, key.value, key.ttl});
        }

        v1::AccountClaim claim;
        claim.set_domain(domain);
        claim.set_rep_id(rep_id);
        *claim.mutable_claimed_at() = ToTimestamp(now);
        claim.set_note(note);
        claim.set_actor(actor);
        result.set_outcome(OutcomeOf(decision.kind));
        if (dedupe::IsOwner(decision.owners_after, rep_id)) {
          claim.set_status(v1::CLAIM_STATUS_OWNER);
          claim.set_percent(static_cast<uint32_t>(PercentOf(decision.owners_after, rep_id)));
          *claim.mutable_expires_at() = ToTimestamp(now + settings.ownership);
          *result.mutable_expires_at() = claim.expires_at();
        } else if (decision.kind == dedupe::ClaimDecision::Kind::kConflictPending) {
          claim.set_status(v1::CLAIM_STATUS_PENDING);
          *claim.mutable_expires_at() = ToTimestamp(now + settings.ownership);
        } else {
          claim.set_status(v1::CLAIM_STATUS_REFUSED);
          *claim.mutable_expires_at() = ToTimestamp(now + kHistoryRetention);
        }
        commit.hash_sets.push_back({store_.keys().Claims(), field, claim.SerializeAsString()});
        SetShares(decision.owners_after, *result.mutable_owners());

        if (decision.kind == dedupe::ClaimDecision::Kind::kConflictShared) {
          auto others = LoadClaimRecords(store_, hmac, RepsOf(owners, {}));
          if (!others.ok()) return others.status();
          UpdateOtherClaims(*others, rep_id, decision.owners_after, now, hmac, store_.keys(),
                            commit);
        }
        if (decision.conflict()) {
          v1::ClaimConflict& conflict = *result.mutable_conflict();
          conflict.set_domain(domain);
          conflict.set_claimant_rep_id(rep_id);
          SetShares(owners, *conflict.mutable_owners_at_claim());
          conflict.set_policy(ProtoPolicy(settings.policy));
          *conflict.mutable_raised_at() = ToTimestamp(now);
          conflict.set_note(note);
          if (decision.kind == dedupe::ClaimDecision::Kind::kConflictPending) {
            conflict.set_status(v1::CONFLICT_STATUS_OPEN);
          } else {
            conflict.set_status(decision.kind == dedupe::ClaimDecision::Kind::kConflictShared
                                    ? v1::CONFLICT_STATUS_SHARED
                                    : v1::CONFLICT_STATUS_OWNER_KEPT);
            *conflict.mutable_resolved_at() = ToTimestamp(now);
            conflict.set_resolved_by("policy");
            SetShares(decision.owners_after, *conflict.mutable_owners_after());
          }
          commit.hash_sets.push_back(
              {store_.keys().ClaimConflicts(), field, conflict.SerializeAsString()});
        }
        return result;
      });
}

absl::StatusOr<v1::ClaimConflict> AccountClaims::Resolve(
    const v1::ResolveClaimConflictRequest& request, const std::string& actor) {
  if (absl::Status dedupe = RequireDedupe(); !dedupe.ok()) return dedupe;
  auto domain = ClaimDomain(request.domain(), "domain");
  if (!domain.ok()) return domain.status();
  const std::string& claimant = request.claimant_rep_id();
  if (claimant.empty()) return absl::InvalidArgumentError("claimant_rep_id: required");
  dedupe::ConflictDecision decision = dedupe::ConflictDecision::kKeepOwner;
  v1::ConflictStatus status = v1::CONFLICT_STATUS_UNSPECIFIED;
  switch (request.decision()) {
    case v1::CONFLICT_DECISION_KEEP_OWNER:
      decision = dedupe::ConflictDecision::kKeepOwner;
      status = v1::CONFLICT_STATUS_OWNER_KEPT;
      break;
    case v1::CONFLICT_DECISION_AWARD_CLAIMANT:
      decision = dedupe::ConflictDecision::kAwardClaimant;
      status = v1::CONFLICT_STATUS_CLAIMANT_AWARDED;
      break;
    case v1::CONFLICT_DECISION_SHARE:
      decision = dedupe::ConflictDecision::kShare;
      status = v1::CONFLICT_STATUS_SHARED;
      if (request.claimant_percent() < 1 || request.claimant_percent() > 99) {
        return absl::InvalidArgumentError(absl::StrCat(
            "claimant_percent: must be 1..99 for SHARE, got ", request.claimant_percent()));
      }
      break;
    default:
      return absl::InvalidArgumentError("decision: required (KEEP_OWNER, AWARD_CLAIMANT or SHARE)");
  }
  if (absl::Status note = CheckNote(request.note()); !note.ok()) return note;

  const std::string hmac = DomainHmac(*domain);
  const std::string account_key = store_.keys().Account(hmac);
  const std::string field = FieldOf(hmac, claimant);
  return CompareAndSetAccount<v1::ClaimConflict>(
      store_, account_key, *domain,
      [&](AccountAttempt& attempt) -> absl::StatusOr<v1::ClaimConflict> {
        const std::vector<dedupe::Share>& owners = attempt.owners;
        Commit& commit = attempt.commit;
        auto stored = store_.LoadHashFields(store_.keys().ClaimConflicts(), {field});
        if (!stored.ok()) return stored.status();
        if (!(*stored)[0].has_value()) {
          return absl::NotFoundError(
              absl::StrCat("no claim conflict of ", api::QuoteForError(claimant), " on ", *domain));
        }
        auto conflict = ParseRecord<v1::ClaimConflict>(*(*stored)[0], "claim conflict " + field);
        if (!conflict.ok()) return conflict.status();
        if (conflict->status() != v1::CONFLICT_STATUS_OPEN) {
          return absl::FailedPreconditionError(
              absl::StrCat("the conflict of ", api::QuoteForError(claimant), " on ", *domain,
                           " is already resolved (",
                           ShortEnumName(v1::ConflictStatus_Name(conflict->status()),
                                         "CONFLICT_STATUS_", /*lower=*/true),
                           " by ", conflict->resolved_by(), ")"));
        }
        const decide::ConflictResolution resolved = decide::DecideConflictResolution(
            config_->claims, hmac, owners, core::RepId(claimant), decision,
            static_cast<int>(request.claimant_percent()));
        const dedupe::Resolution& resolution = resolved.resolution;
        const core::TimePoint now = clock_.Now();
        for (const decide::Writes::Key& key : resolved.writes.keys) {
          commit.expiring_values.push_back({account_key, key.value, key.ttl});
        }
        auto records = LoadClaimRecords(store_, hmac, RepsOf(owners, {{claimant, 0}}));
        if (!records.ok()) return records.status();
        v1::AccountClaim& claim = (*records)[claimant];
        if (claim.domain().empty()) {  // the record lapsed meanwhile: recreate it
          claim.set_domain(*domain);
          claim.set_rep_id(claimant);
          *claim.mutable_claimed_at() = conflict->raised_at();
        }
        if (dedupe::IsOwner(resolution.owners_after, claimant)) {
          claim.set_status(v1::CLAIM_STATUS_OWNER);
          claim.set_percent(static_cast<uint32_t>(PercentOf(resolution.owners_after, claimant)));
          *claim.mutable_expires_at() = ToTimestamp(now + config_->claims.ownership);
        } else {
          claim.set_status(v1::CLAIM_STATUS_REFUSED);
          *claim.mutable_expires_at() = ToTimestamp(now + kHistoryRetention);
        }
        commit.hash_sets.push_back({store_.keys().Claims(), field, claim.SerializeAsString()});
        UpdateOtherClaims(*records, claimant, resolution.owners_after, now, hmac, store_.keys(),
                          commit);

        conflict->set_status(status);
        *conflict->mutable_resolved_at() = ToTimestamp(now);
        conflict->set_resolved_by(actor);
        SetShares(resolution.owners_after, *conflict->mutable_owners_after());
        if (!request.note().empty()) {
          conflict->set_note(conflict->note().empty()
                                 ? request.note()
                                 : absl::StrCat(conflict->note(), "\n", request.note()));
        }
        commit.hash_sets.push_back(
            {store_.keys().ClaimConflicts(), field, conflict->SerializeAsString()});
        return *std::move(conflict);
      });
}

absl::StatusOr<v1::ListClaimsResponse> AccountClaims::List(const v1::ListClaimsRequest& request) {
  if (absl::Status dedupe = RequireDedupe(); !dedupe.ok()) return dedupe;
  std::string domain;
  if (!request.domain().empty()) {
    auto normalized = ClaimDomain(request.domain(), "domain");
    if (!normalized.ok()) return normalized.status();
    domain = *std::move(normalized);
  }
  const std::set<std::string> reps(request.rep_ids().begin(), request.rep_ids().end());
  const int64_t now_s = ToTimestamp(clock_.Now()).seconds();
  const int64_t history_from_s = ToTimestamp(clock_.Now() - kHistoryRetention).seconds();
  v1::ListClaimsResponse response;

  auto conflicts = store_.LoadHash(store_.keys().ClaimConflicts());
  if (!conflicts.ok()) return conflicts.status();
  for (const auto& [field, bytes] : *conflicts) {
    auto conflict = ParseRecord<v1::ClaimConflict>(bytes, "claim conflict " + field);
    if (!conflict.ok()) return conflict.status();
    const bool open = conflict->status() == v1::CONFLICT_STATUS_OPEN;
    if (open) response.set_open_conflicts(response.open_conflicts() + 1);
    if (!open &&
        (request.open_conflicts_only() || conflict->resolved_at().seconds() < history_from_s)) {
      continue;
    }
    if (!domain.empty() && conflict->domain() != domain) continue;
    if (!reps.empty()) {
      bool involved = reps.count(conflict->claimant_rep_id()) > 0;
      for (const v1::OwnerShare& owner : conflict->owners_at_claim()) {
        involved = involved || reps.count(owner.rep_id()) > 0;
      }
      if (!involved) continue;
    }
    *response.add_conflicts() = *std::move(conflict);
  }
  if (!request.open_conflicts_only()) {
    auto claims = store_.LoadHash(store_.keys().Claims());
    if (!claims.ok()) return claims.status();
    for (const auto& [field, bytes] : *claims) {
      auto claim = ParseRecord<v1::AccountClaim>(bytes, "claim " + field);
      if (!claim.ok()) return claim.status();
      if (claim->expires_at().seconds() <= now_s) continue;
      if (!domain.empty() && claim->domain() != domain) continue;
      if (!reps.empty() && reps.count(claim->rep_id()) == 0) continue;
      *response.add_claims() = *std::move(claim);
    }
  }
  auto newest_first = [](const auto& key) {
    return [key](const auto& a, const auto& b) {
      return key(a).seconds() != key(b).seconds() ? key(a).seconds() > key(b).seconds()
                                                  : key(a).nanos() > key(b).nanos();
    };
  };
  std::stable_sort(response.mutable_claims()->begin(), response.mutable_claims()->end(),
                   newest_first([](const v1::AccountClaim& c) { return c.claimed_at(); }));
  std::stable_sort(response.mutable_conflicts()->begin(), response.mutable_conflicts()->end(),
                   newest_first([](const v1::ClaimConflict& c) { return c.raised_at(); }));
  return response;
}

}  // namespace leadrouter::pipeline
