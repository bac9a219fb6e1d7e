// Pure dedupe decisions: identities (HMAC'd normalized identifiers) and matching against known
// keys. No I/O.
#include "leadrouter/dedupe/dedupe.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "leadrouter/dedupe/claims.h"

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
  EXPECT_EQ(owner->owners, (std::vector<Share>{{"rep-domain", 100}}));
  EXPECT_EQ(owner->via, Field::kDomain);

  const Identity name_only = kMaker.IdentityOf(Lead("joe@gmail.com", "", "ACME Inc."), "");
  owner = FindAccountOwner(name_only, known);
  ASSERT_TRUE(owner.has_value());
  EXPECT_EQ(owner->owners, (std::vector<Share>{{"rep-name", 100}}));
  EXPECT_EQ(owner->via, Field::kCompanyName);
}

TEST(DedupeMatchTest, SharedAccountListsEveryOwnerInStoredOrder) {
  const Identity id = kMaker.IdentityOf(Lead("jane@acme.com"), "acme.com");
  KnownKeys known;
  known.SetAccount(id.account->hmac, "rep-b=60,rep-a=40");
  const auto owner = FindAccountOwner(id, known);
  ASSERT_TRUE(owner.has_value());
  EXPECT_TRUE(owner->shared());
  EXPECT_EQ(owner->owners, (std::vector<Share>{{"rep-b", 60}, {"rep-a", 40}}));
  known.SetAccount(id.account->hmac, "");
  EXPECT_FALSE(FindAccountOwner(id, known).has_value());
}

// ---------------------------------------------------------------- claims

TEST(ClaimOwnersTest, FormatAndParseRoundTrip) {
  EXPECT_EQ(FormatOwners({{"rep-a", 100}}), "rep-a") << "a sole owner stays readable as before";
  EXPECT_EQ(FormatOwners({{"rep-a", 60}, {"rep.b_2", 40}}), "rep-a=60,rep.b_2=40");
  EXPECT_EQ(ParseOwners("rep-a"), (std::vector<Share>{{"rep-a", 100}}));
  EXPECT_EQ(ParseOwners("rep-a=60,rep.b_2=40"),
            (std::vector<Share>{{"rep-a", 60}, {"rep.b_2", 40}}));
  EXPECT_TRUE(ParseOwners("").empty());
  // Malformed entries are skipped, not guessed at.
  EXPECT_EQ(ParseOwners("=5,rep-a=x,rep-b=0,rep-c=101,rep-d=30,"),
            (std::vector<Share>{{"rep-d", 30}}));
  EXPECT_TRUE(IsOwner(ParseOwners("rep-a=60,rep-b=40"), "rep-b"));
  EXPECT_FALSE(IsOwner(ParseOwners("rep-a=60,rep-b=40"), "rep-c"));
}

TEST(ClaimOwnersTest, ShareWithScalesTheOthersAndSumsTo100) {
  EXPECT_EQ(ShareWith({{"a", 100}}, "c", 30), (std::vector<Share>{{"a", 70}, {"c", 30}}));
  // 60:40 of the remaining 75 is 45:30.
  EXPECT_EQ(ShareWith({{"a", 60}, {"b", 40}}, "c", 25),
            (std::vector<Share>{{"a", 45}, {"b", 30}, {"c", 25}}));
  // Rounding leftovers go to the first owner: 50:50 of 67 -> 34:33.
  EXPECT_EQ(ShareWith({{"a", 50}, {"b", 50}}, "c", 33),
            (std::vector<Share>{{"a", 34}, {"b", 33}, {"c", 33}}));
  // A claimant already sharing gets the new share; nobody else left: sole owner.
  EXPECT_EQ(ShareWith({{"a", 50}, {"c", 50}}, "c", 20), (std::vector<Share>{{"a", 80}, {"c", 20}}));
  EXPECT_EQ(ShareWith({}, "c", 20), (std::vector<Share>{{"c", 100}}));
  for (int p = 1; p <= 99; ++p) {
    int sum = 0;
    for (const Share& s : ShareWith({{"a", 33}, {"b", 33}, {"d", 34}}, "c", p)) sum += s.percent;
    EXPECT_EQ(sum, 100) << p;
  }
}

TEST(ClaimDecisionTest, EveryPolicyAndOwnership) {
  using Kind = ClaimDecision::Kind;
  const ClaimDecision owned = DecideClaim({}, "a", ClaimPolicy::kFirstClaimWins, 50);
  EXPECT_EQ(owned.kind, Kind::kOwned);
  EXPECT_TRUE(owned.write_account);
  EXPECT_EQ(owned.owners_after, (std::vector<Share>{{"a", 100}}));

  const ClaimDecision renewed =
      DecideClaim({{"b", 50}, {"a", 50}}, "a", ClaimPolicy::kFirstClaimWins, 50);
  EXPECT_EQ(renewed.kind, Kind::kRenewed);
  EXPECT_TRUE(renewed.write_account);
  EXPECT_EQ(renewed.owners_after, (std::vector<Share>{{"b", 50}, {"a", 50}}));
  EXPECT_FALSE(renewed.conflict());

  const ClaimDecision refused = DecideClaim({{"b", 100}}, "a", ClaimPolicy::kFirstClaimWins, 50);
  EXPECT_EQ(refused.kind, Kind::kConflictRefused);
  EXPECT_FALSE(refused.write_account);
  EXPECT_EQ(refused.owners_after, (std::vector<Share>{{"b", 100}}));
  EXPECT_TRUE(refused.conflict());

  const ClaimDecision pending = DecideClaim({{"b", 100}}, "a", ClaimPolicy::kManagerDecides, 50);
  EXPECT_EQ(pending.kind, Kind::kConflictPending);
  EXPECT_FALSE(pending.write_account) << "the owner keeps it until a manager decides";

  const ClaimDecision shared = DecideClaim({{"b", 100}}, "a", ClaimPolicy::kShared, 30);
  EXPECT_EQ(shared.kind, Kind::kConflictShared);
  EXPECT_TRUE(shared.write_account);
  EXPECT_EQ(shared.owners_after, (std::vector<Share>{{"b", 70}, {"a", 30}}));
}

TEST(ClaimDecisionTest, ResolutionsApplyToTheOwnersAsTheyAreNow) {
  const std::vector<Share> owners{{"b", 100}};
  const Resolution keep = ResolveConflict(owners, "a", ConflictDecision::kKeepOwner, 0);
  EXPECT_FALSE(keep.write_account);
  EXPECT_EQ(keep.owners_after, owners);
  const Resolution award = ResolveConflict(owners, "a", ConflictDecision::kAwardClaimant, 0);
  EXPECT_TRUE(award.write_account);
  EXPECT_EQ(award.owners_after, (std::vector<Share>{{"a", 100}}));
  const Resolution share = ResolveConflict(owners, "a", ConflictDecision::kShare, 40);
  EXPECT_EQ(share.owners_after, (std::vector<Share>{{"b", 60}, {"a", 40}}));
  // The owner's ownership lapsed while the conflict was open: sharing leaves the claimant alone.
  EXPECT_EQ(ResolveConflict({}, "a", ConflictDecision::kShare, 40).owners_after,
            (std::vector<Share>{{"a", 100}}));
  EXPECT_TRUE(ResolveConflict({}, "a", ConflictDecision::kKeepOwner, 0).owners_after.empty());
}

// Issue 16: today "jane+webinar@acme.com" and "jane@acme.com" are two people.
TEST(DedupeIdentityTest, PlusTagsAreDroppedOnEveryDomainUnlessKept) {
  const Identity tagged = kMaker.IdentityOf(Lead("jane+webinar@acme.com"), "");
  const Identity base = kMaker.IdentityOf(Lead("Jane@ACME.com"), "");
  ASSERT_EQ(tagged.person.size(), 1u);
  EXPECT_EQ(tagged.person[0], base.person[0]);
  const KeyMaker keeping("0123456789abcdef-test-secret", "US", true,
                         {"ACME.com", "b\u00fccher.de"});
  EXPECT_NE(keeping.IdentityOf(Lead("jane+webinar@acme.com"), "").person[0],
            keeping.IdentityOf(Lead("jane@acme.com"), "").person[0]);
  EXPECT_NE(keeping.IdentityOf(Lead("jane+x@b\u00fccher.de"), "").person[0],
            keeping.IdentityOf(Lead("jane@xn--bcher-kva.de"), "").person[0])
      << "a listed IDN domain matches its A-label form";
  EXPECT_EQ(keeping.IdentityOf(Lead("jane+webinar@other.com"), "").person[0],
            keeping.IdentityOf(Lead("jane@other.com"), "").person[0]);
  // The key is the HMAC of the tagless address, as before for gmail.com.
  EXPECT_EQ(tagged.person[0].hmac, kMaker.Hmac(Field::kEmail, "jane@acme.com"));
}

// Issue 16: today an invalid number gets no key, so "001 (864) 030-2177" sent twice with two
// different e-mails went to two reps.
TEST(DedupeIdentityTest, AnInvalidPhoneOfSevenDigitsOrMoreStillGetsAFallbackKey) {
  const Identity first = kMaker.IdentityOf(Lead("ada@one.example", "001 (864) 030-2177"), "");
  const Identity second = kMaker.IdentityOf(Lead("grace@two.example", "001 (864) 030-2177"), "");
  ASSERT_EQ(first.person.size(), 2u);
  ASSERT_EQ(second.person.size(), 2u);
  EXPECT_EQ(first.person[1].field, Field::kPhone);
  EXPECT_TRUE(first.person[1].fallback);
  EXPECT_FALSE(first.person[0].fallback);
  EXPECT_EQ(first.person[1], second.person[1]);
  EXPECT_EQ(first.person[1].hmac, kMaker.Hmac(Field::kPhone, "fallback +1 8640302177"));
  // One person: the second lead finds the first by its phone, said to be a fallback.
  KnownKeys known;
  for (const MatchKey& key : first.person) known.SetPerson(key.hmac, "evt-first");
  const std::vector<PersonCandidate> found = PersonCandidates(
      kMaker.IdentityOf(Lead("grace@two.example", "001 (864) 030-2177"), ""), known);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].event_id, "evt-first");
  EXPECT_EQ(found[0].via, Field::kPhone);
  EXPECT_TRUE(found[0].fallback);
  // The same digits however written, with the country code read where it can be.
  for (const char* spelling : {"+1 864 030 2177", "(864) 030-2177", "1-864-030-2177"}) {
    const Identity other = kMaker.IdentityOf(Lead("", spelling), "");
    ASSERT_EQ(other.person.size(), 1u) << spelling;
    EXPECT_EQ(other.person[0], first.person[1]) << spelling;
  }
  // Without a readable country code: the digits alone.
  const KeyMaker no_region("0123456789abcdef-test-secret", "", true);
  const Identity bare = no_region.IdentityOf(Lead("", "864 030 2177"), "");
  ASSERT_EQ(bare.person.size(), 1u);
  EXPECT_EQ(bare.person[0].hmac, no_region.Hmac(Field::kPhone, "fallback 8640302177"));
  // Fewer than 7 digits (an extension does not count): no key.
  EXPECT_TRUE(kMaker.IdentityOf(Lead("", "030 217 x 4444"), "").person.empty());
  // A valid number keeps its E.164 key, no fallback.
  const Identity valid = kMaker.IdentityOf(Lead("", "(415) 555-2671"), "");
  ASSERT_EQ(valid.person.size(), 1u);
  EXPECT_FALSE(valid.person[0].fallback);
  EXPECT_EQ(valid.person[0].hmac, kMaker.Hmac(Field::kPhone, "+14155552671"));
}

// Issue 16: invalid phones now get a fallback key, and that must not move the key of any valid
// number (a person seen before would be forgotten). tests/unit/data/phone_keys.tsv holds, for
// every phone of the normalize corpus (normalize_test.cc's PhoneCases, the phones of
// tests/fuzz/corpus/decode, 2,500 of leadgen's --seed 16 phones, each also under US and with no
// country), the phone key this KeyMaker gave before the fallback existed ("-" when none). It was
// recorded at commit 60bd898 (the parent of the fallback change) with
//   LEADROUTER_RECORD_PHONE_KEYS=tests/unit/data/phone_keys.tsv build/dev/tests/unit/dedupe_test
//     --gtest_filter=DedupeIdentityTest.KeysOfValidPhonesAreByteIdenticalToTheRecordedOnes
// (one command line; it reads the inputs, country and phone per line, from the same path plus
// ".in", and writes the keys beside them).
// Every recorded key must still be the key today, byte for byte.
TEST(DedupeIdentityTest, KeysOfValidPhonesAreByteIdenticalToTheRecordedOnes) {
  const std::string path = absl::StrCat(LEADROUTER_SOURCE_DIR, "/tests/unit/data/phone_keys.tsv");
  const char* record = std::getenv("LEADROUTER_RECORD_PHONE_KEYS");
  std::ifstream in(record != nullptr ? absl::StrCat(record, ".in") : path);
  ASSERT_TRUE(in.is_open()) << path;
  std::ofstream out;
  if (record != nullptr) out.open(record);
  std::string line;
  size_t valid = 0;
  size_t lines = 0;
  while (std::getline(in, line)) {
    const std::vector<std::string> cols = absl::StrSplit(line, '\t');
    ASSERT_GE(cols.size(), 2u) << line;
    ++lines;
    const Identity id = kMaker.IdentityOf(Lead("", cols[1], "", cols[0]), "");
    const std::string key = id.person.empty() ? "-" : id.person[0].hmac;
    if (record != nullptr) {
      out << cols[0] << '\t' << cols[1] << '\t' << key << '\n';
      continue;
    }
    ASSERT_EQ(cols.size(), 3u) << line;
    if (cols[2] == "-") continue;
    ++valid;
    EXPECT_EQ(key, cols[2]) << "the key of " << cols[1] << " (country " << cols[0] << ") moved";
  }
  if (record == nullptr) {
    EXPECT_GT(lines, 2000u);
    EXPECT_GT(valid, 500u) << "the corpus must hold valid numbers";
  }
}

}  // namespace
}  // namespace leadrouter::dedupe
