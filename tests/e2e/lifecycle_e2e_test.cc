// End to end, the lead's life after assignment: real processes (leadrouter-kafka-mock,
// redis-server, one or two leadrouter daemons, leadctl), leads published with librdkafka,
// transitions driven through leadctl and gRPC, audited on the topics and the stream.
#include <google/protobuf/util/json_util.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "leadrouter/kafka/consumer.h"
#include "leadrouter/kafka/producer.h"
#include "leadrouter/testing/daemon_fixture.h"
#include "leadrouter/testing/e2e.h"
#include "leadrouter/testing/http_get.h"
#include "leadrouter/testing/subprocess.h"
#include "leadrouter/v1/qualification.pb.h"
#include "leadrouter/v1/router_service.grpc.pb.h"

namespace leadrouter {
namespace {

using namespace std::chrono_literals;
using testing::CommandResult;
using testing::StreamCollector;
using testing::Subprocess;

std::string LeadJson(const std::string& event_id) {
  return absl::StrCat(
      R"({"event_id":")", event_id, R"(","occurred_at":"2026-11-22T09:00:00Z",)",
      R"("source_system":"webform","source_kind":"LEAD_SOURCE_KIND_INBOUND_MARKETING",)",
      R"("campaign":"spring","person":{"first_name":"Test","email":")", event_id,
      R"(@example.com"},"company":{"name":"Co )", event_id, R"(","country":"US"}})");
}

class LifecycleEndToEnd : public testing::DaemonFixture {
 protected:
  // Three reps and `rest`; `grpc` is the grpc section.
  void WriteConfig(const std::string& rest,
                   const std::string& grpc = R"({listen: "127.0.0.1:0"})") {
    DaemonFixture::WriteConfig(
        {.group_id = "lifecycle",
         .grpc = grpc,
         .metrics = R"({listen: "127.0.0.1:0", campaigns: [spring]})",
         .rest = "reps: [{id: rep-ada}, {id: rep-grace}, {id: rep-linus}]\n" + rest});
  }

  void Publish(const std::string& event_id) {
    DaemonFixture::Publish(LeadJson(event_id), {{"content-type", "application/json"}});
  }

  // Every message of a topic from the beginning, until `quiet` passes without a new one.
  std::vector<kafka::ConsumedMessage> ReadTopic(const std::string& topic,
                                                std::chrono::milliseconds quiet) {
    return DaemonFixture::ReadTopic(topic, 1, quiet, 60s);
  }
};

v1::AssignmentEvent ParseEvent(const std::string& json) {
  v1::AssignmentEvent event;
  EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(json, &event).ok()) << json;
  return event;
}

TEST_F(LifecycleEndToEnd, AcceptReturnRerouteRecycleAndExplainThroughLeadctl) {
  WriteConfig("lifecycle: {accept_sla_s: 0, max_attempts: 2}\n");
  const std::string target = StartDaemon();
  ASSERT_FALSE(target.empty());
  StreamCollector stream(target);
  std::this_thread::sleep_for(300ms);  // the subscription is registered
  Publish("l1");
  Publish("l2");
  auto events = stream.WaitFor(2, 60s);
  ASSERT_EQ(events.size(), 2u);
  std::map<std::string, v1::AssignmentEvent> first;
  for (const auto& e : events) first[e.event_id()] = e;
  const v1::AssignmentEvent l1 = first["l1"];
  const v1::AssignmentEvent l2 = first["l2"];
  ASSERT_EQ(l1.status(), v1::ASSIGNMENT_STATUS_ASSIGNED);
  ASSERT_EQ(l1.attempt(), 1);

  // Only the holder may act, and only on a lead in the right state.
  const std::string other = l1.rep_id() == "rep-ada" ? "rep-grace" : "rep-ada";
  CommandResult refused = Leadctl(target, {"accept", l1.lead_id(), "--rep", other});
  EXPECT_EQ(refused.code, 3) << refused.output;
  EXPECT_NE(refused.output.find("FAILED_PRECONDITION"), std::string::npos) << refused.output;
  CommandResult unknown = Leadctl(target, {"accept", "ld_nope", "--rep", other});
  EXPECT_EQ(unknown.code, 3);
  EXPECT_NE(unknown.output.find("NOT_FOUND"), std::string::npos) << unknown.output;
  CommandResult no_reason =
      Leadctl(target, {"return", l1.lead_id(), "--rep", l1.rep_id(), "--reason", "other"});
  EXPECT_NE(no_reason.code, 0) << "OTHER needs a note: " << no_reason.output;

  CommandResult accepted = Leadctl(target, {"accept", l1.lead_id(), "--rep", l1.rep_id()});
  ASSERT_EQ(accepted.code, 0) << accepted.output;
  EXPECT_NE(accepted.output.find("ACCEPTED " + l1.lead_id() + " by " + l1.rep_id()),
            std::string::npos)
      << accepted.output;
  // Accepting again is harmless (CRMs retry).
  EXPECT_EQ(Leadctl(target, {"accept", l1.lead_id(), "--rep", l1.rep_id()}).code, 0);

  CommandResult returned =
      Leadctl(target, {"return", l1.lead_id(), "--rep", l1.rep_id(), "--reason", "bad_fit"});
  ASSERT_EQ(returned.code, 0) << returned.output;
  EXPECT_NE(returned.output.find("RETURNED " + l1.lead_id() + " by " + l1.rep_id() + " (bad_fit)"),
            std::string::npos)
      << returned.output;
  const auto assigned_at = returned.output.find("ASSIGNED " + l1.lead_id() + " -> ");
  ASSERT_NE(assigned_at, std::string::npos) << returned.output;
  EXPECT_NE(returned.output.find("(attempt 2)"), std::string::npos) << returned.output;
  EXPECT_EQ(returned.output.find("-> " + l1.rep_id()), std::string::npos)
      << "a returned lead never goes back to a rep who held it: " << returned.output;

  // The second holder returns it too: max_attempts 2 recycles it to marketing.
  auto explained = Leadctl(target, {"--json", "explain", l1.lead_id()});
  ASSERT_EQ(explained.code, 0) << explained.output;
  const v1::AssignmentEvent current = ParseEvent(explained.output);
  ASSERT_EQ(current.status(), v1::ASSIGNMENT_STATUS_ASSIGNED);
  CommandResult recycled = Leadctl(target, {"return", l1.lead_id(), "--rep", current.rep_id(),
                                            "--reason", "other", "--note", "wrong product"});
  ASSERT_EQ(recycled.code, 0) << recycled.output;
  EXPECT_NE(recycled.output.find("RECYCLED " + l1.lead_id()), std::string::npos) << recycled.output;

  CommandResult converted =
      Leadctl(target, {"convert", l2.lead_id(), "--rep", l2.rep_id(), "--value", "1200"});
  ASSERT_EQ(converted.code, 0) << converted.output;
  EXPECT_NE(converted.output.find("CONVERTED " + l2.lead_id()), std::string::npos)
      << converted.output;

  // The whole story, in order, on the stream and in the explanation.
  events = stream.WaitFor(2 + 6, 30s);
  std::vector<v1::AssignmentStatus> l1_story;
  for (const auto& e : events) {
    if (e.lead_id() == l1.lead_id()) l1_story.push_back(e.status());
    EXPECT_FALSE(e.cursor().empty());
  }
  EXPECT_EQ(l1_story, (std::vector<v1::AssignmentStatus>{
                          v1::ASSIGNMENT_STATUS_ASSIGNED, v1::ASSIGNMENT_STATUS_ACCEPTED,
                          v1::ASSIGNMENT_STATUS_RETURNED, v1::ASSIGNMENT_STATUS_ASSIGNED,
                          v1::ASSIGNMENT_STATUS_RETURNED, v1::ASSIGNMENT_STATUS_RECYCLED}));
  explained = Leadctl(target, {"explain", l1.lead_id()});
  ASSERT_EQ(explained.code, 0) << explained.output;
  EXPECT_NE(explained.output.find("history:"), std::string::npos) << explained.output;
  EXPECT_NE(explained.output.find("wrong product"), std::string::npos) << explained.output;
  EXPECT_NE(explained.output.find("trace:"), std::string::npos) << explained.output;

  // Marketing gets the recycled lead with its history.
  bool found = false;
  for (const auto& m : ReadTopic("leads.nurture", 2s)) {
    v1::NurtureEvent nurture;
    if (google::protobuf::util::JsonStringToMessage(m.value, &nurture).ok() &&
        nurture.lead_id() == l1.lead_id()) {
      found = true;
      EXPECT_EQ(nurture.history_size(), 6);
      EXPECT_NE(nurture.recycle_reason().find("2 attempts"), std::string::npos);
    }
  }
  EXPECT_TRUE(found) << "recycled lead not on leads.nurture";

  // Return rates have their numbers.
  EXPECT_EQ(Metric("leadrouter_lead_returns_total{campaign=\"spring\",pool=\"default\",reason="
                   "\"bad_fit\",source_kind=\"INBOUND_MARKETING\",territory=\"\"}"),
            1);
  EXPECT_EQ(Metric("leadrouter_lead_events_total{campaign=\"spring\",event=\"converted\",pool="
                   "\"default\",source_kind=\"INBOUND_MARKETING\",territory=\"\"}"),
            1);
}

// With a 1 s accept SLA and two daemons, every unaccepted lead expires exactly once per
// attempt, is re-routed to a rep who has not held it, and is recycled after max_attempts.
TEST_F(LifecycleEndToEnd, SlaExpiryReroutesExactlyOnceAcrossTwoInstances) {
  WriteConfig("lifecycle: {accept_sla_s: 1, max_attempts: 3}\n");
  ASSERT_FALSE(StartDaemon().empty());
  ASSERT_FALSE(StartDaemon().empty());
  constexpr int kLeads = 12;
  for (int i = 0; i < kLeads; ++i) Publish(absl::StrCat("sla-", i));

  // Each lead: ASSIGNED, EXPIRED, ASSIGNED, EXPIRED, ASSIGNED, EXPIRED, RECYCLED = 7 events.
  std::vector<kafka::ConsumedMessage> messages;
  const auto until = std::chrono::steady_clock::now() + 90s;
  while (std::chrono::steady_clock::now() < until) {
    messages = ReadTopic("leads.assignments", 3s);
    if (messages.size() >= size_t{kLeads} * 7) break;
  }
  std::map<std::string, std::vector<v1::AssignmentEvent>> story;
  for (const auto& m : messages) {
    // A batch whose offsets a rebalance refused is replayed, and a replay re-publishes the lead's
    // stored state marked as such (the contract: x-leadrouter-replay: true); the transitions
    // themselves must each appear exactly once.
    if (m.HeaderValue("x-leadrouter-replay") == "true") continue;
    const v1::AssignmentEvent e = ParseEvent(m.value);
    story[e.lead_id()].push_back(e);
  }
  ASSERT_EQ(story.size(), size_t{kLeads});
  for (const auto& [lead, events] : story) {
    std::map<v1::AssignmentStatus, int> count;
    std::set<std::string> holders;
    std::set<int> expired_attempts;
    for (const auto& e : events) {
      ++count[e.status()];
      if (e.status() == v1::ASSIGNMENT_STATUS_ASSIGNED) holders.insert(e.rep_id());
      if (e.status() == v1::ASSIGNMENT_STATUS_EXPIRED) {
        EXPECT_TRUE(expired_attempts.insert(e.attempt()).second)
            << lead << " expired twice in attempt " << e.attempt();
      }
    }
    EXPECT_EQ(count[v1::ASSIGNMENT_STATUS_ASSIGNED], 3) << lead;
    EXPECT_EQ(count[v1::ASSIGNMENT_STATUS_EXPIRED], 3) << lead;
    EXPECT_EQ(count[v1::ASSIGNMENT_STATUS_RECYCLED], 1) << lead;
    EXPECT_EQ(holders.size(), 3u) << lead << ": re-routed to a rep who already had it";
  }
}

// A subscriber that reconnects with its last cursor gets exactly what it missed.
TEST_F(LifecycleEndToEnd, ResumeFromCursorMissesNothingAndRepeatsNothing) {
  WriteConfig("lifecycle: {accept_sla_s: 0}\n");
  const std::string target = StartDaemon();
  ASSERT_FALSE(target.empty());
  auto first = std::make_unique<StreamCollector>(target);
  std::this_thread::sleep_for(300ms);
  for (int i = 0; i < 3; ++i) Publish(absl::StrCat("r-", i));
  auto seen = first->WaitFor(3, 60s);
  ASSERT_EQ(seen.size(), 3u);
  first->Stop();  // the CRM disconnects
  const std::string cursor = seen.back().cursor();
  ASSERT_FALSE(cursor.empty());

  for (int i = 3; i < 8; ++i) Publish(absl::StrCat("r-", i));
  // Wait until the missed five are decided before reconnecting.
  StreamCollector probe(target, cursor);
  ASSERT_EQ(probe.WaitFor(5, 60s).size(), 5u);

  StreamCollector resumed(target, cursor);
  auto missed = resumed.WaitFor(5, 30s);
  Publish("r-8");  // and then live events continue
  auto all = resumed.WaitFor(6, 30s);
  ASSERT_EQ(all.size(), 6u);
  std::set<std::string> ids;
  for (const auto& e : all) {
    EXPECT_TRUE(ids.insert(e.event_id()).second) << e.event_id() << " delivered twice";
  }
  for (int i = 3; i <= 8; ++i) EXPECT_TRUE(ids.count(absl::StrCat("r-", i))) << i;
  for (size_t i = 1; i < all.size(); ++i) {
    EXPECT_NE(all[i - 1].cursor(), all[i].cursor());
  }

  StreamCollector bad(target, "yesterday");
  EXPECT_EQ(bad.WaitFinished(10s).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

// AdminService overrides through leadctl: pause, capacity, the unassigned queue, resume.
TEST_F(LifecycleEndToEnd, AdminPausesAndCapsRepsAndTheQueueDrainsOnResume) {
  WriteConfig("lifecycle: {accept_sla_s: 0}\n");
  const std::string target = StartDaemon();
  ASSERT_FALSE(target.empty());
  ASSERT_EQ(Leadctl(target, {"pause", "rep-ada"}).code, 0);
  CommandResult paused = Leadctl(target, {"pause", "rep-grace"});
  ASSERT_EQ(paused.code, 0) << paused.output;
  CommandResult capped = Leadctl(target, {"capacity", "rep-linus", "--max-open", "2"});
  ASSERT_EQ(capped.code, 0) << capped.output;
  CommandResult reps = Leadctl(target, {"reps"});
  ASSERT_EQ(reps.code, 0) << reps.output;
  EXPECT_NE(reps.output.find("paused by an admin"), std::string::npos) << reps.output;
  EXPECT_EQ(Leadctl(target, {"pause", "rep-nobody"}).code, 3) << "unknown rep: NOT_FOUND";
  EXPECT_EQ(Leadctl(target, {"capacity", "rep-linus", "--max-open", "-1"}).code, 2)
      << "a negative cap is refused before sending (or by the server)";

  StreamCollector stream(target);
  std::this_thread::sleep_for(300ms);
  for (int i = 0; i < 3; ++i) Publish(absl::StrCat("adm-", i));
  auto events = stream.WaitFor(3, 60s);
  ASSERT_EQ(events.size(), 3u);
  int to_linus = 0, queued = 0;
  for (const auto& e : events) {
    to_linus += e.status() == v1::ASSIGNMENT_STATUS_ASSIGNED && e.rep_id() == "rep-linus";
    queued += e.status() == v1::ASSIGNMENT_STATUS_UNASSIGNED;
  }
  EXPECT_EQ(to_linus, 2) << "the only unpaused rep, up to its new cap";
  EXPECT_EQ(queued, 1);
  CommandResult unassigned = Leadctl(target, {"unassigned"});
  EXPECT_NE(unassigned.output.find("1 unassigned lead"), std::string::npos) << unassigned.output;

  // Resuming a rep drains the queue within the next retry (every second).
  ASSERT_EQ(Leadctl(target, {"resume", "rep-ada"}).code, 0);
  events = stream.WaitFor(4, 30s);
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[3].status(), v1::ASSIGNMENT_STATUS_ASSIGNED);
  EXPECT_EQ(events[3].rep_id(), "rep-ada");
}

// Account claims through leadctl: an unowned account is claimed, a second rep's claim waits for a
// manager (policy manager_decides), the manager shares it, and the split travels with the next
// assignment into the account.
TEST_F(LifecycleEndToEnd, ClaimConflictSettledByAManagerThroughLeadctl) {
  ::setenv("LEADROUTER_TEST_E2E_DEDUPE_KEY", "e2e-claims-secret-0123456789", 1);
  WriteConfig(
      "lifecycle: {accept_sla_s: 0}\n"
      "dedupe: {hmac_key_env: LEADROUTER_TEST_E2E_DEDUPE_KEY}\n"
      "claims: {policy: manager_decides}\n");
  const std::string target = StartDaemon();
  ASSERT_FALSE(target.empty());
  auto publish_acme = [&](const std::string& event_id) {
    const std::string json =
        absl::StrCat(R"({"event_id":")", event_id, R"(","occurred_at":"2026-11-22T09:00:00Z",)",
                     R"("source_kind":"LEAD_SOURCE_KIND_INBOUND_MARKETING","person":{"email":")",
                     event_id, R"(@acme.com"},"company":{"name":"Acme","country":"US"}})");
    DaemonFixture::Publish(json, {{"content-type", "application/json"}});
  };

  CommandResult owned =
      Leadctl(target, {"claim", "rep-linus", "https://www.acme.com/about", "--note", "deal 42"});
  ASSERT_EQ(owned.code, 0) << owned.output;
  EXPECT_NE(owned.output.find("acme.com  owned  owners rep-linus  until "), std::string::npos)
      << owned.output;
  CommandResult pending = Leadctl(target, {"claim", "rep-grace", "acme.com"});
  ASSERT_EQ(pending.code, 0) << pending.output;
  EXPECT_NE(pending.output.find("acme.com  conflict_pending  owners rep-linus"), std::string::npos)
      << pending.output;
  CommandResult open = Leadctl(target, {"claims", "--open"});
  ASSERT_EQ(open.code, 0) << open.output;
  EXPECT_NE(open.output.find("manager_decides"), std::string::npos) << open.output;
  EXPECT_NE(open.output.find("1 open conflict\n"), std::string::npos) << open.output;
  CommandResult free_mail = Leadctl(target, {"claim", "rep-grace", "gmail.com"});
  EXPECT_EQ(free_mail.code, 3) << free_mail.output;
  EXPECT_NE(free_mail.output.find("INVALID_ARGUMENT: domains[0]: gmail.com"), std::string::npos)
      << free_mail.output;
  EXPECT_EQ(Metric("leadrouter_account_claims_total{outcome=\"owned\"}"), 1);
  EXPECT_EQ(Metric("leadrouter_account_claims_total{outcome=\"conflict_pending\"}"), 1);

  StreamCollector stream(target);
  std::this_thread::sleep_for(300ms);
  publish_acme("acme-1");
  auto events = stream.WaitFor(1, 60s);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].rep_id(), "rep-linus") << "the owner, not rotation's rep-ada";
  EXPECT_EQ(events[0].account_split_size(), 0) << "not shared yet";

  CommandResult shared =
      Leadctl(target, {"resolve", "acme.com", "rep-grace", "--share", "40", "--note", "joint"});
  ASSERT_EQ(shared.code, 0) << shared.output;
  EXPECT_EQ(shared.output,
            "acme.com: rep-grace vs rep-linus: shared; owners now rep-linus 60%, rep-grace 40%\n");
  CommandResult twice = Leadctl(target, {"resolve", "acme.com", "rep-grace", "--keep"});
  EXPECT_EQ(twice.code, 3) << twice.output;
  EXPECT_NE(twice.output.find("FAILED_PRECONDITION"), std::string::npos) << twice.output;
  EXPECT_EQ(Leadctl(target, {"resolve", "acme.com", "rep-grace"}).code, 2) << "no decision";
  EXPECT_EQ(Metric("leadrouter_claim_conflicts_resolved_total{decision=\"share\"}"), 1);

  publish_acme("acme-2");
  events = stream.WaitFor(2, 60s);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[1].rep_id(), "rep-linus");
  ASSERT_EQ(events[1].account_split_size(), 2);
  EXPECT_EQ(events[1].account_split(1).rep_id(), "rep-grace");
  EXPECT_EQ(events[1].account_split(1).percent(), 40u);

  CommandResult listed = Leadctl(target, {"--json", "claims", "--rep", "rep-grace"});
  ASSERT_EQ(listed.code, 0) << listed.output;
  v1::ListClaimsResponse claims;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(listed.output, &claims).ok())
      << listed.output;
  ASSERT_EQ(claims.claims_size(), 1);
  EXPECT_EQ(claims.claims(0).status(), v1::CLAIM_STATUS_OWNER);
  EXPECT_EQ(claims.claims(0).percent(), 40u);
  ASSERT_EQ(claims.conflicts_size(), 1);
  EXPECT_EQ(claims.conflicts(0).resolved_by(), "anonymous");
  EXPECT_EQ(claims.open_conflicts(), 0);
}

// Bearer tokens with scopes and reps, through leadctl against the daemon.
TEST_F(LifecycleEndToEnd, TokensAreCheckedForScopeAndReps) {
  const std::string tokens = ::testing::TempDir() + "/tokens-" + std::to_string(::getpid());
  std::ofstream(tokens) << "tokens:\n"
                           "  - {name: crm-ada, token: crm-ada-secret-0123456789, scopes: [stream, "
                           "act], reps: [rep-ada]}\n"
                           "  - {name: dashboard, token: dashboard-secret-0123456789, scopes: "
                           "[stream]}\n"
                           "  - {name: ops, token: ops-secret-0123456789abc, scopes: [admin]}\n";
  // Auth sits in the grpc section.
  WriteConfig("lifecycle: {accept_sla_s: 0}\n",
              absl::StrCat("{listen: \"127.0.0.1:0\", auth: {tokens_file: ", tokens, "}}"));
  const std::string target = StartDaemon();
  ASSERT_FALSE(target.empty());
  auto token_file = [&](const std::string& name, const std::string& secret) {
    const std::string path = ::testing::TempDir() + "/" + name + std::to_string(::getpid());
    std::ofstream(path) << secret << "\n";
    return path;
  };
  const std::string crm = token_file("crm", "crm-ada-secret-0123456789");
  const std::string dashboard = token_file("dash", "dashboard-secret-0123456789");
  const std::string ops = token_file("ops", "ops-secret-0123456789abc");

  CommandResult anonymous = Leadctl(target, {"accept", "ld_x", "--rep", "rep-ada"});
  EXPECT_EQ(anonymous.code, 3);
  EXPECT_NE(anonymous.output.find("UNAUTHENTICATED"), std::string::npos) << anonymous.output;
  CommandResult read_only =
      Leadctl(target, {"--token-file", dashboard, "accept", "ld_x", "--rep", "rep-ada"});
  EXPECT_EQ(read_only.code, 3);
  EXPECT_NE(read_only.output.find("PERMISSION_DENIED"), std::string::npos) << read_only.output;
  CommandResult other_rep =
      Leadctl(target, {"--token-file", crm, "accept", "ld_x", "--rep", "rep-grace"});
  EXPECT_EQ(other_rep.code, 3);
  EXPECT_NE(other_rep.output.find("PERMISSION_DENIED"), std::string::npos) << other_rep.output;
  CommandResult own_rep =
      Leadctl(target, {"--token-file", crm, "accept", "ld_x", "--rep", "rep-ada"});
  EXPECT_NE(own_rep.output.find("NOT_FOUND"), std::string::npos)
      << "authorized, then the unknown lead: " << own_rep.output;
  CommandResult not_admin = Leadctl(target, {"--token-file", crm, "reps"});
  EXPECT_NE(not_admin.output.find("PERMISSION_DENIED"), std::string::npos) << not_admin.output;
  CommandResult admin = Leadctl(target, {"--token-file", ops, "reps"});
  EXPECT_EQ(admin.code, 0) << admin.output;
  EXPECT_NE(admin.output.find("rep-linus"), std::string::npos) << admin.output;
}

}  // namespace
}  // namespace leadrouter
