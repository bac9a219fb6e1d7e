#include "leadrouter/routing/load.h"

#include <algorithm>
#include <cmath>

namespace leadrouter::routing {
namespace {

int64_t OpenLeads(const RoutingState& state, const std::string& rep) {
  const auto it = state.reps.find(rep);
  return it == state.reps.end() ? 0 : std::max<int64_t>(0, it->second.open_leads);
}

}  // namespace

LoadReport MeasureLoad(const RoutingRules& rules, const RoutingState& state) {
  LoadReport report;
  report.reps.reserve(rules.reps.size());
  for (const RepProfile& rep : rules.reps)
    report.reps.push_back({rep.id, OpenLeads(state, rep.id)});

  report.pools.reserve(rules.pools.size());
  for (const Pool& pool : rules.pools) {
    PoolLoad& load = report.pools.emplace_back();
    load.pool = pool.name;
    const auto counters = state.pools.find(pool.name);
    std::vector<int64_t> counts;
    int64_t total_weight = 0;
    for (const PoolMember& member : pool.members) {
      int64_t count = 0;
      if (counters != state.pools.end()) {
        const auto it = counters->second.count.find(member.rep_id);
        if (it != counters->second.count.end()) count = std::max<int64_t>(0, it->second);
      }
      counts.push_back(count);
      load.assigned += count;
      total_weight += std::max<int64_t>(0, member.weight);
      load.open_leads += OpenLeads(state, member.rep_id);
    }
    if (load.assigned == 0 || total_weight == 0) continue;
    for (size_t i = 0; i < pool.members.size(); ++i) {
      const double target =
          static_cast<double>(std::max<int64_t>(0, pool.members[i].weight)) / total_weight;
      const double actual = static_cast<double>(counts[i]) / load.assigned;
      load.fairness_deviation = std::max(load.fairness_deviation, std::abs(actual - target));
    }
  }
  return report;
}

}  // namespace leadrouter::routing
