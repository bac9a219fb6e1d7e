#include "leadrouter/dedupe/dedupe.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "leadrouter/core/hash.h"
#include "leadrouter/normalize/normalize.h"

namespace leadrouter::dedupe {
namespace {

// 128 bits: collisions are out of reach for any lead volume, and half the key bytes of a full
// digest in Redis.
constexpr size_t kHmacHexDigits = 32;

bool IsAlpha2(std::string_view code) {
  return code.size() == 2 && std::all_of(code.begin(), code.end(), [](char c) {
           return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
         });
}

}  // namespace

const char* FieldName(MatchKey::Field field) {
  switch (field) {
    case MatchKey::Field::kEmail:
      return "email";
    case MatchKey::Field::kPhone:
      return "phone";
    case MatchKey::Field::kDomain:
      return "domain";
    case MatchKey::Field::kCompanyName:
      return "company name";
  }
  return "unknown";
}

KeyMaker::KeyMaker(std::string secret, std::string default_phone_region, bool match_company_name,
                   const std::vector<std::string>& keep_plus_tags_domains)
    : hmac_key_(secret),
      default_phone_region_(std::move(default_phone_region)),
      match_company_name_(match_company_name) {
  for (const std::string& domain : keep_plus_tags_domains) {
    // The domain as NormalizeEmail writes it (case, IDN A-labels, a trailing dot).
    if (auto canonical = normalize::NormalizeEmail(absl::StrCat("x@", domain)); canonical.ok()) {
      keep_plus_tags_domains_.push_back(canonical->domain);
    }
  }
}

std::string KeyMaker::Hmac(MatchKey::Field field, std::string_view normalized) const {
  // The field is part of the message, so an e-mail and a company name that happen to normalize
  // to the same text never share a key.
  std::string message = FieldName(field);
  message.push_back('\n');
  message.append(normalized);
  return hmac_key_.Hex(message, kHmacHexDigits);
}

Identity KeyMaker::IdentityOf(const v1::LeadEvent& lead, std::string_view company_domain) const {
  Identity identity;
  const v1::Person& person = lead.person();
  if (!person.email().empty()) {
    if (auto email = normalize::NormalizeEmail(person.email(), {keep_plus_tags_domains_});
        email.ok()) {
      identity.person.push_back(
          {MatchKey::Field::kEmail, Hmac(MatchKey::Field::kEmail, email->address)});
    }
  }
  if (!person.phone().empty()) {
    // A number written without a country code is read in the company's country when the lead
    // says which, else in the configured default region.
    const std::string& country = lead.company().country();
    const std::string_view region =
        IsAlpha2(country) ? std::string_view(country) : std::string_view(default_phone_region_);
    if (auto phone = normalize::PhoneKeyForMatching(person.phone(), region)) {
      identity.person.push_back(
          {MatchKey::Field::kPhone, Hmac(MatchKey::Field::kPhone, phone->key), phone->fallback});
    }
  }
  const std::string domain = normalize::RegistrableDomain(company_domain);
  if (!domain.empty()) {
    identity.account_aliases.push_back(
        {MatchKey::Field::kDomain, Hmac(MatchKey::Field::kDomain, domain)});
  }
  if (match_company_name_) {
    const std::string name = normalize::CompanyNameKey(lead.company().name());
    if (!name.empty()) {
      identity.account_aliases.push_back(
          {MatchKey::Field::kCompanyName, Hmac(MatchKey::Field::kCompanyName, name)});
    }
  }
  if (!identity.account_aliases.empty()) identity.account = identity.account_aliases.front();
  return identity;
}

void KnownKeys::SetPerson(const std::string& hmac, std::string event_id) {
  person_[hmac] = std::move(event_id);
}

void KnownKeys::SetAccount(const std::string& hmac, std::string rep_id) {
  account_[hmac] = std::move(rep_id);
}

const std::string* KnownKeys::Person(const std::string& hmac) const {
  auto it = person_.find(hmac);
  return it == person_.end() ? nullptr : &it->second;
}

const std::string* KnownKeys::Account(const std::string& hmac) const {
  auto it = account_.find(hmac);
  return it == account_.end() ? nullptr : &it->second;
}

std::vector<PersonCandidate> PersonCandidates(const Identity& identity, const KnownKeys& known) {
  std::vector<PersonCandidate> candidates;
  for (const MatchKey& key : identity.person) {
    const std::string* event_id = known.Person(key.hmac);
    if (event_id == nullptr || event_id->empty()) continue;
    const bool seen =
        std::any_of(candidates.begin(), candidates.end(),
                    [&](const PersonCandidate& c) { return c.event_id == *event_id; });
    if (!seen) candidates.push_back({*event_id, key.field, key.fallback});
  }
  return candidates;
}

std::optional<AccountOwner> FindAccountOwner(const Identity& identity, const KnownKeys& known) {
  if (!identity.account) return std::nullopt;
  const std::string* value = known.Account(identity.account->hmac);
  if (value == nullptr) return std::nullopt;
  std::vector<Share> owners = ParseOwners(*value);
  if (owners.empty()) return std::nullopt;
  return AccountOwner{std::move(owners), identity.account->field};
}

}  // namespace leadrouter::dedupe
