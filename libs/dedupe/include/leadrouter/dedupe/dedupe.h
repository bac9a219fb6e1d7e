#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "leadrouter/core/hash.h"
#include "leadrouter/dedupe/claims.h"
#include "leadrouter/v1/lead.pb.h"

namespace leadrouter::dedupe {

// One identifier of a lead, as it is matched: the HMAC-SHA256 (under the deployment's secret
// key) of its normalized value, so no e-mail address, phone number or company name appears in a
// Redis key, and nobody without the key can confirm a guessed address.
struct MatchKey {
  enum class Field { kEmail, kPhone, kDomain, kCompanyName };
  Field field = Field::kEmail;
  std::string hmac;  // 32 lower-case hex digits (128 bits)
  // A phone key from the digits of a number libphonenumber does not validate
  // (normalize::PhoneFallbackKey), not from its E.164 form: weaker evidence, said in traces.
  bool fallback = false;

  friend bool operator==(const MatchKey&, const MatchKey&) = default;
};

// "email", "phone", "domain", "company name": for traces and reasons.
const char* FieldName(MatchKey::Field field);

// Everything dedupe and account matching look at in one lead.
struct Identity {
  // The person: the normalized e-mail address when valid, and the E.164 phone number when valid,
  // else the phone's fallback key (7 digits or more; MatchKey::fallback).
  std::vector<MatchKey> person;
  // The account: the registrable company domain, else the company name key (see
  // normalize::CompanyNameKey). At most one; absent when the lead names no company.
  std::optional<MatchKey> account;
  // Every account key an owner is recorded under: the domain and the name key when both exist,
  // so a later lead that only names the company (a free-mail sign-up) still finds the owner.
  std::vector<MatchKey> account_aliases;
};

// Computes identities. Immutable after construction; thread-safe.
class KeyMaker {
 public:
  // `secret` keys the HMAC (never empty in production; see config `dedupe.hmac_key_env`).
  // `default_phone_region` (ISO 3166-1 alpha-2) applies to phone numbers written without a
  // country code when the lead's company.country is not a two-letter code.
  // `keep_plus_tags_domains`: domains where "+tag" names another mailbox (config
  // `dedupe.keep_plus_tags_domains`); every other address loses its tag in its key (the lead
  // itself keeps the address as sent). Given as written; compared in canonical form (lower
  // case, A-labels).
  KeyMaker(std::string secret, std::string default_phone_region, bool match_company_name,
           const std::vector<std::string>& keep_plus_tags_domains = {});

  // `company_domain` is the registrable company domain already derived for the lead
  // (qualify::CompanyDomain: website, else a non-free-mail e-mail domain). Identifiers that do
  // not normalize (an invalid e-mail, a phone of fewer than 7 digits) contribute no key. The key
  // of a valid phone is its E.164 form's, byte for byte as before fallback keys existed.
  Identity IdentityOf(const v1::LeadEvent& lead, std::string_view company_domain) const;

  // The HMAC of one normalized value, as used in the keys above.
  std::string Hmac(MatchKey::Field field, std::string_view normalized) const;

 private:
  core::HmacSha256Key hmac_key_;
  std::string default_phone_region_;
  bool match_company_name_;
  std::vector<std::string> keep_plus_tags_domains_;
};

// What the matching stage knows about keys: values read from Redis plus what earlier leads of
// the same batch wrote. A value type; thread-compatible.
class KnownKeys {
 public:
  // A person key's value is the event id whose stored record holds the person's lead.
  void SetPerson(const std::string& hmac, std::string event_id);
  // An account key's value names the account's owners (FormatOwners in claims.h).
  void SetAccount(const std::string& hmac, std::string rep_id);
  const std::string* Person(const std::string& hmac) const;
  const std::string* Account(const std::string& hmac) const;

 private:
  std::unordered_map<std::string, std::string> person_;
  std::unordered_map<std::string, std::string> account_;
};

// An earlier lead of the same person: the event id of its stored record, and which identifier
// matched. Candidates come in the identity's order (e-mail before phone), one per distinct event;
// the caller takes the first whose lead is still live.
struct PersonCandidate {
  std::string event_id;
  MatchKey::Field via = MatchKey::Field::kEmail;
  bool fallback = false;  // matched by a phone's fallback key (MatchKey::fallback)
};
std::vector<PersonCandidate> PersonCandidates(const Identity& identity, const KnownKeys& known);

// The owners of the lead's account, when the account has any: one, or several sharing it with
// a credit split (see claims.h), in stored order (the incumbent first).
struct AccountOwner {
  std::vector<Share> owners;  // never empty
  MatchKey::Field via = MatchKey::Field::kDomain;
  bool shared() const { return owners.size() > 1; }
};
std::optional<AccountOwner> FindAccountOwner(const Identity& identity, const KnownKeys& known);

}  // namespace leadrouter::dedupe
