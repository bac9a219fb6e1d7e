#include "leadrouter/qualify/qualifier.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <unordered_set>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "fields.h"
#include "re2/re2.h"

namespace leadrouter::qualify {
namespace {

using internal::FieldRef;
using internal::FieldValue;
using internal::LeadView;

const char* OperatorName(Operator op) {
  switch (op) {
    case Operator::kEquals:
      return "equals";
    case Operator::kIn:
      return "in";
    case Operator::kBetween:
      return "between";
    case Operator::kAtLeast:
      return "at_least";
    case Operator::kMatches:
      return "matches";
    case Operator::kExists:
      return "exists";
  }
  return "?";
}

bool IsNumericOperator(Operator op) {
  return op == Operator::kBetween || op == Operator::kAtLeast;
}

struct CompiledCondition {
  FieldRef field;
  Operator op = Operator::kExists;
  bool negate = false;
  std::vector<std::string> lower_values;              // kEquals, kIn
  std::vector<std::optional<double>> numeric_values;  // kEquals, kIn: the value as a number
  double low = 0;
  double high = 0;
  std::unique_ptr<RE2> regex;  // kMatches
  std::string test;            // "at_least 200", "not in [us, ca]": for explanations
};

struct CompiledRule {
  std::string name;
  CompiledCondition condition;
  int points = 0;  // criteria only
};

struct CompiledSegment {
  std::string name;
  std::vector<CompiledCondition> all_of;
};

constexpr size_t kSourceKinds = 7;  // LeadSourceKind values 0..6

std::string Quoted(const std::string& s) {
  return absl::StrCat("\"", s, "\"");
}

// "requirements[2] (\"name\")"
std::string RuleLabel(const char* list, size_t index, const std::string& name) {
  return absl::StrCat(list, "[", index, "] (", Quoted(name), ")");
}

absl::StatusOr<CompiledCondition> CompileCondition(const Condition& c, const std::string& where) {
  CompiledCondition out;
  const std::optional<FieldRef> field = internal::ResolveField(c.field);
  if (!field)
    return absl::InvalidArgumentError(absl::StrCat(where, ": unknown field ", Quoted(c.field)));
  out.field = *field;
  out.op = c.op;
  out.negate = c.negate;
  const std::string op = OperatorName(c.op);
  if (IsNumericOperator(c.op) && field->id != internal::FieldId::kAttribute &&
      !internal::IsNumericField(field->id)) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, ": ", op, " needs a numeric field, ", Quoted(c.field), " is not one"));
  }
  std::string args;
  switch (c.op) {
    case Operator::kEquals:
    case Operator::kIn:
      if (c.op == Operator::kEquals && c.values.size() != 1) {
        return absl::InvalidArgumentError(
            absl::StrCat(where, ": equals needs exactly one value, got ", c.values.size()));
      }
      if (c.op == Operator::kIn && c.values.empty()) {
        return absl::InvalidArgumentError(absl::StrCat(where, ": in needs at least one value"));
      }
      for (const std::string& v : c.values) {
        out.lower_values.push_back(internal::AsciiLower(v));
        out.numeric_values.push_back(internal::ParseNumber(v));
      }
      args = c.op == Operator::kEquals ? c.values[0]
                                       : absl::StrCat("[", absl::StrJoin(c.values, ", "), "]");
      break;
    case Operator::kBetween:
      if (!std::isfinite(c.low) || !std::isfinite(c.high)) {
        return absl::InvalidArgumentError(absl::StrCat(where, ": between needs finite bounds"));
      }
      if (c.low > c.high) {
        return absl::InvalidArgumentError(absl::StrCat(where, ": between low ",
                                                       internal::FormatNumber(c.low), " > high ",
                                                       internal::FormatNumber(c.high)));
      }
      out.low = c.low;
      out.high = c.high;
      args = absl::StrCat(internal::FormatNumber(c.low), "..", internal::FormatNumber(c.high));
      break;
    case Operator::kAtLeast:
      if (!std::isfinite(c.low)) {
        return absl::InvalidArgumentError(absl::StrCat(where, ": at_least needs a finite low"));
      }
      out.low = c.low;
      args = internal::FormatNumber(c.low);
      break;
    case Operator::kMatches: {
      if (c.values.size() != 1) {
        return absl::InvalidArgumentError(absl::StrCat(
            where, ": matches needs exactly one value (the regex), got ", c.values.size()));
      }
      RE2::Options options;
      options.set_log_errors(false);
      out.regex = std::make_unique<RE2>(c.values[0], options);
      if (!out.regex->ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat(where, ": bad regex ", Quoted(c.values[0]), ": ", out.regex->error()));
      }
      args = absl::StrCat("/", c.values[0], "/");
      break;
    }
    case Operator::kExists:
      break;
  }
  out.test = absl::StrCat(c.negate ? "not " : "", op, args.empty() ? "" : " ", args);
  return out;
}

bool Test(const CompiledCondition& c, const std::optional<FieldValue>& v) {
  if (!v) return false;
  switch (c.op) {
    case Operator::kEquals:
    case Operator::kIn: {
      std::string lower;
      for (size_t i = 0; i < c.lower_values.size(); ++i) {
        if (v->number && c.numeric_values[i]) {
          if (*v->number == *c.numeric_values[i]) return true;
          continue;
        }
        if (lower.empty()) lower = internal::AsciiLower(v->text);
        if (lower == c.lower_values[i]) return true;
      }
      return false;
    }
    case Operator::kBetween:
      return v->number && c.low <= *v->number && *v->number <= c.high;
    case Operator::kAtLeast:
      return v->number && *v->number >= c.low;
    case Operator::kMatches:
      return RE2::PartialMatch(v->text, *c.regex);
    case Operator::kExists:
      return true;
  }
  return false;
}

// Evaluates one condition; `detail` receives "field=observed test".
bool Holds(const CompiledCondition& c, const LeadView& view, std::string* detail) {
  const std::optional<FieldValue> value = view.Get(c.field);
  *detail = absl::StrCat(c.field.name, "=", view.Display(c.field, value), " ", c.test);
  return Test(c, value) != c.negate;
}

absl::Status CheckThresholds(const Thresholds& t, const std::string& where) {
  if (t.qualified < 0 || t.qualified > 100) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, ": qualified ", t.qualified, " outside 0..100"));
  }
  if (t.nurture < 0 || t.nurture > 100) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, ": nurture ", t.nurture, " outside 0..100"));
  }
  if (t.nurture > t.qualified) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, ": nurture ", t.nurture, " above qualified ", t.qualified));
  }
  return absl::OkStatus();
}

absl::Status CheckName(const std::string& name, const std::string& label,
                       std::map<std::string, std::string>* seen) {
  if (name.empty()) return absl::InvalidArgumentError(absl::StrCat(label, ": empty name"));
  const auto [it, inserted] = seen->emplace(name, label);
  if (!inserted) {
    return absl::InvalidArgumentError(
        absl::StrCat(label, ": duplicate name (also ", it->second, ")"));
  }
  return absl::OkStatus();
}

}  // namespace

struct Qualifier::Compiled {
  std::vector<CompiledRule> requirements;
  std::vector<CompiledRule> criteria;
  std::vector<CompiledSegment> segments;
  Thresholds thresholds;
  std::array<std::optional<Thresholds>, kSourceKinds> thresholds_by_source;
  std::unordered_set<std::string> extra_free_mail;
  int64_t positive_points = 0;
};

const char* OutcomeName(Outcome outcome) {
  switch (outcome) {
    case Outcome::kQualified:
      return "qualified";
    case Outcome::kNurture:
      return "nurture";
    case Outcome::kDisqualified:
      return "disqualified";
  }
  return "unknown";
}

absl::StatusOr<std::shared_ptr<const Qualifier>> Qualifier::Create(Profile profile) {
  auto compiled = std::make_unique<Compiled>();

  if (absl::Status s = CheckThresholds(profile.thresholds, "thresholds"); !s.ok()) return s;
  compiled->thresholds = profile.thresholds;
  for (const auto& [kind_name, t] : profile.thresholds_by_source) {
    const std::string where = absl::StrCat("thresholds_by_source[", Quoted(kind_name), "]");
    const std::optional<v1::LeadSourceKind> kind = internal::ParseSourceKind(kind_name);
    if (!kind || static_cast<size_t>(*kind) >= kSourceKinds) {
      return absl::InvalidArgumentError(absl::StrCat(where, ": unknown source kind"));
    }
    if (absl::Status s = CheckThresholds(t, where); !s.ok()) return s;
    if (compiled->thresholds_by_source[*kind]) {
      return absl::InvalidArgumentError(absl::StrCat(where, ": source kind given twice"));
    }
    compiled->thresholds_by_source[*kind] = t;
  }

  // Requirement and criterion names share one namespace (both appear as "rules" in a
  // decision's explanation); segment names have their own.
  std::map<std::string, std::string> rule_names;
  for (size_t i = 0; i < profile.requirements.size(); ++i) {
    const Requirement& r = profile.requirements[i];
    const std::string label = RuleLabel("requirements", i, r.name);
    if (absl::Status s = CheckName(r.name, label, &rule_names); !s.ok()) return s;
    absl::StatusOr<CompiledCondition> c = CompileCondition(r.condition, label);
    if (!c.ok()) return c.status();
    compiled->requirements.push_back(CompiledRule{r.name, *std::move(c), 0});
  }
  for (size_t i = 0; i < profile.criteria.size(); ++i) {
    const Criterion& r = profile.criteria[i];
    const std::string label = RuleLabel("criteria", i, r.name);
    if (absl::Status s = CheckName(r.name, label, &rule_names); !s.ok()) return s;
    absl::StatusOr<CompiledCondition> c = CompileCondition(r.condition, label);
    if (!c.ok()) return c.status();
    compiled->criteria.push_back(CompiledRule{r.name, *std::move(c), r.points});
    if (r.points > 0) compiled->positive_points += r.points;
  }
  std::map<std::string, std::string> segment_names;
  for (size_t i = 0; i < profile.segments.size(); ++i) {
    const Segment& seg = profile.segments[i];
    const std::string label = RuleLabel("segments", i, seg.name);
    if (absl::Status s = CheckName(seg.name, label, &segment_names); !s.ok()) return s;
    CompiledSegment out{seg.name, {}};
    for (size_t j = 0; j < seg.all_of.size(); ++j) {
      absl::StatusOr<CompiledCondition> c =
          CompileCondition(seg.all_of[j], absl::StrCat(label, ".all_of[", j, "]"));
      if (!c.ok()) return c.status();
      out.all_of.push_back(*std::move(c));
    }
    compiled->segments.push_back(std::move(out));
  }

  for (size_t i = 0; i < profile.extra_free_mail_domains.size(); ++i) {
    std::string d = internal::AsciiLower(profile.extra_free_mail_domains[i]);
    if (!d.empty() && d.front() == '@') d.erase(0, 1);
    if (d.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("extra_free_mail_domains[", i, "]: empty domain"));
    }
    compiled->extra_free_mail.insert(std::move(d));
  }

  return std::shared_ptr<const Qualifier>(new Qualifier(std::move(compiled)));
}

Qualifier::Qualifier(std::unique_ptr<Compiled> compiled) : compiled_(std::move(compiled)) {}

Qualifier::~Qualifier() = default;

Decision Qualifier::Evaluate(const v1::LeadEvent& lead) const {
  const Compiled& p = *compiled_;
  const LeadView view(lead, p.extra_free_mail);
  Decision d;
  d.rules.reserve(p.requirements.size() + p.criteria.size() + p.segments.size());

  // Every requirement is evaluated, even after one failed, so the explanation is complete.
  for (const CompiledRule& r : p.requirements) {
    RuleResult result{RuleResult::Kind::kRequirement, r.name, false, 0, ""};
    result.fired = Holds(r.condition, view, &result.detail);
    if (!result.fired) d.reasons.push_back(r.name);
    d.rules.push_back(std::move(result));
  }

  int64_t raw = 0;
  for (const CompiledRule& r : p.criteria) {
    RuleResult result{RuleResult::Kind::kCriterion, r.name, false, 0, ""};
    result.fired = Holds(r.condition, view, &result.detail);
    if (result.fired) {
      result.points = r.points;
      raw += r.points;
    }
    d.rules.push_back(std::move(result));
  }
  if (p.positive_points > 0) {
    // round(100 * raw / positive) with halves rounded up, exactly, in integers.
    const int64_t score = raw <= 0 ? 0 : (200 * raw + p.positive_points) / (2 * p.positive_points);
    d.score = static_cast<int>(std::min<int64_t>(score, 100));
  } else {
    // No positive points (in particular: no criteria): start from full marks, penalties subtract.
    d.score = static_cast<int>(std::clamp<int64_t>(100 + raw, 0, 100));
  }

  for (const CompiledSegment& seg : p.segments) {
    RuleResult result{RuleResult::Kind::kSegment, seg.name, true, 0, ""};
    std::vector<std::string> details;
    for (const CompiledCondition& c : seg.all_of) {
      std::string detail;
      if (!Holds(c, view, &detail)) result.fired = false;
      details.push_back(std::move(detail));
    }
    result.detail = absl::StrJoin(details, "; ");
    if (result.fired) d.segments.push_back(seg.name);
    d.rules.push_back(std::move(result));
  }

  if (!d.reasons.empty()) {
    d.outcome = Outcome::kDisqualified;
    return d;
  }
  const size_t kind = static_cast<size_t>(lead.source_kind());
  const Thresholds& t = kind < kSourceKinds && p.thresholds_by_source[kind]
                            ? *p.thresholds_by_source[kind]
                            : p.thresholds;
  if (d.score >= t.qualified) {
    d.outcome = Outcome::kQualified;
    d.reasons.push_back(absl::StrCat("score ", d.score, " >= qualified ", t.qualified));
  } else if (d.score >= t.nurture) {
    d.outcome = Outcome::kNurture;
    d.reasons.push_back(
        absl::StrCat("score ", d.score, " < qualified ", t.qualified, ", >= nurture ", t.nurture));
  } else {
    d.outcome = Outcome::kDisqualified;
    d.reasons.push_back(absl::StrCat("score ", d.score, " < nurture ", t.nurture));
  }
  return d;
}

}  // namespace leadrouter::qualify
