#pragma once

// Private to leadrouter::qualify: the fields a condition can address, and how each is read from
// a LeadEvent. See profile.h for the public list.

#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>

#include "leadrouter/v1/lead.pb.h"

namespace leadrouter::qualify::internal {

enum class FieldId {
  kEmployeeCount,
  kAnnualRevenueUsd,
  kLocationCount,
  kCountry,
  kRegion,
  kPostalCode,
  kIndustry,
  kCompanyName,
  kCompanyDomain,
  kEmail,
  kEmailDomain,
  kPhone,
  kTitle,
  kIsFreeMail,
  kBuyingPriority,
  kInnovationAppetite,
  kIntentScore,
  kSourceKind,
  kSourceSystem,
  kCampaign,
  kAttribute,
};

struct FieldRef {
  FieldId id = FieldId::kAttribute;
  std::string name;           // as written in the profile, e.g. "attributes.plan"
  std::string attribute_key;  // kAttribute only
};

// nullopt for an unknown name (including "attributes." with an empty key).
std::optional<FieldRef> ResolveField(const std::string& name);

// True for the fields that are always numbers (the proto integer fields). attributes.* are
// numeric when their value parses as a number, so numeric operators are allowed on them too.
bool IsNumericField(FieldId id);

// An observed value. `text` is the original string (numbers in decimal); `number` is set when
// the value is a finite number (always for the numeric fields).
struct FieldValue {
  std::string text;
  std::optional<double> number;
};

// Parses a whole string (surrounding ASCII blanks allowed) as a finite decimal number.
std::optional<double> ParseNumber(std::string_view s);

// Formats a number for explanations: integers without a fraction, others in shortest form.
std::string FormatNumber(double x);

std::string AsciiLower(std::string_view s);

// The domain part of an email (after the last '@'), lower-cased and without a trailing dot;
// "" when there is none.
std::string EmailDomain(std::string_view email);

// The registrable domain (Public Suffix List) of the website, else of the email domain unless
// it is a free-mail one; "" when neither. "https://shop.acme.co.uk/x" -> "acme.co.uk".
std::string CompanyDomainOf(std::string_view website, const std::string& email_domain,
                            bool email_is_free_mail);

// Enum short names: the value's name without the enum's prefix; "" for UNSPECIFIED and for
// numbers the schema does not know.
std::string ShortName(v1::LeadSourceKind kind);
std::string ShortName(v1::BuyingPriority priority);
std::string ShortName(v1::InnovationAppetite appetite);

// "PARTNER" (any case) → LEAD_SOURCE_KIND_PARTNER; nullopt for unknown names and UNSPECIFIED.
std::optional<v1::LeadSourceKind> ParseSourceKind(std::string_view short_name);

// One lead as seen by the rules: derived values (email domain, free mail, company domain) are
// computed once. Borrows `lead` and `extra_free_mail`; both must outlive the view.
class LeadView {
 public:
  LeadView(const v1::LeadEvent& lead, const std::unordered_set<std::string>& extra_free_mail);

  // nullopt when the field is absent (empty string, 0, UNSPECIFIED, missing attribute).
  std::optional<FieldValue> Get(const FieldRef& field) const;

  // The observed value as shown in explanations: "<absent>", the value (long values cut), and
  // with PII reduced: person.email shows "*@domain", person.phone only its last two characters.
  std::string Display(const FieldRef& field, const std::optional<FieldValue>& value) const;

 private:
  const v1::LeadEvent& lead_;
  std::string email_domain_;
  bool is_free_mail_ = false;
  std::string company_domain_;
};

}  // namespace leadrouter::qualify::internal
