#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "leadrouter/qualify/profile.h"
#include "leadrouter/v1/lead.pb.h"

namespace leadrouter::qualify {

enum class Outcome { kQualified, kNurture, kDisqualified };

// "qualified", "nurture", "disqualified": stable metric labels.
const char* OutcomeName(Outcome outcome);

// One rule as evaluated for one lead.
struct RuleResult {
  enum class Kind { kRequirement, kCriterion, kSegment };
  Kind kind;
  std::string name;
  bool fired = false;  // requirement: held; criterion: matched; segment: joined
  int points = 0;      // criterion points added (0 when not fired)
  // The observed value and the test, e.g. "company.employee_count=1200 at_least 200",
  // "person.email_domain=<absent> exists", "company.country=US not in [us, ca]". PII is reduced:
  // person.email shows only "*@domain", person.phone only its last two characters; values
  // longer than 64 bytes are cut. A segment's detail joins its conditions' with "; ".
  std::string detail;
};

// The decision and its full explanation: every rule evaluated, whether it fired, its points.
//
// Every requirement is evaluated (no short-circuit). If any failed: DISQUALIFIED, reasons = the
// failed requirement names in profile order (the score is still computed). Otherwise the
// thresholds (per source kind if configured, else the default) decide, and reasons holds one
// line: "score 72 >= qualified 60" / "score 45 < qualified 60, >= nurture 30" /
// "score 10 < nurture 30".
//
// score = clamp(round(100 * sum(points of fired criteria) / sum(positive points)), 0, 100),
// halves rounded up. When no criterion has positive points (in particular when there are no
// criteria) score = clamp(100 + sum(points of fired criteria), 0, 100): full marks minus the
// penalties, so a requirements-only profile qualifies every lead that passes them.
//
// rules: requirements, then criteria, then segments, each in profile order.
struct Decision {
  Outcome outcome = Outcome::kDisqualified;
  int score = 0;                      // 0..100
  std::vector<std::string> reasons;   // failed requirement names, or the threshold that decided
  std::vector<std::string> segments;  // joined, in profile order (whatever the outcome)
  std::vector<RuleResult> rules;
};

// Evaluates leads against a compiled profile. Immutable after Create; Evaluate is pure and
// thread-safe (RE2 matching is linear-time, so hostile input cannot stall it).
class Qualifier {
 public:
  // Compiles the profile. InvalidArgument naming the rule for a bad regex, an unknown field,
  // an inverted range, or a threshold outside 0..100 / nurture above qualified (see profile.h
  // for the full list). Messages start with the rule's list, index and name, e.g.
  //   requirements[2] ("name"): unknown field "x"
  //   segments[0] ("s").all_of[1]: unknown field "company.size"
  //   thresholds_by_source["PARTNER"]: nurture 50 above qualified 40
  // so the config parser can prefix them with the YAML path.
  static absl::StatusOr<std::shared_ptr<const Qualifier>> Create(Profile profile);

  Decision Evaluate(const v1::LeadEvent& lead) const;

  ~Qualifier();

 private:
  struct Compiled;
  explicit Qualifier(std::unique_ptr<Compiled> compiled);
  std::unique_ptr<Compiled> compiled_;
};

// True when the domain is a consumer mail provider in the shipped list (lower-case input; exact
// match, no subdomains). The list is libs/qualify/data/free_mail_domains.txt, embedded at build
// time. Thread-safe.
bool IsFreeMailDomain(const std::string& domain);

// The lead's company domain as the `company.domain` field sees it: the registrable domain
// (Public Suffix List) of the website, else of the email domain when that is not a free-mail
// domain (nor a subdomain of one); lower-case ASCII, "" when unknown. Pure.
std::string CompanyDomain(const v1::LeadEvent& lead);

}  // namespace leadrouter::qualify
