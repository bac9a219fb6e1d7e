#pragma once

// What-if simulation: replays a file of lead events through a config's real qualification and
// routing engines, in memory, and reports who would have got what.
//
// Per line, in file order: decode (JSON) -> validate -> event-id idempotency (a repeated event id
// is a duplicate and is not routed again, as the daemon replays its stored outcome) -> qualify ->
// route. Routing state (pool credits, daily and open-lead counts) lives in one in-memory
// routing::RoutingState for the whole run. The clock is simulated: each lead is routed at its own
// occurred_at, so working hours, out-of-office windows and daily caps apply as they would have
// at that moment. Lines are NOT sorted: when occurred_at goes backwards the clock goes backwards
// with it (counted in Report::clock_went_backwards). Nothing is written anywhere.
//
// Not simulated: leads never close, so max_open_leads acts as a cap on leads received during the
// run; the unassigned queue is not retried; account ownership and exclusions come only from
// what the lead itself carries (LeadFactsFor), as in the daemon.

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "leadrouter/config/config.h"
#include "leadrouter/core/clock.h"

namespace leadrouter::simulate {

enum class LeadOutcome {
  kAssigned,      // qualified and routed to a rep
  kUnassigned,    // qualified, nobody eligible: the daemon would queue it
  kNurture,       // below the qualified threshold, above the nurture one
  kDisqualified,  // failed a requirement or below the nurture threshold
  kDuplicate,     // repeats an event id seen earlier in the file
  kInvalid,       // did not decode or did not validate
};

// "assigned", "unassigned", "nurture", "disqualified", "duplicate", "invalid".
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
  int64_t duplicates = 0;
  int64_t invalid = 0;
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
  int64_t leads = 0;   // every lead assigned to the rep
  int64_t direct = 0;  // of which without a pool: rep-sourced or account owner
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
  int64_t clock_went_backwards = 0;         // leads whose occurred_at is before the previous lead's
  std::vector<LeadRow> leads{};             // input order
};

struct Options {
  // The "now" that validation checks occurred_at against (at most 24 h ahead of it).
  // nullopt: the wall clock, as the daemon would. Routing always uses each lead's occurred_at.
  std::optional<core::TimePoint> validation_now;
  // A configured source: each line is one record of it (its payload on one line), mapped as the
  // daemon maps a record with `x-leadrouter-source: <source>`; a mapped record of several
  // events gives a row per event, all with the line's number. nullopt: native LeadEvents.
  std::optional<std::string> source;
};

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
