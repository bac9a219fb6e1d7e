// End to end, the assignments topic as a CRM sees it (issue "Assignments out, CRM-ready"): real
// processes (leadrouter-kafka-mock, redis-server, two leadrouter daemons), transitions driven
// through gRPC while the brokers are down, the outbox's holder killed with SIGKILL; the topic is
// then audited against the shared log in Redis and against ExplainLead.
#include <google/protobuf/util/json_util.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "fault_fixture.h"
#include "leadrouter/core/hash.h"
#include "leadrouter/store/assignment_store.h"
#include "leadrouter/v1/router_service.grpc.pb.h"

namespace leadrouter::testing {
namespace {

// The lead id leadrouter derives from an event id (pipeline::Assigner::LeadIdFor).
std::string LeadIdOf(const std::string& event_id) {
  return "ld_" + core::Sha256Hex(absl::StrCat("lead\ndefault\n", event_id), 24);
}

// One message of the topic, as a consumer sees it.
struct TopicMessage {
  v1::AssignmentEvent event;
  std::string value;
  std::string header_message_id;
  bool replay = false;
};

class OutboxTest : public FaultFixture {
 protected:
  // SLA 3 s and two attempts: an unaccepted lead expires, is re-routed, expires, is recycled.
  static constexpr char kLifecycle[] =
      "lifecycle: {accept_sla_s: 3, max_attempts: 2}\noutbox: {lease_ms: 2000}\n";
  // The same with 6 s, for a test that must act on leads before they expire: on a loaded
  // machine the set-up between routing and the first accept took more than 3 s.
  static constexpr char kSlowerLifecycle[] =
      "lifecycle: {accept_sla_s: 6, max_attempts: 2}\noutbox: {lease_ms: 2000}\n";

  std::unique_ptr<v1::RouterService::Stub> Stub(size_t i) {
    return v1::RouterService::NewStub(
        grpc::CreateChannel(grpc_targets_[i], grpc::InsecureChannelCredentials()));
  }

  v1::AssignmentEvent Explain(v1::RouterService::Stub& stub, const std::string& lead_id) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + 10s);
    v1::ExplainLeadRequest request;
    request.set_lead_id(lead_id);
    v1::AssignmentEvent lead;
    const grpc::Status status = stub.ExplainLead(&context, request, &lead);
    EXPECT_TRUE(status.ok()) << lead_id << ": " << status.error_message();
    return lead;
  }

  void Accept(v1::RouterService::Stub& stub, const std::string& lead_id) {
    const v1::AssignmentEvent lead = Explain(stub, lead_id);
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + 10s);
    v1::AcceptLeadRequest request;
    request.set_lead_id(lead_id);
    request.set_rep_id(lead.rep_id());
    v1::LeadUpdate update;
    const grpc::Status status = stub.AcceptLead(&context, request, &update);
    EXPECT_TRUE(status.ok()) << lead_id << ": " << status.error_message();
  }

  // Accepts the lead if it is still waiting for acceptance. Under load some leads of a large
  // batch pass their SLA before the test reaches them; a lead that expired (before the look-up
  // or between the look-up and the accept) is refused with FAILED_PRECONDITION and left alone.
  // Returns whether the lead was accepted.
  bool AcceptIfStillAssigned(v1::RouterService::Stub& stub, const std::string& lead_id) {
    const v1::AssignmentEvent lead = Explain(stub, lead_id);
    if (lead.status() != v1::ASSIGNMENT_STATUS_ASSIGNED || lead.rep_id().empty()) return false;
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + 10s);
    v1::AcceptLeadRequest request;
    request.set_lead_id(lead_id);
    request.set_rep_id(lead.rep_id());
    v1::LeadUpdate update;
    const grpc::Status status = stub.AcceptLead(&context, request, &update);
    EXPECT_TRUE(status.ok() || status.error_code() == grpc::StatusCode::FAILED_PRECONDITION)
        << lead_id << ": " << status.error_message();
    return status.ok();
  }

  void Return(v1::RouterService::Stub& stub, const std::string& lead_id) {
    const v1::AssignmentEvent lead = Explain(stub, lead_id);
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + 10s);
    v1::ReturnLeadRequest request;
    request.set_lead_id(lead_id);
    request.set_rep_id(lead.rep_id());
    request.set_reason(v1::RETURN_REASON_BAD_FIT);
    v1::LeadUpdate update;
    const grpc::Status status = stub.ReturnLead(&context, request, &update);
    EXPECT_TRUE(status.ok()) << lead_id << ": " << status.error_message();
  }

  // Every message the shared log holds, by lead, in log order.
  std::map<std::string, std::vector<v1::AssignmentEvent>> LogByLead() {
    std::map<std::string, std::vector<v1::AssignmentEvent>> by_lead;
    auto redis = Redis();
    auto reply = redis->Command({"XRANGE", "lr:{default}:log", "-", "+"});
    EXPECT_TRUE(reply.ok());
    if (!reply.ok()) return by_lead;
    auto entries = store::internal::LogEntries(*reply);
    EXPECT_TRUE(entries.ok());
    for (const auto& entry : *entries) {
      v1::AssignmentEvent event;
      EXPECT_TRUE(event.ParseFromString(entry.bytes));
      by_lead[event.lead_id()].push_back(event);
    }
    return by_lead;
  }

  // Waits until the outbox has forwarded everything that was appended to the log.
  bool WaitForOutboxCaughtUp(std::chrono::seconds timeout) {
    auto redis = Redis();
    const auto until = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < until) {
      auto reply = redis->Command({"HMGET", "lr:{default}:outbox", "appended", "forwarded"});
      if (reply.ok() && reply->elements.size() == 2 && !reply->elements[0].str.empty() &&
          reply->elements[0].str == reply->elements[1].str) {
        return true;
      }
      std::this_thread::sleep_for(200ms);
    }
    return false;
  }

  // Every message on leads.assignments, by lead (the record key), in partition order.
  std::map<std::string, std::vector<TopicMessage>> TopicByLead(size_t expected_messages) {
    std::map<std::string, std::vector<TopicMessage>> by_lead;
    auto consumer = kafka::Consumer::Create({bootstrap_,
                                             absl::StrCat("outbox-audit-", ++audits_),
                                             {"leads.assignments"},
                                             {{"session.timeout.ms", "6000"}}});
    EXPECT_TRUE(consumer.ok()) << consumer.status();
    size_t seen = 0;
    auto quiet_since = std::chrono::steady_clock::now();
    const auto until = std::chrono::steady_clock::now() + 60s;
    while (consumer.ok() && std::chrono::steady_clock::now() < until) {
      auto batch = (*consumer)->PollBatch(5000, 500ms);
      if (!batch.ok()) break;
      if (!batch->empty()) quiet_since = std::chrono::steady_clock::now();
      for (const auto& message : *batch) {
        TopicMessage m;
        m.value = message.value;
        EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(message.value, &m.event).ok());
        m.header_message_id = message.HeaderValue("x-leadrouter-message-id").value_or("");
        m.replay = message.HeaderValue("x-leadrouter-replay") == "true";
        EXPECT_EQ(message.key, m.event.lead_id());
        by_lead[message.key].push_back(std::move(m));
        ++seen;
      }
      if (seen >= expected_messages && std::chrono::steady_clock::now() - quiet_since > 3s) break;
    }
    (*consumer)->Close();
    return by_lead;
  }

  static size_t Count(const std::map<std::string, std::vector<v1::AssignmentEvent>>& by_lead) {
    size_t n = 0;
    for (const auto& [lead, events] : by_lead) n += events.size();
    return n;
  }

  // The topic, deduped on message_id as the README tells a consumer to, holds exactly the log:
  // every message of every lead, in the log's order, with the log's content. A consumer that
  // applies each lead's messages in order of sequence ends with ExplainLead's state.
  void ExpectTopicIsTheLog(v1::RouterService::Stub& stub) {
    const auto log = LogByLead();
    ASSERT_FALSE(log.empty());
    const auto topic = TopicByLead(Count(log));
    EXPECT_EQ(topic.size(), log.size()) << "leads with messages on the topic vs in the log";
    for (const auto& [lead_id, logged] : log) {
      SCOPED_TRACE(lead_id);
      auto it = topic.find(lead_id);
      ASSERT_NE(it, topic.end()) << "a lead never reached the topic";
      std::vector<std::string> deduped;
      std::set<std::string> seen;
      for (const TopicMessage& m : it->second) {
        EXPECT_FALSE(m.event.message_id().empty());
        EXPECT_EQ(m.header_message_id, m.event.message_id());
        if (seen.insert(m.event.message_id()).second) deduped.push_back(m.event.message_id());
      }
      std::vector<std::string> expected;
      for (const v1::AssignmentEvent& e : logged) expected.push_back(e.message_id());
      EXPECT_EQ(deduped, expected) << "missing, extra or reordered messages";
      // Same content: the first copy of each message is the logged event.
      for (const v1::AssignmentEvent& e : logged) {
        for (const TopicMessage& m : it->second) {
          if (m.event.message_id() != e.message_id()) continue;
          EXPECT_EQ(m.event.SerializeAsString(), e.SerializeAsString());
          break;
        }
      }
      // The consumer of the README: apply in order of sequence, ignore what is not newer.
      int64_t applied = 0;
      v1::AssignmentStatus status = v1::ASSIGNMENT_STATUS_UNSPECIFIED;
      std::string rep;
      for (const TopicMessage& m : it->second) {
        if (m.event.sequence() <= applied) continue;
        applied = m.event.sequence();
        status = m.event.status();
        rep = m.event.rep_id();
      }
      const v1::AssignmentEvent explained = Explain(stub, lead_id);
      EXPECT_EQ(status, explained.status());
      EXPECT_EQ(rep, explained.rep_id());
    }
  }

  int audits_ = 0;
};

TEST_F(OutboxTest, EveryTransitionReachesTheTopicAfterAnOutageInLogOrder) {
  StartRouter(0, kSlowerLifecycle);
  StartRouter(1, kSlowerLifecycle);
  const std::vector<std::string> events = Publish(30);
  ASSERT_TRUE(WaitForRecords(events.size(), 60s));
  ASSERT_TRUE(WaitForOutboxCaughtUp(30s));
  // Speed to lead on Kafka: an observation per lead's first assignment when Kafka acked it (more
  // only if a batch was published twice, which at-least-once allows on a holder's handover).
  auto first_assignments_acked = [&] {
    return Metric(0, "leadrouter_lead_to_kafka_seconds_count") +
           Metric(1, "leadrouter_lead_to_kafka_seconds_count");
  };
  const double acked_before_the_outage = first_assignments_acked();
  EXPECT_GE(acked_before_the_outage, static_cast<double>(events.size()));
  EXPECT_LT(acked_before_the_outage, 2.0 * static_cast<double>(events.size()));

  ASSERT_EQ(::kill(kafka_->pid(), SIGUSR1), 0);
  ASSERT_TRUE(kafka_->WaitForLine("brokers down", 10s).ok());
  auto stub = Stub(0);
  for (size_t i = 0; i < 10; ++i) Accept(*stub, LeadIdOf(events[i]));
  for (size_t i = 10; i < 20; ++i) Return(*stub, LeadIdOf(events[i]));
  // The other ten expire, are re-routed and expire again (recycled), while Kafka is down.
  std::this_thread::sleep_for(15s);
  EXPECT_GT(Metric(0, "leadrouter_outbox_backlog_messages") +
                Metric(1, "leadrouter_outbox_backlog_messages"),
            0)
      << "the holder reports what Kafka lacks";
  ASSERT_EQ(::kill(kafka_->pid(), SIGUSR2), 0);
  ASSERT_TRUE(kafka_->WaitForLine("brokers up", 10s).ok());
  std::this_thread::sleep_for(7s);  // the last re-routed leads expire too
  ASSERT_TRUE(WaitForOutboxCaughtUp(90s));
  EXPECT_EQ(Metric(0, "leadrouter_outbox_holder") + Metric(1, "leadrouter_outbox_holder"), 1)
      << "exactly one instance forwards";
  EXPECT_EQ(first_assignments_acked(), acked_before_the_outage)
      << "re-routes after a return or an expiry are no lead's first assignment";
  ExpectTopicIsTheLog(*stub);
}

TEST_F(OutboxTest, AForwarderKilledMidwayIsReplaced) {
  StartRouter(0, kLifecycle);
  StartRouter(1, kLifecycle);
  const std::vector<std::string> events = Publish(200);
  ASSERT_TRUE(WaitForRecords(events.size(), 60s));
  ASSERT_TRUE(WaitForOutboxCaughtUp(30s));
  const size_t holder = Metric(0, "leadrouter_outbox_holder") == 1 ? 0 : 1;
  ASSERT_EQ(Metric(holder, "leadrouter_outbox_holder"), 1);
  const size_t survivor = 1 - holder;

  ASSERT_EQ(::kill(kafka_->pid(), SIGUSR1), 0);
  ASSERT_TRUE(kafka_->WaitForLine("brokers down", 10s).ok());
  auto stub = Stub(survivor);
  size_t accepted = 0;
  for (size_t i = 0; i < events.size(); ++i) {
    if (i % 2 == 0 && AcceptIfStillAssigned(*stub, LeadIdOf(events[i]))) ++accepted;
  }
  // Accepts are log entries the brokers never saw; the audit needs some of them to mean much.
  EXPECT_GT(accepted, 0u) << "every lead expired before it could be accepted";
  ASSERT_EQ(::kill(kafka_->pid(), SIGUSR2), 0);
  ASSERT_TRUE(kafka_->WaitForLine("brokers up", 10s).ok());
  std::this_thread::sleep_for(300ms);  // the holder is publishing the backlog now
  KillRouter(holder);
  std::this_thread::sleep_for(8s);  // unaccepted leads expire and are recycled
  ASSERT_TRUE(WaitForOutboxCaughtUp(90s));
  EXPECT_EQ(Metric(survivor, "leadrouter_outbox_holder"), 1) << "the survivor took over";
  ExpectTopicIsTheLog(*stub);
}

TEST_F(OutboxTest, AReplayRepublishesTheOriginalAssignmentByteForByte) {
  StartRouter(0, "lifecycle: {accept_sla_s: 0}\n");
  const std::vector<std::string> events = Publish(1);
  ASSERT_TRUE(WaitForRecords(1, 60s));
  ASSERT_TRUE(WaitForOutboxCaughtUp(30s));
  const std::string lead_id = LeadIdOf(events[0]);
  auto stub = Stub(0);
  Return(*stub, lead_id);  // RETURNED, then re-routed to another rep
  ASSERT_TRUE(WaitForOutboxCaughtUp(30s));

  // The same input event again (a producer's retry): answered from the store.
  ASSERT_TRUE(producer_
                  ->ProduceAndWait({{"leads.inbound",
                                     events[0],
                                     LeadJson(events[0]),
                                     {{"content-type", "application/json"}}}},
                                   30s)
                  .ok());
  const auto until = std::chrono::steady_clock::now() + 30s;
  while (Metric(0, "leadrouter_events_outcome_total{outcome=\"replayed\"}") < 1 &&
         std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(200ms);
  }
  const auto topic = TopicByLead(4);
  ASSERT_EQ(topic.count(lead_id), 1u);
  const std::vector<TopicMessage>& messages = topic.at(lead_id);
  ASSERT_EQ(messages.size(), 4u) << "assigned, returned, re-routed, and the replay";
  EXPECT_EQ(messages[0].event.status(), v1::ASSIGNMENT_STATUS_ASSIGNED);
  EXPECT_EQ(messages[1].event.status(), v1::ASSIGNMENT_STATUS_RETURNED);
  EXPECT_EQ(messages[2].event.status(), v1::ASSIGNMENT_STATUS_ASSIGNED);
  EXPECT_TRUE(messages[3].replay);
  EXPECT_EQ(messages[3].value, messages[0].value) << "the replay is the first message, exactly";
  EXPECT_EQ(messages[3].header_message_id, messages[0].header_message_id);
  EXPECT_NE(messages[0].event.message_id(), messages[2].event.message_id());
  EXPECT_EQ(Explain(*stub, lead_id).rep_id(), messages[2].event.rep_id())
      << "the replay changed nothing";
}

}  // namespace
}  // namespace leadrouter::testing
