// leadctl: the pure formats and parsers of leadrouter::cli, Client against an in-process fake
// leadrouter (real gRPC: metadata, deadlines, status codes, streaming), and the leadctl binary's
// flags and exit codes against the same fake.
#include <gmock/gmock.h>
#include <google/protobuf/text_format.h>
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/message_differencer.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "leadrouter/cli/client.h"
#include "leadrouter/cli/exit_code.h"
#include "leadrouter/cli/format.h"
#include "leadrouter/cli/parse.h"
#include "leadrouter/testing/subprocess.h"

namespace leadrouter::cli {
namespace {

namespace v1 = leadrouter::v1;
using ::testing::HasSubstr;
using ::testing::Not;

template <typename Message>
Message Parse(const std::string& text) {
  Message message;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &message)) << text;
  return message;
}

absl::Time Utc(int y, int m, int d, int hh = 0, int mm = 0, int ss = 0) {
  return absl::FromCivil(absl::CivilSecond(y, m, d, hh, mm, ss), absl::UTCTimeZone());
}

// A lead returned by rep-ada and re-routed to rep-bob, as ExplainLead would return it.
v1::AssignmentEvent ReroutedLead() {
  return Parse<v1::AssignmentEvent>(R"pb(
    assignment_id: "as-2"
    lead_id: "ld_7f3a"
    event_id: "ev-1"
    rep_id: "rep-bob"
    pool: "west-smb"
    territory: "us-west"
    status: ASSIGNMENT_STATUS_ASSIGNED
    reason: "us-west / west-smb: weighted round robin"
    config_version: "3f2a9c"
    assigned_at { seconds: 1714554000 }
    attempt: 2
    sla_deadline { seconds: 1714568400 }
    actor: "token:crm"
    cursor: "1714554000000-0"
    event_time { seconds: 1714554000 }
    lead {
      event_id: "ev-1"
      source_kind: LEAD_SOURCE_KIND_INBOUND_MARKETING
      source_system: "hubspot"
      campaign: "spring"
      person { first_name: "Ada" last_name: "Lovelace" email: "ada@example.com" title: "CTO" }
      company {
        name: "Example Co"
        website: "example.com"
        industry: "software"
        employee_count: 1200
        country: "US"
        region: "CA"
      }
    }
    qualification {
      outcome: QUALIFICATION_OUTCOME_QUALIFIED
      score: 82
      segments: "enterprise"
      segments: "west"
      reasons: "score 82 >= 60"
      rules { kind: "requirement" name: "has_email" fired: true detail: "person.email present" }
      rules {
        kind: "criterion"
        name: "big_company"
        fired: true
        points: 30
        detail: "company.employee_count=1200 at_least 200"
      }
      rules {
        kind: "criterion"
        name: "intent"
        fired: false
        detail: "psychographics.intent_score=0 at_least 50"
      }
    }
    trace { stage: "qualify" decision: "QUALIFIED" reason: "score 82" }
    trace { stage: "territory" decision: "us-west" reason: "country US, region CA" }
    trace { stage: "route" decision: "rep-bob" reason: "rep-ada returned it before" }
    history {
      status: ASSIGNMENT_STATUS_ASSIGNED
      rep_id: "rep-ada"
      at { seconds: 1714550400 }
      actor: "leadrouter"
      assignment_id: "as-1"
    }
    history {
      status: ASSIGNMENT_STATUS_RETURNED
      rep_id: "rep-ada"
      at { seconds: 1714554000 }
      actor: "token:crm"
      return_reason: RETURN_REASON_BAD_FIT
      note: "too small"
    }
    history {
      status: ASSIGNMENT_STATUS_ASSIGNED
      rep_id: "rep-bob"
      at { seconds: 1714554000 }
      actor: "leadrouter"
      assignment_id: "as-2"
    }
  )pb");
}

// ---- exit codes ----------------------------------------------------------------------------

TEST(CliExitCodeTest, EveryStatusCodeMapsToItsDocumentedExitCode) {
  const std::map<grpc::StatusCode, int> expected = {
      {grpc::StatusCode::OK, 0},
      {grpc::StatusCode::CANCELLED, 1},
      {grpc::StatusCode::UNKNOWN, 1},
      {grpc::StatusCode::INVALID_ARGUMENT, 3},
      {grpc::StatusCode::DEADLINE_EXCEEDED, 4},
      {grpc::StatusCode::NOT_FOUND, 3},
      {grpc::StatusCode::ALREADY_EXISTS, 3},
      {grpc::StatusCode::PERMISSION_DENIED, 3},
      {grpc::StatusCode::RESOURCE_EXHAUSTED, 4},
      {grpc::StatusCode::FAILED_PRECONDITION, 3},
      {grpc::StatusCode::ABORTED, 4},
      {grpc::StatusCode::OUT_OF_RANGE, 3},
      {grpc::StatusCode::UNIMPLEMENTED, 3},
      {grpc::StatusCode::INTERNAL, 1},
      {grpc::StatusCode::UNAVAILABLE, 4},
      {grpc::StatusCode::DATA_LOSS, 1},
      {grpc::StatusCode::UNAUTHENTICATED, 3},
  };
  for (int code = 0; code <= 16; ++code) {
    const auto status_code = static_cast<grpc::StatusCode>(code);
    ASSERT_TRUE(expected.contains(status_code)) << code;
    EXPECT_EQ(ExitCodeFor(status_code), expected.at(status_code)) << StatusCodeName(status_code);
  }
  EXPECT_EQ(ExitCodeFor(static_cast<grpc::StatusCode>(99)), kExitFailure);
  EXPECT_EQ(kExitUsage, 2);
}

TEST(CliExitCodeTest, StatusNamesAndTheErrorLine) {
  EXPECT_EQ(StatusCodeName(grpc::StatusCode::OK), "OK");
  EXPECT_EQ(StatusCodeName(grpc::StatusCode::NOT_FOUND), "NOT_FOUND");
  EXPECT_EQ(StatusCodeName(grpc::StatusCode::FAILED_PRECONDITION), "FAILED_PRECONDITION");
  EXPECT_EQ(StatusCodeName(grpc::StatusCode::UNAUTHENTICATED), "UNAUTHENTICATED");
  EXPECT_EQ(StatusCodeName(static_cast<grpc::StatusCode>(42)), "CODE_42");
  std::set<std::string> names;
  for (int code = 0; code <= 16; ++code) {
    names.insert(StatusCodeName(static_cast<grpc::StatusCode>(code)));
  }
  EXPECT_EQ(names.size(), 17u);  // no two codes print alike
  EXPECT_FALSE(names.contains("CODE_0"));

  EXPECT_EQ(ErrorLine(grpc::Status(grpc::StatusCode::NOT_FOUND, "unknown lead ld_x")),
            "leadctl: NOT_FOUND: unknown lead ld_x");
  EXPECT_EQ(ErrorLine(grpc::Status(grpc::StatusCode::UNAVAILABLE, "")), "leadctl: UNAVAILABLE");
  EXPECT_EQ(ErrorLine(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "bad\nnote\x1b[2J")),
            "leadctl: INVALID_ARGUMENT: bad note [2J");
}

// ---- parsing -------------------------------------------------------------------------------

TEST(CliReturnReasonTest, EveryEnumValueRoundTripsThroughItsName) {
  const google::protobuf::EnumDescriptor* descriptor = v1::ReturnReason_descriptor();
  int checked = 0;
  for (int i = 0; i < descriptor->value_count(); ++i) {
    const auto reason = static_cast<v1::ReturnReason>(descriptor->value(i)->number());
    if (reason == v1::RETURN_REASON_UNSPECIFIED) continue;
    const std::string name = ReturnReasonName(reason);
    auto parsed = ParseReturnReason(name);
    ASSERT_TRUE(parsed.ok()) << name << ": " << parsed.status();
    EXPECT_EQ(*parsed, reason) << name;
    auto full = ParseReturnReason(descriptor->value(i)->name());  // RETURN_REASON_BAD_FIT
    ASSERT_TRUE(full.ok()) << full.status();
    EXPECT_EQ(*full, reason);
    ++checked;
  }
  EXPECT_EQ(checked, descriptor->value_count() - 1);
  EXPECT_EQ(ReturnReasonNames(),
            (std::vector<std::string>{"bad_fit", "wrong_territory", "duplicate", "no_contact_info",
                                      "not_ready", "existing_customer", "other"}));
  EXPECT_EQ(ReturnReasonName(v1::RETURN_REASON_UNSPECIFIED), "unspecified");
  EXPECT_EQ(ReturnReasonName(static_cast<v1::ReturnReason>(99)), "reason_99");
}

TEST(CliReturnReasonTest, CaseDashesAndSpacesAreForgiven) {
  EXPECT_EQ(*ParseReturnReason("Bad-Fit"), v1::RETURN_REASON_BAD_FIT);
  EXPECT_EQ(*ParseReturnReason(" wrong_territory\n"), v1::RETURN_REASON_WRONG_TERRITORY);
  EXPECT_EQ(*ParseReturnReason("return-reason-no-contact-info"), v1::RETURN_REASON_NO_CONTACT_INFO);
  EXPECT_EQ(*ParseReturnReason("OTHER"), v1::RETURN_REASON_OTHER);
}

TEST(CliReturnReasonTest, UnknownReasonsAreRefusedListingTheValidOnes) {
  for (const std::string text :
       {"nope", "", "unspecified", "return_reason_unspecified", "return_reason_", "bad fit", "7"}) {
    auto parsed = ParseReturnReason(text);
    ASSERT_FALSE(parsed.ok()) << text;
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument);
    const std::string message(parsed.status().message());
    EXPECT_THAT(message, HasSubstr(absl::StrCat("\"", text, "\"")));
    EXPECT_THAT(message, HasSubstr("bad_fit, wrong_territory, duplicate, no_contact_info, "
                                   "not_ready, existing_customer, other"));
  }
}

TEST(CliParseTimeTest, Rfc3339WithOffsetsAndDates) {
  EXPECT_EQ(*ParseTime("2024-05-01T09:00:00Z"), Utc(2024, 5, 1, 9));
  EXPECT_EQ(*ParseTime("2024-05-01t09:00:00z"), Utc(2024, 5, 1, 9));
  EXPECT_EQ(*ParseTime("2024-05-01 09:00:00Z"), Utc(2024, 5, 1, 9));
  EXPECT_EQ(*ParseTime("2024-05-01T09:00:00+02:00"), Utc(2024, 5, 1, 7));
  EXPECT_EQ(*ParseTime("2024-05-01T09:00:00-05:30"), Utc(2024, 5, 1, 14, 30));
  EXPECT_EQ(*ParseTime("2024-05-01T09:00:00.250Z"), Utc(2024, 5, 1, 9) + absl::Milliseconds(250));
  EXPECT_EQ(*ParseTime(" 2024-05-01T09:00:00Z "), Utc(2024, 5, 1, 9));
  EXPECT_EQ(*ParseTime("2024-05-01"), Utc(2024, 5, 1));
  EXPECT_EQ(*ParseTime("2024-02-29"), Utc(2024, 2, 29));
}

TEST(CliParseTimeTest, AmbiguousOrBrokenTimesAreRefused) {
  auto local = ParseTime("2024-05-01T09:00:00");
  ASSERT_FALSE(local.ok());
  EXPECT_EQ(local.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(local.status().message()), HasSubstr("UTC offset"));
  for (const std::string text :
       {"", "tomorrow", "2024-13-01", "2024-02-30", "2023-02-29", "2024-05-01T25:00:00Z",
        "2024-05-01T09:00Z", "01/05/2024", "2024-05-01T09:00:00+2", "1714554000"}) {
    auto parsed = ParseTime(text);
    ASSERT_FALSE(parsed.ok()) << text << " parsed as " << absl::FormatTime(*parsed);
    EXPECT_THAT(std::string(parsed.status().message()), HasSubstr("2024-05-01T09:00:00Z"));
  }
}

TEST(CliParseTokenTest, TrimsAndRefusesWhatMetadataCannotCarry) {
  EXPECT_EQ(*ParseToken("s3cr3t-token\n"), "s3cr3t-token");
  EXPECT_EQ(*ParseToken("  abc.DEF_123~+/=  \r\n"), "abc.DEF_123~+/=");
  for (const std::string raw : {"", " \n", "two words", "tab\there", "caf\xc3\xa9", "nul\x01"}) {
    auto token = ParseToken(raw);
    ASSERT_FALSE(token.ok()) << raw;
    EXPECT_EQ(token.status().code(), absl::StatusCode::kInvalidArgument);
    if (!raw.empty() && raw != " \n") {
      EXPECT_THAT(std::string(token.status().message()), Not(HasSubstr(raw))) << "leaks";
    }
  }
}

// ---- text and tables -----------------------------------------------------------------------

TEST(CliTextTest, DisplayWidthCountsTerminalColumns) {
  EXPECT_EQ(DisplayWidth(""), 0u);
  EXPECT_EQ(DisplayWidth("rep-ada"), 7u);
  EXPECT_EQ(DisplayWidth("Zo\xc3\xab"), 3u);                // Zoë, precomposed
  EXPECT_EQ(DisplayWidth("Zoe\xcc\x88"), 3u);               // Zoë, e + combining diaeresis
  EXPECT_EQ(DisplayWidth("\xe5\xb1\xb1\xe7\x94\xb0"), 4u);  // 山田: wide
  EXPECT_EQ(DisplayWidth("\xef\xbc\xa1"), 2u);              // fullwidth A
  EXPECT_EQ(DisplayWidth("\xf0\x9f\x98\x80"), 2u);          // 😀
  EXPECT_EQ(DisplayWidth("a\xe2\x80\x8b"
                         "b"),
            2u);                                                            // zero-width space
  EXPECT_EQ(DisplayWidth("\xd0\x9c\xd0\xb0\xd1\x80\xd0\xb8\xd1\x8f"), 5u);  // Мария
  EXPECT_EQ(DisplayWidth("\xff\xfe"), 2u);  // invalid bytes: one column each (as U+FFFD)
}

TEST(CliTextTest, SanitizeKeepsOneSafeLine) {
  EXPECT_EQ(Sanitize("plain"), "plain");
  EXPECT_EQ(Sanitize("M\xc3\xbcller \xe5\xb1\xb1\xe7\x94\xb0"),
            "M\xc3\xbcller \xe5\xb1\xb1\xe7\x94\xb0");
  EXPECT_EQ(Sanitize("two\nlines\r\tand\x1b[31mred"), "two lines  and [31mred");
  EXPECT_EQ(Sanitize("del\x7f"
                     "c1\xc2\x9b"),
            "del c1 ");
  EXPECT_EQ(Sanitize("bad\xff"), "bad\xef\xbf\xbd");
  EXPECT_EQ(Sanitize("\xe2\x80\xae"
                     "evil"),
            "\xef\xbf\xbd"
            "evil");  // RIGHT-TO-LEFT OVERRIDE
  EXPECT_EQ(Sanitize("line\xe2\x80\xa8sep"), "line sep");
  EXPECT_EQ(Sanitize(std::string("nul\0x", 5)), "nul x");
}

TEST(CliTextTest, TruncateCutsByColumnsWithAnEllipsis) {
  EXPECT_EQ(Truncate("short", 10), "short");
  EXPECT_EQ(Truncate("exactly", 7), "exactly");
  EXPECT_EQ(Truncate("truncated", 6), "trunc\xe2\x80\xa6");
  EXPECT_EQ(Truncate("abc", 0), "");
  // 山田太郎 is 8 columns; in 6 there is room for two wide characters and the ellipsis.
  const std::string cut = Truncate("\xe5\xb1\xb1\xe7\x94\xb0\xe5\xa4\xaa\xe9\x83\x8e", 6);
  EXPECT_EQ(cut, "\xe5\xb1\xb1\xe7\x94\xb0\xe2\x80\xa6");
  EXPECT_LE(DisplayWidth(cut), 6u);
  // A wide character never straddles the limit.
  EXPECT_EQ(Truncate("\xe5\xb1\xb1\xe7\x94\xb0\xe5\xa4\xaa", 4), "\xe5\xb1\xb1\xe2\x80\xa6");
}

TEST(CliTableTest, AlignsColumnsAndRightAlignsNumbers) {
  const std::string table = RenderTable(
      {{"REP"}, {"OPEN", Align::kRight}, {"NOTE"}},
      {{"rep-ada", "3", "ok"}, {"rep-bartholomew", "12", ""}, {"x", "100", "long note here"}});
  EXPECT_EQ(table,
            "REP              OPEN  NOTE\n"
            "rep-ada             3  ok\n"
            "rep-bartholomew    12\n"
            "x                 100  long note here\n");
  EXPECT_EQ(RenderTable({{"A"}, {"B"}}, {{"1"}}, "  "), "  A  B\n  1\n");  // short row padded
  EXPECT_EQ(RenderTable({}, {{"x"}}), "");
}

TEST(CliTableTest, WideAndCombiningCharactersKeepColumnsAligned) {
  const std::string table =
      RenderTable({{"NAME"}, {"REP"}}, {{"\xe5\xb1\xb1\xe7\x94\xb0\xe5\xa4\xaa\xe9\x83\x8e", "r1"},
                                        {"Zoe\xcc\x88", "r2"},
                                        {"\xf0\x9f\x98\x80 Ana", "r3"},
                                        {"plain", "r4"}});
  // Every REP cell starts at the same terminal column.
  std::vector<std::string> lines = absl::StrSplit(table, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 5u);
  for (const std::string& line : lines) {
    const size_t at = line.rfind("  ");
    ASSERT_NE(at, std::string::npos) << line;
    EXPECT_EQ(DisplayWidth(line.substr(0, at + 2)), 10u) << table;
  }
  EXPECT_EQ(lines[2], "Zoe\xcc\x88       r2");  // 3 columns + 5 to the width of 山田太郎 + 2
}

TEST(CliTableTest, CellsAreSanitizedAndTruncated) {
  const std::string table =
      RenderTable({{"A", Align::kLeft, 5}, {"B"}}, {{"abcdefghij", "x\ny"}, {"\x1b[1m", "z"}});
  EXPECT_EQ(table,
            "A      B\n"
            "abcd\xe2\x80\xa6  x y\n"
            " [1m   z\n");
}

// ---- event formats -------------------------------------------------------------------------

TEST(CliEventFormatTest, EachStatusHasItsOneLineSummary) {
  struct Case {
    std::string event;
    std::string summary;
  };
  const std::vector<Case> cases =
      {
          {R"pb(status: ASSIGNMENT_STATUS_ASSIGNED lead_id: "ld_x" rep_id: "rep-bob" attempt: 2)pb",
           "ASSIGNED ld_x -> rep-bob (attempt 2)"},
          {R"pb(status: ASSIGNMENT_STATUS_ASSIGNED lead_id: "ld_x" rep_id: "rep-bob")pb",
           "ASSIGNED ld_x -> rep-bob"},
          {R"pb(status: ASSIGNMENT_STATUS_ACCEPTED lead_id: "ld_x" rep_id: "rep-ada" attempt: 1)pb",
           "ACCEPTED ld_x by rep-ada"},
          {R"pb(status: ASSIGNMENT_STATUS_RETURNED
                lead_id: "ld_x"
                rep_id: "rep-ada"
                return_reason: RETURN_REASON_BAD_FIT)pb",
           "RETURNED ld_x by rep-ada (bad_fit)"},
          {R"pb(status: ASSIGNMENT_STATUS_RETURNED
                lead_id: "ld_x"
                rep_id: "rep-ada"
                return_reason: RETURN_REASON_OTHER
                note: "met them at a fair")pb",
           "RETURNED ld_x by rep-ada (other: met them at a fair)"},
          {R"pb(status: ASSIGNMENT_STATUS_EXPIRED
                lead_id: "ld_x"
                rep_id: "rep-ada"
                sla_deadline { seconds: 1714568400 })pb",
           "EXPIRED ld_x from rep-ada (not accepted by 2024-05-01T13:00:00Z)"},
          {R"pb(status: ASSIGNMENT_STATUS_EXPIRED lead_id: "ld_x" rep_id: "rep-ada")pb",
           "EXPIRED ld_x from rep-ada"},
          {R"pb(status: ASSIGNMENT_STATUS_CONVERTED
                lead_id: "ld_x"
                rep_id: "rep-ada"
                conversion_value: 1250.5
                note: "3-year deal")pb",
           "CONVERTED ld_x by rep-ada (value 1250.50: 3-year deal)"},
          {R"pb(status: ASSIGNMENT_STATUS_CONVERTED lead_id: "ld_x" rep_id: "rep-ada")pb",
           "CONVERTED ld_x by rep-ada"},
          {R"pb(status: ASSIGNMENT_STATUS_DUPLICATE
                lead_id: "ld_x"
                rep_id: "rep-ada"
                event_id: "ev-9")pb",
           "DUPLICATE ld_x -> rep-ada (event ev-9)"},
          {R"pb(status: ASSIGNMENT_STATUS_UNASSIGNED lead_id: "ld_x" attempt: 3)pb",
           "UNASSIGNED ld_x (queued, attempt 3)"},
          {R"pb(status: ASSIGNMENT_STATUS_RECYCLED lead_id: "ld_x" attempt: 3)pb",
           "RECYCLED ld_x (to marketing after 3 attempts)"},
          {R"pb(status: ASSIGNMENT_STATUS_UNSPECIFIED lead_id: "ld_x")pb", "UNSPECIFIED ld_x -"},
          {R"pb(status: ASSIGNMENT_STATUS_ASSIGNED)pb", "ASSIGNED - -> -"},
          {R"pb(status: ASSIGNMENT_STATUS_ACCEPTED lead_id: "ld\nx" rep_id: "rep-ada")pb",
           "ACCEPTED ld x by rep-ada"},
      };
  std::set<v1::AssignmentStatus> covered;
  for (const Case& c : cases) {
    const auto event = Parse<v1::AssignmentEvent>(c.event);
    EXPECT_EQ(EventSummary(event), c.summary) << c.event;
    covered.insert(event.status());
  }
  // A status added to the enum needs its own line here (and in EventSummary).
  for (int i = 0; i < v1::AssignmentStatus_descriptor()->value_count(); ++i) {
    const auto status =
        static_cast<v1::AssignmentStatus>(v1::AssignmentStatus_descriptor()->value(i)->number());
    EXPECT_TRUE(covered.contains(status)) << StatusName(status);
  }
  v1::AssignmentEvent future;
  future.set_status(static_cast<v1::AssignmentStatus>(42));
  future.set_lead_id("ld_x");
  EXPECT_EQ(EventSummary(future), "STATUS_42 ld_x -");
}

TEST(CliEventFormatTest, WatchLineHasTimeSummaryWhoReasonAndCursorLast) {
  const v1::AssignmentEvent event = ReroutedLead();
  EXPECT_EQ(WatchLine(event),
            "2024-05-01T09:00:00Z  ASSIGNED ld_7f3a -> rep-bob (attempt 2)  Ada Lovelace (Example "
            "Co)  us-west / west-smb: weighted round robin  cursor=1714554000000-0");
  // What the end-to-end tests grep for (tests/e2e/routing_e2e_test.cc).
  EXPECT_THAT(WatchLine(event), HasSubstr("-> rep-"));
  EXPECT_THAT(WatchLine(event), HasSubstr("Example Co"));

  // Without event_time the assignment time is used; empty fields are left out.
  auto bare = Parse<v1::AssignmentEvent>(R"pb(
    status: ASSIGNMENT_STATUS_ACCEPTED
    lead_id: "ld_1"
    rep_id: "rep-ada"
    assigned_at { seconds: 1714550400 }
  )pb");
  EXPECT_EQ(WatchLine(bare), "2024-05-01T08:00:00Z  ACCEPTED ld_1 by rep-ada");
  bare.clear_assigned_at();
  EXPECT_EQ(WatchLine(bare), "-  ACCEPTED ld_1 by rep-ada");
}

TEST(CliEventFormatTest, PersonAndCompanyFallBacks) {
  EXPECT_EQ(PersonAndCompany(Parse<v1::LeadEvent>(
                R"pb(person { first_name: "Ada" last_name: "Lovelace" }
                     company { name: "Example Co" website: "example.com" })pb")),
            "Ada Lovelace (Example Co)");
  EXPECT_EQ(PersonAndCompany(Parse<v1::LeadEvent>(R"pb(person { email: "ada@example.com" }
                                                       company { website: "example.com" })pb")),
            "ada@example.com (example.com)");
  EXPECT_EQ(PersonAndCompany(Parse<v1::LeadEvent>(R"pb(person { phone: "+15551234567" })pb")),
            "+15551234567");
  EXPECT_EQ(PersonAndCompany(Parse<v1::LeadEvent>(R"pb(company { name: "Solo" })pb")), "Solo");
  EXPECT_EQ(PersonAndCompany(v1::LeadEvent()), "");
}

TEST(CliEventFormatTest, LeadUpdatePrintsEachTransitionInOrder) {
  const auto update = Parse<v1::LeadUpdate>(R"pb(
    events {
      status: ASSIGNMENT_STATUS_RETURNED
      lead_id: "ld_x"
      rep_id: "rep-ada"
      return_reason: RETURN_REASON_BAD_FIT
    }
    events { status: ASSIGNMENT_STATUS_ASSIGNED lead_id: "ld_x" rep_id: "rep-bob" attempt: 2 }
  )pb");
  EXPECT_EQ(RenderLeadUpdate(update),
            "RETURNED ld_x by rep-ada (bad_fit)\n"
            "ASSIGNED ld_x -> rep-bob (attempt 2)\n");
  EXPECT_EQ(RenderLeadUpdate(v1::LeadUpdate()), "no change\n");
}

TEST(CliTimeFormatTest, UtcWholeSecondsAndUnset) {
  EXPECT_EQ(FormatTime(ToTimestamp(Utc(2024, 5, 1, 9, 30, 15) + absl::Milliseconds(999))),
            "2024-05-01T09:30:15Z");
  EXPECT_EQ(FormatTime(google::protobuf::Timestamp()), "-");
  const google::protobuf::Timestamp at = ToTimestamp(Utc(2024, 5, 1) + absl::Nanoseconds(5));
  EXPECT_EQ(at.seconds(), 1714521600);
  EXPECT_EQ(at.nanos(), 5);
  const google::protobuf::Timestamp before = ToTimestamp(absl::FromUnixMillis(-1500));
  EXPECT_EQ(before.seconds(), -2);  // nanos are never negative
  EXPECT_EQ(before.nanos(), 500'000'000);
}

// ---- reports -------------------------------------------------------------------------------

TEST(CliExplainTest, TheWholeReport) {
  EXPECT_EQ(RenderExplain(ReroutedLead()),
            "lead           ld_7f3a\n"
            "status         ASSIGNED (attempt 2)\n"
            "rep            rep-bob\n"
            "pool           west-smb\n"
            "territory      us-west\n"
            "assigned at    2024-05-01T09:00:00Z\n"
            "sla deadline   2024-05-01T13:00:00Z\n"
            "reason         us-west / west-smb: weighted round robin\n"
            "person         Ada Lovelace <ada@example.com>, CTO\n"
            "company        Example Co, example.com, software, 1200 employees, US-CA\n"
            "source         INBOUND_MARKETING, hubspot, campaign spring\n"
            "last change    2024-05-01T09:00:00Z by token:crm\n"
            "event          ev-1\n"
            "assignment     as-2\n"
            "config         3f2a9c\n"
            "cursor         1714554000000-0\n"
            "\n"
            "qualification  QUALIFIED, score 82/100\n"
            "segments       enterprise, west\n"
            "reasons        score 82 >= 60\n"
            "rules:\n"
            "  KIND         NAME         FIRED  POINTS  DETAIL\n"
            "  requirement  has_email    yes         0  person.email present\n"
            "  criterion    big_company  yes        30  company.employee_count=1200 at_least 200\n"
            "  criterion    intent       no          0  psychographics.intent_score=0 at_least 50\n"
            "\n"
            "trace:\n"
            "  1. qualify: QUALIFIED \xe2\x80\x94 score 82\n"
            "  2. territory: us-west \xe2\x80\x94 country US, region CA\n"
            "  3. route: rep-bob \xe2\x80\x94 rep-ada returned it before\n"
            "\n"
            "history:\n"
            "  TIME                  STATUS    REP      ACTOR       REASON/NOTE\n"
            "  2024-05-01T08:00:00Z  ASSIGNED  rep-ada  leadrouter\n"
            "  2024-05-01T09:00:00Z  RETURNED  rep-ada  token:crm   bad_fit: too small\n"
            "  2024-05-01T09:00:00Z  ASSIGNED  rep-bob  leadrouter\n");
}

TEST(CliExplainTest, UnsetPartsPrintADashAndLifecycleFieldsAppear) {
  auto event = Parse<v1::AssignmentEvent>(R"pb(
    lead_id: "ld_q"
    status: ASSIGNMENT_STATUS_RETURNED
    rep_id: "rep-ada"
    return_reason: RETURN_REASON_OTHER
    note: "call\nback"
    trace { stage: "dedupe" }
    trace { stage: "route" reason: "nobody eligible" }
  )pb");
  const std::string report = RenderExplain(event);
  EXPECT_THAT(report, HasSubstr("status         RETURNED\n"));
  EXPECT_THAT(report, HasSubstr("pool           -\n"));
  EXPECT_THAT(report, HasSubstr("sla deadline   -\n"));
  EXPECT_THAT(report, HasSubstr("return reason  other\n"));
  EXPECT_THAT(report, HasSubstr("note           call back\n"));
  EXPECT_THAT(report, HasSubstr("qualification  -\n"));
  EXPECT_THAT(report, Not(HasSubstr("rules:")));
  EXPECT_THAT(report, HasSubstr("trace:\n  1. dedupe\n  2. route \xe2\x80\x94 nobody eligible\n"));
  EXPECT_THAT(report, HasSubstr("history:\n  -\n"));
  event.clear_trace();
  EXPECT_THAT(RenderExplain(event), HasSubstr("trace:\n  -\n"));
}

TEST(CliAdminReportTest, RepLoadTable) {
  std::vector<v1::RepLoad> reps = {
      Parse<v1::RepLoad>(R"pb(rep_id: "rep-ada"
                              open_leads: 3
                              assigned_today: 12
                              max_open_leads: 10
                              available_now: true)pb"),
      Parse<v1::RepLoad>(R"pb(rep_id: "rep-bob"
                              paused: true
                              daily_cap: 25
                              unavailable_reason: "paused")pb"),
      Parse<v1::RepLoad>(R"pb(rep_id: "rep-cy")pb"),
  };
  EXPECT_EQ(RenderRepLoads(reps),
            "REP      OPEN  TODAY  MAX OPEN  DAILY CAP  PAUSED  AVAILABLE\n"
            "rep-ada     3     12        10          -  no      yes\n"
            "rep-bob     0      0         -         25  yes     no (paused)\n"
            "rep-cy      0      0         -          -  no      no\n");
  EXPECT_EQ(RenderRepLoads({}), "no reps\n");
}

TEST(CliAdminReportTest, UnassignedQueue) {
  v1::ListUnassignedResponse response;
  *response.add_leads() = Parse<v1::AssignmentEvent>(R"pb(
    lead_id: "ld_1"
    status: ASSIGNMENT_STATUS_UNASSIGNED
    attempt: 1
    pool: "west"
    territory: "us-west"
    reason: "every rep at capacity"
    event_time { seconds: 1714550400 }
    lead {
      person { first_name: "Ada" }
      company { name: "Example Co" }
    }
  )pb");
  *response.add_leads() = Parse<v1::AssignmentEvent>(R"pb(
    lead_id: "ld_22"
    status: ASSIGNMENT_STATUS_UNASSIGNED
    attempt: 12
    assigned_at { seconds: 1714554000 }
  )pb");
  response.set_total(2);
  EXPECT_EQ(RenderUnassigned(response),
            "QUEUED                LEAD   ATTEMPT  POOL  TERRITORY  PERSON            REASON\n"
            "2024-05-01T08:00:00Z  ld_1         1  west  us-west    Ada (Example Co)  every rep at "
            "capacity\n"
            "2024-05-01T09:00:00Z  ld_22       12  -     -          -                 -\n"
            "2 unassigned leads\n");
  response.set_total(40);
  EXPECT_THAT(RenderUnassigned(response), HasSubstr("\n2 of 40 unassigned leads\n"));
  response.mutable_leads()->RemoveLast();
  response.set_total(1);
  EXPECT_THAT(RenderUnassigned(response), ::testing::EndsWith("\n1 unassigned lead\n"));
  response.clear_leads();
  response.set_total(3);  // a server that sent none of them (limit 0 would not do that)
  EXPECT_EQ(RenderUnassigned(response), "0 of 3 unassigned leads\n");
  EXPECT_EQ(RenderUnassigned(v1::ListUnassignedResponse()), "no unassigned leads\n");
}

TEST(CliAdminReportTest, ReloadResult) {
  EXPECT_EQ(RenderReload(Parse<v1::ReloadConfigResponse>(
                R"pb(result: "refused"
                     version: "3f2a"
                     detail: "reps[2].weight: must be > 0\npools[0]: unknown rep\n")pb")),
            "refused (config version 3f2a)\n"
            "  reps[2].weight: must be > 0\n"
            "  pools[0]: unknown rep\n");
  EXPECT_EQ(RenderReload(Parse<v1::ReloadConfigResponse>(R"pb(result: "applied" version: "9e")pb")),
            "applied (config version 9e)\n");
}

TEST(CliJsonTest, OneLineWithProtoFieldNamesThatParsesBack) {
  const v1::AssignmentEvent event = ReroutedLead();
  auto line = ToJsonLine(event);
  ASSERT_TRUE(line.ok()) << line.status();
  EXPECT_EQ(line->find('\n'), std::string::npos);
  EXPECT_THAT(*line, HasSubstr("\"lead_id\":\"ld_7f3a\""));
  EXPECT_THAT(*line, HasSubstr("\"status\":\"ASSIGNMENT_STATUS_ASSIGNED\""));
  EXPECT_THAT(*line, HasSubstr("\"sla_deadline\":\"2024-05-01T13:00:00Z\""));
  v1::AssignmentEvent back;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(*line, &back).ok());
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(back, event));
}

// ---- Client against a fake leadrouter --------------------------------------------------------

// Sync gRPC services that record what they were sent and answer what the test set. Handlers run
// on the server's threads: everything is under mutex.
class FakeRouter final : public v1::RouterService::Service {
 public:
  std::mutex mutex;
  std::string authorization;  // the last call's authorization metadata
  std::chrono::system_clock::time_point deadline;
  v1::StreamAssignmentsRequest stream_request;
  std::vector<v1::AssignmentEvent> stream_events;
  bool stream_hold = false;  // after the events, wait for the client to cancel
  grpc::Status stream_end = grpc::Status::OK;
  std::string unary_request;  // text format of the last unary request
  v1::LeadUpdate update;
  v1::AssignmentEvent explained;
  grpc::Status unary_status = grpc::Status::OK;
  bool unary_hold = false;

  grpc::Status StreamAssignments(grpc::ServerContext* context,
                                 const v1::StreamAssignmentsRequest* request,
                                 grpc::ServerWriter<v1::AssignmentEvent>* writer) override {
    std::vector<v1::AssignmentEvent> events;
    {
      std::lock_guard lock(mutex);
      Record(context);
      stream_request = *request;
      events = stream_events;
    }
    for (const auto& event : events) {
      if (!writer->Write(event)) return grpc::Status::CANCELLED;
    }
    if (Hold(context, stream_hold)) return grpc::Status::CANCELLED;
    std::lock_guard lock(mutex);
    return stream_end;
  }
  grpc::Status AcceptLead(grpc::ServerContext* context, const v1::AcceptLeadRequest* request,
                          v1::LeadUpdate* response) override {
    return Unary(context, *request, response, update);
  }
  grpc::Status ReturnLead(grpc::ServerContext* context, const v1::ReturnLeadRequest* request,
                          v1::LeadUpdate* response) override {
    return Unary(context, *request, response, update);
  }
  grpc::Status ConvertLead(grpc::ServerContext* context, const v1::ConvertLeadRequest* request,
                           v1::LeadUpdate* response) override {
    return Unary(context, *request, response, update);
  }
  grpc::Status ExplainLead(grpc::ServerContext* context, const v1::ExplainLeadRequest* request,
                           v1::AssignmentEvent* response) override {
    return Unary(context, *request, response, explained);
  }

  // Records the call, waits if asked, answers `reply` or the configured error.
  template <typename Request, typename Response>
  grpc::Status Unary(grpc::ServerContext* context, const Request& request, Response* response,
                     const Response& reply) {
    bool hold = false;
    {
      std::lock_guard lock(mutex);
      Record(context);
      google::protobuf::TextFormat::Printer printer;
      printer.SetSingleLineMode(true);
      printer.PrintToString(request, &unary_request);
      while (!unary_request.empty() && unary_request.back() == ' ') unary_request.pop_back();
      hold = unary_hold;
    }
    if (Hold(context, hold)) return grpc::Status::CANCELLED;
    std::lock_guard lock(mutex);
    if (!unary_status.ok()) return unary_status;
    *response = reply;
    return grpc::Status::OK;
  }

  void Record(grpc::ServerContext* context) {
    authorization.clear();
    for (const auto& [key, value] : context->client_metadata()) {
      if (key == "authorization") authorization.assign(value.data(), value.size());
    }
    deadline = context->deadline();
  }

  static bool Hold(grpc::ServerContext* context, bool hold) {
    if (!hold) return false;
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (!context->IsCancelled() && std::chrono::steady_clock::now() < give_up) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return true;
  }
};

class FakeAdmin final : public v1::AdminService::Service {
 public:
  std::mutex mutex;
  std::string authorization;
  std::string request_text;
  v1::SetAvailabilityRequest availability;
  v1::SetCapacityRequest capacity;
  v1::RepLoad load;
  v1::ListRepLoadResponse reps;
  v1::ListUnassignedResponse unassigned;
  int32_t unassigned_limit = -1;
  v1::ReloadConfigResponse reload;
  grpc::Status status = grpc::Status::OK;
  int calls = 0;

  grpc::Status SetAvailability(grpc::ServerContext* context,
                               const v1::SetAvailabilityRequest* request,
                               v1::RepLoad* response) override {
    std::lock_guard lock(mutex);
    Record(context);
    availability = *request;
    *response = load;
    return status;
  }
  grpc::Status SetCapacity(grpc::ServerContext* context, const v1::SetCapacityRequest* request,
                           v1::RepLoad* response) override {
    std::lock_guard lock(mutex);
    Record(context);
    capacity = *request;
    *response = load;
    return status;
  }
  grpc::Status ListUnassigned(grpc::ServerContext* context,
                              const v1::ListUnassignedRequest* request,
                              v1::ListUnassignedResponse* response) override {
    std::lock_guard lock(mutex);
    Record(context);
    unassigned_limit = request->limit();
    *response = unassigned;
    return status;
  }
  grpc::Status ListRepLoad(grpc::ServerContext* context, const v1::ListRepLoadRequest*,
                           v1::ListRepLoadResponse* response) override {
    std::lock_guard lock(mutex);
    Record(context);
    *response = reps;
    return status;
  }
  grpc::Status ReloadConfig(grpc::ServerContext* context, const v1::ReloadConfigRequest*,
                            v1::ReloadConfigResponse* response) override {
    std::lock_guard lock(mutex);
    Record(context);
    *response = reload;
    return status;
  }

 private:
  void Record(grpc::ServerContext* context) {
    ++calls;
    authorization.clear();
    for (const auto& [key, value] : context->client_metadata()) {
      if (key == "authorization") authorization.assign(value.data(), value.size());
    }
  }
};

class CliClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    builder.RegisterService(&router_);
    builder.RegisterService(&admin_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    ASSERT_GT(port_, 0);
  }
  void TearDown() override {
    if (server_) server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  }

  std::string Target() const { return absl::StrCat("127.0.0.1:", port_); }

  // Runs `command` on a fresh Client; out_ and err_ hold what it printed.
  template <typename Command>
  int Run(Command command, CallOptions options = {}) {
    out_.str("");
    err_.str("");
    Client client(grpc::CreateChannel(Target(), grpc::InsecureChannelCredentials()), options, out_,
                  err_);
    return command(client);
  }

  FakeRouter router_;
  FakeAdmin admin_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  std::ostringstream out_;
  std::ostringstream err_;
};

TEST_F(CliClientTest, AcceptSendsTheBearerTokenAndPrintsTheUpdate) {
  router_.update = Parse<v1::LeadUpdate>(
      R"pb(events { status: ASSIGNMENT_STATUS_ACCEPTED lead_id: "ld_x" rep_id: "rep-ada" })pb");
  CallOptions options;
  options.token = "tok-123";
  options.timeout = absl::Seconds(7);
  const auto before = std::chrono::system_clock::now();
  EXPECT_EQ(Run([](Client& c) { return c.Accept("ld_x", "rep-ada"); }, options), kExitOk);
  EXPECT_EQ(out_.str(), "ACCEPTED ld_x by rep-ada\n");
  EXPECT_EQ(err_.str(), "");
  std::lock_guard lock(router_.mutex);
  EXPECT_EQ(router_.authorization, "Bearer tok-123");
  EXPECT_EQ(router_.unary_request, "lead_id: \"ld_x\" rep_id: \"rep-ada\"");
  // The unary deadline is the --timeout (within scheduling slack).
  EXPECT_GT(router_.deadline, before + std::chrono::seconds(6));
  EXPECT_LT(router_.deadline, before + std::chrono::seconds(9));
}

TEST_F(CliClientTest, NoTokenNoAuthorizationHeader) {
  EXPECT_EQ(Run([](Client& c) { return c.Explain("ld_x"); }), kExitOk);
  std::lock_guard lock(router_.mutex);
  EXPECT_EQ(router_.authorization, "");
  EXPECT_EQ(router_.unary_request, "lead_id: \"ld_x\"");
}

TEST_F(CliClientTest, ReturnSendsReasonAndNoteAndPrintsTheReroute) {
  router_.update = Parse<v1::LeadUpdate>(R"pb(
    events {
      status: ASSIGNMENT_STATUS_RETURNED
      lead_id: "ld_x"
      rep_id: "rep-ada"
      return_reason: RETURN_REASON_WRONG_TERRITORY
    }
    events { status: ASSIGNMENT_STATUS_ASSIGNED lead_id: "ld_x" rep_id: "rep-bob" attempt: 2 }
  )pb");
  EXPECT_EQ(Run([](Client& c) {
              return c.Return("ld_x", "rep-ada", v1::RETURN_REASON_WRONG_TERRITORY, "EMEA");
            }),
            kExitOk);
  EXPECT_EQ(out_.str(),
            "RETURNED ld_x by rep-ada (wrong_territory)\nASSIGNED ld_x -> rep-bob (attempt 2)\n");
  std::lock_guard lock(router_.mutex);
  EXPECT_EQ(router_.unary_request,
            "lead_id: \"ld_x\" rep_id: \"rep-ada\" reason: RETURN_REASON_WRONG_TERRITORY note: "
            "\"EMEA\"");
}

TEST_F(CliClientTest, ConvertSendsTheValueOnlyWhenGiven) {
  EXPECT_EQ(Run([](Client& c) { return c.Convert("ld_x", "rep-ada", 99.5, "won"); }), kExitOk);
  {
    std::lock_guard lock(router_.mutex);
    EXPECT_EQ(router_.unary_request,
              "lead_id: \"ld_x\" rep_id: \"rep-ada\" value: 99.5 note: \"won\"");
  }
  EXPECT_EQ(out_.str(), "no change\n");
  EXPECT_EQ(Run([](Client& c) { return c.Convert("ld_x", "rep-ada", std::nullopt, ""); }), kExitOk);
  std::lock_guard lock(router_.mutex);
  EXPECT_EQ(router_.unary_request, "lead_id: \"ld_x\" rep_id: \"rep-ada\"");
}

TEST_F(CliClientTest, RefusalsExitThreeWithTheCodeOnStderr) {
  const std::vector<std::pair<grpc::StatusCode, std::string>> refusals = {
      {grpc::StatusCode::NOT_FOUND, "NOT_FOUND"},
      {grpc::StatusCode::FAILED_PRECONDITION, "FAILED_PRECONDITION"},
      {grpc::StatusCode::PERMISSION_DENIED, "PERMISSION_DENIED"},
      {grpc::StatusCode::UNAUTHENTICATED, "UNAUTHENTICATED"},
      {grpc::StatusCode::INVALID_ARGUMENT, "INVALID_ARGUMENT"},
  };
  for (const auto& [code, name] : refusals) {
    {
      std::lock_guard lock(router_.mutex);
      router_.unary_status = grpc::Status(code, "lead ld_x: nope");
    }
    EXPECT_EQ(Run([](Client& c) { return c.Accept("ld_x", "rep-ada"); }), kExitRefused) << name;
    EXPECT_EQ(out_.str(), "");
    EXPECT_EQ(err_.str(), absl::StrCat("leadctl: ", name, ": lead ld_x: nope\n"));
  }
  {
    std::lock_guard lock(router_.mutex);
    router_.unary_status = grpc::Status(grpc::StatusCode::INTERNAL, "boom");
  }
  EXPECT_EQ(Run([](Client& c) { return c.Explain("ld_x"); }), kExitFailure);
  EXPECT_EQ(err_.str(), "leadctl: INTERNAL: boom\n");
}

TEST_F(CliClientTest, ASlowServerIsDeadlineExceededExitFour) {
  {
    std::lock_guard lock(router_.mutex);
    router_.unary_hold = true;
  }
  CallOptions options;
  options.timeout = absl::Milliseconds(200);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(Run([](Client& c) { return c.Explain("ld_x"); }, options), kExitUnavailable);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
  EXPECT_THAT(err_.str(), HasSubstr("leadctl: DEADLINE_EXCEEDED"));
}

TEST_F(CliClientTest, AnUnreachableServerIsUnavailableExitFour) {
  std::ostringstream out;
  std::ostringstream err;
  // Port 1 on loopback: nobody listens there (connection refused at once).
  Client client(grpc::CreateChannel("127.0.0.1:1", grpc::InsecureChannelCredentials()), {}, out,
                err);
  EXPECT_EQ(client.Reps(), kExitUnavailable);
  EXPECT_THAT(err.str(), HasSubstr("leadctl: UNAVAILABLE"));
  EXPECT_EQ(client.Watch({}), kExitUnavailable);
  EXPECT_EQ(out.str(), "");
}

TEST_F(CliClientTest, WatchStopsAfterCountAndSendsTheFilters) {
  for (int i = 1; i <= 3; ++i) {
    v1::AssignmentEvent event = ReroutedLead();
    event.set_lead_id(absl::StrCat("ld_", i));
    event.set_cursor(absl::StrCat(i, "-0"));
    router_.stream_events.push_back(event);
  }
  router_.stream_hold = true;
  WatchOptions watch;
  watch.reps = {"rep-ada", "rep-bob"};
  watch.pools = {"west"};
  watch.after_cursor = "0-5";
  watch.count = 2;
  CallOptions options;
  options.token = "t";
  EXPECT_EQ(Run([&](Client& c) { return c.Watch(watch); }, options), kExitOk);
  std::vector<std::string> lines = absl::StrSplit(out_.str(), '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 2u) << out_.str();
  EXPECT_THAT(lines[0], HasSubstr("ASSIGNED ld_1 -> rep-bob"));
  EXPECT_THAT(lines[0], ::testing::EndsWith("cursor=1-0"));
  EXPECT_THAT(lines[1], HasSubstr("ASSIGNED ld_2 -> rep-bob"));
  EXPECT_EQ(err_.str(), "");
  std::lock_guard lock(router_.mutex);
  EXPECT_EQ(router_.authorization, "Bearer t");
  EXPECT_EQ(router_.stream_request.rep_ids_size(), 2);
  EXPECT_EQ(router_.stream_request.rep_ids(1), "rep-bob");
  EXPECT_EQ(router_.stream_request.pools(0), "west");
  EXPECT_EQ(router_.stream_request.after_cursor(), "0-5");
  // A stream has no deadline unless --timeout is given (the unary one does not apply).
  EXPECT_GT(router_.deadline, std::chrono::system_clock::now() + std::chrono::hours(24 * 365));
}

TEST_F(CliClientTest, WatchJsonPrintsOneParsableEventPerLine) {
  router_.stream_events = {ReroutedLead(), ReroutedLead()};
  router_.stream_events[1].set_status(v1::ASSIGNMENT_STATUS_ACCEPTED);
  CallOptions options;
  options.json = true;
  WatchOptions watch;
  EXPECT_EQ(Run([&](Client& c) { return c.Watch(watch); }, options), kExitOk);  // server ends OK
  std::vector<std::string> lines = absl::StrSplit(out_.str(), '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 2u);
  for (size_t i = 0; i < lines.size(); ++i) {
    v1::AssignmentEvent back;
    ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(lines[i], &back).ok()) << lines[i];
    EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(back, router_.stream_events[i]));
  }
  EXPECT_THAT(lines[1], HasSubstr("\"status\":\"ASSIGNMENT_STATUS_ACCEPTED\""));
}

TEST_F(CliClientTest, WatchEndedByTheServerNamesTheCursorToResumeFrom) {
  router_.stream_events = {ReroutedLead()};
  router_.stream_end = grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED, "subscriber too slow");
  EXPECT_EQ(Run([](Client& c) { return c.Watch({}); }), kExitUnavailable);
  EXPECT_THAT(out_.str(), HasSubstr("cursor=1714554000000-0\n"));
  EXPECT_EQ(err_.str(),
            "leadctl: RESOURCE_EXHAUSTED: subscriber too slow (resume with --after "
            "1714554000000-0)\n");

  router_.stream_events.clear();
  router_.stream_end = grpc::Status(grpc::StatusCode::OUT_OF_RANGE, "cursor older than the log");
  WatchOptions watch;
  watch.after_cursor = "1-0";
  EXPECT_EQ(Run([&](Client& c) { return c.Watch(watch); }), kExitRefused);
  EXPECT_EQ(err_.str(),
            "leadctl: OUT_OF_RANGE: cursor older than the log (resume with --after 1-0)\n");
}

TEST_F(CliClientTest, WatchTimeoutEndsQuietlyWithZero) {
  router_.stream_hold = true;
  WatchOptions watch;
  watch.duration = absl::Milliseconds(300);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(Run([&](Client& c) { return c.Watch(watch); }), kExitOk);
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(250));
  EXPECT_EQ(out_.str(), "");
  EXPECT_EQ(err_.str(), "");
}

TEST_F(CliClientTest, RepsAndUnassignedRenderOrPrintJson) {
  admin_.reps = Parse<v1::ListRepLoadResponse>(R"pb(
    reps { rep_id: "rep-ada" open_leads: 2 available_now: true }
  )pb");
  EXPECT_EQ(Run([](Client& c) { return c.Reps(); }), kExitOk);
  EXPECT_EQ(out_.str(),
            "REP      OPEN  TODAY  MAX OPEN  DAILY CAP  PAUSED  AVAILABLE\n"
            "rep-ada     2      0         -          -  no      yes\n");
  CallOptions json;
  json.json = true;
  EXPECT_EQ(Run([](Client& c) { return c.Reps(); }, json), kExitOk);
  EXPECT_EQ(out_.str(),
            "{\"reps\":[{\"rep_id\":\"rep-ada\",\"open_leads\":\"2\",\"available_now\":true}]}\n");

  EXPECT_EQ(Run([](Client& c) { return c.Unassigned(25); }), kExitOk);
  EXPECT_EQ(out_.str(), "no unassigned leads\n");
  std::lock_guard lock(admin_.mutex);
  EXPECT_EQ(admin_.unassigned_limit, 25);
}

TEST_F(CliClientTest, AvailabilityAndCapacityRequests) {
  admin_.load =
      Parse<v1::RepLoad>(R"pb(rep_id: "rep-ada" paused: true unavailable_reason: "paused")pb");
  EXPECT_EQ(Run([](Client& c) { return c.SetPaused("rep-ada", true); }), kExitOk);
  EXPECT_THAT(out_.str(), HasSubstr("\nrep-ada     0      0         -          -  yes     no "
                                    "(paused)\n"));
  {
    std::lock_guard lock(admin_.mutex);
    EXPECT_TRUE(admin_.availability.has_paused());
    EXPECT_TRUE(admin_.availability.paused());
  }
  EXPECT_EQ(Run([](Client& c) { return c.SetPaused("rep-ada", false); }), kExitOk);
  {
    std::lock_guard lock(admin_.mutex);
    EXPECT_TRUE(admin_.availability.has_paused());  // resume sends paused=false explicitly
    EXPECT_FALSE(admin_.availability.paused());
  }
  EXPECT_EQ(
      Run([](Client& c) { return c.OutOfOffice("rep-ada", Utc(2024, 5, 1), Utc(2024, 5, 8, 9)); }),
      kExitOk);
  {
    std::lock_guard lock(admin_.mutex);
    EXPECT_FALSE(admin_.availability.has_paused());  // leaves the pause alone
    EXPECT_EQ(admin_.availability.out_of_office_from().seconds(), 1714521600);
    EXPECT_EQ(admin_.availability.out_of_office_to().seconds(), 1715158800);
    EXPECT_FALSE(admin_.availability.clear_out_of_office());
  }
  EXPECT_EQ(Run([](Client& c) { return c.ClearOutOfOffice("rep-ada"); }), kExitOk);
  {
    std::lock_guard lock(admin_.mutex);
    EXPECT_TRUE(admin_.availability.clear_out_of_office());
    EXPECT_FALSE(admin_.availability.has_out_of_office_from());
  }
  EXPECT_EQ(Run([](Client& c) { return c.SetCapacity("rep-ada", 0, std::nullopt); }), kExitOk);
  {
    std::lock_guard lock(admin_.mutex);
    EXPECT_TRUE(admin_.capacity.has_max_open_leads());  // 0 = no cap, sent explicitly
    EXPECT_EQ(admin_.capacity.max_open_leads(), 0);
    EXPECT_FALSE(admin_.capacity.has_daily_cap());  // unset leaves it
    EXPECT_FALSE(admin_.capacity.clear());
  }
  EXPECT_EQ(Run([](Client& c) { return c.ClearCapacity("rep-ada"); }), kExitOk);
  {
    std::lock_guard lock(admin_.mutex);
    EXPECT_TRUE(admin_.capacity.clear());
    EXPECT_FALSE(admin_.capacity.has_max_open_leads());
    admin_.status = grpc::Status(grpc::StatusCode::NOT_FOUND, "unknown rep rep-zed");
  }
  EXPECT_EQ(Run([](Client& c) { return c.SetPaused("rep-zed", true); }), kExitRefused);
  EXPECT_EQ(out_.str(), "");
  EXPECT_EQ(err_.str(), "leadctl: NOT_FOUND: unknown rep rep-zed\n");
}

TEST_F(CliClientTest, ARefusedReloadExitsThree) {
  admin_.reload = Parse<v1::ReloadConfigResponse>(R"pb(result: "refused"
                                                       version: "3f2a"
                                                       detail: "reps[0].weight: must be > 0")pb");
  EXPECT_EQ(Run([](Client& c) { return c.Reload(); }), kExitRefused);
  EXPECT_EQ(out_.str(), "refused (config version 3f2a)\n  reps[0].weight: must be > 0\n");
  EXPECT_THAT(err_.str(), HasSubstr("refused"));
  admin_.reload = Parse<v1::ReloadConfigResponse>(R"pb(result: "applied" version: "9e")pb");
  EXPECT_EQ(Run([](Client& c) { return c.Reload(); }), kExitOk);
  EXPECT_EQ(out_.str(), "applied (config version 9e)\n");
  EXPECT_EQ(err_.str(), "");
}

// ---- the leadctl binary ----------------------------------------------------------------------

#ifdef LEADCTL_BIN
class LeadctlBinaryTest : public CliClientTest {
 protected:
  // Runs leadctl to completion; output_ holds stdout and stderr merged.
  int Leadctl(std::vector<std::string> args, std::map<std::string, std::string> env = {}) {
    args.insert(args.begin(), LEADCTL_BIN);
    auto process = leadrouter::testing::Subprocess::Start(args, env);
    EXPECT_TRUE(process.ok()) << process.status();
    if (!process.ok()) return -1;
    auto code = (*process)->Wait(std::chrono::seconds(60));
    output_ = (*process)->Output();
    EXPECT_TRUE(code.ok()) << code.status() << "\n" << output_;
    return code.ok() ? *code : -1;
  }
  std::string output_;
};

TEST_F(LeadctlBinaryTest, SubscribeIsWatchWithFlagsBeforeOrAfterTheCommand) {
  v1::AssignmentEvent event = ReroutedLead();
  event.set_rep_id("rep-ada");
  router_.stream_events = {event, event};
  router_.stream_hold = true;
  // As tests/e2e/routing_e2e_test.cc calls it.
  EXPECT_EQ(Leadctl({"--server", Target(), "subscribe", "--count", "1", "--timeout", "60"}), 0)
      << output_;
  EXPECT_THAT(output_, HasSubstr("-> rep-ada"));
  EXPECT_THAT(output_, HasSubstr("Example Co"));
  EXPECT_EQ(std::count(output_.begin(), output_.end(), '\n'), 1) << output_;
  // Global flags after the command, --json included.
  EXPECT_EQ(Leadctl({"subscribe", "--server", Target(), "--rep", "rep-ada", "--count", "2",
                     "--timeout", "60", "--json"}),
            0)
      << output_;
  std::vector<std::string> lines = absl::StrSplit(output_, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 2u) << output_;
  EXPECT_THAT(lines[0], ::testing::StartsWith("{\"assignment_id\":\"as-2\""));
  std::lock_guard lock(router_.mutex);
  ASSERT_EQ(router_.stream_request.rep_ids_size(), 1);
  EXPECT_EQ(router_.stream_request.rep_ids(0), "rep-ada");
}

TEST_F(LeadctlBinaryTest, WatchTimeoutIsTheStreamsOwnLimit) {
  router_.stream_hold = true;
  const auto start = std::chrono::steady_clock::now();
  // The global --timeout (unary calls) must not end the stream; watch's own --timeout does.
  EXPECT_EQ(Leadctl({"--timeout", "0.2", "--server", Target(), "watch", "--timeout", "1"}), 0)
      << output_;
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(900));
  EXPECT_EQ(output_, "");
}

TEST_F(LeadctlBinaryTest, ReturnWithTokenFileAndEnvironment) {
  router_.update = Parse<v1::LeadUpdate>(R"pb(
    events {
      status: ASSIGNMENT_STATUS_RETURNED
      lead_id: "ld_x"
      rep_id: "rep-ada"
      return_reason: RETURN_REASON_NOT_READY
    }
    events { status: ASSIGNMENT_STATUS_UNASSIGNED lead_id: "ld_x" attempt: 2 }
  )pb");
  const std::string token_file =
      (std::filesystem::temp_directory_path() / absl::StrCat("leadctl_test_token_", getpid()))
          .string();
  std::ofstream(token_file) << "file-token\n";
  EXPECT_EQ(Leadctl({"return", "ld_x", "--rep", "rep-ada", "--reason", "not-ready", "--token-file",
                     token_file},
                    {{"LEADCTL_SERVER", Target()}, {"LEADCTL_TOKEN", "env-token"}}),
            0)
      << output_;
  EXPECT_EQ(output_, "RETURNED ld_x by rep-ada (not_ready)\nUNASSIGNED ld_x (queued, attempt 2)\n");
  {
    std::lock_guard lock(router_.mutex);
    EXPECT_EQ(router_.authorization, "Bearer file-token");  // the flag beats the environment
    EXPECT_THAT(router_.unary_request, HasSubstr("reason: RETURN_REASON_NOT_READY"));
  }
  EXPECT_EQ(Leadctl({"accept", "ld_x", "--rep", "rep-ada"},
                    {{"LEADCTL_SERVER", Target()}, {"LEADCTL_TOKEN", "env-token"}}),
            0)
      << output_;
  {
    std::lock_guard lock(router_.mutex);
    EXPECT_EQ(router_.authorization, "Bearer env-token");
  }
  std::filesystem::remove(token_file);
}

TEST_F(LeadctlBinaryTest, UsageErrorsExitTwoAndSendNothing) {
  const std::vector<std::vector<std::string>> usage = {
      {},
      {"frobnicate"},
      {"return", "ld_x", "--rep", "rep-ada", "--reason", "nope"},
      {"return", "ld_x", "--reason", "bad_fit"},          // --rep missing
      {"ooo", "rep-ada", "--to", "2024-05-01T09:00:00"},  // no offset
      {"ooo", "rep-ada"},
      {"ooo", "rep-ada", "--from", "2024-05-02", "--to", "2024-05-01"},
      {"ooo", "rep-ada", "--clear", "--to", "2024-05-01"},
      {"capacity", "rep-ada"},
      {"capacity", "rep-ada", "--daily", "-1"},
      {"capacity", "rep-ada", "--clear", "--daily", "3"},
      {"unassigned", "--limit", "5000"},
      {"reps", "--token-file", "/nonexistent/token"},
      {"reps", "--tls-cert", LEADCTL_BIN},  // needs --tls-key
  };
  for (std::vector<std::string> args : usage) {
    args.insert(args.begin(), {"--server", Target()});
    EXPECT_EQ(Leadctl(args), 2) << absl::StrJoin(args, " ") << "\n" << output_;
  }
  EXPECT_EQ(Leadctl({"--server", Target(), "return", "ld_x", "--rep", "a", "--reason", "x"}), 2);
  EXPECT_THAT(output_, HasSubstr("bad_fit, wrong_territory, duplicate"));
  EXPECT_EQ(Leadctl({"--server", Target(), "reps"}, {{"LEADCTL_TOKEN", "two words"}}), 2);
  {
    std::lock_guard lock(router_.mutex);
    EXPECT_EQ(router_.unary_request, "");
  }
  std::lock_guard lock(admin_.mutex);
  EXPECT_EQ(admin_.calls, 0);
}

TEST_F(LeadctlBinaryTest, ServerErrorsAndUnreachableServers) {
  router_.unary_status = grpc::Status(grpc::StatusCode::NOT_FOUND, "unknown lead ld_missing");
  EXPECT_EQ(Leadctl({"--server", Target(), "explain", "ld_missing"}), 3);
  EXPECT_EQ(output_, "leadctl: NOT_FOUND: unknown lead ld_missing\n");
  EXPECT_EQ(Leadctl({"--server", "127.0.0.1:1", "reps"}), 4);
  EXPECT_THAT(output_, ::testing::StartsWith("leadctl: UNAVAILABLE"));
  EXPECT_EQ(Leadctl({"--help"}), 0);
  EXPECT_THAT(output_, HasSubstr("Exit codes:"));
  EXPECT_THAT(output_, HasSubstr("subscribe"));
}

TEST_F(LeadctlBinaryTest, AdminCommands) {
  admin_.load = Parse<v1::RepLoad>(
      R"pb(rep_id: "rep-ada" max_open_leads: 5 daily_cap: 20 available_now: true)pb");
  EXPECT_EQ(Leadctl({"--server", Target(), "ooo", "rep-ada", "--from", "2024-05-01", "--to",
                     "2024-05-08T09:00:00+02:00"}),
            0)
      << output_;
  EXPECT_EQ(output_,
            "REP      OPEN  TODAY  MAX OPEN  DAILY CAP  PAUSED  AVAILABLE\n"
            "rep-ada     0      0         5         20  no      yes\n");
  {
    std::lock_guard lock(admin_.mutex);
    EXPECT_EQ(admin_.availability.out_of_office_from().seconds(), 1714521600);
    EXPECT_EQ(admin_.availability.out_of_office_to().seconds(), 1715151600);
  }
  EXPECT_EQ(Leadctl({"--server", Target(), "capacity", "rep-ada", "--max-open", "5"}), 0);
  {
    std::lock_guard lock(admin_.mutex);
    EXPECT_EQ(admin_.capacity.max_open_leads(), 5);
    EXPECT_FALSE(admin_.capacity.has_daily_cap());
  }
  EXPECT_EQ(Leadctl({"--server", Target(), "resume", "rep-ada", "--json"}), 0);
  EXPECT_EQ(output_,
            "{\"rep_id\":\"rep-ada\",\"max_open_leads\":\"5\",\"daily_cap\":\"20\","
            "\"available_now\":true}\n");
  admin_.reload = Parse<v1::ReloadConfigResponse>(R"pb(result: "unchanged" version: "9e")pb");
  EXPECT_EQ(Leadctl({"--server", Target(), "reload"}), 0);
  EXPECT_EQ(output_, "unchanged (config version 9e)\n");
}

std::string ReadAll(const std::filesystem::path& path) {
  std::ifstream file(path);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

// A CA, a server certificate for DNS:localhost only and a client certificate, made with the
// openssl command line.
bool MakePki(const std::filesystem::path& dir) {
  const std::string script = absl::StrCat(
      "cd '", dir.string(), "' && ",
      "openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 "
      "-subj /CN=leadctl-test-ca && ",
      "openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj /CN=localhost "
      "&& printf 'subjectAltName=DNS:localhost\\nextendedKeyUsage=serverAuth\\n' > server.ext && ",
      "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem "
      "-days 2 -extfile server.ext && ",
      "openssl req -newkey rsa:2048 -nodes -keyout client.key -out client.csr -subj /CN=leadctl "
      "&& printf 'extendedKeyUsage=clientAuth\\n' > client.ext && ",
      "openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out client.pem "
      "-days 2 -extfile client.ext");
  return std::system(absl::StrCat("(", script, ") >/dev/null 2>&1").c_str()) == 0;
}

TEST_F(LeadctlBinaryTest, TlsAndMutualTls) {
  if (std::system("command -v openssl >/dev/null 2>&1") != 0) GTEST_SKIP() << "no openssl";
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / absl::StrCat("leadctl_test_pki_", getpid());
  std::filesystem::create_directories(dir);
  ASSERT_TRUE(MakePki(dir));
  const std::string ca = (dir / "ca.pem").string();
  const std::string cert = (dir / "client.pem").string();
  const std::string key = (dir / "client.key").string();
  admin_.reps = Parse<v1::ListRepLoadResponse>(R"pb(reps { rep_id: "rep-tls" })pb");

  for (const bool mutual : {false, true}) {
    grpc::SslServerCredentialsOptions tls(
        mutual ? GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY
               : GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
    tls.pem_root_certs = ReadAll(dir / "ca.pem");
    tls.pem_key_cert_pairs.push_back({ReadAll(dir / "server.key"), ReadAll(dir / "server.pem")});
    int port = 0;
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::SslServerCredentials(tls), &port);
    builder.RegisterService(&admin_);
    std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
    ASSERT_NE(server, nullptr);
    const std::string target = absl::StrCat("127.0.0.1:", port);
    const std::vector<std::string> verified = {"--server",          target,     "--tls-ca", ca,
                                               "--tls-server-name", "localhost"};
    // Plaintext to a TLS server, or TLS without the server name its certificate carries: the
    // connection fails, which is UNAVAILABLE (exit 4).
    EXPECT_EQ(Leadctl({"--server", target, "reps"}), 4) << output_;
    EXPECT_THAT(output_, ::testing::StartsWith("leadctl: UNAVAILABLE: "));  // no gRPC log lines
    EXPECT_EQ(std::count(output_.begin(), output_.end(), '\n'), 1) << output_;
    EXPECT_EQ(Leadctl({"--server", target, "--tls-ca", ca, "reps"}), 4) << output_;
    std::vector<std::string> args = verified;
    if (mutual) {
      args.push_back("reps");
      EXPECT_EQ(Leadctl(args), 4) << "no client certificate: " << output_;
      args.pop_back();
      args.insert(args.end(), {"--tls-cert", cert, "--tls-key", key});
    }
    args.push_back("reps");
    EXPECT_EQ(Leadctl(args), 0) << (mutual ? "mTLS: " : "TLS: ") << output_;
    EXPECT_THAT(output_, HasSubstr("rep-tls"));
    server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
  }
  std::filesystem::remove_all(dir);
}
#endif  // LEADCTL_BIN

}  // namespace
}  // namespace leadrouter::cli
