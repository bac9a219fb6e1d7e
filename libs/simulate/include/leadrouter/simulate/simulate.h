#pragma once

// What-if simulation: replays a file of lead events through the daemon's own decision core
// (libs/decide) over an in-memory store with Redis's semantics (decide::MemoryStore), and reports
// who would have got what. So the simulator makes the daemon's decisions: person dedupe (a
// second lead of a live person is a DUPLICATE for its holder), account owners, rep-sourced
// credit, fair rotation, caps, the unassigned queue and its retries, returns and SLA expiry with
// their re-routes.
//
// Per line, in file order: decode (as the daemon decodes a record) -> validate -> decide, one
// lead at a time at its own occurred_at (the simulated clock: working hours, out-of-office
// windows, daily caps, TTLs and person windows apply as they would have at that moment). Before
// each lead the queue is retried when a second of simulated time has passed (the daemon retries
// every second) and, with Options::unaccepted, leads past their accept SLA expire and re-route.
// Lines are NOT sorted: when occurred_at goes backwards the clock goes backwards with it (counted
// in Report::clock_went_backwards). Nothing is written anywhere.
//
// Each row is the event's first decision, what the daemon publishes for it; what happened to the
// lead afterwards (a simulated return or expiry and its re-route) is counted in OutcomeCounts and
// the reps' rows.

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "leadrouter/config/config.h"
#include "leadrouter/core/clock.h"
#include "leadrouter/routing/engine.h"

namespace leadrouter::simulate {

enum class LeadOutcome {
  kAssigned,      // qualified and routed to a rep
  kUnassigned,    // qualified, nobody eligible: the daemon would queue it
  kNurture,       // below the qualified threshold, above the nurture one
  kDisqualified,  // failed a requirement or below the nurture threshold
  kDuplicate,     // the same person as a live lead (e-mail or phone): joins it, not routed
  kReplayed,      // repeats an event id seen earlier in the file: the first outcome again
  kInvalid,       // did not decode or did not validate
};

// "assigned", "unassigned", "nurture", "disqualified", "duplicate", "replayed", "invalid": the
// daemon's leadrouter_events_outcome_total labels.
const char* LeadOutcomeName(LeadOutcome outcome);

// One input line (blank lines are skipped and get no row).
struct LeadRow {
  int line = 0;               // 1-based line number in the input
  std::string event_id{};     // "" when the line did not decode
  std::string occurred_at{};  // RFC 3339 UTC, "" when unknown
  std::string company{};      // company.name, for people reading the report
  LeadOutcome outcome = LeadOutcome::kInvalid;
  int score = 0;            // qualification score (qualified / nurture / disqualified)
  std::string rep_id{};     // assigned rep, "" otherwise
  std::string territory{};  // matched territory, "" when none or not routed
  std::string pool{};       // pool that assigned, "" when none
  std::string reason{};     // one line: the routing reason, the qualification reasons, ...
};

struct OutcomeCounts {
  int64_t lines = 0;  // non-blank input lines
  int64_t assigned = 0;
  int64_t unassigned = 0;
  int64_t nurture = 0;
  int64_t disqualified = 0;
  int64_t duplicates = 0;  // same person as a live lead
  int64_t replayed = 0;    // repeated event ids
  int64_t invalid = 0;
  int64_t account_owner = 0;  // of the assigned, routed to their account's owner
  // After the first decision (Options::return_rate, Options::unaccepted):
  int64_t returned = 0;  // leads their rep returned
  int64_t expired = 0;   // leads not accepted within the SLA
  int64_t rerouted = 0;  // re-routes (after a return or expiry, or from the queue) that found a rep
  int64_t recycled = 0;  // leads sent back to marketing at lifecycle.max_attempts
  std::map<std::string, int64_t> disqualified_by_reason{};  // failed requirements, ", "-joined, or
                                                            // "score below the nurture threshold"
  std::map<std::string, int64_t> invalid_by_reason{};       // "missing_field", "undecodable", ...
};

// A rep's place in one pool.
struct PoolShare {
  std::string pool{};
  int64_t weight = 0;
  int64_t pool_weight = 0;  // sum of the pool's member weights
  double target_share = 0;  // weight / pool_weight
  int64_t leads = 0;        // leads this pool gave this rep
  double expected = 0;      // pool's leads * target_share
  double deviation = 0;     // leads - expected
};

struct RepRow {
  std::string id{};
  std::string name{};
  int64_t leads = 0;     // every lead assigned to the rep (first decisions and re-routes)
  int64_t returned = 0;  // leads the rep returned (Options::return_rate)
  int64_t expired = 0;   // leads that expired with the rep (Options::unaccepted)
  int64_t direct = 0;    // of which without a pool: rep-sourced or account owner
  std::vector<PoolShare> pools{};
  double target = 0;  // direct + sum of pools' expected
  // Candidate skips (one per pool tried per lead, plus account-owner checks), by cause.
  int64_t skipped_daily_cap = 0;
  int64_t skipped_max_open = 0;
  int64_t skipped_out_of_office = 0;
  int64_t skipped_off_hours = 0;
  int64_t skipped_other = 0;  // skills, exclusions
};

struct PoolRow {
  std::string name{};
  std::string strategy{};  // "weighted_round_robin", "least_loaded", "conversion_weighted"
  std::vector<std::string> members{};  // "rep-id (weight w)"
  int64_t leads = 0;                   // leads this pool assigned
  int64_t via_overflow = 0;            // of which after an earlier pool had nobody eligible
  int64_t nobody_eligible = 0;         // leads this pool was tried for and could not place
};

struct TerritoryRow {
  std::string name{};
  std::string pool{};
  bool catch_all = false;
  int64_t leads = 0;     // qualified leads it caught
  int64_t assigned = 0;  // of which got a rep
};

struct Report {
  std::string config_version{};
  OutcomeCounts counts;
  std::vector<RepRow> reps{};               // config order
  std::vector<PoolRow> pools{};             // config order
  std::vector<TerritoryRow> territories{};  // config order
  int64_t fell_to_catch_all = 0;            // qualified leads caught by a catch-all territory
  int64_t matched_no_territory = 0;         // qualified leads no territory matched (unassigned)
  int64_t bypassed_territories = 0;         // rep-sourced / account-owner leads
  int64_t claims_owned = 0;  // what-if claims (Options::claims) that left their rep an owner
  int64_t clock_went_backwards = 0;  // leads whose occurred_at is before the previous lead's
  std::vector<LeadRow> leads{};      // input order
};

struct Options {
  // The "now" that validation checks occurred_at against (at most 24 h ahead of it).
  // nullopt: the wall clock, as the daemon would. Routing always uses each lead's occurred_at.
  std::optional<core::TimePoint> validation_now;
  // A configured source: each line is one record of it (its payload on one line), mapped as the
  // daemon maps a record with `x-leadrouter-source: <source>`; a mapped record of several
  // events gives a row per event, all with the line's number. nullopt: native LeadEvents.
  std::optional<std::string> source;
  // What if reps return a share of the leads of a source: the fraction (0..1) of the assigned
  // leads whose rep returns them at once (reason OTHER), by the lead's source_system or
  // source_kind (without its prefix, any case); "*" for every lead. Which leads are returned is
  // a hash of their event id: the same leads on every run and for every config.
  std::map<std::string, double> return_rate{};
  // What if a rep is out: windows added to reps as AdminService.SetAvailability adds them.
  std::vector<std::pair<std::string /*rep id*/, routing::Absence>> out_of_office{};
  // Nobody accepts: a lead not accepted within its accept SLA expires and re-routes (what the
  // daemon does when no CRM calls AcceptLead). Off: every lead is accepted in time.
  bool unaccepted = false;
  // What if reps claim accounts: (rep id, domain) in order, claimed under the config's claims
  // policy just before the first lead, as AdminService.ClaimAccounts would (needs dedupe).
  std::vector<std::pair<std::string /*rep id*/, std::string /*domain*/>> claims{};
};

// Parses the what-if flags: "SOURCE=FRACTION" (e.g. "webinar=0.3", "*=0.1") into
// Options::return_rate, "REP=FROM..TO" (RFC 3339 times or YYYY-MM-DD dates, UTC; a date as TO
// means the end of that day) into Options::out_of_office, "REP=DOMAIN" (a domain, host or web
// address) into Options::claims. InvalidArgument naming the flag and the value; a rep that the
// config does not have is an error too, and so are claims without a dedupe section.
absl::Status ParseWhatIf(const config::Config& config, const std::vector<std::string>& return_rates,
                         const std::vector<std::string>& out_of_office,
                         const std::vector<std::string>& claims, Options& options);
// The lines of a claims file: one REP=DOMAIN per line; blank lines and lines starting with '#'
// are skipped. Each is named "<path>:<line>" in ParseWhatIf's errors.
std::vector<std::string> ClaimLines(const std::string& text);

// Runs the simulation. Pure apart from reading the wall clock (see Options). Never throws on bad
// input lines: they become kInvalid rows.
Report Simulate(const config::Config& config, const std::vector<std::string>& jsonl_lines,
                const Options& options = {});

struct RepDelta {
  std::string rep_id{};
  std::string name{};
  int64_t baseline = 0;
  int64_t candidate = 0;
  int64_t delta = 0;  // candidate - baseline
};

// A lead whose outcome or owner differs between the two runs.
struct OwnerChange {
  int line = 0;
  std::string event_id{};
  std::string baseline_outcome{}, candidate_outcome{};  // LeadOutcomeName
  std::string baseline_rep{}, candidate_rep{};          // "" = none
  std::string baseline_reason{}, candidate_reason{};
};

struct Diff {
  std::string baseline_version{}, candidate_version{};
  std::vector<RepDelta> reps{};       // baseline's reps in order, then reps only in candidate
  int64_t changed = 0;                // leads whose outcome or rep changed
  std::vector<OwnerChange> sample{};  // the first `sample_limit` of them, in input order
  size_t sample_limit = 20;
};

// Compares two runs over the same lead file (rows are matched by line number and event id).
Diff Compare(const Report& baseline, const Report& candidate, size_t sample_limit = 20);

}  // namespace leadrouter::simulate
