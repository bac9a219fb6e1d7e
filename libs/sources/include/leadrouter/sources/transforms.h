#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "google/protobuf/timestamp.pb.h"

namespace leadrouter::sources {

// The value transforms of a mapping (mapping.h), exposed for tests and tools. All pure and
// thread-safe; none throws.

// "1.2M" → 1200000, "50k" → 50000, "3bn" / "3B" → 3000000000, "$1,500" → 1500, "1.5 million",
// "51-200" → 51 (a range reads as its lower bound), "500+" → 500. Rounded to the nearest
// integer. nullopt when the text is no number or overflows int64.
std::optional<int64_t> ParseNumberWithUnits(std::string_view text);

enum class TimeFormat { kEpochMillis, kEpochSeconds, kRfc3339, kAny };

// A timestamp in `format`; kAny takes RFC 3339, or digits as epoch ms when at least 10^11
// (after 1973 in ms) and epoch s otherwise. Fractional epoch values are accepted.
std::optional<google::protobuf::Timestamp> ParseTimestamp(std::string_view text, TimeFormat format);

// The ISO 3166-1 alpha-2 code of a country name, alpha-2 or alpha-3 code ("Germany", "deu",
// "Korea, Republic of" → "DE", "DE", "KR"), from libs/sources/data/countries.tsv; nullopt when
// unknown.
std::optional<std::string> CountryCode(std::string_view text);

// A full name split into first and last: "Ada King Lovelace" → {"Ada", "King Lovelace"},
// "Lovelace, Ada" → {"Ada", "Lovelace"}, "Ada" → {"Ada", ""}. Blanks are trimmed.
std::pair<std::string, std::string> SplitFullName(std::string_view full_name);

}  // namespace leadrouter::sources
