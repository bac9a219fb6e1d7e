// The shipped consumer-mail list (data/free_mail_domains.txt, embedded at build time).

#include <string>
#include <string_view>
#include <unordered_set>

#include "fields.h"
#include "leadrouter/qualify/qualifier.h"

namespace leadrouter::qualify {
namespace internal {

extern const char kFreeMailDomainsText[];

namespace {

// One domain per line; '#' starts a comment; blanks are ignored; entries are lower-cased.
std::unordered_set<std::string> ParseList(std::string_view text) {
  std::unordered_set<std::string> out;
  while (!text.empty()) {
    const auto nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    line = line.substr(0, line.find('#'));
    while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
    while (!line.empty() && (line.back() == ' ' || line.back() == '\t' || line.back() == '\r')) {
      line.remove_suffix(1);
    }
    if (!line.empty()) out.insert(AsciiLower(line));
  }
  return out;
}

}  // namespace
}  // namespace internal

bool IsFreeMailDomain(const std::string& domain) {
  static const auto* const kDomains =
      new std::unordered_set<std::string>(internal::ParseList(internal::kFreeMailDomainsText));
  return kDomains->contains(domain);
}

std::string CompanyDomain(const v1::LeadEvent& lead) {
  const std::string email_domain = internal::EmailDomain(lead.person().email());
  return internal::CompanyDomainOf(lead.company().website(), email_domain,
                                   IsFreeMailDomain(email_domain));
}

}  // namespace leadrouter::qualify
