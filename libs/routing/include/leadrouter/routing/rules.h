#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "leadrouter/core/clock.h"

namespace leadrouter::routing {

// The routing world as plain data (parsed from the config file by libs/config; validated and
// compiled by Engine::Create).

// Working hours in the rep's own time zone. Days: 0 = Monday ... 6 = Sunday. Minutes since local
// midnight; end <= start means the shift runs past midnight into the next day.
struct WorkingHours {
  std::set<int> days;
  int start_minute = 0;
  int end_minute = 24 * 60;
};

// A half-open absence [from, to).
struct Absence {
  core::TimePoint from;
  core::TimePoint to;
};

struct RepProfile {
  std::string id;
  std::string timezone = "UTC";               // IANA name, e.g. "America/Chicago"
  std::optional<WorkingHours> working_hours;  // absent: always available
  std::vector<Absence> out_of_office;
  int64_t max_open_leads = 0;  // 0: no cap
  int64_t daily_cap = 0;       // 0: no cap; the day is the rep's local calendar day
  std::set<std::string> skills;
};

enum class Strategy {
  // Tijdeman's chairman-assignment rule over the eligible members: at every prefix each rep's
  // count is less than one lead from its weighted share.
  kWeightedRoundRobin,
  // Fewest open leads relative to capacity; ties broken by a rotating hash, not list order.
  kLeastLoaded,
  // Weighted round robin whose weights are scaled by each rep's recent conversion rate
  // relative to the pool's, within [1/2, 2] of the configured weight.
  kConversionWeighted,
};

// The name of a strategy as the config file spells it ("weighted_round_robin", ...).
std::string_view StrategyName(Strategy strategy);

struct PoolMember {
  std::string rep_id;
  int64_t weight = 1;  // 1..1000
};

struct Pool {
  std::string name;
  Strategy strategy = Strategy::kWeightedRoundRobin;
  std::vector<PoolMember> members;
  std::set<std::string> required_skills;
  std::string overflow_pool;  // "" = none: unassigned queue when nobody is eligible
};

// Every non-empty list must contain the lead's value (case-insensitive); ranges are inclusive;
// an all-empty match matches every lead (a catch-all).
struct TerritoryMatch {
  std::set<std::string> countries;  // ISO alpha-2
  std::set<std::string> regions;    // state / province codes
  std::vector<std::string> postal_prefixes;
  std::set<std::string> industries;
  std::set<std::string> segments;      // any of the lead's segments
  std::set<std::string> source_kinds;  // short names: "PARTNER", "EVENT", ...
  std::set<std::string> domains;       // named accounts: company domains
  std::optional<int64_t> min_employees, max_employees;
  std::optional<int64_t> min_revenue_usd, max_revenue_usd;
};

struct Territory {
  std::string name;
  TerritoryMatch match;
  std::string pool;
};

// How territories are chosen when several match.
enum class TerritoryOrder {
  kFirstMatch,    // the first matching territory in config order
  kMostSpecific,  // the matching territory with the most constrained fields; ties: config order
};

struct RoutingRules {
  std::vector<RepProfile> reps;
  std::vector<Pool> pools;
  std::vector<Territory> territories;  // none: every lead goes to pools[0]
  TerritoryOrder order = TerritoryOrder::kFirstMatch;
};

}  // namespace leadrouter::routing
