#include "fields.h"

#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>

#include "leadrouter/normalize/normalize.h"
#include "leadrouter/qualify/qualifier.h"

namespace leadrouter::qualify::internal {
namespace {

constexpr size_t kMaxDisplayBytes = 64;

struct NamedField {
  std::string_view name;
  FieldId id;
};

constexpr std::array<NamedField, 20> kFields{{
    {"company.employee_count", FieldId::kEmployeeCount},
    {"company.annual_revenue_usd", FieldId::kAnnualRevenueUsd},
    {"company.location_count", FieldId::kLocationCount},
    {"company.country", FieldId::kCountry},
    {"company.region", FieldId::kRegion},
    {"company.postal_code", FieldId::kPostalCode},
    {"company.industry", FieldId::kIndustry},
    {"company.name", FieldId::kCompanyName},
    {"company.domain", FieldId::kCompanyDomain},
    {"person.email", FieldId::kEmail},
    {"person.email_domain", FieldId::kEmailDomain},
    {"person.phone", FieldId::kPhone},
    {"person.title", FieldId::kTitle},
    {"person.is_free_mail", FieldId::kIsFreeMail},
    {"psychographics.buying_priority", FieldId::kBuyingPriority},
    {"psychographics.innovation_appetite", FieldId::kInnovationAppetite},
    {"psychographics.intent_score", FieldId::kIntentScore},
    {"source_kind", FieldId::kSourceKind},
    {"source_system", FieldId::kSourceSystem},
    {"campaign", FieldId::kCampaign},
}};

constexpr std::string_view kAttributesPrefix = "attributes.";

bool IsBlank(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsBlank(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsBlank(s.back())) s.remove_suffix(1);
  return s;
}

std::string StripPrefix(const std::string& name, std::string_view prefix) {
  if (name.size() <= prefix.size() || name.compare(0, prefix.size(), prefix) != 0) return "";
  const std::string rest = name.substr(prefix.size());
  return rest == "UNSPECIFIED" ? "" : rest;
}

std::optional<FieldValue> Text(const std::string& s) {
  if (s.empty()) return std::nullopt;
  return FieldValue{s, std::nullopt};
}

std::optional<FieldValue> Number(int64_t n) {
  if (n == 0) return std::nullopt;
  return FieldValue{std::to_string(n), static_cast<double>(n)};
}

}  // namespace

std::optional<FieldRef> ResolveField(const std::string& name) {
  for (const NamedField& f : kFields) {
    if (name == f.name) return FieldRef{f.id, name, ""};
  }
  if (name.size() > kAttributesPrefix.size() &&
      name.compare(0, kAttributesPrefix.size(), kAttributesPrefix) == 0) {
    return FieldRef{FieldId::kAttribute, name, name.substr(kAttributesPrefix.size())};
  }
  return std::nullopt;
}

bool IsNumericField(FieldId id) {
  switch (id) {
    case FieldId::kEmployeeCount:
    case FieldId::kAnnualRevenueUsd:
    case FieldId::kLocationCount:
    case FieldId::kIntentScore:
      return true;
    case FieldId::kCountry:
    case FieldId::kRegion:
    case FieldId::kPostalCode:
    case FieldId::kIndustry:
    case FieldId::kCompanyName:
    case FieldId::kCompanyDomain:
    case FieldId::kEmail:
    case FieldId::kEmailDomain:
    case FieldId::kPhone:
    case FieldId::kTitle:
    case FieldId::kIsFreeMail:
    case FieldId::kBuyingPriority:
    case FieldId::kInnovationAppetite:
    case FieldId::kSourceKind:
    case FieldId::kSourceSystem:
    case FieldId::kCampaign:
    case FieldId::kAttribute:
      return false;
  }
  return false;
}

std::optional<double> ParseNumber(std::string_view s) {
  s = Trim(s);
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  if (s.empty()) return std::nullopt;
  double x = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), x);
  if (ec != std::errc() || end != s.data() + s.size() || !std::isfinite(x)) return std::nullopt;
  return x;
}

std::string FormatNumber(double x) {
  if (std::isfinite(x) && x == std::trunc(x) && std::fabs(x) < 1e15) {
    return std::to_string(static_cast<int64_t>(x));
  }
  std::array<char, 64> buf{};
  const auto [end, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), x);
  if (ec != std::errc()) return "?";
  return std::string(buf.data(), end);
}

std::string AsciiLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string EmailDomain(std::string_view email) {
  email = Trim(email);
  const auto at = email.rfind('@');
  if (at == std::string_view::npos) return "";
  std::string_view domain = email.substr(at + 1);
  while (!domain.empty() && domain.back() == '.') domain.remove_suffix(1);
  return AsciiLower(domain);
}

std::string ShortName(v1::LeadSourceKind kind) {
  return StripPrefix(v1::LeadSourceKind_Name(kind), "LEAD_SOURCE_KIND_");
}

std::string ShortName(v1::BuyingPriority priority) {
  return StripPrefix(v1::BuyingPriority_Name(priority), "BUYING_PRIORITY_");
}

std::string ShortName(v1::InnovationAppetite appetite) {
  return StripPrefix(v1::InnovationAppetite_Name(appetite), "INNOVATION_APPETITE_");
}

std::optional<v1::LeadSourceKind> ParseSourceKind(std::string_view short_name) {
  std::string upper(short_name);
  for (char& c : upper) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  v1::LeadSourceKind kind = v1::LEAD_SOURCE_KIND_UNSPECIFIED;
  if (upper.empty() || !v1::LeadSourceKind_Parse("LEAD_SOURCE_KIND_" + upper, &kind) ||
      kind == v1::LEAD_SOURCE_KIND_UNSPECIFIED) {
    return std::nullopt;
  }
  return kind;
}

std::string CompanyDomainOf(std::string_view website, const std::string& email_domain,
                            bool email_is_free_mail) {
  // Registrable domains (Public Suffix List), so "https://shop.acme.co.uk/x" and
  // "jane@mail.acme.co.uk" both give "acme.co.uk"; "" for IPs, bare suffixes, single labels.
  std::string domain = normalize::RegistrableDomain(website);
  if (!domain.empty()) return domain;
  return email_is_free_mail ? "" : normalize::RegistrableDomain(email_domain);
}

LeadView::LeadView(const v1::LeadEvent& lead,
                   const std::unordered_set<std::string>& extra_free_mail)
    : lead_(lead), email_domain_(EmailDomain(lead.person().email())) {
  // "mail.gmail.com" is as free as "gmail.com": check the registrable domain too.
  const std::string registrable = normalize::RegistrableDomain(email_domain_);
  auto free = [&extra_free_mail](const std::string& d) {
    return !d.empty() && (IsFreeMailDomain(d) || extra_free_mail.contains(d));
  };
  is_free_mail_ = free(email_domain_) || free(registrable);
  company_domain_ = CompanyDomainOf(lead.company().website(), email_domain_, is_free_mail_);
}

std::optional<FieldValue> LeadView::Get(const FieldRef& field) const {
  const v1::Company& company = lead_.company();
  const v1::Person& person = lead_.person();
  switch (field.id) {
    case FieldId::kEmployeeCount:
      return Number(company.employee_count());
    case FieldId::kAnnualRevenueUsd:
      return Number(company.annual_revenue_usd());
    case FieldId::kLocationCount:
      return Number(company.location_count());
    case FieldId::kCountry:
      return Text(company.country());
    case FieldId::kRegion:
      return Text(company.region());
    case FieldId::kPostalCode:
      return Text(company.postal_code());
    case FieldId::kIndustry:
      return Text(company.industry());
    case FieldId::kCompanyName:
      return Text(company.name());
    case FieldId::kCompanyDomain:
      return Text(company_domain_);
    case FieldId::kEmail:
      return Text(person.email());
    case FieldId::kEmailDomain:
      return Text(email_domain_);
    case FieldId::kPhone:
      return Text(person.phone());
    case FieldId::kTitle:
      return Text(person.title());
    case FieldId::kIsFreeMail:
      if (email_domain_.empty()) return std::nullopt;
      return FieldValue{is_free_mail_ ? "true" : "false", std::nullopt};
    case FieldId::kBuyingPriority:
      return Text(ShortName(lead_.psychographics().buying_priority()));
    case FieldId::kInnovationAppetite:
      return Text(ShortName(lead_.psychographics().innovation_appetite()));
    case FieldId::kIntentScore:
      return Number(lead_.psychographics().intent_score());
    case FieldId::kSourceKind:
      return Text(ShortName(lead_.source_kind()));
    case FieldId::kSourceSystem:
      return Text(lead_.source_system());
    case FieldId::kCampaign:
      return Text(lead_.campaign());
    case FieldId::kAttribute: {
      const auto it = lead_.attributes().find(field.attribute_key);
      if (it == lead_.attributes().end() || it->second.empty()) return std::nullopt;
      return FieldValue{it->second, ParseNumber(it->second)};
    }
  }
  return std::nullopt;
}

std::string LeadView::Display(const FieldRef& field, const std::optional<FieldValue>& value) const {
  if (!value) return "<absent>";
  switch (field.id) {
    case FieldId::kEmail:
      return email_domain_.empty() ? "<redacted>" : "*@" + email_domain_;
    case FieldId::kPhone: {
      if (value->text.size() <= 2) return "*";
      // Appended, not `"*" + substr(...)`: GCC 12 at -O3 reports a false -Wrestrict there.
      std::string masked = "*";
      masked.append(value->text, value->text.size() - 2, 2);
      return masked;
    }
    case FieldId::kEmployeeCount:
    case FieldId::kAnnualRevenueUsd:
    case FieldId::kLocationCount:
    case FieldId::kCountry:
    case FieldId::kRegion:
    case FieldId::kPostalCode:
    case FieldId::kIndustry:
    case FieldId::kCompanyName:
    case FieldId::kCompanyDomain:
    case FieldId::kEmailDomain:
    case FieldId::kTitle:
    case FieldId::kIsFreeMail:
    case FieldId::kBuyingPriority:
    case FieldId::kInnovationAppetite:
    case FieldId::kIntentScore:
    case FieldId::kSourceKind:
    case FieldId::kSourceSystem:
    case FieldId::kCampaign:
    case FieldId::kAttribute:
      break;
  }
  if (value->text.size() <= kMaxDisplayBytes) return value->text;
  return value->text.substr(0, kMaxDisplayBytes) + "...";
}

}  // namespace leadrouter::qualify::internal
