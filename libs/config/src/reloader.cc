#include "leadrouter/config/reloader.h"

#include <fstream>
#include <sstream>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "leadrouter/core/hash.h"

namespace leadrouter::config {
namespace {

// The sections a running process cannot change under itself (its connections and listeners),
// as names for the report; the new config keeps the live values of these.
std::vector<std::string> RestartOnlyChanges(const Config& live, const Config& next) {
  std::vector<std::string> changed;
  const KafkaConfig& a = live.kafka;
  const KafkaConfig& b = next.kafka;
  if (a.bootstrap_servers != b.bootstrap_servers || a.group_id != b.group_id ||
      a.topics.inbound != b.topics.inbound || a.consumer_properties != b.consumer_properties ||
      a.producer_properties != b.producer_properties) {
    changed.push_back("kafka");
  }
  if (live.redis.host != next.redis.host || live.redis.port != next.redis.port ||
      live.redis.password != next.redis.password || live.redis.tenant != next.redis.tenant ||
      live.redis.timeout != next.redis.timeout) {
    changed.push_back("redis");
  }
  if (live.grpc.listen != next.grpc.listen) changed.push_back("grpc.listen");
  if (live.metrics.listen != next.metrics.listen) changed.push_back("metrics.listen");
  return changed;
}

}  // namespace

const char* ReloadResultName(ConfigReloader::Result result) {
  switch (result) {
    case ConfigReloader::Result::kUnchanged:
      return "unchanged";
    case ConfigReloader::Result::kApplied:
      return "applied";
    case ConfigReloader::Result::kRefused:
      return "refused";
  }
  return "unknown";
}

ConfigReloader::ConfigReloader(std::string path, std::shared_ptr<const Config> initial)
    : path_(std::move(path)), current_(std::move(initial)) {}

std::shared_ptr<const Config> ConfigReloader::Current() const {
  std::lock_guard lock(mu_);
  return current_;
}

ConfigReloader::Report ConfigReloader::Reload() {
  std::ifstream in(path_, std::ios::binary);
  if (!in) return {Result::kRefused, absl::StrCat("config file ", path_, ": cannot open")};
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string text = buffer.str();
  const std::shared_ptr<const Config> live = Current();
  if ("sha256:" + core::Sha256Hex(text, 12) == live->version) return {Result::kUnchanged, ""};

  auto parsed = ParseConfig(text);
  if (!parsed.ok()) {
    return {Result::kRefused, absl::StrCat(path_, ":\n", std::string(parsed.status().message()))};
  }
  auto next = std::make_shared<Config>(*std::move(parsed));
  const std::vector<std::string> restart_only = RestartOnlyChanges(*live, *next);
  next->kafka.bootstrap_servers = live->kafka.bootstrap_servers;
  next->kafka.group_id = live->kafka.group_id;
  next->kafka.topics.inbound = live->kafka.topics.inbound;
  next->kafka.consumer_properties = live->kafka.consumer_properties;
  next->kafka.producer_properties = live->kafka.producer_properties;
  next->redis = live->redis;
  next->grpc.listen = live->grpc.listen;
  next->metrics.listen = live->metrics.listen;
  {
    std::lock_guard lock(mu_);
    current_ = next;
  }
  std::string message =
      absl::StrCat("config ", next->version, " applied (was ", live->version, ")");
  if (!restart_only.empty()) {
    absl::StrAppend(&message, "; changes to ", absl::StrJoin(restart_only, ", "),
                    " take effect after a restart");
  }
  return {Result::kApplied, message};
}

}  // namespace leadrouter::config
