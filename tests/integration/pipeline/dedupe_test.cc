// Dedupe and account matching in the Assigner against a real redis-server: replays, the same
// person written differently, two instances racing on one new person, account owners, windows.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <atomic>
#include <barrier>
#include <thread>

#include "absl/strings/str_cat.h"
#include "leadrouter/pipeline/assigner.h"
#include "leadrouter/testing/redis_server.h"

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

class DedupeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    setenv(kKeyVariable, "integration-test-secret-0123456789", 1);
    auto server = testing::RedisServer::Start();
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    options_.host = server_->host();
    options_.port = server_->port();
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

  std::unique_ptr<store::AssignmentStore> Store() {
    auto store = store::AssignmentStore::Connect(options_);
    EXPECT_TRUE(store.ok()) << store.status();
    return store.ok() ? *std::move(store) : nullptr;
  }

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
    auto reply = store_->connection().Command({"HGET", store_->keys().RoutingState(), field});
    return reply.ok() ? reply->str : "";
  }

  int64_t OpenLeads(const std::string& rep) {
    const std::string value = RoutingField(absl::StrCat("rep:", rep, ":open"));
    return value.empty() ? 0 : std::stoll(value);
  }

  std::unique_ptr<testing::RedisServer> server_;
  store::RedisOptions options_;
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
  auto ttl = store_->connection().Command({"KEYS", "*person:*"});
  ASSERT_TRUE(ttl.ok());
  ASSERT_EQ(ttl->elements.size(), 1u);
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
  auto keys = store_->connection().Command({"KEYS", "*"});
  ASSERT_TRUE(keys.ok());
  int person_keys = 0, account_keys = 0;
  for (const auto& key : keys->elements) {
    EXPECT_EQ(key.str.find("secret"), std::string::npos) << key.str;
    EXPECT_EQ(key.str.find("acme"), std::string::npos) << key.str;
    EXPECT_EQ(key.str.find("4155552671"), std::string::npos) << key.str;
    person_keys += key.str.find(":person:") != std::string::npos;
    account_keys += key.str.find(":account:") != std::string::npos;
  }
  EXPECT_EQ(person_keys, 2);   // e-mail and phone
  EXPECT_EQ(account_keys, 1);  // domain (no company name given)
}

}  // namespace
}  // namespace leadrouter::pipeline
