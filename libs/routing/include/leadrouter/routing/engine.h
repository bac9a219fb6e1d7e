#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "leadrouter/core/clock.h"
#include "leadrouter/routing/rules.h"

namespace leadrouter::routing {

// What routing looks at in a lead (plain values, so routing knows no protobuf).
struct LeadFacts {
  std::string country, region, postal_code, industry, domain;
  int64_t employees = 0, revenue_usd = 0;  // 0: unknown
  std::set<std::string> segments;
  std::string source_kind;        // short name, e.g. "REP_SOURCED"
  std::string sourced_by_rep_id;  // for REP_SOURCED
  // The live owners of the lead's account, in order of preference (one, or several sharing
  // it); the first eligible one takes the lead. Empty: no owner.
  std::vector<std::string> account_owner_rep_ids;
  std::set<std::string> required_skills;  // e.g. a language the lead needs
  std::set<std::string> excluded_reps;    // reps who had this lead and returned / let it expire
};

// Shared counters, loaded from Redis before a batch and written back atomically after it.
// Plain values: the engine reads and updates them; the caller persists them.
struct RepCounters {
  int64_t open_leads = 0;
  std::string day;  // the rep's local day these counts are for, "YYYY-MM-DD"
  int64_t assigned_on_day = 0;
  int64_t recent_assigned = 0;  // for kConversionWeighted: window totals
  int64_t recent_converted = 0;
  // Runtime overrides set through AdminService, on top of the rep's config: paused (takes no new
  // leads), extra out-of-office windows, and caps replacing max_open_leads / daily_cap.
  bool paused = false;
  std::vector<Absence> extra_out_of_office;
  std::optional<int64_t> max_open_override;
  std::optional<int64_t> daily_cap_override;
};

// The caps in force for a rep: the overrides when set, else its config.
int64_t EffectiveMaxOpen(const RepProfile& rep, const RepCounters& counters);
int64_t EffectiveDailyCap(const RepProfile& rep, const RepCounters& counters);
struct PoolCounters {
  int64_t step = 0;                       // leads this pool has assigned
  std::map<std::string, int64_t> credit;  // per rep, in weight units (see Engine)
  std::map<std::string, int64_t> count;   // per rep: leads assigned by this pool
  // The signature of the pool's present set at its last step (PresentSignature: 16 lower-case
  // hex digits); "" before the first step. A step whose present set has another signature
  // restarts the rotation: every credit of the pool back to 0 first. Persist it with the
  // credits (a state loaded without it restarts the rotation at the pool's next step).
  std::string present;
};
struct RoutingState {
  std::map<std::string, RepCounters> reps;
  std::map<std::string, PoolCounters> pools;
};

// One candidate as considered, for the explanation.
struct CandidateTrace {
  std::string rep_id;
  bool chosen = false;
  std::string
      why;  // "out of office until 2026-12-02T00:00:00Z", "at daily cap 20/20", "chosen: ..."
};

struct RoutingDecision {
  std::optional<std::string> rep_id;  // nullopt: nobody eligible anywhere: unassigned queue
  std::string territory;              // "" when no territory matched
  std::string pool;                   // the pool that assigned ("" when unassigned)
  std::vector<std::string>
      territories_tried;                   // each "name: matched" / "name: country FR not in [US]"
  std::vector<std::string> pools_tried;    // in fallback order
  std::vector<CandidateTrace> candidates;  // of every pool tried
  std::string reason;                      // one line
};

// The routing engine: pure and deterministic given rules, state and time. Immutable after
// Create; Route is thread-safe for distinct RoutingState objects.
class Engine {
 public:
  // Validates and compiles: unknown reps in pools, unknown pools in territories or overflow,
  // overflow cycles, duplicate names, bad weights, unknown time zones, empty pools. Errors are
  // InvalidArgument naming the item ("pools[1] (\"west\"): member \"rep-x\" is not a rep").
  static absl::StatusOr<std::shared_ptr<const Engine>> Create(RoutingRules rules);

  // Decides one lead at `now` and applies the decision's effects to `state` (pool step, present
  // signature, credits, counts, the rep's open and daily counts). Order of precedence:
  //   1. a rep-sourced lead stays with the rep who sourced it, if that rep exists and is not
  //      excluded (capacity is not checked: it is their own lead);
  //   2. a lead whose account has an owner goes to the owner when eligible;
  //   3. the territory's pool, then its overflow chain, each choosing among eligible members by
  //      its strategy;
  //   4. nobody eligible: rep_id = nullopt (the unassigned queue).
  // Eligible = exists, not excluded, not out of office, inside working hours, under
  // max_open_leads and daily_cap, holding the pool's required skills and the lead's.
  // Ineligible members neither receive the lead nor gain credit.
  //
  // Fairness of kWeightedRoundRobin. A pool member is *present* at a step when it could take a
  // lead without lead-specific requirements there: not paused, not out of office, inside its
  // working hours, under its caps, holding the pool's required skills (a lead's required skills,
  // its excluded reps and account ownership do not enter). The pool's steps (its leads, in
  // `step` order) fall into segments: maximal runs of steps with the same present set, members
  // and configured weights (a pause, a return, a cap hit, a shift's end, a re-weighting or a
  // member added or removed by a new config ends a segment at the next step). At the first step
  // of a segment every credit of the pool is set to 0: nobody brings credit into a segment.
  // Guarantee: within a segment of k present reps of total weight W, after n of its leads each
  // present rep i has |n·w_i/W − count_i| ≤ 1 − 1/(2(k−1)) (0 for k = 1), counting leads
  // of the segment only, as long as none of them had a lead-specific restriction.
  // A lead whose own requirements exclude some present reps (required skills, reps who had it)
  // is a step of the same segment: the reps who can take it choose by the same rule and only
  // they gain credit (so nobody banks credit for leads they could not take); it does not
  // restart the rotation, and the bound above is not promised for prefixes that include it.
  // kConversionWeighted segments the same way (configured weights, not effective ones) and
  // keeps the bound against the effective shares while those hold still.
  RoutingDecision Route(const LeadFacts& lead, core::TimePoint now, RoutingState& state) const;

  const RoutingRules& rules() const;

  // A configured rep's day and availability at `now` (for load views): the rep's local calendar
  // day ("YYYY-MM-DD", the day its daily count is for) and why it could not take a lead without
  // special requirements now ("" when it could: not out of office, inside working hours, under
  // its caps). nullopt for an unknown rep.
  struct RepStatus {
    std::string local_day;
    std::string unavailable;
  };
  std::optional<RepStatus> StatusOf(const std::string& rep_id, core::TimePoint now,
                                    const RoutingState& state) const;
  ~Engine();

 private:
  struct Compiled;
  explicit Engine(std::unique_ptr<Compiled> compiled);
  std::unique_ptr<Compiled> compiled_;
};

// The signature of a pool's present set, as stored in PoolCounters::present: a 64-bit FNV-1a
// hash (16 lower-case hex digits) of the strategy and the present members' ids and configured
// weights, independent of their order. Pure and thread-safe; the same on every instance and
// build (64 bits: a collision, which would miss one restart, is negligible).
std::string PresentSignature(Strategy strategy,
                             std::vector<std::pair<std::string, int64_t>> present_members);

// The pure fairness rule, exposed for tests and the simulator.
// Members with their weights and whether each is eligible now; credits in weight units
// (eligible members gain their weight each step, the chosen one loses the eligible total).
// Returns the index of the chosen member, or nullopt when none is eligible.
// Tie-break among equal deadlines: a hash of (step, rep id), not list order.
std::optional<size_t> ChooseTijdeman(const std::vector<std::string>& rep_ids,
                                     const std::vector<int64_t>& weights,
                                     const std::vector<bool>& eligible,
                                     const std::vector<int64_t>& credits, int64_t step);

}  // namespace leadrouter::routing
