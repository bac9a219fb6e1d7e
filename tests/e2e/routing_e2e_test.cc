// End to end: the real binaries as processes (leadrouter-kafka-mock, redis-server, leadrouter),
// leads published with librdkafka, assignments received over gRPC.
#include <google/protobuf/util/json_util.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <fstream>
#include <future>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "leadrouter/kafka/consumer.h"
#include "leadrouter/kafka/producer.h"
#include "leadrouter/testing/daemon_fixture.h"
#include "leadrouter/testing/e2e.h"
#include "leadrouter/testing/fake_hubspot.h"
#include "leadrouter/testing/http_get.h"
#include "leadrouter/testing/subprocess.h"
#include "leadrouter/v1/admin_service.grpc.pb.h"
#include "leadrouter/v1/qualification.pb.h"
#include "leadrouter/v1/router_service.grpc.pb.h"

namespace leadrouter {
namespace {

using namespace std::chrono_literals;
using testing::StreamCollector;
using testing::Subprocess;

const std::vector<std::string> kReps = {"rep-ada", "rep-grace", "rep-linus"};

std::string LeadJson(const std::string& event_id, const std::string& email) {
  return absl::StrCat(
      R"({"event_id":")", event_id, R"(","occurred_at":"2026-11-22T09:00:00Z",)",
      R"("source_system":"webform","source_kind":"LEAD_SOURCE_KIND_INBOUND_MARKETING",)",
      R"("campaign":"e2e","person":{"first_name":"Test","email":")", email,
      R"("},"company":{"name":"Example Co","employee_count":250,"country":"US"}})");
}

class RoutingEndToEnd : public testing::DaemonFixture {
 protected:
  void SetUp() override {
    DaemonFixture::SetUp();
    if (HasFatalFailure()) return;
    WriteConfig("reps: [{id: rep-ada}, {id: rep-grace}, {id: rep-linus}]\n" + ExtraConfig());
    ASSERT_FALSE(StartDaemon().empty());
  }

  // YAML appended to every config this fixture writes.
  virtual std::string ExtraConfig() { return ""; }

  // The test config: endpoints of this fixture's servers plus `rest` (reps, qualification...).
  void WriteConfig(const std::string& rest) { DaemonFixture::WriteConfig({.rest = rest}); }
};

TEST_F(RoutingEndToEnd, LeadsAreAssignedOnceInvalidOnesDeadLetteredReplaysHarmless) {
  StreamCollector stream(grpc_target_);
  ASSERT_TRUE(WaitForMetric("leadrouter_stream_subscribers", 1, 10s));

  // Six valid leads: JSON with and without content-type, and one binary protobuf.
  for (int i = 1; i <= 5; ++i) {
    Publish(LeadJson(absl::StrCat("evt-", i), absl::StrCat("person", i, "@example.com")),
            i % 2 ? std::vector<kafka::Header>{{"content-type", "application/json"}}
                  : std::vector<kafka::Header>{});
  }
  v1::LeadEvent binary;
  ASSERT_TRUE(
      google::protobuf::util::JsonStringToMessage(LeadJson("evt-6", "six@example.com"), &binary)
          .ok());
  Publish(binary.SerializeAsString(), {{"content-type", "application/x-protobuf"}});
  // Two that must be dead-lettered, not lost and not routed.
  Publish(
      R"({"event_id":"evt-no-contact","occurred_at":"2026-11-22T09:00:00Z","source_kind":"LEAD_SOURCE_KIND_EVENT"})",
      {{"content-type", "application/json"}});
  Publish("\x01\x02 definitely not a lead", {{"content-type", "application/json"}});

  auto events = stream.WaitFor(6, 60s);
  ASSERT_EQ(events.size(), 6u) << "assignments received over gRPC";
  std::map<std::string, v1::AssignmentEvent> by_event;
  std::map<std::string, int> per_rep;
  for (const auto& e : events) {
    EXPECT_TRUE(by_event.emplace(e.event_id(), e).second)
        << "second assignment for " << e.event_id();
    EXPECT_EQ(e.status(), v1::ASSIGNMENT_STATUS_ASSIGNED);
    EXPECT_FALSE(e.lead_id().empty());
    EXPECT_EQ(e.lead().event_id(), e.event_id());
    EXPECT_EQ(e.config_version().rfind("sha256:", 0), 0u);
    ++per_rep[e.rep_id()];
  }
  for (const auto& rep : kReps) EXPECT_EQ(per_rep[rep], 2) << rep << " got an unfair share";

  // The same event id again (a redelivery, or a producer retry): no second assignment.
  Publish(LeadJson("evt-3", "person3@example.com"), {{"content-type", "application/json"}});
  ASSERT_TRUE(WaitForMetric("leadrouter_events_outcome_total{outcome=\"replayed\"}", 1, 30s));
  // A new lead afterwards is routed as usual; the replay neither routed again nor moved a count
  // (checked by the outcome metrics below).
  Publish(LeadJson("evt-7", "seven@example.com"), {{"content-type", "application/json"}});
  // The stream (fed from the shared assignment log) carries each assignment once: the replay is
  // re-published on the Kafka topic only.
  events = stream.WaitFor(7, 30s);
  ASSERT_EQ(events.size(), 7u);
  int evt3_on_stream = 0;
  for (const auto& e : events) evt3_on_stream += e.event_id() == "evt-3";
  EXPECT_EQ(evt3_on_stream, 1) << "the replay must not reach stream subscribers twice";
  for (const auto& e : events)
    EXPECT_FALSE(e.cursor().empty()) << "every streamed event has a cursor";
  const auto& evt7 = std::find_if(events.begin(), events.end(),
                                  [](const auto& e) { return e.event_id() == "evt-7"; });
  ASSERT_NE(evt7, events.end());
  EXPECT_EQ(evt7->status(), v1::ASSIGNMENT_STATUS_ASSIGNED);

  // Conservation: every consumed event has exactly one outcome.
  ASSERT_TRUE(WaitForMetric("leadrouter_events_consumed_total", 10, 10s));
  EXPECT_EQ(Metric("leadrouter_events_outcome_total{outcome=\"assigned\"}"), 7);
  EXPECT_EQ(Metric("leadrouter_events_outcome_total{outcome=\"replayed\"}"), 1);
  EXPECT_EQ(Metric("leadrouter_events_outcome_total{outcome=\"dead_letter\"}"), 2);
  EXPECT_EQ(Metric("leadrouter_events_deadlettered_total{reason=\"missing_field\"}"), 1);
  EXPECT_EQ(Metric("leadrouter_events_deadlettered_total{reason=\"undecodable\"}"), 1);

  // The dead letters are on their topic with the reason and the original bytes.
  const std::vector<kafka::ConsumedMessage> dead = ReadTopic("leads.deadletter", 2);
  ASSERT_EQ(dead.size(), 2u);
  std::set<std::string> codes;
  for (const auto& m : dead) {
    codes.insert(m.HeaderValue("x-leadrouter-error-code").value_or("?"));
    EXPECT_TRUE(m.HeaderValue("x-leadrouter-error").has_value());
    EXPECT_EQ(m.HeaderValue("x-leadrouter-source-topic").value_or(""), "leads.inbound");
    EXPECT_TRUE(m.HeaderValue("x-leadrouter-source-offset").has_value());
    if (m.HeaderValue("x-leadrouter-error-code") == "missing_field") {
      EXPECT_NE(m.value.find("evt-no-contact"), std::string::npos) << "original bytes kept";
      EXPECT_NE(m.HeaderValue("x-leadrouter-error")->find("person.email or person.phone"),
                std::string::npos);
    }
  }
  EXPECT_EQ(codes, (std::set<std::string>{"missing_field", "undecodable"}));

  // Graceful shutdown: SIGTERM → exit 0.
  auto code = StopDaemon();
  ASSERT_TRUE(code.ok()) << code.status();
  EXPECT_EQ(*code, 0);
}

TEST_F(RoutingEndToEnd, RestartAfterCommitDoesNotReassign) {
  for (int i = 1; i <= 3; ++i) Publish(LeadJson(absl::StrCat("r-", i), "r@example.com"));
  ASSERT_TRUE(WaitForMetric("leadrouter_events_outcome_total{outcome=\"assigned\"}", 3, 60s));
  auto code = StopDaemon();
  ASSERT_TRUE(code.ok());
  ASSERT_EQ(*code, 0);

  // The same events published again and the daemon restarted: it resumes after its committed
  // offsets, and the re-published ids are answered from Redis.
  for (int i = 1; i <= 3; ++i) Publish(LeadJson(absl::StrCat("r-", i), "r@example.com"));
  StartDaemon();
  ASSERT_TRUE(WaitForMetric("leadrouter_events_consumed_total", 3, 60s));
  EXPECT_EQ(Metric("leadrouter_events_outcome_total{outcome=\"replayed\"}"), 3);
  EXPECT_EQ(Metric("leadrouter_events_outcome_total{outcome=\"assigned\"}"), 0);
}

TEST_F(RoutingEndToEnd, LeadctlPrintsAssignments) {
  auto leadctl = Subprocess::Start(
      {LEADCTL_BIN, "--server", grpc_target_, "subscribe", "--count", "1", "--timeout", "60"});
  ASSERT_TRUE(leadctl.ok()) << leadctl.status();
  ASSERT_TRUE(WaitForMetric("leadrouter_stream_subscribers", 1, 10s));
  Publish(LeadJson("ctl-1", "ctl@example.com"));
  auto line = (*leadctl)->WaitForLine("-> rep-", 60s);
  ASSERT_TRUE(line.ok()) << line.status();
  EXPECT_NE(line->find("Example Co"), std::string::npos) << *line;
  auto code = (*leadctl)->Wait(20s);
  ASSERT_TRUE(code.ok());
  EXPECT_EQ(*code, 0);
}

TEST_F(RoutingEndToEnd, ReloadAddsARepAndRefusesABrokenFileWhileRouting) {
  StreamCollector stream(grpc_target_);
  ASSERT_TRUE(WaitForMetric("leadrouter_stream_subscribers", 1, 10s));
  for (int i = 0; i < 3; ++i) Publish(LeadJson(absl::StrCat("before-", i), "b@example.com"));
  auto events = stream.WaitFor(3, 60s);
  ASSERT_EQ(events.size(), 3u);
  const std::string first_version = events[0].config_version();

  // A fourth rep, picked up on SIGHUP without a restart.
  WriteConfig("reps: [{id: rep-ada}, {id: rep-grace}, {id: rep-linus}, {id: rep-new}]\n");
  ASSERT_EQ(::kill(daemon().pid(), SIGHUP), 0);
  ASSERT_TRUE(WaitForMetric("leadrouter_config_reloads_total{result=\"applied\"}", 1, 10s));
  for (int i = 0; i < 4; ++i) Publish(LeadJson(absl::StrCat("after-", i), "a@example.com"));
  events = stream.WaitFor(7, 60s);
  ASSERT_EQ(events.size(), 7u);
  std::map<std::string, int> per_rep;
  std::string second_version;
  for (size_t i = 3; i < events.size(); ++i) {
    ++per_rep[events[i].rep_id()];
    second_version = events[i].config_version();
    EXPECT_NE(events[i].config_version(), first_version) << "decided by the new config";
  }
  EXPECT_EQ(per_rep["rep-new"], 1) << "the new rep takes its turn in the rotation";

  // A broken file is refused; routing goes on with the live config.
  WriteConfig("reps: [{id: rep-ada}, {id: rep-ada}]\n");
  ASSERT_EQ(::kill(daemon().pid(), SIGHUP), 0);
  ASSERT_TRUE(WaitForMetric("leadrouter_config_reloads_total{result=\"refused\"}", 1, 10s));
  Publish(LeadJson("after-broken", "c@example.com"));
  events = stream.WaitFor(8, 60s);
  ASSERT_EQ(events.size(), 8u);
  EXPECT_EQ(events[7].config_version(), second_version);
  EXPECT_EQ(Metric("leadrouter_config_info{version=\"" + second_version + "\"}"), 1);
  EXPECT_TRUE(daemon().WaitForLine("config reload refused", 5s).ok());
}

// The sample lines of /metrics whose series starts with `prefix`, e.g. "name{" or
// "name{code=\"OK\"": series -> value.
std::map<std::string, double> Samples(const std::string& body, const std::string& prefix) {
  std::map<std::string, double> samples;
  std::istringstream lines(body);
  for (std::string line; std::getline(lines, line);) {
    const size_t space = line.rfind(' ');
    if (line.rfind(prefix, 0) == 0 && space != std::string::npos) {
      samples[line.substr(0, space)] = std::stod(line.substr(space + 1));
    }
  }
  return samples;
}

TEST_F(RoutingEndToEnd, MetricsCoverConsumerLagRedisGrpcAndRoutingLoad) {
  // Pre-created before the first lead: the lead series this config bounds, at 0.
  EXPECT_EQ(Metric("leadrouter_lead_events_total{campaign=\"none\",event=\"returned\","
                   "pool=\"default\",source_kind=\"PARTNER\",territory=\"\"}"),
            0);
  EXPECT_EQ(Metric("leadrouter_redis_errors_total{op=\"commit\"}"), 0);

  auto stream = std::make_unique<StreamCollector>(grpc_target_);
  ASSERT_TRUE(WaitForMetric("leadrouter_stream_subscribers", 1, 10s));
  for (int i = 0; i < 3; ++i) {
    Publish(LeadJson(absl::StrCat("m-", i), absl::StrCat("m", i, "@example.com")));
  }
  ASSERT_EQ(stream->WaitFor(3, 60s).size(), 3u);
  stream->Stop();  // a finished StreamAssignments call is counted

  // RPCs by method and code: one that succeeds, one the server does not implement.
  auto channel = Channel();
  auto admin = v1::AdminService::NewStub(channel);
  {
    grpc::ClientContext context;
    v1::ListRepLoadResponse response;
    ASSERT_TRUE(admin->ListRepLoad(&context, v1::ListRepLoadRequest(), &response).ok());
  }
  {
    grpc::GenericStub generic(channel);
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + 10s);
    grpc::Slice empty("");
    const grpc::ByteBuffer request(&empty, 1);  // an empty message (a default one is invalid)
    grpc::ByteBuffer response;
    std::promise<grpc::Status> done;
    generic.UnaryCall(&context, "/leadrouter.v1.RouterService/NoSuchMethod", grpc::StubOptions(),
                      &request, &response, [&done](grpc::Status s) { done.set_value(s); });
    const grpc::Status status = done.get_future().get();
    EXPECT_EQ(status.error_code(), grpc::StatusCode::UNIMPLEMENTED);
  }
  EXPECT_TRUE(WaitForMetric(
      "leadrouter_grpc_requests_total{code=\"OK\",method=\"/leadrouter.v1.AdminService/"
      "ListRepLoad\"}",
      1, 5s));
  EXPECT_GE(Metric("leadrouter_grpc_request_seconds_count{method=\"/leadrouter.v1.AdminService/"
                   "ListRepLoad\"}"),
            1);

  // Redis round trips of the pipeline: its loads and commits.
  EXPECT_GT(Metric("leadrouter_redis_command_seconds_count{op=\"load\"}"), 0);
  EXPECT_GT(Metric("leadrouter_redis_command_seconds_count{op=\"commit\"}"), 0);
  EXPECT_EQ(Metric("leadrouter_redis_errors_total{op=\"commit\"}"), 0);

  // Routing load, sampled every 5 s from the shared state: one lead each, an even split.
  EXPECT_TRUE(WaitForMetric("leadrouter_pool_open_leads{pool=\"default\"}", 3, 10s));
  EXPECT_EQ(Metric("leadrouter_rep_open_leads{rep=\"rep-ada\"}"), 1);
  EXPECT_EQ(Metric("leadrouter_pool_fairness_deviation{pool=\"default\"}"), 0);

  // Lag of the assigned inbound partitions, sampled every second: drained, so 0 each.
  std::map<std::string, double> lag;
  for (const auto until = std::chrono::steady_clock::now() + 5s;
       std::chrono::steady_clock::now() < until; std::this_thread::sleep_for(100ms)) {
    auto body = testing::HttpGet("127.0.0.1", metrics_port_, "/metrics");
    ASSERT_TRUE(body.ok()) << body.status();
    lag = Samples(*body, "leadrouter_consumer_lag_messages{");
    if (!lag.empty()) break;
  }
  ASSERT_FALSE(lag.empty()) << "no lag series for the assigned partitions";
  for (const auto& [series, value] : lag) {
    EXPECT_NE(series.find("topic=\"leads.inbound\""), std::string::npos) << series;
    EXPECT_EQ(value, 0) << series;
  }

  auto body = testing::HttpGet("127.0.0.1", metrics_port_, "/metrics");
  ASSERT_TRUE(body.ok()) << body.status();
  double streams = 0;
  for (const auto& [series, value] : Samples(*body, "leadrouter_grpc_requests_total{")) {
    if (series.find("StreamAssignments") != std::string::npos) streams += value;
  }
  EXPECT_EQ(streams, 1) << "the finished stream, whatever its code";
  EXPECT_EQ(body->find("NoSuchMethod"), std::string::npos) << "method names stay bounded";
  EXPECT_NE(body->find("leadrouter_grpc_requests_total{code=\"UNIMPLEMENTED\",method=\"unknown\"}"),
            std::string::npos)
      << "the unimplemented call still counts, as method \"unknown\"";
}

// Source mappings: each shipped profile's example payload, published on leads.inbound with its
// x-leadrouter-source header (and one source on its own topic), is mapped and routed; an
// unmappable record and an unknown source are dead letters `unmappable`.
class SourcesEndToEnd : public RoutingEndToEnd {
 protected:
  std::string ExtraConfig() override {
    std::string sources = "sources:\n";
    for (const char* profile : {"hubspot_workflow", "hubspot_form", "marketo_webhook",
                                "marketo_lead", "salesforce_cdc", "pardot_prospect", "web_form"}) {
      absl::StrAppend(&sources, "  - {name: ", profile, ", profile: ", profile, "}\n");
    }
    return sources + "  - {name: sfdc_topic, profile: salesforce_cdc, topic: sfdc.leads}\n";
  }

  static std::string Example(const std::string& file) {
    std::ifstream in(std::string(LEADROUTER_SOURCE_DIR) + "/deploy/sources/examples/" + file,
                     std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }
};

TEST_F(SourcesEndToEnd, EveryProfileIsRoutedAndAnUnmappableRecordIsDeadLettered) {
  StreamCollector stream(grpc_target_);
  ASSERT_TRUE(WaitForMetric("leadrouter_stream_subscribers", 1, 10s));
  const std::map<std::string, std::string> files = {{"hubspot_workflow", "hubspot_workflow.json"},
                                                    {"hubspot_form", "hubspot_form.json"},
                                                    {"marketo_webhook", "marketo_webhook.json"},
                                                    {"marketo_lead", "marketo_lead.json"},
                                                    {"salesforce_cdc", "salesforce_cdc.json"},
                                                    {"pardot_prospect", "pardot_prospect.json"},
                                                    {"web_form", "web_form.txt"}};
  for (const auto& [source, file] : files) {
    std::vector<kafka::Header> headers = {{"x-leadrouter-source", source}};
    if (source == "web_form")
      headers.push_back({"content-type", "application/x-www-form-urlencoded"});
    Publish(Example(file), headers);
  }
  // A Salesforce UPDATE is filtered (route_change_types defaults to CREATE): no event.
  std::string update = Example("salesforce_cdc.json");
  update.replace(update.find("\"CREATE\""), 8, "\"UPDATE\"");
  Publish(update, {{"x-leadrouter-source", "salesforce_cdc"}});
  // Unmappable: the e-mail is an object; and a header naming no configured source.
  Publish(R"({"vid": 9, "portal-id": 1, "properties": {"email": {"value": {"x": 1}},
             "lastmodifieddate": {"value": "1700000000000"}}})",
          {{"x-leadrouter-source", "hubspot_workflow"}});
  Publish(LeadJson("evt-unknown-source", "u@example.com"), {{"x-leadrouter-source", "zoho"}});
  // The source with its own topic: no header needed.
  std::string other = Example("salesforce_cdc.json");
  other.replace(other.find("0002c9c4"), 8, "0002c9c5");
  ASSERT_TRUE(producer_->ProduceAndWait({{"sfdc.leads", "", other, {}}}, 10s).ok());

  // 1 + 1 + 1 + 2 (a result[] page) + 2 (two recordIds) + 1 + 1, and 2 from the topic.
  auto events = stream.WaitFor(11, 60s);
  ASSERT_EQ(events.size(), 11u);
  std::set<std::string> event_ids, lead_ids, record_ids;
  std::map<std::string, int> by_system;
  for (const auto& e : events) {
    EXPECT_EQ(e.status(), v1::ASSIGNMENT_STATUS_ASSIGNED);
    event_ids.insert(e.event_id());
    lead_ids.insert(e.lead_id());
    record_ids.insert(e.lead().source_record_id());
    ++by_system[e.lead().source_system()];
  }
  EXPECT_EQ(event_ids.size(), 11u) << "split events have distinct event ids";
  EXPECT_EQ(lead_ids.size(), 11u) << "and distinct lead ids";
  EXPECT_TRUE(event_ids.count("sfdc-0002c9c4-8a1f-4b7e-bd7c-1f5e3c2a9d10-1-00Q5e00000AbCdFAAA"));
  EXPECT_TRUE(event_ids.count("sfdc-0002c9c5-8a1f-4b7e-bd7c-1f5e3c2a9d10-1-00Q5e00000AbCdEAAA"));
  EXPECT_TRUE(record_ids.count("00Q5e00000AbCdEAAA"));
  EXPECT_TRUE(record_ids.count("3234574"));
  EXPECT_EQ(by_system,
            (std::map<std::string, int>{
                {"hubspot", 2}, {"marketo", 3}, {"pardot", 1}, {"salesforce", 4}, {"webform", 1}}));

  // Conservation over events: 11 routed + 2 dead letters; the filtered record adds none.
  ASSERT_TRUE(WaitForMetric("leadrouter_events_outcome_total{outcome=\"dead_letter\"}", 2, 30s));
  ASSERT_TRUE(WaitForMetric("leadrouter_events_consumed_total", 13, 10s));
  EXPECT_EQ(Metric("leadrouter_events_consumed_total"), 13);
  EXPECT_EQ(Metric("leadrouter_events_outcome_total{outcome=\"assigned\"}"), 11);
  EXPECT_EQ(Metric("leadrouter_events_deadlettered_total{reason=\"unmappable\"}"), 2);
  EXPECT_EQ(Metric(R"(leadrouter_source_events_total{outcome="assigned",source="salesforce_cdc"})"),
            2);
  EXPECT_EQ(Metric(R"(leadrouter_source_events_total{outcome="assigned",source="sfdc_topic"})"), 2);
  EXPECT_EQ(Metric(R"(leadrouter_source_events_total{outcome="filtered",source="salesforce_cdc"})"),
            2);
  EXPECT_EQ(
      Metric(R"(leadrouter_source_events_total{outcome="dead_letter",source="hubspot_workflow"})"),
      1);
  EXPECT_EQ(Metric(R"(leadrouter_source_events_total{outcome="dead_letter",source="unknown"})"), 1);
  EXPECT_EQ(
      Metric(R"(leadrouter_source_events_total{outcome="assigned",source="pardot_prospect"})"), 1);

  const std::vector<kafka::ConsumedMessage> dead = ReadTopic("leads.deadletter", 2);
  ASSERT_EQ(dead.size(), 2u);
  std::set<std::string> errors;
  for (const auto& m : dead) {
    EXPECT_EQ(m.HeaderValue("x-leadrouter-error-code").value_or(""), "unmappable");
    errors.insert(m.HeaderValue("x-leadrouter-error").value_or(""));
  }
  EXPECT_EQ(errors, (std::set<std::string>{
                        "source hubspot_workflow: person.email ← properties.email.value: not a "
                        "value (an object)",
                        "x-leadrouter-source: no source \"zoho\" in the config"}));

  auto code = StopDaemon();
  ASSERT_TRUE(code.ok()) << code.status();
  EXPECT_EQ(*code, 0);
}

// hubspot_webhook: subscription events carry only the contact's id; the daemon fetches each
// contact from a fake HubSpot CRM objects API (real HTTP on loopback) and routes the lead.
class HubSpotWebhookEndToEnd : public RoutingEndToEnd {
 protected:
  void SetUp() override {
    hubspot_ = testing::FakeHubSpot::Start(
        "pat-na1-e2e", testing::FakeHubSpot::ExampleContacts(LEADROUTER_SOURCE_DIR));
    ASSERT_NE(hubspot_, nullptr);
    setenv("E2E_HUBSPOT_PRIVATE_APP_TOKEN", "pat-na1-e2e", 1);
    RoutingEndToEnd::SetUp();
  }
  std::string ExtraConfig() override {
    return absl::StrCat(R"(sources:
  - name: hubspot_webhook
    profile: hubspot_webhook
    enrich: {token_env: E2E_HUBSPOT_PRIVATE_APP_TOKEN, api_base_url: ")",
                        hubspot_->base_url(), R"(", max_attempts: 2, max_retry_after_ms: 3000}
)");
  }
  size_t CallsFor(const std::string& id) {
    size_t n = 0;
    for (const auto& call : hubspot_->calls()) n += call.path.ends_with("/" + id);
    return n;
  }
  std::unique_ptr<testing::FakeHubSpot> hubspot_;
};

TEST_F(HubSpotWebhookEndToEnd, EventsAreEnrichedRoutedOnceThrough429sAndAMissingContactIsDead) {
  StreamCollector stream(grpc_target_);
  ASSERT_TRUE(WaitForMetric("leadrouter_stream_subscribers", 1, 10s));
  // The batch read is rate limited (its contacts are then read one by one), and one contact
  // twice more (both attempts of the batch's first try): the batch is retried after a backoff
  // and the lead is routed once; the other contact is not fetched again (cached).
  hubspot_->Script("batch", {{429, ""}});
  hubspot_->Script("3234575", {{429, "1"}, {429, "1"}});
  std::ifstream in(LEADROUTER_SOURCE_DIR "/deploy/sources/examples/hubspot_webhook.json");
  std::stringstream delivery;
  delivery << in.rdbuf();
  Publish(delivery.str(), {{"x-leadrouter-source", "hubspot_webhook"}});
  // A contact deleted before the event was read: HubSpot answers 404.
  Publish(R"([{"eventId": 5, "subscriptionId": 1, "portalId": 62515, "objectId": 999,
              "occurredAt": 1764583300000, "subscriptionType": "contact.creation"}])",
          {{"x-leadrouter-source", "hubspot_webhook"}});

  auto events = stream.WaitFor(2, 60s);
  ASSERT_EQ(events.size(), 2u);
  std::set<std::string> event_ids, record_ids;
  for (const auto& e : events) {
    EXPECT_EQ(e.status(), v1::ASSIGNMENT_STATUS_ASSIGNED);
    EXPECT_EQ(e.lead().source_system(), "hubspot");
    event_ids.insert(e.event_id());
    record_ids.insert(e.lead().source_record_id());
  }
  EXPECT_EQ(event_ids, (std::set<std::string>{"hubspot-62515-3234574-1849230117-1764583200000",
                                              "hubspot-62515-3234575-1849230118-1764583260000"}));
  EXPECT_EQ(record_ids, (std::set<std::string>{"3234574", "3234575"}));

  const std::vector<kafka::ConsumedMessage> dead = ReadTopic("leads.deadletter", 1);
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0].HeaderValue("x-leadrouter-error-code").value_or(""), "unmappable");
  EXPECT_EQ(dead[0].HeaderValue("x-leadrouter-error").value_or(""),
            "source hubspot_webhook: record 0: enrich ← objectId: HubSpot contact 999: not "
            "found (404)");

  EXPECT_GE(Metric(R"(leadrouter_batch_failures_total{stage="enrich"})"), 1);
  EXPECT_EQ(
      Metric(R"(leadrouter_source_events_total{outcome="assigned",source="hubspot_webhook"})"), 2);
  EXPECT_EQ(
      Metric(R"(leadrouter_source_events_total{outcome="filtered",source="hubspot_webhook"})"), 1)
      << "the contact.propertyChange event";
  // 429, 429, then the contact: alone (3) or in the retry's batch read with 999 (2).
  EXPECT_GE(CallsFor("3234575"), 2u);
  EXPECT_LE(CallsFor("3234575"), 3u);
  EXPECT_EQ(CallsFor("3234574"), 1u) << "fetched once, then cached across the retried batch";
  size_t batch_reads = 0;
  for (const auto& call : hubspot_->calls()) {
    EXPECT_EQ(call.authorization, "Bearer pat-na1-e2e");
    if (call.path.ends_with("/batch/read")) {
      ++batch_reads;
      EXPECT_TRUE(call.body.starts_with(R"({"properties":["annualrevenue","company",)"))
          << call.body;
    } else {
      EXPECT_TRUE(call.query.find("properties=annualrevenue,company,") != std::string::npos)
          << call.query;
    }
  }
  EXPECT_GE(batch_reads, 1u);
  // No stream events beyond the two: each lead was routed once.
  std::this_thread::sleep_for(500ms);
  EXPECT_EQ(stream.WaitFor(3, 1s).size(), 2u);
  auto code = StopDaemon();
  ASSERT_TRUE(code.ok()) << code.status();
  EXPECT_EQ(*code, 0);
}

class QualifyingEndToEnd : public RoutingEndToEnd {
 protected:
  std::string ExtraConfig() override {
    return "qualification:\n"
           "  requirements: [{name: us-only, field: company.country, equals: US}]\n"
           "  criteria: [{name: big, field: company.employee_count, at_least: 200, points: 10}]\n"
           "  thresholds: {qualified: 50, nurture: 0}\n";
  }
};

TEST_F(QualifyingEndToEnd, LeadsThatDoNotQualifyGoToNurtureWithTheirReasons) {
  std::string small_us = LeadJson("small-us", "s@example.com");
  small_us.replace(small_us.find("\"employee_count\":250"), 20, "\"employee_count\":20");
  std::string french = LeadJson("french", "f@example.com");
  french.replace(french.find("\"country\":\"US\""), 14, "\"country\":\"FR\"");
  Publish(LeadJson("big-us", "b@example.com"));
  Publish(small_us);
  Publish(french);
  Publish(french);  // a redelivery of a nurtured event is answered from Redis too

  ASSERT_TRUE(WaitForMetric("leadrouter_events_consumed_total", 4, 60s));
  EXPECT_EQ(Metric("leadrouter_events_outcome_total{outcome=\"assigned\"}"), 1);
  EXPECT_EQ(Metric("leadrouter_events_outcome_total{outcome=\"nurture\"}"), 1);
  EXPECT_EQ(Metric("leadrouter_events_outcome_total{outcome=\"disqualified\"}"), 1);
  EXPECT_EQ(Metric("leadrouter_events_outcome_total{outcome=\"replayed\"}"), 1);
  EXPECT_EQ(Metric("leadrouter_leads_failed_requirement_total{requirement=\"us-only\"}"), 1);

  const auto nurtured = ReadTopic("leads.nurture", 3);
  ASSERT_EQ(nurtured.size(), 3u);
  std::map<std::string, v1::NurtureEvent> by_event;
  for (const auto& m : nurtured) {
    v1::NurtureEvent event;
    ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(m.value, &event).ok()) << m.value;
    by_event[event.event_id()] = event;
  }
  ASSERT_EQ(by_event.size(), 2u);
  EXPECT_EQ(by_event["small-us"].qualification().outcome(), v1::QUALIFICATION_OUTCOME_NURTURE);
  EXPECT_EQ(by_event["small-us"].qualification().score(), 0);
  EXPECT_EQ(by_event["french"].qualification().outcome(), v1::QUALIFICATION_OUTCOME_DISQUALIFIED);
  ASSERT_GE(by_event["french"].qualification().reasons_size(), 1);
  EXPECT_EQ(by_event["french"].qualification().reasons(0), "us-only");
  EXPECT_GE(by_event["french"].qualification().rules_size(), 2) << "every rule is explained";

  const auto assigned = ReadTopic("leads.assignments", 1);
  ASSERT_EQ(assigned.size(), 1u);
  v1::AssignmentEvent assignment;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(assigned[0].value, &assignment).ok());
  EXPECT_EQ(assignment.event_id(), "big-us");
  EXPECT_EQ(assignment.qualification().score(), 100);
}

TEST(LeadrouterBinary, CheckConfigPrintsASummaryOrEveryError) {
  setenv("LEADROUTER_DEDUPE_KEY", "e2e-test-dedupe-key-0123456789", 1);
  setenv("HUBSPOT_PRIVATE_APP_TOKEN", "test-hubspot-token", 1);
  const std::string good = LEADROUTER_SOURCE_DIR "/deploy/config/leadrouter.example.yaml";
  auto ok = Subprocess::Start({LEADROUTER_BIN, "check-config", good});
  ASSERT_TRUE(ok.ok());
  EXPECT_TRUE((*ok)->WaitForLine("valid", 10s).ok()) << (*ok)->Output();
  EXPECT_TRUE((*ok)->WaitForLine("qualification:", 10s).ok()) << (*ok)->Output();
  EXPECT_EQ(*(*ok)->Wait(20s), 0);

  const std::string path =
      ::testing::TempDir() + "/two-errors-" + std::to_string(::getpid()) + ".yaml";
  std::ofstream(path)
      << "kafka: {bootstrap_servers: 127.0.0.1:1}\nredis: {port: 0}\nreps: [{id: a}, {id: a}]\n";
  auto bad = Subprocess::Start({LEADROUTER_BIN, "check-config", path});
  ASSERT_TRUE(bad.ok());
  EXPECT_EQ(*(*bad)->Wait(20s), 2);
  EXPECT_NE((*bad)->Output().find("redis.port"), std::string::npos) << (*bad)->Output();
  EXPECT_NE((*bad)->Output().find("reps[1].id"), std::string::npos) << (*bad)->Output();
}

TEST(LeadrouterBinary, SimulateReportsTheShippedLeadsUnderTheExampleConfig) {
  setenv("LEADROUTER_DEDUPE_KEY", "e2e-test-dedupe-key-0123456789", 1);
  setenv("HUBSPOT_PRIVATE_APP_TOKEN", "test-hubspot-token", 1);
  const std::string config = LEADROUTER_SOURCE_DIR "/deploy/config/leadrouter.example.yaml";
  const std::string leads = LEADROUTER_SOURCE_DIR "/deploy/demo/leads.jsonl";
  const std::string html = ::testing::TempDir() + "/sim-" + std::to_string(::getpid()) + ".html";
  auto sim = Subprocess::Start(
      {LEADROUTER_BIN, "simulate", "--config", config, "--leads", leads, "--html", html});
  ASSERT_TRUE(sim.ok());
  EXPECT_EQ(*(*sim)->Wait(30s), 0) << (*sim)->Output();
  EXPECT_NE((*sim)->Output().find("assigned 4, unassigned 0, nurture 1, disqualified 3"),
            std::string::npos)
      << (*sim)->Output();
  std::ifstream page(html);
  const std::string body((std::istreambuf_iterator<char>(page)), std::istreambuf_iterator<char>());
  EXPECT_NE(body.find("<svg"), std::string::npos);
  EXPECT_EQ(body.find("https://"), std::string::npos) << "self-contained";

  auto bad = Subprocess::Start(
      {LEADROUTER_BIN, "simulate", "--config", "/nonexistent.yaml", "--leads", leads});
  ASSERT_TRUE(bad.ok());
  EXPECT_EQ(*(*bad)->Wait(30s), 2);
}

TEST(LeadrouterBinary, RefusesABadConfigNamingTheField) {
  const std::string path = ::testing::TempDir() + "/bad-" + std::to_string(::getpid()) + ".yaml";
  std::ofstream(path) << "kafka: {bootstrap_servers: 127.0.0.1:1}\nreps: [{id: a}, {id: a}]\n";
  auto router = Subprocess::Start({LEADROUTER_BIN, "--config", path});
  ASSERT_TRUE(router.ok());
  auto line = (*router)->WaitForLine("reps[1].id: duplicate rep id", 10s);
  EXPECT_TRUE(line.ok()) << line.status();
  auto code = (*router)->Wait(20s);
  ASSERT_TRUE(code.ok());
  EXPECT_EQ(*code, 2);
}

}  // namespace
}  // namespace leadrouter
