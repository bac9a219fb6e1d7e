// Differential: one lead file through the real daemon (redis-server, the embedded Kafka) and
// through the simulator (leadrouter::simulate, in memory). The file has person duplicates (by
// e-mail and by phone), leads into accounts that already have an owner, rep-sourced leads, a rep
// out of office, a rep at its daily cap, repeated event ids, nurture, disqualified and invalid
// leads. Both must decide the same outcome and the same rep for every event.
#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "leadrouter/config/config.h"
#include "leadrouter/simulate/simulate.h"
#include "leadrouter/testing/daemon_fixture.h"
#include "leadrouter/testing/subprocess.h"
#include "leadrouter/v1/assignment.pb.h"

namespace leadrouter {
namespace {

using namespace std::chrono_literals;

std::string Rfc3339(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone());
}

std::string ConfigRest(absl::Time now) {
  return absl::StrCat(R"(dedupe: {hmac_key_env: LEADROUTER_DEDUPE_KEY}
lifecycle: {accept_sla_s: 0}
reps:
  - {id: rep-a, timezone: UTC}
  - {id: rep-b, timezone: UTC}
  - {id: rep-c, timezone: UTC, daily_cap: 3}
  - id: rep-d
    timezone: UTC
    out_of_office: [{from: ")",
                      Rfc3339(now - absl::Hours(24)), R"(", to: ")", Rfc3339(now + absl::Hours(24)),
                      R"("}]
  - {id: rep-e, timezone: UTC}
pools:
  - name: main
    strategy: weighted_round_robin
    members: [{rep: rep-a, weight: 3}, {rep: rep-b, weight: 2}, {rep: rep-c, weight: 1}, {rep: rep-d, weight: 2}]
territories:
  - {name: everywhere, pool: main}
qualification:
  requirements:
    - {name: no-free-mail, field: person.is_free_mail, equals: "true", negate: true}
  criteria:
    - {name: mid-sized, field: company.employee_count, at_least: 50, points: 10}
    - {name: large, field: company.employee_count, at_least: 200, points: 40}
  thresholds: {qualified: 40, nurture: 15}
  thresholds_by_source:
    REP_SOURCED: {qualified: 0, nurture: 0}
)");
}

struct Lead {
  std::string event_id{};
  std::string email{};
  std::string phone{};
  std::string domain{};  // company website
  int employees = 250;
  std::string source_kind{"INBOUND_MARKETING"};
  std::string sourced_by{};
};

std::string LeadJson(const Lead& l, const std::string& occurred_at) {
  std::string person = absl::StrCat(R"({"first_name":"Pat")");
  if (!l.email.empty()) absl::StrAppend(&person, R"(,"email":")", l.email, R"(")");
  if (!l.phone.empty()) absl::StrAppend(&person, R"(,"phone":")", l.phone, R"(")");
  person += "}";
  return absl::StrCat(
      R"({"event_id":")", l.event_id, R"(","occurred_at":")", occurred_at,
      R"(","source_system":"webform","source_kind":")", l.source_kind, R"(",)",
      l.sourced_by.empty() ? "" : absl::StrCat(R"("sourced_by_rep_id":")", l.sourced_by, R"(",)"),
      R"("person":)", person, R"(,"company":{"name":"Co ", "website":"https://)", l.domain,
      R"(","employee_count":)", l.employees, R"(,"country":"US"}})");
}

// The lead file: deterministic, shuffled with a fixed seed so duplicates come at any distance.
std::vector<Lead> Leads() {
  std::vector<Lead> leads;
  for (int i = 0; i < 24; ++i) {  // distinct people at distinct companies: the rotation
    leads.push_back({absl::StrCat("ev-new-", i), absl::StrCat("person", i, "@corp", i, ".example"),
                     absl::StrCat("+1 415 555 01", i < 10 ? "0" : "", i),
                     absl::StrCat("corp", i, ".example")});
  }
  for (int i = 0; i < 5; ++i) {  // the same person again, by e-mail (another event)
    leads.push_back({absl::StrCat("ev-again-mail-", i),
                     absl::StrCat("PERSON", i, "@corp", i, ".example"), "",
                     absl::StrCat("corp", i, ".example")});
  }
  for (int i = 5; i < 8; ++i) {  // the same person again, by phone only
    leads.push_back({absl::StrCat("ev-again-phone-", i), "",
                     absl::StrCat("(415) 555-01", i < 10 ? "0" : "", i),
                     absl::StrCat("other", i, ".example")});
  }
  for (int i = 8; i < 14; ++i) {  // a colleague: a new person into an account with an owner
    leads.push_back({absl::StrCat("ev-colleague-", i),
                     absl::StrCat("colleague", i, "@corp", i, ".example"), "",
                     absl::StrCat("corp", i, ".example")});
  }
  for (int i = 0; i < 3; ++i) {  // rep-sourced: the sourcing rep's, outside the rotation
    leads.push_back({absl::StrCat("ev-sourced-", i),
                     absl::StrCat("prospect", i, "@target", i, ".example"), "",
                     absl::StrCat("target", i, ".example"), 10, "REP_SOURCED", "rep-e"});
  }
  for (int i = 0; i < 3; ++i) {  // nurture (score 20 of 100) and disqualified (free mail)
    leads.push_back({absl::StrCat("ev-nurture-", i),
                     absl::StrCat("small", i, "@small", i, ".example"), "",
                     absl::StrCat("small", i, ".example"), 100});
    leads.push_back({absl::StrCat("ev-freemail-", i), absl::StrCat("someone", i, "@gmail.com"), "",
                     absl::StrCat("free", i, ".example")});
  }
  std::mt19937 shuffle(20261202);
  std::shuffle(leads.begin() + 1, leads.end(), shuffle);
  // A colleague must not come before the account's first lead for the scenario to mean
  // something; a duplicate before its original is simply a new lead in both, which is fine.
  leads.push_back(leads[3]);                                  // a repeated event id: replayed
  leads.push_back({"ev-invalid", "", "", "nobody.example"});  // no way to reach the person
  return leads;
}

class DifferentialEndToEnd : public testing::DaemonFixture {
 protected:
  std::vector<std::string> KafkaTopics() const override { return {"leads.inbound:1"}; }
};

// "ASSIGNED rep-a", "DUPLICATE rep-b", "NURTURE", ...: what an event became.
using Outcomes = std::map<std::string, std::string>;

TEST_F(DifferentialEndToEnd, DaemonAndSimulatorDecideTheSameForEveryEvent) {
  setenv("LEADROUTER_DEDUPE_KEY", "differential-test-dedupe-key-0123", 1);
  setenv("HUBSPOT_PRIVATE_APP_TOKEN", "test-hubspot-token", 1);
  const absl::Time now = absl::Now();
  const std::string occurred_at = Rfc3339(now);
  WriteConfig({.rest = ConfigRest(now)});
  const std::vector<Lead> leads = Leads();
  std::vector<std::string> lines;
  for (const Lead& lead : leads) lines.push_back(LeadJson(lead, occurred_at));

  // The simulator, in this process, on the same config file.
  auto config = config::LoadConfigFile(config_path_);
  ASSERT_TRUE(config.ok()) << config.status();
  const simulate::Report report = simulate::Simulate(*config, lines);
  Outcomes simulated;
  size_t routed_messages = 0;
  for (const simulate::LeadRow& row : report.leads) {
    switch (row.outcome) {
      case simulate::LeadOutcome::kAssigned:
        simulated[row.event_id] = "ASSIGNED " + row.rep_id;
        ++routed_messages;
        break;
      case simulate::LeadOutcome::kUnassigned:
        simulated[row.event_id] = "UNASSIGNED";
        ++routed_messages;
        break;
      case simulate::LeadOutcome::kDuplicate:
        simulated[row.event_id] = "DUPLICATE " + row.rep_id;
        ++routed_messages;
        break;
      case simulate::LeadOutcome::kNurture:
        simulated[row.event_id] = "NURTURE";
        break;
      case simulate::LeadOutcome::kDisqualified:
        simulated[row.event_id] = "DISQUALIFIED";
        break;
      case simulate::LeadOutcome::kReplayed:
      case simulate::LeadOutcome::kInvalid:
        break;
    }
  }
  // The file exercises what it claims to.
  EXPECT_GE(report.counts.duplicates, 8) << "person duplicates by e-mail and phone";
  EXPECT_GE(report.counts.account_owner, 4) << "colleagues routed to their account's owner";
  EXPECT_EQ(report.counts.replayed, 1);
  EXPECT_EQ(report.counts.invalid, 1);
  EXPECT_EQ(report.counts.nurture, 3);
  EXPECT_EQ(report.counts.disqualified, 3);
  int64_t direct_to_rep_e = 0, ooo_skips = 0, cap_skips = 0;
  for (const simulate::RepRow& rep : report.reps) {
    if (rep.id == "rep-e") direct_to_rep_e = rep.direct;
    if (rep.id == "rep-d") ooo_skips = rep.skipped_out_of_office;
    if (rep.id == "rep-c") cap_skips = rep.skipped_daily_cap;
  }
  EXPECT_EQ(direct_to_rep_e, 3) << "rep-sourced leads";
  EXPECT_GT(ooo_skips, 0) << "rep-d is out of office";
  EXPECT_GT(cap_skips, 0) << "rep-c reaches its daily cap";

  // The daemon, on the same file.
  StartDaemon();
  for (const std::string& line : lines) Publish(line);
  Outcomes decided;
  for (const auto& message : ReadTopic("leads.assignments", routed_messages + 1, 2s)) {
    v1::AssignmentEvent event;
    ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(message.value, &event).ok())
        << message.value;
    std::string status =
        v1::AssignmentStatus_Name(event.status()).substr(18);  // "ASSIGNMENT_STATUS_"
    std::string value = status == "UNASSIGNED" ? status : status + " " + event.rep_id();
    // A replay re-publishes the first message: the same value again.
    auto [it, inserted] = decided.emplace(event.event_id(), value);
    EXPECT_EQ(it->second, value) << "event " << event.event_id() << " decided twice";
  }
  for (const auto& message : ReadTopic("leads.nurture", 6, 2s)) {
    v1::NurtureEvent event;
    ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(message.value, &event).ok())
        << message.value;
    decided[event.event_id()] = event.qualification().outcome() == v1::QUALIFICATION_OUTCOME_NURTURE
                                    ? "NURTURE"
                                    : "DISQUALIFIED";
  }
  EXPECT_EQ(decided.size(), simulated.size());
  for (const auto& [event_id, outcome] : simulated) {
    auto it = decided.find(event_id);
    ASSERT_NE(it, decided.end()) << "the daemon published nothing for " << event_id;
    EXPECT_EQ(it->second, outcome) << "event " << event_id;
  }
}

// The README's what-if command, as printed, with no secret in the environment.
TEST(LeadrouterSimulate, TheReadmeWhatIfRunsWithoutAnyEnvironmentVariable) {
  unsetenv("LEADROUTER_DEDUPE_KEY");
  unsetenv("HUBSPOT_PRIVATE_APP_TOKEN");
  auto sim =
      testing::Subprocess::Start({testing::LeadrouterBinary(), "simulate", "--config",
                                  LEADROUTER_SOURCE_DIR "/deploy/config/leadrouter.example.yaml",
                                  "--leads", LEADROUTER_SOURCE_DIR "/deploy/demo/leads.jsonl"});
  ASSERT_TRUE(sim.ok()) << sim.status();
  EXPECT_EQ(*(*sim)->Wait(30s), 0) << (*sim)->Output();
  EXPECT_NE((*sim)->Output().find("assigned 4, unassigned 0, nurture 1, disqualified 3"),
            std::string::npos)
      << (*sim)->Output();
}

}  // namespace
}  // namespace leadrouter
