// The cached entry points of normalize.h: each a Memo in front of its uncached:: function.
#include <string>

#include "leadrouter/normalize/normalize.h"
#include "memo.h"

namespace leadrouter::normalize {
namespace {

size_t StringBytes(const std::string& s) {
  return s.size();
}

size_t OptionalStringBytes(const std::optional<std::string>& s) {
  return s ? s->size() : 0;
}

size_t PhoneKeyBytes(const std::optional<PhoneMatchKey>& key) {
  return key ? key->key.size() : 0;
}

size_t PhoneBytes(const absl::StatusOr<Phone>& phone) {
  return phone.ok() ? phone->e164.size() + phone->extension.size()
                    : phone.status().message().size();
}

// Budgets: a few MiB each holds tens of thousands of typical inputs (a phone entry is ~140
// bytes as charged, a company name ~130), far more distinct companies than a day of leads names.
using PhoneMemo = internal::Memo<absl::StatusOr<Phone>, &PhoneBytes>;
using PhoneKeyMemo = internal::Memo<std::optional<PhoneMatchKey>, &PhoneKeyBytes>;
using FallbackMemo = internal::Memo<std::optional<std::string>, &OptionalStringBytes>;
using StringMemo = internal::Memo<std::string, &StringBytes>;

// Never destroyed: threads still running during static destruction may normalize.
PhoneMemo& Phones() {
  static PhoneMemo* const memo = new PhoneMemo("phone", 4 << 20);
  return *memo;
}
PhoneKeyMemo& PhoneKeys() {
  static PhoneKeyMemo* const memo = new PhoneKeyMemo("phone_key", 4 << 20);
  return *memo;
}
FallbackMemo& Fallbacks() {
  static FallbackMemo* const memo = new FallbackMemo("phone_fallback", 1 << 20);
  return *memo;
}
StringMemo& Domains() {
  static StringMemo* const memo = new StringMemo("registrable_domain", 2 << 20);
  return *memo;
}
StringMemo& CompanyNames() {
  static StringMemo* const memo = new StringMemo("company_name", 2 << 20);
  return *memo;
}

// The region as given and the raw text: both decide the result. '\n' separates them (a region
// holding one is not a region, and still gives a distinct key).
std::string PhoneKey(std::string_view raw, std::string_view region) {
  std::string key;
  key.reserve(region.size() + 1 + raw.size());
  key.append(region).append(1, '\n').append(raw);
  return key;
}

}  // namespace

absl::StatusOr<Phone> NormalizePhone(std::string_view raw, std::string_view default_region) {
  return Phones().Get(PhoneKey(raw, default_region),
                      [&] { return uncached::NormalizePhone(raw, default_region); });
}

std::optional<std::string> PhoneFallbackKey(std::string_view raw, std::string_view default_region) {
  return Fallbacks().Get(PhoneKey(raw, default_region),
                         [&] { return uncached::PhoneFallbackKey(raw, default_region); });
}

std::optional<PhoneMatchKey> PhoneKeyForMatching(std::string_view raw,
                                                 std::string_view default_region) {
  return PhoneKeys().Get(PhoneKey(raw, default_region),
                         [&] { return uncached::PhoneKeyForMatching(raw, default_region); });
}

std::string RegistrableDomain(std::string_view host_or_url) {
  return Domains().Get(host_or_url, [&] { return uncached::RegistrableDomain(host_or_url); });
}

std::string CompanyNameKey(std::string_view name) {
  return CompanyNames().Get(name, [&] { return uncached::CompanyNameKey(name); });
}

std::vector<CacheStats> CacheStatistics() {
  return {Phones().Stats(), Fallbacks().Stats(), PhoneKeys().Stats(), Domains().Stats(),
          CompanyNames().Stats()};
}

}  // namespace leadrouter::normalize
