// The routing engine: territories → pool → strategy over eligible reps.
//
// Fairness (kWeightedRoundRobin, kConversionWeighted) is Tijdeman's chairman-assignment rule
// (R. Tijdeman, "The chairman assignment problem", Discrete Math. 32 (1980)), kept in integers:
// each pool keeps, per rep, a credit in weight units. With a fixed eligible set E of k reps and
// total weight W, after n steps credit_i = n·w_i − W·count_i, and the rule keeps
// |n·w_i/W − count_i| ≤ 1 − 1/(2(k−1)) < 1 at every prefix n. That holds only while E holds
// still: credits carried across a change of E are debts and claims against shares that no
// longer exist (a rep resumed after a pause, with the credit it left with, took its turn ahead
// of the reps whose share had been running meanwhile: 1.33 leads off for weights 1..7).
// So each pool stores the signature of its present set (PoolCounters::present: the members that
// could take a lead without lead-specific requirements, with their configured weights), and a
// step whose present set differs restarts the rule: every credit of the pool back to 0, then
// the usual choice. Each segment of steps with one present set is a fresh Tijdeman run, within
// the bound of its own k at every prefix, and nobody, absent or present, banks credit across
// segments: no catch-up flood and no debt. A change that reverts before the pool's next step is
// no change of the sequence and restarts nothing.
// A lead with lead-specific requirements (required skills, excluded previous holders) is not a
// roster change: it does not restart; the reps who can take it choose by the rule and only
// they gain credit; the bound is proven for the segment's unrestricted leads only.
//
// kConversionWeighted runs the same rule over effective weights in quarter-weight units:
// w_eff = clamp(w · rate_i / rate_pool, w/2, 2w), rate = (converted + 1) / (assigned + 10) over
// the rep's recent window (RepCounters.recent_*), rate_pool the same over the pool's eligible
// members. While the effective weights hold still, each rep stays within one lead of its
// effective share; every effective share is within [1/2, 2]× of the rep's configured weight
// relative to the others. Credits of such a pool are in quarter-weight units.
//
// kLeastLoaded picks the smallest open_leads / max_open_leads; a rep without a cap counts as
// capacity 1 (its load is its open-lead count), so it ranks after every capped rep that still
// has room once it holds a lead. Ties go to the smallest hash of (pool step, rep id).
//
// Territories: catch-alls (territories with an all-empty match) do not take part in the normal
// match; when no constrained territory matches, the LAST catch-all in config order takes the
// lead, and without one the lead is unassigned with reason "no territory matched". This keeps a
// catch-all from shadowing the territories after it under kFirstMatch.

#include "leadrouter/routing/engine.h"

#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"

namespace leadrouter::routing {
namespace {

__extension__ typedef __int128 Int128;

constexpr int64_t kMaxWeight = 1000;
constexpr int64_t kConversionScale = 4;  // effective weights in quarter-weight units

uint64_t Mix64(uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

// A deterministic tie-break key of (step, rep id): the same on every instance and build (FNV-1a,
// not std::hash), different per step so no rep and no list position is favoured.
uint64_t TieHash(int64_t step, const std::string& rep_id) {
  uint64_t h = 14695981039346656037ULL;
  for (unsigned char ch : rep_id) {
    h ^= ch;
    h *= 1099511628211ULL;
  }
  return Mix64(h ^ (static_cast<uint64_t>(step) * 0x9E3779B97F4A7C15ULL));
}

std::string Lower(const std::string& s) {
  return absl::AsciiStrToLower(s);
}

std::set<std::string> LowerSet(const std::set<std::string>& in) {
  std::set<std::string> out;
  for (const auto& s : in) out.insert(Lower(s));
  return out;
}

std::string PostalKey(const std::string& s) {
  std::string out;
  for (char ch : s) {
    if (ch != ' ')
      out.push_back(static_cast<char>(absl::ascii_tolower(static_cast<unsigned char>(ch))));
  }
  return out;
}

std::string Quote(const std::string& s) {
  return absl::StrCat("\"", s, "\"");
}

std::string Item(const char* list, size_t i, const std::string& name) {
  return absl::StrFormat("%s[%d] (\"%s\")", list, i, name);
}

int WeekdayIndex(absl::Weekday wd) {
  switch (wd) {
    case absl::Weekday::monday:
      return 0;
    case absl::Weekday::tuesday:
      return 1;
    case absl::Weekday::wednesday:
      return 2;
    case absl::Weekday::thursday:
      return 3;
    case absl::Weekday::friday:
      return 4;
    case absl::Weekday::saturday:
      return 5;
    case absl::Weekday::sunday:
      return 6;
  }
  return 0;
}

const char* const kDayNames[] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};

bool InsideWorkingHours(const WorkingHours& wh, absl::CivilSecond local) {
  const int wd = WeekdayIndex(absl::GetWeekday(local));
  const int minute = local.hour() * 60 + local.minute();
  if (wh.start_minute < wh.end_minute) {
    return wh.days.count(wd) > 0 && minute >= wh.start_minute && minute < wh.end_minute;
  }
  // The shift runs past midnight: [start, 24:00) on a listed day, [00:00, end) on the next.
  if (wh.days.count(wd) > 0 && minute >= wh.start_minute) return true;
  return wh.days.count((wd + 6) % 7) > 0 && minute < wh.end_minute;
}

std::string FormatUtc(core::TimePoint t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::FromChrono(t), absl::UTCTimeZone());
}

// "1.4": num/den with one decimal, for explanations only.
std::string Leads(Int128 num, Int128 den) {
  if (den <= 0) return "0.0";
  return absl::StrFormat("%.1f", static_cast<double>(num) / static_cast<double>(den));
}

bool IsCatchAll(const TerritoryMatch& m) {
  return m.countries.empty() && m.regions.empty() && m.postal_prefixes.empty() &&
         m.industries.empty() && m.segments.empty() && m.source_kinds.empty() &&
         m.domains.empty() && !m.min_employees && !m.max_employees && !m.min_revenue_usd &&
         !m.max_revenue_usd;
}

int Specificity(const TerritoryMatch& m) {
  return !m.countries.empty() + !m.regions.empty() + !m.postal_prefixes.empty() +
         !m.industries.empty() + !m.segments.empty() + !m.source_kinds.empty() +
         !m.domains.empty() + m.min_employees.has_value() + m.max_employees.has_value() +
         m.min_revenue_usd.has_value() + m.max_revenue_usd.has_value();
}

// A territory's match with its strings lower-cased (postal prefixes also without spaces).
struct CompiledMatch {
  std::set<std::string> countries, regions, industries, segments, source_kinds, domains;
  std::vector<std::string> postal_prefixes;
};

CompiledMatch CompileMatch(const TerritoryMatch& m) {
  CompiledMatch c;
  c.countries = LowerSet(m.countries);
  c.regions = LowerSet(m.regions);
  c.industries = LowerSet(m.industries);
  c.segments = LowerSet(m.segments);
  c.source_kinds = LowerSet(m.source_kinds);
  c.domains = LowerSet(m.domains);
  for (const auto& p : m.postal_prefixes) c.postal_prefixes.push_back(PostalKey(p));
  return c;
}

std::string ValueOrNone(const std::string& v) {
  return v.empty() ? "(none)" : v;
}

std::string List(const std::set<std::string>& s) {
  return absl::StrCat("[", absl::StrJoin(s, ", "), "]");
}

// "" when `value` is within the optional inclusive bounds; else why not. 0 is unknown.
std::string CheckRange(const char* field, int64_t value, const std::optional<int64_t>& lo,
                       const std::optional<int64_t>& hi) {
  if (!lo && !hi) return "";
  if (value <= 0) return absl::StrCat(field, " unknown");
  if (lo && value < *lo) return absl::StrCat(field, " ", value, " < min ", *lo);
  if (hi && value > *hi) return absl::StrCat(field, " ", value, " > max ", *hi);
  return "";
}

// "" when the lead matches; else the first failing field.
std::string Mismatch(const TerritoryMatch& m, const CompiledMatch& c, const LeadFacts& lead) {
  auto in = [](const std::set<std::string>& set, const std::string& v) {
    return set.empty() || set.count(Lower(v)) > 0;
  };
  if (!in(c.countries, lead.country)) {
    return absl::StrCat("country ", ValueOrNone(lead.country), " not in ", List(m.countries));
  }
  if (!in(c.regions, lead.region)) {
    return absl::StrCat("region ", ValueOrNone(lead.region), " not in ", List(m.regions));
  }
  if (!c.postal_prefixes.empty()) {
    const std::string postal = PostalKey(lead.postal_code);
    bool ok = false;
    for (const auto& p : c.postal_prefixes)
      ok = ok || (!postal.empty() && absl::StartsWith(postal, p));
    if (!ok) {
      return absl::StrCat("postal code ", ValueOrNone(lead.postal_code), " has no prefix in [",
                          absl::StrJoin(m.postal_prefixes, ", "), "]");
    }
  }
  if (!in(c.industries, lead.industry)) {
    return absl::StrCat("industry ", ValueOrNone(lead.industry), " not in ", List(m.industries));
  }
  if (!c.segments.empty()) {
    bool ok = false;
    for (const auto& s : lead.segments) ok = ok || c.segments.count(Lower(s)) > 0;
    if (!ok) return absl::StrCat("segments ", List(lead.segments), " not in ", List(m.segments));
  }
  if (!in(c.source_kinds, lead.source_kind)) {
    return absl::StrCat("source kind ", ValueOrNone(lead.source_kind), " not in ",
                        List(m.source_kinds));
  }
  if (!in(c.domains, lead.domain)) {
    return absl::StrCat("domain ", ValueOrNone(lead.domain), " not in ", List(m.domains));
  }
  std::string r = CheckRange("employees", lead.employees, m.min_employees, m.max_employees);
  if (!r.empty()) return r;
  return CheckRange("revenue_usd", lead.revenue_usd, m.min_revenue_usd, m.max_revenue_usd);
}

}  // namespace

std::string_view StrategyName(Strategy strategy) {
  switch (strategy) {
    case Strategy::kWeightedRoundRobin:
      return "weighted_round_robin";
    case Strategy::kLeastLoaded:
      return "least_loaded";
    case Strategy::kConversionWeighted:
      return "conversion_weighted";
  }
  return "unknown";
}

std::string PresentSignature(Strategy strategy,
                             std::vector<std::pair<std::string, int64_t>> present_members) {
  std::sort(present_members.begin(), present_members.end());
  uint64_t h = 14695981039346656037ULL;
  auto add = [&h](const std::string& bytes) {
    for (unsigned char ch : bytes) {
      h ^= ch;
      h *= 1099511628211ULL;
    }
    h ^= 0xff;  // a separator no id or number contains
    h *= 1099511628211ULL;
  };
  add(std::string(StrategyName(strategy)));
  for (const auto& [id, weight] : present_members) {
    add(id);
    add(std::to_string(weight));
  }
  return absl::StrFormat("%016x", h);
}

std::optional<size_t> ChooseTijdeman(const std::vector<std::string>& rep_ids,
                                     const std::vector<int64_t>& weights,
                                     const std::vector<bool>& eligible,
                                     const std::vector<int64_t>& credits, int64_t step) {
  // Exact for weights < 2^31, |credits| < 2^62 and fewer than 2^20 members (Int128 products).
  const size_t n = std::min({rep_ids.size(), weights.size(), eligible.size()});
  auto ok = [&](size_t i) { return eligible[i] && weights[i] > 0; };
  auto after = [&](size_t i) -> Int128 {  // c'_i: the credit after this step's gain
    return Int128{i < credits.size() ? credits[i] : 0} + weights[i];
  };
  Int128 total = 0;
  int64_t k = 0;
  std::optional<size_t> only;
  for (size_t i = 0; i < n; ++i) {
    if (!ok(i)) continue;
    total += weights[i];
    ++k;
    only = i;
  }
  if (k <= 1) return only;
  const Int128 m = 2 * Int128{k - 1};
  const Int128 top = (2 * Int128{k} - 3) * total;
  // a before b: earlier deadline N/w, then the smaller (step, id) hash.
  auto before = [&](size_t a, size_t b) {
    const Int128 lhs = (top - m * after(a)) * weights[b];
    const Int128 rhs = (top - m * after(b)) * weights[a];
    if (lhs != rhs) return lhs < rhs;
    const uint64_t ha = TieHash(step, rep_ids[a]), hb = TieHash(step, rep_ids[b]);
    if (ha != hb) return ha < hb;
    if (rep_ids[a] != rep_ids[b]) return rep_ids[a] < rep_ids[b];
    return a < b;
  };
  std::optional<size_t> best;
  for (size_t i = 0; i < n; ++i) {  // the reps at least δ behind their share
    if (!ok(i) || m * after(i) < total) continue;
    if (!best || before(i, *best)) best = i;
  }
  if (best) return best;
  for (size_t i = 0; i < n; ++i) {  // nobody is δ behind (only after eligibility changed)
    if (ok(i) && (!best || before(i, *best))) best = i;
  }
  return best;
}

struct Engine::Compiled {
  RoutingRules rules;
  std::map<std::string, size_t> rep_index;
  std::vector<absl::TimeZone> rep_tz;
  std::vector<std::set<std::string>> rep_skills;  // lower-cased
  std::map<std::string, size_t> pool_index;
  std::vector<std::optional<size_t>> overflow;     // per pool
  std::vector<std::set<std::string>> pool_skills;  // lower-cased
  std::vector<size_t> territory_pool;
  std::vector<CompiledMatch> territory_match;
  std::vector<int> territory_specificity;
  std::vector<bool> territory_catch_all;

  // "" when eligible, else why not. `pool` (may be null) adds its required skills.
  std::string Ineligible(size_t rep, const LeadFacts& lead, const std::set<std::string>* skills,
                         core::TimePoint now, const RoutingState& state) const;
  std::string LocalDay(size_t rep, core::TimePoint now) const {
    return absl::FormatCivilTime(
        absl::CivilDay(absl::ToCivilSecond(absl::FromChrono(now), rep_tz[rep])));
  }
  void Assign(size_t rep, core::TimePoint now, RoutingState& state) const;
  // Runs pool `p`'s strategy; on success returns the chosen rep and fills `why`.
  std::optional<size_t> RunPool(size_t p, const LeadFacts& lead, core::TimePoint now,
                                RoutingState& state, RoutingDecision& d, std::string& why) const;
  // The territory for `lead`, filling territories_tried.
  std::optional<size_t> MatchTerritory(const LeadFacts& lead, RoutingDecision& d) const;
};

std::string Engine::Compiled::Ineligible(size_t rep, const LeadFacts& lead,
                                         const std::set<std::string>* skills, core::TimePoint now,
                                         const RoutingState& state) const {
  const RepProfile& r = rules.reps[rep];
  if (lead.excluded_reps.count(r.id) > 0) return "excluded: had this lead before";
  const auto it = state.reps.find(r.id);
  const RepCounters none;
  const RepCounters& rc = it == state.reps.end() ? none : it->second;
  if (rc.paused) return "paused by an admin";
  for (const auto* windows : {&r.out_of_office, &rc.extra_out_of_office}) {
    for (const Absence& a : *windows) {
      if (a.from <= now && now < a.to) return absl::StrCat("out of office until ", FormatUtc(a.to));
    }
  }
  const absl::CivilSecond local = absl::ToCivilSecond(absl::FromChrono(now), rep_tz[rep]);
  if (r.working_hours && !InsideWorkingHours(*r.working_hours, local)) {
    return absl::StrFormat("outside working hours (local %s %04d-%02d-%02d %02d:%02d %s)",
                           kDayNames[WeekdayIndex(absl::GetWeekday(local))], local.year(),
                           local.month(), local.day(), local.hour(), local.minute(), r.timezone);
  }
  const int64_t max_open = EffectiveMaxOpen(r, rc);
  if (max_open > 0 && rc.open_leads >= max_open) {
    return absl::StrCat("at capacity ", rc.open_leads, "/", max_open, " open leads");
  }
  const int64_t daily_cap = EffectiveDailyCap(r, rc);
  if (daily_cap > 0) {
    const int64_t today =
        rc.day == absl::FormatCivilTime(absl::CivilDay(local)) ? rc.assigned_on_day : 0;
    if (today >= daily_cap) return absl::StrCat("at daily cap ", today, "/", daily_cap);
  }
  auto lacks = [&](const std::set<std::string>& need) -> std::string {
    for (const auto& s : need) {
      if (rep_skills[rep].count(Lower(s)) == 0) return absl::StrCat("lacks skill ", Quote(s));
    }
    return "";
  };
  if (skills != nullptr) {
    std::string why = lacks(*skills);
    if (!why.empty()) return why;
  }
  return lacks(lead.required_skills);
}

void Engine::Compiled::Assign(size_t rep, core::TimePoint now, RoutingState& state) const {
  RepCounters& rc = state.reps[rules.reps[rep].id];
  rc.open_leads += 1;
  std::string today = LocalDay(rep, now);
  if (rc.day != today) {
    rc.day = std::move(today);
    rc.assigned_on_day = 0;
  }
  rc.assigned_on_day += 1;
}

std::optional<size_t> Engine::Compiled::RunPool(size_t p, const LeadFacts& lead,
                                                core::TimePoint now, RoutingState& state,
                                                RoutingDecision& d, std::string& why) const {
  const Pool& pool = rules.pools[p];
  const size_t n = pool.members.size();
  std::vector<std::string> ids(n);
  std::vector<size_t> reps(n);
  std::vector<bool> eligible(n);
  std::vector<std::string> skipped(n);
  bool any = false;
  for (size_t i = 0; i < n; ++i) {
    ids[i] = pool.members[i].rep_id;
    reps[i] = rep_index.at(ids[i]);
    skipped[i] = Ineligible(reps[i], lead, &pool_skills[p], now, state);
    eligible[i] = skipped[i].empty();
    any = any || eligible[i];
  }
  const size_t first_trace = d.candidates.size();
  for (size_t i = 0; i < n; ++i) d.candidates.push_back({ids[i], false, skipped[i]});
  if (!any) return std::nullopt;

  // The present set: who could take a lead without this lead's own requirements. A new one
  // starts a segment: every credit back to 0 (see the header comment).
  std::vector<std::pair<std::string, int64_t>> present;
  for (size_t i = 0; i < n; ++i) {
    if (eligible[i] || Ineligible(reps[i], LeadFacts{}, &pool_skills[p], now, state).empty()) {
      present.emplace_back(ids[i], pool.members[i].weight);
    }
  }
  PoolCounters& pc = state.pools[pool.name];
  std::string signature = PresentSignature(pool.strategy, std::move(present));
  bool restarted = false;
  if (pc.present != signature) {
    restarted = !pc.present.empty();
    for (auto& [rep_id, credit] : pc.credit) credit = 0;
    pc.present = std::move(signature);
  }
  std::vector<std::string> notes(n);  // per eligible member, for the trace
  std::optional<size_t> chosen;
  switch (pool.strategy) {
    case Strategy::kWeightedRoundRobin:
    case Strategy::kConversionWeighted: {
      std::vector<int64_t> weights(n), credits(n);
      const bool conv = pool.strategy == Strategy::kConversionWeighted;
      Int128 sum_conv = 0, sum_assigned = 0;
      auto counters = [&](size_t i) -> std::pair<int64_t, int64_t> {
        const auto it = state.reps.find(ids[i]);
        if (it == state.reps.end()) return {0, 0};
        return {std::max<int64_t>(0, it->second.recent_converted),
                std::max<int64_t>(0, it->second.recent_assigned)};
      };
      if (conv) {
        for (size_t i = 0; i < n; ++i) {
          if (!eligible[i]) continue;
          const auto [c, a] = counters(i);
          sum_conv += c;
          sum_assigned += a;
        }
      }
      for (size_t i = 0; i < n; ++i) {
        const int64_t w = pool.members[i].weight;
        weights[i] = w;
        if (conv) {
          // 4w · ((c+1)/(a+10)) / ((C+1)/(A+10)), clamped to [2w, 8w] (quarter units).
          const auto [c, a] = counters(i);
          const Int128 num = Int128{kConversionScale} * w * (Int128{c} + 1) * (sum_assigned + 10);
          const Int128 den = (Int128{a} + 10) * (sum_conv + 1);
          const Int128 eff = num / den;
          weights[i] = static_cast<int64_t>(std::clamp<Int128>(
              eff, Int128{kConversionScale} * w / 2, Int128{kConversionScale} * w * 2));
        }
        const auto it = pc.credit.find(ids[i]);
        credits[i] = it == pc.credit.end() ? 0 : it->second;
      }
      chosen = ChooseTijdeman(ids, weights, eligible, credits, pc.step);
      if (!chosen) return std::nullopt;
      int64_t total = 0;
      for (size_t i = 0; i < n; ++i) total += eligible[i] ? weights[i] : 0;
      for (size_t i = 0; i < n; ++i) {
        if (!eligible[i]) continue;
        const int64_t after = credits[i] + weights[i];
        notes[i] = absl::StrCat(Leads(after, total), " leads behind its ",
                                conv ? "effective share" : "share");
        if (conv) {
          absl::StrAppend(
              &notes[i], " (weight ", pool.members[i].weight, ", effective ",
              absl::StrFormat("%.2f", static_cast<double>(weights[i]) / kConversionScale), ")");
        }
        pc.credit[ids[i]] = after - (i == *chosen ? total : 0);
      }
      break;
    }
    case Strategy::kLeastLoaded: {
      // load = open / capacity, capacity 1 when uncapped; compared as exact fractions.
      auto load = [&](size_t i) -> std::pair<int64_t, int64_t> {
        const auto it = state.reps.find(ids[i]);
        const int64_t open =
            it == state.reps.end() ? 0 : std::max<int64_t>(0, it->second.open_leads);
        const int64_t cap = EffectiveMaxOpen(rules.reps[reps[i]],
                                             it == state.reps.end() ? RepCounters{} : it->second);
        return {open, cap > 0 ? cap : 1};
      };
      auto capped = [&](size_t i) {
        const auto it = state.reps.find(ids[i]);
        return EffectiveMaxOpen(rules.reps[reps[i]],
                                it == state.reps.end() ? RepCounters{} : it->second) > 0;
      };
      for (size_t i = 0; i < n; ++i) {
        if (!eligible[i]) continue;
        const auto [open, cap] = load(i);
        notes[i] = capped(i) ? absl::StrCat("load ", open, "/", cap, " open leads")
                             : absl::StrCat("load ", open, " open leads (uncapped)");
        if (!chosen) {
          chosen = i;
          continue;
        }
        const auto [bo, bc] = load(*chosen);
        const Int128 lhs = Int128{open} * bc, rhs = Int128{bo} * cap;
        if (lhs < rhs ||
            (lhs == rhs && TieHash(pc.step, ids[i]) < TieHash(pc.step, ids[*chosen]))) {
          chosen = i;
        }
      }
      break;
    }
  }
  pc.step += 1;
  pc.count[ids[*chosen]] += 1;
  for (size_t i = 0; i < n; ++i) {
    if (!eligible[i]) continue;
    CandidateTrace& t = d.candidates[first_trace + i];
    t.chosen = i == *chosen;
    t.why = absl::StrCat(t.chosen ? "chosen: " : "eligible: ", notes[i]);
  }
  why = absl::StrCat("pool ", Quote(pool.name), " (", std::string(StrategyName(pool.strategy)),
                     ") chose ", ids[*chosen], ": ",
                     pool.strategy == Strategy::kLeastLoaded ? "lowest " : "", notes[*chosen]);
  if (restarted && pool.strategy != Strategy::kLeastLoaded) {
    absl::StrAppend(&why, " (rotation restarted: the present members changed)");
  }
  return reps[*chosen];
}

std::optional<size_t> Engine::Compiled::MatchTerritory(const LeadFacts& lead,
                                                       RoutingDecision& d) const {
  std::optional<size_t> best, catch_all;
  for (size_t t = 0; t < rules.territories.size(); ++t) {
    const Territory& ter = rules.territories[t];
    if (territory_catch_all[t]) {
      catch_all = t;
      d.territories_tried.push_back(ter.name + ": catch-all (used when nothing else matches)");
      continue;
    }
    const std::string miss = Mismatch(ter.match, territory_match[t], lead);
    d.territories_tried.push_back(absl::StrCat(ter.name, ": ", miss.empty() ? "matched" : miss));
    if (!miss.empty()) continue;
    if (rules.order == TerritoryOrder::kFirstMatch) return t;
    if (!best || territory_specificity[t] > territory_specificity[*best]) best = t;
  }
  if (best) return best;
  if (catch_all) {
    d.territories_tried.push_back(rules.territories[*catch_all].name + ": matched (catch-all)");
  }
  return catch_all;
}

Engine::Engine(std::unique_ptr<Compiled> compiled) : compiled_(std::move(compiled)) {}
Engine::~Engine() = default;

int64_t EffectiveMaxOpen(const RepProfile& rep, const RepCounters& counters) {
  return counters.max_open_override.value_or(rep.max_open_leads);
}

int64_t EffectiveDailyCap(const RepProfile& rep, const RepCounters& counters) {
  return counters.daily_cap_override.value_or(rep.daily_cap);
}

std::optional<Engine::RepStatus> Engine::StatusOf(const std::string& rep_id, core::TimePoint now,
                                                  const RoutingState& state) const {
  const Compiled& c = *compiled_;
  const auto it = c.rep_index.find(rep_id);
  if (it == c.rep_index.end()) return std::nullopt;
  return RepStatus{c.LocalDay(it->second, now),
                   c.Ineligible(it->second, LeadFacts{}, nullptr, now, state)};
}

const RoutingRules& Engine::rules() const {
  return compiled_->rules;
}

absl::StatusOr<std::shared_ptr<const Engine>> Engine::Create(RoutingRules rules) {
  auto c = std::make_unique<Compiled>();
  std::vector<std::string> errors;
  auto fail = [&](std::string item, std::string what) {
    errors.push_back(absl::StrCat(item, ": ", what));
  };

  for (size_t i = 0; i < rules.reps.size(); ++i) {
    const RepProfile& r = rules.reps[i];
    const std::string item = Item("reps", i, r.id);
    if (r.id.empty()) fail(item, "empty rep id");
    if (!c->rep_index.emplace(r.id, i).second) fail(item, "duplicate rep id");
    absl::TimeZone tz;
    if (!absl::LoadTimeZone(r.timezone, &tz)) fail(item, "unknown time zone " + Quote(r.timezone));
    c->rep_tz.push_back(tz);
    c->rep_skills.push_back(LowerSet(r.skills));
    if (r.working_hours) {
      for (int day : r.working_hours->days) {
        if (day < 0 || day > 6)
          fail(item, absl::StrCat("working_hours day ", day, " outside 0..6"));
      }
      for (auto [name, v] : {std::pair{"start_minute", r.working_hours->start_minute},
                             std::pair{"end_minute", r.working_hours->end_minute}}) {
        if (v < 0 || v > 24 * 60) {
          fail(item, absl::StrCat("working_hours ", name, " ", v, " outside 0..1440"));
        }
      }
    }
    if (r.max_open_leads < 0) fail(item, absl::StrCat("max_open_leads ", r.max_open_leads, " < 0"));
    if (r.daily_cap < 0) fail(item, absl::StrCat("daily_cap ", r.daily_cap, " < 0"));
    for (const Absence& a : r.out_of_office) {
      if (a.to < a.from) fail(item, "out_of_office ends before it starts");
    }
  }

  for (size_t i = 0; i < rules.pools.size(); ++i) {
    const Pool& p = rules.pools[i];
    const std::string item = Item("pools", i, p.name);
    if (p.name.empty()) fail(item, "empty pool name");
    if (!c->pool_index.emplace(p.name, i).second) fail(item, "duplicate pool name");
    if (p.members.empty()) fail(item, "has no members");
    std::set<std::string> seen;
    for (const PoolMember& m : p.members) {
      if (c->rep_index.count(m.rep_id) == 0)
        fail(item, "member " + Quote(m.rep_id) + " is not a rep");
      if (!seen.insert(m.rep_id).second) fail(item, "member " + Quote(m.rep_id) + " listed twice");
      if (m.weight < 1 || m.weight > kMaxWeight) {
        fail(item, absl::StrCat("member ", Quote(m.rep_id), " weight ", m.weight, " outside 1..",
                                kMaxWeight));
      }
    }
    c->pool_skills.push_back(LowerSet(p.required_skills));
  }
  for (size_t i = 0; i < rules.pools.size(); ++i) {
    const Pool& p = rules.pools[i];
    std::optional<size_t> next;
    if (!p.overflow_pool.empty()) {
      const auto it = c->pool_index.find(p.overflow_pool);
      if (it == c->pool_index.end()) {
        fail(Item("pools", i, p.name),
             "overflow pool " + Quote(p.overflow_pool) + " is not a pool");
      } else {
        next = it->second;
      }
    }
    c->overflow.push_back(next);
  }
  // Overflow cycles: walk from each pool; report a cycle once, at its lowest-index pool.
  for (size_t i = 0; i < rules.pools.size(); ++i) {
    std::vector<size_t> path = {i};
    std::set<size_t> seen = {i};
    for (std::optional<size_t> at = c->overflow[i]; at; at = c->overflow[*at]) {
      if (*at == i) {
        if (*std::min_element(path.begin(), path.end()) == i) {
          std::vector<std::string> names;
          for (size_t q : path) names.push_back(Quote(rules.pools[q].name));
          names.push_back(Quote(rules.pools[i].name));
          fail(Item("pools", i, rules.pools[i].name),
               "overflow cycle " + absl::StrJoin(names, " -> "));
        }
        break;
      }
      if (!seen.insert(*at).second) break;  // a cycle not through i: reported from inside it
      path.push_back(*at);
    }
  }

  std::set<std::string> territory_names;
  for (size_t i = 0; i < rules.territories.size(); ++i) {
    const Territory& t = rules.territories[i];
    const std::string item = Item("territories", i, t.name);
    if (t.name.empty()) fail(item, "empty territory name");
    if (!territory_names.insert(t.name).second) fail(item, "duplicate territory name");
    const auto it = c->pool_index.find(t.pool);
    if (it == c->pool_index.end()) {
      fail(item, "pool " + Quote(t.pool) + " is not a pool");
      c->territory_pool.push_back(0);
    } else {
      c->territory_pool.push_back(it->second);
    }
    const TerritoryMatch& m = t.match;
    if (m.min_employees && m.max_employees && *m.min_employees > *m.max_employees) {
      fail(item,
           absl::StrCat("min_employees ", *m.min_employees, " > max_employees ", *m.max_employees));
    }
    if (m.min_revenue_usd && m.max_revenue_usd && *m.min_revenue_usd > *m.max_revenue_usd) {
      fail(item, absl::StrCat("min_revenue_usd ", *m.min_revenue_usd, " > max_revenue_usd ",
                              *m.max_revenue_usd));
    }
    c->territory_match.push_back(CompileMatch(m));
    c->territory_specificity.push_back(Specificity(m));
    c->territory_catch_all.push_back(IsCatchAll(m));
  }

  if (!errors.empty()) return absl::InvalidArgumentError(absl::StrJoin(errors, "; "));
  c->rules = std::move(rules);
  return std::shared_ptr<const Engine>(new Engine(std::move(c)));
}

RoutingDecision Engine::Route(const LeadFacts& lead, core::TimePoint now,
                              RoutingState& state) const {
  const Compiled& c = *compiled_;
  RoutingDecision d;

  // 1. A rep-sourced lead stays with its rep (capacity and availability not checked).
  if (!lead.sourced_by_rep_id.empty() && absl::EqualsIgnoreCase(lead.source_kind, "REP_SOURCED")) {
    const std::string& id = lead.sourced_by_rep_id;
    const auto it = c.rep_index.find(id);
    if (it == c.rep_index.end()) {
      d.candidates.push_back({id, false, "sourced this lead, but is not a configured rep"});
    } else if (lead.excluded_reps.count(id) > 0) {
      d.candidates.push_back({id, false, "sourced this lead, but excluded: had this lead before"});
    } else {
      c.Assign(it->second, now, state);
      d.candidates.push_back({id, true, "chosen: sourced this lead"});
      d.rep_id = id;
      d.reason = absl::StrCat("rep-sourced: stays with ", id, " who sourced it");
      return d;
    }
  }

  // 2. An account owner, when eligible.
  for (const std::string& id : lead.account_owner_rep_ids) {
    const auto it = c.rep_index.find(id);
    if (it == c.rep_index.end()) {
      d.candidates.push_back({id, false, "account owner, but not a configured rep"});
    } else if (std::string why = c.Ineligible(it->second, lead, nullptr, now, state);
               !why.empty()) {
      d.candidates.push_back({id, false, "account owner, but " + why});
    } else {
      c.Assign(it->second, now, state);
      const char* owns = lead.account_owner_rep_ids.size() > 1 ? "co-owns" : "owns";
      d.candidates.push_back({id, true, absl::StrCat("chosen: ", owns, " the lead's account")});
      d.rep_id = id;
      d.reason = absl::StrCat("account owner: ", id, " ", owns, " the lead's account");
      return d;
    }
  }

  // 3. Territory → pool → overflow chain.
  std::optional<size_t> pool;
  std::string prefix;
  if (c.rules.territories.empty()) {
    if (c.rules.pools.empty()) {
      d.reason = "no pools configured; unassigned";
      return d;
    }
    pool = 0;
  } else {
    const std::optional<size_t> t = c.MatchTerritory(lead, d);
    if (!t) {
      d.reason = "no territory matched; unassigned";
      return d;
    }
    d.territory = c.rules.territories[*t].name;
    prefix = absl::StrCat("territory ", Quote(d.territory), ": ");
    pool = c.territory_pool[*t];
  }
  std::vector<bool> visited(c.rules.pools.size(), false);
  std::vector<std::string> empty_pools;
  for (std::optional<size_t> p = pool; p && !visited[*p]; p = c.overflow[*p]) {
    visited[*p] = true;
    const std::string& name = c.rules.pools[*p].name;
    d.pools_tried.push_back(name);
    std::string why;
    if (const std::optional<size_t> rep = c.RunPool(*p, lead, now, state, d, why)) {
      c.Assign(*rep, now, state);
      d.rep_id = c.rules.reps[*rep].id;
      d.pool = name;
      d.reason = prefix;
      if (!empty_pools.empty()) {
        absl::StrAppend(&d.reason, "nobody eligible in pool ", absl::StrJoin(empty_pools, " -> "),
                        "; overflow ");
      }
      absl::StrAppend(&d.reason, why);
      return d;
    }
    empty_pools.push_back(Quote(name));
  }
  d.reason = absl::StrCat(prefix, "nobody eligible in pool ", absl::StrJoin(empty_pools, " -> "),
                          "; unassigned");
  return d;
}

}  // namespace leadrouter::routing
