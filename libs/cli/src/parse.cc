#include "leadrouter/cli/parse.h"

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/strip.h"
#include "google/protobuf/descriptor.h"

namespace leadrouter::cli {
namespace {

namespace v1 = leadrouter::v1;

constexpr absl::string_view kReasonPrefix = "return_reason_";

// Debian's Abseil has its own string_view; the public API takes std::string_view.
absl::string_view Absl(std::string_view text) {
  return {text.data(), text.size()};
}

}  // namespace

std::string ReturnReasonName(v1::ReturnReason reason) {
  const google::protobuf::EnumValueDescriptor* value =
      v1::ReturnReason_descriptor()->FindValueByNumber(reason);
  if (value == nullptr) return absl::StrCat("reason_", static_cast<int>(reason));
  const std::string name = absl::AsciiStrToLower(value->name());
  absl::string_view view = name;
  absl::ConsumePrefix(&view, kReasonPrefix);
  return std::string(view);
}

std::vector<std::string> ReturnReasonNames() {
  std::vector<std::string> names;
  const google::protobuf::EnumDescriptor* descriptor = v1::ReturnReason_descriptor();
  for (int i = 0; i < descriptor->value_count(); ++i) {
    const int number = descriptor->value(i)->number();
    if (number == v1::RETURN_REASON_UNSPECIFIED) continue;
    names.push_back(ReturnReasonName(static_cast<v1::ReturnReason>(number)));
  }
  return names;
}

absl::StatusOr<v1::ReturnReason> ParseReturnReason(std::string_view text) {
  std::string wanted = absl::StrReplaceAll(
      absl::AsciiStrToLower(absl::StripAsciiWhitespace(Absl(text))), {{"-", "_"}});
  absl::string_view key = wanted;
  absl::ConsumePrefix(&key, kReasonPrefix);
  const google::protobuf::EnumDescriptor* descriptor = v1::ReturnReason_descriptor();
  for (int i = 0; i < descriptor->value_count(); ++i) {
    const int number = descriptor->value(i)->number();
    if (number == v1::RETURN_REASON_UNSPECIFIED) continue;
    const auto reason = static_cast<v1::ReturnReason>(number);
    if (!key.empty() && key == ReturnReasonName(reason)) return reason;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown return reason \"", Absl(text),
                   "\"; valid reasons: ", absl::StrJoin(ReturnReasonNames(), ", ")));
}

absl::StatusOr<absl::Time> ParseTime(std::string_view text) {
  std::string input(absl::StripAsciiWhitespace(Absl(text)));
  // RFC 3339 lets applications write a space for the "T" ("2024-05-01 09:00:00Z").
  if (input.size() > 10 && input[10] == ' ') input[10] = 'T';
  absl::Time t;
  std::string error;
  if (absl::ParseTime(absl::RFC3339_full, input, &t, &error)) return t;
  if (input.size() == 10 && absl::ParseTime("%Y-%m-%d", input, absl::UTCTimeZone(), &t, &error)) {
    return t;
  }
  // Say what is wrong with the most common mistake rather than the parser's generic message.
  absl::string_view why = "expected RFC 3339";
  absl::Time local;
  if (absl::ParseTime("%Y-%m-%d%ET%H:%M:%E*S", input, absl::UTCTimeZone(), &local, &error)) {
    why = "the time needs a UTC offset, \"Z\" or e.g. \"+02:00\"";
  }
  return absl::InvalidArgumentError(
      absl::StrCat("invalid time \"", Absl(text), "\": ", why,
                   " (e.g. 2024-05-01T09:00:00Z, 2024-05-01T09:00:00+02:00, or a date "
                   "2024-05-01 meaning 00:00 UTC)"));
}

absl::StatusOr<std::string> ParseToken(std::string_view raw) {
  const absl::string_view token = absl::StripAsciiWhitespace(Absl(raw));
  if (token.empty()) return absl::InvalidArgumentError("the token is empty");
  for (const char c : token) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x21 || u > 0x7e) {
      return absl::InvalidArgumentError(
          "the token has a space, control or non-ASCII character (one token, printable ASCII)");
    }
  }
  return std::string(token);
}

}  // namespace leadrouter::cli
