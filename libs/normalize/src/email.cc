#include <unicode/locid.h>
#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>
#include <unicode/utf8.h>

#include <algorithm>
#include <array>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "host.h"
#include "leadrouter/normalize/normalize.h"
#include "text.h"

namespace leadrouter::normalize {
namespace {

constexpr size_t kMaxLocalBytes = 64;     // RFC 5321 4.5.3.1.1
constexpr size_t kMaxAddressBytes = 254;  // RFC 5321 4.5.3.1.3 path limit minus "<>"

constexpr std::string_view kGmail = "gmail.com";
constexpr std::string_view kGooglemail = "googlemail.com";

// Consumer providers that deliver "local+anything" to the mailbox "local" for every account
// (sub-addressing on by default, not a per-user setting), so the tag never names another person.
// Every domain loses its tag now (unless configured otherwise); these differ in that a local
// part the rules leave empty or invalid is an error rather than kept as written. Yahoo is not
// here (its "-" disposable addresses are separate mailboxes); Gmail has its own rule below.
constexpr std::array<std::string_view, 13> kPlusTagProviders = {
    // Microsoft: Outlook.com, Hotmail, Live, MSN.
    "outlook.com",
    "hotmail.com",
    "live.com",
    "msn.com",
    // Apple iCloud Mail.
    "icloud.com",
    "me.com",
    "mac.com",
    // Fastmail.
    "fastmail.com",
    "fastmail.fm",
    // Proton Mail.
    "proton.me",
    "protonmail.com",
    "protonmail.ch",
    "pm.me",
};

bool IsPlusTagProvider(std::string_view domain) {
  return std::find(kPlusTagProviders.begin(), kPlusTagProviders.end(), domain) !=
         kPlusTagProviders.end();
}

// RFC 5322 "atext" (ASCII) plus the dot; RFC 6531 adds any non-ASCII UTF-8, checked apart.
bool IsAsciiLocalChar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  constexpr std::string_view kSpecials = "!#$%&'*+-/=?^_`{|}~.";
  return kSpecials.find(c) != std::string_view::npos;
}

// Strips one layer of "<...>" and one "mailto:" (either order), with white space inside.
std::string_view StripWrappers(std::string_view s) {
  s = internal::TrimSpace(s);
  for (int round = 0; round < 2; ++round) {
    if (s.size() >= 2 && s.front() == '<' && s.back() == '>') {
      s = internal::TrimSpace(s.substr(1, s.size() - 2));
    }
    if (internal::StartsWithIgnoreCase(s, "mailto:")) {
      s = internal::TrimSpace(s.substr(7));
      // A mailto: URI may carry "?subject=..." after the address; '?' cannot occur in a domain.
      const size_t at = s.find('@');
      if (const size_t q = s.find('?', at == std::string_view::npos ? 0 : at);
          at != std::string_view::npos && q != std::string_view::npos) {
        s = s.substr(0, q);
      }
    }
  }
  return s;
}

absl::Status CheckLocal(std::string_view local) {
  if (local.front() == '.' || local.back() == '.' || local.find("..") != std::string_view::npos) {
    return absl::InvalidArgumentError(
        "email local part starts or ends with a dot or has two dots in a row");
  }
  const auto* bytes = reinterpret_cast<const uint8_t*>(local.data());
  const auto size = static_cast<int32_t>(local.size());
  for (int32_t i = 0; i < size;) {
    const int32_t start = i;
    UChar32 c = 0;
    U8_NEXT(bytes, i, size, c);
    if (c < 0) return absl::InvalidArgumentError("email local part is not valid UTF-8");
    const bool ok = c < 0x80 ? IsAsciiLocalChar(local[static_cast<size_t>(start)])
                             : !u_isUWhiteSpace(c) && u_charType(c) != U_CONTROL_CHAR &&
                                   u_charType(c) != U_FORMAT_CHAR;
    if (!ok) {
      return absl::InvalidArgumentError(
          "email local part has a character not allowed in an unquoted address");
    }
  }
  return absl::OkStatus();
}

// Lower-cases the local part: ASCII directly, anything else with ICU (root locale, then NFC so
// that composed and decomposed spellings of one name agree).
absl::StatusOr<std::string> LowerLocal(std::string_view local) {
  std::string out(local);
  if (internal::IsAscii(out)) {
    internal::AsciiLowerInPlace(out);
    return out;
  }
  UErrorCode status = U_ZERO_ERROR;
  const icu::Normalizer2* nfc = icu::Normalizer2::getNFCInstance(status);
  if (U_FAILURE(status)) return absl::InternalError("email: ICU NFC data is unavailable");
  icu::UnicodeString u = icu::UnicodeString::fromUTF8(
      icu::StringPiece(local.data(), static_cast<int32_t>(local.size())));
  u.toLower(icu::Locale::getRoot());
  const icu::UnicodeString normalized = nfc->normalize(u, status);
  if (U_FAILURE(status)) return absl::InternalError("email: ICU normalization failed");
  out.clear();
  normalized.toUTF8String(out);
  return out;
}

}  // namespace

absl::StatusOr<Email> NormalizeEmail(std::string_view raw, const EmailRules& rules) {
  const std::string_view s = StripWrappers(raw);
  if (s.empty()) return absl::InvalidArgumentError("email is empty");
  if (internal::ContainsSpace(s)) return absl::InvalidArgumentError("email contains white space");
  const size_t at = s.find('@');
  if (at == std::string_view::npos) return absl::InvalidArgumentError("email has no '@'");
  if (s.find('@', at + 1) != std::string_view::npos) {
    return absl::InvalidArgumentError("email has more than one '@'");
  }
  const std::string_view raw_local = s.substr(0, at);
  const std::string_view raw_domain = s.substr(at + 1);
  if (raw_local.empty()) return absl::InvalidArgumentError("email has an empty local part");
  if (raw_domain.empty()) return absl::InvalidArgumentError("email has an empty domain");
  if (raw_local.size() > 4 * kMaxLocalBytes) {
    return absl::InvalidArgumentError("email local part is longer than 64 bytes");
  }
  if (absl::Status st = CheckLocal(raw_local); !st.ok()) return st;

  absl::StatusOr<std::string> domain = internal::CanonicalHost(raw_domain);
  if (!domain.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("email domain is not valid: ", domain.status().message()));
  }
  absl::StatusOr<std::string> local = LowerLocal(raw_local);
  if (!local.ok()) return local.status();
  // Checked after lower-casing (which can change the byte count of non-ASCII text), so that the
  // result, fed back in, passes the same check: f(f(x)) == f(x).
  if (local->size() > kMaxLocalBytes) {
    return absl::InvalidArgumentError("email local part is longer than 64 bytes");
  }

  Email email;
  email.domain = std::move(*domain);
  email.local = std::move(*local);
  if (email.domain == kGooglemail) email.domain = std::string(kGmail);
  const bool gmail = email.domain == kGmail;
  const bool keep_tag =
      std::find(rules.keep_plus_tags_domains.begin(), rules.keep_plus_tags_domains.end(),
                email.domain) != rules.keep_plus_tags_domains.end();
  if (gmail || IsPlusTagProvider(email.domain)) {
    if (!keep_tag) email.local.erase(std::min(email.local.find('+'), email.local.size()));
    if (gmail) std::erase(email.local, '.');
    if (email.local.empty()) {
      return absl::InvalidArgumentError("email local part is empty without its +tag and dots");
    }
    // "a.+tag" leaves "a.", which is not an address: rejected, so that every result is accepted
    // again unchanged.
    if (absl::Status st = CheckLocal(email.local); !st.ok()) return st;
  } else if (!keep_tag) {
    // Where the base would not be an address ("+tag", "a.+tag"), the local part stays as
    // written: still one key per spelling, and f(f(x)) == f(x).
    const std::string base = email.local.substr(0, email.local.find('+'));
    if (!base.empty() && CheckLocal(base).ok()) email.local = base;
  }
  email.address = email.local + "@" + email.domain;
  if (email.address.size() > kMaxAddressBytes) {
    return absl::InvalidArgumentError("email is longer than 254 bytes");
  }
  return email;
}

}  // namespace leadrouter::normalize
