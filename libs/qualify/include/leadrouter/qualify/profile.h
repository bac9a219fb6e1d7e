#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace leadrouter::qualify {

// The ideal-customer profile as plain data: what the config file says, before compilation.
// libs/config parses YAML into these structs; Qualifier::Create compiles and checks them.
//
// Fields a condition can look at (strings unless noted; enums by their short name, e.g. "VALUE",
// "EARLY_ADOPTER", "PARTNER"; a field is "absent" when empty / 0 / UNSPECIFIED):
//   company.employee_count (number)     company.annual_revenue_usd (number)
//   company.location_count (number)     company.country   company.region   company.postal_code
//   company.industry   company.name     company.domain   (registrable-ish domain from website,
//                                                        else from a non-free-mail email)
//   person.email   person.email_domain  person.phone   person.title
//   person.is_free_mail ("true"/"false": email domain in the shipped consumer-mail list or
//                        the profile's extra_free_mail_domains)
//   psychographics.buying_priority   psychographics.innovation_appetite
//   psychographics.intent_score (number)
//   source_kind   source_system   campaign
//   attributes.<key>  (any free attribute; a number where the value parses as one)
// String comparisons are case-insensitive (both sides lower-cased); regexes (RE2) see the
// original value.
//
// How the fields are read from a leadrouter.v1.LeadEvent:
//   - Enums by short name: the enum's prefix stripped (LEAD_SOURCE_KIND_PARTNER → "PARTNER",
//     BUYING_PRIORITY_VALUE → "VALUE", INNOVATION_APPETITE_EARLY_ADOPTER → "EARLY_ADOPTER");
//     UNSPECIFIED and numbers the schema does not know are absent.
//   - Numbers: 0 is absent (the proto says "0 = unknown").
//   - person.email_domain: after the last '@', lower-cased, trailing dot removed.
//   - person.is_free_mail: absent when there is no email domain.
//   - company.domain: the host of company.website (scheme, user info, path/query/fragment, port,
//     a leading "www." and a trailing dot removed, lower-cased; it must contain a dot and only
//     host characters, so "n/a" is ignored); else the email domain when it is not free mail
//     (shipped list or extra_free_mail_domains); else absent. No public-suffix handling yet:
//     "shop.acme.co.uk" stays "shop.acme.co.uk".
//   - attributes.<key>: the key is matched exactly (case-sensitive); an empty value is absent.
//
// Operators on an absent field are all false, so only a negated condition holds there ("not
// exists" holds for an absent field; "not equals X" holds too). kBetween / kAtLeast on a value
// that does not parse as a finite number are false. kEquals / kIn compare numerically when both
// the observed value and the configured value are numbers ("250.0" equals "250"), otherwise as
// lower-cased ASCII strings.

enum class Operator {
  kEquals,   // values[0]
  kIn,       // any of values
  kBetween,  // low <= x <= high (numbers)
  kAtLeast,  // x >= low (numbers)
  kMatches,  // RE2 partial match of values[0] (case-sensitive; "(?i)" for insensitive)
  kExists,   // field present
};

struct Condition {
  std::string field;
  Operator op = Operator::kExists;
  std::vector<std::string> values;  // kEquals, kIn, kMatches
  double low = 0;                   // kBetween, kAtLeast
  double high = 0;                  // kBetween
  bool negate = false;              // "not": the condition holds when the test fails
  // Create refuses: an unknown field; kEquals / kMatches without exactly one value; kIn without
  // values; a regex RE2 cannot compile; kBetween with low > high; kBetween / kAtLeast on a field
  // that is never numeric (attributes.* are allowed); non-finite bounds.
};

// Must hold, or the lead is DISQUALIFIED with `name` as the reason. Requirement and criterion
// names are non-empty and unique across both lists.
struct Requirement {
  std::string name;
  Condition condition;
};

// Adds `points` (may be negative) to the raw score when the condition holds.
struct Criterion {
  std::string name;
  Condition condition;
  int points = 0;
};

// score >= qualified → QUALIFIED; score >= nurture → NURTURE; below → DISQUALIFIED.
// Both in 0..100 and nurture <= qualified, or Create refuses the profile.
struct Thresholds {
  int qualified = 60;
  int nurture = 30;
};

// A named segment the lead joins when all its conditions hold (e.g. "enterprise-innovators").
// A segment without conditions is joined by every lead. Names are non-empty and unique among
// segments.
struct Segment {
  std::string name;
  std::vector<Condition> all_of;
};

struct Profile {
  std::vector<Requirement> requirements;
  std::vector<Criterion> criteria;
  Thresholds thresholds;
  // Per lead source kind (short name, e.g. "REP_SOURCED", any case), overriding `thresholds`.
  // Unknown names and "UNSPECIFIED" are refused.
  std::map<std::string, Thresholds> thresholds_by_source;
  std::vector<Segment> segments;
  // Added to the shipped consumer-mail list (lower-cased, a leading '@' dropped; empty refused).
  std::vector<std::string> extra_free_mail_domains;
};

}  // namespace leadrouter::qualify
