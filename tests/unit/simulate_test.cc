#include "leadrouter/simulate/simulate.h"

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "leadrouter/config/config.h"
#include "leadrouter/simulate/render.h"

namespace leadrouter::simulate {
namespace {

#ifndef LEADROUTER_SOURCE_DIR
#error "LEADROUTER_SOURCE_DIR must be defined for this test"
#endif

// Validation checks occurred_at against "now"; pin it so the tests do not depend on the date.
Options Pinned() {
  Options o;
  o.validation_now = std::chrono::system_clock::from_time_t(1'800'000'000);  // 2027-01-15
  return o;
}

config::Config MustParse(const std::string& yaml) {
  auto cfg = config::ParseConfig(yaml);
  EXPECT_TRUE(cfg.ok()) << cfg.status() << "\n" << yaml;
  return cfg.ok() ? *cfg : config::Config{};
}

// A valid lead in the US, occurring at `at` (UTC).
std::string Lead(const std::string& id, absl::CivilSecond at,
                 const std::string& company = "Acme Corp") {
  return absl::StrFormat(
      R"({"event_id":"%s","occurred_at":"%04d-%02d-%02dT%02d:%02d:%02dZ",)"
      R"("source_kind":"LEAD_SOURCE_KIND_INBOUND_MARKETING",)"
      R"("person":{"email":"buyer-%s@acme.example"},"company":{"name":"%s","country":"US"}})",
      id, at.year(), at.month(), at.day(), at.hour(), at.minute(), at.second(), id, company);
}

std::string WeightedConfig(const std::vector<int64_t>& weights) {
  std::string yaml = "kafka: {bootstrap_servers: 127.0.0.1:9092}\nreps:\n";
  for (size_t i = 0; i < weights.size(); ++i) {
    yaml += absl::StrFormat("  - {id: r%d, name: Rep Number %d}\n", i + 1, i + 1);
  }
  yaml += "pools:\n  - name: main\n    strategy: weighted_round_robin\n    members:\n";
  for (size_t i = 0; i < weights.size(); ++i) {
    yaml += absl::StrFormat("      - {rep: r%d, weight: %d}\n", i + 1, weights[i]);
  }
  return yaml;
}

std::vector<std::string> SyntheticLeads(int n) {
  std::vector<std::string> lines;
  const absl::CivilSecond start(2026, 11, 2, 0, 0, 0);
  for (int i = 0; i < n; ++i) lines.push_back(Lead(absl::StrFormat("syn-%04d", i), start + i * 60));
  return lines;
}

int64_t LeadsOf(const Report& r, const std::string& rep) {
  for (const RepRow& row : r.reps) {
    if (row.id == rep) return row.leads;
  }
  ADD_FAILURE() << "no rep " << rep;
  return -1;
}

std::vector<std::string> ReadLines(const std::string& path) {
  std::ifstream in(path);
  EXPECT_TRUE(in) << path;
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

const std::string kSource = LEADROUTER_SOURCE_DIR;

TEST(SimulateTest, WeightedPoolMatchesTheFairnessGuarantee) {
  const std::vector<int64_t> w = {1, 2, 3, 4};
  const int64_t big_w = 10;
  const int n = 300;
  const Report r = Simulate(MustParse(WeightedConfig(w)), SyntheticLeads(n), Pinned());
  EXPECT_EQ(r.counts.assigned, n);
  int64_t sum = 0;
  for (size_t i = 0; i < w.size(); ++i) {
    const int64_t count = LeadsOf(r, absl::StrFormat("r%d", i + 1));
    // |count - N*w/W| < 1, in integers.
    EXPECT_LT(std::llabs(big_w * count - n * w[i]), big_w) << "rep r" << i + 1;
    sum += count;
  }
  EXPECT_EQ(sum, n);

  // The same bound at every prefix, recomputed from the per-lead rows.
  std::map<std::string, int64_t> counts;
  int64_t step = 0;
  for (const LeadRow& row : r.leads) {
    ASSERT_EQ(row.outcome, LeadOutcome::kAssigned);
    ++counts[row.rep_id];
    ++step;
    for (size_t i = 0; i < w.size(); ++i) {
      const int64_t c = counts[absl::StrFormat("r%d", i + 1)];
      ASSERT_LT(std::llabs(big_w * c - step * w[i]), big_w) << "prefix " << step;
    }
  }

  // The report's target shares are weight / pool weight over the pool's leads.
  for (const RepRow& rep : r.reps) {
    ASSERT_EQ(rep.pools.size(), 1u);
    EXPECT_EQ(rep.pools[0].pool_weight, big_w);
    EXPECT_DOUBLE_EQ(rep.pools[0].expected, n * static_cast<double>(rep.pools[0].weight) / 10.0);
    EXPECT_LT(std::abs(rep.pools[0].deviation), 1.0);
  }
}

TEST(SimulateTest, RaisingOneWeightMovesLeadsOnlyTowardThatRep) {
  const std::vector<std::string> leads = SyntheticLeads(300);
  const Report base = Simulate(MustParse(WeightedConfig({1, 2, 3, 4})), leads, Pinned());
  const Report cand = Simulate(MustParse(WeightedConfig({1, 5, 3, 4})), leads, Pinned());
  const Diff diff = Compare(base, cand);

  // A rotation re-sequences which individual lead goes to whom, so lead-by-lead owners are not
  // comparable; per-rep counts and the diff's own consistency are.
  ASSERT_EQ(diff.reps.size(), 4u);
  int64_t total_delta = 0;
  for (const RepDelta& d : diff.reps) {
    EXPECT_EQ(d.baseline, LeadsOf(base, d.rep_id));
    EXPECT_EQ(d.candidate, LeadsOf(cand, d.rep_id));
    EXPECT_EQ(d.delta, d.candidate - d.baseline);
    if (d.rep_id == "r2") {
      EXPECT_GT(d.delta, 0);
    } else {
      EXPECT_LE(d.delta, 0) << d.rep_id;
    }
    total_delta += d.delta;
  }
  EXPECT_EQ(total_delta, 0);
  EXPECT_EQ(cand.counts.assigned, 300);

  // The changed-lead sample: capped at the limit, each entry a real change with both reasons.
  EXPECT_GT(diff.changed, 20);
  EXPECT_EQ(diff.sample.size(), 20u);
  for (const OwnerChange& c : diff.sample) {
    EXPECT_NE(c.baseline_rep, c.candidate_rep);
    EXPECT_FALSE(c.baseline_reason.empty());
    EXPECT_FALSE(c.candidate_reason.empty());
  }
  EXPECT_EQ(Compare(base, cand, 3).sample.size(), 3u);
  EXPECT_EQ(Compare(base, base).changed, 0);
}

// A what-if calls no API: HubSpot webhook events (which name a contact) are reported invalid
// with the way to simulate them, not fetched and not silently dropped.
TEST(SimulateTest, AnEnrichingSourceIsReportedNotFetched) {
  setenv("LEADROUTER_DEDUPE_KEY", "simulate-test-dedupe-key-0123", 1);
  setenv("HUBSPOT_PRIVATE_APP_TOKEN", "test-hubspot-token", 1);
  auto cfg = config::LoadConfigFile(kSource + "/deploy/config/leadrouter.example.yaml");
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  Options options = Pinned();
  options.source = "hubspot_webhook";
  const Report r = Simulate(*cfg,
                            {R"([{"eventId": 1, "portalId": 2, "objectId": 3, "occurredAt": 4,)"
                             R"( "subscriptionType": "contact.creation"}])"},
                            options);
  EXPECT_EQ(r.counts.lines, 1);
  EXPECT_EQ(r.counts.invalid, 1);
  EXPECT_EQ(r.counts.invalid_by_reason.at("unmappable"), 1);
  EXPECT_EQ(r.counts.assigned, 0);
}

TEST(SimulateTest, DemoFileOutcomesMatchTheDaemon) {
  setenv("LEADROUTER_DEDUPE_KEY", "simulate-test-dedupe-key-0123", 1);
  setenv("HUBSPOT_PRIVATE_APP_TOKEN", "test-hubspot-token", 1);
  auto cfg = config::LoadConfigFile(kSource + "/deploy/config/leadrouter.example.yaml");
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  const std::vector<std::string> lines = ReadLines(kSource + "/deploy/demo/leads.jsonl");
  ASSERT_EQ(lines.size(), 10u);
  const Report r = Simulate(*cfg, lines, Pinned());
  EXPECT_EQ(r.counts.lines, 10);
  EXPECT_EQ(r.counts.invalid, 1);
  EXPECT_EQ(r.counts.invalid_by_reason.at("missing_field"), 1);
  EXPECT_EQ(r.counts.replayed, 1);
  EXPECT_EQ(r.counts.assigned, 4);
  EXPECT_EQ(r.counts.unassigned, 0);
  EXPECT_EQ(r.counts.nurture, 1);
  EXPECT_EQ(r.counts.disqualified, 3);
  ASSERT_EQ(r.leads.size(), 10u);
  EXPECT_EQ(r.leads[7].outcome, LeadOutcome::kReplayed);
  EXPECT_EQ(r.leads[7].event_id, "demo-0001");
  int64_t rep_total = 0;
  for (const RepRow& rep : r.reps) rep_total += rep.leads;
  EXPECT_EQ(rep_total, 4);
}

TEST(SimulateTest, ClockFollowsOccurredAtForWorkingHours) {
  const config::Config cfg = MustParse(R"(
kafka: {bootstrap_servers: 127.0.0.1:9092}
reps:
  - id: weekday
    timezone: UTC
    working_hours: {days: [mon, tue, wed, thu, fri], start: "09:00", end: "17:00"}
  - id: always
pools:
  - name: main
    members: [weekday, always]
)");
  // Every 2 hours from Friday 2026-11-06 00:00 to Monday 2026-11-09 22:00 UTC.
  std::vector<std::string> lines;
  std::map<std::string, absl::CivilSecond> at;
  for (absl::CivilSecond t(2026, 11, 6, 0, 0, 0); t < absl::CivilSecond(2026, 11, 10, 0, 0, 0);
       t += 2 * 3600) {
    const std::string id = absl::StrFormat("wh-%d-%02d", t.day(), t.hour());
    at[id] = t;
    lines.push_back(Lead(id, t));
  }
  const Report r = Simulate(cfg, lines, Pinned());
  EXPECT_EQ(r.counts.assigned, static_cast<int64_t>(lines.size()));
  int weekday_leads = 0;
  for (const LeadRow& row : r.leads) {
    if (row.rep_id != "weekday") continue;
    ++weekday_leads;
    const absl::CivilSecond t = at.at(row.event_id);
    const absl::Weekday day = absl::GetWeekday(t);
    EXPECT_NE(day, absl::Weekday::saturday) << row.event_id;
    EXPECT_NE(day, absl::Weekday::sunday) << row.event_id;
    EXPECT_GE(t.hour(), 9) << row.event_id;
    EXPECT_LT(t.hour(), 17) << row.event_id;
  }
  EXPECT_GT(weekday_leads, 0);
  EXPECT_EQ(LeadsOf(r, "weekday"), weekday_leads);
  for (const RepRow& rep : r.reps) {
    if (rep.id == "weekday") {
      EXPECT_GT(rep.skipped_off_hours, 0);
    }
  }
}

TEST(SimulateTest, DailyCapAndAbsencePerSimulatedDay) {
  const config::Config cfg = MustParse(R"(
kafka: {bootstrap_servers: 127.0.0.1:9092}
reps:
  - {id: capped, timezone: UTC, daily_cap: 2}
  - id: away
    out_of_office: [{from: "2026-11-03T00:00:00Z", to: "2026-11-04T00:00:00Z"}]
  - id: spare
pools:
  - name: main
    members: [capped, away, spare]
)");
  std::vector<std::string> lines;
  for (int day = 2; day <= 4; ++day) {
    for (int i = 0; i < 10; ++i) {
      lines.push_back(Lead(absl::StrFormat("cap-%d-%d", day, i),
                           absl::CivilSecond(2026, 11, day, 8 + i, 0, 0)));
    }
  }
  const Report r = Simulate(cfg, lines, Pinned());
  EXPECT_EQ(r.counts.assigned, 30);
  std::map<std::string, int> capped_per_day;
  for (const LeadRow& row : r.leads) {
    const std::string day = row.occurred_at.substr(0, 10);
    if (row.rep_id == "capped") ++capped_per_day[day];
    if (row.rep_id == "away") {
      EXPECT_NE(day, "2026-11-03") << row.event_id;
    }
  }
  ASSERT_EQ(capped_per_day.size(), 3u);
  for (const auto& [day, n] : capped_per_day) EXPECT_EQ(n, 2) << day;  // reached, never passed
  for (const RepRow& rep : r.reps) {
    if (rep.id == "capped") {
      EXPECT_GT(rep.skipped_daily_cap, 0);
    }
    if (rep.id == "away") {
      EXPECT_EQ(rep.skipped_out_of_office, 10);
    }
  }
}

TEST(SimulateTest, BadLinesAreReportedNotFatal) {
  const config::Config cfg = MustParse(WeightedConfig({1}));
  const std::vector<std::string> lines = {"{",
                                          "not json",
                                          "",
                                          "   ",
                                          std::string("\xff\xfe\x00", 3),
                                          R"({"event_id":"x"})",
                                          Lead("ok-1", absl::CivilSecond(2026, 11, 2, 10, 0, 0))};
  const Report r = Simulate(cfg, lines, Pinned());
  EXPECT_EQ(r.counts.lines, 5);  // blank lines are skipped
  EXPECT_EQ(r.counts.invalid, 4);
  EXPECT_EQ(r.counts.assigned, 1);
  EXPECT_EQ(r.leads.back().line, 7);
}

// Demo leads plus one whose company name is markup, under the demo config and a baseline.
struct Rendered {
  Report report;
  Diff diff;
};
Rendered DemoWithMarkup() {
  setenv("LEADROUTER_DEDUPE_KEY", "simulate-test-dedupe-key-0123", 1);
  setenv("HUBSPOT_PRIVATE_APP_TOKEN", "test-hubspot-token", 1);
  auto cfg = config::LoadConfigFile(kSource + "/deploy/config/leadrouter.example.yaml");
  EXPECT_TRUE(cfg.ok()) << cfg.status();
  std::vector<std::string> lines = ReadLines(kSource + "/deploy/demo/leads.jsonl");
  lines.push_back(Lead("evil-1", absl::CivilSecond(2026, 11, 22, 10, 0, 0),
                       R"(<script>alert(\"x\")</script> & \"co\" \\ \u0001)"));
  Rendered out;
  out.report = Simulate(*cfg, lines, Pinned());
  out.diff = Compare(out.report, out.report);
  return out;
}

TEST(SimulateTest, HtmlIsSelfContainedAndEscaped) {
  const Rendered d = DemoWithMarkup();
  const std::string html = RenderHtml(d.report, &d.diff);
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  for (const char* name : {"Ada Lovelace", "Grace Hopper", "Linus Torvalds"}) {
    EXPECT_NE(html.find(name), std::string::npos) << name;
  }
  EXPECT_EQ(html.find("http://"), std::string::npos);
  EXPECT_EQ(html.find("https://"), std::string::npos);
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_NE(html.find("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &quot;co&quot;"),
            std::string::npos);
  EXPECT_NE(html.find("<svg"), std::string::npos);
  EXPECT_NE(html.find("Baseline vs candidate per rep"), std::string::npos);
  EXPECT_EQ(HtmlEscape("a<b>&\"'"), "a&lt;b&gt;&amp;&quot;&#39;");
  EXPECT_EQ(HtmlEscape(std::string("\xff")), "\xEF\xBF\xBD");
}

// The report as a browser shows it: Debian's Chromium, headless, loads the page and dumps the DOM
// after its scripts ran. bootstrap.sh installs chromium, so CI runs this.
TEST(SimulateTest, HtmlRendersInHeadlessChromium) {
  const char* chromium = "/usr/bin/chromium";
  if (!std::filesystem::exists(chromium)) GTEST_SKIP() << "no " << chromium;
  const Rendered d = DemoWithMarkup();
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / absl::StrFormat("leadrouter_simulate_%d", getpid());
  std::filesystem::create_directories(dir);
  const std::filesystem::path page = dir / "report.html";
  const std::filesystem::path dom = dir / "dom.html";
  {
    std::ofstream out(page, std::ios::binary | std::ios::trunc);
    out << RenderHtml(d.report, &d.diff);
  }
  // Without the background-networking flags Chromium keeps trying hosts this closed network
  // refuses; a fresh profile keeps runs independent.
  const std::string cmd =
      std::string(chromium) +
      " --headless --no-sandbox --disable-gpu --disable-quic --no-first-run"
      " --disable-background-networking --disable-component-update --disable-sync"
      " --user-data-dir=" +
      (dir / "profile").string() + " --dump-dom file://" + page.string() + " > " + dom.string() +
      " 2>/dev/null";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  std::ifstream in(dom);
  const std::string rendered((std::istreambuf_iterator<char>(in)),
                             std::istreambuf_iterator<char>());
  EXPECT_NE(rendered.find("Ada Lovelace"), std::string::npos) << "the reps table is in the page";
  EXPECT_NE(rendered.find("&lt;script&gt;alert"), std::string::npos)
      << "a company name with markup is shown as text";
  EXPECT_EQ(rendered.find("<script>alert"), std::string::npos) << "and never runs";
  std::filesystem::remove_all(dir);
}

TEST(SimulateTest, JsonParses) {
  const Rendered d = DemoWithMarkup();
  const std::string json = RenderJson(d.report, &d.diff);
  google::protobuf::Struct parsed;
  const auto status = google::protobuf::util::JsonStringToMessage(json, &parsed);
  ASSERT_TRUE(status.ok()) << status << "\n" << json;
  const auto& counts = parsed.fields().at("counts").struct_value().fields();
  EXPECT_EQ(counts.at("assigned").number_value(), 4);  // the markup lead scores 0: disqualified
  EXPECT_EQ(counts.at("replayed").number_value(), 1);
  const auto& leads = parsed.fields().at("leads").list_value().values();
  ASSERT_EQ(leads.size(), 11);
  EXPECT_EQ(leads[10].struct_value().fields().at("company").string_value(),
            "<script>alert(\"x\")</script> & \"co\" \\ \x01");
  EXPECT_TRUE(parsed.fields().contains("diff"));
  EXPECT_EQ(JsonQuote(std::string("a\"\\\n\x01")), "\"a\\\"\\\\\\n\\u0001\"");
}

TEST(SimulateTest, TextReportHasTheSections) {
  const Rendered d = DemoWithMarkup();
  const std::string text = RenderText(d.report, &d.diff);
  for (const char* s : {"Outcomes", "Reps", "Pool shares", "Pools", "Territories", "Leads", "Diff",
                        "Ada Lovelace", "missing_field"}) {
    EXPECT_NE(text.find(s), std::string::npos) << s;
  }
  EXPECT_EQ(text.find('\x01'), std::string::npos);  // control characters never reach a terminal
}

}  // namespace
TEST(SimulateTest, WhatIfARepIsOutTheOthersTakeTheirLeads) {
  const config::Config cfg = MustParse(WeightedConfig({1, 1, 1}));
  Options options = Pinned();
  ASSERT_TRUE(ParseWhatIf(cfg, {}, {"r2=2026-11-02..2026-11-02"}, {}, options).ok());
  const Report r = Simulate(cfg, SyntheticLeads(60), options);  // 60 leads within 2026-11-02
  EXPECT_EQ(LeadsOf(r, "r2"), 0);
  EXPECT_EQ(LeadsOf(r, "r1") + LeadsOf(r, "r3"), 60);
  EXPECT_EQ(Simulate(cfg, SyntheticLeads(60), Pinned()).counts.assigned, 60);
  for (const RepRow& rep : r.reps) {
    if (rep.id == "r2") {
      EXPECT_EQ(rep.skipped_out_of_office, 60);
    }
  }
}

TEST(SimulateTest, WhatIfRepsReturnAShareTheSameLeadsAreReturnedEveryRun) {
  const config::Config cfg =
      MustParse(WeightedConfig({1, 1, 1}) + "lifecycle: {max_attempts: 3}\n");
  Options options = Pinned();
  ASSERT_TRUE(ParseWhatIf(cfg, {"inbound_marketing=0.5"}, {}, {}, options).ok());
  const Report a = Simulate(cfg, SyntheticLeads(200), options);
  const Report b = Simulate(cfg, SyntheticLeads(200), options);
  EXPECT_GT(a.counts.returned, 70);
  EXPECT_LT(a.counts.returned, 130);
  EXPECT_EQ(a.counts.returned, b.counts.returned);
  EXPECT_EQ(a.counts.rerouted, a.counts.returned) << "each return re-routes to another rep";
  int64_t received = 0, returned = 0;
  for (const RepRow& rep : a.reps) {
    received += rep.leads;
    returned += rep.returned;
  }
  EXPECT_EQ(returned, a.counts.returned);
  EXPECT_EQ(received, a.counts.assigned + a.counts.rerouted);
  Options none = Pinned();
  ASSERT_TRUE(ParseWhatIf(cfg, {"PARTNER=1"}, {}, {}, none).ok());
  EXPECT_EQ(Simulate(cfg, SyntheticLeads(20), none).counts.returned, 0) << "another source";
}

TEST(SimulateTest, UnacceptedLeadsExpireAndReroute) {
  const config::Config cfg =
      MustParse(WeightedConfig({1, 1}) + "lifecycle: {accept_sla_s: 120, max_attempts: 5}\n");
  Options options = Pinned();
  options.unaccepted = true;
  const Report r = Simulate(cfg, SyntheticLeads(10), options);  // one lead a minute
  EXPECT_GT(r.counts.expired, 0);
  EXPECT_EQ(Simulate(cfg, SyntheticLeads(10), Pinned()).counts.expired, 0);
}

// The daemon's claim decision (decide::DecideAccountClaim) on the simulator's store: the claimed
// account's leads go to the claimant as its owner, under the config's policy.
TEST(SimulateTest, WhatIfARepClaimsAnAccountItsLeadsGoToThem) {
  setenv("LEADROUTER_SIMULATE_TEST_KEY", "simulate-test-secret-0123456789abcdef", 1);
  const config::Config cfg = MustParse(WeightedConfig({1, 1, 1}) +
                                       "dedupe: {hmac_key_env: LEADROUTER_SIMULATE_TEST_KEY}\n");
  std::vector<std::string> lines;
  const absl::CivilSecond start(2026, 11, 2, 0, 0, 0);
  for (int i = 0; i < 12; ++i) {
    std::string line = Lead(absl::StrFormat("claim-%02d", i), start + i * 60, "Initech");
    absl::StrReplaceAll({{"@acme.example", i % 2 == 0 ? "@initech.com" : "@globex.com"}}, &line);
    lines.push_back(line);
  }
  Options claimed = Pinned();
  ASSERT_TRUE(ParseWhatIf(cfg, {}, {}, {"r3=https://www.Initech.com/about"}, claimed).ok());
  ASSERT_EQ(claimed.claims.size(), 1u);
  EXPECT_EQ(claimed.claims[0].second, "initech.com") << "the registrable domain";
  const Report with = Simulate(cfg, lines, claimed);
  EXPECT_EQ(with.claims_owned, 1);
  int64_t initech_to_r3 = 0;
  for (const LeadRow& row : with.leads) {
    const int index = std::stoi(row.event_id.substr(6));
    if (index % 2 == 0 && row.rep_id == "r3") ++initech_to_r3;
  }
  EXPECT_EQ(initech_to_r3, 6) << "every lead of the claimed account goes to its owner";

  const Report without = Simulate(cfg, lines, Pinned());
  int64_t initech_elsewhere = 0;
  for (const LeadRow& row : without.leads) {
    const int index = std::stoi(row.event_id.substr(6));
    if (index % 2 == 0 && row.rep_id != "r3") ++initech_elsewhere;
  }
  EXPECT_GT(initech_elsewhere, 0) << "without the claim the account is not r3's";

  Options refused = Pinned();
  for (const std::vector<std::string>& claims :
       std::vector<std::vector<std::string>>{{"r3"}, {"nobody=initech.com"}, {"r1=gmail.com"}}) {
    const absl::Status status = ParseWhatIf(cfg, {}, {}, claims, refused);
    EXPECT_TRUE(absl::IsInvalidArgument(status)) << status;
    EXPECT_NE(status.message().find("--claim"), std::string::npos) << status;
  }
  EXPECT_TRUE(absl::IsInvalidArgument(
      ParseWhatIf(MustParse(WeightedConfig({1})), {}, {}, {"r1=initech.com"}, refused)))
      << "claims need dedupe";
  EXPECT_EQ(ClaimLines("# owners\nr1=a.com\n\n  r2=b.com  \n"),
            (std::vector<std::string>{"r1=a.com", "r2=b.com"}));
}

TEST(SimulateTest, WhatIfFlagsAreCheckedNamingTheFlag) {
  const config::Config cfg = MustParse(WeightedConfig({1}));
  for (const auto& [rates, ooo] :
       std::vector<std::pair<std::vector<std::string>, std::vector<std::string>>>{
           {{"webinar"}, {}},
           {{"webinar=1.5"}, {}},
           {{"=0.2"}, {}},
           {{}, {"r1=2026-12-09..2026-12-01"}},
           {{}, {"r1=tomorrow..later"}},
           {{}, {"rep-nobody=2026-12-01..2026-12-02"}}}) {
    Options options;
    const absl::Status status = ParseWhatIf(cfg, rates, ooo, {}, options);
    EXPECT_TRUE(absl::IsInvalidArgument(status)) << status;
    EXPECT_NE(status.message().find(rates.empty() ? "--ooo" : "--return-rate"), std::string::npos)
        << status;
  }
}

}  // namespace leadrouter::simulate
