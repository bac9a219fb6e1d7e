// leadctl's human-readable formats (format.h). Changing one changes what scripts and the
// end-to-end tests grep: keep services/leadctl/main.cc's format comment in step.
#include "leadrouter/cli/format.h"

#include <google/protobuf/util/json_util.h>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "leadrouter/cli/parse.h"

namespace leadrouter::cli {
namespace {

namespace v1 = leadrouter::v1;

std::string OrDash(absl::string_view text) {
  return text.empty() ? "-" : std::string(text);
}

// An enum value's name without its prefix, or `fallback` for a number the descriptor lacks.
std::string EnumName(const google::protobuf::EnumDescriptor* descriptor, int number,
                     absl::string_view prefix, absl::string_view fallback) {
  const google::protobuf::EnumValueDescriptor* value = descriptor->FindValueByNumber(number);
  if (value == nullptr) return absl::StrCat(fallback, number);
  absl::string_view name = value->name();
  absl::ConsumePrefix(&name, prefix);
  return std::string(name);
}

// EnumName lower-cased: "conflict_pending".
std::string LowerEnumName(const google::protobuf::EnumDescriptor* descriptor, int number,
                          absl::string_view prefix) {
  return absl::AsciiStrToLower(EnumName(descriptor, number, prefix, "value_"));
}

bool IsSet(const google::protobuf::Timestamp& at) {
  return at.seconds() != 0 || at.nanos() != 0;
}

const google::protobuf::Timestamp& EventTime(const v1::AssignmentEvent& event) {
  return IsSet(event.event_time()) ? event.event_time() : event.assigned_at();
}

// "bad_fit: the note", "bad_fit", "the note" or "".
std::string ReasonAndNote(v1::ReturnReason reason, absl::string_view note) {
  std::vector<std::string> parts;
  if (reason != v1::RETURN_REASON_UNSPECIFIED) parts.push_back(ReturnReasonName(reason));
  if (!note.empty()) parts.emplace_back(note);
  return absl::StrJoin(parts, ": ");
}

std::string Parenthesized(absl::string_view text) {
  return text.empty() ? "" : absl::StrCat(" (", text, ")");
}

// Label/value lines with the values aligned.
class KeyValues {
 public:
  void Add(absl::string_view key, absl::string_view value) {
    lines_.emplace_back(std::string(key), OrDash(value));
  }
  std::string Render() const {
    std::string out;
    for (const auto& [key, value] : lines_) {
      absl::StrAppend(&out, absl::StrFormat("%-14s ", key), Sanitize(value), "\n");
    }
    return out;
  }

 private:
  std::vector<std::pair<std::string, std::string>> lines_;
};

std::string JoinNonEmpty(const std::vector<std::string>& parts, absl::string_view separator) {
  std::vector<std::string> kept;
  for (const auto& part : parts) {
    if (!part.empty()) kept.push_back(part);
  }
  return absl::StrJoin(kept, separator);
}

std::string DescribePerson(const v1::Person& person) {
  const std::string name =
      JoinNonEmpty({person.first_name(), person.last_name(),
                    person.email().empty() ? "" : absl::StrCat("<", person.email(), ">")},
                   " ");
  return JoinNonEmpty({name, person.phone(), person.title()}, ", ");
}

std::string DescribeCompany(const v1::Company& company) {
  return JoinNonEmpty(
      {company.name(), company.website(), company.industry(),
       company.employee_count() > 0 ? absl::StrCat(company.employee_count(), " employees") : "",
       company.annual_revenue_usd() > 0 ? absl::StrCat("revenue $", company.annual_revenue_usd())
                                        : "",
       JoinNonEmpty({company.country(), company.region(), company.postal_code()}, "-")},
      ", ");
}

std::string DescribeSource(const v1::LeadEvent& lead) {
  return JoinNonEmpty(
      {lead.source_kind() == v1::LEAD_SOURCE_KIND_UNSPECIFIED
           ? ""
           : EnumName(v1::LeadSourceKind_descriptor(), lead.source_kind(), "LEAD_SOURCE_KIND_",
                      "KIND_"),
       lead.source_system(), lead.campaign().empty() ? "" : "campaign " + lead.campaign(),
       lead.sourced_by_rep_id().empty() ? "" : "sourced by " + lead.sourced_by_rep_id()},
      ", ");
}

std::string Cap(int64_t cap) {
  return cap > 0 ? absl::StrCat(cap) : "-";
}

}  // namespace

std::string FormatTime(const google::protobuf::Timestamp& at) {
  if (!IsSet(at)) return "-";
  const absl::Time t = absl::FromUnixSeconds(at.seconds()) + absl::Nanoseconds(at.nanos());
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone());
}

google::protobuf::Timestamp ToTimestamp(absl::Time t) {
  const int64_t seconds = absl::ToUnixSeconds(t);
  google::protobuf::Timestamp at;
  at.set_seconds(seconds);
  at.set_nanos(static_cast<int32_t>(absl::ToInt64Nanoseconds(t - absl::FromUnixSeconds(seconds))));
  return at;
}

std::string StatusName(v1::AssignmentStatus status) {
  return EnumName(v1::AssignmentStatus_descriptor(), status, "ASSIGNMENT_STATUS_", "STATUS_");
}

std::string PersonAndCompany(const v1::LeadEvent& lead) {
  const v1::Person& person = lead.person();
  std::string who = JoinNonEmpty({person.first_name(), person.last_name()}, " ");
  if (who.empty()) who = person.email();
  if (who.empty()) who = person.phone();
  const std::string company =
      lead.company().name().empty() ? lead.company().website() : lead.company().name();
  if (who.empty()) return company;
  if (company.empty()) return who;
  return absl::StrCat(who, " (", company, ")");
}

std::string EventSummary(const v1::AssignmentEvent& event) {
  const std::string status = StatusName(event.status());
  const std::string lead = OrDash(event.lead_id());
  const std::string rep = OrDash(event.rep_id());
  const std::string attempt = event.attempt() > 0 ? absl::StrCat("attempt ", event.attempt()) : "";
  std::string text;
  switch (event.status()) {
    case v1::ASSIGNMENT_STATUS_ASSIGNED:
      text = absl::StrCat(status, " ", lead, " -> ", rep, Parenthesized(attempt));
      break;
    case v1::ASSIGNMENT_STATUS_ACCEPTED:
      text = absl::StrCat(status, " ", lead, " by ", rep);
      break;
    case v1::ASSIGNMENT_STATUS_RETURNED:
      text = absl::StrCat(status, " ", lead, " by ", rep,
                          Parenthesized(ReasonAndNote(event.return_reason(), event.note())));
      break;
    case v1::ASSIGNMENT_STATUS_EXPIRED:
      text = absl::StrCat(status, " ", lead, " from ", rep,
                          Parenthesized(IsSet(event.sla_deadline())
                                            ? "not accepted by " + FormatTime(event.sla_deadline())
                                            : ""));
      break;
    case v1::ASSIGNMENT_STATUS_CONVERTED: {
      const std::string value = event.conversion_value() > 0
                                    ? absl::StrFormat("value %.2f", event.conversion_value())
                                    : "";
      text = absl::StrCat(status, " ", lead, " by ", rep,
                          Parenthesized(JoinNonEmpty({value, event.note()}, ": ")));
      break;
    }
    case v1::ASSIGNMENT_STATUS_DUPLICATE:
      text =
          absl::StrCat(status, " ", lead, " -> ", rep,
                       Parenthesized(event.event_id().empty() ? "" : "event " + event.event_id()));
      break;
    case v1::ASSIGNMENT_STATUS_UNASSIGNED:
      text =
          absl::StrCat(status, " ", lead, Parenthesized(JoinNonEmpty({"queued", attempt}, ", ")));
      break;
    case v1::ASSIGNMENT_STATUS_RECYCLED:
      text = absl::StrCat(
          status, " ", lead,
          Parenthesized(event.attempt() > 0
                            ? absl::StrCat("to marketing after ", event.attempt(), " attempts")
                            : "to marketing"));
      break;
    case v1::ASSIGNMENT_STATUS_UNSPECIFIED:
    case v1::AssignmentStatus_INT_MIN_SENTINEL_DO_NOT_USE_:
    case v1::AssignmentStatus_INT_MAX_SENTINEL_DO_NOT_USE_:
      break;
  }
  if (text.empty()) text = absl::StrCat(status, " ", lead, " ", rep);  // a status unknown here
  return Sanitize(text);
}

std::string WatchLine(const v1::AssignmentEvent& event) {
  return Sanitize(JoinNonEmpty(
      {FormatTime(EventTime(event)), EventSummary(event), PersonAndCompany(event.lead()),
       event.reason(), event.cursor().empty() ? "" : "cursor=" + event.cursor()},
      "  "));
}

std::string RenderLeadUpdate(const v1::LeadUpdate& update) {
  if (update.events().empty()) return "no change\n";
  std::string out;
  for (const v1::AssignmentEvent& event : update.events()) {
    absl::StrAppend(&out, EventSummary(event), "\n");
  }
  return out;
}

std::string RenderExplain(const v1::AssignmentEvent& event) {
  KeyValues state;
  state.Add("lead", event.lead_id());
  state.Add(
      "status",
      absl::StrCat(StatusName(event.status()),
                   event.attempt() > 0 ? absl::StrCat(" (attempt ", event.attempt(), ")") : ""));
  state.Add("rep", event.rep_id());
  state.Add("pool", event.pool());
  state.Add("territory", event.territory());
  state.Add("assigned at", IsSet(event.assigned_at()) ? FormatTime(event.assigned_at()) : "");
  state.Add("sla deadline", IsSet(event.sla_deadline()) ? FormatTime(event.sla_deadline()) : "");
  state.Add("reason", event.reason());
  if (event.return_reason() != v1::RETURN_REASON_UNSPECIFIED) {
    state.Add("return reason", ReturnReasonName(event.return_reason()));
  }
  if (event.conversion_value() > 0) {
    state.Add("value", absl::StrFormat("%.2f", event.conversion_value()));
  }
  if (!event.note().empty()) state.Add("note", event.note());
  state.Add("person", DescribePerson(event.lead().person()));
  state.Add("company", DescribeCompany(event.lead().company()));
  state.Add("source", DescribeSource(event.lead()));
  state.Add("last change",
            JoinNonEmpty({IsSet(event.event_time()) ? FormatTime(event.event_time()) : "",
                          event.actor().empty() ? "" : "by " + event.actor()},
                         " "));
  state.Add("event", event.event_id());
  state.Add("assignment", event.assignment_id());
  state.Add("config", event.config_version());
  state.Add("cursor", event.cursor());
  std::string out = state.Render();

  out += "\n";
  KeyValues qualification;
  if (event.has_qualification()) {
    const v1::Qualification& q = event.qualification();
    qualification.Add("qualification",
                      absl::StrCat(EnumName(v1::QualificationOutcome_descriptor(), q.outcome(),
                                            "QUALIFICATION_OUTCOME_", "OUTCOME_"),
                                   ", score ", q.score(), "/100"));
    qualification.Add("segments", absl::StrJoin(q.segments(), ", "));
    qualification.Add("reasons", absl::StrJoin(q.reasons(), "; "));
    out += qualification.Render();
    if (!q.rules().empty()) {
      std::vector<std::vector<std::string>> rows;
      for (const v1::RuleEvaluation& rule : q.rules()) {
        rows.push_back({rule.kind(), rule.name(), rule.fired() ? "yes" : "no",
                        absl::StrCat(rule.points()), rule.detail()});
      }
      out += "rules:\n";
      out += RenderTable({{"KIND"}, {"NAME"}, {"FIRED"}, {"POINTS", Align::kRight}, {"DETAIL"}},
                         rows, "  ");
    }
  } else {
    qualification.Add("qualification", "");
    out += qualification.Render();
  }

  out += "\ntrace:\n";
  if (event.trace().empty()) out += "  -\n";
  int step = 0;
  for (const v1::TraceStep& trace : event.trace()) {
    std::string line = absl::StrCat("  ", ++step, ". ", trace.stage());
    if (!trace.decision().empty()) absl::StrAppend(&line, ": ", trace.decision());
    if (!trace.reason().empty()) absl::StrAppend(&line, " \xE2\x80\x94 ", trace.reason());  // —
    absl::StrAppend(&out, Sanitize(line), "\n");
  }

  out += "\nhistory:\n";
  if (event.history().empty()) {
    out += "  -\n";
  } else {
    std::vector<std::vector<std::string>> rows;
    for (const v1::LeadTransition& transition : event.history()) {
      rows.push_back({FormatTime(transition.at()), StatusName(transition.status()),
                      OrDash(transition.rep_id()), OrDash(transition.actor()),
                      ReasonAndNote(transition.return_reason(), transition.note())});
    }
    out += RenderTable({{"TIME"}, {"STATUS"}, {"REP"}, {"ACTOR"}, {"REASON/NOTE"}}, rows, "  ");
  }
  return out;
}

std::string RenderRepLoads(const std::vector<v1::RepLoad>& reps) {
  if (reps.empty()) return "no reps\n";
  std::vector<std::vector<std::string>> rows;
  for (const v1::RepLoad& rep : reps) {
    rows.push_back(
        {rep.rep_id(), absl::StrCat(rep.open_leads()), absl::StrCat(rep.assigned_today()),
         Cap(rep.max_open_leads()), Cap(rep.daily_cap()), rep.paused() ? "yes" : "no",
         rep.available_now() ? "yes"
                             : absl::StrCat("no", Parenthesized(rep.unavailable_reason()))});
  }
  return RenderTable({{"REP"},
                      {"OPEN", Align::kRight},
                      {"TODAY", Align::kRight},
                      {"MAX OPEN", Align::kRight},
                      {"DAILY CAP", Align::kRight},
                      {"PAUSED"},
                      {"AVAILABLE"}},
                     rows);
}

std::string Owners(const google::protobuf::RepeatedPtrField<v1::OwnerShare>& owners) {
  if (owners.empty()) return "-";
  if (owners.size() == 1 && owners[0].percent() == 100) return Sanitize(owners[0].rep_id());
  std::vector<std::string> named;
  for (const v1::OwnerShare& owner : owners) {
    named.push_back(absl::StrCat(Sanitize(owner.rep_id()), " ", owner.percent(), "%"));
  }
  return absl::StrJoin(named, ", ");
}

std::string RenderClaimResults(const v1::ClaimAccountsResponse& response) {
  std::string out;
  for (const v1::ClaimResult& result : response.results()) {
    absl::StrAppend(
        &out, Sanitize(result.domain()), "  ",
        LowerEnumName(v1::ClaimOutcome_descriptor(), result.outcome(), "CLAIM_OUTCOME_"),
        "  owners ", Owners(result.owners()));
    if (result.has_expires_at()) absl::StrAppend(&out, "  until ", FormatTime(result.expires_at()));
    absl::StrAppend(&out, "\n");
  }
  return out;
}

std::string RenderClaims(const v1::ListClaimsResponse& response, bool open_conflicts_only) {
  std::string out;
  if (!open_conflicts_only) {
    std::vector<std::vector<std::string>> rows;
    for (const v1::AccountClaim& claim : response.claims()) {
      rows.push_back(
          {Sanitize(claim.domain()), Sanitize(claim.rep_id()),
           LowerEnumName(v1::ClaimStatus_descriptor(), claim.status(), "CLAIM_STATUS_"),
           claim.status() == v1::CLAIM_STATUS_OWNER ? absl::StrCat(claim.percent(), "%") : "-",
           FormatTime(claim.claimed_at()), FormatTime(claim.expires_at())});
    }
    out = rows.empty() ? "no claims\n"
                       : RenderTable({{"DOMAIN"},
                                      {"REP"},
                                      {"STATUS"},
                                      {"SHARE", Align::kRight},
                                      {"CLAIMED"},
                                      {"UNTIL"}},
                                     rows);
    absl::StrAppend(&out, "\n");
  }
  absl::StrAppend(&out, "conflicts:\n");
  std::vector<std::vector<std::string>> rows;
  for (const v1::ClaimConflict& conflict : response.conflicts()) {
    rows.push_back(
        {Sanitize(conflict.domain()), Sanitize(conflict.claimant_rep_id()),
         Owners(conflict.owners_at_claim()),
         LowerEnumName(v1::ClaimPolicy_descriptor(), conflict.policy(), "CLAIM_POLICY_"),
         LowerEnumName(v1::ConflictStatus_descriptor(), conflict.status(), "CONFLICT_STATUS_"),
         FormatTime(conflict.raised_at()), OrDash(Sanitize(conflict.resolved_by())),
         conflict.status() == v1::CONFLICT_STATUS_OPEN ? "-" : Owners(conflict.owners_after())});
  }
  if (rows.empty()) {
    absl::StrAppend(&out, "  no conflicts\n");
  } else {
    absl::StrAppend(&out, RenderTable({{"DOMAIN"},
                                       {"CLAIMANT"},
                                       {"OWNERS AT CLAIM"},
                                       {"POLICY"},
                                       {"STATUS"},
                                       {"RAISED"},
                                       {"RESOLVED BY"},
                                       {"OWNERS AFTER"}},
                                      rows, "  "));
  }
  absl::StrAppend(&out, response.open_conflicts(),
                  response.open_conflicts() == 1 ? " open conflict\n" : " open conflicts\n");
  return out;
}

std::string RenderResolvedConflict(const v1::ClaimConflict& conflict) {
  return absl::StrCat(
      Sanitize(conflict.domain()), ": ", Sanitize(conflict.claimant_rep_id()), " vs ",
      Owners(conflict.owners_at_claim()), ": ",
      LowerEnumName(v1::ConflictStatus_descriptor(), conflict.status(), "CONFLICT_STATUS_"),
      "; owners now ", Owners(conflict.owners_after()), "\n");
}

std::string RenderUnassigned(const v1::ListUnassignedResponse& response) {
  if (response.leads().empty() && response.total() <= 0) return "no unassigned leads\n";
  std::vector<std::vector<std::string>> rows;
  for (const v1::AssignmentEvent& lead : response.leads()) {
    rows.push_back({FormatTime(EventTime(lead)), OrDash(lead.lead_id()),
                    lead.attempt() > 0 ? absl::StrCat(lead.attempt()) : "-", OrDash(lead.pool()),
                    OrDash(lead.territory()), OrDash(PersonAndCompany(lead.lead())),
                    OrDash(lead.reason())});
  }
  std::string out;
  if (!rows.empty()) {
    out = RenderTable({{"QUEUED"},
                       {"LEAD"},
                       {"ATTEMPT", Align::kRight},
                       {"POOL"},
                       {"TERRITORY"},
                       {"PERSON", Align::kLeft, 40},
                       {"REASON", Align::kLeft, 80}},
                      rows);
  }
  const int64_t shown = response.leads_size();
  const int64_t total = std::max<int64_t>(response.total(), shown);
  if (total > shown) {
    absl::StrAppend(&out, shown, " of ", total, " unassigned leads\n");
  } else {
    absl::StrAppend(&out, total, total == 1 ? " unassigned lead\n" : " unassigned leads\n");
  }
  return out;
}

std::string RenderReload(const v1::ReloadConfigResponse& response) {
  std::string out = Sanitize(absl::StrCat(OrDash(response.result()), " (config version ",
                                          OrDash(response.version()), ")"));
  out += "\n";
  for (absl::string_view line : absl::StrSplit(response.detail(), '\n', absl::SkipWhitespace())) {
    absl::StrAppend(&out, "  ", Sanitize(std::string(line)), "\n");
  }
  return out;
}

absl::StatusOr<std::string> ToJsonLine(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  std::string line;
  const auto status = google::protobuf::util::MessageToJsonString(message, &line, options);
  if (!status.ok()) return absl::InternalError(absl::StrCat("to JSON: ", status.ToString()));
  return line;
}

}  // namespace leadrouter::cli
