#include <array>
#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "leadrouter/qualify/profile.h"
#include "leadrouter/qualify/qualifier.h"

namespace leadrouter::qualify {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// A lead with most fields set; cases clear or change what they need.
v1::LeadEvent BaseLead() {
  v1::LeadEvent lead;
  lead.set_event_id("ev-1");
  lead.set_source_kind(v1::LEAD_SOURCE_KIND_INBOUND_MARKETING);
  lead.set_source_system("hubspot");
  lead.set_campaign("Spring-Webinar");
  auto* person = lead.mutable_person();
  person->set_email("Jane.Doe@Acme.com");
  person->set_phone("+1 415 555 0134");
  person->set_title("VP Engineering");
  auto* company = lead.mutable_company();
  company->set_name("Acme Corp");
  company->set_website("https://www.Acme.com/about");
  company->set_industry("Software");
  company->set_employee_count(1200);
  company->set_annual_revenue_usd(50000000);
  company->set_location_count(3);
  company->set_country("US");
  company->set_region("CA");
  company->set_postal_code("94107");
  auto* psy = lead.mutable_psychographics();
  psy->set_buying_priority(v1::BUYING_PRIORITY_VALUE);
  psy->set_innovation_appetite(v1::INNOVATION_APPETITE_EARLY_ADOPTER);
  psy->set_intent_score(72);
  (*lead.mutable_attributes())["seats"] = "250";
  (*lead.mutable_attributes())["plan"] = "Enterprise";
  return lead;
}

Condition Cond(std::string field, Operator op, std::vector<std::string> values = {}, double low = 0,
               double high = 0, bool negate = false) {
  return Condition{std::move(field), op, std::move(values), low, high, negate};
}

Condition Not(Condition c) {
  c.negate = true;
  return c;
}

std::shared_ptr<const Qualifier> MustCreate(Profile profile) {
  auto q = Qualifier::Create(std::move(profile));
  EXPECT_TRUE(q.ok()) << q.status();
  return q.ok() ? *q : nullptr;
}

// Evaluates one condition as the only requirement; returns whether it held, and its detail.
bool Check(const Condition& c, const v1::LeadEvent& lead, std::string* detail = nullptr) {
  Profile p;
  p.requirements.push_back({"r", c});
  auto q = MustCreate(p);
  if (!q) return false;
  const Decision d = q->Evaluate(lead);
  if (detail) *detail = d.rules.at(0).detail;
  return d.rules.at(0).fired;
}

using Mutate = std::function<void(v1::LeadEvent&)>;

struct OperatorCase {
  std::string name;
  Condition condition;
  Mutate mutate;  // applied to BaseLead()
  bool holds;
};

void NoChange(v1::LeadEvent&) {}

class OperatorTest : public ::testing::TestWithParam<OperatorCase> {};

TEST_P(OperatorTest, Holds) {
  const OperatorCase& c = GetParam();
  v1::LeadEvent lead = BaseLead();
  c.mutate(lead);
  std::string detail;
  EXPECT_EQ(Check(c.condition, lead, &detail), c.holds) << detail;
}

const Mutate kNoCountry = [](v1::LeadEvent& l) { l.mutable_company()->clear_country(); };
const Mutate kNoEmployees = [](v1::LeadEvent& l) { l.mutable_company()->clear_employee_count(); };
const Mutate kNoTitle = [](v1::LeadEvent& l) { l.mutable_person()->clear_title(); };

INSTANTIATE_TEST_SUITE_P(
    Operators, OperatorTest,
    ::testing::Values(
        // equals
        OperatorCase{"equals_match", Cond("company.country", Operator::kEquals, {"US"}), NoChange,
                     true},
        OperatorCase{"equals_case_insensitive", Cond("company.country", Operator::kEquals, {"us"}),
                     NoChange, true},
        OperatorCase{"equals_no_match", Cond("company.country", Operator::kEquals, {"DE"}),
                     NoChange, false},
        OperatorCase{"equals_absent", Cond("company.country", Operator::kEquals, {"US"}),
                     kNoCountry, false},
        OperatorCase{"equals_negated_match",
                     Not(Cond("company.country", Operator::kEquals, {"US"})), NoChange, false},
        OperatorCase{"equals_negated_no_match",
                     Not(Cond("company.country", Operator::kEquals, {"DE"})), NoChange, true},
        OperatorCase{"equals_negated_absent",
                     Not(Cond("company.country", Operator::kEquals, {"US"})), kNoCountry, true},
        OperatorCase{"equals_enum_short_name",
                     Cond("psychographics.buying_priority", Operator::kEquals, {"value"}), NoChange,
                     true},
        OperatorCase{"equals_number", Cond("company.employee_count", Operator::kEquals, {"1200"}),
                     NoChange, true},
        OperatorCase{"equals_numeric_attribute_as_number",
                     Cond("attributes.seats", Operator::kEquals, {"250.0"}), NoChange, true},
        // in
        OperatorCase{"in_match", Cond("company.country", Operator::kIn, {"ca", "us"}), NoChange,
                     true},
        OperatorCase{"in_case_insensitive", Cond("company.industry", Operator::kIn, {"SOFTWARE"}),
                     NoChange, true},
        OperatorCase{"in_no_match", Cond("company.country", Operator::kIn, {"DE", "FR"}), NoChange,
                     false},
        OperatorCase{"in_absent", Cond("company.country", Operator::kIn, {"US"}), kNoCountry,
                     false},
        OperatorCase{"in_negated_match", Not(Cond("company.country", Operator::kIn, {"US"})),
                     NoChange, false},
        OperatorCase{"in_negated_absent", Not(Cond("company.country", Operator::kIn, {"US"})),
                     kNoCountry, true},
        OperatorCase{"in_source_kind",
                     Cond("source_kind", Operator::kIn, {"PARTNER", "INBOUND_MARKETING"}), NoChange,
                     true},
        OperatorCase{"in_innovation_appetite",
                     Cond("psychographics.innovation_appetite", Operator::kIn,
                          {"INNOVATOR", "EARLY_ADOPTER"}),
                     NoChange, true},
        // between
        OperatorCase{"between_match",
                     Cond("company.employee_count", Operator::kBetween, {}, 200, 5000), NoChange,
                     true},
        OperatorCase{"between_inclusive_edges",
                     Cond("company.employee_count", Operator::kBetween, {}, 1200, 1200), NoChange,
                     true},
        OperatorCase{"between_no_match",
                     Cond("company.employee_count", Operator::kBetween, {}, 1, 1199), NoChange,
                     false},
        OperatorCase{"between_absent",
                     Cond("company.employee_count", Operator::kBetween, {}, 0, 5000), kNoEmployees,
                     false},
        OperatorCase{"between_negated_match",
                     Not(Cond("company.employee_count", Operator::kBetween, {}, 200, 5000)),
                     NoChange, false},
        OperatorCase{"between_negated_absent",
                     Not(Cond("company.employee_count", Operator::kBetween, {}, 200, 5000)),
                     kNoEmployees, true},
        OperatorCase{"between_numeric_attribute",
                     Cond("attributes.seats", Operator::kBetween, {}, 100, 500), NoChange, true},
        OperatorCase{"between_attribute_not_a_number",
                     Cond("attributes.plan", Operator::kBetween, {}, 0, 1e9), NoChange, false},
        // at_least
        OperatorCase{"at_least_match", Cond("company.employee_count", Operator::kAtLeast, {}, 200),
                     NoChange, true},
        OperatorCase{"at_least_edge", Cond("company.employee_count", Operator::kAtLeast, {}, 1200),
                     NoChange, true},
        OperatorCase{"at_least_no_match",
                     Cond("company.employee_count", Operator::kAtLeast, {}, 1201), NoChange, false},
        OperatorCase{"at_least_absent", Cond("company.employee_count", Operator::kAtLeast, {}, 1),
                     kNoEmployees, false},
        OperatorCase{"at_least_negated_match",
                     Not(Cond("company.employee_count", Operator::kAtLeast, {}, 200)), NoChange,
                     false},
        OperatorCase{"at_least_negated_absent",
                     Not(Cond("company.employee_count", Operator::kAtLeast, {}, 200)), kNoEmployees,
                     true},
        OperatorCase{"at_least_numeric_attribute",
                     Cond("attributes.seats", Operator::kAtLeast, {}, 250), NoChange, true},
        OperatorCase{"at_least_attribute_not_a_number",
                     Cond("attributes.plan", Operator::kAtLeast, {}, 0), NoChange, false},
        OperatorCase{"at_least_intent_score",
                     Cond("psychographics.intent_score", Operator::kAtLeast, {}, 70), NoChange,
                     true},
        // matches
        OperatorCase{"matches_match", Cond("person.title", Operator::kMatches, {"^VP\\b"}),
                     NoChange, true},
        OperatorCase{"matches_is_case_sensitive",
                     Cond("person.title", Operator::kMatches, {"^vp\\b"}), NoChange, false},
        OperatorCase{"matches_inline_case_flag",
                     Cond("person.title", Operator::kMatches, {"(?i)^vp\\b"}), NoChange, true},
        OperatorCase{"matches_partial", Cond("person.title", Operator::kMatches, {"Engineer"}),
                     NoChange, true},
        OperatorCase{"matches_no_match",
                     Cond("person.title", Operator::kMatches, {"(?i)intern|student"}), NoChange,
                     false},
        OperatorCase{"matches_absent", Cond("person.title", Operator::kMatches, {".*"}), kNoTitle,
                     false},
        OperatorCase{"matches_negated_match",
                     Not(Cond("person.title", Operator::kMatches, {"^VP"})), NoChange, false},
        OperatorCase{"matches_negated_absent",
                     Not(Cond("person.title", Operator::kMatches, {"^VP"})), kNoTitle, true},
        OperatorCase{"matches_sees_original_email",
                     Cond("person.email", Operator::kMatches, {"^Jane\\.Doe@"}), NoChange, true},
        // exists
        OperatorCase{"exists_match", Cond("person.title", Operator::kExists), NoChange, true},
        OperatorCase{"exists_absent", Cond("person.title", Operator::kExists), kNoTitle, false},
        OperatorCase{"exists_negated_present", Not(Cond("person.title", Operator::kExists)),
                     NoChange, false},
        OperatorCase{"exists_negated_absent", Not(Cond("person.title", Operator::kExists)),
                     kNoTitle, true},
        OperatorCase{"exists_attribute", Cond("attributes.plan", Operator::kExists), NoChange,
                     true},
        OperatorCase{"exists_attribute_missing", Cond("attributes.nope", Operator::kExists),
                     NoChange, false},
        OperatorCase{"exists_attribute_empty_is_absent",
                     Cond("attributes.empty", Operator::kExists),
                     [](v1::LeadEvent& l) { (*l.mutable_attributes())["empty"] = ""; }, false},
        OperatorCase{"exists_enum_unspecified_is_absent",
                     Cond("psychographics.buying_priority", Operator::kExists),
                     [](v1::LeadEvent& l) {
                       l.mutable_psychographics()->set_buying_priority(
                           v1::BUYING_PRIORITY_UNSPECIFIED);
                     },
                     false},
        OperatorCase{"exists_zero_number_is_absent",
                     Cond("company.location_count", Operator::kExists),
                     [](v1::LeadEvent& l) { l.mutable_company()->set_location_count(0); }, false}),
    [](const ::testing::TestParamInfo<OperatorCase>& info) { return info.param.name; });

// --- Details ----------------------------------------------------------------------------------

TEST(QualifyDetail, ShowsObservedValueAndTest) {
  std::string detail;
  Check(Cond("company.employee_count", Operator::kAtLeast, {}, 200), BaseLead(), &detail);
  EXPECT_EQ(detail, "company.employee_count=1200 at_least 200");

  v1::LeadEvent lead = BaseLead();
  lead.mutable_person()->clear_email();
  Check(Cond("person.email_domain", Operator::kExists), lead, &detail);
  EXPECT_EQ(detail, "person.email_domain=<absent> exists");

  Check(Not(Cond("company.country", Operator::kIn, {"us", "ca"})), BaseLead(), &detail);
  EXPECT_EQ(detail, "company.country=US not in [us, ca]");

  Check(Cond("company.employee_count", Operator::kBetween, {}, 200, 5000), BaseLead(), &detail);
  EXPECT_EQ(detail, "company.employee_count=1200 between 200..5000");
}

TEST(QualifyDetail, NeverShowsTheFullEmailOrPhone) {
  std::string detail;
  Check(Cond("person.email", Operator::kMatches, {"@acme\\.com$"}), BaseLead(), &detail);
  EXPECT_EQ(detail, "person.email=*@acme.com matches /@acme\\.com$/");
  EXPECT_THAT(detail, ::testing::Not(HasSubstr("Jane")));

  Check(Cond("person.phone", Operator::kExists), BaseLead(), &detail);
  EXPECT_THAT(detail, ::testing::Not(HasSubstr("555")));
  EXPECT_EQ(detail, "person.phone=*34 exists");
}

// --- Hostile regex --------------------------------------------------------------------------

TEST(QualifyRegex, HostilePatternOnLongInputIsLinear) {
  v1::LeadEvent lead = BaseLead();
  (*lead.mutable_attributes())["bio"] = std::string(100000, 'a') + "!";
  const auto start = std::chrono::steady_clock::now();
  std::string detail;
  EXPECT_FALSE(Check(Cond("attributes.bio", Operator::kMatches, {"^(a+)+$"}), lead, &detail));
  EXPECT_TRUE(Check(Cond("attributes.bio", Operator::kMatches, {"(a+)+!$"}), lead));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  EXPECT_LT(detail.size(), 200u);  // long values are cut in explanations
}

// --- Free mail and derived domains ----------------------------------------------------------

TEST(QualifyFreeMail, ShippedList) {
  EXPECT_TRUE(IsFreeMailDomain("gmail.com"));
  EXPECT_TRUE(IsFreeMailDomain("googlemail.com"));
  EXPECT_TRUE(IsFreeMailDomain("yahoo.co.uk"));
  EXPECT_TRUE(IsFreeMailDomain("proton.me"));
  EXPECT_TRUE(IsFreeMailDomain("qq.com"));
  EXPECT_TRUE(IsFreeMailDomain("web.de"));
  EXPECT_FALSE(IsFreeMailDomain("acme.com"));
  EXPECT_FALSE(IsFreeMailDomain(""));
  EXPECT_FALSE(IsFreeMailDomain("gmail"));
}

struct FreeMailCase {
  std::string name;
  std::string email;
  std::string expected;  // "true", "false", or "" for absent
};

class FreeMailFieldTest : public ::testing::TestWithParam<FreeMailCase> {};

TEST_P(FreeMailFieldTest, IsFreeMail) {
  const FreeMailCase& c = GetParam();
  Profile p;
  p.extra_free_mail_domains = {"Example-Mail.org"};
  p.requirements.push_back({"free", Cond("person.is_free_mail", Operator::kEquals, {"true"})});
  p.requirements.push_back({"present", Cond("person.is_free_mail", Operator::kExists)});
  auto q = MustCreate(p);
  ASSERT_NE(q, nullptr);
  v1::LeadEvent lead = BaseLead();
  lead.mutable_person()->set_email(c.email);
  const Decision d = q->Evaluate(lead);
  EXPECT_EQ(d.rules[0].fired, c.expected == "true") << d.rules[0].detail;
  EXPECT_EQ(d.rules[1].fired, !c.expected.empty()) << d.rules[1].detail;
}

INSTANTIATE_TEST_SUITE_P(
    FreeMail, FreeMailFieldTest,
    ::testing::Values(FreeMailCase{"gmail", "someone@gmail.com", "true"},
                      FreeMailCase{"gmail_upper_case", "Someone@GMail.COM", "true"},
                      FreeMailCase{"corporate", "someone@acme.com", "false"},
                      FreeMailCase{"extra_domain", "someone@example-mail.org", "true"},
                      FreeMailCase{"no_email", "", ""}),
    [](const ::testing::TestParamInfo<FreeMailCase>& info) { return info.param.name; });

struct DomainCase {
  std::string name;
  std::string website;
  std::string email;
  std::string expected;  // "" for absent
};

class CompanyDomainTest : public ::testing::TestWithParam<DomainCase> {};

TEST_P(CompanyDomainTest, Derived) {
  const DomainCase& c = GetParam();
  v1::LeadEvent lead = BaseLead();
  lead.mutable_company()->set_website(c.website);
  lead.mutable_person()->set_email(c.email);
  std::string detail;
  const bool present = Check(Cond("company.domain", Operator::kExists), lead, &detail);
  EXPECT_EQ(present, !c.expected.empty()) << detail;
  if (!c.expected.empty()) {
    EXPECT_TRUE(
        Check(Cond("company.domain", Operator::kMatches, {"^" + c.expected + "$"}), lead, &detail))
        << detail;
  }
}

INSTANTIATE_TEST_SUITE_P(
    CompanyDomain, CompanyDomainTest,
    ::testing::Values(
        DomainCase{"website_full_url", "https://www.Acme.com/about?x=1", "", "acme.com"},
        DomainCase{"website_port_and_user", "http://user@Shop.Acme.co.uk:8080/x", "", "acme.co.uk"},
        DomainCase{"website_bare", "acme.io", "", "acme.io"},
        DomainCase{"website_trailing_dot", "WWW.ACME.COM.", "", "acme.com"},
        DomainCase{"website_wins_over_email", "acme.com", "a@other.com", "acme.com"},
        DomainCase{"corporate_email_fallback", "", "jane@Initech.com", "initech.com"},
        DomainCase{"garbage_website_falls_back", "n/a", "jane@initech.com", "initech.com"},
        DomainCase{"free_mail_is_not_a_company", "", "jane@gmail.com", ""},
        DomainCase{"free_mail_subdomain_is_not_a_company", "", "jane@mail.gmail.com", ""},
        DomainCase{"email_subdomain_gives_the_registrable_domain", "", "jane@eu.mail.acme.co.uk",
                   "acme.co.uk"},
        DomainCase{"nothing", "", "", ""}),
    [](const ::testing::TestParamInfo<DomainCase>& info) { return info.param.name; });

// --- Scoring and outcomes -------------------------------------------------------------------

constexpr std::array<int, 7> kScoringPoints{50, 20, 10, 10, 5, 4, 1};

// Criteria worth 100 points in total: a lead matching `points_wanted` of them scores exactly that
// (criterion i matches when attribute "c<i>" is "y").
Profile ScoringProfile() {
  Profile p;
  for (size_t i = 0; i < kScoringPoints.size(); ++i) {
    const std::string key = "c" + std::to_string(i);
    p.criteria.push_back(
        {key, Cond("attributes." + key, Operator::kEquals, {"y"}), kScoringPoints[i]});
  }
  p.thresholds = {60, 30};
  return p;
}

v1::LeadEvent LeadScoring(int score) {
  v1::LeadEvent lead = BaseLead();
  for (size_t i = 0; i < kScoringPoints.size(); ++i) {
    if (score >= kScoringPoints[i]) {
      score -= kScoringPoints[i];
      (*lead.mutable_attributes())["c" + std::to_string(i)] = "y";
    }
  }
  EXPECT_EQ(score, 0);
  return lead;
}

struct OutcomeCase {
  std::string name;
  int score;
  Outcome outcome;
  std::string reason;
};

class OutcomeTest : public ::testing::TestWithParam<OutcomeCase> {};

TEST_P(OutcomeTest, ThresholdEdges) {
  const OutcomeCase& c = GetParam();
  auto q = MustCreate(ScoringProfile());
  ASSERT_NE(q, nullptr);
  const Decision d = q->Evaluate(LeadScoring(c.score));
  EXPECT_EQ(d.score, c.score);
  EXPECT_EQ(d.outcome, c.outcome);
  EXPECT_THAT(d.reasons, ElementsAre(c.reason));
}

INSTANTIATE_TEST_SUITE_P(
    Outcomes, OutcomeTest,
    ::testing::Values(
        OutcomeCase{"full", 100, Outcome::kQualified, "score 100 >= qualified 60"},
        OutcomeCase{"at_qualified", 60, Outcome::kQualified, "score 60 >= qualified 60"},
        OutcomeCase{"below_qualified", 59, Outcome::kNurture,
                    "score 59 < qualified 60, >= nurture 30"},
        OutcomeCase{"at_nurture", 30, Outcome::kNurture, "score 30 < qualified 60, >= nurture 30"},
        OutcomeCase{"below_nurture", 29, Outcome::kDisqualified, "score 29 < nurture 30"},
        OutcomeCase{"zero", 0, Outcome::kDisqualified, "score 0 < nurture 30"}),
    [](const ::testing::TestParamInfo<OutcomeCase>& info) { return info.param.name; });

TEST(QualifyScore, RoundsAndClamps) {
  Profile p;
  p.criteria.push_back({"a", Cond("company.country", Operator::kEquals, {"US"}), 2});
  p.criteria.push_back({"b", Cond("company.country", Operator::kEquals, {"DE"}), 1});
  p.criteria.push_back({"penalty", Cond("person.title", Operator::kMatches, {"VP"}), -1});
  auto q = MustCreate(p);
  ASSERT_NE(q, nullptr);
  // (2 - 1) / 3 = 33.3 → 33
  Decision d = q->Evaluate(BaseLead());
  EXPECT_EQ(d.score, 33);
  ASSERT_EQ(d.rules.size(), 3u);
  EXPECT_EQ(d.rules[0].points, 2);
  EXPECT_EQ(d.rules[1].points, 0);
  EXPECT_FALSE(d.rules[1].fired);
  EXPECT_EQ(d.rules[2].points, -1);
  // 2/3 = 66.7 → 67
  v1::LeadEvent lead = BaseLead();
  lead.mutable_person()->set_title("CTO");
  EXPECT_EQ(q->Evaluate(lead).score, 67);
  // only the penalty fires: -1/3 → clamped to 0
  lead = BaseLead();
  lead.mutable_company()->set_country("FR");
  EXPECT_EQ(q->Evaluate(lead).score, 0);
}

TEST(QualifyScore, RoundsHalfUp) {
  Profile p;
  p.criteria.push_back({"a", Cond("company.country", Operator::kEquals, {"US"}), 1});
  for (int i = 0; i < 7; ++i) {
    p.criteria.push_back(
        {"never" + std::to_string(i), Cond("company.country", Operator::kEquals, {"XX"}), 1});
  }
  auto q = MustCreate(p);
  ASSERT_NE(q, nullptr);
  EXPECT_EQ(q->Evaluate(BaseLead()).score, 13);  // 12.5 → 13
}

TEST(QualifyScore, NoCriteriaScoresFull) {
  Profile p;
  p.requirements.push_back({"us", Cond("company.country", Operator::kEquals, {"US"})});
  auto q = MustCreate(p);
  ASSERT_NE(q, nullptr);
  const Decision d = q->Evaluate(BaseLead());
  EXPECT_EQ(d.score, 100);
  EXPECT_EQ(d.outcome, Outcome::kQualified);
}

TEST(QualifyScore, OnlyPenaltiesSubtractFromFull) {
  Profile p;
  p.criteria.push_back({"vp", Cond("person.title", Operator::kMatches, {"VP"}), -30});
  p.criteria.push_back({"de", Cond("company.country", Operator::kEquals, {"DE"}), -50});
  auto q = MustCreate(p);
  ASSERT_NE(q, nullptr);
  const Decision d = q->Evaluate(BaseLead());
  EXPECT_EQ(d.score, 70);
  EXPECT_EQ(d.outcome, Outcome::kQualified);
}

TEST(QualifyThresholds, PerSourceOverridesDefault) {
  Profile p = ScoringProfile();
  p.thresholds_by_source["PARTNER"] = {40, 20};
  p.thresholds_by_source["purchased_list"] = {90, 80};
  auto q = MustCreate(p);
  ASSERT_NE(q, nullptr);
  v1::LeadEvent lead = LeadScoring(45);

  Decision d = q->Evaluate(lead);  // INBOUND_MARKETING: default 60/30
  EXPECT_EQ(d.outcome, Outcome::kNurture);

  lead.set_source_kind(v1::LEAD_SOURCE_KIND_PARTNER);
  d = q->Evaluate(lead);
  EXPECT_EQ(d.outcome, Outcome::kQualified);
  EXPECT_THAT(d.reasons, ElementsAre("score 45 >= qualified 40"));

  lead.set_source_kind(v1::LEAD_SOURCE_KIND_PURCHASED_LIST);
  d = q->Evaluate(lead);
  EXPECT_EQ(d.outcome, Outcome::kDisqualified);
  EXPECT_THAT(d.reasons, ElementsAre("score 45 < nurture 80"));
}

TEST(QualifyRequirements, AllFailuresListedAndEvaluationContinues) {
  Profile p = ScoringProfile();
  p.requirements.push_back(
      {"b2b-email", Cond("person.is_free_mail", Operator::kEquals, {"false"})});
  p.requirements.push_back({"in-us", Cond("company.country", Operator::kEquals, {"US"})});
  p.requirements.push_back({"has-phone", Cond("person.phone", Operator::kExists)});
  p.requirements.push_back(
      {"not-student", Not(Cond("person.title", Operator::kMatches, {"(?i)student"}))});
  p.segments.push_back({"americas", {Cond("company.country", Operator::kIn, {"US", "CA", "BR"})}});
  auto q = MustCreate(p);
  ASSERT_NE(q, nullptr);

  v1::LeadEvent lead = LeadScoring(100);
  lead.mutable_person()->set_email("kid@gmail.com");
  lead.mutable_person()->clear_phone();
  const Decision d = q->Evaluate(lead);
  EXPECT_EQ(d.outcome, Outcome::kDisqualified);
  EXPECT_THAT(d.reasons, ElementsAre("b2b-email", "has-phone"));
  EXPECT_EQ(d.score, 100);  // still computed
  EXPECT_THAT(d.segments, ElementsAre("americas"));
  ASSERT_EQ(d.rules.size(), 4u + 7u + 1u);
  EXPECT_EQ(d.rules[0].kind, RuleResult::Kind::kRequirement);
  EXPECT_FALSE(d.rules[0].fired);
  EXPECT_TRUE(d.rules[1].fired);
  EXPECT_FALSE(d.rules[2].fired);
  EXPECT_TRUE(d.rules[3].fired);
  EXPECT_EQ(d.rules[4].kind, RuleResult::Kind::kCriterion);
  EXPECT_EQ(d.rules.back().kind, RuleResult::Kind::kSegment);
  EXPECT_EQ(d.rules[0].detail, "person.is_free_mail=true equals false");
  EXPECT_EQ(d.rules[2].detail, "person.phone=<absent> exists");
}

TEST(QualifySegments, JoinedWhenAllHoldInProfileOrder) {
  Profile p;
  p.segments.push_back({"enterprise-innovators",
                        {Cond("company.employee_count", Operator::kAtLeast, {}, 1000),
                         Cond("psychographics.innovation_appetite", Operator::kIn,
                              {"INNOVATOR", "EARLY_ADOPTER"})}});
  p.segments.push_back({"europe", {Cond("company.country", Operator::kIn, {"DE", "FR"})}});
  p.segments.push_back(
      {"value-buyers", {Cond("psychographics.buying_priority", Operator::kEquals, {"VALUE"})}});
  auto q = MustCreate(p);
  ASSERT_NE(q, nullptr);
  Decision d = q->Evaluate(BaseLead());
  EXPECT_THAT(d.segments, ElementsAre("enterprise-innovators", "value-buyers"));
  ASSERT_EQ(d.rules.size(), 3u);
  EXPECT_FALSE(d.rules[1].fired);
  EXPECT_EQ(d.rules[0].detail,
            "company.employee_count=1200 at_least 1000; "
            "psychographics.innovation_appetite=EARLY_ADOPTER in [INNOVATOR, EARLY_ADOPTER]");

  v1::LeadEvent lead = BaseLead();
  lead.mutable_company()->set_employee_count(999);
  d = q->Evaluate(lead);
  EXPECT_THAT(d.segments, ElementsAre("value-buyers"));
}

TEST(QualifyOutcome, Names) {
  EXPECT_STREQ(OutcomeName(Outcome::kQualified), "qualified");
  EXPECT_STREQ(OutcomeName(Outcome::kNurture), "nurture");
  EXPECT_STREQ(OutcomeName(Outcome::kDisqualified), "disqualified");
}

// --- Create validation ----------------------------------------------------------------------

struct InvalidCase {
  std::string name;
  std::function<void(Profile&)> edit;
  std::vector<std::string> message_parts;
};

class CreateValidationTest : public ::testing::TestWithParam<InvalidCase> {};

TEST_P(CreateValidationTest, Refused) {
  const InvalidCase& c = GetParam();
  Profile p;
  p.requirements.push_back({"ok-0", Cond("company.country", Operator::kExists)});
  p.requirements.push_back({"ok-1", Cond("company.country", Operator::kExists)});
  c.edit(p);
  const auto q = Qualifier::Create(p);
  ASSERT_FALSE(q.ok());
  EXPECT_EQ(q.status().code(), absl::StatusCode::kInvalidArgument);
  for (const std::string& part : c.message_parts) {
    EXPECT_THAT(std::string(q.status().message()), HasSubstr(part));
  }
}

void AddRequirement(Profile& p, Condition c) {
  p.requirements.push_back({"name", std::move(c)});
}

INSTANTIATE_TEST_SUITE_P(
    Create, CreateValidationTest,
    ::testing::Values(
        InvalidCase{"unknown_field",
                    [](Profile& p) { AddRequirement(p, Cond("x", Operator::kExists)); },
                    {"requirements[2] (\"name\"): unknown field \"x\""}},
        InvalidCase{"empty_attribute_key",
                    [](Profile& p) { AddRequirement(p, Cond("attributes.", Operator::kExists)); },
                    {"requirements[2] (\"name\"): unknown field \"attributes.\""}},
        InvalidCase{"bad_regex",
                    [](Profile& p) {
                      p.criteria.push_back(
                          {"title", Cond("person.title", Operator::kMatches, {"(vp"}), 10});
                    },
                    {"criteria[0] (\"title\"): bad regex \"(vp\": ", "missing )"}},
        InvalidCase{"inverted_between",
                    [](Profile& p) {
                      AddRequirement(
                          p, Cond("company.employee_count", Operator::kBetween, {}, 500, 200));
                    },
                    {"requirements[2] (\"name\"): between low 500 > high 200"}},
        InvalidCase{
            "equals_without_value",
            [](Profile& p) { AddRequirement(p, Cond("company.country", Operator::kEquals)); },
            {"requirements[2] (\"name\"): equals needs exactly one value"}},
        InvalidCase{"equals_two_values",
                    [](Profile& p) {
                      AddRequirement(p, Cond("company.country", Operator::kEquals, {"US", "CA"}));
                    },
                    {"requirements[2] (\"name\"): equals needs exactly one value, got 2"}},
        InvalidCase{"matches_without_value",
                    [](Profile& p) { AddRequirement(p, Cond("person.title", Operator::kMatches)); },
                    {"requirements[2] (\"name\"): matches needs exactly one value"}},
        InvalidCase{"in_without_values",
                    [](Profile& p) { AddRequirement(p, Cond("company.country", Operator::kIn)); },
                    {"requirements[2] (\"name\"): in needs at least one value"}},
        InvalidCase{
            "numeric_operator_on_string_field",
            [](Profile& p) {
              AddRequirement(p, Cond("company.country", Operator::kAtLeast, {}, 3));
            },
            {"requirements[2] (\"name\"): at_least needs a numeric field", "\"company.country\""}},
        InvalidCase{"qualified_above_100",
                    [](Profile& p) {
                      p.thresholds = {101, 30};
                    },
                    {"thresholds: qualified 101 outside 0..100"}},
        InvalidCase{"nurture_negative",
                    [](Profile& p) {
                      p.thresholds = {60, -1};
                    },
                    {"thresholds: nurture -1 outside 0..100"}},
        InvalidCase{"nurture_above_qualified",
                    [](Profile& p) {
                      p.thresholds = {40, 50};
                    },
                    {"thresholds: nurture 50 above qualified 40"}},
        InvalidCase{"per_source_nurture_above_qualified",
                    [](Profile& p) {
                      p.thresholds_by_source["PARTNER"] = {40, 50};
                    },
                    {"thresholds_by_source[\"PARTNER\"]: nurture 50 above qualified 40"}},
        InvalidCase{"per_source_unknown_kind",
                    [](Profile& p) {
                      p.thresholds_by_source["WALK_IN"] = {40, 20};
                    },
                    {"thresholds_by_source[\"WALK_IN\"]: unknown source kind"}},
        InvalidCase{"per_source_unspecified_kind",
                    [](Profile& p) {
                      p.thresholds_by_source["UNSPECIFIED"] = {40, 20};
                    },
                    {"thresholds_by_source[\"UNSPECIFIED\"]: unknown source kind"}},
        InvalidCase{"empty_rule_name",
                    [](Profile& p) {
                      p.criteria.push_back({"", Cond("company.country", Operator::kExists), 1});
                    },
                    {"criteria[0] (\"\"): empty name"}},
        InvalidCase{"duplicate_rule_name",
                    [](Profile& p) {
                      p.criteria.push_back({"ok-1", Cond("company.country", Operator::kExists), 1});
                    },
                    {"criteria[0] (\"ok-1\"): duplicate name (also requirements[1] (\"ok-1\"))"}},
        InvalidCase{"empty_segment_name",
                    [](Profile& p) {
                      p.segments.push_back({"", {Cond("company.country", Operator::kExists)}});
                    },
                    {"segments[0] (\"\"): empty name"}},
        InvalidCase{"duplicate_segment_name",
                    [](Profile& p) {
                      p.segments.push_back({"s", {Cond("company.country", Operator::kExists)}});
                      p.segments.push_back({"s", {Cond("company.country", Operator::kExists)}});
                    },
                    {"segments[1] (\"s\"): duplicate name (also segments[0] (\"s\"))"}},
        InvalidCase{"segment_condition_unknown_field",
                    [](Profile& p) {
                      p.segments.push_back({"s",
                                            {Cond("company.country", Operator::kExists),
                                             Cond("company.size", Operator::kExists)}});
                    },
                    {"segments[0] (\"s\").all_of[1]: unknown field \"company.size\""}},
        InvalidCase{"empty_extra_free_mail_domain",
                    [](Profile& p) {
                      p.extra_free_mail_domains = {"x.org", ""};
                    },
                    {"extra_free_mail_domains[1]: empty domain"}}),
    [](const ::testing::TestParamInfo<InvalidCase>& info) { return info.param.name; });

TEST(QualifyCreate, NumericOperatorsAllowedOnAttributes) {
  Profile p;
  p.criteria.push_back({"seats", Cond("attributes.seats", Operator::kAtLeast, {}, 100), 10});
  EXPECT_TRUE(Qualifier::Create(p).ok());
}

}  // namespace
}  // namespace leadrouter::qualify
