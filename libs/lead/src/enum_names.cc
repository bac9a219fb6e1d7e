#include "enum_names.h"

#include <charconv>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace leadrouter::lead::internal {
namespace {

using google::protobuf::EnumDescriptor;
using google::protobuf::EnumValueDescriptor;

absl::string_view Sv(std::string_view s) {
  return {s.data(), s.size()};
}

std::string_view Prefix(const EnumDescriptor& type) {
  static constexpr std::string_view kUnspecified = "UNSPECIFIED";
  const EnumValueDescriptor* zero = type.FindValueByNumber(0);
  if (zero == nullptr) return {};
  const std::string_view name = zero->name();
  if (name.size() <= kUnspecified.size() || !absl::EndsWith(Sv(name), Sv(kUnspecified))) return {};
  return name.substr(0, name.size() - kUnspecified.size());
}

// The name without the prefix, or "" when the value does not carry it.
std::string_view ShortName(const EnumValueDescriptor& value, std::string_view prefix) {
  const std::string_view name = value.name();
  if (prefix.empty() || name.size() <= prefix.size() || !absl::StartsWith(Sv(name), Sv(prefix))) {
    return {};
  }
  return name.substr(prefix.size());
}

}  // namespace

const EnumValueDescriptor* ResolveEnumName(const EnumDescriptor& type, std::string_view text) {
  for (int i = 0; i < type.value_count(); ++i) {
    if (std::string_view(type.value(i)->name()) == text) return type.value(i);
  }
  for (int i = 0; i < type.value_count(); ++i) {
    if (absl::EqualsIgnoreCase(Sv(type.value(i)->name()), Sv(text))) return type.value(i);
  }
  const std::string_view prefix = Prefix(type);
  for (int i = 0; i < type.value_count(); ++i) {
    const std::string_view short_name = ShortName(*type.value(i), prefix);
    if (!short_name.empty() && absl::EqualsIgnoreCase(Sv(short_name), Sv(text))) {
      return type.value(i);
    }
  }
  if (text.empty() || text.size() > 10 || (text.size() > 1 && text.front() == '0')) return nullptr;
  for (const char c : text) {
    if (c < '0' || c > '9') return nullptr;
  }
  int64_t number = 0;
  std::from_chars(text.data(), text.data() + text.size(), number);
  return ResolveEnumNumber(type, number);
}

const EnumValueDescriptor* ResolveEnumNumber(const EnumDescriptor& type, int64_t number) {
  if (number < INT32_MIN || number > INT32_MAX) return nullptr;
  return type.FindValueByNumber(static_cast<int>(number));
}

std::string AcceptedEnumValues(const EnumDescriptor& type) {
  const std::string_view prefix = Prefix(type);
  std::string short_names;
  std::string_view first_full;
  for (int i = 0; i < type.value_count(); ++i) {
    const EnumValueDescriptor& value = *type.value(i);
    if (value.number() == 0 && !prefix.empty()) continue;
    if (first_full.empty()) first_full = value.name();
    const std::string_view short_name = ShortName(value, prefix);
    absl::StrAppend(&short_names, short_names.empty() ? "" : ", ",
                    Sv(short_name.empty() ? std::string_view(value.name()) : short_name));
  }
  if (prefix.empty()) return absl::StrCat(short_names, " (in any case, or the number)");
  return absl::StrCat(short_names, " (or ", Sv(first_full), ", ..., in any case, or the number)");
}

}  // namespace leadrouter::lead::internal
