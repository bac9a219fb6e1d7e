#include "leadrouter/testing/daemon_fixture.h"

#include <unistd.h>

#include <fstream>
#include <iostream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "leadrouter/testing/e2e.h"
#include "leadrouter/testing/http_get.h"

#if !defined(LEADROUTER_BIN) || !defined(KAFKA_MOCK_BIN) || !defined(LEADCTL_BIN)
#error "LEADROUTER_BIN, KAFKA_MOCK_BIN and LEADCTL_BIN must be defined for the daemon fixture"
#endif

namespace leadrouter::testing {
namespace {

using namespace std::chrono_literals;

// The port of "http://127.0.0.1:PORT/metrics".
int PortOfUrl(const std::string& url) {
  const auto start = url.rfind(':') + 1;
  return std::stoi(url.substr(start, url.find('/', start) - start));
}

}  // namespace

const std::string& LeadrouterBinary() {
  static const auto* const path = new std::string(LEADROUTER_BIN);
  return *path;
}

const std::string& KafkaMockBinary() {
  static const auto* const path = new std::string(KAFKA_MOCK_BIN);
  return *path;
}

const std::string& LeadctlBinary() {
  static const auto* const path = new std::string(LEADCTL_BIN);
  return *path;
}

void DaemonFixture::SetUp() {
  config_path_ =
      absl::StrCat(::testing::TempDir(), "/e2e-", ::getpid(), "-",
                   ::testing::UnitTest::GetInstance()->current_test_info()->name(), ".yaml");
  auto redis = RedisServer::Start();
  ASSERT_TRUE(redis.ok()) << redis.status();
  redis_ = std::move(*redis);

  std::vector<std::string> kafka_args = {KafkaMockBinary()};
  for (const std::string& topic : KafkaTopics()) {
    kafka_args.push_back("--topic");
    kafka_args.push_back(topic);
  }
  auto kafka = Subprocess::Start(kafka_args);
  ASSERT_TRUE(kafka.ok()) << kafka.status();
  kafka_ = std::move(*kafka);
  auto line = kafka_->WaitForLine("bootstrap=", 30s);
  ASSERT_TRUE(line.ok()) << line.status();
  bootstrap_ = LineField(*line, "bootstrap");

  auto producer = kafka::Producer::Create({bootstrap_, {}});
  ASSERT_TRUE(producer.ok()) << producer.status();
  producer_ = std::move(*producer);
}

void DaemonFixture::TearDown() {
  if (!HasFailure()) return;
  for (size_t i = 0; i < daemons_.size(); ++i) {
    std::cerr << "--- leadrouter " << i << " ---\n" << daemons_[i]->Output();
  }
}

std::string DaemonFixture::ConfigText(const DaemonConfig& config) const {
  return absl::StrCat("kafka:\n  bootstrap_servers: ", bootstrap_,
                      "\n  group_id: ", config.group_id,
                      "\n  batch_max_wait_ms: 20\n"
                      "  consumer_properties: {session.timeout.ms: \"6000\"}\n"
                      "redis: {host: 127.0.0.1, port: ",
                      redis_ ? redis_->port() : 0, "}\ngrpc: ", config.grpc,
                      "\nmetrics: ", config.metrics, "\n", config.rest);
}

void DaemonFixture::WriteConfig(const DaemonConfig& config) {
  std::ofstream(config_path_, std::ios::trunc) << ConfigText(config);
}

std::string DaemonFixture::StartDaemon() {
  auto router = Subprocess::Start({LeadrouterBinary(), "--config", config_path_});
  EXPECT_TRUE(router.ok()) << router.status();
  if (!router.ok()) return "";
  auto ready = (*router)->WaitForLine("leadrouter ready", 30s);
  EXPECT_TRUE(ready.ok()) << ready.status();
  daemons_.push_back(std::move(*router));
  if (!ready.ok()) return "";
  metrics_port_ = PortOfUrl(LineField(*ready, "metrics"));
  grpc_target_ = LineField(*ready, "grpc");
  console_url_ = LineField(*ready, "console");
  return grpc_target_;
}

absl::StatusOr<int> DaemonFixture::StopDaemon(std::chrono::milliseconds grace) {
  if (daemons_.empty()) return absl::FailedPreconditionError("no daemon started");
  return daemon().Terminate(grace);
}

void DaemonFixture::Publish(const std::string& value, std::vector<kafka::Header> headers,
                            const std::string& topic) {
  ASSERT_TRUE(producer_->ProduceAndWait({{topic, "", value, std::move(headers)}}, 10s).ok());
}

std::vector<kafka::ConsumedMessage> DaemonFixture::ReadTopic(const std::string& topic,
                                                             size_t at_least,
                                                             std::chrono::milliseconds quiet,
                                                             std::chrono::milliseconds timeout) {
  static int readers = 0;
  auto consumer = kafka::Consumer::Create({bootstrap_,
                                           absl::StrCat("e2e-reader-", topic, "-", ++readers),
                                           {topic},
                                           {{"session.timeout.ms", "6000"}}});
  EXPECT_TRUE(consumer.ok()) << consumer.status();
  std::vector<kafka::ConsumedMessage> messages;
  auto last_new = std::chrono::steady_clock::now();
  const auto give_up = last_new + timeout;
  while (consumer.ok() && std::chrono::steady_clock::now() < give_up) {
    if (messages.size() >= at_least && std::chrono::steady_clock::now() - last_new >= quiet) {
      break;
    }
    auto batch = (*consumer)->PollBatch(500, 200ms);
    if (!batch.ok()) break;
    if (!batch->empty()) {
      messages.insert(messages.end(), batch->begin(), batch->end());
      last_new = std::chrono::steady_clock::now();
    }
  }
  return messages;
}

absl::StatusOr<std::string> DaemonFixture::Scrape(int port) {
  return HttpGet("127.0.0.1", port > 0 ? port : metrics_port_, "/metrics");
}

double DaemonFixture::Metric(const std::string& series) {
  auto body = Scrape();
  if (!body.ok()) return -1;
  auto value = PrometheusSample(*body, series);
  return value.ok() ? *value : -1;
}

bool DaemonFixture::WaitForMetric(const std::string& series, double want,
                                  std::chrono::milliseconds timeout) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < until) {
    if (Metric(series) >= want) return true;
    std::this_thread::sleep_for(50ms);
  }
  return false;
}

std::shared_ptr<grpc::Channel> DaemonFixture::Channel(const std::string& target) {
  return grpc::CreateChannel(target.empty() ? grpc_target_ : target,
                             grpc::InsecureChannelCredentials());
}

std::unique_ptr<v1::RouterService::Stub> DaemonFixture::RouterStub(const std::string& target) {
  return v1::RouterService::NewStub(Channel(target));
}

std::unique_ptr<v1::AdminService::Stub> DaemonFixture::AdminStub(const std::string& target) {
  return v1::AdminService::NewStub(Channel(target));
}

CommandResult DaemonFixture::Leadctl(const std::string& target, std::vector<std::string> args) {
  args.insert(args.begin(), {LeadctlBinary(), "--server", target});
  auto process = Subprocess::Start(args);
  EXPECT_TRUE(process.ok()) << process.status();
  if (!process.ok()) return {};
  auto code = (*process)->Wait(30s);
  return {code.ok() ? *code : -1, (*process)->Output()};
}

}  // namespace leadrouter::testing
