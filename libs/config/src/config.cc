#include "leadrouter/config/config.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <set>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "bounded_read.h"
#include "leadrouter/core/hash.h"
#include "yaml_scan.h"

namespace leadrouter::config {
namespace {

std::string Join(const std::string& parent, const std::string& child) {
  return parent.empty() ? child : parent + "." + child;
}

std::string Index(const std::string& parent, size_t i) {
  return absl::StrCat(parent, "[", i, "]");
}

// Collects every problem in the file, so one run reports them all.
class Errors {
 public:
  void Add(const std::string& path, const std::string& message) {
    list_.push_back(absl::StrCat("config: ", path, ": ", message));
  }
  bool empty() const { return list_.empty(); }
  std::string Joined() const { return absl::StrJoin(list_, "\n"); }

 private:
  std::vector<std::string> list_;
};

// Walks one YAML mapping, recording errors; refuses fields nobody asked for (RejectUnknown).
class MapReader {
 public:
  MapReader(const YAML::Node& node, std::string path, Errors& errors)
      : node_(node), path_(std::move(path)), errors_(errors) {
    if (node_ && !node_.IsNull() && !node_.IsMap()) {
      errors_.Add(path_.empty() ? "(document)" : path_, "must be a mapping");
      valid_ = false;
    }
  }

  const std::string& path() const { return path_; }
  bool Has(const std::string& name) const {
    return valid_ && node_ && !node_.IsNull() && node_[name] && !node_[name].IsNull();
  }

  // Calls `read(child_node, child_path)` when the field is present.
  void Field(const std::string& name,
             const std::function<void(const YAML::Node&, const std::string&)>& read) {
    seen_.insert(name);
    if (Has(name)) read(node_[name], Join(path_, name));
  }

  bool String(const std::string& name, std::string& out, bool required = false) {
    bool present = false;
    Field(name, [&](const YAML::Node& n, const std::string& p) {
      if (!n.IsScalar()) return errors_.Add(p, "must be a string");
      out = n.Scalar();
      present = true;
    });
    if (required && (!present || out.empty()) && valid_) {
      errors_.Add(Join(path_, name), "is required");
    }
    return present;
  }

  bool Number(const std::string& name, double& out) {
    bool ok = false;
    Field(name, [&](const YAML::Node& n, const std::string& p) { ok = ParseNumber(n, p, out); });
    return ok;
  }

  void Int(const std::string& name, int64_t& out, int64_t min, int64_t max) {
    Field(name, [&](const YAML::Node& n, const std::string& p) {
      int64_t v = 0;
      if (!ParseInt(n, p, v)) return;
      if (v < min || v > max) {
        return errors_.Add(p, absl::StrCat("must be between ", min, " and ", max, ", got ", v));
      }
      out = v;
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
      if (!n.IsMap()) return errors_.Add(p, "must be a mapping of strings");
      for (const auto& kv : n) {
        const std::string key = kv.first.as<std::string>();
        if (!kv.second.IsScalar()) {
          errors_.Add(Join(p, key), "must be a string");
          continue;
        }
        out[key] = kv.second.Scalar();
      }
    });
  }

  bool StringList(const std::string& name, std::vector<std::string>& out) {
    bool ok = false;
    Field(name,
          [&](const YAML::Node& n, const std::string& p) { ok = ParseStringList(n, p, out); });
    return ok;
  }

  // Call after reading every known field.
  void RejectUnknown() const {
    if (!valid_ || !node_ || node_.IsNull()) return;
    for (const auto& kv : node_) {
      const std::string key = kv.first.as<std::string>();
      if (!seen_.count(key)) {
        errors_.Add(Join(path_, key),
                    absl::StrCat("unknown field (known: ", absl::StrJoin(seen_, ", "), ")"));
      }
    }
  }

  bool ParseNumber(const YAML::Node& n, const std::string& p, double& out) {
    if (!n.IsScalar()) {
      errors_.Add(p, "must be a number");
      return false;
    }
    try {
      size_t used = 0;
      out = std::stod(n.Scalar(), &used);
      if (used == n.Scalar().size()) return true;
    } catch (const std::exception&) {
    }
    errors_.Add(p, absl::StrCat("must be a number, got \"", n.Scalar(), "\""));
    return false;
  }

  bool ParseInt(const YAML::Node& n, const std::string& p, int64_t& out) {
    if (n.IsScalar()) {
      try {
        size_t used = 0;
        out = std::stoll(n.Scalar(), &used);
        if (used == n.Scalar().size()) return true;
      } catch (const std::exception&) {
      }
    }
    errors_.Add(p, absl::StrCat("must be an integer, got \"",
                                n.IsScalar() ? n.Scalar() : "(not a scalar)", "\""));
    return false;
  }

  bool ParseStringList(const YAML::Node& n, const std::string& p, std::vector<std::string>& out) {
    if (!n.IsSequence()) {
      errors_.Add(p, "must be a list of strings");
      return false;
    }
    for (size_t i = 0; i < n.size(); ++i) {
      if (!n[i].IsScalar()) {
        errors_.Add(Index(p, i), "must be a string");
        return false;
      }
      out.push_back(n[i].Scalar());
    }
    return true;
  }

 private:
  YAML::Node node_;
  std::string path_;
  Errors& errors_;
  bool valid_ = true;
  std::set<std::string> seen_;
};

void CheckHostPort(Errors& errors, const std::string& path, const std::string& value) {
  const auto colon = value.rfind(':');
  bool ok = colon != std::string::npos && colon != 0 && colon + 1 < value.size();
  for (size_t i = ok ? colon + 1 : value.size(); i < value.size(); ++i) {
    ok = ok && value[i] >= '0' && value[i] <= '9';
  }
  if (!ok) errors.Add(path, absl::StrCat("must be host:port, got \"", value, "\""));
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

constexpr char kIdentifierRule[] = "must be 1-64 of [A-Za-z0-9._-]";

// The producer's message.max.bytes (from producer_properties, else librdkafka's default) must
// hold a dead letter of the largest event accepted: the event plus its reason headers.
void CheckMessageSizes(KafkaConfig& k, const std::string& path, Errors& errors) {
  const std::string property = "message.max.bytes";
  const auto given = k.producer_properties.find(property);
  if (given != k.producer_properties.end()) {
    constexpr int64_t kMin = 1000, kMax = 1000000000;
    const std::string& text = given->second;
    int64_t value = 0;
    const char* end = text.data() + text.size();
    const auto [ptr, ec] = std::from_chars(text.data(), end, value);
    if (text.empty() || ec != std::errc() || ptr != end || value < kMin || value > kMax) {
      errors.Add(
          Join(Join(path, "producer_properties"), property),
          absl::StrCat("must be an integer between ", kMin, " and ", kMax, ", got \"", text, "\""));
      return;
    }
    k.producer_message_max_bytes = value;
  }
  const int64_t needed = k.max_event_bytes + KafkaConfig::kDeadLetterHeadroomBytes;
  if (needed > k.producer_message_max_bytes) {
    errors.Add(
        Join(path, "max_event_bytes"),
        absl::StrCat(k.max_event_bytes,
                     " does not fit in a dead letter: the producer's message.max.bytes is ",
                     k.producer_message_max_bytes,
                     given != k.producer_properties.end() ? " (kafka.producer_properties)"
                                                          : " (librdkafka's default)",
                     ", which must be at least max_event_bytes + ",
                     KafkaConfig::kDeadLetterHeadroomBytes,
                     "; raise message.max.bytes (and the broker's/topic's max.message.bytes) or "
                     "lower max_event_bytes"));
  }
}

void ParseShutdown(MapReader& r, ShutdownConfig& s, Errors& errors) {
  r.DurationMs("stream_grace_ms", s.stream_grace, 0, 60000);
  r.DurationMs("timeout_ms", s.timeout, 1000, 300000);
  r.RejectUnknown();
  if (s.timeout <= s.stream_grace) {
    errors.Add(Join(r.path(), "timeout_ms"),
               absl::StrCat(s.timeout.count(), " must be greater than stream_grace_ms (",
                            s.stream_grace.count(),
                            "): streams are cancelled after their grace, within the timeout"));
  }
}

void ParseKafka(MapReader& r, KafkaConfig& k, Errors& errors) {
  r.String("bootstrap_servers", k.bootstrap_servers, /*required=*/true);
  r.String("group_id", k.group_id);
  r.Field("topics", [&](const YAML::Node& tn, const std::string& tp) {
    MapReader t(tn, tp, errors);
    t.String("inbound", k.topics.inbound);
    t.String("assignments", k.topics.assignments);
    t.String("deadletter", k.topics.deadletter);
    t.String("nurture", k.topics.nurture);
    t.RejectUnknown();
    const std::set<std::string> topics{k.topics.inbound, k.topics.assignments, k.topics.deadletter,
                                       k.topics.nurture};
    if (topics.size() != 4 || topics.count("")) {
      errors.Add(tp,
                 "inbound, assignments, deadletter and nurture must be distinct, non-empty topics");
    }
  });
  r.Int("batch_max_messages", k.batch_max_messages, 1, 100000);
  r.DurationMs("batch_max_wait_ms", k.batch_max_wait, 1, 60000);
  r.DurationMs("batch_linger_ms", k.batch_linger, 0, 60000);
  r.Int("max_event_bytes", k.max_event_bytes, 64, 64ll << 20);
  r.StringMap("consumer_properties", k.consumer_properties);
  r.StringMap("producer_properties", k.producer_properties);
  r.DurationMs("produce_timeout_ms", k.produce_timeout, 100, 600000);
  r.RejectUnknown();
  if (k.group_id.empty()) errors.Add(Join(r.path(), "group_id"), "must not be empty");
  CheckMessageSizes(k, r.path(), errors);
}

bool IsEnvironmentVariableName(const std::string& name) {
  if (name.empty() || std::isdigit(static_cast<unsigned char>(name[0]))) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
  });
}

// The secrets a file names, and whether a missing one is an error (LoadOptions).
class Secrets {
 public:
  Secrets(const LoadOptions& options, std::vector<SecretRef>& refs, Errors& errors)
      : options_(options), refs_(refs), errors_(errors) {}

  // Records the secret named by `field` (from `source`); when it is missing, reports `problem`
  // on `field` if secrets are required. Returns `present`.
  bool Record(const std::string& field, const std::string& source, bool present,
              const std::string& problem) {
    refs_.push_back({field, source, present});
    if (!present && options_.require_secrets) errors_.Add(field, problem);
    return present;
  }

 private:
  const LoadOptions& options_;
  std::vector<SecretRef>& refs_;
  Errors& errors_;
};

// What a `<name>_env` / `<name>_file` pair gave.
struct SecretRead {
  bool given = false;    // one of them is set (and well-formed)
  bool present = false;  // and the secret was there (then `out` holds it)
  std::string field;     // the field that named it, e.g. "dedupe.hmac_key_env"
};

// A secret named by `<name>_env` (an environment variable) or `<name>_file` (a file's first
// line, at most 4 KiB), never inline: an inline `<name>` is an error. Sets `source` ("env:NAME" /
// "file:PATH") when one is given and `out` when the secret is there; records it in `secrets`.
//
// With `read_value` false (a secret this process never uses: the daemon's view of sources[].auth,
// ingest's of the Redis password and the dedupe key) the reference is validated and `source`
// set, but the secret is neither read nor required.
SecretRead ReadSecret(MapReader& r, const std::string& name, std::string& out, std::string& source,
                      Secrets& secrets, Errors& errors, bool read_value = true) {
  std::string env_name, file_path;
  r.Field(name, [&](const YAML::Node&, const std::string& p) {
    errors.Add(p, absl::StrCat("secrets are never inline: use ", name, "_env (a variable name) or ",
                               name, "_file"));
  });
  const bool from_env = r.String(name + "_env", env_name);
  const bool from_file = r.String(name + "_file", file_path);
  SecretRead read;
  read.field = Join(r.path(), name + (from_file && !from_env ? "_file" : "_env"));
  if (from_env && from_file) {
    errors.Add(read.field, absl::StrCat("give ", name, "_env or ", name, "_file, not both"));
  } else if (from_env) {
    if (!IsEnvironmentVariableName(env_name)) {
      errors.Add(read.field, absl::StrCat("\"", env_name,
                                          "\" is not an environment variable name (letters, "
                                          "digits and _, not starting with a digit)"));
      return read;
    }
    read.given = true;
    source = "env:" + env_name;
    if (!read_value) return read;
    const char* value = std::getenv(env_name.c_str());
    if (value != nullptr) out = value;
    read.present = secrets.Record(read.field, env_name, value != nullptr,
                                  absl::StrCat("environment variable ", env_name, " is not set"));
  } else if (from_file) {
    if (file_path.empty()) {
      errors.Add(read.field, "must not be empty");
      return read;
    }
    read.given = true;
    source = "file:" + file_path;
    if (!read_value) return read;
    std::ifstream in(file_path, std::ios::binary);
    const bool opened = static_cast<bool>(in);
    if (opened) {
      // The first line, at most 4 KiB: a path to something endless (/dev/zero) is not a secret.
      constexpr std::streamsize kMaxSecretBytes = 4096;
      std::string line(kMaxSecretBytes, '\0');
      in.getline(line.data(), kMaxSecretBytes);
      if (in.fail() && !in.eof()) {
        errors.Add(read.field, absl::StrCat(file_path, ": first line longer than 4 KiB"));
      }
      line.resize(std::strlen(line.c_str()));
      out = line;
    }
    read.present =
        secrets.Record(read.field, file_path, opened, absl::StrCat("cannot read ", file_path));
  }
  return read;
}

void ParseRedis(MapReader& r, RedisConfig& rc, Secrets& secrets, Errors& errors, bool for_ingest) {
  r.String("host", rc.host);
  r.Int("port", rc.port, 1, 65535);
  ReadSecret(r, "password", rc.password, rc.password_source, secrets, errors, !for_ingest);
  r.String("tenant", rc.tenant);
  r.DurationMs("timeout_ms", rc.timeout, 1, 600000);
  int64_t ttl_s = rc.idempotency_ttl.count();
  r.Int("idempotency_ttl_s", ttl_s, 60, 10ll * 365 * 24 * 3600);
  rc.idempotency_ttl = std::chrono::seconds(ttl_s);
  r.RejectUnknown();
  if (rc.host.empty()) errors.Add(Join(r.path(), "host"), "must not be empty");
  if (!IsIdentifier(rc.tenant)) errors.Add(Join(r.path(), "tenant"), kIdentifierRule);
}

void ParseDedupe(MapReader& r, DedupeConfig& d, Secrets& secrets, Errors& errors, bool for_ingest) {
  d.enabled = true;
  r.Field("enabled", [&](const YAML::Node& n, const std::string& p) {
    if (!n.IsScalar() || (n.Scalar() != "true" && n.Scalar() != "false")) {
      return errors.Add(p, "must be true or false");
    }
    d.enabled = n.Scalar() == "true";
  });
  const SecretRead key =
      ReadSecret(r, "hmac_key", d.hmac_key, d.hmac_key_source, secrets, errors, !for_ingest);
  int64_t window_days = d.person_window.count() / 86400;
  r.Int("person_window_days", window_days, 1, 3650);
  d.person_window = std::chrono::seconds(window_days * 86400);
  int64_t idle_days = d.account_owner_idle.count() / 86400;
  r.Int("account_owner_idle_days", idle_days, 1, 3650);
  d.account_owner_idle = std::chrono::seconds(idle_days * 86400);
  r.String("default_phone_region", d.default_phone_region);
  r.Field("match_company_name", [&](const YAML::Node& n, const std::string& p) {
    if (!n.IsScalar() || (n.Scalar() != "true" && n.Scalar() != "false")) {
      return errors.Add(p, "must be true or false");
    }
    d.match_company_name = n.Scalar() == "true";
  });
  r.StringList("keep_plus_tags_domains", d.keep_plus_tags_domains);
  r.RejectUnknown();
  for (size_t i = 0; i < d.keep_plus_tags_domains.size(); ++i) {
    std::string& domain = d.keep_plus_tags_domains[i];
    domain = absl::AsciiStrToLower(domain);
    const std::string path = absl::StrCat(Join(r.path(), "keep_plus_tags_domains"), "[", i, "]");
    if (domain.empty() || domain.find_first_of("@ \t/:") != std::string::npos ||
        domain.find('.') == std::string::npos || domain.front() == '.') {
      errors.Add(path,
                 absl::StrCat("must be a mail domain such as example.com, got \"", domain, "\""));
    } else if (std::find(d.keep_plus_tags_domains.begin(), d.keep_plus_tags_domains.begin() + i,
                         domain) != d.keep_plus_tags_domains.begin() + i) {
      errors.Add(path, absl::StrCat("duplicate domain \"", domain, "\""));
    }
  }
  if (!d.enabled) return;
  if (!key.given && !r.Has("hmac_key_env") && !r.Has("hmac_key_file")) {
    errors.Add(Join(r.path(), "hmac_key_env"),
               "dedupe keys are HMACs under a secret: set hmac_key_env or hmac_key_file (or "
               "enabled: false)");
  } else if (key.present && d.hmac_key.size() < 16) {
    errors.Add(key.field, absl::StrCat("the key from ", d.hmac_key_source, " has ",
                                       d.hmac_key.size(), " bytes; use at least 16 random bytes"));
  }
  const std::string& region = d.default_phone_region;
  if (region.size() != 2 || !std::isupper(static_cast<unsigned char>(region[0])) ||
      !std::isupper(static_cast<unsigned char>(region[1]))) {
    errors.Add(Join(r.path(), "default_phone_region"),
               absl::StrCat("must be an ISO 3166-1 alpha-2 code in capitals (e.g. US, DE), got \"",
                            region, "\""));
  }
}

void ParseClaims(MapReader& r, ClaimsConfig& c, Errors& errors) {
  std::string policy = ClaimPolicyName(c.policy);
  r.String("policy", policy);
  bool known = false;
  for (auto candidate : {ClaimsConfig::Policy::kFirstClaimWins,
                         ClaimsConfig::Policy::kManagerDecides, ClaimsConfig::Policy::kShared}) {
    if (policy == ClaimPolicyName(candidate)) {
      c.policy = candidate;
      known = true;
    }
  }
  if (!known) {
    errors.Add(
        Join(r.path(), "policy"),
        absl::StrCat("must be first_claim_wins, manager_decides or shared, got \"", policy, "\""));
  }
  int64_t days = c.ownership.count() / 86400;
  r.Int("ownership_days", days, 1, 3650);
  c.ownership = std::chrono::seconds(days * 86400);
  r.Int("shared_percent", c.shared_percent, 1, 99);
  r.RejectUnknown();
}

// A condition: `field` plus exactly one operator key, and an optional `negate`.
// Reads the keys it knows into `c`; the caller's reader rejects the rest.
void ParseCondition(MapReader& r, qualify::Condition& c, Errors& errors) {
  r.String("field", c.field, /*required=*/true);
  int operators = 0;
  std::string scalar;
  if (r.String("equals", scalar)) {
    ++operators;
    c.op = qualify::Operator::kEquals;
    c.values = {scalar};
  }
  if (r.StringList("in", c.values)) {
    ++operators;
    c.op = qualify::Operator::kIn;
    if (c.values.empty()) errors.Add(Join(r.path(), "in"), "must list at least one value");
  }
  r.Field("between", [&](const YAML::Node& n, const std::string& p) {
    ++operators;
    c.op = qualify::Operator::kBetween;
    if (!n.IsSequence() || n.size() != 2) return errors.Add(p, "must be [low, high]");
    if (!r.ParseNumber(n[0], Index(p, 0), c.low) || !r.ParseNumber(n[1], Index(p, 1), c.high)) {
      return;
    }
    if (c.low > c.high) {
      errors.Add(p, absl::StrCat("lower bound ", n[0].Scalar(), " > upper bound ", n[1].Scalar()));
    }
  });
  if (r.Number("at_least", c.low)) {
    ++operators;
    c.op = qualify::Operator::kAtLeast;
  }
  if (r.String("matches", scalar)) {
    ++operators;
    c.op = qualify::Operator::kMatches;
    c.values = {scalar};
  }
  r.Field("exists", [&](const YAML::Node& n, const std::string& p) {
    ++operators;
    c.op = qualify::Operator::kExists;
    if (!n.IsScalar() || (n.Scalar() != "true" && n.Scalar() != "false")) {
      return errors.Add(p, "must be true or false");
    }
    if (n.Scalar() == "false") c.negate = !c.negate;
  });
  r.Field("negate", [&](const YAML::Node& n, const std::string& p) {
    if (!n.IsScalar() || (n.Scalar() != "true" && n.Scalar() != "false")) {
      return errors.Add(p, "must be true or false");
    }
    if (n.Scalar() == "true") c.negate = !c.negate;
  });
  if (operators != 1) {
    errors.Add(r.path(),
               absl::StrCat("needs exactly one of equals, in, between, at_least, matches, "
                            "exists; found ",
                            operators));
  }
}

void ParseThresholds(const YAML::Node& n, const std::string& p, qualify::Thresholds& t,
                     Errors& errors) {
  MapReader r(n, p, errors);
  r.Int("qualified", t.qualified, 0, 100);
  r.Int("nurture", t.nurture, 0, 100);
  r.RejectUnknown();
  if (t.nurture > t.qualified) {
    errors.Add(Join(p, "nurture"), absl::StrCat("nurture threshold ", t.nurture,
                                                " > qualified threshold ", t.qualified));
  }
}

void ParseQualification(MapReader& r, qualify::Profile& profile, Errors& errors) {
  r.StringList("extra_free_mail_domains", profile.extra_free_mail_domains);
  std::set<std::string> rule_names;
  auto name_rule = [&](MapReader& rule, std::string& name) {
    rule.String("name", name, /*required=*/true);
    if (!name.empty() && !rule_names.insert(name).second) {
      errors.Add(Join(rule.path(), "name"), absl::StrCat("duplicate rule name \"", name, "\""));
    }
  };
  auto each = [&](const std::string& list, const std::function<void(MapReader&)>& read) {
    r.Field(list, [&](const YAML::Node& n, const std::string& p) {
      if (!n.IsSequence()) return errors.Add(p, "must be a list");
      for (size_t i = 0; i < n.size(); ++i) {
        MapReader item(n[i], Index(p, i), errors);
        read(item);
        item.RejectUnknown();
      }
    });
  };
  each("requirements", [&](MapReader& item) {
    qualify::Requirement req;
    name_rule(item, req.name);
    ParseCondition(item, req.condition, errors);
    profile.requirements.push_back(std::move(req));
  });
  each("criteria", [&](MapReader& item) {
    qualify::Criterion crit;
    name_rule(item, crit.name);
    ParseCondition(item, crit.condition, errors);
    item.Int("points", crit.points, -100, 100);
    if (!item.Has("points")) errors.Add(Join(item.path(), "points"), "is required");
    profile.criteria.push_back(std::move(crit));
  });
  r.Field("thresholds", [&](const YAML::Node& n, const std::string& p) {
    ParseThresholds(n, p, profile.thresholds, errors);
  });
  r.Field("thresholds_by_source", [&](const YAML::Node& n, const std::string& p) {
    if (!n.IsMap()) return errors.Add(p, "must map a source kind to thresholds");
    for (const auto& kv : n) {
      const std::string kind = kv.first.as<std::string>();
      qualify::Thresholds t = profile.thresholds;
      ParseThresholds(kv.second, Join(p, kind), t, errors);
      profile.thresholds_by_source[kind] = t;
    }
  });
  each("segments", [&](MapReader& item) {
    qualify::Segment segment;
    item.String("name", segment.name, /*required=*/true);
    item.Field("all_of", [&](const YAML::Node& n, const std::string& p) {
      if (!n.IsSequence() || n.size() == 0)
        return errors.Add(p, "must be a non-empty list of conditions");
      for (size_t i = 0; i < n.size(); ++i) {
        MapReader cond(n[i], Index(p, i), errors);
        qualify::Condition c;
        ParseCondition(cond, c, errors);
        cond.RejectUnknown();
        segment.all_of.push_back(std::move(c));
      }
    });
    if (!item.Has("all_of")) errors.Add(Join(item.path(), "all_of"), "is required");
    profile.segments.push_back(std::move(segment));
  });
  r.RejectUnknown();
}

// "HH:MM" → minutes since midnight (24:00 allowed as the end of a day).
bool ParseClock(const std::string& text, int& minutes) {
  if (text.size() != 5 || text[2] != ':') return false;
  for (int i : {0, 1, 3, 4}) {
    if (text[i] < '0' || text[i] > '9') return false;
  }
  const int h = (text[0] - '0') * 10 + (text[1] - '0');
  const int m = (text[3] - '0') * 10 + (text[4] - '0');
  if (m > 59 || h > 24 || (h == 24 && m != 0)) return false;
  minutes = h * 60 + m;
  return true;
}

bool ParseInstant(const std::string& text, core::TimePoint& out) {
  absl::Time t;
  std::string error;
  if (!absl::ParseTime(absl::RFC3339_full, text, &t, &error)) return false;
  out = absl::ToChronoTime(t);
  return true;
}

void ParseRepRouting(MapReader& r, routing::RepProfile& rep, Errors& errors) {
  r.String("timezone", rep.timezone);
  r.Field("working_hours", [&](const YAML::Node& n, const std::string& p) {
    MapReader w(n, p, errors);
    routing::WorkingHours hours;
    std::vector<std::string> days;
    static const std::map<std::string, int> kDays = {{"mon", 0}, {"tue", 1}, {"wed", 2}, {"thu", 3},
                                                     {"fri", 4}, {"sat", 5}, {"sun", 6}};
    if (w.StringList("days", days)) {
      for (size_t i = 0; i < days.size(); ++i) {
        std::string day = days[i];
        for (char& c : day) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        auto it = kDays.find(day.substr(0, 3));
        if (it == kDays.end()) {
          errors.Add(Index(Join(p, "days"), i), absl::StrCat("not a weekday: \"", days[i], "\""));
        } else {
          hours.days.insert(it->second);
        }
      }
    } else if (!w.Has("days")) {
      hours.days = {0, 1, 2, 3, 4};
    }
    std::string start = "09:00", end = "17:00";
    w.String("start", start);
    w.String("end", end);
    if (!ParseClock(start, hours.start_minute)) errors.Add(Join(p, "start"), "must be HH:MM");
    if (!ParseClock(end, hours.end_minute)) errors.Add(Join(p, "end"), "must be HH:MM");
    w.RejectUnknown();
    rep.working_hours = hours;
  });
  r.Field("out_of_office", [&](const YAML::Node& n, const std::string& p) {
    if (!n.IsSequence()) return errors.Add(p, "must be a list of {from, to}");
    for (size_t i = 0; i < n.size(); ++i) {
      MapReader a(n[i], Index(p, i), errors);
      std::string from, to;
      a.String("from", from, /*required=*/true);
      a.String("to", to, /*required=*/true);
      a.RejectUnknown();
      if (from.empty() || to.empty()) continue;
      routing::Absence absence;
      if (!ParseInstant(from, absence.from)) {
        errors.Add(Join(a.path(), "from"), "must be an RFC 3339 time, e.g. 2026-12-24T00:00:00Z");
      } else if (!ParseInstant(to, absence.to)) {
        errors.Add(Join(a.path(), "to"), "must be an RFC 3339 time, e.g. 2026-12-24T00:00:00Z");
      } else if (absence.to <= absence.from) {
        errors.Add(Join(a.path(), "to"), "must be after from");
      } else {
        rep.out_of_office.push_back(absence);
      }
    }
  });
  r.Int("max_open_leads", rep.max_open_leads, 0, 1000000);
  r.Int("daily_cap", rep.daily_cap, 0, 1000000);
  std::vector<std::string> skills;
  r.StringList("skills", skills);
  rep.skills.insert(skills.begin(), skills.end());
}

void ParsePools(const YAML::Node& n, const std::string& p, routing::RoutingRules& rules,
                Errors& errors) {
  if (!n.IsSequence()) return errors.Add(p, "must be a list of pools");
  static const std::map<std::string, routing::Strategy> kStrategies = {
      {"weighted_round_robin", routing::Strategy::kWeightedRoundRobin},
      {"least_loaded", routing::Strategy::kLeastLoaded},
      {"conversion_weighted", routing::Strategy::kConversionWeighted}};
  for (size_t i = 0; i < n.size(); ++i) {
    MapReader r(n[i], Index(p, i), errors);
    routing::Pool pool;
    r.String("name", pool.name, /*required=*/true);
    if (pool.name.find(':') != std::string::npos) {
      // The pool's counters are stored as "pool:<name>:<counter>" and versioned by that prefix.
      errors.Add(Join(r.path(), "name"), "must not contain ':'");
    }
    std::string strategy = "weighted_round_robin";
    r.String("strategy", strategy);
    if (auto it = kStrategies.find(strategy); it != kStrategies.end()) {
      pool.strategy = it->second;
    } else {
      errors.Add(Join(r.path(), "strategy"),
                 absl::StrCat("must be weighted_round_robin, least_loaded or conversion_weighted, "
                              "got \"",
                              strategy, "\""));
    }
    r.Field("members", [&](const YAML::Node& m, const std::string& mp) {
      if (!m.IsSequence() || m.size() == 0) return errors.Add(mp, "must be a non-empty list");
      for (size_t j = 0; j < m.size(); ++j) {
        routing::PoolMember member;
        if (m[j].IsScalar()) {
          member.rep_id = m[j].Scalar();  // shorthand: weight 1
        } else {
          MapReader mr(m[j], Index(mp, j), errors);
          mr.String("rep", member.rep_id, /*required=*/true);
          mr.Int("weight", member.weight, 1, 1000);
          mr.RejectUnknown();
        }
        pool.members.push_back(std::move(member));
      }
    });
    if (!r.Has("members")) errors.Add(Join(r.path(), "members"), "is required");
    std::vector<std::string> skills;
    r.StringList("required_skills", skills);
    pool.required_skills.insert(skills.begin(), skills.end());
    r.String("overflow", pool.overflow_pool);
    r.RejectUnknown();
    rules.pools.push_back(std::move(pool));
  }
}

void ParseTerritories(const YAML::Node& n, const std::string& p, routing::RoutingRules& rules,
                      Errors& errors) {
  if (!n.IsSequence()) return errors.Add(p, "must be a list of territories");
  for (size_t i = 0; i < n.size(); ++i) {
    MapReader r(n[i], Index(p, i), errors);
    routing::Territory territory;
    r.String("name", territory.name, /*required=*/true);
    r.String("pool", territory.pool, /*required=*/true);
    r.Field("match", [&](const YAML::Node& m, const std::string& mp) {
      MapReader mr(m, mp, errors);
      routing::TerritoryMatch& match = territory.match;
      auto set = [&](const std::string& key, std::set<std::string>& out) {
        std::vector<std::string> values;
        mr.StringList(key, values);
        out.insert(values.begin(), values.end());
      };
      set("countries", match.countries);
      set("regions", match.regions);
      mr.StringList("postal_prefixes", match.postal_prefixes);
      set("industries", match.industries);
      set("segments", match.segments);
      set("source_kinds", match.source_kinds);
      set("domains", match.domains);
      auto bound = [&](const std::string& key, std::optional<int64_t>& out) {
        int64_t v = -1;
        mr.Int(key, v, 0, INT64_MAX);
        if (v >= 0) out = v;
      };
      bound("min_employees", match.min_employees);
      bound("max_employees", match.max_employees);
      bound("min_revenue_usd", match.min_revenue_usd);
      bound("max_revenue_usd", match.max_revenue_usd);
      mr.RejectUnknown();
      if (match.min_employees && match.max_employees &&
          *match.min_employees > *match.max_employees) {
        errors.Add(Join(mp, "max_employees"), "is below min_employees");
      }
      if (match.min_revenue_usd && match.max_revenue_usd &&
          *match.min_revenue_usd > *match.max_revenue_usd) {
        errors.Add(Join(mp, "max_revenue_usd"), "is below min_revenue_usd");
      }
    });
    r.RejectUnknown();
    rules.territories.push_back(std::move(territory));
  }
}

// ---- grpc.tls and grpc.auth ----

// PEM files and the tokens file are read whole, up to this size: a path to something endless
// (/dev/zero) or huge is refused rather than read.
constexpr size_t kMaxGrpcFileBytes = 1 << 20;

// Reads all of `path` (at most kMaxGrpcFileBytes) into `out`; false with `error` set if it
// cannot, `missing` telling whether it could not be opened at all.
bool ReadWholeFile(const std::string& path, std::string& out, std::string& error,
                   bool* missing = nullptr) {
  auto data = ReadBoundedFile("", path, kMaxGrpcFileBytes);
  if (missing != nullptr) *missing = absl::IsNotFound(data.status());
  if (!data.ok()) {
    error = absl::IsNotFound(data.status()) ? absl::StrCat("cannot read ", path)
                                            : std::string(data.status().message());
    return false;
  }
  out = *std::move(data);
  return true;
}

bool ReadBool(MapReader& r, const std::string& name, bool& out, Errors& errors) {
  bool present = false;
  r.Field(name, [&](const YAML::Node& n, const std::string& p) {
    if (!n.IsScalar() || (n.Scalar() != "true" && n.Scalar() != "false")) {
      return errors.Add(p, "must be true or false");
    }
    out = n.Scalar() == "true";
    present = true;
  });
  return present;
}

enum class PemKind { kCertificate, kPrivateKey };

// Reads the PEM file named by field `name` into `pem` (its path into `path`), checking that it
// looks like the kind of PEM expected. The contents are never part of a message.
// A private key is a secret: recorded in `secrets`, and with secrets not required a file that
// cannot be opened is only recorded as missing.
void ReadPemFile(MapReader& r, const std::string& name, PemKind kind, bool required,
                 std::string& path, std::string& pem, Secrets& secrets, Errors& errors) {
  if (!r.String(name, path, required) || path.empty()) return;
  const std::string field = Join(r.path(), name);
  std::string text, error;
  bool missing = false;
  const bool read = ReadWholeFile(path, text, error, &missing);
  if (kind == PemKind::kPrivateKey && (read || missing)) {
    if (!secrets.Record(field, path, read, error)) return;
  } else if (!read) {
    return errors.Add(field, error);
  }
  const size_t begin = text.find("-----BEGIN ");
  const size_t label_end = begin == std::string::npos ? begin : text.find("-----", begin + 11);
  const std::string label =
      label_end == std::string::npos ? "" : text.substr(begin + 11, label_end - (begin + 11));
  switch (kind) {
    case PemKind::kCertificate:
      if (text.find("-----BEGIN CERTIFICATE-----") == std::string::npos) {
        return errors.Add(field, absl::StrCat(path,
                                              " is not a PEM certificate (no "
                                              "\"-----BEGIN CERTIFICATE-----\")"));
      }
      break;
    case PemKind::kPrivateKey:
      if (label.size() < 11 || label.compare(label.size() - 11, 11, "PRIVATE KEY") != 0) {
        return errors.Add(field, absl::StrCat(path,
                                              " is not a PEM private key (no "
                                              "\"-----BEGIN ... PRIVATE KEY-----\")"));
      }
      if (text.find("ENCRYPTED") != std::string::npos) {
        return errors.Add(field, absl::StrCat(path,
                                              " is an encrypted key; gRPC needs it unencrypted "
                                              "(protect the file's permissions instead)"));
      }
      break;
  }
  pem = std::move(text);
}

void ParseGrpcTls(MapReader& r, GrpcTlsConfig& tls, Secrets& secrets, Errors& errors) {
  ReadPemFile(r, "cert_file", PemKind::kCertificate, /*required=*/true, tls.cert_file, tls.cert_pem,
              secrets, errors);
  ReadPemFile(r, "key_file", PemKind::kPrivateKey, /*required=*/true, tls.key_file, tls.key_pem,
              secrets, errors);
  ReadPemFile(r, "client_ca_file", PemKind::kCertificate, /*required=*/false, tls.client_ca_file,
              tls.client_ca_pem, secrets, errors);
  ReadBool(r, "require_client_cert", tls.require_client_cert, errors);
  r.RejectUnknown();
  if (tls.require_client_cert && tls.client_ca_file.empty()) {
    errors.Add(Join(r.path(), "require_client_cert"),
               "needs client_ca_file (the CA that signs the clients' certificates)");
  }
}

// A bearer token travels in an HTTP/2 header: printable ASCII without spaces.
bool IsTokenText(const std::string& token) {
  for (char c : token) {
    if (c < 0x21 || c > 0x7e) return false;
  }
  return true;
}

// The tokens file (a secret): `tokens: [{name, token, scopes, reps, pools}, ...]`. Errors are
// reported on `field` (grpc.auth.tokens_file) with the path inside the file; never a token.
// Every entry is kept, valid or not, so tokens[i] is the i-th entry of the file.
void ParseTokensFile(const std::string& file, const std::string& field, GrpcAuthConfig& auth,
                     Secrets& secrets, Errors& errors) {
  std::string text, error;
  bool missing = false;
  const bool read = ReadWholeFile(file, text, error, &missing);
  if (read || missing) {
    if (!secrets.Record(field, file, read, error)) return;
  } else {
    return errors.Add(field, error);
  }
  static const std::set<std::string> kScopes = {"stream", "act", "admin"};
  try {
    const absl::Status scanned =
        ScanYaml(text, YamlLimits{}, [&](const std::string& path, const std::string& message) {
          errors.Add(field, absl::StrCat(path, ": ", message));
        });
    if (!scanned.ok()) return errors.Add(field, absl::StrCat(file, ": ", scanned.message()));
    const YAML::Node root = YAML::Load(text);
    if (!root.IsMap()) {
      return errors.Add(field, absl::StrCat(file,
                                            " must be a mapping: tokens: [{name, token, "
                                            "scopes, reps, pools}, ...]"));
    }
    for (const auto& kv : root) {
      const std::string key = kv.first.as<std::string>();
      if (key != "tokens") errors.Add(field, absl::StrCat(key, ": unknown field (known: tokens)"));
    }
    const YAML::Node list = root["tokens"];
    if (!list || list.IsNull() || (list.IsSequence() && list.size() == 0)) {
      return errors.Add(field,
                        "tokens: at least one token is required (without tokens, leave out "
                        "grpc.auth)");
    }
    if (!list.IsSequence()) return errors.Add(field, "tokens: must be a list of tokens");
    const std::string base = absl::StrCat(field, ": tokens");
    std::map<std::string, size_t> names;
    std::map<std::string, size_t> secrets;
    for (size_t i = 0; i < list.size(); ++i) {
      MapReader t(list[i], Index(base, i), errors);
      GrpcToken token;
      t.String("name", token.name, /*required=*/true);
      t.String("token", token.token, /*required=*/true);
      std::vector<std::string> scopes;
      t.StringList("scopes", scopes);
      t.StringList("reps", token.reps);
      t.StringList("pools", token.pools);
      t.RejectUnknown();
      if (!token.name.empty()) {
        if (!IsIdentifier(token.name)) {
          errors.Add(Join(t.path(), "name"), kIdentifierRule);
        } else if (auto [it, fresh] = names.emplace(token.name, i); !fresh) {
          errors.Add(Join(t.path(), "name"), absl::StrCat("duplicate token name \"", token.name,
                                                          "\" (also tokens[", it->second, "])"));
        }
      }
      if (!token.token.empty()) {
        if (token.token.size() < 16 || !IsTokenText(token.token)) {
          errors.Add(Join(t.path(), "token"),
                     absl::StrCat("must be at least 16 printable ASCII characters without "
                                  "spaces (got ",
                                  token.token.size(), " bytes); use e.g. `openssl rand -hex 32`"));
        } else if (auto [it, fresh] = secrets.emplace(token.token, i); !fresh) {
          errors.Add(Join(t.path(), "token"), absl::StrCat("the same secret as tokens[", it->second,
                                                           "]: every caller gets its own token"));
        }
      }
      for (size_t j = 0; j < scopes.size(); ++j) {
        if (!kScopes.count(scopes[j])) {
          errors.Add(Index(Join(t.path(), "scopes"), j),
                     absl::StrCat("unknown scope \"", scopes[j], "\" (known: stream, act, admin)"));
          continue;
        }
        bool repeated = false;  // harmless: kept once
        for (const std::string& scope : token.scopes) repeated = repeated || scope == scopes[j];
        if (!repeated) token.scopes.push_back(scopes[j]);
      }
      if (!t.Has("scopes")) {
        errors.Add(Join(t.path(), "scopes"), "is required: a list of stream, act, admin");
      } else if (scopes.empty() && list[i]["scopes"].IsSequence()) {
        errors.Add(Join(t.path(), "scopes"), "must list at least one of stream, act, admin");
      }
      auth.tokens.push_back(std::move(token));
    }
  } catch (const YAML::Exception& e) {
    errors.Add(field, absl::StrCat(file, ": line ", e.mark.line + 1, ", column ", e.mark.column + 1,
                                   ": ", e.msg));
  }
}

void ParseGrpcAuth(MapReader& r, GrpcAuthConfig& auth, Secrets& secrets, Errors& errors) {
  r.Field("tokens", [&](const YAML::Node&, const std::string& p) {
    errors.Add(p, "tokens are secrets, never inline: list them in the file named by tokens_file");
  });
  r.String("tokens_file", auth.tokens_file, /*required=*/true);
  r.RejectUnknown();
  if (!auth.tokens_file.empty()) {
    ParseTokensFile(auth.tokens_file, Join(r.path(), "tokens_file"), auth, secrets, errors);
  }
}

// Only these hosts keep the API on this machine; anything else is reachable from elsewhere.
bool IsLoopbackListen(const std::string& listen) {
  const std::string host = listen.substr(0, listen.rfind(':'));
  return host == "127.0.0.1" || host == "::1" || host == "[::1]" || host == "localhost";
}

// A listener reachable from other hosts must authenticate callers over TLS, unless the
// operator says otherwise explicitly.
void CheckGrpcExposure(const GrpcConfig& grpc, bool has_tls, bool has_auth, const std::string& p,
                       Errors& errors) {
  if (grpc.allow_insecure || (has_tls && has_auth) || IsLoopbackListen(grpc.listen)) return;
  const auto colon = grpc.listen.rfind(':');
  if (colon == std::string::npos || colon == 0) return;  // already refused as not host:port
  std::vector<std::string> missing;
  if (!has_tls) missing.push_back(Join(p, "tls"));
  if (!has_auth) missing.push_back(Join(p, "auth"));
  errors.Add(Join(p, "listen"),
             absl::StrCat("\"", grpc.listen, "\" is reachable from other hosts but ",
                          absl::StrJoin(missing, " and "), missing.size() > 1 ? " are" : " is",
                          " not configured: anyone who can connect could stream every assignment "
                          "and act for every rep. Configure grpc.tls and grpc.auth, listen on "
                          "127.0.0.1, or set grpc.allow_insecure: true (e.g. behind a mesh that "
                          "terminates mTLS and authorizes callers)"));
}

// A token's reps and pools must exist in this config (after reps and pools are parsed).
void CheckTokenGrants(const Config& cfg, Errors& errors) {
  std::set<std::string> reps, pools;
  for (const auto& rep : cfg.reps) reps.insert(rep.id);
  for (const auto& pool : cfg.routing.pools) pools.insert(pool.name);
  const std::string base = "grpc.auth.tokens_file: tokens";
  for (size_t i = 0; i < cfg.grpc.auth.tokens.size(); ++i) {
    const GrpcToken& token = cfg.grpc.auth.tokens[i];
    for (size_t j = 0; j < token.reps.size(); ++j) {
      if (!reps.count(token.reps[j])) {
        errors.Add(Index(Index(base, i) + ".reps", j),
                   absl::StrCat("unknown rep \"", token.reps[j], "\" (not in reps)"));
      }
    }
    for (size_t j = 0; j < token.pools.size(); ++j) {
      if (!pools.count(token.pools[j])) {
        errors.Add(Index(Index(base, i) + ".pools", j),
                   absl::StrCat("unknown pool \"", token.pools[j], "\" (not in pools)"));
      }
    }
  }
}

constexpr size_t kMaxMappingFileBytes = 1 << 20;

// `sources[].auth`: how leadrouter-ingest checks the source's deliveries. The secret is read
// only for leadrouter-ingest (LoadOptions::for_ingest); the daemon validates the reference.
void ParseSourceAuth(MapReader& r, SourceAuth& auth, Secrets& secrets, const LoadOptions& options,
                     Errors& errors) {
  const std::string& p = r.path();
  std::string kind;
  r.String("kind", kind, /*required=*/true);
  bool known = kind.empty();
  for (const auto candidate :
       {SourceAuth::Kind::kNone, SourceAuth::Kind::kHubSpotSignature, SourceAuth::Kind::kBearer,
        SourceAuth::Kind::kBasic, SourceAuth::Kind::kHeader}) {
    if (kind == SourceAuthKindName(candidate)) {
      auth.kind = candidate;
      known = true;
    }
  }
  if (!known) {
    errors.Add(Join(p, "kind"),
               absl::StrCat("must be none, hubspot_signature, bearer, basic or header, got \"",
                            kind, "\""));
  }
  r.String("username", auth.username);
  r.String("header", auth.header);
  const bool wants_secret = auth.kind != SourceAuth::Kind::kNone && known && !kind.empty();
  const bool secret_given =
      ReadSecret(r, "secret", auth.secret, auth.secret_source, secrets, errors, options.for_ingest)
          .given;
  r.RejectUnknown();
  if (wants_secret && !secret_given) {
    errors.Add(Join(p, "secret_env"),
               absl::StrCat("kind ", kind, " needs a secret: secret_env or secret_file"));
  }
  if (!wants_secret && secret_given && auth.kind == SourceAuth::Kind::kNone) {
    errors.Add(Join(p, "secret_env"), "kind none takes no secret");
  }
  if (auth.kind == SourceAuth::Kind::kBasic && auth.username.empty()) {
    errors.Add(Join(p, "username"), "is required for kind basic");
  }
  if (auth.kind != SourceAuth::Kind::kBasic && !auth.username.empty()) {
    errors.Add(Join(p, "username"), "only kind basic takes a username");
  }
  if (auth.kind == SourceAuth::Kind::kHeader) {
    if (auth.header.empty()) {
      errors.Add(Join(p, "header"), "is required for kind header (e.g. X-Leadrouter-Token)");
    } else if (!std::all_of(auth.header.begin(), auth.header.end(),
                            [](char c) {
                              return absl::ascii_isalnum(static_cast<unsigned char>(c)) ||
                                     c == '-' || c == '_';
                            }) ||
               absl::EqualsIgnoreCase(auth.header, "authorization")) {
      errors.Add(Join(p, "header"),
                 "must be a header name of letters, digits, - and _ other than Authorization "
                 "(use kind bearer or basic)");
    }
  } else if (!auth.header.empty()) {
    errors.Add(Join(p, "header"), "only kind header takes a header");
  }
}

// `sources[].enrich`: the API the daemon fetches an enriching source's objects from. Its token is
// read by the daemon (and `leadrouter map`), never by leadrouter-ingest, which stores records
// as they arrive.
void ParseSourceEnrich(MapReader& r, SourceEnrich& enrich, Secrets& secrets,
                       const LoadOptions& options, Errors& errors) {
  const std::string& p = r.path();
  enrich.configured = true;
  r.String("api_base_url", enrich.api_base_url);
  r.DurationMs("timeout_ms", enrich.timeout, 1, 120000);
  int64_t attempts = enrich.max_attempts;
  r.Int("max_attempts", attempts, 1, 10);
  enrich.max_attempts = static_cast<int>(attempts);
  r.DurationMs("max_retry_after_ms", enrich.max_retry_after, 0, 60000);
  const bool token_given = ReadSecret(r, "token", enrich.token, enrich.token_source, secrets,
                                      errors, !options.for_ingest)
                               .given;
  r.RejectUnknown();
  if (!token_given) {
    errors.Add(Join(p, "token_env"), "is required: token_env or token_file (the API token)");
  }
  while (enrich.api_base_url.size() > 1 && enrich.api_base_url.back() == '/') {
    enrich.api_base_url.pop_back();
  }
  const std::string& url = enrich.api_base_url;
  const bool scheme = absl::StartsWith(url, "https://") || absl::StartsWith(url, "http://");
  const std::string_view rest = std::string_view(url).substr(scheme ? url.find("//") + 2 : 0);
  if (!scheme || rest.empty() || rest.front() == '/' ||
      std::any_of(url.begin(), url.end(),
                  [](unsigned char c) { return c <= ' ' || c == '?' || c == '#' || c >= 0x7f; })) {
    errors.Add(Join(p, "api_base_url"),
               absl::StrCat("\"", url, "\" is not an http(s)://host[:port][/path] URL"));
  }
}

void ParseSource(MapReader& r, SourceConfig& source, Secrets& secrets,
                 const LoadOptions& load_options, Errors& errors) {
  const std::string& p = r.path();
  r.String("name", source.name, /*required=*/true);
  if (!source.name.empty() && !IsIdentifier(source.name))
    errors.Add(Join(p, "name"), kIdentifierRule);
  const bool has_profile = r.String("profile", source.profile);
  r.String("mapping_file", source.mapping_file);
  std::string inline_text;
  r.Field("mapping", [&](const YAML::Node& n, const std::string&) {
    YAML::Emitter emitter;
    emitter << n;
    inline_text = emitter.c_str();
    source.inline_mapping = true;
  });
  r.String("topic", source.topic);
  r.Field("options", [&](const YAML::Node& n, const std::string& op) {
    if (!n.IsMap()) return errors.Add(op, "must be a mapping of option name to a list of values");
    MapReader options(n, op, errors);
    for (const auto& kv : n) {
      const std::string name = kv.first.as<std::string>();
      options.StringList(name, source.options[name]);
    }
  });
  r.Field("auth", [&](const YAML::Node& n, const std::string& ap) {
    MapReader a(n, ap, errors);
    ParseSourceAuth(a, source.auth, secrets, load_options, errors);
  });
  r.Field("enrich", [&](const YAML::Node& n, const std::string& ep) {
    if (!n.IsMap()) return errors.Add(ep, "must be a mapping {api_base_url, token_env, ...}");
    MapReader e(n, ep, errors);
    ParseSourceEnrich(e, source.enrich, secrets, load_options, errors);
  });
  r.RejectUnknown();

  const int given =
      int(has_profile) + int(!source.mapping_file.empty()) + int(source.inline_mapping);
  if (given > 1) {
    return errors.Add(p, "give one of profile, mapping_file and mapping");
  }
  std::string text;
  std::string where;
  if (source.inline_mapping) {
    text = inline_text;
    where = Join(p, "mapping");
  } else if (!source.mapping_file.empty()) {
    auto read = ReadBoundedFile("mapping file", source.mapping_file, kMaxMappingFileBytes);
    if (!read.ok())
      return errors.Add(Join(p, "mapping_file"), std::string(read.status().message()));
    text = *std::move(read);
    where = Join(p, "mapping_file");
  } else {
    if (source.profile.empty()) source.profile = "leadevent";
    if (source.profile == "leadevent") {
      if (!source.options.empty()) {
        errors.Add(Join(p, "options"), "the leadevent profile takes no options");
      }
      if (source.enrich.configured) {
        errors.Add(Join(p, "enrich"), "the leadevent profile fetches nothing (it has no enrich)");
      }
      return;
    }
    auto shipped = sources::ShippedProfileText(source.profile);
    if (!shipped) {
      std::vector<std::string> names;
      for (std::string_view name : sources::ShippedProfileNames()) names.emplace_back(name);
      return errors.Add(Join(p, "profile"),
                        absl::StrCat("unknown profile \"", source.profile,
                                     "\" (shipped: ", absl::StrJoin(names, ", "), ")"));
    }
    text = std::string(*shipped);
    where = absl::StrCat(Join(p, "profile"), "(", source.profile, ")");
  }
  auto compiled = sources::Mapping::Parse(text, where);
  if (!compiled.ok()) {
    // The mapping's own lines already carry their paths; each becomes one config error.
    for (absl::string_view line : absl::StrSplit(compiled.status().message(), '\n')) {
      const size_t colon = line.find(": ");
      errors.Add(std::string(line.substr(0, colon)), colon == absl::string_view::npos
                                                         ? "invalid mapping"
                                                         : std::string(line.substr(colon + 2)));
    }
    return;
  }
  auto with_options = (*compiled)->WithOptions(source.options, Join(p, "options"));
  if (!with_options.ok()) {
    for (absl::string_view line : absl::StrSplit(with_options.status().message(), '\n')) {
      const size_t colon = line.find(": ");
      errors.Add(std::string(line.substr(0, colon)), std::string(line.substr(colon + 2)));
    }
    return;
  }
  source.mapping = *std::move(with_options);
  const bool enriches = !source.mapping->enrich_kind().empty();
  if (enriches && !source.enrich.configured) {
    errors.Add(Join(p, "enrich"),
               absl::StrCat("the mapping fetches each record's ",
                            std::string(source.mapping->enrich_kind()),
                            ": give enrich.token_env or enrich.token_file (a HubSpot private "
                            "app's access token) and, for a test server, enrich.api_base_url"));
  } else if (!enriches && source.enrich.configured) {
    errors.Add(Join(p, "enrich"), "the source's mapping fetches nothing (it has no enrich)");
  }
}

void ParseSources(const YAML::Node& n, const std::string& p, Config& cfg, Secrets& secrets,
                  const LoadOptions& options, Errors& errors) {
  if (!n.IsSequence()) return errors.Add(p, "must be a list of sources");
  std::set<std::string> names;
  std::set<std::string> topics;
  const std::set<std::string> outputs{cfg.kafka.topics.assignments, cfg.kafka.topics.deadletter,
                                      cfg.kafka.topics.nurture};
  for (size_t i = 0; i < n.size(); ++i) {
    const std::string ip = Index(p, i);
    MapReader r(n[i], ip, errors);
    SourceConfig source;
    ParseSource(r, source, secrets, options, errors);
    if (!source.name.empty() && !names.insert(source.name).second) {
      errors.Add(Join(ip, "name"), absl::StrCat("duplicate source name \"", source.name, "\""));
    }
    if (!source.topic.empty()) {
      if (outputs.count(source.topic)) {
        errors.Add(Join(ip, "topic"),
                   "must not be an output topic (assignments, deadletter, nurture)");
      } else if (!topics.insert(source.topic).second) {
        errors.Add(Join(ip, "topic"),
                   absl::StrCat("another source reads topic \"", source.topic, "\""));
      }
    }
    cfg.sources.push_back(std::move(source));
  }
}

// `ingest.http`: leadrouter-ingest's listener and limits.
void ParseIngestHttp(MapReader& r, IngestHttpConfig& h, const LoadOptions& options,
                     Errors& errors) {
  const std::string& p = r.path();
  r.String("listen", h.listen);
  r.String("metrics_listen", h.metrics_listen);
  ReadBool(r, "allow_insecure", h.allow_insecure, errors);
  r.Field("tls", [&](const YAML::Node& tn, const std::string& tp) {
    MapReader t(tn, tp, errors);
    t.String("cert_file", h.tls_cert_file, /*required=*/true);
    t.String("key_file", h.tls_key_file, /*required=*/true);
    t.RejectUnknown();
    if (!options.for_ingest) return;
    // Read now, so a missing file is a config error naming the field, not a failed start.
    for (const auto& [field, file] :
         {std::pair<const char*, const std::string*>{"cert_file", &h.tls_cert_file},
          {"key_file", &h.tls_key_file}}) {
      if (file->empty()) continue;
      std::ifstream in(*file);
      if (!in) errors.Add(Join(tp, field), absl::StrCat("cannot read ", *file));
    }
  });
  r.String("public_url", h.public_url);
  int64_t max_body = static_cast<int64_t>(h.max_body_bytes);
  r.Int("max_body_bytes", max_body, 1024, 64 << 20);
  h.max_body_bytes = static_cast<size_t>(max_body);
  r.Int("max_records_per_request", h.max_records_per_request, 1,
        static_cast<int64_t>(sources::Mapping::kMaxEventsPerRecord));
  r.DurationMs("request_timeout_ms", h.request_timeout, 100, 600000);
  r.Int("max_concurrent_requests", h.max_concurrent_requests, 1, 10000);
  r.Int("worker_threads", h.worker_threads, 2, 4096);
  int64_t age_s = h.max_signature_age.count();
  r.Int("max_signature_age_s", age_s, 1, 86400);
  h.max_signature_age = std::chrono::seconds(age_s);
  int64_t retry_s = h.retry_after.count();
  r.Int("retry_after_s", retry_s, 1, 3600);
  h.retry_after = std::chrono::seconds(retry_s);
  r.RejectUnknown();
  CheckHostPort(errors, Join(p, "listen"), h.listen);
  CheckHostPort(errors, Join(p, "metrics_listen"), h.metrics_listen);
  if (!h.public_url.empty() && !absl::StartsWith(h.public_url, "https://") &&
      !absl::StartsWith(h.public_url, "http://")) {
    errors.Add(Join(p, "public_url"), "must start with https:// or http://");
  }
  if (h.worker_threads < h.max_concurrent_requests) {
    errors.Add(Join(p, "worker_threads"),
               "must be at least max_concurrent_requests (each request holds a worker)");
  }
  const auto colon = h.listen.rfind(':');
  if (!h.allow_insecure && h.tls_cert_file.empty() && colon != std::string::npos && colon != 0 &&
      !IsLoopbackListen(h.listen)) {
    errors.Add(Join(p, "listen"),
               absl::StrCat("\"", h.listen,
                            "\" is reachable from other hosts but ingest.http.tls is not "
                            "configured: deliveries and their secrets would cross the network "
                            "in clear. Configure ingest.http.tls, listen on 127.0.0.1, or set "
                            "ingest.http.allow_insecure: true (behind an ingress that terminates "
                            "TLS)"));
  }
}

Config ParseRoot(const YAML::Node& root, const LoadOptions& options, Errors& errors) {
  Config cfg;
  Secrets secrets(options, cfg.secrets, errors);
  MapReader top(root, "", errors);
  top.Field("kafka", [&](const YAML::Node& n, const std::string& p) {
    MapReader r(n, p, errors);
    ParseKafka(r, cfg.kafka, errors);
  });
  if (!top.Has("kafka")) errors.Add("kafka", "is required");

  top.Field("redis", [&](const YAML::Node& n, const std::string& p) {
    MapReader r(n, p, errors);
    ParseRedis(r, cfg.redis, secrets, errors, options.for_ingest);
  });

  top.Field("ingest", [&](const YAML::Node& n, const std::string& p) {
    MapReader r(n, p, errors);
    std::string policy = UnknownFieldsName(cfg.ingest.unknown_fields);
    r.String("unknown_fields", policy);
    bool known = false;
    for (const auto candidate : {lead::UnknownFields::kIgnore, lead::UnknownFields::kAttributes,
                                 lead::UnknownFields::kReject}) {
      if (policy == UnknownFieldsName(candidate)) {
        cfg.ingest.unknown_fields = candidate;
        known = true;
      }
    }
    if (!known) {
      errors.Add(Join(p, "unknown_fields"),
                 absl::StrCat("must be ignore, attributes or reject, got \"", policy, "\""));
    }
    r.Field("http", [&](const YAML::Node& hn, const std::string& hp) {
      MapReader h(hn, hp, errors);
      ParseIngestHttp(h, cfg.ingest.http, options, errors);
    });
    r.RejectUnknown();
  });

  top.Field("dedupe", [&](const YAML::Node& n, const std::string& p) {
    MapReader r(n, p, errors);
    ParseDedupe(r, cfg.dedupe, secrets, errors, options.for_ingest);
  });
  if (cfg.dedupe.enabled && cfg.dedupe.person_window > cfg.redis.idempotency_ttl) {
    errors.Add("dedupe.person_window_days",
               absl::StrCat("the window (", cfg.dedupe.person_window.count() / 86400,
                            " days) outlasts the stored leads it points at "
                            "(redis.idempotency_ttl_s = ",
                            cfg.redis.idempotency_ttl.count(), "); raise idempotency_ttl_s"));
  }

  top.Field("grpc", [&](const YAML::Node& n, const std::string& p) {
    MapReader r(n, p, errors);
    r.String("listen", cfg.grpc.listen);
    r.Int("subscriber_queue_limit", cfg.grpc.subscriber_queue_limit, 1, 10000000);
    const bool has_tls = r.Has("tls");
    r.Field("tls", [&](const YAML::Node& tn, const std::string& tp) {
      MapReader t(tn, tp, errors);
      ParseGrpcTls(t, cfg.grpc.tls, secrets, errors);
    });
    const bool has_auth = r.Has("auth");
    r.Field("auth", [&](const YAML::Node& an, const std::string& ap) {
      MapReader a(an, ap, errors);
      ParseGrpcAuth(a, cfg.grpc.auth, secrets, errors);
    });
    ReadBool(r, "allow_insecure", cfg.grpc.allow_insecure, errors);
    r.RejectUnknown();
    CheckHostPort(errors, Join(p, "listen"), cfg.grpc.listen);
    CheckGrpcExposure(cfg.grpc, has_tls, has_auth, p, errors);
  });

  top.Field("lifecycle", [&](const YAML::Node& n, const std::string& p) {
    MapReader r(n, p, errors);
    LifecycleConfig& l = cfg.lifecycle;
    int64_t sla_s = l.accept_sla.count();
    r.Int("accept_sla_s", sla_s, 0, 30ll * 24 * 3600);
    l.accept_sla = std::chrono::seconds(sla_s);
    r.Field("pool_accept_sla_s", [&](const YAML::Node& m, const std::string& mp) {
      if (!m.IsMap()) return errors.Add(mp, "must be a mapping of pool name to seconds");
      MapReader pools(m, mp, errors);
      for (const auto& kv : m) {
        const std::string pool = kv.first.as<std::string>();
        int64_t v = -1;
        pools.Int(pool, v, 0, 30ll * 24 * 3600);
        if (v >= 0) l.pool_accept_sla[pool] = std::chrono::seconds(v);
      }
    });
    r.Int("max_attempts", l.max_attempts, 1, 100);
    r.Int("stream_retention_events", l.stream_retention_events, 100, 100000000);
    r.RejectUnknown();
  });

  top.Field("shutdown", [&](const YAML::Node& n, const std::string& p) {
    MapReader r(n, p, errors);
    ParseShutdown(r, cfg.shutdown, errors);
  });

  top.Field("outbox", [&](const YAML::Node& n, const std::string& p) {
    MapReader r(n, p, errors);
    r.DurationMs("lease_ms", cfg.outbox.lease, 1000, 60000);
    r.Int("batch_max_messages", cfg.outbox.batch_max_messages, 1, 10000);
    r.RejectUnknown();
  });

  top.Field("claims", [&](const YAML::Node& n, const std::string& p) {
    MapReader r(n, p, errors);
    ParseClaims(r, cfg.claims, errors);
    if (!cfg.dedupe.enabled) {
      errors.Add(p, "claims need the dedupe section (an account is matched by its domain key)");
    }
  });

  top.Field("console", [&](const YAML::Node& n, const std::string& p) {
    MapReader r(n, p, errors);
    r.String("listen", cfg.console.listen);
    r.Int("max_live_streams", cfg.console.max_live_streams, 1, 64);
    r.RejectUnknown();
    if (cfg.console.listen.empty()) return;
    CheckHostPort(errors, Join(p, "listen"), cfg.console.listen);
    const auto colon = cfg.console.listen.rfind(':');
    if (cfg.grpc.allow_insecure || IsLoopbackListen(cfg.console.listen) ||
        colon == std::string::npos || colon == 0 ||
        (cfg.grpc.tls.enabled() && cfg.grpc.auth.enabled())) {
      return;
    }
    errors.Add(Join(p, "listen"),
               absl::StrCat("\"", cfg.console.listen,
                            "\" is reachable from other hosts but the console would serve it ",
                            cfg.grpc.tls.enabled() ? "" : "without TLS ",
                            cfg.grpc.auth.enabled() ? "" : "without tokens ",
                            "(it uses grpc.tls and grpc.auth): configure both, listen on "
                            "127.0.0.1, or set grpc.allow_insecure: true"));
  });

  top.Field("metrics", [&](const YAML::Node& n, const std::string& p) {
    MapReader r(n, p, errors);
    r.String("listen", cfg.metrics.listen);
    r.StringList("campaigns", cfg.metrics.campaigns);
    r.RejectUnknown();
    CheckHostPort(errors, Join(p, "listen"), cfg.metrics.listen);
  });

  std::string default_pool = "default";
  const bool has_pool = top.String("pool", default_pool);
  if (!IsIdentifier(default_pool)) errors.Add("pool", kIdentifierRule);
  top.Field("pools", [&](const YAML::Node& n, const std::string& p) {
    if (has_pool) errors.Add("pool", "give either pool (one pool of every rep) or pools, not both");
    ParsePools(n, p, cfg.routing, errors);
  });
  top.Field("territories", [&](const YAML::Node& n, const std::string& p) {
    ParseTerritories(n, p, cfg.routing, errors);
  });
  std::string order = "first_match";
  top.String("territory_order", order);
  if (order == "most_specific") {
    cfg.routing.order = routing::TerritoryOrder::kMostSpecific;
  } else if (order != "first_match") {
    errors.Add("territory_order",
               absl::StrCat("must be first_match or most_specific, got \"", order, "\""));
  }

  top.Field("reps", [&](const YAML::Node& n, const std::string& p) {
    if (!n.IsSequence()) return errors.Add(p, "must be a list of reps");
    std::set<std::string> ids;
    for (size_t i = 0; i < n.size(); ++i) {
      const std::string ip = Index(p, i);
      MapReader r(n[i], ip, errors);
      RepConfig rep;
      r.String("id", rep.id, /*required=*/true);
      r.String("name", rep.name);
      if (r.String("crm_user_id", rep.crm_user_id) &&
          (rep.crm_user_id.empty() || rep.crm_user_id.size() > 128 ||
           !IsTokenText(rep.crm_user_id))) {
        errors.Add(Join(ip, "crm_user_id"),
                   "must be 1..128 printable ASCII characters without spaces (the rep's user id "
                   "in the CRM)");
      }
      routing::RepProfile profile;
      ParseRepRouting(r, profile, errors);
      r.RejectUnknown();
      profile.id = rep.id;
      cfg.routing.reps.push_back(std::move(profile));
      if (!rep.id.empty() && !IsIdentifier(rep.id)) errors.Add(Join(ip, "id"), kIdentifierRule);
      if (!rep.id.empty() && !ids.insert(rep.id).second) {
        errors.Add(Join(ip, "id"), absl::StrCat("duplicate rep id \"", rep.id, "\""));
      }
      cfg.reps.push_back(std::move(rep));
    }
  });
  if (!top.Has("reps") || cfg.reps.empty()) errors.Add("reps", "at least one rep is required");
  if (cfg.routing.pools.empty()) {
    routing::Pool pool;
    pool.name = default_pool;
    for (const auto& rep : cfg.reps) pool.members.push_back({rep.id, 1});
    cfg.routing.pools.push_back(std::move(pool));
  }
  CheckTokenGrants(cfg, errors);

  for (const auto& entry : cfg.lifecycle.pool_accept_sla) {
    const std::string& pool = entry.first;  // a plain name: lambdas may not capture bindings
    const bool known = std::any_of(cfg.routing.pools.begin(), cfg.routing.pools.end(),
                                   [&pool](const routing::Pool& p) { return p.name == pool; });
    if (!known) {
      errors.Add(Join("lifecycle.pool_accept_sla_s", pool), "no pool of that name");
    }
  }

  top.Field("qualification", [&](const YAML::Node& n, const std::string& p) {
    MapReader r(n, p, errors);
    ParseQualification(r, cfg.qualification, errors);
  });
  top.Field("sources", [&](const YAML::Node& n, const std::string& p) {
    ParseSources(n, p, cfg, secrets, options, errors);
  });
  top.RejectUnknown();

  // Semantic checks of the profile (field names, regexes, source kinds) belong to the engine
  // that runs it; its messages name the rule, the prefix names the section.
  if (errors.empty()) {
    auto engine = routing::Engine::Create(cfg.routing);
    if (!engine.ok()) {
      errors.Add("routing", std::string(engine.status().message()));
    } else {
      cfg.engine = *std::move(engine);
    }
    auto qualifier = qualify::Qualifier::Create(cfg.qualification);
    if (!qualifier.ok()) {
      errors.Add("qualification", std::string(qualifier.status().message()));
    } else {
      cfg.qualifier = *std::move(qualifier);
    }
  }
  return cfg;
}

}  // namespace

absl::StatusOr<Config> ParseConfig(std::string_view yaml_text, const LoadOptions& options) {
  Errors errors;
  Config cfg;
  try {
    // Before the tree is built: yaml-cpp's nodes keep only the first of two equal keys in view,
    // and a walk of its tree visits an aliased node once per alias.
    const absl::Status scanned =
        ScanYaml(yaml_text, YamlLimits{}, [&](const std::string& path, const std::string& message) {
          errors.Add(path.empty() ? "(document)" : path, message);
        });
    if (!scanned.ok())
      return absl::InvalidArgumentError(absl::StrCat("config: ", scanned.message()));
    const YAML::Node root = YAML::Load(std::string(yaml_text));
    if (!root.IsMap()) return absl::InvalidArgumentError("config: the document must be a mapping");
    cfg = ParseRoot(root, options, errors);
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("config: line ", e.mark.line + 1, ", column ",
                                                   e.mark.column + 1, ": ", e.msg));
  }
  if (!errors.empty()) return absl::InvalidArgumentError(errors.Joined());
  cfg.version = "sha256:" + core::Sha256Hex(yaml_text, 12);
  return cfg;
}

absl::StatusOr<Config> LoadConfigFile(const std::string& path, const LoadOptions& options) {
  auto text = ReadBoundedFile("config file", path, kMaxConfigFileBytes);
  if (!text.ok()) return text.status();
  auto cfg = ParseConfig(*text, options);
  if (!cfg.ok()) {
    return absl::Status(cfg.status().code(),
                        absl::StrCat(path, ":\n", std::string(cfg.status().message())));
  }
  return cfg;
}

const char* UnknownFieldsName(lead::UnknownFields policy) {
  switch (policy) {
    case lead::UnknownFields::kIgnore:
      return "ignore";
    case lead::UnknownFields::kAttributes:
      return "attributes";
    case lead::UnknownFields::kReject:
      return "reject";
  }
  return "ignore";
}

const SourceConfig* Config::FindSource(std::string_view name) const {
  for (const SourceConfig& source : sources) {
    if (source.name == name) return &source;
  }
  return nullptr;
}

const SourceConfig* Config::SourceForTopic(std::string_view topic) const {
  for (const SourceConfig& source : sources) {
    if (!source.topic.empty() && source.topic == topic) return &source;
  }
  return nullptr;
}

std::vector<std::string> Config::InputTopics() const {
  std::vector<std::string> topics{kafka.topics.inbound};
  for (const SourceConfig& source : sources) {
    if (!source.topic.empty() &&
        std::find(topics.begin(), topics.end(), source.topic) == topics.end()) {
      topics.push_back(source.topic);
    }
  }
  return topics;
}

const char* SourceAuthKindName(SourceAuth::Kind kind) {
  switch (kind) {
    case SourceAuth::Kind::kUnset:
      return "";
    case SourceAuth::Kind::kNone:
      return "none";
    case SourceAuth::Kind::kHubSpotSignature:
      return "hubspot_signature";
    case SourceAuth::Kind::kBearer:
      return "bearer";
    case SourceAuth::Kind::kBasic:
      return "basic";
    case SourceAuth::Kind::kHeader:
      return "header";
  }
  return "";
}

namespace {
std::string SummarizeSources(const std::vector<SourceConfig>& sources) {
  if (sources.empty()) return "none: every record is a native LeadEvent";
  std::vector<std::string> parts;
  for (const SourceConfig& s : sources) {
    std::string kind = s.inline_mapping          ? "inline mapping"
                       : !s.mapping_file.empty() ? "mapping_file " + s.mapping_file
                                                 : "profile " + s.profile;
    if (s.mapping) absl::StrAppend(&kind, ", ", s.mapping->field_count(), " fields");
    for (const auto& [option, values] :
         s.mapping ? s.mapping->Options() : std::map<std::string, std::vector<std::string>>{}) {
      absl::StrAppend(&kind, ", ", option, " [", absl::StrJoin(values, ", "), "]");
    }
    if (!s.topic.empty()) absl::StrAppend(&kind, ", topic ", s.topic);
    if (s.auth.kind != SourceAuth::Kind::kUnset) {
      absl::StrAppend(&kind, ", http auth ", SourceAuthKindName(s.auth.kind),
                      s.auth.secret_source.empty() ? "" : " (" + s.auth.secret_source + ")");
    }
    if (s.enrich.configured && s.mapping) {
      absl::StrAppend(&kind, ", fetches each ", std::string(s.mapping->enrich_kind()), " from ",
                      s.enrich.api_base_url, " (token ", s.enrich.token_source, ")");
    }
    parts.push_back(absl::StrCat(s.name, " (", kind, ")"));
  }
  return absl::StrCat(sources.size(),
                      " (header x-leadrouter-source or own topic): ", absl::StrJoin(parts, "; "));
}
}  // namespace

const char* ClaimPolicyName(ClaimsConfig::Policy policy) {
  switch (policy) {
    case ClaimsConfig::Policy::kFirstClaimWins:
      return "first_claim_wins";
    case ClaimsConfig::Policy::kManagerDecides:
      return "manager_decides";
    case ClaimsConfig::Policy::kShared:
      return "shared";
  }
  return "first_claim_wins";
}

namespace {

// TLS and auth in one line, e.g. "TLS (cert /etc/lr/tls.crt), client certificates required
// (CA /etc/lr/ca.crt); auth: 2 tokens from /etc/lr/tokens.yaml (crm-emea: stream,act for
// reps rep-ada, pools emea; ops: admin)". Never a key or a token.
std::string SummarizeGrpcSecurity(const GrpcConfig& g) {
  std::string text;
  if (!g.tls.enabled()) {
    text = "plaintext (no TLS)";
  } else {
    text = absl::StrCat("TLS (cert ", g.tls.cert_file, ")");
    if (g.tls.require_client_cert) {
      absl::StrAppend(&text, ", mTLS: client certificates required (CA ", g.tls.client_ca_file,
                      ")");
    } else if (!g.tls.client_ca_pem.empty()) {
      absl::StrAppend(&text, ", client certificates verified when presented (CA ",
                      g.tls.client_ca_file, ")");
    }
  }
  if (!g.auth.enabled()) {
    absl::StrAppend(&text, "; auth: none (every caller may do everything)");
  } else {
    std::vector<std::string> tokens;
    for (const GrpcToken& t : g.auth.tokens) {
      std::string line = absl::StrCat(t.name, ": ", absl::StrJoin(t.scopes, ","));
      if (!t.reps.empty() || !t.pools.empty()) {
        std::vector<std::string> limits;
        if (!t.reps.empty()) limits.push_back("reps " + absl::StrJoin(t.reps, ","));
        if (!t.pools.empty()) limits.push_back("pools " + absl::StrJoin(t.pools, ","));
        absl::StrAppend(&line, " for ", absl::StrJoin(limits, ", "));
      }
      tokens.push_back(std::move(line));
    }
    absl::StrAppend(&text, "; auth: ", g.auth.tokens.size(),
                    g.auth.tokens.size() == 1 ? " token" : " tokens", " from ", g.auth.tokens_file,
                    " (", absl::StrJoin(tokens, "; "), ")");
  }
  if (g.allow_insecure) absl::StrAppend(&text, "; allow_insecure: true");
  return text;
}

// "dedupe.hmac_key_env=LEADROUTER_DEDUPE_KEY (not set), redis.password_file=/run/x (present)":
// where each secret comes from, never its value.
std::string SummarizeSecrets(const std::vector<SecretRef>& secrets) {
  if (secrets.empty()) return "none";
  std::vector<std::string> parts;
  for (const SecretRef& s : secrets) {
    const bool env = s.field.size() >= 4 && s.field.compare(s.field.size() - 4, 4, "_env") == 0;
    parts.push_back(absl::StrCat(
        s.field, "=", s.source, " (",
        s.present ? (env ? "set" : "present") : (env ? "not set" : "cannot be read"), ")"));
  }
  return absl::StrJoin(parts, ", ");
}

}  // namespace

const RepConfig* Config::FindRep(std::string_view id) const {
  for (const RepConfig& rep : reps) {
    if (rep.id == id) return &rep;
  }
  return nullptr;
}

std::string Summarize(const Config& c) {
  std::string reps;
  for (const auto& rep : c.reps) absl::StrAppend(&reps, reps.empty() ? "" : ", ", rep.id);
  std::string text = absl::StrCat("version:        ", c.version, "\n");
  absl::StrAppend(&text, "kafka:          ", c.kafka.bootstrap_servers, " group ", c.kafka.group_id,
                  "\n");
  absl::StrAppend(&text, "topics:         in ", c.kafka.topics.inbound, ", out ",
                  c.kafka.topics.assignments, ", nurture ", c.kafka.topics.nurture,
                  ", dead letters ", c.kafka.topics.deadletter, "\n");
  absl::StrAppend(
      &text, "redis:          ", c.redis.host, ":", c.redis.port, " tenant ", c.redis.tenant,
      c.redis.password_source.empty() ? ", no AUTH" : ", AUTH from " + c.redis.password_source,
      "\n");
  if (c.dedupe.enabled) {
    absl::StrAppend(&text, "dedupe:         person window ", c.dedupe.person_window.count() / 86400,
                    " days, account owner idle ", c.dedupe.account_owner_idle.count() / 86400,
                    " days, phones default to ", c.dedupe.default_phone_region,
                    c.dedupe.match_company_name ? ", company names matched" : "",
                    c.dedupe.keep_plus_tags_domains.empty()
                        ? ", +tags dropped on every domain"
                        : absl::StrCat(", +tags kept on ",
                                       absl::StrJoin(c.dedupe.keep_plus_tags_domains, ", ")),
                    "; HMAC key from ", c.dedupe.hmac_key_source, "\n");
  } else {
    absl::StrAppend(&text,
                    "dedupe:         OFF: only replays of one event id are recognised (no "
                    "dedupe section, or enabled: false)\n");
  }
  if (c.dedupe.enabled) {
    absl::StrAppend(&text, "claims:         ", ClaimPolicyName(c.claims.policy), ", ownership ",
                    c.claims.ownership.count() / 86400, " days",
                    c.claims.policy == ClaimsConfig::Policy::kShared
                        ? absl::StrCat(", claimant's share ", c.claims.shared_percent, "%")
                        : "",
                    "\n");
  } else {
    absl::StrAppend(&text, "claims:         OFF (claims need dedupe)\n");
  }
  absl::StrAppend(&text, "ingest:         unknown JSON fields: ",
                  UnknownFieldsName(c.ingest.unknown_fields), "\n");
  {
    const IngestHttpConfig& h = c.ingest.http;
    size_t served = 0;
    for (const SourceConfig& s : c.sources) served += s.auth.kind != SourceAuth::Kind::kUnset;
    absl::StrAppend(&text, "ingest http:    ", h.listen,
                    h.tls_cert_file.empty()
                        ? (h.allow_insecure ? " plaintext (allow_insecure)" : " plaintext")
                        : " TLS",
                    ", metrics ", h.metrics_listen, ", ", served,
                    " sources served (those with auth), body <= ", h.max_body_bytes,
                    " bytes, <= ", h.max_records_per_request, " records, timeout ",
                    h.request_timeout.count(), " ms\n");
  }
  absl::StrAppend(&text, "grpc, metrics:  ", c.grpc.listen, ", ", c.metrics.listen, "\n");
  absl::StrAppend(&text, "console:        ",
                  c.console.enabled()
                      ? absl::StrCat(c.console.listen, c.grpc.tls.enabled() ? " (https" : " (http",
                                     ", up to ", c.console.max_live_streams, " live feeds)")
                      : std::string("off"),
                  "\n");
  absl::StrAppend(&text, "grpc security:  ", SummarizeGrpcSecurity(c.grpc), "\n");
  absl::StrAppend(&text, "outbox:         lease ", c.outbox.lease.count(), " ms, up to ",
                  c.outbox.batch_max_messages, " messages a round\n");
  absl::StrAppend(&text, "shutdown:       streams get ", c.shutdown.stream_grace.count(),
                  " ms, all of it at most ", c.shutdown.timeout.count(), " ms\n");
  absl::StrAppend(&text, "secrets:        ", SummarizeSecrets(c.secrets), "\n");
  absl::StrAppend(&text, "routing:        ", c.reps.size(), " reps (", reps, "), ",
                  c.routing.pools.size(), " pools, ", c.routing.territories.size(),
                  " territories\n");
  absl::StrAppend(&text, "sources:        ", SummarizeSources(c.sources), "\n");
  absl::StrAppend(&text, "qualification:  ", c.qualification.requirements.size(), " requirements, ",
                  c.qualification.criteria.size(), " criteria, ", c.qualification.segments.size(),
                  " segments; qualified >= ", c.qualification.thresholds.qualified,
                  ", nurture >= ", c.qualification.thresholds.nurture, "\n");
  return text;
}

}  // namespace leadrouter::config
