#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "leadrouter/routing/engine.h"
#include "leadrouter/routing/rules.h"

namespace leadrouter::routing {

// How one configured pool's leads are spread over its members, and how loaded they are.
struct PoolLoad {
  std::string pool;
  // max over the pool's configured members of |actual share - target share|, in [0, 1]; 0 when
  // the pool has assigned nothing yet.
  //   target share of a member = its configured weight / the sum of the members' weights;
  //   actual share of a member = PoolCounters::count[member] (the leads THIS pool assigned to
  //     it, over the life of the routing state: the counter the engine bumps on every choice the
  //     pool makes; leads a member got from another pool, as account owner or as the rep who
  //     sourced them do not count) / the sum of those counts over the pool's current members.
  // For weighted round robin this is the pool's fairness: the engine keeps every member within
  // one lead of its share while the eligible set holds still, so the deviation shrinks as
  // 1/assigned; absences, caps and working hours move it, because an ineligible member neither
  // gets leads nor banks credit. For conversion-weighted pools the target is the configured
  // (nominal) weight, not the conversion-adjusted one, and least-loaded pools have no weighted
  // target, so there it reads as plain imbalance of the counts.
  double fairness_deviation = 0;
  int64_t assigned = 0;    // sum of the members' counts (the denominator of actual share)
  int64_t open_leads = 0;  // sum of the members' open leads (a rep in two pools counts in both)
};

struct RepOpenLeads {
  std::string rep;
  int64_t open_leads = 0;  // RepCounters::open_leads, clamped at 0
};

struct LoadReport {
  std::vector<PoolLoad> pools;     // one per configured pool, in config order
  std::vector<RepOpenLeads> reps;  // one per configured rep, in config order
};

// Pure: the load and fairness of every configured pool and rep in `state` (the shared routing
// state as loaded from Redis). Counters of pools, reps or members that are not in `rules`
// (removed from the config) are ignored; configured ones without counters count as 0.
// Thread-safe.
LoadReport MeasureLoad(const RoutingRules& rules, const RoutingState& state);

}  // namespace leadrouter::routing
