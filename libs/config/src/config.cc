#include "leadrouter/config/config.h"

#include <yaml-cpp/yaml.h>

#include <fstream>
#include <functional>
#include <set>
#include <sstream>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "leadrouter/core/hash.h"

namespace leadrouter::config {
namespace {

// Thrown only inside this file and turned into a Status at the ParseConfig boundary; it carries
// the field path so every message names exactly what to fix.
struct FieldError {
  std::string path;
  std::string message;
};

[[noreturn]] void Fail(const std::string& path, std::string message) {
  throw FieldError{path, std::move(message)};
}

std::string Join(const std::string& parent, const std::string& child) {
  return parent.empty() ? child : parent + "." + child;
}

// Walks one YAML mapping; refuses fields nobody asked for.
class MapReader {
 public:
  MapReader(const YAML::Node& node, std::string path) : node_(node), path_(std::move(path)) {
    if (node_ && !node_.IsNull() && !node_.IsMap()) Fail(path_, "must be a mapping");
  }

  const std::string& path() const { return path_; }

  // Calls `read(child_node, child_path)` when the field is present.
  void Field(const std::string& name,
             const std::function<void(const YAML::Node&, const std::string&)>& read) {
    seen_.insert(name);
    if (!node_ || node_.IsNull()) return;
    const YAML::Node child = node_[name];
    if (child && !child.IsNull()) read(child, Join(path_, name));
  }

  void String(const std::string& name, std::string& out, bool required = false) {
    bool present = false;
    Field(name, [&](const YAML::Node& n, const std::string& p) {
      if (!n.IsScalar()) Fail(p, "must be a string");
      out = n.Scalar();
      present = true;
    });
    if (required && (!present || out.empty())) Fail(Join(path_, name), "is required");
  }

  void Int(const std::string& name, int64_t& out, int64_t min, int64_t max) {
    Field(name, [&](const YAML::Node& n, const std::string& p) {
      if (!n.IsScalar()) Fail(p, "must be an integer");
      try {
        size_t used = 0;
        const long long v = std::stoll(n.Scalar(), &used);
        if (used != n.Scalar().size()) throw std::invalid_argument("trailing");
        out = v;
      } catch (const std::exception&) {
        Fail(p, absl::StrCat("must be an integer, got \"", n.Scalar(), "\""));
      }
      if (out < min || out > max)
        Fail(p, absl::StrCat("must be between ", min, " and ", max, ", got ", out));
    });
  }

  void Int(const std::string& name, int& out, int64_t min, int64_t max) {
    int64_t v = out;
    Int(name, v, min, max);
    out = static_cast<int>(v);
  }

  template <typename Duration>
  void DurationMs(const std::string& name, Duration& out, int64_t min_ms, int64_t max_ms) {
    int64_t v = std::chrono::duration_cast<std::chrono::milliseconds>(out).count();
    Int(name, v, min_ms, max_ms);
    out = std::chrono::duration_cast<Duration>(std::chrono::milliseconds(v));
  }

  void StringMap(const std::string& name, std::map<std::string, std::string>& out) {
    Field(name, [&](const YAML::Node& n, const std::string& p) {
      if (!n.IsMap()) Fail(p, "must be a mapping of strings");
      for (const auto& kv : n) {
        const std::string key = kv.first.as<std::string>();
        if (!kv.second.IsScalar()) Fail(Join(p, key), "must be a string");
        out[key] = kv.second.Scalar();
      }
    });
  }

  // Call after reading every known field.
  void RejectUnknown() const {
    if (!node_ || node_.IsNull()) return;
    for (const auto& kv : node_) {
      const std::string key = kv.first.as<std::string>();
      if (!seen_.count(key)) {
        Fail(Join(path_, key),
             absl::StrCat("unknown field (known: ", absl::StrJoin(seen_, ", "), ")"));
      }
    }
  }

 private:
  YAML::Node node_;
  std::string path_;
  std::set<std::string> seen_;
};

void CheckHostPort(const std::string& path, const std::string& value) {
  const auto colon = value.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == value.size()) {
    Fail(path, absl::StrCat("must be host:port, got \"", value, "\""));
  }
  for (size_t i = colon + 1; i < value.size(); ++i) {
    if (value[i] < '0' || value[i] > '9')
      Fail(path, absl::StrCat("port must be a number in \"", value, "\""));
  }
}

bool IsIdentifier(const std::string& s) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_' || c == '.';
    if (!ok) return false;
  }
  return true;
}

std::string ContentVersion(std::string_view text) {
  return "sha256:" + core::Sha256Hex(text, 12);
}

Config ParseRoot(const YAML::Node& root) {
  Config cfg;
  MapReader top(root, "");
  top.Field("kafka", [&](const YAML::Node& n, const std::string& p) {
    MapReader r(n, p);
    KafkaConfig& k = cfg.kafka;
    r.String("bootstrap_servers", k.bootstrap_servers, /*required=*/true);
    r.String("group_id", k.group_id);
    r.Field("topics", [&](const YAML::Node& tn, const std::string& tp) {
      MapReader t(tn, tp);
      t.String("inbound", k.topics.inbound);
      t.String("assignments", k.topics.assignments);
      t.String("deadletter", k.topics.deadletter);
      t.RejectUnknown();
    });
    r.Int("batch_max_messages", k.batch_max_messages, 1, 100000);
    r.DurationMs("batch_max_wait_ms", k.batch_max_wait, 1, 60000);
    r.Int("max_event_bytes", k.max_event_bytes, 64, 64ll << 20);
    r.StringMap("consumer_properties", k.consumer_properties);
    r.StringMap("producer_properties", k.producer_properties);
    r.DurationMs("produce_timeout_ms", k.produce_timeout, 100, 600000);
    r.RejectUnknown();
    if (k.group_id.empty()) Fail(Join(p, "group_id"), "must not be empty");
    const std::set<std::string> topics{k.topics.inbound, k.topics.assignments, k.topics.deadletter};
    if (topics.size() != 3 || topics.count("")) {
      Fail(Join(p, "topics"),
           "inbound, assignments and deadletter must be distinct, non-empty topics");
    }
  });
  if (!root["kafka"]) Fail("kafka", "is required");

  top.Field("redis", [&](const YAML::Node& n, const std::string& p) {
    MapReader r(n, p);
    RedisConfig& rc = cfg.redis;
    r.String("host", rc.host);
    r.Int("port", rc.port, 1, 65535);
    r.String("password", rc.password);
    r.String("tenant", rc.tenant);
    r.DurationMs("timeout_ms", rc.timeout, 1, 600000);
    int64_t ttl_s = rc.idempotency_ttl.count();
    r.Int("idempotency_ttl_s", ttl_s, 60, 10ll * 365 * 24 * 3600);
    rc.idempotency_ttl = std::chrono::seconds(ttl_s);
    r.RejectUnknown();
    if (rc.host.empty()) Fail(Join(p, "host"), "must not be empty");
    if (!IsIdentifier(rc.tenant)) Fail(Join(p, "tenant"), "must be 1-64 of [A-Za-z0-9._-]");
  });

  top.Field("grpc", [&](const YAML::Node& n, const std::string& p) {
    MapReader r(n, p);
    r.String("listen", cfg.grpc.listen);
    r.Int("subscriber_queue_limit", cfg.grpc.subscriber_queue_limit, 1, 10000000);
    r.RejectUnknown();
    CheckHostPort(Join(p, "listen"), cfg.grpc.listen);
  });

  top.Field("metrics", [&](const YAML::Node& n, const std::string& p) {
    MapReader r(n, p);
    r.String("listen", cfg.metrics.listen);
    r.RejectUnknown();
    CheckHostPort(Join(p, "listen"), cfg.metrics.listen);
  });

  top.String("pool", cfg.pool);
  if (!IsIdentifier(cfg.pool)) Fail("pool", "must be 1-64 of [A-Za-z0-9._-]");

  top.Field("reps", [&](const YAML::Node& n, const std::string& p) {
    if (!n.IsSequence()) Fail(p, "must be a list of reps");
    std::set<std::string> ids;
    for (size_t i = 0; i < n.size(); ++i) {
      const std::string ip = absl::StrCat(p, "[", i, "]");
      MapReader r(n[i], ip);
      RepConfig rep;
      r.String("id", rep.id, /*required=*/true);
      r.String("name", rep.name);
      r.RejectUnknown();
      if (!IsIdentifier(rep.id)) Fail(Join(ip, "id"), "must be 1-64 of [A-Za-z0-9._-]");
      if (!ids.insert(rep.id).second)
        Fail(Join(ip, "id"), absl::StrCat("duplicate rep id \"", rep.id, "\""));
      cfg.reps.push_back(std::move(rep));
    }
  });
  if (cfg.reps.empty()) Fail("reps", "at least one rep is required");
  top.RejectUnknown();
  return cfg;
}

}  // namespace

absl::StatusOr<Config> ParseConfig(std::string_view yaml_text) {
  try {
    const YAML::Node root = YAML::Load(std::string(yaml_text));
    if (!root.IsMap()) return absl::InvalidArgumentError("config: the document must be a mapping");
    Config cfg = ParseRoot(root);
    cfg.version = ContentVersion(yaml_text);
    return cfg;
  } catch (const FieldError& e) {
    return absl::InvalidArgumentError(absl::StrCat("config: ", e.path, ": ", e.message));
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("config: line ", e.mark.line + 1, ", column ",
                                                   e.mark.column + 1, ": ", e.msg));
  }
}

absl::StatusOr<Config> LoadConfigFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("config file ", path, ": cannot open"));
  std::stringstream buffer;
  buffer << in.rdbuf();
  auto cfg = ParseConfig(buffer.str());
  if (!cfg.ok()) {
    return absl::Status(cfg.status().code(), absl::StrCat(path, ": ", cfg.status().message()));
  }
  return cfg;
}

}  // namespace leadrouter::config
