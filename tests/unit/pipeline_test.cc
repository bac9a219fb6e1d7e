// The whole consume → decode → decide → commit → publish → offset-commit loop (Pipeline::Run) on
// its seams' fakes: testing::FakeConsumer, FakeProducer and FakeAssignmentStore (the last one
// checked against Redis by AssignmentStoreTest). No broker, no Redis: what the pipeline
// guarantees about outcomes, ordering, failures and offsets, proven in milliseconds.
#include "leadrouter/pipeline/pipeline.h"

#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <map>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "leadrouter/config/config.h"
#include "leadrouter/config/reloader.h"
#include "leadrouter/pipeline/dead_letter.h"
#include "leadrouter/pipeline/messages.h"
#include "leadrouter/testing/fake_assignment_store.h"
#include "leadrouter/testing/fake_kafka.h"

namespace leadrouter::pipeline {
namespace {

using namespace std::chrono_literals;
using Call = testing::FakeAssignmentStore::Call;

// 2026-11-23T15:00:00Z: a Monday, 10:00 in New York.
const core::TimePoint kMonday = core::TimePoint(std::chrono::seconds(1795446000));
constexpr char kInbound[] = "leads.inbound";

std::string LeadJson(const std::string& event_id, const std::string& email) {
  v1::LeadEvent lead;
  lead.set_event_id(event_id);
  lead.mutable_occurred_at()->set_seconds(1795440000);
  lead.set_source_kind(v1::LEAD_SOURCE_KIND_INBOUND_MARKETING);
  lead.mutable_person()->set_email(email);
  lead.mutable_company()->set_country("US");
  std::string json;
  EXPECT_TRUE(google::protobuf::util::MessageToJsonString(lead, &json).ok());
  return json;
}

std::string HeaderOf(const kafka::OutgoingMessage& message, const std::string& name) {
  for (const auto& header : message.headers) {
    if (header.name == name) return header.value;
  }
  return "";
}

class PipelineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Three reps in one round-robin pool, no dedupe secret needed.
    auto parsed = config::ParseConfig(
        "kafka: {bootstrap_servers: k:1}\nreps: [{id: r1}, {id: r2}, {id: r3}]\n");
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    config_ = std::make_shared<const config::Config>(*parsed);
    reloader_ = std::make_unique<config::ConfigReloader>("", config_);
  }

  void TearDown() override { Stop(); }

  void Start() {
    pipeline_ =
        std::make_unique<Pipeline>(*reloader_, consumer_, producer_, store_, metrics_, clock_);
    pipeline_->OnPausedChange([this](bool paused) {
      if (paused) ++paused_;
    });
    runner_ = std::thread([this] { run_status_ = pipeline_->Run(stop_); });
  }

  void Stop() {
    stop_ = true;
    if (runner_.joinable()) runner_.join();
  }

  // Waits (up to 30 s) until the inbound partition's committed position reaches `position`.
  bool WaitForCommitted(int64_t position) {
    const auto until = std::chrono::steady_clock::now() + 30s;
    while (std::chrono::steady_clock::now() < until) {
      const auto committed = consumer_.committed();
      auto it = committed.find({kInbound, 0});
      if (it != committed.end() && it->second >= position) return true;
      std::this_thread::sleep_for(5ms);
    }
    return false;
  }

  // Waits (up to 30 s) until `condition` holds; for what the loop does after a commit.
  static bool WaitFor(const std::function<bool()>& condition) {
    const auto until = std::chrono::steady_clock::now() + 30s;
    while (std::chrono::steady_clock::now() < until) {
      if (condition()) return true;
      std::this_thread::sleep_for(5ms);
    }
    return false;
  }

  // The AssignmentEvents the commits appended to the shared log, in order.
  std::vector<v1::AssignmentEvent> Logged() const {
    std::vector<v1::AssignmentEvent> events;
    for (const auto& entry : store_.Log()) {
      v1::AssignmentEvent event;
      EXPECT_TRUE(event.ParseFromString(entry.bytes));
      events.push_back(event);
    }
    return events;
  }

  std::vector<kafka::OutgoingMessage> ProducedTo(const std::string& topic) const {
    std::vector<kafka::OutgoingMessage> messages;
    for (const auto& m : producer_.produced()) {
      if (m.topic == topic) messages.push_back(m);
    }
    return messages;
  }

  core::FakeClock clock_{kMonday};
  std::shared_ptr<const config::Config> config_;
  std::unique_ptr<config::ConfigReloader> reloader_;
  testing::FakeConsumer consumer_;
  testing::FakeProducer producer_;
  testing::FakeAssignmentStore store_{clock_};
  metrics::PipelineMetrics metrics_;
  std::unique_ptr<Pipeline> pipeline_;
  std::atomic<bool> stop_{false};
  std::atomic<int> paused_{0};
  absl::Status run_status_;
  std::thread runner_;
};

TEST_F(PipelineTest, EveryRecordEndsAsOneOutcomeBeforeItsOffsetIsCommitted) {
  consumer_.Add(kInbound, 0, LeadJson("e1", "ann@acme.com"));
  consumer_.Add(kInbound, 0, "{not json");
  consumer_.Add(kInbound, 0, LeadJson("e2", "bob@globex.com"));
  consumer_.Add(kInbound, 0, LeadJson("e3", "cy@initech.com"));
  Start();
  ASSERT_TRUE(WaitForCommitted(4));

  const std::vector<v1::AssignmentEvent> logged = Logged();
  ASSERT_EQ(logged.size(), 3u) << "each valid lead assigned once, through the shared log";
  std::set<std::string> reps, events;
  for (const auto& event : logged) {
    EXPECT_EQ(event.status(), v1::ASSIGNMENT_STATUS_ASSIGNED);
    reps.insert(event.rep_id());
    events.insert(event.event_id());
    EXPECT_TRUE(store_.Record(event.event_id()).has_value()) << "the outcome is stored";
  }
  EXPECT_EQ(reps, (std::set<std::string>{"r1", "r2", "r3"})) << "round robin over three reps";
  EXPECT_EQ(events, (std::set<std::string>{"e1", "e2", "e3"}));

  const auto dead = ProducedTo(config_->kafka.topics.deadletter);
  ASSERT_EQ(dead.size(), 1u) << "the malformed record is a dead letter, not lost";
  EXPECT_EQ(dead[0].value, "{not json");
  EXPECT_FALSE(HeaderOf(dead[0], kHeaderErrorCode).empty()) << "with its reason";
  EXPECT_EQ(HeaderOf(dead[0], kHeaderSourceOffset), "1");
  EXPECT_TRUE(ProducedTo(config_->kafka.topics.assignments).empty())
      << "new assignments reach Kafka through the outbox, not from the consume loop";
  EXPECT_EQ(paused_, 0);
}

TEST_F(PipelineTest, AStoreOutageRetriesTheSameBatchAndAssignsOnce) {
  store_.FailNext(Call::kCommit, absl::UnavailableError("redis down"), 3);
  consumer_.Add(kInbound, 0, LeadJson("e1", "ann@acme.com"));
  consumer_.Add(kInbound, 0, LeadJson("e2", "bob@globex.com"));
  Start();
  ASSERT_TRUE(WaitForCommitted(2));
  EXPECT_GE(store_.commit_calls(), 4) << "three failures, then the commit that landed";
  const auto logged = Logged();
  ASSERT_EQ(logged.size(), 2u) << "assigned once each, whatever the retries";
  EXPECT_NE(logged[0].rep_id(), logged[1].rep_id()) << "no turn was consumed by a failed try";
  EXPECT_GE(paused_, 1) << "consumption pauses while the batch keeps failing";
  // Resumed right after the offsets of the first successful batch are committed, which is what
  // WaitForCommitted saw: the resume may still be on its way.
  EXPECT_TRUE(WaitFor([this] { return consumer_.resume_calls() >= 1; }))
      << "and resumes after the first success";
  for (const auto& call : consumer_.commit_calls()) {
    for (const auto& record : call) {
      EXPECT_TRUE(store_.Record(record.offset == 0 ? "e1" : "e2").has_value())
          << "an offset is committed only after its outcome is durable";
    }
  }
}

TEST_F(PipelineTest, AnUnacknowledgedDeadLetterHoldsItsOffsetUntilKafkaTakesIt) {
  producer_.FailNext(absl::UnavailableError("brokers down"), 2);
  consumer_.Add(kInbound, 0, "[]");
  Start();
  ASSERT_TRUE(WaitForCommitted(1));
  EXPECT_GE(producer_.calls(), 3);
  EXPECT_EQ(ProducedTo(config_->kafka.topics.deadletter).size(), 1u)
      << "published once it was acknowledged, never dropped";
  ASSERT_FALSE(consumer_.commit_calls().empty());
  EXPECT_EQ(consumer_.commit_calls().front().size(), 1u);
}

TEST_F(PipelineTest, AReplayedEventIsAnsweredFromTheStoreAndChangesNothing) {
  consumer_.Add(kInbound, 0, LeadJson("e1", "ann@acme.com"));
  Start();
  ASSERT_TRUE(WaitForCommitted(1));
  const auto routing_before = store_.RoutingHash();
  consumer_.Add(kInbound, 0, LeadJson("e1", "ann@acme.com"));  // a producer's retry
  ASSERT_TRUE(WaitForCommitted(2));
  EXPECT_EQ(Logged().size(), 1u) << "no second assignment";
  EXPECT_EQ(store_.RoutingHash(), routing_before) << "no counter moved";
  const auto replays = ProducedTo(config_->kafka.topics.assignments);
  ASSERT_EQ(replays.size(), 1u) << "the replay republishes the original assignment";
  EXPECT_EQ(HeaderOf(replays[0], kHeaderReplay), "true");
  EXPECT_EQ(replays[0].key, Logged()[0].lead_id());
}

TEST_F(PipelineTest, PartitionsAreCommittedIndependentlyAndInOrder) {
  for (int i = 0; i < 5; ++i) {
    consumer_.Add(kInbound, 0, LeadJson(absl::StrCat("a", i), absl::StrCat("a", i, "@acme.com")));
    consumer_.Add(kInbound, 1, LeadJson(absl::StrCat("b", i), absl::StrCat("b", i, "@globex.com")));
  }
  Start();
  ASSERT_TRUE(WaitForCommitted(5));
  const auto until = std::chrono::steady_clock::now() + 30s;
  while (consumer_.committed()[{kInbound, 1}] < 5 && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(5ms);
  }
  EXPECT_EQ((consumer_.committed()[{kInbound, 1}]), 5);
  EXPECT_EQ(Logged().size(), 10u);
  std::map<int32_t, int64_t> last_committed;
  for (const auto& call : consumer_.commit_calls()) {
    for (const auto& record : call) {
      EXPECT_GT(record.offset,
                last_committed.count(record.partition) ? last_committed[record.partition] : -1)
          << "offsets of a partition are committed in order";
      last_committed[record.partition] = record.offset;
    }
  }
}

}  // namespace
}  // namespace leadrouter::pipeline
