#include "leadrouter/simulate/simulate.h"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "leadrouter/core/hash.h"
#include "leadrouter/decide/batch.h"
#include "leadrouter/decide/decode_record.h"
#include "leadrouter/decide/memory_store.h"
#include "leadrouter/decide/outcome.h"
#include "leadrouter/lead/decode.h"
#include "leadrouter/lead/validate.h"
#include "leadrouter/routing/engine.h"

namespace leadrouter::simulate {
namespace {

using decide::ToTimePoint;

// The daemon retries the unassigned queue every second, up to 100 leads; and expires up to 100
// leads per pass.
constexpr auto kQueueRetryInterval = std::chrono::seconds(1);
constexpr size_t kQueueRetryBatch = 100;
constexpr size_t kExpiryBatch = 100;
constexpr char kSimulatedActor[] = "simulate";

std::string FormatUtc(core::TimePoint t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::FromChrono(t), absl::UTCTimeZone());
}

bool IsCatchAll(const routing::TerritoryMatch& m) {
  return m.countries.empty() && m.regions.empty() && m.postal_prefixes.empty() &&
         m.industries.empty() && m.segments.empty() && m.source_kinds.empty() &&
         m.domains.empty() && !m.min_employees && !m.max_employees && !m.min_revenue_usd &&
         !m.max_revenue_usd;
}

// Classifies an ineligible candidate's "why" (see Engine::Compiled::Ineligible).
void CountSkip(const std::string& why, RepRow& rep) {
  if (absl::StrContains(why, "at daily cap")) {
    ++rep.skipped_daily_cap;
  } else if (absl::StrContains(why, "at capacity")) {
    ++rep.skipped_max_open;
  } else if (absl::StrContains(why, "out of office")) {
    ++rep.skipped_out_of_office;
  } else if (absl::StrContains(why, "outside working hours")) {
    ++rep.skipped_off_hours;
  } else {
    ++rep.skipped_other;
  }
}

std::string QualificationReason(const v1::Qualification& q) {
  const std::string reasons = absl::StrJoin(q.reasons(), ", ");
  // Threshold reasons already carry the score ("score 14 < nurture 15").
  if (absl::StartsWith(reasons, "score ")) return reasons;
  return reasons.empty() ? absl::StrCat("score ", q.score())
                         : absl::StrCat("score ", q.score(), ": ", reasons);
}

// The return rate that applies to `lead`: by source_system, then source_kind, then "*".
double ReturnRateOf(const Options& options, const v1::LeadEvent& lead) {
  if (options.return_rate.empty()) return 0;
  for (const std::string& key :
       {absl::AsciiStrToLower(lead.source_system()),
        absl::AsciiStrToLower(decide::ShortSourceKind(lead.source_kind())), std::string("*")}) {
    if (auto it = options.return_rate.find(key); !key.empty() && it != options.return_rate.end()) {
      return it->second;
    }
  }
  return 0;
}

// Whether the simulated rep returns this lead: a hash of its event id against the rate, so the
// same leads are returned on every run and under every config.
bool Returns(const std::string& event_id, double rate) {
  if (rate <= 0) return false;
  const std::string digest = core::Sha256Hex(absl::StrCat("simulated return\n", event_id), 8);
  const double draw = static_cast<double>(std::stoull(digest, nullptr, 16)) / 4294967296.0;
  return draw < rate;
}

bool IsBlank(const std::string& line) {
  for (char c : line) {
    if (!absl::ascii_isspace(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

}  // namespace

const char* LeadOutcomeName(LeadOutcome outcome) {
  switch (outcome) {
    case LeadOutcome::kAssigned:
      return "assigned";
    case LeadOutcome::kUnassigned:
      return "unassigned";
    case LeadOutcome::kNurture:
      return "nurture";
    case LeadOutcome::kDisqualified:
      return "disqualified";
    case LeadOutcome::kDuplicate:
      return "duplicate";
    case LeadOutcome::kReplayed:
      return "replayed";
    case LeadOutcome::kInvalid:
      return "invalid";
  }
  return "unknown";
}

Report Simulate(const config::Config& config, const std::vector<std::string>& jsonl_lines,
                const Options& options) {
  Report report;
  report.config_version = config.version;
  const routing::RoutingRules& rules = config.routing;

  // Reps in config order (config.reps carries the names; routing rules the same ids).
  std::map<std::string, size_t> rep_at;
  for (const config::RepConfig& r : config.reps) {
    rep_at.emplace(r.id, report.reps.size());
    report.reps.push_back(RepRow{.id = r.id, .name = r.name.empty() ? r.id : r.name});
  }
  for (const routing::RepProfile& r : rules.reps) {
    if (rep_at.emplace(r.id, report.reps.size()).second) {
      report.reps.push_back(RepRow{.id = r.id, .name = r.id});
    }
  }
  auto rep_row = [&](const std::string& id) -> RepRow& {
    auto [it, inserted] = rep_at.emplace(id, report.reps.size());
    if (inserted) report.reps.push_back(RepRow{.id = id, .name = id});
    return report.reps[it->second];
  };

  std::map<std::string, size_t> pool_at;
  for (const routing::Pool& p : rules.pools) {
    PoolRow row{.name = p.name, .strategy = std::string(routing::StrategyName(p.strategy))};
    for (const routing::PoolMember& m : p.members) {
      row.members.push_back(absl::StrCat(m.rep_id, " (weight ", m.weight, ")"));
    }
    pool_at.emplace(p.name, report.pools.size());
    report.pools.push_back(std::move(row));
  }
  std::map<std::string, size_t> territory_at;
  for (const routing::Territory& t : rules.territories) {
    territory_at.emplace(t.name, report.territories.size());
    report.territories.push_back(
        TerritoryRow{.name = t.name, .pool = t.pool, .catch_all = IsCatchAll(t.match)});
  }

  const core::TimePoint validation_now =
      options.validation_now.value_or(std::chrono::system_clock::now());
  const size_t max_bytes = config.kafka.max_event_bytes > 0
                               ? static_cast<size_t>(config.kafka.max_event_bytes)
                               : static_cast<size_t>(1) << 20;
  decide::MemoryStore store(config.redis.idempotency_ttl);
  for (const auto& [rep_id, window] : options.out_of_office) {
    store.mutable_state().reps[rep_id].extra_out_of_office.push_back(window);
  }
  const std::unique_ptr<const dedupe::KeyMaker> key_maker = decide::KeyMakerFor(config);
  std::map<std::string, int> first_line_of;  // event id -> line that decided it
  std::optional<core::TimePoint> previous;
  std::optional<core::TimePoint> last_queue_retry;

  // Each line decoded as the daemon decodes a record: a native LeadEvent, or with
  // `options.source` that source's payload, which may carry several events (or none, filtered).
  struct Input {
    int line = 0;
    v1::LeadEvent event;
    std::optional<lead::Rejection> rejection;
  };
  std::vector<Input> inputs;
  for (size_t i = 0; i < jsonl_lines.size(); ++i) {
    std::string line = jsonl_lines[i];
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (IsBlank(line)) continue;
    ++report.counts.lines;
    const int number = static_cast<int>(i + 1);
    if (options.source) {
      decide::DecodedRecord record =
          decide::DecodeRecord(config, line, std::nullopt, *options.source, "", validation_now);
      if (!record.transient.ok()) {
        // A what-if never calls a third party: an enriching source's records (HubSpot webhook
        // events name a contact, they do not carry it) are mapped with `leadrouter map` first.
        const std::string detail = absl::StrCat(
            record.transient.message(),
            " (simulate calls no API: map the records with `leadrouter map`, then simulate the "
            "LeadEvents it prints)");
        inputs.push_back(
            {number, {}, lead::Rejection{lead::RejectReason::kUnmappable, detail, detail}});
        continue;
      }
      if (record.rejection) inputs.push_back({number, {}, std::move(record.rejection)});
      for (v1::LeadEvent& event : record.events) inputs.push_back({number, std::move(event), {}});
      continue;
    }
    lead::DecodeResult decoded =
        lead::DecodeLeadEvent(line, std::string_view("application/json"), max_bytes,
                              lead::DecodeOptions{config.ingest.unknown_fields});
    if (auto* rejected = std::get_if<lead::Rejection>(&decoded)) {
      inputs.push_back({number, {}, std::move(*rejected)});
    } else {
      inputs.push_back({number, std::move(std::get<v1::LeadEvent>(decoded)), {}});
    }
  }

  // A re-route after a return or expiry, or from the queue, that found a rep (or recycled it).
  auto count_reroute = [&](const v1::AssignmentEvent& event) {
    if (event.status() == v1::ASSIGNMENT_STATUS_ASSIGNED) {
      ++report.counts.rerouted;
      ++rep_row(event.rep_id()).leads;
    } else if (event.status() == v1::ASSIGNMENT_STATUS_RECYCLED) {
      ++report.counts.recycled;
    }
  };
  // What happens between leads, as the daemon's timers do it: SLA expiry, the queue retry.
  auto advance_to = [&](core::TimePoint now) {
    if (options.unaccepted) {
      for (;;) {
        const decide::LeadUpdate expired = store.RunExpireDue(config, now, kExpiryBatch);
        for (const auto& event : expired.events) {
          if (event->status() == v1::ASSIGNMENT_STATUS_EXPIRED) {
            ++report.counts.expired;
            ++rep_row(event->rep_id()).expired;
          } else {
            count_reroute(*event);
          }
        }
        if (expired.events.empty()) break;
      }
    }
    if (store.QueueLength() > 0 &&
        (!last_queue_retry || now - *last_queue_retry >= kQueueRetryInterval ||
         now < *last_queue_retry)) {
      last_queue_retry = now;
      const decide::RetryDecision retried =
          store.RunRetry(config, key_maker.get(), kQueueRetryBatch, now);
      for (const auto& outcome : retried.assigned) count_reroute(outcome->assignment());
    }
  };

  bool claimed = options.claims.empty() || key_maker == nullptr;
  for (const Input& input : inputs) {
    LeadRow row;
    row.line = input.line;
    // An invalid line is reported with the reason the daemon would dead-letter it with.
    auto reject = [&report, &row](const lead::Rejection& rejected) {
      row.outcome = LeadOutcome::kInvalid;
      const std::string name(lead::RejectReasonName(rejected.reason));
      row.reason = absl::StrCat(name, ": ", rejected.detail);
      ++report.counts.invalid;
      ++report.counts.invalid_by_reason[name];
      report.leads.push_back(std::move(row));
    };
    if (input.rejection) {
      reject(*input.rejection);
      continue;
    }
    const v1::LeadEvent& event = input.event;
    row.event_id = event.event_id();
    row.company = event.company().name();
    if (event.has_occurred_at()) row.occurred_at = FormatUtc(ToTimePoint(event.occurred_at()));

    if (const std::optional<lead::Rejection> rejected =
            lead::ValidateLeadEvent(event, validation_now)) {
      reject(*rejected);
      continue;
    }

    const core::TimePoint now = ToTimePoint(event.occurred_at());
    if (previous && now < *previous) ++report.clock_went_backwards;
    previous = now;
    advance_to(now);
    if (!claimed) {  // the what-if's claims hold from the first lead on
      claimed = true;
      for (const auto& [rep_id, domain] : options.claims) {
        absl::StatusOr<dedupe::ClaimDecision> decision =
            store.RunClaim(config, *key_maker, domain, core::RepId(rep_id), now);
        if (decision.ok() && dedupe::IsOwner(decision->owners_after, rep_id)) ++report.claims_owned;
      }
    }

    decide::BatchDecision decided = store.RunBatch(config, key_maker.get(), {&event}, now);
    decide::LeadResult& result = decided.results.front();
    // Idempotency: only valid events claim their id (invalid ones are dead-lettered unstored).
    auto [first_line, first] = first_line_of.emplace(event.event_id(), row.line);
    if (result.replayed) {
      row.outcome = LeadOutcome::kReplayed;
      row.reason = absl::StrCat("repeats event id of line ", first ? row.line : first_line->second,
                                "; replayed, not routed again");
      ++report.counts.replayed;
      report.leads.push_back(std::move(row));
      continue;
    }
    const v1::EventOutcome& outcome = *result.outcome;
    if (outcome.has_nurture()) {
      const v1::Qualification& q = outcome.nurture().qualification();
      row.score = q.score();
      row.reason = QualificationReason(q);
      if (q.outcome() == v1::QUALIFICATION_OUTCOME_NURTURE) {
        row.outcome = LeadOutcome::kNurture;
        ++report.counts.nurture;
      } else {
        row.outcome = LeadOutcome::kDisqualified;
        ++report.counts.disqualified;
        // Threshold reasons carry each lead's score; bucket them so the counts stay few.
        std::string key = absl::StrJoin(q.reasons(), ", ");
        if (key.empty()) key = "(no reason)";
        if (absl::StartsWith(key, "score ")) key = "score below the nurture threshold";
        ++report.counts.disqualified_by_reason[key];
      }
      report.leads.push_back(std::move(row));
      continue;
    }

    const v1::AssignmentEvent& a = outcome.assignment();
    row.score = a.qualification().score();
    if (a.status() == v1::ASSIGNMENT_STATUS_DUPLICATE) {
      row.outcome = LeadOutcome::kDuplicate;
      row.rep_id = a.rep_id();
      row.territory = a.territory();
      row.pool = a.pool();
      row.reason = a.reason();
      ++report.counts.duplicates;
      report.leads.push_back(std::move(row));
      continue;
    }

    const routing::RoutingDecision& route = *result.route;
    for (const routing::CandidateTrace& c : route.candidates) {
      if (c.chosen || absl::StartsWith(c.why, "eligible: ")) continue;
      CountSkip(c.why, rep_row(c.rep_id));
    }
    // Every pool tried except the one that assigned had nobody eligible.
    for (const std::string& p : route.pools_tried) {
      if (p == route.pool) continue;
      if (auto it = pool_at.find(p); it != pool_at.end())
        ++report.pools[it->second].nobody_eligible;
    }

    const bool direct = route.rep_id.has_value() && route.pool.empty();
    if (direct) {
      ++report.bypassed_territories;
    } else if (!route.territory.empty()) {
      if (auto it = territory_at.find(route.territory); it != territory_at.end()) {
        TerritoryRow& t = report.territories[it->second];
        ++t.leads;
        if (route.rep_id) ++t.assigned;
        if (t.catch_all) ++report.fell_to_catch_all;
      }
    } else if (!rules.territories.empty()) {
      ++report.matched_no_territory;
    }

    row.territory = route.territory;
    row.pool = route.pool;
    row.reason = route.reason;
    if (route.rep_id) {
      row.outcome = LeadOutcome::kAssigned;
      row.rep_id = *route.rep_id;
      ++report.counts.assigned;
      if (result.match == decide::LeadResult::Match::kAccount) ++report.counts.account_owner;
      RepRow& rep = rep_row(*route.rep_id);
      ++rep.leads;
      if (direct) ++rep.direct;
      if (auto it = pool_at.find(route.pool); it != pool_at.end()) {
        PoolRow& pool = report.pools[it->second];
        ++pool.leads;
        if (route.pools_tried.size() > 1) ++pool.via_overflow;
      }
      if (Returns(event.event_id(), ReturnRateOf(options, event))) {
        auto returned = store.RunReturn(config, core::LeadId(a.lead_id()), core::RepId(a.rep_id()),
                                        v1::RETURN_REASON_OTHER, "simulated (--return-rate)",
                                        kSimulatedActor, now);
        if (returned.ok()) {
          ++report.counts.returned;
          ++rep.returned;
          for (size_t e = 1; e < returned->events.size(); ++e) count_reroute(*returned->events[e]);
          absl::StrAppend(&row.reason, "; returned (simulated)");
        }
      }
    } else {
      row.outcome = LeadOutcome::kUnassigned;
      ++report.counts.unassigned;
    }
    report.leads.push_back(std::move(row));
  }

  // Target shares: per pool, weight / total weight, against the leads the pool placed.
  std::map<std::pair<std::string, std::string>, int64_t> by_pool_rep;
  for (const LeadRow& row : report.leads) {
    if (row.outcome == LeadOutcome::kAssigned && !row.pool.empty()) {
      ++by_pool_rep[{row.pool, row.rep_id}];
    }
  }
  for (size_t p = 0; p < rules.pools.size(); ++p) {
    const routing::Pool& pool = rules.pools[p];
    int64_t total = 0;
    for (const routing::PoolMember& m : pool.members) total += m.weight;
    for (const routing::PoolMember& m : pool.members) {
      PoolShare share{.pool = pool.name, .weight = m.weight, .pool_weight = total};
      share.target_share = total > 0 ? static_cast<double>(m.weight) / total : 0.0;
      share.leads = by_pool_rep[{pool.name, m.rep_id}];
      share.expected = static_cast<double>(report.pools[p].leads) * share.target_share;
      share.deviation = static_cast<double>(share.leads) - share.expected;
      rep_row(m.rep_id).pools.push_back(std::move(share));
    }
  }
  for (RepRow& rep : report.reps) {
    rep.target = static_cast<double>(rep.direct);
    for (const PoolShare& s : rep.pools) rep.target += s.expected;
  }
  return report;
}

namespace {

// A time of an --ooo window: RFC 3339, or a date (its start; its end when `end_of_day`).
std::optional<core::TimePoint> ParseWhen(const std::string& text, bool end_of_day) {
  absl::Time t;
  std::string error;
  if (absl::ParseTime(absl::RFC3339_full, text, &t, &error)) return absl::ToChronoTime(t);
  if (absl::ParseTime("%Y-%m-%d", text, absl::UTCTimeZone(), &t, &error)) {
    if (end_of_day) t += absl::Hours(24);
    return absl::ToChronoTime(t);
  }
  return std::nullopt;
}

}  // namespace

absl::Status ParseWhatIf(const config::Config& config, const std::vector<std::string>& return_rates,
                         const std::vector<std::string>& out_of_office,
                         const std::vector<std::string>& claims, Options& options) {
  for (const std::string& flag : return_rates) {
    const std::vector<std::string> parts = absl::StrSplit(flag, absl::MaxSplits('=', 1));
    double rate = 0;
    if (parts.size() != 2 || parts[0].empty() || !absl::SimpleAtod(parts[1], &rate) ||
        !(rate >= 0 && rate <= 1)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--return-rate \"", flag,
          "\": expected SOURCE=FRACTION with a fraction from 0 to 1, e.g. webinar=0.3 or *=0.1"));
    }
    options.return_rate[absl::AsciiStrToLower(parts[0])] = rate;
  }
  for (const std::string& flag : out_of_office) {
    const std::vector<std::string> parts = absl::StrSplit(flag, absl::MaxSplits('=', 1));
    const std::vector<std::string> ends = parts.size() == 2
                                              ? absl::StrSplit(parts[1], absl::MaxSplits("..", 1))
                                              : std::vector<std::string>{};
    const std::optional<core::TimePoint> from =
        ends.size() == 2 ? ParseWhen(ends[0], false) : std::nullopt;
    const std::optional<core::TimePoint> to =
        ends.size() == 2 ? ParseWhen(ends[1], true) : std::nullopt;
    if (!from || !to || !(*from < *to)) {
      return absl::InvalidArgumentError(
          absl::StrCat("--ooo \"", flag,
                       "\": expected REP=FROM..TO with RFC 3339 times or YYYY-MM-DD dates, FROM "
                       "before TO, e.g. rep-ada=2026-12-07..2026-12-11"));
    }
    if (config.FindRep(parts[0]) == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("--ooo \"", flag, "\": no rep \"", parts[0], "\" in the config"));
    }
    options.out_of_office.emplace_back(parts[0], routing::Absence{*from, *to});
  }
  for (const std::string& flag : claims) {
    const std::vector<std::string> parts = absl::StrSplit(flag, absl::MaxSplits('=', 1));
    if (parts.size() != 2 || parts[0].empty() || parts[1].empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--claim \"", flag, "\": expected REP=DOMAIN, e.g. rep-ada=acme.com"));
    }
    if (config.FindRep(parts[0]) == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("--claim \"", flag, "\": no rep \"", parts[0], "\" in the config"));
    }
    if (!config.dedupe.enabled) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--claim \"", flag, "\": claims need the dedupe section (accounts are matched by key)"));
    }
    absl::StatusOr<std::string> domain = decide::ClaimDomain(parts[1], "domain");
    if (!domain.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--claim \"", flag, "\": ", domain.status().message()));
    }
    options.claims.emplace_back(parts[0], *domain);
  }
  return absl::OkStatus();
}

std::vector<std::string> ClaimLines(const std::string& text) {
  std::vector<std::string> lines;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line.front() == '#') continue;
    lines.emplace_back(line);
  }
  return lines;
}

Diff Compare(const Report& baseline, const Report& candidate, size_t sample_limit) {
  Diff diff;
  diff.baseline_version = baseline.config_version;
  diff.candidate_version = candidate.config_version;
  diff.sample_limit = sample_limit;

  std::map<std::string, size_t> at;
  auto row = [&](const std::string& id, const std::string& name) -> RepDelta& {
    auto [it, inserted] = at.emplace(id, diff.reps.size());
    if (inserted) diff.reps.push_back(RepDelta{.rep_id = id, .name = name});
    return diff.reps[it->second];
  };
  for (const RepRow& r : baseline.reps) row(r.id, r.name).baseline = r.leads;
  for (const RepRow& r : candidate.reps) row(r.id, r.name).candidate = r.leads;
  for (RepDelta& d : diff.reps) d.delta = d.candidate - d.baseline;

  std::map<std::pair<int, std::string>, const LeadRow*> base_rows;
  for (const LeadRow& r : baseline.leads) base_rows[{r.line, r.event_id}] = &r;
  for (const LeadRow& c : candidate.leads) {
    const auto it = base_rows.find({c.line, c.event_id});
    if (it == base_rows.end()) continue;
    const LeadRow& b = *it->second;
    if (b.outcome == c.outcome && b.rep_id == c.rep_id) continue;
    ++diff.changed;
    if (diff.sample.size() >= sample_limit) continue;
    diff.sample.push_back(OwnerChange{.line = c.line,
                                      .event_id = c.event_id,
                                      .baseline_outcome = LeadOutcomeName(b.outcome),
                                      .candidate_outcome = LeadOutcomeName(c.outcome),
                                      .baseline_rep = b.rep_id,
                                      .candidate_rep = c.rep_id,
                                      .baseline_reason = b.reason,
                                      .candidate_reason = c.reason});
  }
  return diff;
}

}  // namespace leadrouter::simulate
