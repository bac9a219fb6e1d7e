#include "leadrouter/config/reloader.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "bounded_read.h"
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
  if (live.console.listen != next.console.listen ||
      live.console.max_live_streams != next.console.max_live_streams) {
    changed.push_back("console");
  }
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
  auto read = ReadBoundedFile("config file", path_, kMaxConfigFileBytes);
  if (!read.ok()) return {Result::kRefused, std::string(read.status().message())};
  const std::string text = *std::move(read);
  const std::shared_ptr<const Config> live = Current();
  if ("sha256:" + core::Sha256Hex(text, 12) == live->version) return {Result::kUnchanged, ""};

  auto parsed = ParseConfig(text);
  if (!parsed.ok()) {
    return {Result::kRefused, absl::StrCat(path_, ":\n", std::string(parsed.status().message()))};
  }
  // The running producer keeps its message.max.bytes: a larger max_event_bytes that only a new
  // producer_properties makes room for waits for the restart too.
  const int64_t room =
      live->kafka.producer_message_max_bytes - KafkaConfig::kDeadLetterHeadroomBytes;
  if (parsed->kafka.max_event_bytes > room) {
    return {Result::kRefused,
            absl::StrCat(path_, ":\nconfig: kafka.max_event_bytes: ", parsed->kafka.max_event_bytes,
                         " does not fit in a dead letter of the running producer (its "
                         "message.max.bytes is ",
                         live->kafka.producer_message_max_bytes,
                         "); producer_properties take effect at the next start: restart, "
                         "or keep max_event_bytes at most ",
                         room)};
  }
  auto next = std::make_shared<Config>(*std::move(parsed));
  const std::vector<std::string> restart_only = RestartOnlyChanges(*live, *next);
  next->kafka.bootstrap_servers = live->kafka.bootstrap_servers;
  next->kafka.group_id = live->kafka.group_id;
  next->kafka.topics.inbound = live->kafka.topics.inbound;
  next->kafka.consumer_properties = live->kafka.consumer_properties;
  next->kafka.producer_properties = live->kafka.producer_properties;
  next->kafka.producer_message_max_bytes = live->kafka.producer_message_max_bytes;
  next->redis = live->redis;
  next->grpc.listen = live->grpc.listen;
  next->metrics.listen = live->metrics.listen;
  next->console = live->console;
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
