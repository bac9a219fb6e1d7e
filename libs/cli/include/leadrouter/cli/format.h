#pragma once

// What leadctl prints for humans, as pure functions of the server's messages (and --json's
// one-line protobuf JSON). Every function here is thread-safe and deterministic: times are
// printed in UTC, nothing reads the clock or the locale.
//
// Text from the outside (names, reasons, notes) is made safe for one terminal line first
// (Sanitize): control characters, which could move the cursor or start an escape sequence,
// become spaces; bidirectional overrides become U+FFFD; invalid UTF-8 becomes U+FFFD.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "google/protobuf/message.h"
#include "google/protobuf/timestamp.pb.h"
#include "leadrouter/v1/admin_service.pb.h"
#include "leadrouter/v1/assignment.pb.h"
#include "leadrouter/v1/router_service.pb.h"

namespace leadrouter::cli {

// ---- text and tables -------------------------------------------------------------------------

// `text` as valid UTF-8 fit for one terminal line (see above).
std::string Sanitize(std::string_view text);

// How many terminal columns `text` takes: East Asian wide and fullwidth characters (CJK, most
// emoji) count 2; combining marks, format characters (zero-width space, joiners, variation
// selectors) and control characters 0; every other code point, and each invalid byte, 1.
size_t DisplayWidth(std::string_view text);

// `text` cut to at most `width` columns, ending in "…" when cut; a wide character that would
// straddle the limit is dropped whole. `width` 0 returns "".
std::string Truncate(std::string_view text, size_t width);

enum class Align { kLeft, kRight };

struct Column {
  std::string header;
  Align align = Align::kLeft;
  size_t max_width = 0;  // longer cells are truncated (Truncate); 0 = no limit
};

// A table: the header row, then one line per row. Cells are sanitized, columns are as wide as
// their widest cell (in DisplayWidth) and separated by two spaces; `indent` starts every line;
// no line has trailing spaces. A row with fewer cells than columns is padded with empty cells;
// extra cells are ignored.
std::string RenderTable(const std::vector<Column>& columns,
                        const std::vector<std::vector<std::string>>& rows,
                        std::string_view indent = "");

// ---- values ----------------------------------------------------------------------------------

// "2024-05-01T09:00:00Z" (UTC, whole seconds); "-" for an unset Timestamp (0 seconds, 0 nanos).
std::string FormatTime(const google::protobuf::Timestamp& at);

google::protobuf::Timestamp ToTimestamp(absl::Time t);

// "ASSIGNED", "RETURNED", ... (the enum name without "ASSIGNMENT_STATUS_");
// "STATUS_<n>" for a value this build does not know.
std::string StatusName(leadrouter::v1::AssignmentStatus status);

// Who the lead is: "Ada Lovelace (Example Co)"; the e-mail, then the phone, stands in for a
// missing name, the website for a missing company name; "" when the lead carries none of them.
std::string PersonAndCompany(const leadrouter::v1::LeadEvent& lead);

// ---- events ----------------------------------------------------------------------------------

// One event as a short sentence, the same in `watch` and in the replies of accept/return/convert:
//   ASSIGNED <lead> -> <rep> (attempt <n>)
//   ACCEPTED <lead> by <rep>
//   RETURNED <lead> by <rep> (<reason>[: <note>])
//   EXPIRED <lead> from <rep> (not accepted by <sla deadline>)
//   CONVERTED <lead> by <rep> (value <x.xx>[: <note>])      "(<note>)" without a value
//   DUPLICATE <lead> -> <rep> (event <event id>)
//   UNASSIGNED <lead> (queued, attempt <n>)
//   RECYCLED <lead> (to marketing after <n> attempts)
// A missing lead or rep id prints as "-"; a parenthesis whose values are all unset is left out.
std::string EventSummary(const leadrouter::v1::AssignmentEvent& event);

// One line of `watch`: the fields below separated by two spaces, empty ones left out:
//   <time>  <EventSummary>  <PersonAndCompany>  <reason>  cursor=<cursor>
// <time> is event_time, else assigned_at (FormatTime).
std::string WatchLine(const leadrouter::v1::AssignmentEvent& event);

// The reply to accept/return/convert: one EventSummary line per event, in order; "no change"
// when the update holds no events. Ends with a newline.
std::string RenderLeadUpdate(const leadrouter::v1::LeadUpdate& update);

// ---- reports ---------------------------------------------------------------------------------

// The `explain` report: the lead's state (status, attempt, rep, pool, territory, SLA, reason,
// person, company, source, ids), its qualification (outcome, score, segments, reasons, every
// rule as a table), the routing trace ("  <n>. <stage>: <decision> — <reason>") and the history
// table (TIME, STATUS, REP, ACTOR, REASON/NOTE). Ends with a newline.
std::string RenderExplain(const leadrouter::v1::AssignmentEvent& event);

// The rep load table: REP, OPEN, TODAY, MAX OPEN, DAILY CAP, PAUSED, AVAILABLE. A cap of 0
// prints "-" (none); AVAILABLE is "yes", or "no (<reason>)". "no reps\n" for none.
std::string RenderRepLoads(const std::vector<leadrouter::v1::RepLoad>& reps);

// The unassigned queue: QUEUED, LEAD, ATTEMPT, POOL, TERRITORY, PERSON, REASON, then
// "<n> unassigned leads" or "<n> of <total> unassigned leads" when the list was cut.
// "no unassigned leads\n" for an empty queue; no table when the response holds no leads.
std::string RenderUnassigned(const leadrouter::v1::ListUnassignedResponse& response);

// The config reload result: "<result> (config version <version>)", then the detail's lines
// indented by two spaces.
std::string RenderReload(const leadrouter::v1::ReloadConfigResponse& response);

// Owners with their shares: "rep-ada" for a sole owner, "rep-ada 60%, rep-bob 40%" for a shared
// account, "-" for none.
std::string Owners(const google::protobuf::RepeatedPtrField<leadrouter::v1::OwnerShare>& owners);

// The `claim` result, one line per account:
//   <domain>  <outcome>  owners <owners>[  until <time>]
// outcome: owned, renewed, conflict_refused, conflict_pending, conflict_shared.
std::string RenderClaimResults(const leadrouter::v1::ClaimAccountsResponse& response);

// The `claims` report: the table DOMAIN  REP  STATUS  SHARE  CLAIMED  UNTIL ("no claims" when
// none; left out with open_conflicts_only), a blank line, "conflicts:" and the table DOMAIN
// CLAIMANT  OWNERS AT CLAIM  POLICY  STATUS  RAISED  RESOLVED BY  OWNERS AFTER (indented 2;
// "no conflicts" when none), then "<n> open conflicts". Ends with a newline.
std::string RenderClaims(const leadrouter::v1::ListClaimsResponse& response,
                         bool open_conflicts_only);

// The `resolve` result: "<domain>: <claimant> vs <owners at claim>: <status>; owners now
// <owners after>".
std::string RenderResolvedConflict(const leadrouter::v1::ClaimConflict& conflict);

// `message` as one line of protobuf JSON (field names as in the .proto, proto3 defaults left
// out), without a newline: what --json prints.
absl::StatusOr<std::string> ToJsonLine(const google::protobuf::Message& message);

}  // namespace leadrouter::cli
