#include "fast_json.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/timestamp.pb.h>
#include <google/protobuf/util/time_util.h>
#include <simdjson.h>

#include <bitset>
#include <cfloat>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <unordered_set>
#include <vector>

#include "enum_names.h"

namespace leadrouter::lead::internal {
namespace {

namespace dom = simdjson::dom;
using google::protobuf::Descriptor;
using google::protobuf::EnumDescriptor;
using google::protobuf::EnumValueDescriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::FileDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;
using google::protobuf::util::TimeUtil;

constexpr int kMaxDepth = 32;                // nested messages, the top level being 1
constexpr size_t kMaxFields = 128;           // fields of one message type (the duplicate bitset)
constexpr size_t kMaxInputBytes = 64 << 10;  // bounds what each thread's parser keeps
constexpr size_t kSmallMap = 16;             // map entries checked for duplicates by a linear scan

bool IsJsonSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

// Types whose JSON form is not an object of their fields (google/protobuf/*.proto: Any, Struct,
// Value, wrappers, Duration, FieldMask, ...). Only Timestamp is handled, by the caller.
bool IsWellKnown(const Descriptor& descriptor) {
  return descriptor.file()->name().rfind("google/protobuf/", 0) == 0;
}

// A quoted integer: protobuf accepts "12", "-12" and also "+12", "012" (safe_strto*); only the
// plain decimal forms are taken here.
template <typename T>
bool ParseQuotedInteger(std::string_view text, T& out) {
  std::string_view digits = text;
  if (std::is_signed_v<T> && !digits.empty() && digits.front() == '-') digits.remove_prefix(1);
  if (digits.empty() || (digits.size() > 1 && digits.front() == '0')) return false;
  for (char c : digits) {
    if (c < '0' || c > '9') return false;
  }
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size();
}

bool ParseSigned(dom::element value, int64_t min, int64_t max, int64_t& out) {
  switch (value.type()) {
    case dom::element_type::INT64:
      out = value.get_int64().value_unsafe();
      break;
    case dom::element_type::STRING:
      if (!ParseQuotedInteger(value.get_string().value_unsafe(), out)) return false;
      break;
    default:
      return false;  // JSON floats (1.0, 1e2), integers above INT64_MAX, other types
  }
  return out >= min && out <= max;
}

bool ParseUnsigned(dom::element value, uint64_t max, uint64_t& out) {
  switch (value.type()) {
    case dom::element_type::INT64: {
      const int64_t signed_value = value.get_int64().value_unsafe();
      if (signed_value < 0) return false;
      out = static_cast<uint64_t>(signed_value);
      break;
    }
    case dom::element_type::UINT64:
      out = value.get_uint64().value_unsafe();
      break;
    case dom::element_type::STRING:
      if (!ParseQuotedInteger(value.get_string().value_unsafe(), out)) return false;
      break;
    default:
      return false;
  }
  return out <= max;
}

// JSON numbers only. Protobuf converts integers to double (float) with rounding, so integers are
// taken only where that is exact; floats beyond FLT_MAX are refused (protobuf refuses some and
// rounds others to FLT_MAX). -0.0 is left to protobuf: both read "-0" as the integer 0 and
// "-0.0" as -0.0, but a sign that survives only in the bytes is not worth the risk.
bool ParseFloating(dom::element value, bool is_float, double& out) {
  switch (value.type()) {
    case dom::element_type::INT64: {
      const int64_t v = value.get_int64().value_unsafe();
      const int64_t limit = is_float ? (int64_t{1} << 24) : (int64_t{1} << 53);
      if (v < -limit || v > limit) return false;
      out = static_cast<double>(v);
      return true;
    }
    case dom::element_type::DOUBLE:
      out = value.get_double().value_unsafe();
      if (out == 0 && std::signbit(out)) return false;
      if (!std::isfinite(out)) return false;
      return !is_float || std::fabs(out) <= FLT_MAX;
    default:
      return false;  // quoted numbers, "NaN", "Infinity", integers beyond 2^63, other types
  }
}

const EnumValueDescriptor* ParseEnum(dom::element value, const EnumDescriptor& type,
                                     const FastJsonOptions& options) {
  if (type.full_name() == "google.protobuf.NullValue") return nullptr;
  switch (value.type()) {
    case dom::element_type::STRING: {
      const std::string_view name = value.get_string().value_unsafe();
      if (options.lenient_enums) return ResolveEnumName(type, name);
      for (int i = 0; i < type.value_count(); ++i) {
        if (std::string_view(type.value(i)->name()) == name) return type.value(i);
      }
      return nullptr;  // protobuf also takes quoted known numbers ("1"); not taken here
    }
    case dom::element_type::INT64: {
      const int64_t number = value.get_int64().value_unsafe();
      if (number < INT32_MIN || number > INT32_MAX) return nullptr;
      // Protobuf keeps unknown numbers of open enums; only known ones are taken here.
      return type.FindValueByNumber(static_cast<int>(number));
    }
    default:
      return nullptr;
  }
}

bool ParseTimestamp(dom::element value, Message& out) {
  std::string_view text;
  if (value.get_string().get(text) != simdjson::SUCCESS) return false;
  for (char c : text) {
    const bool allowed = (c >= '0' && c <= '9') || c == 'T' || c == 'Z' || c == ':' || c == '.' ||
                         c == '+' || c == '-';
    if (!allowed) return false;
  }
  // TimeUtil::FromString CHECK-fails (throws or aborts) when the time, after its UTC offset, is
  // outside 0001-01-01..9999-12-31 (which protobuf's JSON parser accepts); only years 0002..9998
  // are taken, which no offset can push out of range.
  if (text.size() < 5 || text[4] != '-' || text.substr(0, 4) < "0002" ||
      text.substr(0, 4) > "9998") {
    return false;
  }
  google::protobuf::Timestamp parsed;
  if (!TimeUtil::FromString(std::string(text), &parsed)) return false;
  if (auto* generated =
          google::protobuf::DynamicCastToGenerated<google::protobuf::Timestamp>(&out)) {
    *generated = parsed;
    return true;
  }
  // A Timestamp from another factory (e.g. a DynamicMessage): by reflection.
  const Descriptor& descriptor = *out.GetDescriptor();
  const FieldDescriptor* seconds = descriptor.FindFieldByNumber(1);
  const FieldDescriptor* nanos = descriptor.FindFieldByNumber(2);
  if (seconds == nullptr || nanos == nullptr ||
      seconds->cpp_type() != FieldDescriptor::CPPTYPE_INT64 ||
      nanos->cpp_type() != FieldDescriptor::CPPTYPE_INT32) {
    return false;
  }
  out.GetReflection()->SetInt64(&out, seconds, parsed.seconds());
  out.GetReflection()->SetInt32(&out, nanos, parsed.nanos());
  return true;
}

bool ParseObject(dom::element value, Message& out, int depth, const FastJsonOptions& options);

// A message-typed value (not null): a Timestamp string or an object of fields.
bool ParseMessageValue(dom::element value, Message& out, int depth,
                       const FastJsonOptions& options) {
  const Descriptor& descriptor = *out.GetDescriptor();
  if (descriptor.full_name() == "google.protobuf.Timestamp") return ParseTimestamp(value, out);
  if (IsWellKnown(descriptor)) return false;
  return ParseObject(value, out, depth + 1, options);
}

// One non-null value of `field`, set (singular) or added (repeated: an array element or a map
// entry's value field when `add` is false).
bool ParseValue(dom::element value, Message& msg, const FieldDescriptor& field, bool add, int depth,
                const FastJsonOptions& options) {
  const Reflection& r = *msg.GetReflection();
  switch (field.cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT32: {
      int64_t v = 0;
      if (!ParseSigned(value, INT32_MIN, INT32_MAX, v)) return false;
      add ? r.AddInt32(&msg, &field, static_cast<int32_t>(v))
          : r.SetInt32(&msg, &field, static_cast<int32_t>(v));
      return true;
    }
    case FieldDescriptor::CPPTYPE_INT64: {
      int64_t v = 0;
      if (!ParseSigned(value, INT64_MIN, INT64_MAX, v)) return false;
      add ? r.AddInt64(&msg, &field, v) : r.SetInt64(&msg, &field, v);
      return true;
    }
    case FieldDescriptor::CPPTYPE_UINT32: {
      uint64_t v = 0;
      if (!ParseUnsigned(value, UINT32_MAX, v)) return false;
      add ? r.AddUInt32(&msg, &field, static_cast<uint32_t>(v))
          : r.SetUInt32(&msg, &field, static_cast<uint32_t>(v));
      return true;
    }
    case FieldDescriptor::CPPTYPE_UINT64: {
      uint64_t v = 0;
      if (!ParseUnsigned(value, UINT64_MAX, v)) return false;
      add ? r.AddUInt64(&msg, &field, v) : r.SetUInt64(&msg, &field, v);
      return true;
    }
    case FieldDescriptor::CPPTYPE_DOUBLE: {
      double v = 0;
      if (!ParseFloating(value, /*is_float=*/false, v)) return false;
      add ? r.AddDouble(&msg, &field, v) : r.SetDouble(&msg, &field, v);
      return true;
    }
    case FieldDescriptor::CPPTYPE_FLOAT: {
      double v = 0;
      if (!ParseFloating(value, /*is_float=*/true, v)) return false;
      add ? r.AddFloat(&msg, &field, static_cast<float>(v))
          : r.SetFloat(&msg, &field, static_cast<float>(v));
      return true;
    }
    case FieldDescriptor::CPPTYPE_BOOL: {
      bool v = false;
      if (value.get_bool().get(v) != simdjson::SUCCESS) return false;  // not "true" (quoted)
      add ? r.AddBool(&msg, &field, v) : r.SetBool(&msg, &field, v);
      return true;
    }
    case FieldDescriptor::CPPTYPE_ENUM: {
      const EnumValueDescriptor* v = ParseEnum(value, *field.enum_type(), options);
      if (v == nullptr) return false;
      add ? r.AddEnum(&msg, &field, v) : r.SetEnum(&msg, &field, v);
      return true;
    }
    case FieldDescriptor::CPPTYPE_STRING: {
      if (field.type() != FieldDescriptor::TYPE_STRING) return false;  // bytes (base64)
      std::string_view v;
      if (value.get_string().get(v) != simdjson::SUCCESS) return false;
      // simdjson validates the document's UTF-8 and refuses lone surrogates in \u escapes; checked
      // again on the unescaped text, as protobuf would refuse anything else.
      if (!simdjson::validate_utf8(v.data(), v.size())) return false;
      add ? r.AddString(&msg, &field, std::string(v)) : r.SetString(&msg, &field, std::string(v));
      return true;
    }
    case FieldDescriptor::CPPTYPE_MESSAGE: {
      Message* sub = add ? r.AddMessage(&msg, &field) : r.MutableMessage(&msg, &field);
      return ParseMessageValue(value, *sub, depth, options);
    }
  }
  return false;
}

// A map field from a JSON object; string keys only. Protobuf refuses repeated keys, and makes an
// entry with a default value for a null value: both are declined here.
bool ParseMap(dom::element value, Message& msg, const FieldDescriptor& field, int depth,
              const FastJsonOptions& options) {
  dom::object object;
  if (value.get_object().get(object) != simdjson::SUCCESS) return false;
  const Descriptor& entry_type = *field.message_type();
  const FieldDescriptor* key_field = entry_type.map_key();
  const FieldDescriptor* value_field = entry_type.map_value();
  if (key_field == nullptr || value_field == nullptr ||
      key_field->type() != FieldDescriptor::TYPE_STRING) {
    return false;
  }
  const Reflection& r = *msg.GetReflection();
  std::unordered_set<std::string_view> seen;
  std::string_view small_seen[kSmallMap];
  size_t count = 0;
  for (dom::key_value_pair entry : object) {
    if (count < kSmallMap) {
      for (size_t i = 0; i < count; ++i) {
        if (small_seen[i] == entry.key) return false;
      }
      small_seen[count] = entry.key;
    } else {
      if (count == kSmallMap) seen.insert(small_seen, small_seen + kSmallMap);
      if (!seen.insert(entry.key).second) return false;
    }
    ++count;
    if (entry.value.is_null()) return false;
    Message* item = r.AddMessage(&msg, &field);
    item->GetReflection()->SetString(item, key_field, std::string(entry.key));
    if (!ParseValue(entry.value, *item, *value_field, /*add=*/false, depth, options)) return false;
  }
  return true;
}

// A JSON null for a field leaves it unset in protobuf (singular, repeated, map, message and
// Timestamp alike), except for a oneof member, which is declined.
bool ParseField(dom::element value, Message& msg, const FieldDescriptor& field, int depth,
                const FastJsonOptions& options) {
  if (value.is_null()) return field.real_containing_oneof() == nullptr;
  if (field.is_map()) return ParseMap(value, msg, field, depth, options);
  if (field.is_repeated()) {
    dom::array array;
    if (value.get_array().get(array) != simdjson::SUCCESS) return false;  // a lone scalar too
    for (dom::element item : array) {
      if (item.is_null()) return false;  // protobuf skips null elements
      if (!ParseValue(item, msg, field, /*add=*/true, depth, options)) return false;
    }
    return true;
  }
  return ParseValue(value, msg, field, /*add=*/false, depth, options);
}

bool ParseObject(dom::element value, Message& out, int depth, const FastJsonOptions& options) {
  if (depth > kMaxDepth) return false;
  dom::object object;
  if (value.get_object().get(object) != simdjson::SUCCESS) return false;
  const Descriptor& descriptor = *out.GetDescriptor();
  if (descriptor.file()->syntax() != FileDescriptor::SYNTAX_PROTO3 ||
      static_cast<size_t>(descriptor.field_count()) > kMaxFields) {
    return false;
  }
  const Reflection& r = *out.GetReflection();
  std::bitset<kMaxFields> seen;
  std::vector<std::string_view> unknown;  // rare: a scan is enough
  for (dom::key_value_pair entry : object) {
    const FieldDescriptor* field = FindJsonField(descriptor, entry.key);
    if (field == nullptr) {
      // Otherwise the fallback decides (the policy, and duplicates inside the value).
      if (!options.skip_unknown_scalars || entry.value.is_object() || entry.value.is_array()) {
        return false;
      }
      for (const std::string_view key : unknown) {
        if (key == entry.key) return false;
      }
      unknown.push_back(entry.key);
      continue;
    }
    if (seen.test(static_cast<size_t>(field->index()))) return false;
    seen.set(static_cast<size_t>(field->index()));
    // proto3 `optional` scalars: presence of a default value, not mirrored.
    if (!field->is_repeated() && field->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE &&
        field->has_presence() && field->real_containing_oneof() == nullptr) {
      return false;
    }
    if (const auto* oneof = field->real_containing_oneof();
        oneof != nullptr && r.HasOneof(out, oneof)) {
      return false;  // a second member of the same oneof
    }
    if (!ParseField(entry.value, out, *field, depth, options)) return false;
  }
  return true;
}

}  // namespace

const FieldDescriptor* FindJsonField(const Descriptor& descriptor, std::string_view key) {
  const FieldDescriptor* found = nullptr;
  for (int i = 0; i < descriptor.field_count(); ++i) {
    const FieldDescriptor* field = descriptor.field(i);
    if (std::string_view(field->name()) == key || std::string_view(field->json_name()) == key) {
      if (found != nullptr && found != field) return nullptr;
      found = field;
    }
  }
  return found;
}

bool TryParseJsonFast(std::string_view json, google::protobuf::Message& out,
                      const FastJsonOptions& options) {
  out.Clear();
  if (json.size() > kMaxInputBytes) return false;
  size_t first = 0;
  while (first < json.size() && IsJsonSpace(json[first])) ++first;
  // Also refuses a byte order mark, which protobuf refuses and simdjson would skip.
  if (first == json.size() || json[first] != '{') return false;
  if (IsWellKnown(*out.GetDescriptor())) return false;

  // One parser per thread: it keeps its buffers (a padded copy of the input and the tape)
  // between calls. parse(..., realloc_if_needed=true) copies the input into the padded buffer.
  thread_local dom::parser parser;
  dom::element root;
  if (parser.parse(json.data(), json.size(), /*realloc_if_needed=*/true).get(root) !=
      simdjson::SUCCESS) {
    return false;
  }
  return ParseObject(root, out, 1, options) && out.IsInitialized();
}

}  // namespace leadrouter::lead::internal
