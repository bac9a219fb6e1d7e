#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "leadrouter/routing/engine.h"

namespace leadrouter::routing {
namespace {

using std::chrono::days;
using std::chrono::hours;
using std::chrono::minutes;

core::TimePoint Utc(int y, unsigned m, unsigned d, int h = 0, int min = 0) {
  return std::chrono::sys_days{std::chrono::year{y} / std::chrono::month{m} / std::chrono::day{d}} +
         hours{h} + minutes{min};
}

const core::TimePoint kNoon = Utc(2026, 5, 6, 12);  // a Wednesday

RepProfile Rep(const std::string& id) {
  RepProfile r;
  r.id = id;
  return r;
}

Pool MakePool(const std::string& name, const std::vector<std::string>& reps,
              Strategy strategy = Strategy::kWeightedRoundRobin, const std::string& overflow = "") {
  Pool p;
  p.name = name;
  p.strategy = strategy;
  for (const auto& r : reps) p.members.push_back({r, 1});
  p.overflow_pool = overflow;
  return p;
}

RoutingRules OnePool(const std::vector<RepProfile>& reps,
                     Strategy strategy = Strategy::kWeightedRoundRobin) {
  RoutingRules rules;
  rules.reps = reps;
  std::vector<std::string> ids;
  for (const auto& r : reps) ids.push_back(r.id);
  rules.pools.push_back(MakePool("main", ids, strategy));
  return rules;
}

std::shared_ptr<const Engine> MustCreate(RoutingRules rules) {
  auto e = Engine::Create(std::move(rules));
  EXPECT_TRUE(e.ok()) << e.status();
  return e.ok() ? *e : nullptr;
}

const CandidateTrace* Trace(const RoutingDecision& d, const std::string& rep) {
  for (const auto& c : d.candidates) {
    if (c.rep_id == rep) return &c;
  }
  return nullptr;
}

// ---------------------------------------------------------------- ChooseTijdeman

// Tijdeman's bound: 2(k−1)·|n·w_i − W·count_i| ≤ (2k−3)·W at every prefix n, i.e. each rep is
// within 1 − 1/(2(k−1)) leads of its share. (The bound is attained, e.g. k = 2 with equal
// weights after one lead: deviation exactly 1/2, so it is ≤, not <.)
TEST(ChooseTijdemanTest, EveryPrefixWithinOneMinusDelta) {
  for (uint32_t seed : {1u, 2u, 3u, 4u, 5u}) {
    std::mt19937 rng(seed);
    for (int64_t k = 2; k <= 20; ++k) {
      std::vector<std::string> ids;
      std::vector<int64_t> w;
      int64_t total = 0;
      for (int64_t i = 0; i < k; ++i) {
        ids.push_back("rep-" + std::to_string(rng()));
        w.push_back(std::uniform_int_distribution<int64_t>(1, 50)(rng));
        total += w.back();
      }
      std::vector<bool> eligible(k, true);
      std::vector<int64_t> credit(k, 0), count(k, 0);
      for (int64_t n = 1; n <= 2000; ++n) {
        const auto chosen = ChooseTijdeman(ids, w, eligible, credit, n - 1);
        ASSERT_TRUE(chosen.has_value());
        for (int64_t i = 0; i < k; ++i) credit[i] += w[i];
        credit[*chosen] -= total;
        ++count[*chosen];
        for (int64_t i = 0; i < k; ++i) {
          const int64_t dev = n * w[i] - total * count[i];
          ASSERT_EQ(credit[i], dev);
          ASSERT_LE(2 * (k - 1) * std::abs(dev), (2 * k - 3) * total)
              << "seed " << seed << " k " << k << " n " << n << " rep " << i;
          ASSERT_LT(std::abs(dev), total);
        }
      }
    }
  }
}

TEST(ChooseTijdemanTest, NoneEligibleAndSingleEligible) {
  const std::vector<std::string> ids = {"a", "b", "c"};
  const std::vector<int64_t> w = {1, 2, 3};
  EXPECT_FALSE(ChooseTijdeman(ids, w, {false, false, false}, {0, 0, 0}, 0).has_value());
  EXPECT_EQ(ChooseTijdeman(ids, w, {false, true, false}, {0, -100, 0}, 0), 1u);
}

TEST(ChooseTijdemanTest, NobodyBehindAfterEligibilityChangeStillChooses) {
  // c left while 10 behind; a and b are each ahead, so nobody is δ behind: the earliest
  // deadline over everyone eligible decides (a: weight 3 reaches its deadline first).
  const std::vector<std::string> ids = {"a", "b", "c"};
  EXPECT_EQ(ChooseTijdeman(ids, {3, 1, 1}, {true, true, false}, {-8, -5, 10}, 7), 0u);
}

TEST(ChooseTijdemanTest, TiesAreNotBiasedByListPosition) {
  std::mt19937 rng(42);
  std::vector<int> wins(4, 0);
  const int kTrials = 400;
  for (int t = 0; t < kTrials; ++t) {
    std::vector<std::string> ids;
    for (int i = 0; i < 4; ++i) ids.push_back("rep-" + std::to_string(rng() % 100000));
    const auto chosen = ChooseTijdeman(ids, {5, 5, 5, 5}, {true, true, true, true}, {0, 0, 0, 0},
                                       static_cast<int64_t>(rng() % 1000));
    ASSERT_TRUE(chosen.has_value());
    ++wins[*chosen];
  }
  for (int i = 0; i < 4; ++i) {
    EXPECT_GE(wins[i], kTrials * 15 / 100) << "position " << i;
    EXPECT_LE(wins[i], kTrials * 35 / 100) << "position " << i;
  }
}

// ---------------------------------------------------------------- weighted round robin

TEST(EngineWeightedTest, PoolCountsStayWithinTheBoundAndReasonExplains) {
  std::mt19937 rng(7);
  RoutingRules rules;
  Pool pool = MakePool("west", {});
  int64_t total = 0;
  for (int i = 0; i < 6; ++i) {
    const std::string id = "rep-" + std::to_string(i);
    rules.reps.push_back(Rep(id));
    pool.members.push_back({id, std::uniform_int_distribution<int64_t>(1, 20)(rng)});
    total += pool.members.back().weight;
  }
  rules.pools.push_back(pool);
  Territory west;
  west.name = "west";
  west.pool = "west";
  rules.territories.push_back(west);
  auto engine = MustCreate(rules);
  RoutingState state;
  for (int64_t n = 1; n <= 1000; ++n) {
    const RoutingDecision d = engine->Route({}, kNoon, state);
    ASSERT_TRUE(d.rep_id.has_value());
    ASSERT_EQ(d.reason.rfind("territory \"west\": pool \"west\" (weighted_round_robin) chose " +
                                 *d.rep_id + ": ",
                             0),
              0u)
        << d.reason;
    EXPECT_NE(d.reason.find("leads behind its share"), std::string::npos);
    const PoolCounters& pc = state.pools.at("west");
    ASSERT_EQ(pc.step, n);
    for (const auto& m : pool.members) {
      const int64_t count = pc.count.count(m.rep_id) ? pc.count.at(m.rep_id) : 0;
      const int64_t dev = n * m.weight - total * count;
      ASSERT_EQ(pc.credit.at(m.rep_id), dev);
      ASSERT_LE(2 * 5 * std::abs(dev), 9 * total);  // k = 6
    }
  }
  EXPECT_EQ(state.reps.at("rep-0").open_leads, state.pools.at("west").count.at("rep-0"));
}

TEST(EngineWeightedTest, NoCatchUpAfterAbsence) {
  RoutingRules rules = OnePool({Rep("a"), Rep("b"), Rep("c")});
  const core::TimePoint start = kNoon;
  rules.reps[2].out_of_office.push_back({start + minutes(100), start + minutes(400)});
  auto engine = MustCreate(rules);
  RoutingState state;
  std::map<std::string, int> during, after;
  for (int s = 0; s < 430; ++s) {
    const core::TimePoint now = start + minutes(s);
    const RoutingDecision d = engine->Route({}, now, state);
    ASSERT_TRUE(d.rep_id.has_value());
    if (s >= 100 && s < 400) {
      ++during[*d.rep_id];
      const CandidateTrace* t = Trace(d, "c");
      ASSERT_NE(t, nullptr);
      EXPECT_EQ(t->why, "out of office until 2026-05-06T18:40:00Z");
    } else if (s >= 400) {
      ++after[*d.rep_id];
    }
  }
  EXPECT_EQ(during["c"], 0);
  EXPECT_EQ(during["a"], 150);
  EXPECT_EQ(during["b"], 150);
  EXPECT_LE(after["c"], 11);
  EXPECT_GE(after["c"], 9);
}

TEST(EngineWeightedTest, ExcludedRepsAreNeverChosen) {
  auto engine = MustCreate(OnePool({Rep("a"), Rep("b"), Rep("c"), Rep("d")}));
  std::mt19937 rng(3);
  RoutingState state;
  const std::vector<std::string> ids = {"a", "b", "c", "d"};
  for (int s = 0; s < 500; ++s) {
    LeadFacts lead;
    for (const auto& id : ids) {
      if (rng() % 2) lead.excluded_reps.insert(id);
    }
    const RoutingDecision d = engine->Route(lead, kNoon, state);
    if (lead.excluded_reps.size() == ids.size()) {
      EXPECT_FALSE(d.rep_id.has_value());
      continue;
    }
    ASSERT_TRUE(d.rep_id.has_value());
    EXPECT_EQ(lead.excluded_reps.count(*d.rep_id), 0u);
    for (const auto& id : lead.excluded_reps) {
      EXPECT_EQ(Trace(d, id)->why, "excluded: had this lead before");
    }
  }
}

// ---------------------------------------------------------------- caps and days

TEST(EngineCapsTest, CapsAreNeverExceeded) {
  std::vector<RepProfile> reps = {Rep("utc"), Rep("tokyo"), Rep("free")};
  reps[0].max_open_leads = 3;
  reps[0].daily_cap = 5;
  reps[1].timezone = "Asia/Tokyo";
  reps[1].daily_cap = 4;
  reps[2].max_open_leads = 2;
  auto engine = MustCreate(OnePool(reps));
  const std::map<std::string, hours> offset = {
      {"utc", hours(0)}, {"tokyo", hours(9)}, {"free", hours(0)}};
  std::mt19937 rng(11);
  RoutingState state;
  std::map<std::pair<std::string, int64_t>, int64_t> per_local_day;
  core::TimePoint now = Utc(2026, 5, 1);
  int unassigned = 0;
  for (int s = 0; s < 3000; ++s) {
    now += minutes(20);
    // Reps close some of their open leads.
    for (auto& [id, rc] : state.reps) {
      if (rc.open_leads > 0 && rng() % 3 == 0) --rc.open_leads;
    }
    const RoutingDecision d = engine->Route({}, now, state);
    if (!d.rep_id) {
      ++unassigned;
      EXPECT_NE(d.reason.find("nobody eligible in pool \"main\"; unassigned"), std::string::npos);
      continue;
    }
    const std::string& id = *d.rep_id;
    const RepProfile& rep = id == "utc" ? reps[0] : id == "tokyo" ? reps[1] : reps[2];
    const int64_t local_day =
        std::chrono::floor<days>(now + offset.at(id)).time_since_epoch().count();
    const int64_t today = ++per_local_day[{id, local_day}];
    if (rep.daily_cap > 0) {
      ASSERT_LE(today, rep.daily_cap) << id;
    }
    if (rep.max_open_leads > 0) {
      ASSERT_LE(state.reps.at(id).open_leads, rep.max_open_leads) << id;
    }
    ASSERT_EQ(state.reps.at(id).assigned_on_day, today) << id;
  }
  EXPECT_GT(unassigned, 0);
}

TEST(EngineCapsTest, DailyCountResetsOnTheRepsLocalMidnight) {
  RepProfile tokyo = Rep("tokyo");
  tokyo.timezone = "Asia/Tokyo";
  tokyo.daily_cap = 2;
  auto engine = MustCreate(OnePool({tokyo}));
  RoutingState state;
  const core::TimePoint before = Utc(2026, 5, 1, 14, 59);  // 23:59 on May 1 in Tokyo
  EXPECT_TRUE(engine->Route({}, before, state).rep_id.has_value());
  EXPECT_TRUE(engine->Route({}, before, state).rep_id.has_value());
  EXPECT_EQ(state.reps.at("tokyo").day, "2026-05-01");
  const RoutingDecision capped = engine->Route({}, before, state);
  EXPECT_FALSE(capped.rep_id.has_value());
  EXPECT_EQ(Trace(capped, "tokyo")->why, "at daily cap 2/2");
  const RoutingDecision next = engine->Route({}, Utc(2026, 5, 1, 15, 0), state);  // 00:00 May 2
  EXPECT_TRUE(next.rep_id.has_value());
  EXPECT_EQ(state.reps.at("tokyo").day, "2026-05-02");
  EXPECT_EQ(state.reps.at("tokyo").assigned_on_day, 1);
  EXPECT_EQ(state.reps.at("tokyo").open_leads, 3);
}

TEST(EngineCapsTest, StaleDayDoesNotCountAgainstTheCap) {
  RepProfile r = Rep("r");
  r.daily_cap = 1;
  r.max_open_leads = 10;
  auto engine = MustCreate(OnePool({r}));
  RoutingState state;
  state.reps["r"].open_leads = 9;
  state.reps["r"].day = "2026-05-05";  // yesterday
  state.reps["r"].assigned_on_day = 1;
  EXPECT_TRUE(engine->Route({}, kNoon, state).rep_id.has_value());
  const RoutingDecision d = engine->Route({}, kNoon, state);
  EXPECT_FALSE(d.rep_id.has_value());
  EXPECT_EQ(Trace(d, "r")->why, "at capacity 10/10 open leads");
}

// ---------------------------------------------------------------- working hours

struct HoursCase {
  const char* name;
  const char* tz;
  std::set<int> days;
  int start, end;
  core::TimePoint at;
  bool available;
};

TEST(EngineHoursTest, WorkingHoursInTheRepsTimeZone) {
  const std::set<int> all = {0, 1, 2, 3, 4, 5, 6};
  const std::set<int> weekdays = {0, 1, 2, 3, 4};
  const HoursCase cases[] = {
      // New York: EST (UTC−5) until Sun 2026-03-08 02:00, then EDT (UTC−4).
      {"ny_sat_before_dst_0830", "America/New_York", all, 540, 1020, Utc(2026, 3, 7, 13, 30),
       false},
      {"ny_sat_before_dst_0930", "America/New_York", all, 540, 1020, Utc(2026, 3, 7, 14, 30), true},
      {"ny_dst_day_0830", "America/New_York", all, 540, 1020, Utc(2026, 3, 8, 12, 30), false},
      {"ny_dst_day_0900", "America/New_York", all, 540, 1020, Utc(2026, 3, 8, 13, 0), true},
      {"ny_dst_day_1659", "America/New_York", all, 540, 1020, Utc(2026, 3, 8, 20, 59), true},
      {"ny_dst_day_1700", "America/New_York", all, 540, 1020, Utc(2026, 3, 8, 21, 0), false},
      {"ny_sunday_not_a_workday", "America/New_York", weekdays, 540, 1020, Utc(2026, 3, 8, 14),
       false},
      {"ny_monday", "America/New_York", weekdays, 540, 1020, Utc(2026, 3, 9, 13, 0), true},
      // Berlin: CET (UTC+1) until Sun 2026-03-29 02:00, then CEST (UTC+2).
      {"berlin_sat_0830", "Europe/Berlin", all, 540, 1020, Utc(2026, 3, 28, 7, 30), false},
      {"berlin_sat_0900", "Europe/Berlin", all, 540, 1020, Utc(2026, 3, 28, 8, 0), true},
      {"berlin_dst_day_0859", "Europe/Berlin", all, 540, 1020, Utc(2026, 3, 29, 6, 59), false},
      {"berlin_dst_day_0900", "Europe/Berlin", all, 540, 1020, Utc(2026, 3, 29, 7, 0), true},
      // Weekends.
      {"utc_saturday", "UTC", weekdays, 540, 1020, Utc(2026, 3, 7, 10), false},
      {"utc_friday", "UTC", weekdays, 540, 1020, Utc(2026, 3, 6, 10), true},
      // A Friday night shift 22:00–06:00.
      {"night_fri_2159", "UTC", {4}, 1320, 360, Utc(2026, 3, 6, 21, 59), false},
      {"night_fri_2300", "UTC", {4}, 1320, 360, Utc(2026, 3, 6, 23, 0), true},
      {"night_sat_0559", "UTC", {4}, 1320, 360, Utc(2026, 3, 7, 5, 59), true},
      {"night_sat_0600", "UTC", {4}, 1320, 360, Utc(2026, 3, 7, 6, 0), false},
      {"night_thu_2300", "UTC", {4}, 1320, 360, Utc(2026, 3, 5, 23, 0), false},
      {"night_sat_2300", "UTC", {4}, 1320, 360, Utc(2026, 3, 7, 23, 0), false},
      // A Saturday night shift across the New York DST change (03:30 EDT = 07:30Z).
      {"night_dst_0330", "America/New_York", {5}, 1320, 360, Utc(2026, 3, 8, 7, 30), true},
      {"night_dst_0630", "America/New_York", {5}, 1320, 360, Utc(2026, 3, 8, 10, 30), false},
      {"night_dst_sat_2230", "America/New_York", {5}, 1320, 360, Utc(2026, 3, 8, 3, 30), true},
  };
  for (const HoursCase& c : cases) {
    RepProfile r = Rep("r");
    r.timezone = c.tz;
    r.working_hours = WorkingHours{c.days, c.start, c.end};
    auto engine = MustCreate(OnePool({r}));
    RoutingState state;
    const RoutingDecision d = engine->Route({}, c.at, state);
    EXPECT_EQ(d.rep_id.has_value(), c.available) << c.name << ": " << d.candidates[0].why;
    if (!c.available) {
      EXPECT_EQ(d.candidates[0].why.rfind("outside working hours (local ", 0), 0u) << c.name;
    }
  }
}

TEST(EngineHoursTest, TraceShowsLocalTime) {
  RepProfile r = Rep("r");
  r.timezone = "America/New_York";
  r.working_hours = WorkingHours{{0, 1, 2, 3, 4}, 540, 1020};
  auto engine = MustCreate(OnePool({r}));
  RoutingState state;
  const RoutingDecision d = engine->Route({}, Utc(2026, 3, 7, 15, 30), state);
  EXPECT_EQ(d.candidates[0].why,
            "outside working hours (local Sat 2026-03-07 10:30 America/New_York)");
}

// ---------------------------------------------------------------- territories

Territory Terr(const std::string& name, TerritoryMatch m) {
  return Territory{name, std::move(m), "p"};
}

struct TerritoryCase {
  const char* name;
  std::vector<Territory> territories;
  TerritoryOrder order;
  LeadFacts lead;
  std::string want;  // "" = no territory
};

TEST(EngineTerritoryTest, Table) {
  TerritoryMatch us;
  us.countries = {"US"};
  TerritoryMatch us_ca = us;
  us_ca.regions = {"CA"};
  TerritoryMatch sw1;
  sw1.postal_prefixes = {"SW1 A"};
  TerritoryMatch fin;
  fin.industries = {"Finance"};
  TerritoryMatch ent;
  ent.segments = {"enterprise"};
  TerritoryMatch partner;
  partner.source_kinds = {"PARTNER"};
  TerritoryMatch named;
  named.domains = {"acme.com"};
  TerritoryMatch mid;
  mid.min_employees = 100;
  mid.max_employees = 999;
  TerritoryMatch rich;
  rich.min_revenue_usd = 1'000'000;
  const TerritoryMatch catch_all;

  auto lead = [](auto&& fill) {
    LeadFacts l;
    fill(l);
    return l;
  };
  const auto first = TerritoryOrder::kFirstMatch;
  const auto specific = TerritoryOrder::kMostSpecific;
  const TerritoryCase cases[] = {
      {"country_case_insensitive",
       {Terr("us", us)},
       first,
       lead([](LeadFacts& l) { l.country = "us"; }),
       "us"},
      {"country_mismatch",
       {Terr("us", us)},
       first,
       lead([](LeadFacts& l) { l.country = "FR"; }),
       ""},
      {"country_unknown", {Terr("us", us)}, first, {}, ""},
      {"first_match_takes_config_order",
       {Terr("us", us), Terr("us-ca", us_ca)},
       first,
       lead([](LeadFacts& l) {
         l.country = "US";
         l.region = "ca";
       }),
       "us"},
      {"most_specific",
       {Terr("us", us), Terr("us-ca", us_ca)},
       specific,
       lead([](LeadFacts& l) {
         l.country = "US";
         l.region = "CA";
       }),
       "us-ca"},
      {"most_specific_falls_back_to_less_specific",
       {Terr("us", us), Terr("us-ca", us_ca)},
       specific,
       lead([](LeadFacts& l) {
         l.country = "US";
         l.region = "NY";
       }),
       "us"},
      {"most_specific_tie_config_order",
       {Terr("fin", fin), Terr("ent", ent)},
       specific,
       lead([](LeadFacts& l) {
         l.industry = "finance";
         l.segments = {"ENTERPRISE"};
       }),
       "fin"},
      {"postal_prefix_ignores_spaces_and_case",
       {Terr("sw1", sw1)},
       first,
       lead([](LeadFacts& l) { l.postal_code = "sw1a 1aa"; }),
       "sw1"},
      {"postal_prefix_mismatch",
       {Terr("sw1", sw1)},
       first,
       lead([](LeadFacts& l) { l.postal_code = "SW2 1AA"; }),
       ""},
      {"industry",
       {Terr("fin", fin)},
       first,
       lead([](LeadFacts& l) { l.industry = "FINANCE"; }),
       "fin"},
      {"segments_any",
       {Terr("ent", ent)},
       first,
       lead([](LeadFacts& l) {
         l.segments = {"smb", "Enterprise"};
       }),
       "ent"},
      {"segments_none",
       {Terr("ent", ent)},
       first,
       lead([](LeadFacts& l) { l.segments = {"smb"}; }),
       ""},
      {"source_kind",
       {Terr("partner", partner)},
       first,
       lead([](LeadFacts& l) { l.source_kind = "partner"; }),
       "partner"},
      {"named_account",
       {Terr("named", named)},
       first,
       lead([](LeadFacts& l) { l.domain = "ACME.com"; }),
       "named"},
      {"employees_in_range",
       {Terr("mid", mid)},
       first,
       lead([](LeadFacts& l) { l.employees = 999; }),
       "mid"},
      {"employees_below",
       {Terr("mid", mid)},
       first,
       lead([](LeadFacts& l) { l.employees = 99; }),
       ""},
      {"employees_above",
       {Terr("mid", mid)},
       first,
       lead([](LeadFacts& l) { l.employees = 1000; }),
       ""},
      {"employees_unknown", {Terr("mid", mid)}, first, {}, ""},
      {"revenue",
       {Terr("rich", rich)},
       first,
       lead([](LeadFacts& l) { l.revenue_usd = 2'000'000; }),
       "rich"},
      {"revenue_unknown", {Terr("rich", rich)}, first, {}, ""},
      {"catch_all_does_not_shadow_under_first_match",
       {Terr("all", catch_all), Terr("us", us)},
       first,
       lead([](LeadFacts& l) { l.country = "US"; }),
       "us"},
      {"catch_all_when_nothing_matches",
       {Terr("all", catch_all), Terr("us", us)},
       first,
       lead([](LeadFacts& l) { l.country = "FR"; }),
       "all"},
      {"last_catch_all_wins",
       {Terr("all-1", catch_all), Terr("us", us), Terr("all-2", catch_all)},
       specific,
       lead([](LeadFacts& l) { l.country = "FR"; }),
       "all-2"},
  };
  for (const TerritoryCase& c : cases) {
    RoutingRules rules = OnePool({Rep("r")});
    rules.pools[0].name = "p";
    rules.territories = c.territories;
    rules.order = c.order;
    auto engine = MustCreate(rules);
    RoutingState state;
    const RoutingDecision d = engine->Route(c.lead, kNoon, state);
    EXPECT_EQ(d.territory, c.want) << c.name;
    EXPECT_EQ(d.rep_id.has_value(), !c.want.empty()) << c.name;
    if (c.want.empty()) {
      EXPECT_EQ(d.reason, "no territory matched; unassigned") << c.name;
    }
  }
}

TEST(EngineTerritoryTest, TriedTerritoriesExplainMismatches) {
  TerritoryMatch us;
  us.countries = {"CA", "US"};
  TerritoryMatch mid;
  mid.min_employees = 100;
  RoutingRules rules = OnePool({Rep("r")});
  rules.pools[0].name = "p";
  rules.territories = {Terr("na", us), Terr("mid", mid)};
  auto engine = MustCreate(rules);
  RoutingState state;
  LeadFacts lead;
  lead.country = "FR";
  const RoutingDecision d = engine->Route(lead, kNoon, state);
  EXPECT_EQ(d.territories_tried,
            (std::vector<std::string>{"na: country FR not in [CA, US]", "mid: employees unknown"}));
}

TEST(EngineTerritoryTest, NoTerritoriesUsesTheFirstPool) {
  RoutingRules rules;
  rules.reps = {Rep("a"), Rep("b")};
  rules.pools = {MakePool("first", {"a"}), MakePool("second", {"b"})};
  auto engine = MustCreate(rules);
  RoutingState state;
  const RoutingDecision d = engine->Route({}, kNoon, state);
  EXPECT_EQ(d.rep_id, "a");
  EXPECT_EQ(d.pool, "first");
  EXPECT_EQ(d.territory, "");
}

// ---------------------------------------------------------------- fallback and precedence

TEST(EngineFallbackTest, OverflowChainThenUnassigned) {
  RoutingRules rules;
  rules.reps = {Rep("a"), Rep("b"), Rep("c")};
  rules.reps[0].out_of_office.push_back({kNoon - days(1), kNoon + days(1)});
  rules.reps[1].max_open_leads = 1;
  rules.reps[2].skills = {"German"};
  rules.pools = {MakePool("A", {"a"}, Strategy::kWeightedRoundRobin, "B"),
                 MakePool("B", {"b"}, Strategy::kLeastLoaded, "C"), MakePool("C", {"c"})};
  rules.territories = {Territory{"west", {}, "A"}};
  auto engine = MustCreate(rules);
  RoutingState state;
  state.reps["b"].open_leads = 1;
  LeadFacts lead;
  lead.required_skills = {"german"};
  const RoutingDecision d = engine->Route(lead, kNoon, state);
  EXPECT_EQ(d.rep_id, "c");
  EXPECT_EQ(d.pool, "C");
  EXPECT_EQ(d.pools_tried, (std::vector<std::string>{"A", "B", "C"}));
  EXPECT_EQ(d.reason,
            "territory \"west\": nobody eligible in pool \"A\" -> \"B\"; overflow pool \"C\" "
            "(weighted_round_robin) chose c: 1.0 leads behind its share");
  ASSERT_EQ(d.candidates.size(), 3u);
  EXPECT_EQ(d.candidates[0].why, "out of office until 2026-05-07T12:00:00Z");
  EXPECT_EQ(d.candidates[1].why, "at capacity 1/1 open leads");
  EXPECT_TRUE(d.candidates[2].chosen);
  EXPECT_FALSE(state.pools.count("A"));
  EXPECT_FALSE(state.pools.count("B"));
  EXPECT_EQ(state.pools.at("C").step, 1);

  lead.required_skills = {"french"};
  const RoutingDecision none = engine->Route(lead, kNoon, state);
  EXPECT_FALSE(none.rep_id.has_value());
  EXPECT_EQ(none.pool, "");
  EXPECT_EQ(none.territory, "west");
  EXPECT_EQ(none.reason,
            "territory \"west\": nobody eligible in pool \"A\" -> \"B\" -> \"C\"; unassigned");
  EXPECT_EQ(none.candidates[2].why, "lacks skill \"french\"");
}

TEST(EngineFallbackTest, PoolRequiredSkills) {
  RoutingRules rules = OnePool({Rep("a"), Rep("b")});
  rules.reps[1].skills = {"Enterprise"};
  rules.pools[0].required_skills = {"enterprise"};
  auto engine = MustCreate(rules);
  RoutingState state;
  for (int i = 0; i < 5; ++i) {
    const RoutingDecision d = engine->Route({}, kNoon, state);
    EXPECT_EQ(d.rep_id, "b");
    EXPECT_EQ(Trace(d, "a")->why, "lacks skill \"enterprise\"");
  }
}

TEST(EnginePrecedenceTest, RepSourcedStaysWithItsRepWithoutTouchingThePool) {
  RoutingRules rules = OnePool({Rep("a"), Rep("b")});
  rules.reps[0].max_open_leads = 1;
  rules.reps[0].out_of_office.push_back({kNoon - days(1), kNoon + days(1)});
  auto engine = MustCreate(rules);
  RoutingState state;
  state.reps["a"].open_leads = 1;
  LeadFacts lead;
  lead.source_kind = "rep_sourced";
  lead.sourced_by_rep_id = "a";
  lead.account_owner_rep_ids = {"b"};
  const RoutingDecision d = engine->Route(lead, kNoon, state);
  EXPECT_EQ(d.rep_id, "a");
  EXPECT_EQ(d.reason, "rep-sourced: stays with a who sourced it");
  EXPECT_EQ(d.pool, "");
  EXPECT_TRUE(state.pools.empty());
  EXPECT_EQ(state.reps.at("a").open_leads, 2);
  EXPECT_EQ(state.reps.at("a").assigned_on_day, 1);

  // Excluded: falls through to the account owner.
  lead.excluded_reps = {"a"};
  const RoutingDecision owner = engine->Route(lead, kNoon, state);
  EXPECT_EQ(owner.rep_id, "b");
  EXPECT_EQ(owner.reason, "account owner: b owns the lead's account");
  EXPECT_TRUE(state.pools.empty());

  // Unknown sourcing rep: falls through too.
  lead.sourced_by_rep_id = "ghost";
  lead.excluded_reps.clear();
  EXPECT_EQ(engine->Route(lead, kNoon, state).rep_id, "b");

  // Not REP_SOURCED: sourced_by_rep_id is ignored.
  lead.source_kind = "PARTNER";
  lead.sourced_by_rep_id = "a";
  EXPECT_EQ(engine->Route(lead, kNoon, state).rep_id, "b");
}

TEST(EnginePrecedenceTest, IneligibleAccountOwnerFallsThroughToThePool) {
  RoutingRules rules = OnePool({Rep("owner"), Rep("x")});
  rules.reps[0].daily_cap = 1;
  auto engine = MustCreate(rules);
  RoutingState state;
  LeadFacts lead;
  lead.account_owner_rep_ids = {"owner"};
  EXPECT_EQ(engine->Route(lead, kNoon, state).rep_id, "owner");
  const RoutingDecision d = engine->Route(lead, kNoon, state);
  EXPECT_EQ(d.rep_id, "x");
  EXPECT_EQ(d.candidates[0].why, "account owner, but at daily cap 1/1");
  EXPECT_EQ(state.pools.at("main").step, 1);
  lead.account_owner_rep_ids = {"ghost"};
  lead.excluded_reps = {"x"};
  const RoutingDecision none = engine->Route(lead, kNoon, state);
  EXPECT_FALSE(none.rep_id.has_value());
  EXPECT_EQ(none.candidates[0].why, "account owner, but not a configured rep");
}

TEST(EnginePrecedenceTest, SharedAccountGoesToTheFirstEligibleOwner) {
  RoutingRules rules = OnePool({Rep("first"), Rep("second"), Rep("x")});
  rules.reps[0].daily_cap = 1;
  auto engine = MustCreate(rules);
  RoutingState state;
  LeadFacts lead;
  lead.account_owner_rep_ids = {"first", "second"};
  const RoutingDecision one = engine->Route(lead, kNoon, state);
  EXPECT_EQ(one.rep_id, "first");
  EXPECT_EQ(one.reason, "account owner: first co-owns the lead's account");
  // "first" is at its cap now: the co-owner takes the next lead, not the pool.
  const RoutingDecision two = engine->Route(lead, kNoon, state);
  EXPECT_EQ(two.rep_id, "second");
  EXPECT_EQ(two.candidates[0].why, "account owner, but at daily cap 1/1");
  EXPECT_TRUE(state.pools.empty()) << "no rotation turn was used";
  lead.excluded_reps = {"second"};
  EXPECT_EQ(engine->Route(lead, kNoon, state).rep_id, "x");
}

// ---------------------------------------------------------------- least loaded

TEST(EngineLeastLoadedTest, PicksTheLowestRatio) {
  std::vector<RepProfile> reps = {Rep("big"), Rep("small"), Rep("uncapped")};
  reps[0].max_open_leads = 10;
  reps[1].max_open_leads = 4;
  auto engine = MustCreate(OnePool(reps, Strategy::kLeastLoaded));
  RoutingState state;
  state.reps["big"].open_leads = 5;    // 0.5
  state.reps["small"].open_leads = 1;  // 0.25
  RoutingDecision d = engine->Route({}, kNoon, state);
  EXPECT_EQ(d.rep_id, "uncapped");  // 0 open
  EXPECT_EQ(d.reason,
            "pool \"main\" (least_loaded) chose uncapped: lowest load 0 open leads (uncapped)");
  // Uncapped with 1 open counts as load 1: after every capped rep with room.
  d = engine->Route({}, kNoon, state);
  EXPECT_EQ(d.rep_id, "small");  // 1/4 < 5/10 < 1
  EXPECT_EQ(Trace(d, "big")->why, "eligible: load 5/10 open leads");
  d = engine->Route({}, kNoon, state);  // small 2/4 ties big 5/10
  const std::string tie_winner = *d.rep_id;
  EXPECT_TRUE(tie_winner == "small" || tie_winner == "big");
  EXPECT_EQ(state.pools.at("main").step, 3);
  EXPECT_EQ(state.pools.at("main").count.at("uncapped"), 1);
  EXPECT_TRUE(state.pools.at("main").credit.empty());
}

TEST(EngineLeastLoadedTest, TiesRotate) {
  auto engine =
      MustCreate(OnePool({Rep("w"), Rep("x"), Rep("y"), Rep("z")}, Strategy::kLeastLoaded));
  RoutingState state;
  std::map<std::string, int> wins;
  for (int s = 0; s < 400; ++s) {
    for (auto& [id, rc] : state.reps) rc.open_leads = 3;  // everyone equally loaded
    ++wins[*engine->Route({}, kNoon, state).rep_id];
  }
  for (const char* id : {"w", "x", "y", "z"}) {
    EXPECT_GE(wins[id], 60) << id;
    EXPECT_LE(wins[id], 140) << id;
  }
}

// ---------------------------------------------------------------- conversion weighted

TEST(EngineConversionTest, EffectiveWeightsAreClampedToHalfAndDouble) {
  auto engine = MustCreate(
      OnePool({Rep("star"), Rep("slow-1"), Rep("slow-2")}, Strategy::kConversionWeighted));
  RoutingState state;
  state.reps["star"].recent_assigned = 100;
  state.reps["star"].recent_converted = 100;
  state.reps["slow-1"].recent_assigned = 100;
  state.reps["slow-1"].recent_converted = 0;
  state.reps["slow-2"].recent_assigned = 100;
  state.reps["slow-2"].recent_converted = 0;
  // Unclamped: star 2.8×, slow 0.03×; clamped: 2 : 0.5 : 0.5, i.e. shares 2/3, 1/6, 1/6.
  for (int64_t n = 1; n <= 1200; ++n) {
    const RoutingDecision d = engine->Route({}, kNoon, state);
    ASSERT_TRUE(d.rep_id.has_value());
    const auto& count = state.pools.at("main").count;
    auto c = [&](const char* id) { return count.count(id) ? count.at(id) : 0; };
    // Effective quarter weights 8, 2, 2 (W = 12): Tijdeman bound with k = 3.
    ASSERT_LE(4 * std::abs(n * 8 - 12 * c("star")), 3 * 12) << n;
    ASSERT_LE(4 * std::abs(n * 2 - 12 * c("slow-1")), 3 * 12) << n;
    ASSERT_LE(4 * std::abs(n * 2 - 12 * c("slow-2")), 3 * 12) << n;
  }
  const RoutingDecision d = engine->Route({}, kNoon, state);
  EXPECT_NE(Trace(d, "star")->why.find("(weight 1, effective 2.00)"), std::string::npos)
      << Trace(d, "star")->why;
  EXPECT_NE(Trace(d, "slow-1")->why.find("(weight 1, effective 0.50)"), std::string::npos);
}

TEST(EngineConversionTest, WithoutHistoryItIsPlainWeightedRoundRobin) {
  RoutingRules rules = OnePool({Rep("a"), Rep("b")}, Strategy::kConversionWeighted);
  rules.pools[0].members[1].weight = 3;
  auto engine = MustCreate(rules);
  RoutingState state;
  for (int i = 0; i < 400; ++i) engine->Route({}, kNoon, state);
  EXPECT_EQ(state.pools.at("main").count.at("a"), 100);
  EXPECT_EQ(state.pools.at("main").count.at("b"), 300);
}

// ---------------------------------------------------------------- Create

struct CreateCase {
  const char* name;
  void (*mutate)(RoutingRules&);
  std::string want;
};

RoutingRules ValidRules() {
  RoutingRules rules;
  rules.reps = {Rep("ada"), Rep("bob")};
  rules.pools = {MakePool("west", {"ada", "bob"}), MakePool("east", {"bob"})};
  rules.territories = {Territory{"us", {}, "west"}};
  return rules;
}

TEST(EngineCreateTest, ValidRulesAreAccepted) {
  auto e = Engine::Create(ValidRules());
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ((*e)->rules().pools.size(), 2u);
}

TEST(EngineCreateTest, RefusesBadRules) {
  const CreateCase cases[] = {
      {"duplicate_rep", [](RoutingRules& r) { r.reps.push_back(Rep("ada")); },
       "reps[2] (\"ada\"): duplicate rep id"},
      {"duplicate_pool", [](RoutingRules& r) { r.pools.push_back(MakePool("west", {"ada"})); },
       "pools[2] (\"west\"): duplicate pool name"},
      {"duplicate_territory",
       [](RoutingRules& r) {
         r.territories.push_back(Territory{"us", {}, "east"});
       },
       "territories[1] (\"us\"): duplicate territory name"},
      {"member_not_a_rep",
       [](RoutingRules& r) {
         r.pools[1].members.push_back({"rep-x", 1});
       },
       "pools[1] (\"east\"): member \"rep-x\" is not a rep"},
      {"duplicate_member",
       [](RoutingRules& r) {
         r.pools[1].members.push_back({"bob", 2});
       },
       "pools[1] (\"east\"): member \"bob\" listed twice"},
      {"weight_zero", [](RoutingRules& r) { r.pools[0].members[0].weight = 0; },
       "pools[0] (\"west\"): member \"ada\" weight 0 outside 1..1000"},
      {"weight_too_big", [](RoutingRules& r) { r.pools[0].members[1].weight = 1001; },
       "pools[0] (\"west\"): member \"bob\" weight 1001 outside 1..1000"},
      {"empty_pool", [](RoutingRules& r) { r.pools[1].members.clear(); },
       "pools[1] (\"east\"): has no members"},
      {"territory_unknown_pool", [](RoutingRules& r) { r.territories[0].pool = "north"; },
       "territories[0] (\"us\"): pool \"north\" is not a pool"},
      {"unknown_overflow", [](RoutingRules& r) { r.pools[0].overflow_pool = "north"; },
       "pools[0] (\"west\"): overflow pool \"north\" is not a pool"},
      {"overflow_cycle",
       [](RoutingRules& r) {
         r.pools[0].overflow_pool = "east";
         r.pools[1].overflow_pool = "west";
       },
       "pools[0] (\"west\"): overflow cycle \"west\" -> \"east\" -> \"west\""},
      {"overflow_self", [](RoutingRules& r) { r.pools[1].overflow_pool = "east"; },
       "pools[1] (\"east\"): overflow cycle \"east\" -> \"east\""},
      {"unknown_time_zone", [](RoutingRules& r) { r.reps[1].timezone = "Mars/Olympus_Mons"; },
       "reps[1] (\"bob\"): unknown time zone \"Mars/Olympus_Mons\""},
      {"bad_day",
       [](RoutingRules& r) {
         r.reps[0].working_hours = WorkingHours{{0, 7}, 0, 60};
       },
       "reps[0] (\"ada\"): working_hours day 7 outside 0..6"},
      {"bad_minute",
       [](RoutingRules& r) {
         r.reps[0].working_hours = WorkingHours{{0}, -5, 60};
       },
       "reps[0] (\"ada\"): working_hours start_minute -5 outside 0..1440"},
      {"bad_end_minute",
       [](RoutingRules& r) {
         r.reps[0].working_hours = WorkingHours{{0}, 0, 1441};
       },
       "reps[0] (\"ada\"): working_hours end_minute 1441 outside 0..1440"},
      {"bad_range",
       [](RoutingRules& r) {
         r.territories[0].match.min_employees = 10;
         r.territories[0].match.max_employees = 5;
       },
       "territories[0] (\"us\"): min_employees 10 > max_employees 5"},
  };
  for (const CreateCase& c : cases) {
    RoutingRules rules = ValidRules();
    c.mutate(rules);
    auto e = Engine::Create(rules);
    ASSERT_FALSE(e.ok()) << c.name;
    EXPECT_EQ(e.status().code(), absl::StatusCode::kInvalidArgument) << c.name;
    EXPECT_NE(std::string(e.status().message()).find(c.want), std::string::npos)
        << c.name << ": " << e.status().message();
  }
}

TEST(EngineCreateTest, ReportsEveryErrorAtOnce) {
  RoutingRules rules = ValidRules();
  rules.reps[0].timezone = "Nowhere/Land";
  rules.pools[1].members[0].weight = -1;
  auto e = Engine::Create(rules);
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.status().message(),
            "reps[0] (\"ada\"): unknown time zone \"Nowhere/Land\"; pools[1] (\"east\"): member "
            "\"bob\" weight -1 outside 1..1000");
}

}  // namespace
}  // namespace leadrouter::routing

namespace leadrouter::routing {
namespace {

// AdminService overrides live in the routing state: pause, extra absences, caps.
TEST(EngineOverridesTest, PausedAbsentAndCappedRepsAreSkippedWithTheReason) {
  const auto engine = MustCreate(OnePool({Rep("a"), Rep("b"), Rep("c")}));
  ASSERT_NE(engine, nullptr);
  RoutingState state;
  state.reps["a"].paused = true;
  state.reps["b"].extra_out_of_office.push_back({kNoon - hours{1}, kNoon + hours{1}});
  const RoutingDecision first = engine->Route(LeadFacts{}, kNoon, state);
  ASSERT_TRUE(first.rep_id.has_value());
  EXPECT_EQ(*first.rep_id, "c");
  ASSERT_NE(Trace(first, "a"), nullptr);
  EXPECT_EQ(Trace(first, "a")->why, "paused by an admin");
  ASSERT_NE(Trace(first, "b"), nullptr);
  EXPECT_NE(Trace(first, "b")->why.find("out of office until"), std::string::npos);

  // c's cap override of 1 is now reached: nobody is left.
  state.reps["c"].max_open_override = 1;
  EXPECT_FALSE(engine->Route(LeadFacts{}, kNoon, state).rep_id.has_value());
  EXPECT_EQ(EffectiveMaxOpen(Rep("c"), state.reps["c"]), 1);
  // The override replaces the config's cap; 0 means no cap.
  state.reps["c"].max_open_override = 0;
  EXPECT_EQ(engine->Route(LeadFacts{}, kNoon, state).rep_id.value_or(""), "c");
  state.reps["c"].daily_cap_override = 2;  // c has 2 today now
  EXPECT_FALSE(engine->Route(LeadFacts{}, kNoon, state).rep_id.has_value());
  // After the window, b is back.
  EXPECT_EQ(engine->Route(LeadFacts{}, kNoon + hours{2}, state).rep_id.value_or(""), "b");
}

}  // namespace
}  // namespace leadrouter::routing
