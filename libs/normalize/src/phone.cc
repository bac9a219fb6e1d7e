#include <phonenumbers/phonenumber.pb.h>
#include <phonenumbers/phonenumberutil.h>

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "leadrouter/normalize/normalize.h"
#include "text.h"

namespace leadrouter::normalize {
namespace {

using i18n::phonenumbers::PhoneNumber;
using i18n::phonenumbers::PhoneNumberUtil;

// libphonenumber's own input limit is 250 characters; longer text is not a phone number.
constexpr size_t kMaxInputBytes = 250;

// "US", "de" -> "US", "DE"; anything that is not two ASCII letters -> "ZZ" (libphonenumber's
// unknown region), so that only numbers written with a country code are accepted.
std::string RegionCode(std::string_view region) {
  region = internal::TrimSpace(region);
  if (region.size() != 2) return "ZZ";
  std::string out;
  for (char c : region) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    if (c < 'A' || c > 'Z') return "ZZ";
    out.push_back(c);
  }
  return out;
}

absl::Status ParseError(PhoneNumberUtil::ErrorType error) {
  switch (error) {
    case PhoneNumberUtil::NO_PARSING_ERROR:
      return absl::OkStatus();
    case PhoneNumberUtil::INVALID_COUNTRY_CODE_ERROR:
      return absl::InvalidArgumentError(
          "phone number has no valid country code and the default region is unknown");
    case PhoneNumberUtil::NOT_A_NUMBER:
      return absl::InvalidArgumentError("phone number is not a number");
    case PhoneNumberUtil::TOO_SHORT_AFTER_IDD:
    case PhoneNumberUtil::TOO_SHORT_NSN:
      return absl::InvalidArgumentError("phone number is too short");
    case PhoneNumberUtil::TOO_LONG_NSN:
      return absl::InvalidArgumentError("phone number is too long");
  }
  return absl::InvalidArgumentError("phone number could not be parsed");
}

absl::Status Invalid(const PhoneNumberUtil& util, const PhoneNumber& number) {
  switch (util.IsPossibleNumberWithReason(number)) {
    case PhoneNumberUtil::IS_POSSIBLE:
    case PhoneNumberUtil::IS_POSSIBLE_LOCAL_ONLY:
      break;
    case PhoneNumberUtil::INVALID_COUNTRY_CODE:
      return absl::InvalidArgumentError("phone number has an unknown country code");
    case PhoneNumberUtil::TOO_SHORT:
      return absl::InvalidArgumentError("phone number is too short for its country");
    case PhoneNumberUtil::INVALID_LENGTH:
      return absl::InvalidArgumentError("phone number has an impossible length for its country");
    case PhoneNumberUtil::TOO_LONG:
      return absl::InvalidArgumentError("phone number is too long for its country");
  }
  // Possible by length, but in no number range the country has assigned. Only the country
  // calling code is named: it is not personal.
  return absl::InvalidArgumentError(
      absl::StrCat("phone number is not a valid number for country code +", number.country_code()));
}

// Parses and validates; OkStatus only for a number IsValidNumber accepts.
absl::Status ParseValid(const PhoneNumberUtil& util, const std::string& text,
                        const std::string& region, PhoneNumber* number) {
  if (absl::Status s = ParseError(util.Parse(text, region, number)); !s.ok()) return s;
  if (!util.IsValidNumber(*number)) return Invalid(util, *number);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Phone> uncached::NormalizePhone(std::string_view raw,
                                               std::string_view default_region) {
  const std::string_view trimmed = internal::TrimSpace(raw);
  if (trimmed.empty()) return absl::InvalidArgumentError("phone number is empty");
  if (trimmed.size() > kMaxInputBytes)
    return absl::InvalidArgumentError("phone number is too long");
  if (!internal::IsValidUtf8(trimmed)) {
    return absl::InvalidArgumentError("phone number is not valid UTF-8");
  }
  const PhoneNumberUtil& util = *PhoneNumberUtil::GetInstance();
  const std::string text(trimmed);
  const std::string region = RegionCode(default_region);

  PhoneNumber number;
  absl::Status status = ParseValid(util, text, region, &number);
  // "00" is the international call prefix of most of the world but not of every default region
  // (the US dials 011). A "00 49 ..." lead with region US, or with no region, was almost surely
  // written by someone dialing from Europe: when the region's reading fails, read "00" as "+".
  // No national number starts with "00" in a region whose prefix is not "00", so a number valid
  // in its region's reading is never reinterpreted.
  if (!status.ok() && text.size() > 2 && text[0] == '0' && text[1] == '0') {
    PhoneNumber international;
    // Built by append, not `"+" + text.substr(2)`: GCC 12 at -O3 reports a false
    // -Wrestrict overlap in that operator+ (GCC bug 105329).
    std::string plus_form = "+";
    plus_form.append(text, 2, std::string::npos);
    if (ParseValid(util, plus_form, region, &international).ok()) {
      number = international;
      status = absl::OkStatus();
    }
  }
  if (!status.ok()) return status;

  Phone phone;
  util.Format(number, PhoneNumberUtil::E164, &phone.e164);
  phone.extension = number.extension();
  return phone;
}

std::optional<std::string> uncached::PhoneFallbackKey(std::string_view raw,
                                                      std::string_view default_region) {
  constexpr size_t kMinDigits = 7;
  std::string_view text = internal::TrimSpace(raw);
  if (text.size() > kMaxInputBytes || !internal::IsValidUtf8(text)) return std::nullopt;
  text = text.substr(0, text.find_first_of("xX"));
  std::string digits;
  for (const char c : text) {
    if (c >= '0' && c <= '9') digits.push_back(c);
  }
  if (digits.size() < kMinDigits) return std::nullopt;
  // Read the country calling code the way NormalizePhone would have: "00" as "+" first, since
  // that is how NormalizePhone rescues such numbers, then the text in the region.
  const PhoneNumberUtil& util = *PhoneNumberUtil::GetInstance();
  const std::string region = RegionCode(default_region);
  std::string candidates[2];
  size_t count = 0;
  if (text.size() > 2 && text[0] == '0' && text[1] == '0') {
    candidates[count] = "+";
    candidates[count++].append(text, 2, std::string::npos);
  }
  candidates[count++] = std::string(text);
  for (size_t i = 0; i < count; ++i) {
    PhoneNumber number;
    if (util.Parse(candidates[i], region, &number) != PhoneNumberUtil::NO_PARSING_ERROR ||
        number.country_code() == 0) {
      continue;
    }
    std::string national;
    util.GetNationalSignificantNumber(number, &national);
    if (national.size() < kMinDigits) continue;
    return absl::StrCat("fallback +", number.country_code(), " ", national);
  }
  return absl::StrCat("fallback ", digits);
}

}  // namespace leadrouter::normalize
