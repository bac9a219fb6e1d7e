#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace leadrouter::normalize {

// Canonical forms of the identifying fields of a lead, so that equivalent spellings of one
// person or company map to one key (dedupe, account matching) and to one value in rules.
//
// Every function is pure (no I/O after the process-wide data is loaded on first use: the Public
// Suffix List from /usr/share/publicsuffix via libpsl, libphonenumber's metadata, ICU's data),
// thread-safe, and idempotent: f(f(x)) == f(x) for every accepted x.
//
// NormalizePhone, PhoneFallbackKey, PhoneKeyForMatching, RegistrableDomain and CompanyNameKey
// remember their results in process-wide caches bounded in bytes (see CacheStatistics): the same
// inputs recur (a company name, a website, a person who signs up twice), and parsing a phone
// number or folding a company name costs microseconds. A cached result is the result, byte for
// byte; the functions in namespace `uncached` below compute it every time.

// An e-mail address in canonical form.
struct Email {
  std::string address;  // local + "@" + domain: the dedupe key's input
  std::string local;    // after provider rules (case, Gmail dots, +tags)
  std::string domain;   // lower-case ASCII (IDN domains as A-labels, "xn--..."), no trailing dot
};

// Which "+tag" rules apply. A value type that views its strings: they must outlive the call.
struct EmailRules {
  // Canonical domains (lower-case, A-labels: what Email::domain holds) where "local+tag" is a
  // different mailbox from "local", so the tag is kept; config `dedupe.keep_plus_tags_domains`.
  std::span<const std::string> keep_plus_tags_domains;
};

// Trims surrounding whitespace (and a surrounding "<...>" or "mailto:"), lower-cases (non-ASCII
// local parts with ICU, then NFC), converts an internationalized domain to its A-label form
// (libidn2, UTS #46 non-transitional: "straße.de" stays distinct from "strasse.de"), drops one
// trailing dot of the domain ("acme.com." is "acme.com"), maps googlemail.com to gmail.com, and
// applies the provider rules: Gmail ignores dots; a "+tag" is dropped on every domain not in
// `rules.keep_plus_tags_domains`, since most mail, business domains on Google Workspace and
// Microsoft 365 included, delivers "local+tag" to "local" ("jane+webinar@acme.com" is
// "jane@acme.com"). On the providers known to do so for every account (gmail.com, outlook.com,
// hotmail.com, live.com, msn.com, icloud.com, me.com, mac.com, fastmail.com, fastmail.fm,
// proton.me, protonmail.com, protonmail.ch, pm.me) a local part left empty or invalid by the
// rules ("+tag@gmail.com", "a.+x@outlook.com") is an error; on other domains such a local part
// keeps its tag instead, as written (lower-cased).
// InvalidArgument (saying why, never echoing the address) for anything that is not a single
// address: no or several '@', empty local part, white space anywhere, a local part that is not
// an unquoted dot-atom (RFC 5322/6531: quoted local parts such as "j d"@x.com are refused) or
// is longer than 64 bytes, a domain that is not a valid host name with at least two labels
// (IP addresses and "[...]" literals included), a local part left empty by the rules.
absl::StatusOr<Email> NormalizeEmail(std::string_view raw, const EmailRules& rules = {});

// A telephone number in E.164 form.
struct Phone {
  std::string e164;       // "+14155552671"
  std::string extension;  // digits of "ext. 12" / "x12", kept apart; "" when none
};

// Parses with libphonenumber: formatting characters are ignored, a number without a country code
// takes `default_region` (ISO 3166-1 alpha-2, e.g. "US", "DE"; upper or lower case; anything else,
// "" included, is an unknown region), "+" and the region's international prefix ("00", "011",
// ...) are understood, and a leading "00" is also read as "+" when the region's own reading is
// not a valid number (a "0049 ..." lead filed under US). Vanity letters are dialled as digits
// ("1-800-FLOWERS" is +18003569377), as libphonenumber does.
// InvalidArgument when the text is not a valid number (libphonenumber's IsValidNumber: right
// length and inside a range the country has assigned, per the metadata shipped with the Debian
// package, so ranges opened after that release are refused): too short or long, not a number,
// unknown region and no country code, an unassigned range such as +1 555 555 5555.
absl::StatusOr<Phone> NormalizePhone(std::string_view raw, std::string_view default_region);

// For a number NormalizePhone refuses (a typo, a fake exchange, a range opened after the
// metadata) that still identifies whoever typed it: a key from its digits, so the same digits
// twice are one person. Digits after an extension mark ('x', 'X') are left out; fewer than 7
// digits before it give nullopt. When libphonenumber can read a country calling code (a "+",
// the region's international prefix, a leading "00" read as "+" as in NormalizePhone, or the
// region's own code), the key is "fallback +<code> <national significant number>", else
// "fallback <digits>": "001 (864) 030-2177", "+1 864 030 2177" and "(864) 030-2177" in US are
// all "fallback +1 8640302177". Never an E.164 string, so it cannot collide with the key of a
// valid number. Only meant for text NormalizePhone refused (for a valid number it still returns
// a fallback, not its E.164). Pure and thread-safe.
std::optional<std::string> PhoneFallbackKey(std::string_view raw, std::string_view default_region);

// The key a phone number is matched by: NormalizePhone's E.164 form when the number is valid,
// else PhoneFallbackKey's (fallback = true), else nullopt; exactly what calling the two in turn
// gives, with the text parsed once where both would parse it.
struct PhoneMatchKey {
  std::string key;
  bool fallback = false;
  friend bool operator==(const PhoneMatchKey&, const PhoneMatchKey&) = default;
};
std::optional<PhoneMatchKey> PhoneKeyForMatching(std::string_view raw,
                                                 std::string_view default_region);

// The registrable domain ("eTLD+1", Public Suffix List) of a host, URL or e-mail domain:
// "https://Shop.ACME.co.uk:8443/path?q" -> "acme.co.uk", "www.acme.com" -> "acme.com",
// "bücher.de" -> "xn--bcher-kva.de". Scheme, user info, port, path, query, fragment and a
// trailing dot are ignored, as is a "user@" ("jane@mail.acme.co.uk" -> "acme.co.uk"). The whole
// list counts, private section included: "foo.github.io" -> "foo.github.io", and "github.io",
// itself a suffix, -> "". A top-level domain the list does not know falls under its implicit "*"
// rule ("acme.internal" -> "acme.internal"). Returns "" when there is none: empty input, an IP
// address, a bare public suffix ("co.uk"), a single label ("localhost"), an invalid host name
// (white space, '_', an empty label, a label over 63 bytes).
std::string RegistrableDomain(std::string_view host_or_url);

// A company name reduced for matching: Unicode NFKC + case folding (ICU; fullwidth letters,
// ligatures, "ß" -> "ss"), diacritics removed ("Müller" -> "muller", not "mueller"; letters that
// do not decompose, such as "ø" and "ł", stay), "&" and "+" read as "and", "." and apostrophes
// dropped inside words ("S.A." -> "sa", "O'Brien" -> "obrien"), other punctuation and symbols
// ("™" included) splitting words, whitespace collapsed to one space, and trailing legal-form
// suffixes removed repeatedly together with an "and" before them (Inc, Incorporated, Corp,
// Corporation, Co, Company, LLC, LLP, L.P., Ltd, Limited, PLC, GmbH, AG, KG, SE, S.A., SAS, SARL,
// S.p.A., S.r.l., B.V., N.V., Oy, AB, AS, A/S, ApS, Pty, Pty Ltd, K.K., sp. z o.o., S.A. de C.V.,
// ...: "Foo GmbH & Co. KG" -> "foo"), leading "the" removed. "ACME, Inc." == "Acme Inc" ==
// "acme"; "Smith & Sons Ltd" == "Smith and Sons Limited" == "smith and sons".
// Returns "" when nothing distinctive is left (e.g. "Inc.", "The Company", "" or only
// punctuation), and for input over 1 MiB.
std::string CompanyNameKey(std::string_view name);

// One of the caches above: lookups answered from it (hits) or computed (misses), and what it
// holds now against its budget (entries are charged their key and value bytes plus an estimated
// overhead; inputs over 256 bytes are never stored).
struct CacheStats {
  // "phone", "phone_fallback", "phone_key", "registrable_domain", "company_name"
  std::string_view name;
  uint64_t hits = 0;
  uint64_t misses = 0;
  size_t entries = 0;
  size_t bytes = 0;
  size_t budget_bytes = 0;
};
// Every cache's counters since the process started. Thread-safe.
std::vector<CacheStats> CacheStatistics();

// The same functions without the caches: for tests that compare the two, and benchmarks.
namespace uncached {
absl::StatusOr<Phone> NormalizePhone(std::string_view raw, std::string_view default_region);
std::optional<std::string> PhoneFallbackKey(std::string_view raw, std::string_view default_region);
std::optional<PhoneMatchKey> PhoneKeyForMatching(std::string_view raw,
                                                 std::string_view default_region);
std::string RegistrableDomain(std::string_view host_or_url);
std::string CompanyNameKey(std::string_view name);
}  // namespace uncached

}  // namespace leadrouter::normalize
