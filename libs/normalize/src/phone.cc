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

// One reading of a text in a region: whether libphonenumber parsed it, and what it read.
struct Reading {
  bool parsed = false;
  PhoneNumber number;
};

// Parses `text` in `region` into `reading`, then validates: OkStatus only for a number
// IsValidNumber accepts.
absl::Status ReadValid(const PhoneNumberUtil& util, const std::string& text,
                       const std::string& region, Reading& reading) {
  const PhoneNumberUtil::ErrorType error = util.Parse(text, region, &reading.number);
  reading.parsed = error == PhoneNumberUtil::NO_PARSING_ERROR;
  if (!reading.parsed) return ParseError(error);
  if (!util.IsValidNumber(reading.number)) return Invalid(util, reading.number);
  return absl::OkStatus();
}

bool StartsWithDoubleZero(std::string_view text) {
  return text.size() > 2 && text[0] == '0' && text[1] == '0';
}

// "+" and what follows a leading "00". Built by append, not `"+" + text.substr(2)`: GCC 12 at
// -O3 reports a false -Wrestrict overlap in that operator+ (GCC bug 105329).
std::string PlusForm(std::string_view text) {
  std::string plus_form = "+";
  plus_form.append(text, 2, std::string::npos);
  return plus_form;
}

// What NormalizePhone reads on its way: the trimmed text in the region, and its "+" form when
// that was tried. Filled only when the input passed the checks before parsing.
struct Readings {
  bool filled = false;
  std::string_view trimmed;
  Reading text;
  std::optional<Reading> plus_form;
};

absl::StatusOr<Phone> Normalize(std::string_view raw, std::string_view default_region,
                                Readings& readings) {
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
  readings.filled = true;
  readings.trimmed = trimmed;

  absl::Status status = ReadValid(util, text, region, readings.text);
  const PhoneNumber* number = &readings.text.number;
  // "00" is the international call prefix of most of the world but not of every default region
  // (the US dials 011). A "00 49 ..." lead with region US, or with no region, was almost surely
  // written by someone dialing from Europe: when the region's reading fails, read "00" as "+".
  // No national number starts with "00" in a region whose prefix is not "00", so a number valid
  // in its region's reading is never reinterpreted.
  if (!status.ok() && StartsWithDoubleZero(text)) {
    readings.plus_form.emplace();
    if (ReadValid(util, PlusForm(text), region, *readings.plus_form).ok()) {
      number = &readings.plus_form->number;
      status = absl::OkStatus();
    }
  }
  if (!status.ok()) return status;

  Phone phone;
  util.Format(*number, PhoneNumberUtil::E164, &phone.e164);
  phone.extension = number->extension();
  return phone;
}

// PhoneFallbackKey; `known`, when given, holds NormalizePhone's readings of the same input,
// used instead of parsing again where they read the same text.
std::optional<std::string> Fallback(std::string_view raw, std::string_view default_region,
                                    const Readings* known) {
  constexpr size_t kMinDigits = 7;
  std::string_view text = internal::TrimSpace(raw);
  if (text.size() > kMaxInputBytes || !internal::IsValidUtf8(text)) return std::nullopt;
  text = text.substr(0, text.find_first_of("xX"));
  std::string digits;
  for (const char c : text) {
    if (c >= '0' && c <= '9') digits.push_back(c);
  }
  if (digits.size() < kMinDigits) return std::nullopt;
  // NormalizePhone read the whole trimmed text; only without an extension mark is that the text
  // read here.
  if (known != nullptr && (!known->filled || known->trimmed.size() != text.size())) {
    known = nullptr;
  }
  // Read the country calling code the way NormalizePhone would have: "00" as "+" first, since
  // that is how NormalizePhone rescues such numbers, then the text in the region.
  const PhoneNumberUtil& util = *PhoneNumberUtil::GetInstance();
  const std::string region = RegionCode(default_region);
  auto key_of = [&](const Reading& reading) -> std::optional<std::string> {
    if (!reading.parsed || reading.number.country_code() == 0) return std::nullopt;
    std::string national;
    util.GetNationalSignificantNumber(reading.number, &national);
    if (national.size() < kMinDigits) return std::nullopt;
    return absl::StrCat("fallback +", reading.number.country_code(), " ", national);
  };
  auto read = [&](const std::string& candidate) {
    Reading reading;
    reading.parsed =
        util.Parse(candidate, region, &reading.number) == PhoneNumberUtil::NO_PARSING_ERROR;
    return reading;
  };
  if (StartsWithDoubleZero(text)) {
    const std::optional<std::string> key = known != nullptr && known->plus_form
                                               ? key_of(*known->plus_form)
                                               : key_of(read(PlusForm(text)));
    if (key) return key;
  }
  const std::optional<std::string> key =
      known != nullptr ? key_of(known->text) : key_of(read(std::string(text)));
  if (key) return key;
  return absl::StrCat("fallback ", digits);
}

}  // namespace

absl::StatusOr<Phone> uncached::NormalizePhone(std::string_view raw,
                                               std::string_view default_region) {
  Readings readings;
  return Normalize(raw, default_region, readings);
}

std::optional<std::string> uncached::PhoneFallbackKey(std::string_view raw,
                                                      std::string_view default_region) {
  return Fallback(raw, default_region, nullptr);
}

std::optional<PhoneMatchKey> uncached::PhoneKeyForMatching(std::string_view raw,
                                                           std::string_view default_region) {
  Readings readings;
  absl::StatusOr<Phone> phone = Normalize(raw, default_region, readings);
  if (phone.ok()) return PhoneMatchKey{std::move(phone->e164), /*fallback=*/false};
  std::optional<std::string> fallback = Fallback(raw, default_region, &readings);
  if (!fallback) return std::nullopt;
  return PhoneMatchKey{*std::move(fallback), /*fallback=*/true};
}

}  // namespace leadrouter::normalize
