#include "leadrouter/config/config.h"

#include <gtest/gtest.h>

#include <fstream>
#include <string>

namespace leadrouter::config {
namespace {

constexpr char kMinimal[] = R"(
kafka:
  bootstrap_servers: 127.0.0.1:9092
reps:
  - id: rep-ada
    name: Ada Lovelace
  - id: rep-grace
)";

std::string ErrorOf(const std::string& yaml) {
  auto cfg = ParseConfig(yaml);
  if (cfg.ok()) {
    ADD_FAILURE() << "accepted but expected an error:\n" << yaml;
    return "";
  }
  EXPECT_EQ(cfg.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(cfg.status().message());
}

TEST(ConfigTest, MinimalConfigGetsDefaults) {
  auto cfg = ParseConfig(kMinimal);
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  EXPECT_EQ(cfg->kafka.bootstrap_servers, "127.0.0.1:9092");
  EXPECT_EQ(cfg->kafka.topics.inbound, "leads.inbound");
  EXPECT_EQ(cfg->kafka.topics.assignments, "leads.assignments");
  EXPECT_EQ(cfg->kafka.topics.deadletter, "leads.deadletter");
  EXPECT_EQ(cfg->redis.port, 6379);
  EXPECT_EQ(cfg->grpc.listen, "127.0.0.1:50051");
  ASSERT_EQ(cfg->reps.size(), 2u);
  EXPECT_EQ(cfg->reps[0].name, "Ada Lovelace");
  EXPECT_EQ(cfg->version.rfind("sha256:", 0), 0u);
  EXPECT_EQ(cfg->version.size(), 7u + 12u);
}

TEST(ConfigTest, FullConfigIsRead) {
  auto cfg = ParseConfig(R"(
kafka:
  bootstrap_servers: k1:9092,k2:9092
  group_id: lr-eu
  topics: {inbound: in, assignments: out, deadletter: dlq}
  batch_max_messages: 100
  batch_max_wait_ms: 20
  max_event_bytes: 4096
  consumer_properties: {session.timeout.ms: "6000"}
  producer_properties: {linger.ms: "1"}
redis: {host: redis.internal, port: 6380, password: s3cret, tenant: acme, timeout_ms: 500, idempotency_ttl_s: 3600}
grpc: {listen: "0.0.0.0:6000", subscriber_queue_limit: 50}
metrics: {listen: "0.0.0.0:9000"}
pool: west
reps: [{id: a}]
)");
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  EXPECT_EQ(cfg->kafka.group_id, "lr-eu");
  EXPECT_EQ(cfg->kafka.topics.deadletter, "dlq");
  EXPECT_EQ(cfg->kafka.batch_max_wait, std::chrono::milliseconds(20));
  EXPECT_EQ(cfg->kafka.consumer_properties.at("session.timeout.ms"), "6000");
  EXPECT_EQ(cfg->redis.tenant, "acme");
  EXPECT_EQ(cfg->redis.idempotency_ttl, std::chrono::seconds(3600));
  EXPECT_EQ(cfg->grpc.subscriber_queue_limit, 50);
  EXPECT_EQ(cfg->pool, "west");
}

TEST(ConfigTest, VersionChangesWithContent) {
  auto a = ParseConfig(kMinimal);
  auto b = ParseConfig(std::string(kMinimal) + "  - id: rep-linus\n");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(a->version, b->version);
}

TEST(ConfigTest, ErrorsNameTheField) {
  EXPECT_EQ(ErrorOf("reps: [{id: a}]"), "config: kafka: is required");
  EXPECT_EQ(ErrorOf("kafka: {group_id: x}\nreps: [{id: a}]"),
            "config: kafka.bootstrap_servers: is required");
  EXPECT_EQ(ErrorOf("kafka: {bootstrap_servers: k:1}"),
            "config: reps: at least one rep is required");
  EXPECT_EQ(ErrorOf("kafka: {bootstrap_servers: k:1}\nreps: [{id: a}, {id: b}, {id: a}]"),
            "config: reps[2].id: duplicate rep id \"a\"");
  EXPECT_EQ(ErrorOf("kafka: {bootstrap_servers: k:1}\nreps: [{name: x}]"),
            "config: reps[0].id: is required");
  EXPECT_EQ(ErrorOf("kafka: {bootstrap_servers: k:1}\nredis: {port: 70000}\nreps: [{id: a}]"),
            "config: redis.port: must be between 1 and 65535, got 70000");
  EXPECT_EQ(ErrorOf("kafka: {bootstrap_servers: k:1}\nredis: {port: six}\nreps: [{id: a}]"),
            "config: redis.port: must be an integer, got \"six\"");
  EXPECT_EQ(ErrorOf("kafka: {bootstrap_servers: k:1}\ngrpc: {listen: nowhere}\nreps: [{id: a}]"),
            "config: grpc.listen: must be host:port, got \"nowhere\"");
  EXPECT_EQ(ErrorOf("kafka: {bootstrap_servers: k:1}\nreps: [{id: \"a b\"}]"),
            "config: reps[0].id: must be 1-64 of [A-Za-z0-9._-]");
}

TEST(ConfigTest, UnknownFieldsAreRefusedNotIgnored) {
  const std::string err =
      ErrorOf("kafka: {bootstrap_servers: k:1, bootstrap: k:2}\nreps: [{id: a}]");
  EXPECT_EQ(err.rfind("config: kafka.bootstrap: unknown field", 0), 0u) << err;
  EXPECT_EQ(ErrorOf("kafka: {bootstrap_servers: k:1}\nreps: [{id: a}]\nrepz: []")
                .rfind("config: repz: unknown field", 0),
            0u);
}

TEST(ConfigTest, TopicsMustBeDistinct) {
  EXPECT_EQ(
      ErrorOf(
          "kafka: {bootstrap_servers: k:1, topics: {inbound: t, deadletter: t}}\nreps: [{id: a}]"),
      "config: kafka.topics: inbound, assignments and deadletter must be distinct, non-empty "
      "topics");
}

TEST(ConfigTest, SyntaxErrorsGiveTheLine) {
  const std::string err = ErrorOf("kafka:\n  bootstrap_servers: [unclosed\n");
  EXPECT_EQ(err.rfind("config: line ", 0), 0u) << err;
}

TEST(ConfigTest, LoadConfigFileNamesTheFile) {
  auto missing = LoadConfigFile("/nonexistent/leadrouter.yaml");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("/nonexistent/leadrouter.yaml"), std::string::npos);

  const std::string path = ::testing::TempDir() + "/bad.yaml";
  std::ofstream(path) << "kafka: {bootstrap_servers: k:1}\n";
  auto bad = LoadConfigFile(path);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(std::string(bad.status().message()),
            path + ": config: reps: at least one rep is required");
}

TEST(ConfigTest, ShippedExampleConfigIsValid) {
  auto cfg = LoadConfigFile(LEADROUTER_SOURCE_DIR "/deploy/config/leadrouter.example.yaml");
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  EXPECT_GE(cfg->reps.size(), 2u);
}

}  // namespace
}  // namespace leadrouter::config
