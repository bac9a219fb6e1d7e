// Hardening tests: the inputs, clients and outages that used to stop routing or hang a stop.
// The real daemon as a process against a real redis-server and the embedded Kafka; each test
// bounded in time and traffic, loopback only.
#include <grpcpp/generic/generic_stub.h>

#include <future>
#include <random>

#include "fault_fixture.h"
#include "leadrouter/core/hash.h"
#include "leadrouter/v1/router_service.grpc.pb.h"

namespace leadrouter {
namespace {

using namespace std::chrono_literals;
using testing::LeadJson;

class HardeningTest : public testing::FaultFixture {
 protected:
  // grpc.health.v1.Health/Check of the whole server with raw messages: "\x08\x01" is SERVING,
  // "\x08\x02" NOT_SERVING.
  std::string HealthStatus(size_t i) {
    auto channel = grpc::CreateChannel(grpc_targets_[i], grpc::InsecureChannelCredentials());
    grpc::GenericStub stub(channel);
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + 5s);
    grpc::Slice empty("", 0);
    grpc::ByteBuffer request(&empty, 1);
    grpc::ByteBuffer response;
    std::promise<grpc::Status> done;
    stub.UnaryCall(&context, "/grpc.health.v1.Health/Check", grpc::StubOptions(), &request,
                   &response, [&done](grpc::Status status) { done.set_value(std::move(status)); });
    const grpc::Status status = done.get_future().get();
    if (!status.ok()) return "error: " + status.error_message();
    std::vector<grpc::Slice> slices;
    std::string bytes;
    if (response.Dump(&slices).ok()) {
      for (const grpc::Slice& slice : slices) {
        bytes.append(reinterpret_cast<const char*>(slice.begin()), slice.size());
      }
    }
    return bytes == std::string("\x08\x01", 2)   ? "SERVING"
           : bytes == std::string("\x08\x02", 2) ? "NOT_SERVING"
                                                 : "unknown";
  }

  // "200" or the failing status line of GET /readyz.
  std::string Readyz(size_t i) {
    auto body = testing::HttpGet("127.0.0.1", metrics_ports_[i], "/readyz");
    return body.ok() ? "200" : std::string(body.status().message());
  }

  // Polls until `predicate` holds or `timeout` passes.
  template <typename Predicate>
  bool Eventually(Predicate predicate, std::chrono::milliseconds timeout) {
    const auto until = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < until) {
      if (predicate()) return true;
      std::this_thread::sleep_for(100ms);
    }
    return predicate();
  }

  // Every message on `topic` until it has been quiet for 2 s (at most `timeout`).
  std::vector<kafka::ConsumedMessage> ReadTopic(const std::string& topic, size_t expected,
                                                std::chrono::seconds timeout = 60s) {
    auto consumer = kafka::Consumer::Create(
        {bootstrap_,
         "audit-" + topic,
         {topic},
         {{"session.timeout.ms", "6000"}, {"fetch.message.max.bytes", "2000000"}}});
    EXPECT_TRUE(consumer.ok()) << consumer.status();
    std::vector<kafka::ConsumedMessage> all;
    if (!consumer.ok()) return all;
    auto quiet_since = std::chrono::steady_clock::now();
    const auto until = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < until) {
      auto batch = (*consumer)->PollBatch(1000, 300ms);
      if (!batch.ok()) break;
      if (!batch->empty()) quiet_since = std::chrono::steady_clock::now();
      all.insert(all.end(), batch->begin(), batch->end());
      if (all.size() >= expected && std::chrono::steady_clock::now() - quiet_since > 2s) break;
    }
    return all;
  }

  // Waits until the router has consumed `n` events (its own counter).
  bool WaitConsumed(size_t i, double n, std::chrono::seconds timeout) {
    return Eventually([&] { return Metric(i, "leadrouter_events_consumed_total") >= n; }, timeout);
  }

  double OutcomeSum(size_t i) {
    double sum = 0;
    for (const char* outcome : {"assigned", "unassigned", "duplicate", "nurture", "disqualified",
                                "replayed", "dead_letter"}) {
      sum += Metric(i, absl::StrCat("leadrouter_events_outcome_total{outcome=\"", outcome, "\"}"));
    }
    return sum;
  }
};

// One big event used to stop all routing: the dead letter republished its bytes and the producer
// refused them forever. Now oversized inputs are dead-lettered with a bounded prefix, a field over
// its limit is invalid, and the good events behind them are routed.
TEST_F(HardeningTest, OversizedEventsAreDeadLetteredAndTheGoodOnesBehindThemRouted) {
  StartRouter(0);
  auto big_producer = kafka::Producer::Create({bootstrap_, {{"message.max.bytes", "30000000"}}});
  ASSERT_TRUE(big_producer.ok()) << big_producer.status();
  std::vector<kafka::OutgoingMessage> poison;
  // (The embedded broker keeps at most ~5 MiB per partition, so nothing larger.)
  const std::vector<size_t> sizes = {1000100, 1048577, 4000000};
  std::vector<std::string> big_values;
  for (size_t size : sizes) {
    std::string value = R"({"event_id":"big","person":{"email":"big@example.com"},"x":")";
    value.append(size - value.size() - 2, 'a');
    value += "\"}";
    big_values.push_back(value);
    poison.push_back({"leads.inbound",
                      absl::StrCat("big-", size),
                      value,
                      {{"content-type", "application/json"}}});
  }
  // Valid JSON within kafka.max_event_bytes, but one field far over its limit.
  std::string long_name = LeadJson("long-name");
  long_name.insert(long_name.find("\"person\":{") + 10,
                   absl::StrCat("\"first_name\":\"", std::string(400000, 'n'), "\","));
  poison.push_back(
      {"leads.inbound", "long-name", long_name, {{"content-type", "application/json"}}});
  ASSERT_TRUE((*big_producer)->ProduceAndWait(poison, 60s).ok());
  std::vector<kafka::OutgoingMessage> good;
  std::vector<std::string> valid;
  for (int i = 0; i < 8; ++i) {
    valid.push_back(absl::StrCat("good-", i));
    good.push_back({"leads.inbound",
                    valid.back(),
                    LeadJson(valid.back()),
                    {{"content-type", "application/json"}}});
  }
  ASSERT_TRUE(producer_->ProduceAndWait(good, 30s).ok());

  ASSERT_TRUE(WaitForRecords(valid.size(), 60s)) << "the good events behind the big ones";
  ASSERT_TRUE(WaitConsumed(0, 12, 30s));
  EXPECT_EQ(Metric(0, "leadrouter_events_consumed_total"), OutcomeSum(0)) << "consumed = outcomes";
  EXPECT_EQ(Metric(0, "leadrouter_events_deadlettered_total{reason=\"too_large\"}"), 3);
  EXPECT_EQ(Metric(0, "leadrouter_events_deadlettered_total{reason=\"invalid_field\"}"), 1);
  EXPECT_EQ(Metric(0, "leadrouter_consumer_paused"), 0);

  const auto dead = ReadTopic("leads.deadletter", 4);
  ASSERT_EQ(dead.size(), 4u);
  size_t truncated = 0;
  for (const kafka::ConsumedMessage& letter : dead) {
    EXPECT_LT(letter.value.size(), 1000000u);
    const auto size = letter.HeaderValue("x-leadrouter-original-size");
    if (!size.has_value()) {
      EXPECT_EQ(letter.HeaderValue("x-leadrouter-error-code"), "invalid_field");
      EXPECT_EQ(letter.value, long_name) << "a dead letter within the limit carries the event";
      continue;
    }
    ++truncated;
    EXPECT_EQ(letter.HeaderValue("x-leadrouter-error-code"), "too_large");
    EXPECT_EQ(letter.HeaderValue("x-leadrouter-truncated"), "value");
    bool matched = false;
    for (const std::string& value : big_values) {
      if (std::to_string(value.size()) != *size) continue;
      matched = true;
      EXPECT_EQ(letter.HeaderValue("x-leadrouter-original-sha256"), core::Sha256Hex(value));
      EXPECT_EQ(letter.value, value.substr(0, letter.value.size()));
    }
    EXPECT_TRUE(matched) << *size;
  }
  EXPECT_EQ(truncated, 3u);
  ExpectExactlyOnce(valid);
}

// A dead letter the broker itself refuses for good (a topic limit below the producer's) is
// recorded in Redis and counted, and the partition moves on: the good events behind it are
// routed.
TEST_F(HardeningTest, AMessageTheBrokerRefusesForGoodIsRecordedAndRoutingGoesOn) {
  // Invalid (no occurred_at): its dead letter is the daemon's first Produce request, which the
  // embedded broker is told to refuse as too large (as a topic with a lower max.message.bytes).
  const std::string value =
      R"({"event_id":"too-big-for-the-broker","person":{"email":"a@b.example"}})";
  ASSERT_TRUE(producer_
                  ->ProduceAndWait(
                      {{"leads.inbound", "k", value, {{"content-type", "application/json"}}}}, 30s)
                  .ok());
  ASSERT_EQ(::kill(kafka_->pid(), SIGHUP), 0);
  ASSERT_TRUE(kafka_->WaitForLine("next produce refused", 10s).ok());
  StartRouter(0);
  // Only then the good events (the test's own Produce must not be the refused one).
  ASSERT_TRUE(WaitConsumed(0, 1, 60s));
  std::vector<std::string> valid;
  std::vector<kafka::OutgoingMessage> good;
  for (int i = 0; i < 8; ++i) {
    valid.push_back(absl::StrCat("after-", i));
    good.push_back({"leads.inbound",
                    valid.back(),
                    LeadJson(valid.back()),
                    {{"content-type", "application/json"}}});
  }
  ASSERT_TRUE(producer_->ProduceAndWait(good, 30s).ok());
  ASSERT_TRUE(WaitForRecords(valid.size(), 60s));
  ASSERT_TRUE(WaitConsumed(0, 9, 30s));
  ASSERT_TRUE(Eventually(
      [&] {
        return Metric(0,
                      "leadrouter_undeliverable_messages_total{kind=\"dead_letter\",reason="
                      "\"too_large\"}") == 1;
      },
      20s));
  EXPECT_EQ(Metric(0, "leadrouter_events_consumed_total"), OutcomeSum(0));
  EXPECT_EQ(Metric(0, "leadrouter_consumer_paused"), 0);
  auto redis = Redis();
  ASSERT_NE(redis, nullptr);
  auto record = redis->Command({"HGETALL", "lr:{default}:undeliverable:too-big-for-the-broker"});
  ASSERT_TRUE(record.ok()) << record.status();
  std::map<std::string, std::string> fields;
  for (size_t i = 0; i + 1 < record->elements.size(); i += 2) {
    fields[record->elements[i].str] = record->elements[i + 1].str;
  }
  EXPECT_EQ(fields["kind"], "dead_letter");
  EXPECT_EQ(fields["reason"], "too_large");
  EXPECT_EQ(fields["topic"], "leads.deadletter");
  EXPECT_EQ(fields["source"].rfind("leads.inbound/", 0), 0u) << fields["source"];
  EXPECT_EQ(fields["original_bytes"], std::to_string(value.size()));
  EXPECT_EQ(fields["original_sha256"], core::Sha256Hex(value));
  EXPECT_EQ(fields["error_code"], "missing_field");
  auto stream = redis->Command({"XLEN", "lr:{default}:undeliverable"});
  ASSERT_TRUE(stream.ok());
  EXPECT_EQ(stream->integer, 1);
  auto ttl = redis->Command({"TTL", "lr:{default}:undeliverable:too-big-for-the-broker"});
  ASSERT_TRUE(ttl.ok());
  EXPECT_GT(ttl->integer, 0);
  ExpectExactlyOnce(valid);
}

// Dead-letter warnings named values ("invalid value \"jane@x.example\"") and quoted payload; now
// a log names the field and the kind of problem only.
TEST_F(HardeningTest, RejectionsLogNoPersonalData) {
  StartRouter(0);
  const std::vector<std::string> pii = {"jane.secret@secret-corp.example", "5551234567",
                                        "secret-corp.example", "Janeway"};
  const std::vector<std::string> bad = {
      // A misspelled enum next to an e-mail.
      R"({"event_id":"p1","occurred_at":"2026-11-22T09:00:00Z","source_kind":"LEAD_SOURCE_KIND_INBOUND_MARKETING",)"
      R"("person":{"email":"jane.secret@secret-corp.example","first_name":"Janeway"},)"
      R"("psychographics":{"buying_priority":"BOGUS"}})",
      // A phone as a number.
      R"({"event_id":"p2","occurred_at":"2026-11-22T09:00:00Z","source_kind":"LEAD_SOURCE_KIND_INBOUND_MARKETING",)"
      R"("person":{"phone":5551234567}})",
      // Broken JSON around a domain.
      R"({"event_id":"p3","company":{"website":"secret-corp.example" "x":1}})",
      // Invalid e-mail.
      R"({"event_id":"p4","occurred_at":"2026-11-22T09:00:00Z","source_kind":"LEAD_SOURCE_KIND_INBOUND_MARKETING",)"
      R"("person":{"email":"Janeway@@secret-corp.example"}})",
  };
  std::vector<kafka::OutgoingMessage> messages;
  for (const std::string& value : bad) {
    messages.push_back({"leads.inbound", "", value, {{"content-type", "application/json"}}});
  }
  ASSERT_TRUE(producer_->ProduceAndWait(messages, 30s).ok());
  ASSERT_TRUE(WaitConsumed(0, static_cast<double>(bad.size()), 60s));
  ASSERT_TRUE(Eventually(
      [&] { return Metric(0, "leadrouter_events_outcome_total{outcome=\"dead_letter\"}") == 4; },
      10s));
  const std::string log = routers_[0]->Output();
  EXPECT_NE(log.find("dead-lettering"), std::string::npos) << "the rejections are logged";
  for (const std::string& value : pii) {
    EXPECT_EQ(log.find(value), std::string::npos) << "the log quotes " << value;
  }
}

// SIGTERM used to hang forever while a StreamAssignments subscriber was connected but not
// reading: its stuck write kept the gRPC server from shutting down.
TEST_F(HardeningTest, SigtermWithASubscriberThatStopsReadingExitsWithinTheBound) {
  StartRouter(0);
  // A small stream window that never grows (no BDP probing): a client that does not read stops
  // the server's writes after a few KB, as a slow or stopped CRM does.
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_HTTP2_BDP_PROBE, 0);
  args.SetInt(GRPC_ARG_HTTP2_STREAM_LOOKAHEAD_BYTES, 1024);
  auto stub = v1::RouterService::NewStub(
      grpc::CreateCustomChannel(grpc_targets_[0], grpc::InsecureChannelCredentials(), args));
  grpc::ClientContext context;
  v1::StreamAssignmentsRequest request;
  auto reader = stub->StreamAssignments(&context, request);  // never read
  // Enough assignments (~2 KB each) to fill the stream's flow-control windows many times over.
  std::vector<std::string> valid;
  std::vector<kafka::OutgoingMessage> batch;
  for (int i = 0; i < 300; ++i) {
    valid.push_back(absl::StrCat("s-", i));
    batch.push_back({"leads.inbound",
                     valid.back(),
                     LeadJson(valid.back()),
                     {{"content-type", "application/json"}}});
  }
  ASSERT_TRUE(producer_->ProduceAndWait(batch, 60s).ok());
  ASSERT_TRUE(WaitForRecords(valid.size(), 120s));
  std::this_thread::sleep_for(1s);  // the tailer has handed the stream its events
  const auto stopped = std::chrono::steady_clock::now();
  ASSERT_EQ(::kill(routers_[0]->pid(), SIGTERM), 0);
  auto exit_code = routers_[0]->Wait(25s);
  ASSERT_TRUE(exit_code.ok()) << "still running 25 s after SIGTERM";
  EXPECT_EQ(*exit_code, 0);
  EXPECT_LT(std::chrono::steady_clock::now() - stopped, 20s);
  // Ended by its own shutdown sequence (the stream cancelled after its grace), not by the
  // watchdog that bounds a shutdown which hangs.
  EXPECT_NE(routers_[0]->Output().find("stopped cleanly"), std::string::npos)
      << Tail(routers_[0]->Output());
  context.TryCancel();
}

// The consume loop used to block forever in a synchronous offset commit once the brokers were
// gone, and a stop then never finished. Now the stop is bounded, nothing is committed past what
// was durable, and a restart finishes the work exactly once.
TEST_F(HardeningTest, BrokersGoneMidDrainThenSigtermExitsAndARestartLosesNothing) {
  StartRouter(0);
  const std::vector<std::string> valid = Publish(6000);
  ASSERT_TRUE(WaitForRecords(500, 120s));
  ASSERT_EQ(::kill(kafka_->pid(), SIGUSR1), 0);
  ASSERT_TRUE(kafka_->WaitForLine("brokers down", 10s).ok());
  std::this_thread::sleep_for(2s);
  const auto stopped = std::chrono::steady_clock::now();
  ASSERT_EQ(::kill(routers_[0]->pid(), SIGTERM), 0);
  auto exit_code = routers_[0]->Wait(25s);
  ASSERT_TRUE(exit_code.ok()) << "still running 25 s after SIGTERM";
  EXPECT_EQ(*exit_code, 0) << Tail(routers_[0]->Output());
  EXPECT_LT(std::chrono::steady_clock::now() - stopped, 20s);
  ASSERT_EQ(::kill(kafka_->pid(), SIGUSR2), 0);
  ASSERT_TRUE(kafka_->WaitForLine("brokers up", 10s).ok());
  StartRouter(0);
  ASSERT_TRUE(WaitForRecords(valid.size(), 240s));
  ExpectExactlyOnce(valid);
}

// A stop during start-up or the consumer group join used to abort now and then (librdkafka
// 2.0.2's cooperative-sticky assignor asserts when a member is destroyed before its first
// assignment). 50 stops at random moments all exit 0.
TEST_F(HardeningTest, SigtermAtRandomMomentsOfStartupAndGroupJoinExitsZero) {
  std::mt19937 random(20261201);
  std::uniform_int_distribution<int> delay_ms(0, 1500);
  for (int attempt = 0; attempt < 50; ++attempt) {
    StartRouter(0, "", "", /*wait_ready=*/false);
    // From its first line on, the daemon is in main with the signals it handles blocked (a
    // SIGTERM before that, while the loader runs, is the kernel's default: exit 143).
    ASSERT_TRUE(routers_[0]->WaitForLine("starting", 30s).ok()) << attempt;
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms(random)));
    ASSERT_EQ(::kill(routers_[0]->pid(), SIGTERM), 0);
    auto exit_code = routers_[0]->Wait(25s);
    ASSERT_TRUE(exit_code.ok()) << "attempt " << attempt << ": still running after SIGTERM";
    EXPECT_EQ(*exit_code, 0) << "attempt " << attempt << "\n" << Tail(routers_[0]->Output());
    EXPECT_EQ(routers_[0]->Output().find("Assertion"), std::string::npos) << attempt;
    if (HasFailure()) break;
  }
}

// Readiness said SERVING while Kafka was unreachable and while Redis hung. Now it follows them,
// and consumption pauses, in gRPC health and /readyz alike; liveness (/healthz) stays.
TEST_F(HardeningTest, ReadinessFollowsRedisAndKafka) {
  StartRouter(0);
  ASSERT_TRUE(Eventually([&] { return Readyz(0) == "200"; }, 15s)) << Readyz(0);
  EXPECT_EQ(HealthStatus(0), "SERVING");
  EXPECT_EQ(Metric(0, "leadrouter_ready"), 1);

  // Redis hangs (SIGSTOP): its PING times out (timeout_ms 1000).
  ASSERT_EQ(::kill(redis_->pid(), SIGSTOP), 0);
  EXPECT_TRUE(Eventually([&] { return HealthStatus(0) == "NOT_SERVING"; }, 15s));
  EXPECT_NE(Readyz(0).find("503"), std::string::npos);
  EXPECT_TRUE(testing::HttpGet("127.0.0.1", metrics_ports_[0], "/healthz").ok()) << "alive";
  ASSERT_EQ(::kill(redis_->pid(), SIGCONT), 0);
  EXPECT_TRUE(Eventually([&] { return Readyz(0) == "200"; }, 15s)) << Readyz(0);
  EXPECT_EQ(HealthStatus(0), "SERVING");

  // The brokers go away.
  ASSERT_EQ(::kill(kafka_->pid(), SIGUSR1), 0);
  ASSERT_TRUE(kafka_->WaitForLine("brokers down", 10s).ok());
  EXPECT_TRUE(Eventually([&] { return Readyz(0).find("503") != std::string::npos; }, 15s));
  EXPECT_EQ(HealthStatus(0), "NOT_SERVING");
  ASSERT_EQ(::kill(kafka_->pid(), SIGUSR2), 0);
  EXPECT_TRUE(Eventually([&] { return Readyz(0) == "200"; }, 20s)) << Readyz(0);
  EXPECT_EQ(HealthStatus(0), "SERVING");
}

// The README's exit code 3 for a dependency unavailable at start (an early return once aborted
// the process: a joinable thread was destroyed).
TEST_F(HardeningTest, RedisUnreachableAtStartExitsThree) {
  ASSERT_TRUE(redis_->Terminate(10s).ok());
  StartRouter(0, "", "", /*wait_ready=*/false);
  auto exit_code = routers_[0]->Wait(30s);
  ASSERT_TRUE(exit_code.ok()) << "still running";
  EXPECT_EQ(*exit_code, 3) << Tail(routers_[0]->Output());
}

TEST_F(HardeningTest, NotReadyWhileKafkaIsUnreachableAtStart) {
  // Nothing listens on this port: the brokers are unreachable from the start.
  const int closed_port = testing::FreeLoopbackPort();
  StartRouter(0, "", absl::StrCat("127.0.0.1:", closed_port));
  std::this_thread::sleep_for(3s);
  EXPECT_NE(Readyz(0).find("503"), std::string::npos) << Readyz(0);
  EXPECT_EQ(HealthStatus(0), "NOT_SERVING");
  EXPECT_EQ(Metric(0, "leadrouter_ready"), 0);
}

}  // namespace
}  // namespace leadrouter
