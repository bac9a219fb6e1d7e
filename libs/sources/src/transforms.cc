#include "leadrouter/sources/transforms.h"

#include <cmath>
#include <limits>
#include <string>
#include <unordered_map>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "google/protobuf/util/time_util.h"
#include "text.h"

namespace leadrouter::sources {
namespace internal {
extern const char kCountriesText[];
}  // namespace internal

namespace {

using google::protobuf::Timestamp;
using google::protobuf::util::TimeUtil;
using internal::A;
using internal::Strip;

// Folds a country name for lookup: ASCII letters lower-cased, every run of anything that is not
// a letter or digit one space, "the " dropped in front. Non-ASCII bytes are kept ("österreich").
std::string FoldName(std::string_view text) {
  std::string out;
  bool gap = false;
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (absl::ascii_isalnum(u) || u >= 0x80) {
      if (gap && !out.empty()) out.push_back(' ');
      gap = false;
      out.push_back(absl::ascii_tolower(u));
    } else if (c != '.' && c != '\'') {
      gap = true;  // "U.S.A." and "Cote d'Ivoire" fold without their dots and apostrophes
    }
  }
  if (out.starts_with("the ")) out.erase(0, 4);
  return out;
}

const std::unordered_map<std::string, std::string>& CountryTable() {
  static const auto* table = [] {
    auto* map = new std::unordered_map<std::string, std::string>();
    for (std::string_view line : internal::Split(internal::kCountriesText, '\n')) {
      if (line.empty() || line[0] == '#') continue;
      const size_t tab = line.find('\t');
      if (tab == std::string_view::npos) continue;
      const std::string code(line.substr(0, tab));
      map->emplace(FoldName(code), code);
      for (std::string_view name : internal::Split(line.substr(tab + 1), '|')) {
        map->emplace(FoldName(name), code);
      }
    }
    return map;
  }();
  return *table;
}

std::optional<Timestamp> FromEpoch(std::string_view text, double units_per_second) {
  double value = 0;
  if (text.empty() || !absl::SimpleAtod(A(text), &value) || !std::isfinite(value)) {
    return std::nullopt;
  }
  for (const char c : text) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c)) && c != '.') return std::nullopt;
  }
  int64_t whole = 0;
  if (text.find('.') == std::string_view::npos && absl::SimpleAtoi(A(text), &whole)) {
    // Exact for integers: a double would turn ...123 ms into ...122999906 ns.
    const int64_t per_second = static_cast<int64_t>(units_per_second);
    if (whole / per_second > 253402300799) return std::nullopt;
    Timestamp ts;
    ts.set_seconds(whole / per_second);
    ts.set_nanos(static_cast<int32_t>((whole % per_second) * (1000000000 / per_second)));
    return ts;
  }
  const double seconds = value / units_per_second;
  // Timestamp's own range: 0001-01-01 to 9999-12-31.
  if (seconds > 253402300799.0) return std::nullopt;
  Timestamp ts;
  ts.set_seconds(static_cast<int64_t>(seconds));
  ts.set_nanos(static_cast<int32_t>((seconds - std::floor(seconds)) * 1e9));
  return ts;
}

}  // namespace

std::optional<int64_t> ParseNumberWithUnits(std::string_view text) {
  std::string s;
  for (const char c : Strip(text)) {
    if (c == ',' || c == '$' || c == '_') continue;  // thousands separators, currency
    s.push_back(absl::ascii_tolower(static_cast<unsigned char>(c)));
  }
  // A range ("51-200") or an open end ("500+"): the lower bound.
  if (const size_t dash = s.find('-', 1); dash != std::string::npos) s.resize(dash);
  if (!s.empty() && s.back() == '+') s.pop_back();
  size_t digits_end = 0;
  while (digits_end < s.size() && (absl::ascii_isdigit(static_cast<unsigned char>(s[digits_end])) ||
                                   s[digits_end] == '.' || (digits_end == 0 && s[0] == '-'))) {
    ++digits_end;
  }
  double value = 0;
  if (digits_end == 0 || !absl::SimpleAtod(A(std::string_view(s).substr(0, digits_end)), &value))
    return std::nullopt;
  const std::string unit(Strip(std::string_view(s).substr(digits_end)));
  static const std::pair<std::string_view, double> kUnits[] = {
      {"", 1},     {"k", 1e3},       {"thousand", 1e3}, {"m", 1e6},
      {"mm", 1e6}, {"mn", 1e6},      {"million", 1e6},  {"b", 1e9},
      {"bn", 1e9}, {"billion", 1e9}, {"t", 1e12},       {"trillion", 1e12}};
  for (const auto& [name, factor] : kUnits) {
    if (unit != name) continue;
    const double scaled = std::round(value * factor);
    if (!std::isfinite(scaled) || std::fabs(scaled) >= 9.2e18) return std::nullopt;
    return static_cast<int64_t>(scaled);
  }
  return std::nullopt;
}

std::optional<Timestamp> ParseTimestamp(std::string_view text, TimeFormat format) {
  text = Strip(text);
  switch (format) {
    case TimeFormat::kEpochMillis:
      return FromEpoch(text, 1e3);
    case TimeFormat::kEpochSeconds:
      return FromEpoch(text, 1);
    case TimeFormat::kRfc3339: {
      Timestamp ts;
      if (TimeUtil::FromString(std::string(text), &ts)) return ts;
      return std::nullopt;
    }
    case TimeFormat::kAny: {
      if (auto rfc = ParseTimestamp(text, TimeFormat::kRfc3339)) return rfc;
      double value = 0;
      if (!absl::SimpleAtod(A(text), &value)) return std::nullopt;
      return FromEpoch(text, value >= 1e11 ? 1e3 : 1);
    }
  }
  return std::nullopt;
}

std::optional<std::string> CountryCode(std::string_view text) {
  const auto& table = CountryTable();
  auto it = table.find(FoldName(text));
  if (it == table.end()) return std::nullopt;
  return it->second;
}

std::pair<std::string, std::string> SplitFullName(std::string_view full_name) {
  full_name = Strip(full_name);
  if (const size_t comma = full_name.find(','); comma != std::string_view::npos) {
    return {std::string(Strip(full_name.substr(comma + 1))),
            std::string(Strip(full_name.substr(0, comma)))};
  }
  const size_t space = full_name.find_first_of(" \t");
  if (space == std::string_view::npos) return {std::string(full_name), ""};
  return {std::string(full_name.substr(0, space)), std::string(Strip(full_name.substr(space + 1)))};
}

}  // namespace leadrouter::sources
