// leadrouter-ingest end to end: the real binaries as processes (leadrouter-ingest, the embedded
// Kafka, the leadrouter daemon, redis-server), deliveries sent the way senders send them (libcurl
// over loopback, signed, chunked, slow, over TLS), read back on Kafka and from the daemon.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "leadrouter/ingest/auth.h"
#include "leadrouter/testing/daemon_fixture.h"
#include "leadrouter/testing/e2e.h"
#include "leadrouter/testing/fake_hubspot.h"
#include "leadrouter/testing/http_client.h"
#include "leadrouter/testing/http_get.h"
#include "leadrouter/testing/subprocess.h"

namespace leadrouter {
namespace {

using namespace std::chrono_literals;
using testing::HttpRequest;
using testing::HttpRequestOptions;
using testing::HttpResponse;
using testing::StreamCollector;
using testing::Subprocess;

constexpr char kHubSpotSecret[] = "e2e-hubspot-app-secret";
constexpr char kMarketoToken[] = "e2e-marketo-token";
constexpr char kFormPassword[] = "e2e-form-password";
constexpr char kNativeToken[] = "e2e-native-token";

std::string Example(const std::string& file) {
  std::ifstream in(std::string(LEADROUTER_SOURCE_DIR) + "/deploy/sources/examples/" + file,
                   std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string NativeLead(const std::string& event_id, const std::string& email) {
  return absl::StrCat(
      R"({"event_id":")", event_id, R"(","occurred_at":"2026-11-22T09:00:00Z",)",
      R"("source_system":"webform","source_kind":"LEAD_SOURCE_KIND_INBOUND_MARKETING",)",
      R"("person":{"first_name":"Test","email":")", email,
      R"("},"company":{"name":"Example Co","employee_count":250,"country":"US"}})");
}

HttpRequestOptions Chunked() {
  HttpRequestOptions options;
  options.chunked = true;
  return options;
}

HttpRequestOptions Get() {
  HttpRequestOptions options;
  options.method = "GET";
  return options;
}

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

class IngestEndToEnd : public testing::DaemonFixture {
 protected:
  // The ingest section and sources of every test config; `http` is the ingest.http mapping.
  static std::string Rest(const std::string& http) {
    return absl::StrCat(R"(reps: [{id: rep-ada}, {id: rep-grace}, {id: rep-linus}]
ingest:
  http: )",
                        http, R"(
sources:
  - {name: hubspot, profile: hubspot_workflow, auth: {kind: hubspot_signature, secret_env: E2E_HUBSPOT_SECRET}}
  - {name: marketo, profile: marketo_lead, auth: {kind: header, header: X-Leadrouter-Token, secret_env: E2E_MARKETO_TOKEN}}
  - {name: forms, profile: web_form, auth: {kind: basic, username: forms, secret_env: E2E_FORM_PASSWORD}}
  - {name: native, profile: leadevent, auth: {kind: bearer, secret_env: E2E_NATIVE_TOKEN}}
  - {name: internal, profile: marketo_lead}
)");
  }

  static std::string DefaultHttp() {
    return R"({listen: "127.0.0.1:0", metrics_listen: "127.0.0.1:0", request_timeout_ms: 3000, max_body_bytes: 65536, max_records_per_request: 50, retry_after_s: 2, worker_threads: 80})";
  }

  void WriteIngestConfig(const std::string& http = DefaultHttp()) {
    WriteConfig({.rest = Rest(http)});
  }

  // Starts leadrouter-ingest on config_path_ and waits for its ready line; sets base_url_ (with
  // `scheme`) and ingest_metrics_port_.
  void StartIngest(const std::string& scheme = "http") {
    auto started = Subprocess::Start({INGEST_BIN, "--config", config_path_}, Secrets());
    ASSERT_TRUE(started.ok()) << started.status();
    ingest_ = *std::move(started);
    auto line = ingest_->WaitForLine("leadrouter-ingest ready", 30s);
    ASSERT_TRUE(line.ok()) << line.status();
    base_url_ = absl::StrCat(scheme, "://", testing::LineField(*line, "http"));
    const std::string metrics = testing::LineField(*line, "metrics");
    ASSERT_TRUE(absl::SimpleAtoi(metrics.substr(metrics.rfind(':') + 1), &ingest_metrics_port_));
  }

  static std::map<std::string, std::string> Secrets() {
    return {{"E2E_HUBSPOT_SECRET", kHubSpotSecret},
            {"E2E_MARKETO_TOKEN", kMarketoToken},
            {"E2E_FORM_PASSWORD", kFormPassword},
            {"E2E_NATIVE_TOKEN", kNativeToken}};
  }

  void TearDown() override {
    if (HasFailure() && ingest_ != nullptr) {
      std::cerr << "--- leadrouter-ingest output ---\n" << ingest_->Output() << "\n";
    }
    ingest_.reset();
    DaemonFixture::TearDown();
  }

  HttpResponse Post(const std::string& path, const std::string& body,
                    std::vector<std::pair<std::string, std::string>> headers,
                    HttpRequestOptions options = {}) {
    options.headers = std::move(headers);
    auto response = HttpRequest(base_url_ + path, body, options);
    EXPECT_TRUE(response.ok()) << response.status();
    return response.ok() ? *std::move(response) : HttpResponse{};
  }

  HttpResponse PostNative(const std::string& body, HttpRequestOptions options = {}) {
    return Post("/v1/sources/native", body,
                {{"Content-Type", "application/json"},
                 {"Authorization", absl::StrCat("Bearer ", kNativeToken)}},
                std::move(options));
  }

  // A HubSpot workflow delivery signed as HubSpot signs it: v3 over the URL it called.
  HttpResponse PostHubSpot(const std::string& body, int64_t timestamp_ms,
                           const std::string& secret = kHubSpotSecret) {
    const std::string path = "/v1/sources/hubspot?portal=62515";
    const std::string timestamp = std::to_string(timestamp_ms);
    const std::string signature =
        ingest::HubSpotSignatureV3(secret, "POST", base_url_ + path, body, timestamp);
    return Post(path, body,
                {{"Content-Type", "application/json"},
                 {"X-HubSpot-Signature-v3", signature},
                 {"X-HubSpot-Request-Timestamp", timestamp}});
  }

  HttpResponse PostMarketo(const std::string& body, const std::string& token = kMarketoToken) {
    return Post("/v1/sources/marketo", body,
                {{"Content-Type", "application/json"}, {"X-Leadrouter-Token", token}});
  }

  double IngestMetric(const std::string& series) {
    auto body = testing::HttpGet("127.0.0.1", ingest_metrics_port_, "/metrics");
    if (!body.ok()) return -1;
    auto value = testing::PrometheusSample(*body, series);
    return value.ok() ? *value : 0;
  }

  std::unique_ptr<Subprocess> ingest_;
  std::string base_url_;
  int ingest_metrics_port_ = 0;
};

// Every event id of a 200's body, in order.
std::vector<std::string> EventIds(const HttpResponse& response) {
  std::vector<std::string> ids;
  const size_t start = response.body.find("\"event_ids\":[");
  if (start == std::string::npos) return ids;
  size_t at = start + 13;
  while (at < response.body.size() && response.body[at] == '"') {
    const size_t end = response.body.find('"', at + 1);
    ids.push_back(response.body.substr(at + 1, end - at - 1));
    at = end + 1;
    if (at < response.body.size() && response.body[at] == ',') ++at;
  }
  return ids;
}

TEST_F(IngestEndToEnd, EachSendersDeliveryIsStoredThenRoutedOnceAndRefusalsStoreNothing) {
  WriteIngestConfig();
  ASSERT_FALSE(StartDaemon().empty());
  ASSERT_NO_FATAL_FAILURE(StartIngest());
  StreamCollector stream(grpc_target_);
  ASSERT_TRUE(WaitForMetric("leadrouter_stream_subscribers", 1, 10s));

  std::set<std::string> accepted;
  auto accept = [&](const HttpResponse& response, size_t events) {
    EXPECT_EQ(response.status, 200) << response.body;
    EXPECT_EQ(response.headers.count("content-type") ? response.headers.at("content-type") : "",
              "application/json");
    const std::vector<std::string> ids = EventIds(response);
    EXPECT_EQ(ids.size(), events) << response.body;
    accepted.insert(ids.begin(), ids.end());
    return ids;
  };

  // HubSpot's workflow webhook, signed v3; a Marketo page of two leads with its header token; a
  // Salesforce Web-to-Lead style form with Basic auth; two native events, one chunked.
  const auto hubspot = accept(PostHubSpot(Example("hubspot_workflow.json"), NowMs()), 1);
  EXPECT_EQ(hubspot, std::vector<std::string>{"hubspot-62515-3234574-1700000360000"});
  const auto marketo = accept(PostMarketo(Example("marketo_lead.json")), 2);
  accept(
      Post("/v1/sources/forms", Example("web_form.txt"),
           {{"Content-Type", "application/x-www-form-urlencoded"},
            {"Authorization",
             absl::StrCat("Basic ", absl::Base64Escape(absl::StrCat("forms:", kFormPassword)))}}),
      1);
  accept(PostNative(absl::StrCat("[", NativeLead("native-1", "one@example.com"), ",",
                                 NativeLead("native-2", "two@example.com"), "]")),
         2);
  accept(PostNative(NativeLead("native-chunked", "chunked@example.com"), Chunked()), 1);
  // The sender's retry of a delivery it thinks failed: the same event ids, one outcome each.
  EXPECT_EQ(accept(PostMarketo(Example("marketo_lead.json")), 2), marketo);
  EXPECT_EQ(accepted.size(), 7u);

  // Refused before anything is stored: wrong token, wrong or stale signature, unknown source,
  // a source without auth, too large (declared and chunked), malformed, wrong method.
  struct Refusal {
    std::string what;
    HttpResponse response;
    int status;
    std::string code;
  };
  std::string big = NativeLead("native-big", "big@example.com");
  big.insert(big.size() - 1, absl::StrCat(R"(,"campaign":")", std::string(70000, 'x'), "\""));
  std::vector<Refusal> refusals;
  refusals.push_back(
      {"wrong token", PostMarketo(Example("marketo_lead.json"), "guess"), 401, "unauthorized"});
  refusals.push_back({"wrong secret",
                      PostHubSpot(Example("hubspot_workflow.json"), NowMs(), "not-the-secret"), 401,
                      "unauthorized"});
  refusals.push_back({"stale signature",
                      PostHubSpot(Example("hubspot_workflow.json"), NowMs() - 600000), 401,
                      "unauthorized"});
  refusals.push_back({"no credentials",
                      Post("/v1/sources/native", NativeLead("native-x", "x@example.com"),
                           {{"Content-Type", "application/json"}}),
                      401, "unauthorized"});
  refusals.push_back({"unknown source",
                      Post("/v1/sources/zoho", "{}", {{"Content-Type", "application/json"}}), 404,
                      "unknown_source"});
  refusals.push_back({"source without auth",
                      Post("/v1/sources/internal", "{}", {{"Content-Type", "application/json"}}),
                      404, "unknown_source"});
  refusals.push_back({"too large", PostNative(big), 413, "too_large"});
  refusals.push_back({"too large, chunked", PostNative(big, Chunked()), 413, "too_large"});
  refusals.push_back(
      {"malformed", PostNative(R"({"event_id": "native-broken", )"), 400, "bad_request"});
  refusals.push_back({"not JSON", PostMarketo("<lead/>"), 400, "bad_request"});
  refusals.push_back({"GET", Post("/v1/sources/native", "", {}, Get()), 405, "method_not_allowed"});
  for (const Refusal& r : refusals) {
    EXPECT_EQ(r.response.status, r.status) << r.what << ": " << r.response.body;
    EXPECT_TRUE(absl::StrContains(r.response.body, absl::StrCat("\"code\":\"", r.code, "\"")))
        << r.what << ": " << r.response.body;
    EXPECT_FALSE(absl::StrContains(r.response.body, kMarketoToken)) << "never echoes a secret";
  }

  // Kafka holds exactly the accepted records (the retry's two included), keyed by event id.
  const std::vector<kafka::ConsumedMessage> inbound = ReadTopic("leads.inbound", 9, 2s);
  ASSERT_EQ(inbound.size(), 9u);
  std::map<std::string, int> by_source;
  for (const kafka::ConsumedMessage& m : inbound) {
    ++by_source[m.HeaderValue("x-leadrouter-source").value_or("")];
    EXPECT_TRUE(accepted.count(m.key) || m.key.starts_with("webform-")) << m.key;
    EXPECT_EQ(m.HeaderValue("x-leadrouter-received-by").value_or(""), "leadrouter-ingest");
  }
  EXPECT_EQ(by_source, (std::map<std::string, int>{
                           {"forms", 1}, {"hubspot", 1}, {"marketo", 4}, {"native", 3}}));

  // The daemon routes each accepted event exactly once; the retry is a replay.
  const std::vector<v1::AssignmentEvent> events = stream.WaitFor(7, 60s);
  ASSERT_EQ(events.size(), 7u);
  std::set<std::string> routed;
  for (const v1::AssignmentEvent& e : events) {
    EXPECT_EQ(e.status(), v1::ASSIGNMENT_STATUS_ASSIGNED) << e.event_id();
    routed.insert(e.event_id());
  }
  EXPECT_EQ(routed, accepted);
  ASSERT_TRUE(WaitForMetric("leadrouter_events_outcome_total{outcome=\"replayed\"}", 2, 30s));
  std::this_thread::sleep_for(1s);
  EXPECT_EQ(stream.WaitFor(8, 1s).size(), 7u) << "no second assignment for the retried page";

  // Counted on ingest's own metrics.
  EXPECT_EQ(IngestMetric(R"(leadrouter_ingest_records_total{source="marketo"})"), 4);
  EXPECT_EQ(IngestMetric(R"(leadrouter_ingest_requests_total{code="200",source="marketo"})"), 2);
  EXPECT_EQ(
      IngestMetric(R"(leadrouter_ingest_auth_failures_total{reason="mismatch",source="marketo"})"),
      1);
  EXPECT_EQ(
      IngestMetric(R"(leadrouter_ingest_auth_failures_total{reason="stale",source="hubspot"})"), 1);
  EXPECT_EQ(IngestMetric(R"(leadrouter_ingest_requests_total{code="404",source="unknown"})"), 1);
  auto ready = HttpRequest(base_url_ + "/readyz", "", Get());
  ASSERT_TRUE(ready.ok()) << ready.status();
  EXPECT_EQ(ready->status, 200) << ready->body;

  auto code = ingest_->Terminate(15s);
  ASSERT_TRUE(code.ok()) << code.status();
  EXPECT_EQ(*code, 0) << ingest_->Output();
}

TEST_F(IngestEndToEnd, EveryShippedProfilesPayloadIsStoredKeyedAndRouted) {
  std::string rest = R"(reps: [{id: rep-ada}, {id: rep-grace}, {id: rep-linus}]
ingest:
  http: )" + DefaultHttp() +
                     "\nsources:\n";
  for (const char* profile : {"hubspot_workflow", "hubspot_form", "marketo_webhook", "marketo_lead",
                              "salesforce_cdc", "pardot_prospect", "web_form"}) {
    absl::StrAppend(&rest, "  - {name: ", profile, ", profile: ", profile,
                    ", auth: {kind: none}}\n");
  }
  // HubSpot webhook events name their contact: the daemon (not ingest) fetches it.
  auto hubspot = testing::FakeHubSpot::Start(
      "pat-na1-ingest-e2e", testing::FakeHubSpot::ExampleContacts(LEADROUTER_SOURCE_DIR));
  ASSERT_NE(hubspot, nullptr);
  setenv("E2E_HUBSPOT_PRIVATE_APP_TOKEN", "pat-na1-ingest-e2e", 1);
  absl::StrAppend(&rest,
                  "  - {name: hubspot_webhook, profile: hubspot_webhook, auth: {kind: none}, "
                  "enrich: {token_env: E2E_HUBSPOT_PRIVATE_APP_TOKEN, api_base_url: \"",
                  hubspot->base_url(), "\"}}\n");
  WriteConfig({.rest = rest});
  ASSERT_FALSE(StartDaemon().empty());
  ASSERT_NO_FATAL_FAILURE(StartIngest());
  StreamCollector stream(grpc_target_);
  ASSERT_TRUE(WaitForMetric("leadrouter_stream_subscribers", 1, 10s));

  // A HubSpot form batch of three submissions (a results[] page) becomes three records.
  std::string submission = Example("hubspot_form.json");
  std::string batch = "{\"results\": [";
  for (int i = 0; i < 3; ++i) {
    std::string one = submission;
    one.replace(one.find("5bd2f2f0"), 8, absl::StrCat("5bd2f2f", i));
    one.replace(one.find("grace.hopper@"), 13, absl::StrCat("grace", i, ".hopper@"));
    absl::StrAppend(&batch, i ? "," : "", one);
  }
  batch += "]}";
  const std::map<std::string, std::pair<std::string, size_t>> deliveries = {
      {"hubspot_workflow", {Example("hubspot_workflow.json"), 1}},
      {"hubspot_form", {batch, 3}},
      {"marketo_webhook", {Example("marketo_webhook.json"), 1}},
      {"marketo_lead", {Example("marketo_lead.json"), 2}},
      {"salesforce_cdc", {Example("salesforce_cdc.json"), 2}},
      {"pardot_prospect", {Example("pardot_prospect.json"), 1}},
      {"web_form", {Example("web_form.txt"), 1}},
      {"hubspot_webhook", {Example("hubspot_webhook.json"), 2}}};
  std::set<std::string> accepted;
  size_t records = 0;
  for (const auto& [source, delivery] : deliveries) {
    const std::string type =
        source == "web_form" ? "application/x-www-form-urlencoded" : "application/json";
    const HttpResponse response =
        Post("/v1/sources/" + source, delivery.first, {{"Content-Type", type}});
    ASSERT_EQ(response.status, 200) << source << ": " << response.body;
    const std::vector<std::string> ids = EventIds(response);
    EXPECT_EQ(ids.size(), delivery.second) << source << ": " << response.body;
    accepted.insert(ids.begin(), ids.end());
    // Divided sources give one record per event; a CDC change stays one record; the HubSpot
    // propertyChange event is a record of its own (the daemon counts it filtered).
    records += source == "salesforce_cdc" ? 1 : source == "hubspot_webhook" ? 3 : delivery.second;
  }
  ASSERT_EQ(accepted.size(), 13u);

  const std::vector<kafka::ConsumedMessage> inbound = ReadTopic("leads.inbound", records, 2s);
  ASSERT_EQ(inbound.size(), records);
  size_t without_event = 0;
  for (const kafka::ConsumedMessage& m : inbound) {
    if (accepted.count(m.key)) continue;  // keyed by its (first) event id
    // The filtered propertyChange event has no event id: keyed by its content's hash.
    EXPECT_TRUE(m.key.starts_with("sha256-")) << m.key;
    ++without_event;
  }
  EXPECT_EQ(without_event, 1u);
  const std::vector<v1::AssignmentEvent> events = stream.WaitFor(13, 60s);
  std::set<std::string> routed;
  for (const v1::AssignmentEvent& e : events) routed.insert(e.event_id());
  EXPECT_EQ(routed, accepted);
  // The daemon fetched each contact once (in a batch read, or alone when the events came in
  // different batches); ingest fetched nothing.
  ASSERT_FALSE(hubspot->calls().empty());
  for (const char* id : {"3234574", "3234575"}) {
    size_t asked = 0;
    for (const auto& call : hubspot->calls()) {
      asked += call.path.ends_with(std::string("/") + id) ||
               call.body.find(absl::StrCat("{\"id\":\"", id, "\"}")) != std::string::npos;
    }
    EXPECT_EQ(asked, 1u) << id;
  }
}

TEST_F(IngestEndToEnd, AKafkaOutageIs503WithRetryAfterAndTheSendersRetryLandsOnce) {
  WriteIngestConfig();
  ASSERT_FALSE(StartDaemon().empty());
  ASSERT_NO_FATAL_FAILURE(StartIngest());
  StreamCollector stream(grpc_target_);
  ASSERT_TRUE(WaitForMetric("leadrouter_stream_subscribers", 1, 10s));
  ASSERT_EQ(PostNative(NativeLead("before-outage", "before@example.com")).status, 200);

  ASSERT_EQ(::kill(kafka_->pid(), SIGUSR1), 0);
  ASSERT_TRUE(kafka_->WaitForLine("brokers down", 10s).ok());
  const HttpResponse during = PostNative(NativeLead("during-outage", "during@example.com"));
  EXPECT_EQ(during.status, 503) << during.body;
  EXPECT_TRUE(absl::StrContains(during.body, "\"code\":\"unavailable\"")) << during.body;
  EXPECT_EQ(during.headers.count("retry-after") ? during.headers.at("retry-after") : "", "2");

  ASSERT_EQ(::kill(kafka_->pid(), SIGUSR2), 0);
  ASSERT_TRUE(kafka_->WaitForLine("brokers up", 10s).ok());
  // The sender retries after Retry-After until it gets its 2xx, as HubSpot and Marketo do.
  int status = 0;
  for (int attempt = 0; attempt < 15 && status != 200; ++attempt) {
    std::this_thread::sleep_for(2s);
    status = PostNative(NativeLead("during-outage", "during@example.com")).status;
  }
  ASSERT_EQ(status, 200);

  // One assignment for the delivery, however many copies reached Kafka.
  const std::vector<v1::AssignmentEvent> events = stream.WaitFor(2, 60s);
  ASSERT_EQ(events.size(), 2u);
  std::this_thread::sleep_for(2s);
  std::map<std::string, int> per_event;
  for (const v1::AssignmentEvent& e : stream.WaitFor(3, 1s)) ++per_event[e.event_id()];
  EXPECT_EQ(per_event, (std::map<std::string, int>{{"before-outage", 1}, {"during-outage", 1}}));
  EXPECT_GE(IngestMetric(R"(leadrouter_ingest_requests_total{code="503",source="native"})"), 1);
}

// A client that opens a connection and sends a partial request, then nothing.
class StalledClient {
 public:
  StalledClient(int port, const std::string& partial) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0 &&
                 ::send(fd_, partial.data(), partial.size(), MSG_NOSIGNAL) ==
                     static_cast<ssize_t>(partial.size());
    timeval timeout{20, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  }
  ~StalledClient() { ::close(fd_); }
  bool connected() const { return connected_; }
  // True when the server closed the connection (or answered and closed) before the socket's 20 s.
  bool ClosedByServer() {
    char buffer[4096];
    while (true) {
      const ssize_t n = ::recv(fd_, buffer, sizeof(buffer), 0);
      if (n == 0) return true;
      if (n < 0) return errno == ECONNRESET;
    }
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
};

TEST_F(IngestEndToEnd, SlowClientsAreCutOffAndNeitherHoldUpOthersNorAStop) {
  WriteIngestConfig();
  ASSERT_NO_FATAL_FAILURE(StartIngest());
  int port = 0;
  ASSERT_TRUE(absl::SimpleAtoi(base_url_.substr(base_url_.rfind(':') + 1), &port));

  // 200 clients that stop mid-headers or mid-body: more than the 80 worker threads.
  std::vector<std::unique_ptr<StalledClient>> stalled;
  for (int i = 0; i < 200; ++i) {
    stalled.push_back(std::make_unique<StalledClient>(
        port, i % 2 ? "POST /v1/sources/native HTTP/1.1\r\nHost: x\r\nContent-Le"
                    : "POST /v1/sources/native HTTP/1.1\r\nHost: x\r\nContent-Length: 500\r\n"
                      "Content-Type: application/json\r\n\r\n{\"event_id\":"));
    ASSERT_TRUE(stalled.back()->connected());
  }
  // A well-behaved sender is still served, within a bound: the stalled ones are cut off after
  // request_timeout_ms (3 s) and their threads taken by the queued connections.
  const auto fast_started = std::chrono::steady_clock::now();
  for (int i = 0; i < 5; ++i) {
    const HttpResponse response =
        PostNative(NativeLead(absl::StrCat("fast-", i), absl::StrCat("fast", i, "@example.com")));
    EXPECT_EQ(response.status, 200) << response.body;
  }
  EXPECT_LT(std::chrono::steady_clock::now() - fast_started, 20s);
  // request_timeout_ms (3 s) cuts the stalled ones off; none is left hanging.
  for (auto& client : stalled) EXPECT_TRUE(client->ClosedByServer());

  // A stop while a client stalls does not wait for it.
  StalledClient late(port, "POST /v1/sources/native HTTP/1.1\r\nHost: x\r\n");
  ASSERT_TRUE(late.connected());
  const auto stopping = std::chrono::steady_clock::now();
  auto code = ingest_->Terminate(20s);
  ASSERT_TRUE(code.ok()) << code.status();
  EXPECT_EQ(*code, 0) << ingest_->Output();
  EXPECT_LT(std::chrono::steady_clock::now() - stopping, 15s) << "SIGKILL would have been needed";
}

TEST_F(IngestEndToEnd, TlsServesHttpsAndAnOpenPlainListenIsRefused) {
  const std::string dir = config_path_.substr(0, config_path_.rfind('/'));
  const std::string cert = absl::StrCat(dir, "/ingest-", ::getpid(), "-cert.pem");
  const std::string key = absl::StrCat(dir, "/ingest-", ::getpid(), "-key.pem");
  auto openssl = Subprocess::Start({"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                                    "-keyout", key, "-out", cert, "-days", "1", "-subj",
                                    "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"});
  ASSERT_TRUE(openssl.ok()) << openssl.status();
  auto made = (*openssl)->Wait(60s);
  ASSERT_TRUE(made.ok() && *made == 0) << (*openssl)->Output();

  WriteIngestConfig(
      absl::StrCat(R"({listen: "127.0.0.1:0", metrics_listen: "127.0.0.1:0", tls: {cert_file: ")",
                   cert, R"(", key_file: ")", key, R"("}})"));
  ASSERT_NO_FATAL_FAILURE(StartIngest("https"));
  const HttpResponse response = PostNative(NativeLead("tls-1", "tls@example.com"), [&] {
    HttpRequestOptions options;
    options.ca_file = cert;
    return options;
  }());
  EXPECT_EQ(response.status, 200) << response.body;
  // Plain HTTP to the TLS port gets no answer a client would take for one.
  std::string plain = base_url_;
  plain.replace(0, 5, "http");
  auto refused =
      HttpRequest(plain + "/v1/sources/native", NativeLead("tls-2", "x@example.com"), [] {
        HttpRequestOptions options;
        options.timeout = 5s;
        return options;
      }());
  EXPECT_TRUE(!refused.ok() || refused->status != 200);
  ASSERT_TRUE(ingest_->Terminate(15s).ok());

  // Listening on every interface without TLS is refused at start, naming the field.
  WriteIngestConfig(R"({listen: "0.0.0.0:0", metrics_listen: "127.0.0.1:0"})");
  auto open = Subprocess::Start({INGEST_BIN, "--config", config_path_}, Secrets());
  ASSERT_TRUE(open.ok());
  auto exit_code = (*open)->Wait(30s);
  ASSERT_TRUE(exit_code.ok()) << exit_code.status();
  EXPECT_EQ(*exit_code, 2);
  EXPECT_TRUE(absl::StrContains((*open)->Output(), "ingest.http.listen")) << (*open)->Output();

  // A missing secret (the test's own environment has none) is refused at start too, naming
  // its field.
  WriteIngestConfig();
  auto missing =
      Subprocess::Start({INGEST_BIN, "--config", config_path_}, {{"E2E_MARKETO_TOKEN", ""}});
  ASSERT_TRUE(missing.ok());
  auto missing_code = (*missing)->Wait(30s);
  ASSERT_TRUE(missing_code.ok());
  EXPECT_EQ(*missing_code, 2);
  EXPECT_TRUE(absl::StrContains((*missing)->Output(), "sources[0].auth.secret_env"))
      << (*missing)->Output();
}

}  // namespace
}  // namespace leadrouter
