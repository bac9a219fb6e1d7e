// The decision core without Redis: batches (dedupe, account owners, replays, person windows),
// the unassigned queue, every lifecycle transition, and the routing hash mapping, run on
// decide::MemoryStore with an injected clock.
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "leadrouter/config/config.h"
#include "leadrouter/decide/batch.h"
#include "leadrouter/decide/claims.h"
#include "leadrouter/decide/lifecycle.h"
#include "leadrouter/decide/memory_store.h"
#include "leadrouter/decide/outcome.h"
#include "leadrouter/decide/routing_fields.h"

namespace leadrouter::decide {
namespace {

using namespace std::chrono_literals;

constexpr char kConfig[] = R"(
kafka:
  bootstrap_servers: 127.0.0.1:9092
dedupe:
  hmac_key_env: DECIDE_TEST_DEDUPE_KEY
  person_window_days: 10
lifecycle:
  accept_sla_s: 600
  max_attempts: 2
reps:
  - {id: rep-a}
  - {id: rep-b}
  - {id: rep-c}
pools:
  - name: main
    members: [rep-a, rep-b, rep-c]
territories:
  - {name: everywhere, pool: main}
)";

const core::TimePoint kNow = core::TimePoint(std::chrono::seconds(1'780'000'000));

v1::LeadEvent Lead(const std::string& event_id, const std::string& email,
                   const std::string& domain = "") {
  v1::LeadEvent lead;
  lead.set_event_id(event_id);
  *lead.mutable_occurred_at() = ToTimestamp(kNow);
  lead.set_source_kind(v1::LEAD_SOURCE_KIND_INBOUND_MARKETING);
  lead.mutable_person()->set_email(email);
  lead.mutable_company()->set_name("Example");
  if (!domain.empty()) lead.mutable_company()->set_website("https://" + domain);
  lead.mutable_company()->set_country("US");
  return lead;
}

class DecideTest : public ::testing::Test {
 protected:
  void SetUp() override {
    setenv("DECIDE_TEST_DEDUPE_KEY", "decide-test-dedupe-key-0123456789", 1);
    auto parsed = config::ParseConfig(kConfig);
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    config_ = *std::move(parsed);
    key_maker_ = KeyMakerFor(config_);
    ASSERT_NE(key_maker_, nullptr);
  }

  LeadResult Route(const v1::LeadEvent& lead, core::TimePoint at = kNow) {
    BatchDecision decision = store_.RunBatch(config_, key_maker_.get(), {&lead}, at);
    return decision.results.front();
  }

  // The lead id and holder of a freshly routed, ASSIGNED lead.
  std::pair<core::LeadId, core::RepId> Assigned(const std::string& event_id,
                                                const std::string& email) {
    const LeadResult result = Route(Lead(event_id, email));
    EXPECT_EQ(result.outcome->assignment().status(), v1::ASSIGNMENT_STATUS_ASSIGNED);
    return {core::LeadId(result.outcome->assignment().lead_id()),
            core::RepId(result.outcome->assignment().rep_id())};
  }

  int64_t Open(const core::RepId& rep) {
    return store_.mutable_state().reps[rep.value()].open_leads;
  }

  config::Config config_;
  std::unique_ptr<const dedupe::KeyMaker> key_maker_;
  MemoryStore store_{std::chrono::hours(24 * 90)};
};

TEST_F(DecideTest, ASecondLeadOfALivePersonIsADuplicateForItsHolderAndMovesNoCounter) {
  const auto [lead_id, rep] = Assigned("e1", "jane@acme.example");
  const routing::RoutingState before = store_.state();
  const v1::LeadEvent again = Lead("e2", " Jane@ACME.example ");
  const BatchPlan plan = PlanBatch({&again}, key_maker_.get());
  BatchSnapshot snapshot;
  snapshot.state = store_.state();
  snapshot.records = {nullptr};
  for (const KeyRef& key : plan.keys)
    snapshot.key_values.push_back(store_.Key(key.kind, key.hmac, kNow));
  for (const std::string& id : EarlierEventIds(plan, snapshot.key_values)) {
    snapshot.earlier.emplace(id, store_.Record(core::EventId(id), kNow));
  }
  const BatchDecision decision = DecideBatch(config_, key_maker_.get(), plan, snapshot, kNow);
  const v1::AssignmentEvent& dup = decision.results[0].outcome->assignment();
  EXPECT_EQ(dup.status(), v1::ASSIGNMENT_STATUS_DUPLICATE);
  EXPECT_EQ(dup.rep_id(), rep.value());
  EXPECT_EQ(dup.lead_id(), lead_id.value());
  EXPECT_EQ(decision.results[0].match, LeadResult::Match::kPerson);
  EXPECT_FALSE(decision.writes.state.has_value()) << "a duplicate moves no counter";
  EXPECT_TRUE(decision.writes.lead_index.empty()) << "the index already points at its lead";
  ASSERT_EQ(decision.writes.new_records.size(), 1u);
  EXPECT_EQ(FieldsFromState(before), FieldsFromState(store_.state()));
}

TEST_F(DecideTest, APersonIsNewAgainOnceTheirLeadClosedOrTheirWindowPassed) {
  const auto [lead_id, rep] = Assigned("e1", "jane@acme.example");
  ASSERT_TRUE(store_.RunConvert(config_, lead_id, rep, 10, "", "crm", kNow).ok());
  EXPECT_EQ(Route(Lead("e2", "jane@acme.example")).outcome->assignment().status(),
            v1::ASSIGNMENT_STATUS_ASSIGNED)
      << "a converted lead is not live";

  Assigned("e3", "max@other.example");
  const core::TimePoint later = kNow + std::chrono::hours(24 * 10) + 1s;
  EXPECT_EQ(Route(Lead("e4", "max@other.example"), later).outcome->assignment().status(),
            v1::ASSIGNMENT_STATUS_ASSIGNED)
      << "the person key expired with the 10-day window";
  EXPECT_EQ(Route(Lead("e5", "max@other.example"), later).outcome->assignment().status(),
            v1::ASSIGNMENT_STATUS_DUPLICATE);
}

TEST_F(DecideTest, AColleagueGoesToTheAccountsOwnerAndARepeatedEventIsReplayed) {
  const LeadResult first = Route(Lead("e1", "ann@globex.example", "globex.example"));
  const std::string owner = first.outcome->assignment().rep_id();
  for (int i = 0; i < 4; ++i) {  // the rotation would move on; the account stays with its owner
    const LeadResult colleague = Route(
        Lead(absl::StrCat("c", i), absl::StrCat("bob", i, "@globex.example"), "globex.example"));
    EXPECT_EQ(colleague.outcome->assignment().rep_id(), owner);
    EXPECT_EQ(colleague.match, LeadResult::Match::kAccount);
  }
  const size_t log_size = store_.log().size();
  const LeadResult replay = Route(Lead("e1", "someone-else@globex.example"));
  EXPECT_TRUE(replay.replayed);
  EXPECT_EQ(replay.outcome->assignment().rep_id(), owner);
  EXPECT_EQ(store_.log().size(), log_size) << "a replay writes nothing";
}

TEST_F(DecideTest, WithinOneBatchTheSecondOccurrenceOfAnEventIdIsAReplay) {
  const v1::LeadEvent a = Lead("e1", "a@one.example"), b = Lead("e1", "b@two.example");
  const BatchDecision decision = store_.RunBatch(config_, key_maker_.get(), {&a, &b}, kNow);
  ASSERT_EQ(decision.results.size(), 2u);
  EXPECT_FALSE(decision.results[0].replayed);
  EXPECT_TRUE(decision.results[1].replayed);
  EXPECT_EQ(decision.results[0].outcome, decision.results[1].outcome);
  EXPECT_EQ(decision.writes.new_records.size(), 1u);
}

TEST_F(DecideTest, AcceptNeedsTheHolderAndIsIdempotent) {
  const auto [lead_id, rep] = Assigned("e1", "jane@acme.example");
  ASSERT_EQ(store_.DueSla(kNow + 600s, 10), std::vector<core::LeadId>{lead_id});
  const core::RepId other(rep.value() == "rep-a" ? "rep-b" : "rep-a");
  EXPECT_TRUE(
      absl::IsFailedPrecondition(store_.RunAccept(config_, lead_id, other, "crm", kNow).status()));
  EXPECT_TRUE(absl::IsInvalidArgument(
      store_.RunAccept(config_, lead_id, core::RepId(""), "crm", kNow).status()));
  auto accepted = store_.RunAccept(config_, lead_id, rep, "crm", kNow + 5s);
  ASSERT_TRUE(accepted.ok()) << accepted.status();
  EXPECT_EQ(accepted->events.front()->status(), v1::ASSIGNMENT_STATUS_ACCEPTED);
  EXPECT_FALSE(accepted->unchanged);
  EXPECT_TRUE(store_.DueSla(kNow + 3600s, 10).empty()) << "an accepted lead has no deadline";
  const size_t log_size = store_.log().size();
  auto again = store_.RunAccept(config_, lead_id, rep, "crm", kNow + 6s);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->unchanged);
  EXPECT_EQ(store_.log().size(), log_size);
  EXPECT_TRUE(absl::IsNotFound(
      store_.RunAccept(config_, core::LeadId("ld_unknown"), rep, "crm", kNow).status()));
}

TEST_F(DecideTest, AReturnReroutesToSomeoneElseAndTheLastAttemptRecycles) {
  const auto [lead_id, rep] = Assigned("e1", "jane@acme.example");
  EXPECT_TRUE(absl::IsInvalidArgument(
      store_.RunReturn(config_, lead_id, rep, v1::RETURN_REASON_UNSPECIFIED, "", "crm", kNow)
          .status()));
  EXPECT_TRUE(absl::IsInvalidArgument(
      store_.RunReturn(config_, lead_id, rep, v1::RETURN_REASON_OTHER, "", "crm", kNow).status()))
      << "OTHER needs a note";
  const int64_t open_before = Open(rep);
  auto returned =
      store_.RunReturn(config_, lead_id, rep, v1::RETURN_REASON_BAD_FIT, "", "crm", kNow);
  ASSERT_TRUE(returned.ok()) << returned.status();
  ASSERT_EQ(returned->events.size(), 2u);
  EXPECT_EQ(returned->events[0]->status(), v1::ASSIGNMENT_STATUS_RETURNED);
  const v1::AssignmentEvent& rerouted = *returned->events[1];
  EXPECT_EQ(rerouted.status(), v1::ASSIGNMENT_STATUS_ASSIGNED);
  EXPECT_NE(rerouted.rep_id(), rep.value()) << "never back to a rep who held it";
  EXPECT_EQ(rerouted.attempt(), 2);
  EXPECT_GT(rerouted.sequence(), returned->events[0]->sequence());
  EXPECT_EQ(Open(rep), open_before - 1);
  // The record keeps the first message for replays of e1.
  EXPECT_EQ(store_.Record(core::EventId("e1"), kNow)->first_message().status(),
            v1::ASSIGNMENT_STATUS_ASSIGNED);

  auto recycled = store_.RunReturn(config_, lead_id, core::RepId(rerouted.rep_id()),
                                   v1::RETURN_REASON_NOT_READY, "", "crm", kNow + 1s);
  ASSERT_TRUE(recycled.ok()) << recycled.status();
  EXPECT_EQ(recycled->events.back()->status(), v1::ASSIGNMENT_STATUS_RECYCLED);
  ASSERT_EQ(recycled->recycled.size(), 1u);
  EXPECT_EQ(recycled->recycled[0]->lead_id(), lead_id.value());
}

TEST_F(DecideTest, ConvertReleasesTheLeadAndCountsTheConversion) {
  const auto [lead_id, rep] = Assigned("e1", "jane@acme.example");
  EXPECT_TRUE(absl::IsInvalidArgument(
      store_.RunConvert(config_, lead_id, rep, -1, "", "crm", kNow).status()));
  const int64_t open_before = Open(rep);
  auto converted = store_.RunConvert(config_, lead_id, rep, 5000, "won", "crm", kNow);
  ASSERT_TRUE(converted.ok()) << converted.status();
  EXPECT_EQ(converted->events.front()->status(), v1::ASSIGNMENT_STATUS_CONVERTED);
  EXPECT_EQ(Open(rep), open_before - 1);
  EXPECT_EQ(store_.mutable_state().reps[rep.value()].recent_converted, 1);
  EXPECT_TRUE(absl::IsFailedPrecondition(
      store_.RunReturn(config_, lead_id, rep, v1::RETURN_REASON_BAD_FIT, "", "crm", kNow)
          .status()));
}

TEST_F(DecideTest, AnUnacceptedLeadExpiresAtItsDeadlineAndReroutes) {
  const auto [lead_id, rep] = Assigned("e1", "jane@acme.example");
  EXPECT_TRUE(store_.RunExpireDue(config_, kNow + 599s, 10).events.empty());
  const LeadUpdate expired = store_.RunExpireDue(config_, kNow + 600s, 10);
  ASSERT_EQ(expired.events.size(), 2u);
  EXPECT_EQ(expired.events[0]->status(), v1::ASSIGNMENT_STATUS_EXPIRED);
  EXPECT_EQ(expired.events[0]->actor(), kRouterActor);
  EXPECT_EQ(expired.events[1]->status(), v1::ASSIGNMENT_STATUS_ASSIGNED);
  EXPECT_NE(expired.events[1]->rep_id(), rep.value());
  // The new holder's deadline is the only one left.
  EXPECT_EQ(store_.DueSla(kNow + 1200s, 10), std::vector<core::LeadId>{lead_id});
}

TEST_F(DecideTest, ExpiringAnAcceptedLeadOnlyDropsItsStaleDeadline) {
  const auto [lead_id, rep] = Assigned("e1", "jane@acme.example");
  auto record = store_.Record(core::EventId("e1"), kNow);
  v1::EventOutcome accepted = *record;
  ASSERT_TRUE(ApplyAccept(*accepted.mutable_assignment(), rep, "crm", kNow).ok());
  auto change =
      DecideExpire(config_, lead_id, core::EventId("e1"), accepted, store_.state(), kNow + 600s);
  ASSERT_TRUE(change.ok()) << change.status();
  EXPECT_TRUE(change->update.events.empty());
  EXPECT_EQ(change->writes.sla_remove, std::vector<std::string>{lead_id.value()});
  EXPECT_TRUE(change->writes.log.empty());
  // Not due yet: an error from the transition itself.
  v1::AssignmentEvent fresh = record->assignment();
  routing::RoutingState state;
  EXPECT_TRUE(absl::IsFailedPrecondition(ApplyExpire(fresh, kNow + 1s, state).status()));
}

TEST_F(DecideTest, AQueuedLeadIsRoutedOnceSomeoneIsAvailable) {
  for (const char* rep : {"rep-a", "rep-b", "rep-c"})
    store_.mutable_state().reps[rep].paused = true;
  const LeadResult queued = Route(Lead("e1", "jane@acme.example"));
  ASSERT_EQ(queued.outcome->assignment().status(), v1::ASSIGNMENT_STATUS_UNASSIGNED);
  EXPECT_EQ(store_.Queue(10), std::vector<std::string>{"e1"});
  EXPECT_TRUE(store_.RunRetry(config_, key_maker_.get(), 10, kNow + 1s).assigned.empty());
  EXPECT_EQ(store_.QueueLength(), 1u);
  store_.mutable_state().reps["rep-b"].paused = false;
  const RetryDecision retried = store_.RunRetry(config_, key_maker_.get(), 10, kNow + 2s);
  ASSERT_EQ(retried.assigned.size(), 1u);
  EXPECT_EQ(retried.assigned[0]->assignment().rep_id(), "rep-b");
  EXPECT_EQ(retried.assigned[0]->first_message().status(), v1::ASSIGNMENT_STATUS_UNASSIGNED);
  EXPECT_EQ(store_.QueueLength(), 0u);
}

TEST_F(DecideTest, ANewRecordIsNeverOverwritten) {
  Assigned("e1", "jane@acme.example");
  Writes writes;
  writes.new_records.emplace_back("e1", std::make_shared<v1::EventOutcome>());
  writes.sla_add.emplace_back("ld_x", 1);
  EXPECT_FALSE(store_.Apply(writes, kNow));
  EXPECT_TRUE(store_.DueSla(kNow + 24h * 365, 10).size() == 1) << "nothing of a refused write";
}

// Every claim policy on an owned account, and a first claim: what the decision writes.
TEST(AccountClaimTest, EachPolicyDecidesAndWritesTheAccountOnlyWhenItsOwnersChange) {
  config::ClaimsConfig claims;
  claims.ownership = std::chrono::hours(24);
  claims.shared_percent = 30;
  const std::vector<dedupe::Share> owned_by_b = {{"rep-b", 100}};

  const AccountClaim first = DecideAccountClaim(claims, "h1", {}, core::RepId("rep-a"));
  EXPECT_EQ(first.decision.kind, dedupe::ClaimDecision::Kind::kOwned);
  ASSERT_EQ(first.writes.keys.size(), 1u);
  EXPECT_EQ(first.writes.keys[0].kind, Writes::Key::Kind::kAccount);
  EXPECT_EQ(first.writes.keys[0].hmac, "h1");
  EXPECT_EQ(first.writes.keys[0].value, dedupe::FormatOwners({{"rep-a", 100}}));
  EXPECT_EQ(first.writes.keys[0].ttl, std::chrono::hours(24)) << "the ownership period";

  claims.policy = config::ClaimsConfig::Policy::kFirstClaimWins;
  const AccountClaim refused = DecideAccountClaim(claims, "h1", owned_by_b, core::RepId("rep-a"));
  EXPECT_EQ(refused.decision.kind, dedupe::ClaimDecision::Kind::kConflictRefused);
  EXPECT_TRUE(refused.writes.keys.empty()) << "the owner keeps the account untouched";

  claims.policy = config::ClaimsConfig::Policy::kManagerDecides;
  const AccountClaim pending = DecideAccountClaim(claims, "h1", owned_by_b, core::RepId("rep-a"));
  EXPECT_EQ(pending.decision.kind, dedupe::ClaimDecision::Kind::kConflictPending);
  EXPECT_TRUE(pending.writes.keys.empty());

  claims.policy = config::ClaimsConfig::Policy::kShared;
  const AccountClaim shared = DecideAccountClaim(claims, "h1", owned_by_b, core::RepId("rep-a"));
  EXPECT_EQ(shared.decision.kind, dedupe::ClaimDecision::Kind::kConflictShared);
  ASSERT_EQ(shared.writes.keys.size(), 1u);
  EXPECT_EQ(shared.writes.keys[0].value, dedupe::FormatOwners(shared.decision.owners_after));
  EXPECT_TRUE(dedupe::IsOwner(shared.decision.owners_after, "rep-a"));
  EXPECT_TRUE(dedupe::IsOwner(shared.decision.owners_after, "rep-b"));

  const AccountClaim renewed = DecideAccountClaim(claims, "h1", owned_by_b, core::RepId("rep-b"));
  EXPECT_EQ(renewed.decision.kind, dedupe::ClaimDecision::Kind::kRenewed);
  EXPECT_EQ(renewed.writes.keys.size(), 1u) << "a renewal restarts the period";
}

TEST(AccountClaimTest, AManagersResolutionWritesTheAccountOnlyWhenItsOwnersChange) {
  config::ClaimsConfig claims;
  claims.ownership = std::chrono::hours(48);
  const std::vector<dedupe::Share> owned_by_b = {{"rep-b", 100}};
  const ConflictResolution kept = DecideConflictResolution(
      claims, "h", owned_by_b, core::RepId("rep-a"), dedupe::ConflictDecision::kKeepOwner, 0);
  EXPECT_TRUE(kept.writes.keys.empty());
  EXPECT_FALSE(dedupe::IsOwner(kept.resolution.owners_after, "rep-a"));

  const ConflictResolution awarded = DecideConflictResolution(
      claims, "h", owned_by_b, core::RepId("rep-a"), dedupe::ConflictDecision::kAwardClaimant, 0);
  ASSERT_EQ(awarded.writes.keys.size(), 1u);
  EXPECT_EQ(awarded.writes.keys[0].value, dedupe::FormatOwners({{"rep-a", 100}}));
  EXPECT_EQ(awarded.writes.keys[0].ttl, std::chrono::hours(48));

  const ConflictResolution shared = DecideConflictResolution(
      claims, "h", owned_by_b, core::RepId("rep-a"), dedupe::ConflictDecision::kShare, 25);
  ASSERT_EQ(shared.writes.keys.size(), 1u);
  EXPECT_TRUE(dedupe::IsOwner(shared.resolution.owners_after, "rep-a"));
  EXPECT_TRUE(dedupe::IsOwner(shared.resolution.owners_after, "rep-b"));
}

TEST(AccountClaimTest, ClaimDomainIsTheRegistrableDomainAndRefusesMailProviders) {
  EXPECT_EQ(ClaimDomain("https://www.Acme.co.uk/x", "domains[0]").value_or(""), "acme.co.uk");
  const auto free_mail = ClaimDomain("gmail.com", "domains[1]");
  EXPECT_TRUE(absl::IsInvalidArgument(free_mail.status()));
  EXPECT_NE(free_mail.status().message().find("domains[1]"), std::string::npos);
  EXPECT_TRUE(absl::IsInvalidArgument(ClaimDomain(std::string(3000, 'a'), "d").status()));
  EXPECT_TRUE(absl::IsInvalidArgument(ClaimDomain("not a domain", "d").status()));
}

// The simulator's claims: the account's next lead goes to its owner, not by rotation.
TEST_F(DecideTest, AClaimedAccountsLeadsGoToTheClaimant) {
  auto claimed = store_.RunClaim(config_, *key_maker_, "globex.com", core::RepId("rep-c"), kNow);
  ASSERT_TRUE(claimed.ok()) << claimed.status();
  EXPECT_EQ(claimed->kind, dedupe::ClaimDecision::Kind::kOwned);
  for (int i = 0; i < 3; ++i) {
    const LeadResult result =
        Route(Lead(absl::StrCat("g", i), absl::StrCat("p", i, "@globex.com"), "globex.com"));
    EXPECT_EQ(result.outcome->assignment().rep_id(), "rep-c") << i;
  }
  EXPECT_TRUE(absl::IsInvalidArgument(
      store_.RunClaim(config_, *key_maker_, "yahoo.com", core::RepId("rep-a"), kNow).status()));
}

TEST(RoutingFieldsTest, RoundTripsAndWritesOnlyWhatChanged) {
  routing::RoutingState state;
  state.reps["rep-a"].open_leads = 3;
  state.reps["rep-a"].paused = true;
  state.reps["rep-a"].max_open_override = 7;
  state.reps["rep-a"].extra_out_of_office.push_back({kNow, kNow + 1h});
  state.pools["main"].step = 12;
  state.pools["main"].credit["rep-a"] = -2;
  const auto fields = FieldsFromState(state);
  auto parsed = StateFromFields(fields);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(FieldsFromState(*parsed), fields);
  EXPECT_TRUE(ChangedFields(fields, *parsed).empty());
  parsed->reps["rep-a"].open_leads = 4;
  EXPECT_EQ(ChangedFields(fields, *parsed),
            (std::map<std::string, std::string>{{"rep:rep-a:open", "4"}}));
}

TEST(RoutingFieldsTest, ACorruptCounterIsDataLossNamingTheField) {
  for (const auto& [field, value] :
       std::vector<std::pair<std::string, std::string>>{{"rep:rep-a:open", "3x"},
                                                        {"rep:rep-a:day_count", ""},
                                                        {"rep:rep-a:paused", "yes"},
                                                        {"rep:rep-a:ooo", "12-x"},
                                                        {"pool:main:credit:rep-a", "1.5"}}) {
    auto parsed = StateFromFields({{field, value}});
    EXPECT_TRUE(absl::IsDataLoss(parsed.status())) << field;
    EXPECT_NE(parsed.status().message().find(field), std::string::npos) << parsed.status();
  }
  EXPECT_TRUE(StateFromFields({{"rep:rep-a:someday", "anything"}}).ok()) << "unknown: ignored";
}

TEST(LeadFactsTest, RequiredSkillsAndRepSourcing) {
  v1::LeadEvent lead;
  lead.set_source_kind(v1::LEAD_SOURCE_KIND_REP_SOURCED);
  lead.set_sourced_by_rep_id("rep-e");
  (*lead.mutable_attributes())["required_skills"] = " de, product-x ,,";
  const routing::LeadFacts facts = LeadFactsFor(lead, {});
  EXPECT_EQ(facts.required_skills, (std::set<std::string>{"de", "product-x"}));
  EXPECT_EQ(facts.sourced_by_rep_id, "rep-e");
  EXPECT_EQ(facts.source_kind, "REP_SOURCED");
  lead.set_source_kind(v1::LEAD_SOURCE_KIND_PARTNER);
  EXPECT_EQ(LeadFactsFor(lead, {}).sourced_by_rep_id, "") << "only rep-sourced leads credit a rep";
}

}  // namespace
}  // namespace leadrouter::decide
