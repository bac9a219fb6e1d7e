// The identity of the messages leadrouter publishes on leads.assignments: every transition of a
// lead its own message_id and sequence, the CRM ids on each, and the same bytes when the same
// message is published again.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "leadrouter/config/config.h"
#include "leadrouter/pipeline/assigner.h"
#include "leadrouter/pipeline/lifecycle.h"
#include "leadrouter/pipeline/pipeline.h"

namespace leadrouter::pipeline {
namespace {

using ::testing::StartsWith;

constexpr char kConfig[] = R"(
kafka:
  bootstrap_servers: 127.0.0.1:9092
lifecycle:
  max_attempts: 2
reps:
  - id: rep-ada
    crm_user_id: 0055e000001AbCdEFG
  - id: rep-grace
    crm_user_id: "31337"
)";

const core::TimePoint kNow = core::TimePoint(std::chrono::seconds(1'780'000'000));

class MessageIdentityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto parsed = config::ParseConfig(kConfig);
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    config_ = *std::move(parsed);
  }

  // A new lead, routed as the pipeline routes one.
  v1::AssignmentEvent Route(const std::string& event_id) {
    v1::AssignmentEvent a;
    a.set_lead_id(Assigner::LeadIdFor("default", event_id));
    a.set_assignment_id(Assigner::AssignmentIdFor("default", event_id));
    a.set_event_id(event_id);
    a.set_source_record_id("00Q5e00000AbCdE");
    a.mutable_lead()->set_event_id(event_id);
    const routing::RoutingState before = state_;
    const routing::RoutingDecision route =
        config_.engine->Route(LeadFactsFor(a.lead(), {}), kNow, state_);
    ApplyRoute(config_, kNow, route, before, state_, std::nullopt, a);
    return a;
  }

  // The whole life of one lead: assigned, accepted, returned, re-routed, converted.
  std::vector<v1::AssignmentEvent> Life(const std::string& event_id) {
    std::vector<v1::AssignmentEvent> published;
    v1::AssignmentEvent lead = Route(event_id);
    published.push_back(lead);
    const core::RepId first_rep(lead.rep_id());
    published.push_back(ApplyAccept(lead, first_rep, "token:crm", kNow)->event);
    published.push_back(
        *ApplyReturn(lead, first_rep, v1::RETURN_REASON_BAD_FIT, "", "token:crm", kNow, state_));
    published.push_back(Reroute(config_, kNow, lead, state_).event);
    published.push_back(
        *ApplyConvert(lead, core::RepId(lead.rep_id()), 1000, "", "token:crm", kNow, state_));
    return published;
  }

  config::Config config_;
  routing::RoutingState state_;
};

TEST_F(MessageIdentityTest, EveryTransitionOfALeadIsItsOwnMessageInSequence) {
  const std::vector<v1::AssignmentEvent> life = Life("evt-1");
  ASSERT_EQ(life.size(), 5u);
  std::set<std::string> ids;
  for (size_t i = 0; i < life.size(); ++i) {
    SCOPED_TRACE(v1::AssignmentStatus_Name(life[i].status()));
    EXPECT_EQ(life[i].sequence(), static_cast<int64_t>(i + 1));
    EXPECT_THAT(life[i].message_id(), StartsWith("m_"));
    EXPECT_EQ(life[i].message_id().size(), 34u);
    ids.insert(life[i].message_id());
    EXPECT_EQ(life[i].source_record_id(), "00Q5e00000AbCdE");
  }
  EXPECT_EQ(ids.size(), life.size()) << "two transitions share a message_id";
  // ASSIGNED, ACCEPTED and RETURNED of one holding share its assignment_id: not a message id.
  EXPECT_EQ(life[0].assignment_id(), life[1].assignment_id());
  EXPECT_EQ(life[1].assignment_id(), life[2].assignment_id());
  EXPECT_EQ(life[3].status(), v1::ASSIGNMENT_STATUS_ASSIGNED);
  EXPECT_NE(life[3].rep_id(), life[0].rep_id());
}

TEST_F(MessageIdentityTest, EachMessageNamesTheCrmUserOfItsRep) {
  const std::vector<v1::AssignmentEvent> life = Life("evt-2");
  const std::map<std::string, std::string> crm = {{"rep-ada", "0055e000001AbCdEFG"},
                                                  {"rep-grace", "31337"}};
  for (const v1::AssignmentEvent& m : life) {
    SCOPED_TRACE(v1::AssignmentStatus_Name(m.status()));
    EXPECT_EQ(m.crm_user_id(), crm.at(m.rep_id()));
  }
  EXPECT_NE(life[0].crm_user_id(), life[3].crm_user_id()) << "the re-route changed the owner";
}

TEST_F(MessageIdentityTest, TheSameLifeGivesTheSameIdsAndOtherLeadsOthers) {
  const std::vector<v1::AssignmentEvent> once = Life("evt-3");
  state_ = {};
  const std::vector<v1::AssignmentEvent> again = Life("evt-3");
  state_ = {};
  const std::vector<v1::AssignmentEvent> other = Life("evt-4");
  for (size_t i = 0; i < once.size(); ++i) {
    EXPECT_EQ(once[i].message_id(), again[i].message_id());
    EXPECT_NE(once[i].message_id(), other[i].message_id());
  }
}

TEST_F(MessageIdentityTest, PublishingAMessageTwiceGivesTheSameBytes) {
  const v1::AssignmentEvent m = Route("evt-5");
  auto first = AssignmentMessage("leads.assignments", m);
  // As the outbox reads it back from the log: serialized, then parsed.
  v1::AssignmentEvent from_log;
  ASSERT_TRUE(from_log.ParseFromString(m.SerializeAsString()));
  auto second = AssignmentMessage("leads.assignments", from_log, /*replayed=*/true);
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_EQ(first->value, second->value);
  EXPECT_EQ(first->key, m.lead_id());
  EXPECT_THAT(first->headers, ::testing::Contains(kafka::Header{kHeaderMessageId, m.message_id()}));
  EXPECT_THAT(second->headers,
              ::testing::Contains(kafka::Header{kHeaderMessageId, m.message_id()}));
}

TEST_F(MessageIdentityTest, AReplayRepublishesTheFirstMessageNotTheCurrentState) {
  v1::EventOutcome outcome;
  *outcome.mutable_assignment() = Route("evt-6");
  const v1::AssignmentEvent first = outcome.assignment();
  EXPECT_EQ(FirstMessage(outcome).message_id(), first.message_id());
  KeepFirstMessage(outcome);
  ASSERT_TRUE(
      ApplyAccept(*outcome.mutable_assignment(), core::RepId(first.rep_id()), "crm", kNow).ok());
  KeepFirstMessage(outcome);  // a second transition keeps the first message, not the second
  ASSERT_TRUE(ApplyReturn(*outcome.mutable_assignment(), core::RepId(first.rep_id()),
                          v1::RETURN_REASON_BAD_FIT, "", "crm", kNow, state_)
                  .ok());
  EXPECT_EQ(outcome.assignment().status(), v1::ASSIGNMENT_STATUS_RETURNED);
  EXPECT_EQ(FirstMessage(outcome).SerializeAsString(), first.SerializeAsString());
}

TEST(CrmUserIdConfigTest, IsValidatedNamingTheField) {
  for (const char* bad : {"\"\"", "\"has space\"", "\"tab\\there\""}) {
    auto parsed = config::ParseConfig(std::string("kafka:\n  bootstrap_servers: h:1\nreps:\n") +
                                      "  - id: rep-ada\n    crm_user_id: " + bad + "\n");
    ASSERT_FALSE(parsed.ok()) << bad;
    EXPECT_THAT(std::string(parsed.status().message()),
                ::testing::HasSubstr("reps[0].crm_user_id: must be 1..128 printable"));
  }
  auto parsed = config::ParseConfig(
      "kafka:\n  bootstrap_servers: h:1\nreps:\n  - id: rep-ada\n    crm_user_id: " +
      std::string(129, 'x') + "\n");
  EXPECT_FALSE(parsed.ok());
}

}  // namespace
}  // namespace leadrouter::pipeline
