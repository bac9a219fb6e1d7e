// Routing-stage benchmarks: the pure engine, and the Assigner committing to a real Redis.
// The Redis benchmarks need LEADROUTER_BENCH_REDIS_PORT (scripts/bench.sh starts a server);
// without it they are skipped.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "leadrouter/config/config.h"
#include "leadrouter/dedupe/dedupe.h"
#include "leadrouter/normalize/normalize.h"
#include "leadrouter/pipeline/assigner.h"
#include "leadrouter/qualify/qualifier.h"

namespace leadrouter {
namespace {

constexpr char kConfig[] = R"(
kafka: {bootstrap_servers: k:1}
reps:
  - {id: r1}
  - {id: r2}
  - {id: r3}
  - {id: r4, timezone: America/New_York}
  - {id: r5, timezone: Europe/Berlin}
  - {id: r6}
  - {id: r7, skills: [de]}
pools:
  - name: main
    members: [{rep: r1, weight: 1}, {rep: r2, weight: 2}, {rep: r3, weight: 3}, {rep: r4, weight: 4},
              {rep: r5, weight: 5}, {rep: r6, weight: 6}, {rep: r7, weight: 7}]
  - {name: emea, members: [r5, r7], overflow: main}
territories:
  - {name: named, match: {domains: [bigco.example]}, pool: emea}
  - {name: emea, match: {countries: [DE, FR, GB]}, pool: emea}
  - {name: na, match: {countries: [US, CA], min_employees: 10}, pool: main}
  - {name: rest, pool: main}
)";

const config::Config& Config() {
  static const config::Config* const config = [] {
    auto parsed = config::ParseConfig(kConfig);
    if (!parsed.ok()) {
      std::fprintf(stderr, "routing_bench: %s\n", parsed.status().ToString().c_str());
      std::abort();
    }
    return new config::Config(*std::move(parsed));
  }();
  return *config;
}

v1::LeadEvent Lead(int64_t i) {
  static const char* const kCountries[] = {"US", "CA", "DE", "FR", "GB", "JP", "BR"};
  v1::LeadEvent lead;
  lead.set_event_id(absl::StrCat("bench-", i));
  lead.mutable_occurred_at()->set_seconds(1795440000);
  lead.set_source_kind(v1::LEAD_SOURCE_KIND_INBOUND_MARKETING);
  lead.mutable_person()->set_email(absl::StrCat("p", i, "@example.com"));
  lead.mutable_company()->set_country(kCountries[i % 7]);
  lead.mutable_company()->set_employee_count(5 + i % 5000);
  return lead;
}

// One routing decision (territory match, eligibility of every member, Tijdeman choice).
void BM_EngineRoute(benchmark::State& state) {
  const auto& engine = *Config().engine;
  routing::RoutingState routing_state;
  const core::TimePoint now = core::TimePoint(std::chrono::seconds(1795446000));
  int64_t i = 0;
  std::vector<routing::LeadFacts> facts(64);
  for (size_t f = 0; f < facts.size(); ++f) {
    facts[f].country = Lead(static_cast<int64_t>(f)).company().country();
    facts[f].employees = 5 + static_cast<int64_t>(f) * 97;
  }
  for (auto _ : state) {
    benchmark::DoNotOptimize(engine.Route(facts[i++ % facts.size()], now, routing_state));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_EngineRoute);

// Runs Assigner batches of `batch` leads from `make_lead` against the Redis of scripts/bench.sh
// (tenant `tenant`): leads/s. `next_lead` keeps event ids unique across runs on one server.
void RunAssignerBatches(benchmark::State& state, std::shared_ptr<const config::Config> config,
                        const std::string& tenant, int64_t batch,
                        v1::LeadEvent (*make_lead)(int64_t), int64_t& next_lead) {
  const char* port = std::getenv("LEADROUTER_BENCH_REDIS_PORT");
  if (port == nullptr) {
    state.SkipWithError("LEADROUTER_BENCH_REDIS_PORT not set (run scripts/bench.sh)");
    return;
  }
  store::RedisOptions options;
  options.port = std::atoi(port);
  options.tenant = tenant;
  auto store = store::AssignmentStore::Connect(options);
  if (!store.ok()) {
    state.SkipWithError(store.status().ToString().c_str());
    return;
  }
  core::FakeClock clock(core::TimePoint(std::chrono::seconds(1795446000)));
  pipeline::Assigner assigner(**store, std::move(config), clock);
  std::vector<v1::LeadEvent> leads(static_cast<size_t>(batch));
  std::vector<const v1::LeadEvent*> ptrs;
  for (const auto& lead : leads) ptrs.push_back(&lead);
  for (auto _ : state) {
    state.PauseTiming();
    for (auto& lead : leads) lead = make_lead(next_lead++);
    state.ResumeTiming();
    auto results = assigner.DecideBatch(ptrs);
    if (!results.ok()) {
      state.SkipWithError(results.status().ToString().c_str());
      return;
    }
  }
  state.SetItemsProcessed(state.iterations() * batch);
}

// Qualify + route + one atomic commit per batch against a real Redis: leads/s by batch size.
void BM_AssignerDecideBatch(benchmark::State& state) {
  static int64_t next_lead = 0;
  RunAssignerBatches(state, std::make_shared<const config::Config>(Config()),
                     absl::StrCat("bench", state.range(0)), state.range(0), &Lead, next_lead);
}
BENCHMARK(BM_AssignerDecideBatch)->Arg(1)->Arg(50)->Arg(500)->UseRealTime();

// A lead of the dedupe mix: every fifth lead is a person seen before (another spelling of an
// earlier lead's e-mail), every third works at an account seen before.
v1::LeadEvent DedupeLead(int64_t i) {
  v1::LeadEvent lead = Lead(i);
  const int64_t person = i % 5 == 4 ? i - 2 : i;
  lead.mutable_person()->set_email(
      absl::StrCat(" P.", person, "+webinar@Example-", person % 997, ".com"));
  lead.mutable_person()->set_phone(absl::StrCat("+1 415 555 ", 1000 + person % 9000));
  lead.mutable_company()->set_name(absl::StrCat("Company ", person % 997, ", Inc."));
  lead.mutable_company()->set_website(absl::StrCat("https://www.example-", person % 997, ".com/"));
  return lead;
}

// The pure half of dedupe: normalize e-mail, phone, domain and company name, HMAC each.
void BM_DedupeIdentity(benchmark::State& state) {
  const dedupe::KeyMaker maker("bench-dedupe-secret-0123456789", "US", true);
  std::vector<v1::LeadEvent> leads;
  for (int64_t i = 0; i < 64; ++i) leads.push_back(DedupeLead(i));
  size_t i = 0;
  for (auto _ : state) {
    const v1::LeadEvent& lead = leads[i++ % leads.size()];
    benchmark::DoNotOptimize(maker.IdentityOf(lead, qualify::CompanyDomain(lead)));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_DedupeIdentity);

// Phone numbers as leadgen writes them (random national numbers of several countries, most of
// them in no assigned range, so they take the fallback key), each seen once: what the phone key
// costs without help from the caches.
std::vector<std::pair<std::string, std::string>> UniquePhones() {
  static const char* const kCountries[][2] = {
      {"US", "1"}, {"DE", "49"}, {"JP", "81"}, {"GB", "44"}, {"BR", "55"}};
  std::vector<std::pair<std::string, std::string>> phones;
  for (int i = 0; i < 4096; ++i) {
    const auto& country = kCountries[i % 5];
    phones.emplace_back(
        absl::StrCat(i % 3 == 0 ? "00" : "+", country[1], " ", 200 + (i * 7919) % 700,
                     (i * 104729) % 1000, " ", 1000 + (i * 31) % 9000),
        country[0]);
  }
  return phones;
}

// Arg 0: NormalizePhone then PhoneFallbackKey (each parsing the text); arg 1: PhoneKeyForMatching
// (one parse shared). Both uncached.
void BM_PhoneKey(benchmark::State& state) {
  const auto phones = UniquePhones();
  size_t i = 0;
  for (auto _ : state) {
    const auto& [raw, region] = phones[i++ % phones.size()];
    if (state.range(0) == 0) {
      auto phone = normalize::uncached::NormalizePhone(raw, region);
      if (!phone.ok()) benchmark::DoNotOptimize(normalize::uncached::PhoneFallbackKey(raw, region));
      benchmark::DoNotOptimize(phone);
    } else {
      benchmark::DoNotOptimize(normalize::uncached::PhoneKeyForMatching(raw, region));
    }
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_PhoneKey)->Arg(0)->Arg(1);

// The Assigner with dedupe on (arg 1) or off (arg 0) against a real Redis, by batch size: the
// difference is the dedupe stage (identities, the person/account keys read in the batch's load,
// the earlier leads fetched for person matches, the keys written in the commit).
void BM_AssignerDedupe(benchmark::State& state) {
  const int64_t batch = state.range(0);
  const bool dedupe_on = state.range(1) != 0;
  auto config = std::make_shared<config::Config>(Config());
  config->dedupe.enabled = dedupe_on;
  config->dedupe.hmac_key = "bench-dedupe-secret-0123456789";
  static int64_t next_lead = 0;
  RunAssignerBatches(state, std::move(config), absl::StrCat("dedupe", batch, "-", dedupe_on), batch,
                     &DedupeLead, next_lead);
}
BENCHMARK(BM_AssignerDedupe)
    ->Args({1, 0})
    ->Args({1, 1})
    ->Args({500, 0})
    ->Args({500, 1})
    ->UseRealTime();

}  // namespace
}  // namespace leadrouter

BENCHMARK_MAIN();
