#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "leadrouter/qualify/profile.h"
#include "leadrouter/qualify/qualifier.h"
#include "leadrouter/routing/engine.h"
#include "leadrouter/routing/rules.h"

namespace leadrouter::config {

struct TopicsConfig {
  std::string inbound = "leads.inbound";
  std::string assignments = "leads.assignments";
  std::string deadletter = "leads.deadletter";
  std::string nurture = "leads.nurture";
};

struct KafkaConfig {
  std::string bootstrap_servers;  // required
  std::string group_id = "leadrouter";
  TopicsConfig topics;
  int batch_max_messages = 500;
  std::chrono::milliseconds batch_max_wait{50};
  // Events larger than this are dead-lettered without being decoded.
  int64_t max_event_bytes = 1 << 20;
  // Passed to librdkafka as-is (SASL/SSL, session.timeout.ms, ...), applied last.
  std::map<std::string, std::string> consumer_properties;
  std::map<std::string, std::string> producer_properties;
  std::chrono::milliseconds produce_timeout{30000};
};

struct RedisConfig {
  std::string host = "127.0.0.1";
  int port = 6379;
  // Never inline in the file: read from the environment variable named by `password_env` or
  // the file named by `password_file` (trailing newline stripped) when the config is loaded.
  std::string password;
  std::string password_source;  // "env:NAME", "file:PATH" or "" (no AUTH), for summaries
  std::string tenant = "default";
  std::chrono::milliseconds timeout{2000};
  // How long a processed event id stays remembered (redeliveries inside it are harmless).
  std::chrono::seconds idempotency_ttl{std::chrono::hours(24 * 30)};
};

struct GrpcConfig {
  std::string listen = "127.0.0.1:50051";
  // Assignments buffered per StreamAssignments subscriber before it is cut off as too slow.
  int subscriber_queue_limit = 10000;
};

struct MetricsConfig {
  std::string listen = "127.0.0.1:9464";
};

struct RepConfig {
  std::string id;
  std::string name;
};

// The whole daemon configuration, validated. A value type: copy freely.
struct Config {
  // Content hash of the source text ("sha256:" + 12 hex digits), stamped on every assignment.
  std::string version;
  KafkaConfig kafka;
  RedisConfig redis;
  GrpcConfig grpc;
  MetricsConfig metrics;
  std::vector<RepConfig> reps;
  // Reps' availability and capacity, pools, territories; and the compiled engine (never null in
  // a parsed Config). Without a `pools` section every rep is a weight-1 member of one
  // weighted-round-robin pool named by `pool` (default "default").
  routing::RoutingRules routing;
  std::shared_ptr<const routing::Engine> engine;
  // The ideal-customer profile as written, and compiled (never null in a parsed Config; a
  // missing `qualification` section qualifies every valid lead).
  qualify::Profile qualification;
  std::shared_ptr<const qualify::Qualifier> qualifier;
};

// Parses and validates YAML text. Errors are InvalidArgument listing every problem found, one
// per line, each with the path of the offending field, e.g.
//   config: reps[2].id: duplicate rep id "rep-ada"
//   config: qualification.criteria[0].between: lower bound 500 > upper bound 50
// Unknown fields are errors too, so a typo never silently falls back to a default. Secrets are
// resolved from the environment / files here. Thread-safe.
absl::StatusOr<Config> ParseConfig(std::string_view yaml_text);

// A human-readable summary of a valid config (for `leadrouter check-config`).
std::string Summarize(const Config& config);

// Reads and parses a file; NotFound / InvalidArgument name the file.
absl::StatusOr<Config> LoadConfigFile(const std::string& path);

}  // namespace leadrouter::config
