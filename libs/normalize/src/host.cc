#include "host.h"

#include <idn2.h>

#include <algorithm>
#include <cstdint>
#include <memory>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "text.h"

namespace leadrouter::normalize::internal {
namespace {

constexpr size_t kMaxHostBytes = 253;
constexpr size_t kMaxLabelBytes = 63;

// Owns a string libidn2 allocated.
struct Idn2Free {
  void operator()(uint8_t* p) const { idn2_free(p); }
};
using Idn2String = std::unique_ptr<uint8_t, Idn2Free>;

bool IsLdh(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

bool AllDigits(std::string_view s) {
  if (s.empty()) return false;
  for (const char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

absl::Status CheckHostName(std::string_view host) {
  if (host.size() > kMaxHostBytes) {
    return absl::InvalidArgumentError("host name is longer than 253 bytes");
  }
  size_t labels = 0;
  std::string_view last;
  for (size_t start = 0; start <= host.size();) {
    const size_t dot = std::min(host.find('.', start), host.size());
    const std::string_view label = host.substr(start, dot - start);
    start = dot + 1;
    if (label.empty()) return absl::InvalidArgumentError("host name has an empty label");
    if (label.size() > kMaxLabelBytes) {
      return absl::InvalidArgumentError("host name has a label longer than 63 bytes");
    }
    for (const char c : label) {
      if (!IsLdh(c)) {
        return absl::InvalidArgumentError("host name has a character other than a-z, 0-9, '-'");
      }
    }
    if (label.front() == '-' || label.back() == '-') {
      return absl::InvalidArgumentError("host name has a label that starts or ends with '-'");
    }
    ++labels;
    last = label;
  }
  if (labels < 2) return absl::InvalidArgumentError("host name has a single label");
  if (AllDigits(last)) return absl::InvalidArgumentError("an IP address is not a host name");
  return absl::OkStatus();
}

// Only a-z, 0-9, '-' and '.', and no "--" anywhere: UTS #46 refuses "--" in a label's third and
// fourth places unless the label is Punycode ("xn--"), which libidn2 must decode and check.
bool IsPlainAsciiHost(std::string_view host) {
  for (const char c : host) {
    if (!IsLdh(c) && c != '.') return false;
  }
  return host.find("--") == std::string_view::npos;
}

}  // namespace

absl::StatusOr<std::string> CanonicalHost(std::string_view host) {
  if (host.empty()) return absl::InvalidArgumentError("host name is empty");
  // Cheap rejections first, so that libidn2 only ever sees plausible input (and never a NUL).
  if (host.size() > 4 * kMaxHostBytes) {
    return absl::InvalidArgumentError("host name is longer than 253 bytes");
  }
  if (!IsValidUtf8(host)) return absl::InvalidArgumentError("host name is not valid UTF-8");
  if (ContainsSpace(host)) return absl::InvalidArgumentError("host name contains white space");

  std::string lower(host);
  AsciiLowerInPlace(lower);
  // Most hosts are already plain ASCII names. UTS #46 maps a-z, 0-9, '-' and '.' to themselves
  // and libidn2 copies ASCII labels unchanged, so such a host that is also well formed is its
  // own canonical form; skipping libidn2 for it saved ~8% of the daemon's CPU. Anything else
  // (non-ASCII, "--", a malformed name whose error message libidn2 words) takes the full lookup.
  if (IsPlainAsciiHost(lower)) {
    std::string_view name = lower;
    if (name.back() == '.') name.remove_suffix(1);
    if (!name.empty() && CheckHostName(name).ok()) return std::string(name);
  }
  uint8_t* out = nullptr;
  const int rc = idn2_lookup_u8(reinterpret_cast<const uint8_t*>(lower.c_str()), &out,
                                IDN2_NONTRANSITIONAL | IDN2_NFC_INPUT);
  const Idn2String owned(out);
  if (rc != IDN2_OK || owned == nullptr) {
    // idn2_strerror_name gives a stable identifier ("IDN2_DISALLOWED"), not the input.
    return absl::InvalidArgumentError(absl::StrCat(
        "host name is not a valid internationalized domain name (", idn2_strerror_name(rc), ")"));
  }
  std::string a_labels(reinterpret_cast<const char*>(owned.get()));
  // One trailing dot (the DNS root: "acme.com." is "acme.com") is dropped after the mapping, as
  // UTS #46 also maps U+3002 and U+FF0E to '.'; a second one is an empty label.
  if (!a_labels.empty() && a_labels.back() == '.') a_labels.pop_back();
  if (a_labels.empty()) return absl::InvalidArgumentError("host name is empty");
  if (absl::Status s = CheckHostName(a_labels); !s.ok()) return s;
  return a_labels;
}

}  // namespace leadrouter::normalize::internal
