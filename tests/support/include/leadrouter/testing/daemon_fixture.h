#pragma once

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "leadrouter/kafka/consumer.h"
#include "leadrouter/kafka/producer.h"
#include "leadrouter/testing/redis_server.h"
#include "leadrouter/testing/subprocess.h"
#include "leadrouter/v1/admin_service.grpc.pb.h"
#include "leadrouter/v1/router_service.grpc.pb.h"

namespace leadrouter::testing {

// The binaries the fixture runs, as built with it.
const std::string& LeadrouterBinary();
const std::string& KafkaMockBinary();
const std::string& LeadctlBinary();

// The parts of a daemon config that vary between tests. ConfigText() puts them around the
// fixture's own endpoints (the embedded Kafka, the redis-server):
//
//   kafka:
//     bootstrap_servers: <the embedded Kafka>
//     group_id: <group_id>
//     batch_max_wait_ms: 20
//     consumer_properties: {session.timeout.ms: "6000"}
//   redis: {host: 127.0.0.1, port: <the redis-server>}
//   grpc: <grpc>
//   metrics: <metrics>
//   <rest>
struct DaemonConfig {
  std::string group_id = "e2e";
  std::string grpc = R"({listen: "127.0.0.1:0"})";
  std::string metrics = R"({listen: "127.0.0.1:0"})";
  std::string rest;  // reps, lifecycle, qualification, sources, ... (YAML lines)
};

// What a leadctl run printed and how it exited (-1: did not start or did not exit in time).
struct CommandResult {
  int code = -1;
  std::string output;
};

// A GoogleTest fixture for end-to-end tests: before each test a redis-server on a free loopback
// port, the embedded Kafka (leadrouter-kafka-mock, topics auto-created unless KafkaTopics()
// names them) and a producer to it; the test writes a config and starts any number of leadrouter
// daemons on it, waits for their ready lines, and talks to them: leads in, topics and metrics
// read back, gRPC stubs, leadctl, SIGTERM and the exit code. On a failed test TearDown prints
// every daemon's output. For the test's thread only.
class DaemonFixture : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  // "--topic" arguments for the embedded Kafka, e.g. {"leads.inbound:32"} (default: none).
  virtual std::vector<std::string> KafkaTopics() const { return {}; }

  // The config text for `config` against this fixture's Kafka and Redis.
  std::string ConfigText(const DaemonConfig& config) const;
  // Writes ConfigText(config) to config_path_ (replacing it).
  void WriteConfig(const DaemonConfig& config);

  // Starts a daemon on config_path_ and waits for its ready line: appends it to daemons_, sets
  // grpc_target_ and metrics_port_ to its endpoints and returns its gRPC target; "" (with a
  // failed expectation) if it did not start or never became ready.
  std::string StartDaemon();
  // The daemon started last.
  Subprocess& daemon() { return *daemons_.back(); }
  // SIGTERM to the daemon started last, up to `grace`, then SIGKILL: its exit code.
  absl::StatusOr<int> StopDaemon(std::chrono::milliseconds grace = std::chrono::seconds(15));

  // Produces one record on `topic` and waits for the broker's acknowledgement (10 s).
  void Publish(const std::string& value, std::vector<kafka::Header> headers = {},
               const std::string& topic = "leads.inbound");

  // Every message of `topic` from the beginning, read by a new consumer group: polls until at
  // least `at_least` arrived and then `quiet` passed without a new one, or `timeout` passed.
  std::vector<kafka::ConsumedMessage> ReadTopic(
      const std::string& topic, size_t at_least,
      std::chrono::milliseconds quiet = std::chrono::milliseconds(0),
      std::chrono::milliseconds timeout = std::chrono::seconds(30));

  // GET /metrics of the daemon with metrics port `port` (default: the one started last).
  absl::StatusOr<std::string> Scrape(int port = 0);
  // One sample of the last daemon's /metrics; -1 when unreachable or absent.
  double Metric(const std::string& series);
  // Waits until Metric(series) reaches at least `want`.
  bool WaitForMetric(const std::string& series, double want, std::chrono::milliseconds timeout);

  // A plaintext channel to `target` (default: the daemon started last) and stubs on it.
  std::shared_ptr<grpc::Channel> Channel(const std::string& target = "");
  std::unique_ptr<v1::RouterService::Stub> RouterStub(const std::string& target = "");
  std::unique_ptr<v1::AdminService::Stub> AdminStub(const std::string& target = "");

  // Runs `leadctl --server <target> <args...>` to its end (30 s).
  CommandResult Leadctl(const std::string& target, std::vector<std::string> args);

  std::unique_ptr<RedisServer> redis_;
  std::unique_ptr<Subprocess> kafka_;
  std::unique_ptr<kafka::Producer> producer_;
  std::string bootstrap_;
  // Where WriteConfig writes and StartDaemon reads; a test may point it elsewhere first.
  std::string config_path_;
  std::vector<std::unique_ptr<Subprocess>> daemons_;
  std::string grpc_target_;  // of the daemon started last
  int metrics_port_ = 0;     // of the daemon started last
  // "http://127.0.0.1:<port>/console/" of the daemon started last, "" without a console.
  std::string console_url_;
};

}  // namespace leadrouter::testing
