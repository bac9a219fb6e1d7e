// The fault tests' fixture: a redis-server (append-only, so a restart keeps its data), the
// embedded Kafka, any number of leadrouter daemons as processes, and an audit of the outcome:
// every event exactly one outcome, no lead two reps, counters consistent with the records.
// Shared by the fault and hardening end-to-end tests. Bounded in time and traffic, loopback only.
#pragma once

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "leadrouter/kafka/consumer.h"
#include "leadrouter/kafka/producer.h"
#include "leadrouter/store/record_codec.h"
#include "leadrouter/store/redis_connection.h"
#include "leadrouter/testing/e2e.h"
#include "leadrouter/testing/free_port.h"
#include "leadrouter/testing/http_get.h"
#include "leadrouter/testing/subprocess.h"
#include "leadrouter/v1/assignment.pb.h"

namespace leadrouter::testing {

using namespace std::chrono_literals;

inline std::string LeadJson(const std::string& event_id) {
  return absl::StrCat(R"({"event_id":")", event_id, R"(","occurred_at":"2026-11-22T09:00:00Z",)",
                      R"("source_kind":"LEAD_SOURCE_KIND_INBOUND_MARKETING",)",
                      R"("person":{"email":")", event_id, R"(@example.com"},)",
                      R"("company":{"name":"Fault Co","country":"US"}})");
}

// What the audit found.
struct Audit {
  size_t records = 0;       // event records in Redis
  size_t assigned = 0;      // records with status ASSIGNED
  size_t missing = 0;       // expected event ids without a record
  int64_t pool_counts = 0;  // sum of the pool's per-rep counters
  std::map<std::string, int> per_rep;
};

class FaultFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/fault-" + std::to_string(::getpid()) + "-" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    redis_port_ = FreeLoopbackPort();
    StartRedis();
    // Enough partitions that the embedded broker's ~5 MiB per partition holds every message.
    auto kafka = Subprocess::Start({KAFKA_MOCK_BIN, "--topic", "leads.inbound:32", "--topic",
                                    "leads.assignments:32", "--topic", "leads.nurture:4", "--topic",
                                    "leads.deadletter:4"});
    ASSERT_TRUE(kafka.ok()) << kafka.status();
    kafka_ = std::move(*kafka);
    auto line = kafka_->WaitForLine("bootstrap=", 30s);
    ASSERT_TRUE(line.ok()) << line.status();
    bootstrap_ = LineField(*line, "bootstrap");
    auto producer = kafka::Producer::Create({bootstrap_, {{"linger.ms", "20"}}});
    ASSERT_TRUE(producer.ok()) << producer.status();
    producer_ = std::move(*producer);
  }

  void TearDown() override {
    if (HasFailure()) {
      for (size_t i = 0; i < routers_.size(); ++i) {
        if (routers_[i])
          std::cerr << "--- leadrouter " << i << " ---\n" << Tail(routers_[i]->Output());
      }
    }
  }

  static std::string Tail(const std::string& text) {
    return text.size() > 6000 ? text.substr(text.size() - 6000) : text;
  }

  // A redis-server with an append-only file fsynced on every write, so a restart keeps the data.
  void StartRedis() {
    auto redis = Subprocess::Start({"redis-server", "--port", std::to_string(redis_port_), "--bind",
                                    "127.0.0.1", "--save", "", "--appendonly", "yes",
                                    "--appendfsync", "always", "--dir", dir_});
    ASSERT_TRUE(redis.ok()) << redis.status();
    redis_ = std::move(*redis);
    ASSERT_TRUE(redis_->WaitForLine("Ready to accept connections", 20s).ok()) << redis_->Output();
  }

  // Starts instance `i` (same consumer group as the others); `extra_yaml` is appended to its
  // config, `kafka_yaml` (indented lines) to its kafka section, `producer_properties` replaces
  // the producer's; `bootstrap` overrides the embedded Kafka's address.
  void StartRouter(size_t i, const std::string& extra_yaml = "", std::string bootstrap = "",
                   bool wait_ready = true, const std::string& kafka_yaml = "",
                   const std::string& producer_properties = "{message.timeout.ms: \"5000\"}") {
    if (bootstrap.empty()) bootstrap = bootstrap_;
    const std::string config = absl::StrCat(dir_, "/leadrouter-", i, ".yaml");
    std::ofstream(config, std::ios::trunc)
        << absl::StrCat("kafka:\n  bootstrap_servers: ", bootstrap,
                        "\n  group_id: fault\n  batch_max_messages: 500\n  batch_max_wait_ms: 20\n"
                        "  produce_timeout_ms: 5000\n"
                        "  consumer_properties: {session.timeout.ms: \"6000\"}\n"
                        "  producer_properties: ",
                        producer_properties, "\n", kafka_yaml,
                        "redis: {host: 127.0.0.1, port: ", redis_port_, ", timeout_ms: 1000}\n",
                        "grpc: {listen: \"127.0.0.1:0\"}\nmetrics: {listen: \"127.0.0.1:0\"}\n"
                        "reps: [{id: rep-a}, {id: rep-b}, {id: rep-c}]\n",
                        extra_yaml);
    auto router = Subprocess::Start({LEADROUTER_BIN, "--config", config});
    ASSERT_TRUE(router.ok()) << router.status();
    if (routers_.size() <= i) routers_.resize(i + 1);
    routers_[i] = std::move(*router);
    if (!wait_ready) return;
    auto ready = routers_[i]->WaitForLine("leadrouter ready", 30s);
    ASSERT_TRUE(ready.ok()) << ready.status();
    const std::string url = LineField(*ready, "metrics");
    const auto port_start = url.rfind(':') + 1;
    if (metrics_ports_.size() <= i) metrics_ports_.resize(i + 1);
    metrics_ports_[i] = std::stoi(url.substr(port_start, url.find('/', port_start) - port_start));
    const std::string grpc = LineField(*ready, "grpc");
    if (grpc_targets_.size() <= i) grpc_targets_.resize(i + 1);
    grpc_targets_[i] = grpc;
  }

  void KillRouter(size_t i) {
    ASSERT_EQ(::kill(routers_[i]->pid(), SIGKILL), 0);
    (void)routers_[i]->Terminate(5s);
  }

  double Metric(size_t i, const std::string& series) {
    auto body = HttpGet("127.0.0.1", metrics_ports_[i], "/metrics");
    if (!body.ok()) return -1;
    auto value = PrometheusSample(*body, series);
    return value.ok() ? *value : -1;
  }

  // Publishes `count` leads, every `poison_every`-th replaced by an undecodable event; returns
  // the valid event ids.
  std::vector<std::string> Publish(int count, int poison_every = 0, int first = 0) {
    std::vector<std::string> valid;
    std::vector<kafka::OutgoingMessage> batch;
    for (int i = first; i < first + count; ++i) {
      if (poison_every > 0 && i % poison_every == poison_every - 1) {
        batch.push_back({"leads.inbound",
                         "",
                         absl::StrCat("{\"event_id\": \"poison-", i, "\", oops"),
                         {{"content-type", "application/json"}}});
      } else {
        const std::string id = absl::StrCat("f-", i);
        valid.push_back(id);
        batch.push_back(
            {"leads.inbound", id, LeadJson(id), {{"content-type", "application/json"}}});
      }
      if (batch.size() == 2000) {
        EXPECT_TRUE(producer_->ProduceAndWait(batch, 60s).ok());
        batch.clear();
      }
    }
    if (!batch.empty()) {
      EXPECT_TRUE(producer_->ProduceAndWait(batch, 60s).ok());
    }
    return valid;
  }

  std::unique_ptr<store::RedisConnection> Redis() {
    store::RedisOptions options;
    options.port = redis_port_;
    auto connection = store::RedisConnection::Connect(options);
    EXPECT_TRUE(connection.ok()) << connection.status();
    return connection.ok() ? std::move(*connection) : nullptr;
  }

  size_t CountRecords(store::RedisConnection& redis) {
    size_t count = 0;
    std::string cursor = "0";
    do {
      auto reply =
          redis.Command({"SCAN", cursor, "MATCH", "lr:{default}:event:*", "COUNT", "5000"});
      if (!reply.ok() || reply->elements.size() != 2) return 0;
      cursor = reply->elements[0].str;
      count += reply->elements[1].elements.size();
    } while (cursor != "0");
    return count;
  }

  // Waits until `expected` event records exist (or the timeout passes).
  bool WaitForRecords(size_t expected, std::chrono::seconds timeout) {
    auto redis = Redis();
    const auto until = std::chrono::steady_clock::now() + timeout;
    while (redis && std::chrono::steady_clock::now() < until) {
      if (CountRecords(*redis) >= expected) return true;
      std::this_thread::sleep_for(250ms);
    }
    return false;
  }

  Audit AuditRedis(const std::vector<std::string>& expected) {
    Audit audit;
    auto redis = Redis();
    if (!redis) return audit;
    audit.records = CountRecords(*redis);
    for (size_t begin = 0; begin < expected.size(); begin += 1000) {
      std::vector<std::string> mget{"MGET"};
      for (size_t i = begin; i < std::min(expected.size(), begin + 1000); ++i) {
        mget.push_back("lr:{default}:event:" + expected[i]);
      }
      auto reply = redis->Command(mget);
      if (!reply.ok()) return audit;
      for (const auto& record : reply->elements) {
        v1::EventOutcome outcome;
        absl::StatusOr<std::string> bytes =
            record.type == store::RedisReply::Type::kString
                ? store::DecodeRecord(record.str)
                : absl::StatusOr<std::string>(absl::NotFoundError("no record"));
        if (!bytes.ok() || !outcome.ParseFromString(*bytes)) {
          ++audit.missing;
          continue;
        }
        if (outcome.has_assignment() &&
            outcome.assignment().status() == v1::ASSIGNMENT_STATUS_ASSIGNED) {
          ++audit.assigned;
          ++audit.per_rep[outcome.assignment().rep_id()];
        }
      }
    }
    auto state = redis->Command({"HGETALL", "lr:{default}:routing"});
    if (state.ok()) {
      for (size_t i = 0; i + 1 < state->elements.size(); i += 2) {
        if (state->elements[i].str.rfind("pool:default:count:", 0) == 0) {
          audit.pool_counts += std::stoll(state->elements[i + 1].str);
        }
      }
    }
    return audit;
  }

  // Every assignment on leads.assignments, by event id: each event must carry one assignment id
  // however often it was (re-)published.
  std::map<std::string, std::set<std::string>> AssignmentIdsByEvent(size_t expected_events) {
    auto consumer = kafka::Consumer::Create(
        {bootstrap_, "fault-audit", {"leads.assignments"}, {{"session.timeout.ms", "6000"}}});
    EXPECT_TRUE(consumer.ok()) << consumer.status();
    std::map<std::string, std::set<std::string>> ids;
    auto quiet_since = std::chrono::steady_clock::now();
    const auto until = std::chrono::steady_clock::now() + 120s;
    while (consumer.ok() && std::chrono::steady_clock::now() < until) {
      auto batch = (*consumer)->PollBatch(5000, 500ms);
      if (!batch.ok()) break;
      if (!batch->empty()) quiet_since = std::chrono::steady_clock::now();
      for (const auto& message : *batch) {
        const std::string event = message.HeaderValue("x-leadrouter-event-id").value_or("");
        const auto at = message.value.find("\"assignment_id\":\"");
        if (at == std::string::npos) continue;
        const auto start = at + 17;
        ids[event].insert(message.value.substr(start, message.value.find('"', start) - start));
      }
      if (ids.size() >= expected_events && std::chrono::steady_clock::now() - quiet_since > 3s) {
        break;
      }
    }
    return ids;
  }

  // The invariants every fault test ends with.
  void ExpectExactlyOnce(const std::vector<std::string>& valid) {
    const Audit audit = AuditRedis(valid);
    EXPECT_EQ(audit.missing, 0u) << "events without an outcome";
    EXPECT_EQ(audit.records, valid.size()) << "records for events that were never sent";
    EXPECT_EQ(audit.assigned, valid.size());
    EXPECT_EQ(audit.pool_counts, static_cast<int64_t>(audit.assigned))
        << "rotation counters must move exactly once per assignment";
    // Fair across restarts: within one lead of a third each (Tijdeman, equal weights).
    for (const auto& [rep, count] : audit.per_rep) {
      EXPECT_LT(std::abs(3 * count - static_cast<int>(valid.size())), 3) << rep << " " << count;
    }
    const auto published = AssignmentIdsByEvent(valid.size());
    EXPECT_EQ(published.size(), valid.size()) << "every assignment reached the topic";
    for (const auto& [event, assignment_ids] : published) {
      EXPECT_EQ(assignment_ids.size(), 1u) << event << " has two different assignments";
    }
  }

  std::string dir_;
  int redis_port_ = 0;
  std::unique_ptr<Subprocess> redis_;
  std::unique_ptr<Subprocess> kafka_;
  std::vector<std::unique_ptr<Subprocess>> routers_;
  std::vector<int> metrics_ports_;
  std::vector<std::string> grpc_targets_;
  std::unique_ptr<kafka::Producer> producer_;
  std::string bootstrap_;
};

}  // namespace leadrouter::testing
