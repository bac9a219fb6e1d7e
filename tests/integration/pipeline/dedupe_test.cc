// Dedupe and account matching in the Assigner against a real redis-server: replays, the same
// person written differently, two instances racing on one new person, account owners, windows;
// and account claims (AccountClaims) with each conflict policy, as routing then sees them.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <atomic>
#include <barrier>
#include <map>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "leadrouter/pipeline/assigner.h"
#include "leadrouter/pipeline/claims.h"
#include "leadrouter/testing/redis_fixture.h"

namespace leadrouter::pipeline {
namespace {

using namespace std::chrono_literals;

// 2026-11-23T15:00:00Z: a Monday, 10:00 in New York.
const core::TimePoint kMonday = core::TimePoint(std::chrono::seconds(1795446000));
constexpr char kKeyVariable[] = "LEADROUTER_TEST_DEDUPE_KEY";

v1::LeadEvent Lead(const std::string& event_id, const std::string& email,
                   const std::string& phone = "", const std::string& website = "") {
  v1::LeadEvent lead;
  lead.set_event_id(event_id);
  lead.mutable_occurred_at()->set_seconds(1795440000);
  lead.set_source_kind(v1::LEAD_SOURCE_KIND_INBOUND_MARKETING);
  lead.mutable_person()->set_email(email);
  lead.mutable_person()->set_phone(phone);
  lead.mutable_company()->set_country("US");
  lead.mutable_company()->set_website(website);
  return lead;
}

class DedupeTest : public testing::RedisFixture {
 protected:
  void SetUp() override {
    setenv(kKeyVariable, "integration-test-secret-0123456789", 1);
    RedisFixture::SetUp();
    if (HasFatalFailure()) return;
    store_ = Store();
    ASSERT_NE(store_, nullptr);
  }

  // Three reps in one round-robin pool; `extra` is appended to the YAML.
  std::shared_ptr<const config::Config> Config(bool dedupe = true, const std::string& extra = "") {
    auto cfg = config::ParseConfig(absl::StrCat(
        "kafka: {bootstrap_servers: k:1}\nreps: [{id: r1}, {id: r2}, {id: r3}]\n",
        dedupe ? absl::StrCat("dedupe: {hmac_key_env: ", kKeyVariable, "}\n") : "", extra));
    EXPECT_TRUE(cfg.ok()) << cfg.status();
    return cfg.ok() ? std::make_shared<const config::Config>(*cfg) : nullptr;
  }

  std::unique_ptr<store::AssignmentStore> Store() { return Connect<store::AssignmentStore>(); }

  std::vector<LeadResult> Decide(Assigner& assigner, const std::vector<v1::LeadEvent>& leads) {
    std::vector<const v1::LeadEvent*> ptrs;
    for (const auto& lead : leads) ptrs.push_back(&lead);
    auto results = assigner.DecideBatch(ptrs);
    EXPECT_TRUE(results.ok()) << results.status();
    return results.ok() ? *results : std::vector<LeadResult>{};
  }

  const v1::AssignmentEvent& Only(const std::vector<LeadResult>& results) {
    EXPECT_EQ(results.size(), 1u);
    EXPECT_TRUE(results.at(0).outcome->has_assignment());
    return results.at(0).outcome->assignment();
  }

  std::string RoutingField(const std::string& field) {
    return RedisCommand({"HGET", store_->keys().RoutingState(), field}).str;
  }

  int64_t OpenLeads(const std::string& rep) {
    const std::string value = RoutingField(absl::StrCat("rep:", rep, ":open"));
    return value.empty() ? 0 : std::stoll(value);
  }

  std::unique_ptr<store::AssignmentStore> store_;
  core::FakeClock clock_{kMonday};
};

TEST_F(DedupeTest, ReplayedEventReportsTheEarlierOutcome) {
  Assigner assigner(*store_, Config(), clock_);
  const auto first = Decide(assigner, {Lead("e1", "ann@acme.com")});
  const auto again = Decide(assigner, {Lead("e1", "ann@acme.com")});
  ASSERT_EQ(again.size(), 1u);
  EXPECT_TRUE(again[0].replayed);
  EXPECT_EQ(again[0].match, LeadResult::Match::kNone);
  EXPECT_EQ(again[0].outcome->SerializeAsString(), first[0].outcome->SerializeAsString());
  EXPECT_EQ(RoutingField("rep:r1:open"), "1");
}

TEST_F(DedupeTest, SamePersonWrittenDifferentlyJoinsTheLiveLead) {
  Assigner assigner(*store_, Config(), clock_);
  const v1::AssignmentEvent first = Only(Decide(assigner, {Lead("e1", "Jane.Doe@gmail.com")}));
  ASSERT_EQ(first.status(), v1::ASSIGNMENT_STATUS_ASSIGNED);
  const std::string open_before = RoutingField(absl::StrCat("rep:", first.rep_id(), ":open"));

  const auto results = Decide(assigner, {Lead("e2", " janedoe+pricing@GoogleMail.com ")});
  const v1::AssignmentEvent& dup = Only(results);
  EXPECT_EQ(results[0].match, LeadResult::Match::kPerson);
  EXPECT_FALSE(results[0].replayed);
  EXPECT_EQ(dup.status(), v1::ASSIGNMENT_STATUS_DUPLICATE);
  EXPECT_EQ(dup.lead_id(), first.lead_id());
  EXPECT_EQ(dup.rep_id(), first.rep_id()) << "the owner hears about the renewed interest";
  EXPECT_EQ(dup.event_id(), "e2");
  EXPECT_NE(dup.assignment_id(), first.assignment_id());
  // Its own message on the lead's key, which changes nothing of the lead: sequence 0.
  EXPECT_EQ(first.sequence(), 1);
  EXPECT_EQ(dup.sequence(), 0);
  EXPECT_FALSE(dup.message_id().empty());
  EXPECT_NE(dup.message_id(), first.message_id());
  ASSERT_GE(dup.trace_size(), 1);
  EXPECT_EQ(dup.trace(0).stage(), "dedupe");
  EXPECT_NE(dup.trace(0).reason().find("email matches event e1"), std::string::npos)
      << dup.trace(0).reason();
  EXPECT_EQ(RoutingField(absl::StrCat("rep:", first.rep_id(), ":open")), open_before)
      << "a duplicate moves no counter";

  // Same person by phone (formatted differently), new e-mail: still the same lead; and the new
  // e-mail now leads there too.
  const auto by_phone = Decide(assigner, {Lead("e3", "jane@newjob.com", "(415) 555-2671")});
  EXPECT_EQ(Only(by_phone).status(), v1::ASSIGNMENT_STATUS_ASSIGNED) << "no phone known yet";
  const auto phone_dup = Decide(assigner, {Lead("e4", "", "+1 415-555-2671")});
  EXPECT_EQ(Only(phone_dup).status(), v1::ASSIGNMENT_STATUS_DUPLICATE);
  EXPECT_EQ(Only(phone_dup).lead_id(), Only(by_phone).lead_id());
}

TEST_F(DedupeTest, SamePersonTwiceInOneBatchIsOneAssignment) {
  Assigner assigner(*store_, Config(), clock_);
  const auto results = Decide(
      assigner, {Lead("e1", "bob@acme.com"), Lead("e2", "BOB@ACME.COM"), Lead("e3", "x@y.org")});
  ASSERT_EQ(results.size(), 3u);
  EXPECT_EQ(results[0].outcome->assignment().status(), v1::ASSIGNMENT_STATUS_ASSIGNED);
  EXPECT_EQ(results[1].outcome->assignment().status(), v1::ASSIGNMENT_STATUS_DUPLICATE);
  EXPECT_EQ(results[1].outcome->assignment().lead_id(), results[0].outcome->assignment().lead_id());
  EXPECT_EQ(results[2].outcome->assignment().status(), v1::ASSIGNMENT_STATUS_ASSIGNED);
}

// Two instances receive two events of one new person at the same moment: exactly one
// assignment and one duplicate, every time.
TEST_F(DedupeTest, TwoInstancesRacingOnOneNewPersonAssignOnce) {
  const auto cfg = Config();
  auto other_store = Store();
  ASSERT_NE(other_store, nullptr);
  Assigner a(*store_, cfg, clock_);
  Assigner b(*other_store, cfg, clock_);
  constexpr int kRounds = 1000;
  std::barrier sync(2);
  std::vector<LeadResult> from_a(kRounds), from_b(kRounds);
  auto run = [&](Assigner& assigner, std::vector<LeadResult>& out, const char* tag) {
    for (int i = 0; i < kRounds; ++i) {
      const v1::LeadEvent lead =
          Lead(absl::StrCat(tag, i),
               absl::StrCat("person", i, tag[0] == 'a' ? "@acme.com" : "@ACME.com"));
      sync.arrive_and_wait();
      auto results = assigner.DecideBatch({&lead});
      ASSERT_TRUE(results.ok()) << results.status();
      out[i] = (*results)[0];
    }
  };
  std::thread ta([&] { run(a, from_a, "a"); });
  std::thread tb([&] { run(b, from_b, "b"); });
  ta.join();
  tb.join();
  for (int i = 0; i < kRounds; ++i) {
    const auto& x = from_a[i].outcome->assignment();
    const auto& y = from_b[i].outcome->assignment();
    const int assigned = (x.status() == v1::ASSIGNMENT_STATUS_ASSIGNED) +
                         (y.status() == v1::ASSIGNMENT_STATUS_ASSIGNED);
    const int duplicates = (x.status() == v1::ASSIGNMENT_STATUS_DUPLICATE) +
                           (y.status() == v1::ASSIGNMENT_STATUS_DUPLICATE);
    ASSERT_EQ(assigned, 1) << "round " << i;
    ASSERT_EQ(duplicates, 1) << "round " << i;
    ASSERT_EQ(x.lead_id(), y.lead_id()) << "round " << i;
    ASSERT_EQ(x.rep_id(), y.rep_id()) << "round " << i;
  }
  int64_t open = 0;
  for (const char* rep : {"r1", "r2", "r3"}) open += OpenLeads(rep);
  EXPECT_EQ(open, kRounds) << "one open lead per person";
}

TEST_F(DedupeTest, NewContactOfAnOwnedAccountGoesToTheOwner) {
  Assigner assigner(*store_, Config(), clock_);
  const v1::AssignmentEvent first = Only(Decide(assigner, {Lead("e1", "ann@acme.co.uk")}));
  ASSERT_EQ(first.rep_id(), "r1");
  // Round robin would give r2 and r3 the next two; the account's owner takes its contacts.
  const auto second = Decide(assigner, {Lead("e2", "bob@mail.acme.co.uk")});
  EXPECT_EQ(Only(second).rep_id(), "r1");
  EXPECT_EQ(second[0].match, LeadResult::Match::kAccount);
  bool traced = false;
  for (const auto& step : Only(second).trace()) {
    traced |= step.stage() == "account" && step.decision() == "r1";
  }
  EXPECT_TRUE(traced) << Only(second).DebugString();
  const auto by_website =
      Decide(assigner, {Lead("e3", "cat@gmail.com", "", "https://www.acme.co.uk/about")});
  EXPECT_EQ(Only(by_website).rep_id(), "r1");
  const auto other = Decide(assigner, {Lead("e4", "dan@other.com")});
  EXPECT_NE(Only(other).rep_id(), "r1") << "r1 has had its turn of the rotation";
  EXPECT_EQ(other[0].match, LeadResult::Match::kNone);
}

TEST_F(DedupeTest, IneligibleOwnerKeepsTheAccountButTheLeadMovesOn) {
  Assigner assigner(*store_, Config(), clock_);
  ASSERT_EQ(Only(Decide(assigner, {Lead("e1", "ann@acme.com")})).rep_id(), "r1");
  // r1 goes on leave: the next acme lead goes by rotation, and r1 still owns acme afterwards.
  auto text = absl::StrCat(
      "kafka: {bootstrap_servers: k:1}\n"
      "reps: [{id: r1, out_of_office: [{from: \"2026-11-01T00:00:00Z\", to: "
      "\"2026-12-01T00:00:00Z\"}]}, "
      "{id: r2}, {id: r3}]\n",
      "dedupe: {hmac_key_env: ", kKeyVariable, "}\n");
  auto parsed = config::ParseConfig(text);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  Assigner during_leave(*store_, std::make_shared<const config::Config>(*parsed), clock_);
  const auto routed = Decide(during_leave, {Lead("e2", "bob@acme.com")});
  EXPECT_NE(Only(routed).rep_id(), "r1");
  EXPECT_EQ(routed[0].match, LeadResult::Match::kNone);
  const auto back = Decide(assigner, {Lead("e3", "cat@acme.com")});
  EXPECT_EQ(Only(back).rep_id(), "r1");
}

TEST_F(DedupeTest, WindowsExpire) {
  auto parsed = Config();
  ASSERT_NE(parsed, nullptr);
  auto cfg = std::make_shared<config::Config>(*parsed);
  cfg->dedupe.person_window = 1s;
  cfg->dedupe.account_owner_idle = 1s;
  Assigner assigner(*store_, cfg, clock_);
  ASSERT_EQ(Only(Decide(assigner, {Lead("e1", "ann@acme.com")})).rep_id(), "r1");
  ASSERT_EQ(RedisCommand({"KEYS", "*person:*"}).elements.size(), 1u);
  std::this_thread::sleep_for(2100ms);
  // Both the person key and the account owner are gone: a fresh lead, routed by rotation.
  const auto again = Decide(assigner, {Lead("e2", "ann@acme.com")});
  EXPECT_EQ(Only(again).status(), v1::ASSIGNMENT_STATUS_ASSIGNED);
  EXPECT_NE(Only(again).rep_id(), "r1") << "no owner any more: the rotation's next rep";
  EXPECT_EQ(again[0].match, LeadResult::Match::kNone);
}

TEST_F(DedupeTest, NurturedLeadDoesNotHoldThePerson) {
  Assigner assigner(*store_, Config(true, R"(
qualification:
  requirements:
    - {name: has_company, field: company.name, exists: true}
)"),
                    clock_);
  const auto nurtured = Decide(assigner, {Lead("e1", "ann@acme.com")});
  ASSERT_TRUE(nurtured[0].outcome->has_nurture());
  v1::LeadEvent qualified = Lead("e2", "ann@acme.com");
  qualified.mutable_company()->set_name("Acme");
  const auto routed = Decide(assigner, {qualified});
  EXPECT_EQ(Only(routed).status(), v1::ASSIGNMENT_STATUS_ASSIGNED);
}

TEST_F(DedupeTest, WithoutDedupeTheSamePersonIsRoutedTwice) {
  Assigner assigner(*store_, Config(/*dedupe=*/false), clock_);
  const std::string first = Only(Decide(assigner, {Lead("e1", "ann@acme.com")})).rep_id();
  const auto second = Decide(assigner, {Lead("e2", "ann@acme.com")});
  EXPECT_EQ(Only(second).status(), v1::ASSIGNMENT_STATUS_ASSIGNED);
  EXPECT_NE(Only(second).rep_id(), first);
}

TEST_F(DedupeTest, NoIdentifierIsStoredInAKeyName) {
  Assigner assigner(*store_, Config(), clock_);
  Decide(assigner, {Lead("e1", "secret.person@acme.com", "+14155552671", "acme.com")});
  const store::RedisReply keys = RedisCommand({"KEYS", "*"});
  int person_keys = 0, account_keys = 0;
  for (const auto& key : keys.elements) {
    EXPECT_EQ(key.str.find("secret"), std::string::npos) << key.str;
    EXPECT_EQ(key.str.find("acme"), std::string::npos) << key.str;
    EXPECT_EQ(key.str.find("4155552671"), std::string::npos) << key.str;
    person_keys += key.str.find(":person:") != std::string::npos;
    account_keys += key.str.find(":account:") != std::string::npos;
  }
  EXPECT_EQ(person_keys, 2);   // e-mail and phone
  EXPECT_EQ(account_keys, 1);  // domain (no company name given)
}

// ---------------------------------------------------------------- claims

class ClaimsTest : public DedupeTest {
 protected:
  std::shared_ptr<const config::Config> Policy(const std::string& policy, int shared_percent = 50) {
    return Config(true, absl::StrCat("claims: {policy: ", policy,
                                     ", shared_percent: ", shared_percent, "}\n"));
  }

  v1::ClaimResult ClaimOne(const std::shared_ptr<const config::Config>& cfg, const std::string& rep,
                           const std::string& domain) {
    v1::ClaimAccountsRequest request;
    request.set_rep_id(rep);
    request.add_domains(domain);
    auto response = AccountClaims(*store_, cfg, clock_).Claim(request, "token:test");
    EXPECT_TRUE(response.ok()) << response.status();
    if (!response.ok() || response->results_size() != 1) return {};
    return response->results(0);
  }

  absl::StatusOr<v1::ClaimConflict> Resolve(const std::shared_ptr<const config::Config>& cfg,
                                            const std::string& domain, const std::string& claimant,
                                            v1::ConflictDecision decision, uint32_t percent = 0) {
    v1::ResolveClaimConflictRequest request;
    request.set_domain(domain);
    request.set_claimant_rep_id(claimant);
    request.set_decision(decision);
    request.set_claimant_percent(percent);
    return AccountClaims(*store_, cfg, clock_).Resolve(request, "token:manager");
  }

  v1::ListClaimsResponse List(const std::shared_ptr<const config::Config>& cfg,
                              const std::vector<std::string>& reps = {}) {
    v1::ListClaimsRequest request;
    for (const auto& rep : reps) request.add_rep_ids(rep);
    auto response = AccountClaims(*store_, cfg, clock_).List(request);
    EXPECT_TRUE(response.ok()) << response.status();
    return response.ok() ? *response : v1::ListClaimsResponse();
  }

  static std::vector<std::pair<std::string, uint32_t>> Shares(
      const google::protobuf::RepeatedPtrField<v1::OwnerShare>& owners) {
    std::vector<std::pair<std::string, uint32_t>> out;
    for (const auto& owner : owners) out.emplace_back(owner.rep_id(), owner.percent());
    return out;
  }
  using SharesList = std::vector<std::pair<std::string, uint32_t>>;

  int64_t AccountTtl(const std::string& domain) {
    const dedupe::KeyMaker keys("integration-test-secret-0123456789", "US", true);
    const store::RedisReply reply = RedisCommand(
        {"TTL", store_->keys().Account(keys.Hmac(dedupe::MatchKey::Field::kDomain, domain))});
    return reply.type == store::RedisReply::Type::kInteger ? reply.integer : -3;
  }
};

TEST_F(ClaimsTest, ClaimOnAnUnownedAccountRoutesItsLeadsToTheClaimant) {
  const auto cfg = Policy("first_claim_wins");
  v1::ClaimAccountsRequest request;
  request.set_rep_id("r3");
  request.add_domains("https://www.Acme.com/pricing");
  request.add_domains("acme.com");  // the same account: claimed once
  auto response = AccountClaims(*store_, cfg, clock_).Claim(request, "token:test");
  ASSERT_TRUE(response.ok()) << response.status();
  ASSERT_EQ(response->results_size(), 1);
  const v1::ClaimResult& result = response->results(0);
  EXPECT_EQ(result.domain(), "acme.com");
  EXPECT_EQ(result.outcome(), v1::CLAIM_OUTCOME_OWNED);
  EXPECT_EQ(Shares(result.owners()), (SharesList{{"r3", 100}}));
  EXPECT_EQ(result.expires_at().seconds(),
            ToTimestamp(clock_.Now() + std::chrono::hours(24 * 90)).seconds());

  // Rotation would start with r1; the claimant takes the account's leads.
  Assigner assigner(*store_, cfg, clock_);
  const auto results = Decide(assigner, {Lead("e1", "ann@acme.com", "", "acme.com")});
  EXPECT_EQ(Only(results).rep_id(), "r3");
  EXPECT_EQ(results[0].match, LeadResult::Match::kAccount);
  // The lead renewed the owner for the 30-day idle period without cutting the 90-day claim short.
  EXPECT_GT(AccountTtl("acme.com"), 89 * 86400);

  EXPECT_EQ(ClaimOne(cfg, "r3", "acme.com").outcome(), v1::CLAIM_OUTCOME_RENEWED);
  const auto listed = List(cfg);
  ASSERT_EQ(listed.claims_size(), 1);
  EXPECT_EQ(listed.claims(0).status(), v1::CLAIM_STATUS_OWNER);
  EXPECT_EQ(listed.claims(0).actor(), "token:test");
  EXPECT_EQ(listed.conflicts_size(), 0);
}

TEST_F(ClaimsTest, FirstClaimWinsRefusesTheSecondAndRecordsTheConflict) {
  const auto cfg = Policy("first_claim_wins");
  // An account owned through routing counts like a claimed one.
  Assigner assigner(*store_, cfg, clock_);
  ASSERT_EQ(Only(Decide(assigner, {Lead("e1", "ann@beta.io", "", "beta.io")})).rep_id(), "r1");
  const v1::ClaimResult refused = ClaimOne(cfg, "r2", "beta.io");
  EXPECT_EQ(refused.outcome(), v1::CLAIM_OUTCOME_CONFLICT_REFUSED);
  EXPECT_EQ(Shares(refused.owners()), (SharesList{{"r1", 100}}));
  EXPECT_EQ(refused.conflict().status(), v1::CONFLICT_STATUS_OWNER_KEPT);
  EXPECT_EQ(refused.conflict().resolved_by(), "policy");

  const auto listed = List(cfg, {"r2"});
  ASSERT_EQ(listed.claims_size(), 1);
  EXPECT_EQ(listed.claims(0).status(), v1::CLAIM_STATUS_REFUSED);
  ASSERT_EQ(listed.conflicts_size(), 1);
  EXPECT_EQ(listed.conflicts(0).claimant_rep_id(), "r2");
  EXPECT_EQ(Shares(listed.conflicts(0).owners_at_claim()), (SharesList{{"r1", 100}}));
  EXPECT_EQ(listed.open_conflicts(), 0);
  EXPECT_EQ(List(cfg, {"r3"}).conflicts_size(), 0) << "r3 is not involved";
  // Still r1's: the next contact goes there.
  EXPECT_EQ(Only(Decide(assigner, {Lead("e2", "bo@beta.io", "", "beta.io")})).rep_id(), "r1");
}

TEST_F(ClaimsTest, ManagerDecidesHoldsTheConflictOpenThenShares) {
  const auto cfg = Policy("manager_decides");
  ASSERT_EQ(ClaimOne(cfg, "r1", "acme.com").outcome(), v1::CLAIM_OUTCOME_OWNED);
  const v1::ClaimResult pending = ClaimOne(cfg, "r2", "acme.com");
  EXPECT_EQ(pending.outcome(), v1::CLAIM_OUTCOME_CONFLICT_PENDING);
  EXPECT_EQ(pending.conflict().status(), v1::CONFLICT_STATUS_OPEN);
  clock_.Advance(std::chrono::seconds(5));
  const v1::ClaimResult again = ClaimOne(cfg, "r2", "acme.com");
  EXPECT_EQ(again.outcome(), v1::CLAIM_OUTCOME_CONFLICT_PENDING);
  EXPECT_EQ(again.conflict().raised_at().seconds(), pending.conflict().raised_at().seconds())
      << "claiming again is the same open conflict";
  EXPECT_EQ(List(cfg).open_conflicts(), 1);

  Assigner assigner(*store_, cfg, clock_);
  const v1::AssignmentEvent before =
      Only(Decide(assigner, {Lead("e1", "a@acme.com", "", "acme.com")}));
  EXPECT_EQ(before.rep_id(), "r1") << "the owner keeps it while the conflict is open";
  EXPECT_EQ(before.account_split_size(), 0);

  EXPECT_EQ(Resolve(cfg, "acme.com", "r3", v1::CONFLICT_DECISION_KEEP_OWNER).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(Resolve(cfg, "acme.com", "r2", v1::CONFLICT_DECISION_SHARE, 0).status().code(),
            absl::StatusCode::kInvalidArgument);
  auto shared = Resolve(cfg, "acme.com", "r2", v1::CONFLICT_DECISION_SHARE, 40);
  ASSERT_TRUE(shared.ok()) << shared.status();
  EXPECT_EQ(shared->status(), v1::CONFLICT_STATUS_SHARED);
  EXPECT_EQ(shared->resolved_by(), "token:manager");
  EXPECT_EQ(Shares(shared->owners_after()), (SharesList{{"r1", 60}, {"r2", 40}}));
  EXPECT_EQ(Resolve(cfg, "acme.com", "r2", v1::CONFLICT_DECISION_AWARD_CLAIMANT).status().code(),
            absl::StatusCode::kFailedPrecondition);

  const v1::AssignmentEvent after =
      Only(Decide(assigner, {Lead("e2", "b@acme.com", "", "acme.com")}));
  EXPECT_EQ(after.rep_id(), "r1");
  EXPECT_EQ(Shares(after.account_split()), (SharesList{{"r1", 60}, {"r2", 40}}))
      << "the split travels with the assignment";
  const auto listed = List(cfg);
  EXPECT_EQ(listed.open_conflicts(), 0);
  std::map<std::string, uint32_t> share_of;
  for (const auto& claim : listed.claims()) {
    EXPECT_EQ(claim.status(), v1::CLAIM_STATUS_OWNER) << claim.rep_id();
    share_of[claim.rep_id()] = claim.percent();
  }
  EXPECT_EQ(share_of, (std::map<std::string, uint32_t>{{"r1", 60}, {"r2", 40}}));
}

TEST_F(ClaimsTest, AwardingTheClaimantSupersedesTheOwner) {
  const auto cfg = Policy("manager_decides");
  ClaimOne(cfg, "r1", "acme.com");
  ClaimOne(cfg, "r2", "acme.com");
  auto awarded = Resolve(cfg, "acme.com", "r2", v1::CONFLICT_DECISION_AWARD_CLAIMANT);
  ASSERT_TRUE(awarded.ok()) << awarded.status();
  EXPECT_EQ(Shares(awarded->owners_after()), (SharesList{{"r2", 100}}));
  Assigner assigner(*store_, cfg, clock_);
  EXPECT_EQ(Only(Decide(assigner, {Lead("e1", "a@acme.com", "", "acme.com")})).rep_id(), "r2");
  const auto r1 = List(cfg, {"r1"});
  ASSERT_EQ(r1.claims_size(), 1);
  EXPECT_EQ(r1.claims(0).status(), v1::CLAIM_STATUS_SUPERSEDED);
}

TEST_F(ClaimsTest, SharedPolicySplitsAtOnce) {
  const auto cfg = Policy("shared", 30);
  ClaimOne(cfg, "r1", "acme.com");
  const v1::ClaimResult shared = ClaimOne(cfg, "r2", "acme.com");
  EXPECT_EQ(shared.outcome(), v1::CLAIM_OUTCOME_CONFLICT_SHARED);
  EXPECT_EQ(Shares(shared.owners()), (SharesList{{"r1", 70}, {"r2", 30}}));
  EXPECT_EQ(shared.conflict().status(), v1::CONFLICT_STATUS_SHARED);
  EXPECT_EQ(List(cfg).open_conflicts(), 0);
}

TEST_F(ClaimsTest, BadRequestsAreRefusedNamingTheField) {
  const auto cfg = Policy("first_claim_wins");
  AccountClaims claims(*store_, cfg, clock_);
  v1::ClaimAccountsRequest request;
  request.set_rep_id("r1");
  request.add_domains("acme.com");
  request.add_domains("gmail.com");
  auto refused = claims.Claim(request, "t");
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(refused.status().message().find("domains[1]: gmail.com is a consumer mail provider"),
            std::string::npos)
      << refused.status();
  EXPECT_EQ(List(cfg).claims_size(), 0) << "nothing claimed when one domain is bad";
  request.set_domains(1, "localhost");
  EXPECT_NE(claims.Claim(request, "t").status().message().find("domains[1]: \"localhost\""),
            std::string::npos);
  request.clear_domains();
  EXPECT_EQ(claims.Claim(request, "t").status().code(), absl::StatusCode::kInvalidArgument);
  request.add_domains("acme.com");
  request.set_rep_id("nobody");
  EXPECT_EQ(claims.Claim(request, "t").status().code(), absl::StatusCode::kNotFound);
  const auto without_dedupe = Config(false);
  request.set_rep_id("r1");
  EXPECT_EQ(AccountClaims(*store_, without_dedupe, clock_).Claim(request, "t").status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(ClaimsTest, TwoRepsRacingForOneAccountLeaveOneOwner) {
  const auto cfg = Policy("first_claim_wins");
  constexpr int kAccounts = 40;
  std::vector<v1::ClaimOutcome> outcomes[2];
  std::barrier sync(2);
  auto race = [&](int who) {
    auto store = Store();
    ASSERT_NE(store, nullptr);
    for (int i = 0; i < kAccounts; ++i) {
      v1::ClaimAccountsRequest request;
      request.set_rep_id(who == 0 ? "r1" : "r2");
      request.add_domains(absl::StrCat("account", i, ".com"));
      sync.arrive_and_wait();
      auto response = AccountClaims(*store, cfg, clock_).Claim(request, "t");
      ASSERT_TRUE(response.ok()) << response.status();
      outcomes[who].push_back(response->results(0).outcome());
    }
  };
  std::thread a(race, 0), b(race, 1);
  a.join();
  b.join();
  ASSERT_EQ(outcomes[0].size(), static_cast<size_t>(kAccounts));
  ASSERT_EQ(outcomes[1].size(), static_cast<size_t>(kAccounts));
  for (int i = 0; i < kAccounts; ++i) {
    const std::multiset<v1::ClaimOutcome> pair{outcomes[0][i], outcomes[1][i]};
    EXPECT_EQ(pair, (std::multiset<v1::ClaimOutcome>{v1::CLAIM_OUTCOME_OWNED,
                                                     v1::CLAIM_OUTCOME_CONFLICT_REFUSED}))
        << "account" << i;
  }
}

}  // namespace
}  // namespace leadrouter::pipeline
