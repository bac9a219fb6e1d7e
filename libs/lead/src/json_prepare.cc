#include "json_prepare.h"

#include <simdjson.h>

#include <charconv>
#include <optional>

#include "absl/strings/str_cat.h"
#include "enum_names.h"
#include "fast_json.h"
#include "strict_json.h"

namespace leadrouter::lead::internal {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::EnumValueDescriptor;
using google::protobuf::FieldDescriptor;

constexpr size_t kMaxQuotedValueBytes = 64;

absl::string_view Sv(std::string_view s) {
  return {s.data(), s.size()};
}

bool IsJsonSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

// Types whose JSON form is not an object of fields, and NullValue: copied for protobuf to decide.
bool IsWellKnown(const Descriptor& descriptor) {
  return descriptor.file()->name().rfind("google/protobuf/", 0) == 0;
}

class Preparer {
 public:
  Preparer(std::string_view json, UnknownFields policy) : in_(json), policy_(policy) {}

  std::variant<PreparedJson, Rejection> Run(const Descriptor& type) {
    Space();
    if (pos_ < in_.size() && in_[pos_] == '{') {
      Message(type, "");
    } else {
      CopyValue();
    }
    if (error_.has_value()) return *std::move(error_);
    return PreparedJson{std::move(out_), std::move(unknown_scalars_)};
  }

 private:
  void Space() {
    while (pos_ < in_.size() && IsJsonSpace(in_[pos_])) ++pos_;
  }

  // The raw token of the string at pos_ (quotes included); pos_ moves past it.
  std::string_view StringToken() {
    const size_t start = pos_++;
    while (in_[pos_] != '"') pos_ += in_[pos_] == '\\' ? 2 : 1;
    ++pos_;
    return in_.substr(start, pos_ - start);
  }

  // The raw token of the value at pos_, whatever its type; pos_ moves past it.
  std::string_view ValueToken() {
    Space();
    const size_t start = pos_;
    if (in_[pos_] == '"') return StringToken();
    if (in_[pos_] == '{' || in_[pos_] == '[') {
      int depth = 0;
      do {
        const char c = in_[pos_];
        if (c == '"') {
          StringToken();
          continue;
        }
        if (c == '{' || c == '[') ++depth;
        if (c == '}' || c == ']') --depth;
        ++pos_;
      } while (depth > 0);
      return in_.substr(start, pos_ - start);
    }
    while (pos_ < in_.size() && in_[pos_] != ',' && in_[pos_] != '}' && in_[pos_] != ']' &&
           !IsJsonSpace(in_[pos_])) {
      ++pos_;
    }
    return in_.substr(start, pos_ - start);
  }

  // The text of a string token, unescaped (escapes are rare: decoded by simdjson, which takes
  // any valid JSON string as a document).
  static std::string Unescaped(std::string_view token) {
    const std::string_view body = token.substr(1, token.size() - 2);
    if (body.find('\\') == std::string_view::npos) return std::string(body);
    thread_local simdjson::dom::parser parser;
    std::string_view text;
    if (parser.parse(token.data(), token.size(), /*realloc_if_needed=*/true).get(text) !=
        simdjson::SUCCESS) {
      return std::string(body);  // unreachable for gate-checked input
    }
    return std::string(text);
  }

  void CopyValue() { out_ += ValueToken(); }

  // Calls `member(key_token, key)` for each member of the object at pos_; pos_ moves past it.
  template <typename Member>
  void Members(Member&& member) {
    ++pos_;  // '{'
    Space();
    if (in_[pos_] == '}') {
      ++pos_;
      return;
    }
    while (true) {
      Space();
      const std::string_view key_token = StringToken();
      Space();
      ++pos_;  // ':'
      Space();
      member(key_token, Unescaped(key_token));
      Space();
      if (in_[pos_++] == '}') return;
    }
  }

  void Message(const Descriptor& type, const std::string& path) {
    out_ += '{';
    bool first = true;
    Members([&](std::string_view key_token, const std::string& key) {
      const FieldDescriptor* field = FindJsonField(type, key);
      const std::string child = path.empty() ? key : absl::StrCat(path, ".", key);
      if (field == nullptr) {
        Unknown(child, path);
        return;
      }
      if (!first) out_ += ',';
      first = false;
      absl::StrAppend(&out_, Sv(key_token), ":");
      Field(*field, path.empty() ? field->name() : absl::StrCat(path, ".", field->name()));
    });
    out_ += '}';
  }

  void Field(const FieldDescriptor& field, const std::string& path) {
    Space();
    if (in_.substr(pos_, 4) == "null") return CopyValue();
    if (field.is_map()) {
      if (in_[pos_] != '{') return CopyValue();
      const FieldDescriptor* value_field = field.message_type()->map_value();
      out_ += '{';
      bool first = true;
      Members([&](std::string_view key_token, const std::string&) {
        if (!first) out_ += ',';
        first = false;
        absl::StrAppend(&out_, Sv(key_token), ":");
        Element(*value_field, path);
      });
      out_ += '}';
      return;
    }
    if (field.is_repeated()) {
      if (in_[pos_] != '[') return CopyValue();
      ++pos_;
      out_ += '[';
      Space();
      bool first = true;
      while (in_[pos_] != ']') {
        if (!first) out_ += ',';
        first = false;
        Element(field, path);
        Space();
        if (in_[pos_] == ',') ++pos_;
        Space();
      }
      ++pos_;
      out_ += ']';
      return;
    }
    Element(field, path);
  }

  // One value of `field` (singular, an array element or a map value).
  void Element(const FieldDescriptor& field, const std::string& path) {
    Space();
    if (field.cpp_type() == FieldDescriptor::CPPTYPE_ENUM &&
        field.enum_type()->full_name() != "google.protobuf.NullValue") {
      return Enum(field, path);
    }
    if (field.cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE && in_[pos_] == '{' &&
        !IsWellKnown(*field.message_type())) {
      return Message(*field.message_type(), path);
    }
    CopyValue();
  }

  void Enum(const FieldDescriptor& field, const std::string& path) {
    const std::string_view token = ValueToken();
    if (token == "null") {
      out_ += token;  // unset, as protobuf reads it
      return;
    }
    const EnumValueDescriptor* value = nullptr;
    if (token.front() == '"') {
      value = ResolveEnumName(*field.enum_type(), Unescaped(token));
    } else if (token.front() == '-' || (token.front() >= '0' && token.front() <= '9')) {
      // An integer only: 2.0 and 2e0 are refused, as the fast path refuses them.
      int64_t number = 0;
      const auto [end, ec] = std::from_chars(token.data(), token.data() + token.size(), number);
      if (ec == std::errc() && end == token.data() + token.size()) {
        value = ResolveEnumNumber(*field.enum_type(), number);
      }
    }
    if (value != nullptr) {
      absl::StrAppend(&out_, "\"", value->name(), "\"");
      return;
    }
    if (error_.has_value()) return;
    std::string shown;
    if (token.front() == '{') {
      shown = "an object";
    } else if (token.front() == '[') {
      shown = "an array";
    } else if (token.size() > kMaxQuotedValueBytes) {
      shown =
          absl::StrCat(Sv(token.substr(0, kMaxQuotedValueBytes)), "... (", token.size(), " bytes)");
    } else {
      shown = std::string(token);
    }
    const std::string accepted = AcceptedEnumValues(*field.enum_type());
    error_ = Rejection{RejectReason::kInvalidField,
                       absl::StrCat(path, ": ", shown, " is not one of ", accepted),
                       absl::StrCat(path, ": not one of ", accepted)};
  }

  // An unknown field at `path` (as given) inside the known message at `known` ("" = top level).
  void Unknown(const std::string& path, const std::string& known) {
    switch (policy_) {
      case UnknownFields::kIgnore:
        ValueToken();
        return;
      case UnknownFields::kAttributes:
        Collect(path);
        return;
      case UnknownFields::kReject:
        ValueToken();
        if (!error_.has_value()) {
          const std::string shown = Shown(path, 2 * kMaxQuotedValueBytes);
          error_ = Rejection{
              RejectReason::kInvalidField,
              absl::StrCat(shown, ": not a field of LeadEvent (ingest.unknown_fields: reject)"),
              absl::StrCat("an unknown field ", known.empty() ? "at the top level" : "in ", known,
                           " (ingest.unknown_fields: reject)")};
        }
        return;
    }
  }

  // The scalar leaves of the unknown value at pos_, under `path`.
  void Collect(const std::string& path) {
    Space();
    const char c = in_[pos_];
    if (c == '{') {
      Members(
          [&](std::string_view, const std::string& key) { Collect(absl::StrCat(path, ".", key)); });
      return;
    }
    const std::string_view token = ValueToken();
    if (c == '[' || token == "null") return;
    unknown_scalars_.emplace_back(path, c == '"' ? Unescaped(token) : std::string(token));
  }

  const std::string_view in_;
  const UnknownFields policy_;
  size_t pos_ = 0;
  std::string out_;
  std::vector<std::pair<std::string, std::string>> unknown_scalars_;
  std::optional<Rejection> error_;
};

}  // namespace

std::variant<PreparedJson, Rejection> PrepareJson(std::string_view json, const Descriptor& type,
                                                  UnknownFields policy) {
  return Preparer(json, policy).Run(type);
}

}  // namespace leadrouter::lead::internal
