// Pure dedupe decisions: identities (HMAC'd normalized identifiers) and matching against known
// keys. No I/O.
#include "leadrouter/dedupe/dedupe.h"

#include <gtest/gtest.h>

namespace leadrouter::dedupe {
namespace {

using Field = MatchKey::Field;

v1::LeadEvent Lead(const std::string& email, const std::string& phone = "",
                   const std::string& company = "", const std::string& country = "") {
  v1::LeadEvent lead;
  lead.set_event_id("e1");
  lead.mutable_person()->set_email(email);
  lead.mutable_person()->set_phone(phone);
  lead.mutable_company()->set_name(company);
  lead.mutable_company()->set_country(country);
  return lead;
}

const KeyMaker kMaker("0123456789abcdef-test-secret", "US", /*match_company_name=*/true);

TEST(DedupeIdentityTest, EquivalentEmailSpellingsShareOneKey) {
  const Identity a = kMaker.IdentityOf(Lead("Jane.Doe+webinar@GoogleMail.com"), "");
  const Identity b = kMaker.IdentityOf(Lead("  janedoe@gmail.com "), "");
  ASSERT_EQ(a.person.size(), 1u);
  ASSERT_EQ(b.person.size(), 1u);
  EXPECT_EQ(a.person[0], b.person[0]);
  EXPECT_EQ(a.person[0].field, Field::kEmail);
  EXPECT_NE(kMaker.IdentityOf(Lead("jane.doe@acme.com"), "").person[0],
            kMaker.IdentityOf(Lead("jane.dough@acme.com"), "").person[0]);
}

TEST(DedupeIdentityTest, KeysAreKeyedHashesNotValues) {
  const Identity id =
      kMaker.IdentityOf(Lead("jane@acme.com", "+1 415 555 2671", "Acme Inc"), "acme.com");
  for (const auto* keys : {&id.person, &id.account_aliases}) {
    for (const MatchKey& key : *keys) {
      EXPECT_EQ(key.hmac.size(), 32u);
      EXPECT_EQ(key.hmac.find_first_not_of("0123456789abcdef"), std::string::npos);
    }
  }
  const KeyMaker other("another-secret-of-16-bytes", "US", true);
  EXPECT_NE(other.IdentityOf(Lead("jane@acme.com"), "").person[0].hmac, id.person[0].hmac)
      << "the secret must change every key";
  // The field is part of the message: the same text as e-mail and as domain differs.
  EXPECT_NE(kMaker.Hmac(Field::kEmail, "acme.com"), kMaker.Hmac(Field::kDomain, "acme.com"));
}

TEST(DedupeIdentityTest, PhoneUsesTheCompanyCountryElseTheDefaultRegion) {
  const Identity us = kMaker.IdentityOf(Lead("", "(415) 555-2671"), "");
  const Identity e164 = kMaker.IdentityOf(Lead("", "+14155552671"), "");
  ASSERT_EQ(us.person.size(), 1u);
  EXPECT_EQ(us.person[0], e164.person[0]);
  EXPECT_EQ(us.person[0].field, Field::kPhone);
  const Identity berlin = kMaker.IdentityOf(Lead("", "030 1234567", "", "DE"), "");
  const Identity berlin_intl = kMaker.IdentityOf(Lead("", "+49 30 1234567"), "");
  ASSERT_EQ(berlin.person.size(), 1u);
  EXPECT_EQ(berlin.person[0], berlin_intl.person[0]);
}

TEST(DedupeIdentityTest, InvalidIdentifiersContributeNoKey) {
  const Identity id = kMaker.IdentityOf(Lead("not an address", "12"), "");
  EXPECT_TRUE(id.person.empty());
  EXPECT_FALSE(id.account.has_value());
}

TEST(DedupeIdentityTest, AccountIsTheDomainElseTheCompanyName) {
  const Identity both = kMaker.IdentityOf(Lead("jane@acme.com", "", "ACME, Inc."), "shop.acme.com");
  ASSERT_TRUE(both.account.has_value());
  EXPECT_EQ(both.account->field, Field::kDomain);
  EXPECT_EQ(both.account->hmac, kMaker.Hmac(Field::kDomain, "acme.com"));
  ASSERT_EQ(both.account_aliases.size(), 2u);
  EXPECT_EQ(both.account_aliases[1].field, Field::kCompanyName);

  const Identity name_only = kMaker.IdentityOf(Lead("jane@gmail.com", "", "Acme Incorporated"), "");
  ASSERT_TRUE(name_only.account.has_value());
  EXPECT_EQ(name_only.account->field, Field::kCompanyName);
  EXPECT_EQ(name_only.account->hmac, both.account_aliases[1].hmac);

  const KeyMaker no_names("0123456789abcdef-test-secret", "US", /*match_company_name=*/false);
  EXPECT_FALSE(no_names.IdentityOf(Lead("jane@gmail.com", "", "Acme"), "").account.has_value());
}

TEST(DedupeMatchTest, PersonCandidatesInIdentityOrderOncePerEvent) {
  const Identity id = kMaker.IdentityOf(Lead("jane@acme.com", "+14155552671"), "");
  ASSERT_EQ(id.person.size(), 2u);
  KnownKeys known;
  EXPECT_TRUE(PersonCandidates(id, known).empty());
  known.SetPerson(id.person[1].hmac, "phone-event");
  auto candidates = PersonCandidates(id, known);
  ASSERT_EQ(candidates.size(), 1u);
  EXPECT_EQ(candidates[0].event_id, "phone-event");
  EXPECT_EQ(candidates[0].via, Field::kPhone);

  known.SetPerson(id.person[0].hmac, "email-event");
  candidates = PersonCandidates(id, known);
  ASSERT_EQ(candidates.size(), 2u);
  EXPECT_EQ(candidates[0].event_id, "email-event");
  EXPECT_EQ(candidates[0].via, Field::kEmail);

  known.SetPerson(id.person[1].hmac, "email-event");  // both point at one lead
  EXPECT_EQ(PersonCandidates(id, known).size(), 1u);
}

TEST(DedupeMatchTest, AccountOwnerByDomainDoesNotFallBackToTheName) {
  const Identity id = kMaker.IdentityOf(Lead("jane@acme.com", "", "Acme"), "acme.com");
  KnownKeys known;
  EXPECT_FALSE(FindAccountOwner(id, known).has_value());
  // An owner recorded only under the name (from a lead without a domain) does not claim a lead
  // that has a domain: names are ambiguous, domains are not.
  known.SetAccount(id.account_aliases[1].hmac, "rep-name");
  EXPECT_FALSE(FindAccountOwner(id, known).has_value());
  known.SetAccount(id.account_aliases[0].hmac, "rep-domain");
  auto owner = FindAccountOwner(id, known);
  ASSERT_TRUE(owner.has_value());
  EXPECT_EQ(owner->rep_id, "rep-domain");
  EXPECT_EQ(owner->via, Field::kDomain);

  const Identity name_only = kMaker.IdentityOf(Lead("joe@gmail.com", "", "ACME Inc."), "");
  owner = FindAccountOwner(name_only, known);
  ASSERT_TRUE(owner.has_value());
  EXPECT_EQ(owner->rep_id, "rep-name");
  EXPECT_EQ(owner->via, Field::kCompanyName);
}

}  // namespace
}  // namespace leadrouter::dedupe
