#include "leadrouter/sources/mapping.h"

#include <algorithm>
#include <functional>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "document.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/reflection.h"
#include "google/protobuf/util/time_util.h"
#include "leadrouter/core/hash.h"
#include "leadrouter/lead/decode.h"
#include "leadrouter/sources/transforms.h"
#include "text.h"
#include "yaml-cpp/yaml.h"

namespace leadrouter::sources {

using internal::A;
using internal::IEquals;
using internal::Node;
using internal::Strip;
namespace pb = google::protobuf;

namespace {

struct Segment {
  enum class Kind { kKey, kSelect, kAll };
  Kind kind = Kind::kKey;
  std::string key;    // kKey: a member name, or an array index when all digits; kSelect: member
  std::string value;  // kSelect: the value that member must have
};

struct Path {
  std::string text;  // as written, for error messages
  enum class Start { kRecord, kRoot } start = Start::kRecord;
  std::vector<Segment> segments;
};

enum class Transform {
  kTrim,
  kLower,
  kUpper,
  kFirstName,
  kLastName,
  kNumber,
  kEpochMs,
  kEpochS,
  kRfc3339,
  kTimestamp,
  kCountry,
};

constexpr std::pair<std::string_view, Transform> kTransforms[] = {
    {"trim", Transform::kTrim},          {"lower", Transform::kLower},
    {"upper", Transform::kUpper},        {"first_name", Transform::kFirstName},
    {"last_name", Transform::kLastName}, {"number", Transform::kNumber},
    {"epoch_ms", Transform::kEpochMs},   {"epoch_s", Transform::kEpochS},
    {"rfc3339", Transform::kRfc3339},    {"timestamp", Transform::kTimestamp},
    {"country", Transform::kCountry},
};

struct Rule {
  std::string target;  // LeadEvent field path, "occurred_at" or "attributes.<key>"
  std::vector<Path> from;
  std::optional<std::string> constant;
  std::optional<std::string> fallback;                         // `default`
  std::vector<std::pair<std::string, std::string>> value_map;  // keys lower-cased
  std::vector<Transform> transforms;
  bool required = false;
};

struct TemplatePart {
  std::string literal;
  std::optional<Path> path;  // a {path}
  bool hash = false;         // {#sha256}
};

struct Filter {
  Path from;
  std::vector<std::string> in;
  std::string option;  // "" = not settable by a source
};

// Splits "a.b[0][name=x]" into segments; false on a malformed bracket.
bool ParseDotted(std::string_view text, std::vector<Segment>& out) {
  size_t i = 0;
  std::string key;
  bool have_key = false;
  auto flush = [&] {
    if (have_key) out.push_back({Segment::Kind::kKey, key, ""});
    key.clear();
    have_key = false;
  };
  while (i < text.size()) {
    const char c = text[i];
    if (c == '.') {
      if (!have_key && (out.empty() || i + 1 >= text.size())) return false;
      flush();
      ++i;
    } else if (c == '[') {
      flush();
      const size_t close = text.find(']', i);
      if (close == std::string_view::npos || close == i + 1) return false;
      const std::string_view inner = text.substr(i + 1, close - i - 1);
      if (inner == "*") {
        out.push_back({Segment::Kind::kAll, "", ""});
      } else if (const size_t eq = inner.find('='); eq != std::string_view::npos) {
        if (eq == 0) return false;
        out.push_back({Segment::Kind::kSelect, std::string(inner.substr(0, eq)),
                       std::string(inner.substr(eq + 1))});
      } else {
        for (const char d : inner) {
          if (!absl::ascii_isdigit(static_cast<unsigned char>(d))) return false;
        }
        out.push_back({Segment::Kind::kKey, std::string(inner), ""});
      }
      i = close + 1;
    } else {
      key.push_back(c);
      have_key = true;
      ++i;
    }
  }
  flush();
  return true;
}

std::optional<Path> ParsePath(std::string_view text) {
  Path path;
  path.text = std::string(text);
  if (text == "@") return path;
  if (text.starts_with("$")) {
    text.remove_prefix(1);
    path.start = Path::Start::kRoot;
    if (text.empty()) return path;
    if (text[0] == '.') text.remove_prefix(1);
    if (text.empty()) return std::nullopt;
  }
  if (text.empty()) return std::nullopt;
  if (text[0] == '/') {
    // JSON Pointer (RFC 6901); "*" splits like [*].
    for (std::string_view raw : internal::Split(text.substr(1), '/')) {
      std::string key;
      for (size_t i = 0; i < raw.size(); ++i) {
        if (raw[i] == '~' && i + 1 < raw.size() && (raw[i + 1] == '0' || raw[i + 1] == '1')) {
          key.push_back(raw[i + 1] == '0' ? '~' : '/');
          ++i;
        } else if (raw[i] == '~') {
          return std::nullopt;
        } else {
          key.push_back(raw[i]);
        }
      }
      path.segments.push_back(
          {key == "*" ? Segment::Kind::kAll : Segment::Kind::kKey, key == "*" ? "" : key, ""});
    }
    return path;
  }
  if (!ParseDotted(text, path.segments) || path.segments.empty()) return std::nullopt;
  return path;
}

bool AllDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return absl::ascii_isdigit(static_cast<unsigned char>(c));
  });
}

// Follows `segments` from `node`; nullptr when a step is missing. kAll is not followed here.
const Node* Follow(const Node* node, const std::vector<Segment>& segments, size_t count) {
  for (size_t i = 0; i < count && node != nullptr; ++i) {
    const Segment& s = segments[i];
    switch (s.kind) {
      case Segment::Kind::kKey:
        if (node->kind == Node::Kind::kArray && AllDigits(s.key)) {
          size_t index = 0;
          node = absl::SimpleAtoi(s.key, &index) && index < node->items.size() ? &node->items[index]
                                                                               : nullptr;
        } else {
          node = node->Member(s.key);
        }
        break;
      case Segment::Kind::kSelect: {
        const Node* found = nullptr;
        for (const Node& item : node->items) {
          const Node* m = item.Member(s.key);
          if (m != nullptr && m->kind != Node::Kind::kObject && m->kind != Node::Kind::kArray &&
              m->text == s.value) {
            found = &item;
            break;
          }
        }
        node = found;
        break;
      }
      case Segment::Kind::kAll:
        return nullptr;
    }
  }
  return node;
}

std::string_view KindName(Node::Kind kind) {
  switch (kind) {
    case Node::Kind::kNull:
      return "null";
    case Node::Kind::kBool:
      return "a boolean";
    case Node::Kind::kNumber:
      return "a number";
    case Node::Kind::kString:
      return "a string";
    case Node::Kind::kArray:
      return "an array";
    case Node::Kind::kObject:
      return "an object";
  }
  return "a value";
}

// The enum value `text` names: the full name, the name without its common prefix (any case),
// or the number.
const pb::EnumValueDescriptor* FindEnumValue(const pb::EnumDescriptor* type,
                                             std::string_view text) {
  const std::string upper = internal::Upper(text);
  if (const auto* v = type->FindValueByName(upper)) return v;
  const std::string unspecified = type->value(0)->name();
  const std::string prefix =
      unspecified.substr(0, unspecified.size() - std::string_view("UNSPECIFIED").size());
  if (const auto* v = type->FindValueByName(prefix + upper)) return v;
  int number = 0;
  if (absl::SimpleAtoi(A(text), &number)) return type->FindValueByNumber(number);
  return nullptr;
}

// The descriptor path of a target ("person.email" → [person, email]); empty when unknown or not
// a settable scalar.
std::vector<const pb::FieldDescriptor*> ResolveTarget(std::string_view target) {
  std::vector<const pb::FieldDescriptor*> fields;
  const pb::Descriptor* message = v1::LeadEvent::descriptor();
  for (std::string_view part : internal::Split(target, '.')) {
    if (message == nullptr) return {};
    const pb::FieldDescriptor* field = message->FindFieldByName(std::string(part));
    if (field == nullptr || field->is_repeated()) return {};
    fields.push_back(field);
    message =
        field->cpp_type() == pb::FieldDescriptor::CPPTYPE_MESSAGE ? field->message_type() : nullptr;
  }
  if (fields.empty()) return {};
  switch (fields.back()->cpp_type()) {
    case pb::FieldDescriptor::CPPTYPE_STRING:
    case pb::FieldDescriptor::CPPTYPE_INT32:
    case pb::FieldDescriptor::CPPTYPE_INT64:
    case pb::FieldDescriptor::CPPTYPE_ENUM:
      return fields;
    default:
      return {};
  }
}

std::vector<std::string> KnownTargets() {
  std::vector<std::string> out = {"occurred_at", "attributes.<key>"};
  std::function<void(const pb::Descriptor*, const std::string&)> walk =
      [&](const pb::Descriptor* d, const std::string& prefix) {
        for (int i = 0; i < d->field_count(); ++i) {
          const pb::FieldDescriptor* f = d->field(i);
          const std::string name = prefix + f->name();
          if (f->is_repeated() || name == "event_id") continue;
          if (f->cpp_type() == pb::FieldDescriptor::CPPTYPE_MESSAGE) {
            if (f->message_type() != pb::Timestamp::descriptor())
              walk(f->message_type(), name + ".");
          } else {
            out.push_back(name);
          }
        }
      };
  walk(v1::LeadEvent::descriptor(), "");
  return out;
}

// Records errors with their paths.
class Problems {
 public:
  explicit Problems(std::string_view prefix) : prefix_(prefix) {}
  void Add(const std::string& path, std::string_view message) {
    lines_.push_back(
        absl::StrCat(prefix_, prefix_.empty() || path.empty() ? "" : ".", path, ": ", A(message)));
  }
  bool empty() const { return lines_.empty(); }
  absl::Status ToStatus() const { return absl::InvalidArgumentError(absl::StrJoin(lines_, "\n")); }

 private:
  std::string prefix_;
  std::vector<std::string> lines_;
};

std::string Child(const std::string& parent, std::string_view child) {
  return parent.empty() ? std::string(child) : absl::StrCat(parent, ".", A(child));
}

// The keys of a YAML mapping that are not in `known`, reported as unknown fields.
void RejectUnknownKeys(const YAML::Node& node, const std::string& path,
                       std::initializer_list<std::string_view> known, Problems& problems) {
  for (const auto& kv : node) {
    const std::string key = kv.first.Scalar();
    if (std::find(known.begin(), known.end(), key) == known.end()) {
      problems.Add(
          Child(path, key),
          absl::StrCat("unknown field (known: ",
                       absl::StrJoin(std::vector<std::string>(known.begin(), known.end()), ", "),
                       ")"));
    }
  }
}

void ParsePaths(const YAML::Node& node, const std::string& path, std::vector<Path>& out,
                Problems& problems) {
  auto one = [&](const YAML::Node& n, const std::string& p) {
    if (!n.IsScalar()) return problems.Add(p, "must be a source path");
    auto parsed = ParsePath(n.Scalar());
    if (!parsed) return problems.Add(p, absl::StrCat("not a source path: \"", n.Scalar(), "\""));
    for (const Segment& s : parsed->segments) {
      if (s.kind == Segment::Kind::kAll) {
        return problems.Add(p, "[*] belongs in `records` (a field reads one value)");
      }
    }
    out.push_back(*std::move(parsed));
  };
  if (node.IsSequence()) {
    if (node.size() == 0) problems.Add(path, "must name at least one source path");
    for (size_t i = 0; i < node.size(); ++i) one(node[i], absl::StrCat(path, "[", i, "]"));
  } else {
    one(node, path);
  }
}

std::optional<std::vector<TemplatePart>> ParseTemplate(const std::string& text,
                                                       const std::string& path,
                                                       Problems& problems) {
  std::vector<TemplatePart> parts;
  size_t i = 0;
  while (i < text.size()) {
    const size_t open = text.find('{', i);
    if (open == std::string::npos) {
      parts.push_back({text.substr(i), std::nullopt, false});
      break;
    }
    if (open > i) parts.push_back({text.substr(i, open - i), std::nullopt, false});
    const size_t close = text.find('}', open);
    if (close == std::string::npos) {
      problems.Add(path, "unclosed { in the template");
      return std::nullopt;
    }
    const std::string inner = text.substr(open + 1, close - open - 1);
    if (inner == "#sha256") {
      parts.push_back({"", std::nullopt, true});
    } else {
      auto parsed = ParsePath(inner);
      if (!parsed) {
        problems.Add(path, absl::StrCat("not a source path: {", inner, "}"));
        return std::nullopt;
      }
      parts.push_back({"", std::move(parsed), false});
    }
    i = close + 1;
  }
  if (parts.empty()) problems.Add(path, "must not be empty");
  return parts;
}

}  // namespace

struct Mapping::Spec {
  enum class Input { kJson, kForm };
  Input input = Input::kJson;
  std::optional<Path> records;  // ends with [*]
  std::optional<Filter> filter;
  std::vector<TemplatePart> event_id;
  std::vector<Rule> rules;
  struct Enrich {
    std::string kind;  // "hubspot_contact"
    Path object_id;
    std::string into;                     // the record member the fetched object becomes
    std::vector<std::string> properties;  // <into>.properties.<name> that the rules read
  };
  std::optional<Enrich> enrich;
};

namespace {

void ParseRule(const std::string& target, const YAML::Node& node, const std::string& path,
               Rule& rule, Problems& problems) {
  rule.target = target;
  if (node.IsScalar()) {
    ParsePaths(node, path, rule.from, problems);
    return;
  }
  if (!node.IsMap()) return problems.Add(path, "must be a source path or a mapping");
  RejectUnknownKeys(node, path, {"from", "const", "default", "map", "transforms", "required"},
                    problems);
  if (node["from"]) ParsePaths(node["from"], Child(path, "from"), rule.from, problems);
  if (node["const"]) {
    if (!node["const"].IsScalar())
      problems.Add(Child(path, "const"), "must be a scalar");
    else
      rule.constant = node["const"].Scalar();
  }
  if (node["default"]) {
    if (!node["default"].IsScalar())
      problems.Add(Child(path, "default"), "must be a scalar");
    else
      rule.fallback = node["default"].Scalar();
  }
  if (rule.constant && (!rule.from.empty() || rule.fallback)) {
    problems.Add(path, "const takes no from and no default");
  }
  if (!rule.constant && rule.from.empty() && !node["from"]) {
    problems.Add(path, "needs from (source paths) or const");
  }
  if (const YAML::Node map = node["map"]) {
    if (!map.IsMap()) {
      problems.Add(Child(path, "map"), "must be a mapping of source value to value");
    } else {
      for (const auto& kv : map) {
        if (!kv.second.IsScalar()) {
          problems.Add(Child(Child(path, "map"), kv.first.Scalar()), "must be a scalar");
          continue;
        }
        rule.value_map.emplace_back(internal::Lower(kv.first.Scalar()), kv.second.Scalar());
      }
    }
  }
  if (const YAML::Node transforms = node["transforms"]) {
    const std::string tp = Child(path, "transforms");
    if (!transforms.IsSequence()) {
      problems.Add(tp, "must be a list of transforms");
    } else {
      for (size_t i = 0; i < transforms.size(); ++i) {
        const std::string name = transforms[i].IsScalar() ? transforms[i].Scalar() : "";
        const auto* found = std::find_if(std::begin(kTransforms), std::end(kTransforms),
                                         [&](const auto& t) { return t.first == name; });
        if (found == std::end(kTransforms)) {
          std::vector<std::string> names;
          for (const auto& t : kTransforms) names.emplace_back(t.first);
          problems.Add(absl::StrCat(tp, "[", i, "]"),
                       absl::StrCat("unknown transform \"", name,
                                    "\" (known: ", absl::StrJoin(names, ", "), ")"));
          continue;
        }
        rule.transforms.push_back(found->second);
      }
    }
  }
  if (const YAML::Node required = node["required"]) {
    if (!required.IsScalar() || (required.Scalar() != "true" && required.Scalar() != "false")) {
      problems.Add(Child(path, "required"), "must be true or false");
    } else {
      rule.required = required.Scalar() == "true";
    }
  }
}

void CheckTarget(const Rule& rule, const std::string& path, Problems& problems) {
  const std::string& t = rule.target;
  if (t == "event_id") {
    return problems.Add(path, "the event id is the mapping's `event_id` template");
  }
  if (t == "occurred_at") return;
  if (t.starts_with("attributes.")) {
    if (t.size() == std::string_view("attributes.").size() || t.size() > 11 + 64) {
      problems.Add(path, "an attribute key is 1..64 bytes");
    }
    return;
  }
  if (ResolveTarget(t).empty()) {
    problems.Add(path,
                 absl::StrCat("unknown target (known: ", absl::StrJoin(KnownTargets(), ", "), ")"));
    return;
  }
  // A constant enum is checked here, so a typo fails at load rather than on every record.
  const auto fields = ResolveTarget(t);
  if (rule.constant && fields.back()->cpp_type() == pb::FieldDescriptor::CPPTYPE_ENUM &&
      FindEnumValue(fields.back()->enum_type(), *rule.constant) == nullptr) {
    problems.Add(Child(path, "const"), absl::StrCat("\"", *rule.constant, "\" is no ",
                                                    fields.back()->enum_type()->name(), " value"));
  }
}

// One record being mapped: where relative paths start and what errors say.
struct RecordContext {
  const Node* root = nullptr;
  const Node* record = nullptr;
};

const Node* Resolve(const Path& path, const RecordContext& ctx) {
  const Node* start = path.start == Path::Start::kRoot ? ctx.root : ctx.record;
  return Follow(start, path.segments, path.segments.size());
}

absl::Status Failure(std::string_view target, std::string_view path, std::string_view problem) {
  return absl::InvalidArgumentError(absl::StrCat(A(target), " ← ", A(path), ": ", A(problem)));
}

// The scalar text at `path`: nullopt when missing or empty; an error for an object or array.
absl::StatusOr<std::optional<std::string>> ScalarAt(const Path& path, const RecordContext& ctx,
                                                    std::string_view target) {
  const Node* node = Resolve(path, ctx);
  if (node == nullptr || node->kind == Node::Kind::kNull) return std::optional<std::string>();
  if (node->kind == Node::Kind::kObject || node->kind == Node::Kind::kArray) {
    return Failure(target, path.text, absl::StrCat("not a value (", A(KindName(node->kind)), ")"));
  }
  if (Strip(node->text).empty()) return std::optional<std::string>();
  return std::optional<std::string>(node->text);
}

absl::StatusOr<std::string> ApplyTransforms(const Rule& rule, std::string value,
                                            std::string_view source) {
  if (!rule.value_map.empty()) {
    const std::string key = internal::Lower(Strip(value));
    const auto it = std::find_if(rule.value_map.begin(), rule.value_map.end(),
                                 [&](const auto& entry) { return entry.first == key; });
    if (it != rule.value_map.end()) {
      value = it->second;
    } else if (rule.fallback) {
      value = *rule.fallback;  // a map with a default is closed: "Web" is not an enum value
    }
  }
  for (const Transform t : rule.transforms) {
    switch (t) {
      case Transform::kTrim:
        value = std::string(Strip(value));
        break;
      case Transform::kLower:
        value = internal::Lower(value);
        break;
      case Transform::kUpper:
        value = internal::Upper(value);
        break;
      case Transform::kFirstName:
        value = SplitFullName(value).first;
        break;
      case Transform::kLastName:
        value = SplitFullName(value).second;
        break;
      case Transform::kNumber: {
        auto n = ParseNumberWithUnits(value);
        if (!n) return Failure(rule.target, source, "not a number (e.g. 1200, 1.2M, 50k)");
        value = std::to_string(*n);
        break;
      }
      case Transform::kEpochMs:
      case Transform::kEpochS:
      case Transform::kRfc3339:
      case Transform::kTimestamp: {
        const TimeFormat format = t == Transform::kEpochMs   ? TimeFormat::kEpochMillis
                                  : t == Transform::kEpochS  ? TimeFormat::kEpochSeconds
                                  : t == Transform::kRfc3339 ? TimeFormat::kRfc3339
                                                             : TimeFormat::kAny;
        auto ts = ParseTimestamp(value, format);
        if (!ts) {
          return Failure(rule.target, source,
                         format == TimeFormat::kEpochMillis    ? "not a timestamp (epoch ms)"
                         : format == TimeFormat::kEpochSeconds ? "not a timestamp (epoch s)"
                         : format == TimeFormat::kRfc3339      ? "not a timestamp (RFC 3339)"
                                                               : "not a timestamp");
        }
        value = pb::util::TimeUtil::ToString(*ts);
        break;
      }
      case Transform::kCountry:
        if (auto code = CountryCode(value)) value = *std::move(code);
        break;
    }
  }
  return value;
}

absl::Status SetTarget(v1::LeadEvent& event, const Rule& rule, const std::string& value,
                       std::string_view source) {
  if (rule.target == "occurred_at") {
    auto ts = ParseTimestamp(value, TimeFormat::kAny);
    if (!ts) return Failure(rule.target, source, "not a timestamp (epoch ms, epoch s or RFC 3339)");
    *event.mutable_occurred_at() = *ts;
    return absl::OkStatus();
  }
  if (rule.target.starts_with("attributes.")) {
    (*event.mutable_attributes())[rule.target.substr(11)] = value;
    return absl::OkStatus();
  }
  const auto fields = ResolveTarget(rule.target);
  pb::Message* message = &event;
  for (size_t i = 0; i + 1 < fields.size(); ++i) {
    message = message->GetReflection()->MutableMessage(message, fields[i]);
  }
  const pb::FieldDescriptor* field = fields.back();
  const pb::Reflection* reflection = message->GetReflection();
  switch (field->cpp_type()) {
    case pb::FieldDescriptor::CPPTYPE_STRING:
      reflection->SetString(message, field, value);
      return absl::OkStatus();
    case pb::FieldDescriptor::CPPTYPE_INT32:
    case pb::FieldDescriptor::CPPTYPE_INT64: {
      int64_t n = 0;
      if (!absl::SimpleAtoi(A(Strip(value)), &n)) {
        auto parsed = ParseNumberWithUnits(value);
        if (!parsed) return Failure(rule.target, source, "not an integer");
        n = *parsed;
      }
      if (field->cpp_type() == pb::FieldDescriptor::CPPTYPE_INT32) {
        if (n < INT32_MIN || n > INT32_MAX) return Failure(rule.target, source, "out of range");
        reflection->SetInt32(message, field, static_cast<int32_t>(n));
      } else {
        reflection->SetInt64(message, field, n);
      }
      return absl::OkStatus();
    }
    case pb::FieldDescriptor::CPPTYPE_ENUM: {
      const auto* v = FindEnumValue(field->enum_type(), Strip(value));
      if (v == nullptr) {
        return Failure(
            rule.target, source,
            absl::StrCat("no ", field->enum_type()->name(), " value (add it to the rule's map)"));
      }
      reflection->SetEnumValue(message, field, v->number());
      return absl::OkStatus();
    }
    default:
      return Failure(rule.target, source, "not a settable field");
  }
}

absl::Status ApplyRule(const Rule& rule, const RecordContext& ctx, v1::LeadEvent& event) {
  std::optional<std::string> value = rule.constant;
  std::string source = rule.constant ? "const" : "default";
  for (const Path& path : rule.from) {
    if (value) break;
    auto at = ScalarAt(path, ctx, rule.target);
    if (!at.ok()) return at.status();
    if (*at) {
      value = std::move(*at);
      source = path.text;
    }
  }
  if (!value) value = rule.fallback;
  if (!value) {
    if (!rule.required) return absl::OkStatus();
    std::vector<std::string> paths;
    for (const Path& p : rule.from) paths.push_back(p.text);
    return Failure(rule.target, absl::StrJoin(paths, " | "), "required, but missing or empty");
  }
  auto transformed = ApplyTransforms(rule, *std::move(value), source);
  if (!transformed.ok()) return transformed.status();
  if (transformed->empty()) return absl::OkStatus();
  return SetTarget(event, rule, *transformed, source);
}

absl::StatusOr<std::string> RenderEventId(const std::vector<TemplatePart>& parts,
                                          const RecordContext& ctx) {
  std::string id;
  for (const TemplatePart& part : parts) {
    if (part.hash) {
      absl::StrAppend(&id, core::Sha256Hex(internal::Canonical(*ctx.record)));
    } else if (part.path) {
      auto at = ScalarAt(*part.path, ctx, "event_id");
      if (!at.ok()) return at.status();
      if (!*at) return Failure("event_id", part.path->text, "missing or empty");
      absl::StrAppend(&id, A(Strip(**at)));
    } else {
      absl::StrAppend(&id, part.literal);
    }
  }
  return id;
}

}  // namespace

namespace {

constexpr std::string_view kEnrichKinds[] = {"hubspot_contact"};

// Whether `path` reads inside the fetched object `into`.
bool ReadsFetched(const Path& path, const std::string& into) {
  return path.start == Path::Start::kRecord && !path.segments.empty() &&
         path.segments[0].kind == Segment::Kind::kKey && path.segments[0].key == into;
}

// `enrich: {kind, object_id, into}`, after the rules (it reads which properties they use).
void ParseEnrich(const YAML::Node& node, Mapping::Spec& spec, Problems& problems) {
  if (!node.IsMap()) return problems.Add("enrich", "must be a mapping {kind, object_id, into}");
  RejectUnknownKeys(node, "enrich", {"kind", "object_id", "into"}, problems);
  Mapping::Spec::Enrich enrich;
  enrich.kind = node["kind"] && node["kind"].IsScalar() ? node["kind"].Scalar() : "";
  if (std::find(std::begin(kEnrichKinds), std::end(kEnrichKinds), enrich.kind) ==
      std::end(kEnrichKinds)) {
    problems.Add("enrich.kind", absl::StrCat("must be hubspot_contact, got \"", enrich.kind, "\""));
  }
  std::vector<Path> object_id;
  if (node["object_id"]) ParsePaths(node["object_id"], "enrich.object_id", object_id, problems);
  if (object_id.size() != 1) problems.Add("enrich.object_id", "must be one source path");
  enrich.into = "contact";
  if (const YAML::Node into = node["into"]) {
    enrich.into = into.IsScalar() ? into.Scalar() : "";
    if (enrich.into.empty() || !std::all_of(enrich.into.begin(), enrich.into.end(), [](char c) {
          return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_';
        })) {
      problems.Add("enrich.into", "must be a member name of letters, digits and _");
    }
  }
  if (object_id.size() == 1) enrich.object_id = object_id[0];
  // What decides the event id and the filter must be in the record itself: leadrouter-ingest
  // keys records without fetching, and the daemon must find the same ids.
  if (object_id.size() == 1 && ReadsFetched(enrich.object_id, enrich.into)) {
    problems.Add("enrich.object_id", absl::StrCat("must not read the fetched ", enrich.into));
  }
  if (spec.filter && ReadsFetched(spec.filter->from, enrich.into)) {
    problems.Add("filter.from", absl::StrCat("must not read the fetched ", enrich.into,
                                             " (the filter runs before the fetch)"));
  }
  for (const TemplatePart& part : spec.event_id) {
    if (part.path && ReadsFetched(*part.path, enrich.into)) {
      problems.Add("event_id", absl::StrCat("must not read the fetched ", enrich.into,
                                            " (leadrouter-ingest keys records without it)"));
    }
  }
  std::set<std::string> properties;
  for (const Rule& rule : spec.rules) {
    for (const Path& path : rule.from) {
      if (ReadsFetched(path, enrich.into) && path.segments.size() >= 3 &&
          path.segments[1].kind == Segment::Kind::kKey && path.segments[1].key == "properties" &&
          path.segments[2].kind == Segment::Kind::kKey) {
        properties.insert(path.segments[2].key);
      }
    }
  }
  enrich.properties.assign(properties.begin(), properties.end());
  spec.enrich = std::move(enrich);
}

}  // namespace

absl::StatusOr<std::shared_ptr<const Mapping>> Mapping::Parse(std::string_view yaml_text,
                                                              std::string_view path_prefix) {
  Problems problems(path_prefix);
  auto spec = std::make_shared<Spec>();
  try {
    const YAML::Node root = YAML::Load(std::string(yaml_text));
    if (!root.IsMap()) {
      problems.Add("", "a mapping must be a YAML mapping (input, records, event_id, fields)");
      return problems.ToStatus();
    }
    RejectUnknownKeys(root, "", {"input", "records", "filter", "event_id", "fields", "enrich"},
                      problems);
    if (const YAML::Node input = root["input"]) {
      const std::string text = input.IsScalar() ? input.Scalar() : "";
      if (text == "form") {
        spec->input = Spec::Input::kForm;
      } else if (text != "json") {
        problems.Add("input", "must be json or form");
      }
    }
    if (const YAML::Node records = root["records"]) {
      auto path = records.IsScalar() ? ParsePath(records.Scalar()) : std::nullopt;
      if (!path || path->segments.empty() || path->segments.back().kind != Segment::Kind::kAll ||
          std::count_if(path->segments.begin(), path->segments.end(),
                        [](const Segment& s) { return s.kind == Segment::Kind::kAll; }) != 1) {
        problems.Add("records", "must be a source path ending in [*], e.g. result[*]");
      } else {
        spec->records = std::move(path);
      }
    }
    if (const YAML::Node filter = root["filter"]) {
      if (!filter.IsMap()) {
        problems.Add("filter", "must be a mapping {from, in, option}");
      } else {
        RejectUnknownKeys(filter, "filter", {"from", "in", "option"}, problems);
        Filter f;
        std::vector<Path> from;
        if (filter["from"]) ParsePaths(filter["from"], "filter.from", from, problems);
        if (from.size() != 1) problems.Add("filter.from", "must be one source path");
        const YAML::Node in = filter["in"];
        if (!in || !in.IsSequence()) {
          problems.Add("filter.in", "must be a list of values");
        } else {
          for (const auto& v : in) f.in.push_back(v.IsScalar() ? v.Scalar() : "");
        }
        if (filter["option"]) f.option = filter["option"].Scalar();
        if (from.size() == 1) f.from = from[0];
        spec->filter = std::move(f);
      }
    }
    std::string event_id = "{#sha256}";
    if (const YAML::Node id = root["event_id"]) {
      if (!id.IsScalar())
        problems.Add("event_id", "must be a template string");
      else
        event_id = id.Scalar();
    }
    if (auto parts = ParseTemplate(event_id, "event_id", problems)) spec->event_id = *parts;
    const YAML::Node fields = root["fields"];
    if (!fields || !fields.IsMap()) {
      problems.Add("fields", "must be a mapping of LeadEvent field to rule");
    } else {
      for (const auto& kv : fields) {
        const std::string target = kv.first.Scalar();
        const std::string path = Child("fields", target);
        Rule rule;
        ParseRule(target, kv.second, path, rule, problems);
        CheckTarget(rule, path, problems);
        spec->rules.push_back(std::move(rule));
      }
    }
    if (const YAML::Node enrich = root["enrich"]) ParseEnrich(enrich, *spec, problems);
  } catch (const YAML::Exception& e) {
    problems.Add(
        "", absl::StrCat("line ", e.mark.line + 1, ", column ", e.mark.column + 1, ": ", e.msg));
  }
  if (!problems.empty()) return problems.ToStatus();
  return std::make_shared<const Mapping>(std::move(spec));
}

absl::StatusOr<std::shared_ptr<const Mapping>> Mapping::WithOptions(
    const std::map<std::string, std::vector<std::string>>& options,
    std::string_view path_prefix) const {
  Problems problems(path_prefix);
  auto spec = std::make_shared<Spec>(*spec_);
  const auto known = Options();
  for (const auto& [name, values] : options) {
    if (!known.count(name)) {
      std::vector<std::string> names;
      for (const auto& k : known) names.push_back(k.first);
      problems.Add(name, absl::StrCat("unknown option (known: ",
                                      names.empty() ? "none" : absl::StrJoin(names, ", "), ")"));
      continue;
    }
    if (values.empty()) problems.Add(name, "must list at least one value");
    spec->filter->in = values;
  }
  if (!problems.empty()) return problems.ToStatus();
  return std::make_shared<const Mapping>(std::move(spec));
}

std::map<std::string, std::vector<std::string>> Mapping::Options() const {
  std::map<std::string, std::vector<std::string>> out;
  if (spec_->filter && !spec_->filter->option.empty())
    out[spec_->filter->option] = spec_->filter->in;
  return out;
}

size_t Mapping::field_count() const {
  return spec_->rules.size();
}

std::string_view Mapping::enrich_kind() const {
  return spec_->enrich ? std::string_view(spec_->enrich->kind) : std::string_view();
}

std::vector<std::string> Mapping::EnrichObjectIds(
    std::string_view payload, std::optional<std::string_view> content_type) const {
  std::vector<std::string> ids;
  if (!spec_->enrich) return ids;
  // Map itself finds the records its filter keeps and their ids; an empty object stands in for
  // each fetched one, so the walk goes on to the next record.
  const Fetch collect = [&ids](const EnrichRequest& request) -> absl::StatusOr<std::string> {
    ids.emplace_back(request.object_id);
    return std::string("{}");
  };
  (void)Map(payload, content_type, core::TimePoint{}, &collect);
  return ids;
}

const std::vector<std::string>& Mapping::enrich_properties() const {
  static const std::vector<std::string> kNone;
  return spec_->enrich ? spec_->enrich->properties : kNone;
}

absl::StatusOr<Mapping::Output> Mapping::Map(std::string_view payload,
                                             std::optional<std::string_view> content_type,
                                             core::TimePoint received_at,
                                             const Fetch* fetch) const {
  Spec::Input input = spec_->input;
  if (content_type) {
    std::string_view type = *content_type;
    type = Strip(type.substr(0, type.find(';')));
    if (IEquals(type, "application/json")) {
      input = Spec::Input::kJson;
    } else if (IEquals(type, "application/x-www-form-urlencoded")) {
      input = Spec::Input::kForm;
    } else {
      return absl::InvalidArgumentError(
          "content-type: neither application/json nor application/x-www-form-urlencoded");
    }
  }
  auto root =
      input == Spec::Input::kJson ? internal::ParseJson(payload) : internal::ParseForm(payload);
  if (!root.ok()) return root.status();

  std::vector<const Node*> records;
  if (spec_->records) {
    const Path& path = *spec_->records;
    const Node* array = Follow(&*root, path.segments, path.segments.size() - 1);
    if ((array == nullptr || array == &*root) && root->kind == Node::Kind::kObject) {
      // No page around it: the payload is the one record (a Marketo lead alone or in result[],
      // one HubSpot event of a `[*]` array).
      records.push_back(&*root);
    } else if (array == nullptr || array->kind != Node::Kind::kArray) {
      return Failure(
          "records", path.text,
          absl::StrCat("not an array (", A(array ? KindName(array->kind) : "missing"), ")"));
    } else {
      for (const Node& item : array->items) records.push_back(&item);
    }
  } else {
    if (root->kind != Node::Kind::kObject) {
      return Failure("records", "$",
                     absl::StrCat("the payload is ", A(KindName(root->kind)),
                                  ", not an object (an array needs records: \"[*]\")"));
    }
    records.push_back(&*root);
  }
  if (records.size() > kMaxEventsPerRecord) {
    return Failure("records", spec_->records->text,
                   absl::StrCat(records.size(), " records, the limit is ", kMaxEventsPerRecord));
  }

  Output out;
  for (size_t i = 0; i < records.size(); ++i) {
    RecordContext ctx{&*root, records[i]};
    auto prefixed = [&](const absl::Status& s) {
      if (!spec_->records) return s;
      return absl::InvalidArgumentError(absl::StrCat("record ", i, ": ", s.message()));
    };
    if (spec_->filter) {
      auto value = ScalarAt(spec_->filter->from, ctx, "filter");
      if (!value.ok()) return prefixed(value.status());
      const std::string text = value->value_or("");
      const auto& in = spec_->filter->in;
      if (std::none_of(in.begin(), in.end(),
                       [&](const std::string& v) { return IEquals(v, text); })) {
        ++out.filtered;
        continue;
      }
    }
    std::optional<Node> enriched;  // the record with the fetched object attached
    if (spec_->enrich && fetch != nullptr) {
      const Spec::Enrich& enrich = *spec_->enrich;
      if (records[i]->kind != Node::Kind::kObject) {
        return prefixed(Failure(
            "enrich", "@",
            absl::StrCat("the record is ", A(KindName(records[i]->kind)), ", not an object")));
      }
      auto object_id = ScalarAt(enrich.object_id, ctx, "enrich.object_id");
      if (!object_id.ok()) return prefixed(object_id.status());
      if (!object_id->has_value()) {
        return prefixed(Failure("enrich.object_id", enrich.object_id.text, "missing"));
      }
      auto fetched = (*fetch)(EnrichRequest{enrich.kind, **object_id, enrich.properties});
      if (!fetched.ok()) {
        if (!absl::IsNotFound(fetched.status()) && !absl::IsInvalidArgument(fetched.status())) {
          return fetched.status();  // transient: the caller retries the record
        }
        return prefixed(
            Failure("enrich", enrich.object_id.text, std::string(fetched.status().message())));
      }
      auto object = internal::ParseJson(*fetched);
      if (!object.ok() || object->kind != Node::Kind::kObject) {
        return prefixed(
            Failure("enrich", enrich.object_id.text,
                    absl::StrCat("the fetched ", enrich.kind, " is not a JSON object")));
      }
      enriched = *records[i];
      std::erase_if(enriched->members,
                    [&](const internal::NodeMember& m) { return m.name == enrich.into; });
      enriched->members.push_back({enrich.into, *std::move(object)});
      ctx.record = &*enriched;
    }
    v1::LeadEvent event;
    for (const Rule& rule : spec_->rules) {
      if (absl::Status applied = ApplyRule(rule, ctx, event); !applied.ok()) {
        return prefixed(applied);
      }
    }
    auto id = RenderEventId(spec_->event_id, ctx);
    if (!id.ok()) return prefixed(id.status());
    event.set_event_id(*std::move(id));
    if (!event.has_occurred_at()) {
      *event.mutable_occurred_at() = pb::util::TimeUtil::NanosecondsToTimestamp(
          std::chrono::duration_cast<std::chrono::nanoseconds>(received_at.time_since_epoch())
              .count());
    }
    lead::TidyStrings(event);
    out.events.push_back(std::move(event));
  }
  return out;
}

namespace {

bool ReadsRoot(const Path& path) {
  return path.start == Path::Start::kRoot;
}

}  // namespace

absl::StatusOr<Mapping::Split> Mapping::SplitDelivery(std::string_view payload,
                                                      std::optional<std::string_view> content_type,
                                                      core::TimePoint received_at) const {
  // Parse errors are the delivery's own fault (400); anything after them is the mapping's.
  bool json = spec_->input == Spec::Input::kJson;
  if (content_type) {
    const std::string_view type = Strip(content_type->substr(0, content_type->find(';')));
    json = !IEquals(type, "application/x-www-form-urlencoded");
  }
  auto root = json ? internal::ParseJson(payload) : internal::ParseForm(payload);
  if (!root.ok()) return root.status();

  Split out;
  auto whole = [&]() -> absl::StatusOr<Split> {
    auto mapped = Map(payload, content_type, received_at);
    Piece piece{std::string(payload), false, {}, std::nullopt};
    if (!mapped.ok()) {
      piece.unmappable = std::string(mapped.status().message());
    } else {
      for (const v1::LeadEvent& event : mapped->events) piece.event_ids.push_back(event.event_id());
    }
    out.pieces.push_back(std::move(piece));
    return out;
  };

  if (!json || !spec_->records || spec_->records->start != Path::Start::kRecord) return whole();
  const std::vector<Segment>& segments = spec_->records->segments;
  const bool top_level =
      segments.size() == 1 || (segments.size() == 2 && segments[0].kind == Segment::Kind::kKey &&
                               !AllDigits(segments[0].key));
  if (!top_level) return whole();
  bool reads_root = spec_->filter && ReadsRoot(spec_->filter->from);
  for (const Rule& rule : spec_->rules) {
    reads_root = reads_root || std::any_of(rule.from.begin(), rule.from.end(), ReadsRoot);
  }
  for (const TemplatePart& part : spec_->event_id) {
    reads_root = reads_root || (part.path && ReadsRoot(*part.path));
  }
  if (reads_root) return whole();
  const Node* array = Follow(&*root, segments, segments.size() - 1);
  if (array == nullptr || array->kind != Node::Kind::kArray || array->items.size() < 2) {
    return whole();
  }
  if (array->items.size() > kMaxEventsPerRecord) return whole();  // Map's error names the limit
  if (!std::all_of(array->items.begin(), array->items.end(),
                   [](const Node& item) { return item.kind == Node::Kind::kObject; })) {
    return whole();
  }
  for (const Node& item : array->items) {
    Piece piece{internal::Canonical(item), true, {}, std::nullopt};
    auto mapped = Map(piece.payload, "application/json", received_at);
    if (!mapped.ok()) {
      piece.unmappable = std::string(mapped.status().message());
    } else {
      for (const v1::LeadEvent& event : mapped->events) {
        piece.event_ids.push_back(event.event_id());
      }
    }
    out.pieces.push_back(std::move(piece));
  }
  return out;
}

absl::StatusOr<std::vector<std::string>> SplitJsonRecords(std::string_view payload) {
  auto root = internal::ParseJson(payload);
  if (!root.ok()) return root.status();
  if (root->kind == Node::Kind::kObject) return std::vector<std::string>{std::string(payload)};
  if (root->kind != Node::Kind::kArray) {
    return absl::InvalidArgumentError(absl::StrCat("the payload is ", A(KindName(root->kind)),
                                                   ", not an object or an array of objects"));
  }
  std::vector<std::string> out;
  out.reserve(root->items.size());
  for (size_t i = 0; i < root->items.size(); ++i) {
    const Node& item = root->items[i];
    if (item.kind != Node::Kind::kObject) {
      return absl::InvalidArgumentError(
          absl::StrCat("element ", i, " is ", A(KindName(item.kind)), ", not an object"));
    }
    out.push_back(internal::Canonical(item));
  }
  return out;
}

}  // namespace leadrouter::sources
