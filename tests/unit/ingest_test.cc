// leadrouter-ingest's logic without a network: authentication, the division of a delivery into
// records, and the delivery handler over a fake producer.
#include <gtest/gtest.h>

#include <condition_variable>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <thread>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "leadrouter/config/config.h"
#include "leadrouter/decide/decode_record.h"
#include "leadrouter/ingest/auth.h"
#include "leadrouter/ingest/publisher.h"
#include "leadrouter/ingest/service.h"
#include "leadrouter/sources/mapping.h"
#include "leadrouter/testing/fake_kafka.h"

namespace leadrouter::ingest {
namespace {

using config::SourceAuth;

const core::TimePoint kNow = core::TimePoint(std::chrono::milliseconds(1700000000000));

std::string Example(const std::string& file) {
  std::ifstream in(std::string(LEADROUTER_SOURCE_DIR) + "/deploy/sources/examples/" + file,
                   std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// --- authentication ---

// HubSpot's documented v1 example body, signed the v3 way; the expected value was computed with
// Python's hmac module over "POST" + URL (with %3A decoded) + body + timestamp.
constexpr char kHubSpotBody[] =
    R"([{"eventId":1,"subscriptionId":12345,"portalId":62515,"occurredAt":1564113600000,)"
    R"("subscriptionType":"contact.creation","attemptNumber":0,"objectId":123,)"
    R"("changeSource":"CRM","changeFlag":"NEW","appId":54321}])";
constexpr char kHubSpotSecret[] = "yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy";
constexpr char kHubSpotUrl[] =
    "https://leads.example.com/v1/sources/hubspot_webhook?portal=62515&at=10%3A00";
constexpr char kHubSpotSignature[] = "sDB+9vyN/um9X2f2HK4DMT6MOsXedBu1iC93ksb6rSw=";

SourceAuth Auth(SourceAuth::Kind kind, std::string secret = "s3cret") {
  SourceAuth auth;
  auth.kind = kind;
  auth.secret = std::move(secret);
  return auth;
}

Credentials HubSpotCredentials() {
  Credentials c;
  c.method = "POST";
  c.url = kHubSpotUrl;
  c.body = kHubSpotBody;
  c.hubspot_signature = kHubSpotSignature;
  c.hubspot_timestamp = "1700000000000";
  return c;
}

TEST(IngestAuthTest, HubSpotV3SignatureMatchesAnIndependentComputation) {
  EXPECT_EQ(HubSpotSignatureV3(kHubSpotSecret, "POST", kHubSpotUrl, kHubSpotBody, "1700000000000"),
            kHubSpotSignature);
  EXPECT_EQ(HubSpotSignedUrl("https://h/p?a=%3a%2F%3F%40%21%24%27%28%29%2A%2C%3B&b=%20%26"),
            "https://h/p?a=:/?@!$'()*,;&b=%20%26")
      << "only HubSpot's list is decoded, in any case; others stay as sent";
}

TEST(IngestAuthTest, HubSpotSignatureIsCheckedWithItsTimestamp) {
  const SourceAuth auth = Auth(SourceAuth::Kind::kHubSpotSignature, kHubSpotSecret);
  const auto max_age = std::chrono::seconds(300);
  EXPECT_FALSE(Authenticate(auth, HubSpotCredentials(), kNow, max_age));

  Credentials tampered = HubSpotCredentials();
  const std::string other_body = std::string(kHubSpotBody).replace(2, 7, "eventID");
  tampered.body = other_body;
  EXPECT_EQ(Authenticate(auth, tampered, kNow, max_age)->reason, "mismatch");

  Credentials other_url = HubSpotCredentials();
  other_url.url = "https://leads.example.com/v1/sources/other";
  EXPECT_EQ(Authenticate(auth, other_url, kNow, max_age)->reason, "mismatch");

  EXPECT_EQ(Authenticate(Auth(SourceAuth::Kind::kHubSpotSignature, "another-secret"),
                         HubSpotCredentials(), kNow, max_age)
                ->reason,
            "mismatch");

  // Five minutes and a millisecond later, or as far ahead: a replay.
  EXPECT_FALSE(Authenticate(auth, HubSpotCredentials(), kNow + std::chrono::seconds(300), max_age));
  auto stale =
      Authenticate(auth, HubSpotCredentials(), kNow + std::chrono::milliseconds(300001), max_age);
  ASSERT_TRUE(stale);
  EXPECT_EQ(stale->reason, "stale");
  EXPECT_EQ(
      Authenticate(auth, HubSpotCredentials(), kNow - std::chrono::seconds(301), max_age)->reason,
      "stale");

  Credentials no_signature = HubSpotCredentials();
  no_signature.hubspot_signature.clear();
  EXPECT_EQ(Authenticate(auth, no_signature, kNow, max_age)->reason, "missing");
  EXPECT_TRUE(absl::StrContains(Authenticate(auth, no_signature, kNow, max_age)->message,
                                "X-HubSpot-Signature-v3"));
  Credentials no_timestamp = HubSpotCredentials();
  no_timestamp.hubspot_timestamp.clear();
  EXPECT_EQ(Authenticate(auth, no_timestamp, kNow, max_age)->reason, "missing");
  Credentials bad_timestamp = HubSpotCredentials();
  bad_timestamp.hubspot_timestamp = "yesterday";
  EXPECT_EQ(Authenticate(auth, bad_timestamp, kNow, max_age)->reason, "malformed");
}

TEST(IngestAuthTest, BearerBasicHeaderAndNone) {
  const auto age = std::chrono::seconds(300);
  Credentials c;
  EXPECT_FALSE(Authenticate(Auth(SourceAuth::Kind::kNone, ""), c, kNow, age));

  const SourceAuth bearer = Auth(SourceAuth::Kind::kBearer);
  EXPECT_EQ(Authenticate(bearer, c, kNow, age)->reason, "missing");
  c.authorization = "Bearer s3cret";
  EXPECT_FALSE(Authenticate(bearer, c, kNow, age));
  c.authorization = "bearer   s3cret ";
  EXPECT_FALSE(Authenticate(bearer, c, kNow, age)) << "the scheme is case-insensitive";
  c.authorization = "Bearer s3cre";
  EXPECT_EQ(Authenticate(bearer, c, kNow, age)->reason, "mismatch");
  c.authorization = "Bearer s3cretX";
  EXPECT_EQ(Authenticate(bearer, c, kNow, age)->reason, "mismatch");
  c.authorization = "s3cret";
  EXPECT_EQ(Authenticate(bearer, c, kNow, age)->reason, "malformed");

  SourceAuth basic = Auth(SourceAuth::Kind::kBasic);
  basic.username = "forms";
  c.authorization = "Basic " + absl::Base64Escape("forms:s3cret");
  EXPECT_FALSE(Authenticate(basic, c, kNow, age));
  c.authorization = "Basic " + absl::Base64Escape("other:s3cret");
  EXPECT_EQ(Authenticate(basic, c, kNow, age)->reason, "mismatch");
  c.authorization = "Basic !!!";
  EXPECT_EQ(Authenticate(basic, c, kNow, age)->reason, "malformed");
  c.authorization = "Bearer s3cret";
  EXPECT_EQ(Authenticate(basic, c, kNow, age)->reason, "malformed");

  SourceAuth header = Auth(SourceAuth::Kind::kHeader);
  header.header = "X-Leadrouter-Token";
  c = {};
  EXPECT_EQ(Authenticate(header, c, kNow, age)->reason, "missing");
  c.custom_header = "s3cret";
  EXPECT_FALSE(Authenticate(header, c, kNow, age));
  c.custom_header = "S3CRET";
  EXPECT_EQ(Authenticate(header, c, kNow, age)->reason, "mismatch");

  EXPECT_TRUE(Authenticate(SourceAuth{}, c, kNow, age)) << "a source without auth is refused";
  EXPECT_TRUE(ConstantTimeEquals("", ""));
  EXPECT_FALSE(ConstantTimeEquals("a", ""));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abd"));
}

// --- config ---

constexpr char kConfigHead[] = R"(
kafka: {bootstrap_servers: "127.0.0.1:9092"}
reps: [{id: rep-ada}]
)";

TEST(IngestConfigTest, AuthIsValidatedEverywhereAndReadOnlyForIngest) {
  ::unsetenv("LEADROUTER_TEST_INGEST_TOKEN");
  const std::string text = absl::StrCat(kConfigHead, R"(
sources:
  - {name: forms, profile: web_form, auth: {kind: bearer, secret_env: LEADROUTER_TEST_INGEST_TOKEN}}
)");
  // The daemon validates the reference and never needs the secret.
  auto daemon = config::ParseConfig(text);
  ASSERT_TRUE(daemon.ok()) << daemon.status();
  EXPECT_EQ(daemon->sources[0].auth.kind, SourceAuth::Kind::kBearer);
  EXPECT_TRUE(daemon->sources[0].auth.secret.empty());

  auto ingest = config::ParseConfig(text, {.require_secrets = true, .for_ingest = true});
  ASSERT_FALSE(ingest.ok());
  EXPECT_TRUE(absl::StrContains(ingest.status().message(),
                                "sources[0].auth.secret_env: environment variable "
                                "LEADROUTER_TEST_INGEST_TOKEN is not set"))
      << ingest.status();

  ::setenv("LEADROUTER_TEST_INGEST_TOKEN", "tok", 1);
  ingest = config::ParseConfig(text, {.require_secrets = true, .for_ingest = true});
  ASSERT_TRUE(ingest.ok()) << ingest.status();
  EXPECT_EQ(ingest->sources[0].auth.secret, "tok");
  ::unsetenv("LEADROUTER_TEST_INGEST_TOKEN");
}

TEST(IngestConfigTest, ErrorsNameTheirFields) {
  const std::pair<const char*, const char*> cases[] = {
      {"sources: [{name: a, auth: {kind: magic}}]", "sources[0].auth.kind: must be none"},
      {"sources: [{name: a, auth: {kind: bearer}}]",
       "sources[0].auth.secret_env: kind bearer needs a secret"},
      {"sources: [{name: a, auth: {kind: bearer, secret: x}}]",
       "sources[0].auth.secret: secrets are never inline"},
      {"sources: [{name: a, auth: {kind: basic, secret_env: X}}]",
       "sources[0].auth.username: is required for kind basic"},
      {"sources: [{name: a, auth: {kind: header, secret_env: X}}]",
       "sources[0].auth.header: is required for kind header"},
      {"sources: [{name: a, auth: {kind: header, header: Authorization, secret_env: X}}]",
       "sources[0].auth.header: must be a header name"},
      {"sources: [{name: a, auth: {kind: none, secret_env: X}}]",
       "sources[0].auth.secret_env: kind none takes no secret"},
      {"sources: [{name: a, auth: {kind: none, colour: red}}]", "sources[0].auth.colour"},
      {"ingest: {http: {listen: \"0.0.0.0:8088\"}}",
       "ingest.http.listen: \"0.0.0.0:8088\" is reachable from other hosts"},
      {"ingest: {http: {max_body_bytes: 10}}", "ingest.http.max_body_bytes"},
      {"ingest: {http: {max_concurrent_requests: 50, worker_threads: 10}}",
       "ingest.http.worker_threads: must be at least max_concurrent_requests"},
      {"ingest: {http: {public_url: leads.example.com}}",
       "ingest.http.public_url: must start with https:// or http://"},
      {"ingest: {http: {tls: {cert_file: /c.pem}}}", "ingest.http.tls.key_file"},
  };
  for (const auto& [yaml, expected] : cases) {
    auto cfg = config::ParseConfig(absl::StrCat(kConfigHead, yaml, "\n"));
    ASSERT_FALSE(cfg.ok()) << yaml;
    EXPECT_TRUE(absl::StrContains(cfg.status().message(), expected)) << yaml << "\n"
                                                                     << cfg.status();
  }
  auto open = config::ParseConfig(absl::StrCat(
      kConfigHead, "ingest: {http: {listen: \"0.0.0.0:8088\", allow_insecure: true}}\n"));
  EXPECT_TRUE(open.ok()) << open.status();
}

// --- dividing a delivery ---

std::shared_ptr<const sources::Mapping> Profile(const std::string& name) {
  auto mapping = sources::Mapping::Parse(*sources::ShippedProfileText(name), name);
  EXPECT_TRUE(mapping.ok()) << mapping.status();
  return *mapping;
}

TEST(IngestSplitTest, APageIsOneRecordPerElementWithTheDaemonsEventIds) {
  const auto mapping = Profile("marketo_lead");
  const std::string page = Example("marketo_lead.json");
  auto split = mapping->SplitDelivery(page, "application/json", kNow);
  ASSERT_TRUE(split.ok()) << split.status();
  auto whole = mapping->Map(page, "application/json", kNow);
  ASSERT_TRUE(whole.ok());
  ASSERT_GE(whole->events.size(), 2u);
  ASSERT_EQ(split->pieces.size(), whole->events.size());
  for (size_t i = 0; i < split->pieces.size(); ++i) {
    const auto& piece = split->pieces[i];
    EXPECT_TRUE(piece.split);
    ASSERT_EQ(piece.event_ids.size(), 1u);
    EXPECT_EQ(piece.event_ids[0], whole->events[i].event_id());
    // What the daemon maps from the stored record is the event the whole page gave.
    auto alone = mapping->Map(piece.payload, "application/json", kNow);
    ASSERT_TRUE(alone.ok()) << alone.status();
    ASSERT_EQ(alone->events.size(), 1u);
    EXPECT_EQ(alone->events[0].SerializeAsString(), whole->events[i].SerializeAsString());
  }
}

TEST(IngestSplitTest, ChangesFormsAndObjectsStayWhole) {
  const auto cdc = Profile("salesforce_cdc");
  const std::string change = Example("salesforce_cdc.json");
  auto split = cdc->SplitDelivery(change, std::nullopt, kNow);
  ASSERT_TRUE(split.ok()) << split.status();
  ASSERT_EQ(split->pieces.size(), 1u) << "its rules read the change ($), so it is not divided";
  EXPECT_FALSE(split->pieces[0].split);
  EXPECT_EQ(split->pieces[0].payload, change);
  auto whole = cdc->Map(change, std::nullopt, kNow);
  ASSERT_TRUE(whole.ok());
  EXPECT_EQ(split->pieces[0].event_ids.size(), whole->events.size());

  const auto form = Profile("web_form");
  auto form_split =
      form->SplitDelivery(Example("web_form.txt"), "application/x-www-form-urlencoded", kNow);
  ASSERT_TRUE(form_split.ok()) << form_split.status();
  ASSERT_EQ(form_split->pieces.size(), 1u);
  ASSERT_EQ(form_split->pieces[0].event_ids.size(), 1u);
  EXPECT_TRUE(form_split->pieces[0].event_ids[0].starts_with("webform-"));
}

TEST(IngestSplitTest, MalformedIsAnErrorAndAnUnmappableElementIsItsOwnRecord) {
  const auto mapping = Profile("marketo_lead");
  auto malformed = mapping->SplitDelivery("{\"result\": [", "application/json", kNow);
  EXPECT_FALSE(malformed.ok());
  // Parses, but the first record has no id for its event id: it is stored on its own for the
  // dead-letter topic, and the second still becomes its event.
  auto unmappable = mapping->SplitDelivery(
      R"({"result":[{"email":"a@x.example"},{"id":2,"email":"b@x.example","updatedAt":"2026-11-30T10:00:00Z"}]})",
      "application/json", kNow);
  ASSERT_TRUE(unmappable.ok()) << unmappable.status();
  ASSERT_EQ(unmappable->pieces.size(), 2u);
  EXPECT_TRUE(unmappable->pieces[0].split);
  ASSERT_TRUE(unmappable->pieces[0].unmappable);
  EXPECT_TRUE(unmappable->pieces[0].event_ids.empty());
  EXPECT_FALSE(unmappable->pieces[1].unmappable);
  EXPECT_EQ(unmappable->pieces[1].event_ids.size(), 1u);
  // Undivided (a single record) and unmappable: the whole payload, said so.
  auto single =
      mapping->SplitDelivery(R"({"result":[{"email":"a@x.example"}]})", "application/json", kNow);
  ASSERT_TRUE(single.ok());
  ASSERT_EQ(single->pieces.size(), 1u);
  EXPECT_FALSE(single->pieces[0].split);
  EXPECT_TRUE(single->pieces[0].unmappable);

  auto native = sources::SplitJsonRecords(R"([{"event_id":"a"},{"event_id":"b"}])");
  ASSERT_TRUE(native.ok());
  EXPECT_EQ(native->size(), 2u);
  EXPECT_FALSE(sources::SplitJsonRecords("[1,2]").ok());
  EXPECT_FALSE(sources::SplitJsonRecords("\"x\"").ok());
}

// --- the group commit ---

// A producer whose calls block until the test opens the gate, recording each call's records;
// records to the topic "refused" are refused for good.
class GatedProducer final : public kafka::Producer {
 public:
  absl::Status ProduceAndWait(const std::vector<kafka::OutgoingMessage>& messages,
                              std::chrono::milliseconds,
                              std::vector<kafka::RefusedMessage>* refused,
                              const std::atomic<bool>*) override {
    std::unique_lock<std::mutex> lock(mu_);
    calls_.push_back(messages.size());
    changed_.notify_all();
    changed_.wait(lock, [&] { return open_; });
    for (size_t i = 0; i < messages.size(); ++i) {
      if (messages[i].topic == "refused" && refused != nullptr) {
        refused->push_back({i, "too_large", "refused"});
      }
    }
    return absl::OkStatus();
  }
  absl::Status WarmUp(const std::string&, std::chrono::milliseconds) override {
    return absl::OkStatus();
  }
  void Open() {
    std::lock_guard<std::mutex> lock(mu_);
    open_ = true;
    changed_.notify_all();
  }
  void WaitForCalls(size_t n) {
    std::unique_lock<std::mutex> lock(mu_);
    changed_.wait(lock, [&] { return calls_.size() >= n; });
  }
  std::vector<size_t> calls() {
    std::lock_guard<std::mutex> lock(mu_);
    return calls_;
  }

 private:
  std::mutex mu_;
  std::condition_variable changed_;
  bool open_ = false;
  std::vector<size_t> calls_;
};

std::vector<kafka::OutgoingMessage> Records(const std::string& topic, size_t n) {
  std::vector<kafka::OutgoingMessage> records(n);
  for (kafka::OutgoingMessage& r : records) r.topic = topic;
  return records;
}

TEST(GroupPublisherTest, RequestsWaitingMeanwhileShareOneProduceAndKeepTheirOwnRefusals) {
  GatedProducer producer;
  GroupPublisher publisher(producer);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  std::vector<GroupPublisher::Result> results(4);
  std::vector<std::thread> threads;
  threads.emplace_back([&] { results[0] = publisher.Publish(Records("a", 2), deadline); });
  producer.WaitForCalls(1);  // the first request is being produced alone
  threads.emplace_back([&] { results[1] = publisher.Publish(Records("a", 3), deadline); });
  threads.emplace_back([&] {
    auto records = Records("a", 2);
    records.push_back(kafka::OutgoingMessage{"refused", "", "", {}});
    results[2] = publisher.Publish(std::move(records), deadline);
  });
  threads.emplace_back([&] { results[3] = publisher.Publish(Records("a", 1), deadline); });
  while (publisher.waiting_records() < 7) std::this_thread::yield();
  producer.Open();
  for (std::thread& t : threads) t.join();

  EXPECT_EQ(producer.calls(), (std::vector<size_t>{2, 7}))
      << "the three that waited went out in one call";
  for (const GroupPublisher::Result& r : results) EXPECT_TRUE(r.status.ok()) << r.status;
  EXPECT_TRUE(results[0].refused.empty());
  EXPECT_TRUE(results[1].refused.empty());
  ASSERT_EQ(results[2].refused.size(), 1u);
  EXPECT_EQ(results[2].refused[0].index, 2u) << "an index into the request's own records";
  EXPECT_TRUE(results[3].refused.empty());
}

TEST(GroupPublisherTest, AnExpiredRequestIsNotProducedAndAStopCancelsTheWaiting) {
  GatedProducer producer;
  auto publisher = std::make_unique<GroupPublisher>(producer);
  GroupPublisher::Result blocked;
  std::thread first([&] {
    blocked = publisher->Publish(Records("a", 1),
                                 std::chrono::steady_clock::now() + std::chrono::seconds(30));
  });
  producer.WaitForCalls(1);
  GroupPublisher::Result expired;
  std::thread second(
      [&] { expired = publisher->Publish(Records("a", 1), std::chrono::steady_clock::now()); });
  while (publisher->waiting_records() < 1) std::this_thread::yield();
  producer.Open();
  first.join();
  second.join();
  EXPECT_TRUE(blocked.status.ok());
  EXPECT_EQ(expired.status.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(producer.calls().size(), 1u) << "a request past its deadline is never produced";
  publisher.reset();
}

// --- the delivery handler ---

class IngestServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ::setenv("LEADROUTER_TEST_MARKETO", "mk-token", 1);
    auto cfg = config::ParseConfig(absl::StrCat(kConfigHead, R"(
ingest: {http: {max_records_per_request: 3, max_concurrent_requests: 4, retry_after_s: 7}}
sources:
  - {name: marketo, profile: marketo_lead, auth: {kind: header, header: X-Leadrouter-Token, secret_env: LEADROUTER_TEST_MARKETO}}
  - {name: forms, profile: web_form, topic: forms.raw, auth: {kind: none}}
  - {name: cdc, profile: salesforce_cdc, auth: {kind: none}}
  - {name: native, profile: leadevent, auth: {kind: none}}
  - {name: internal, profile: marketo_lead}
)"),
                                   {.require_secrets = true, .for_ingest = true});
    ASSERT_TRUE(cfg.ok()) << cfg.status();
    config_ = std::make_shared<const config::Config>(*std::move(cfg));
    service_ = std::make_unique<IngestService>(config_, producer_, metrics_, clock_);
  }
  void TearDown() override { ::unsetenv("LEADROUTER_TEST_MARKETO"); }

  http::Response Post(const std::string& source, std::string body,
                      std::vector<std::pair<std::string, std::string>> headers = {
                          {"Content-Type", "application/json"}}) {
    http::Request request;
    request.method = "POST";
    request.path = "/v1/sources/" + source;
    request.headers = std::move(headers);
    request.body = std::move(body);
    return service_->HandleDelivery(request);
  }

  std::vector<std::pair<std::string, std::string>> MarketoHeaders() {
    return {{"Content-Type", "application/json"}, {"X-Leadrouter-Token", "mk-token"}};
  }

  core::FakeClock clock_{kNow};
  testing::FakeProducer producer_;
  IngestMetrics metrics_;
  std::shared_ptr<const config::Config> config_;
  std::unique_ptr<IngestService> service_;
};

TEST_F(IngestServiceTest, APageBecomesKeyedRecordsTheDaemonMapsToTheSameEvents) {
  const std::string page = Example("marketo_lead.json");
  auto headers = MarketoHeaders();
  headers.emplace_back("Idempotency-Key", "delivery-42");
  const http::Response response = Post("marketo", page, headers);
  ASSERT_EQ(response.status, 200) << response.body;
  EXPECT_EQ(response.content_type, "application/json");
  const auto produced = producer_.produced();
  ASSERT_GE(produced.size(), 2u);
  EXPECT_TRUE(absl::StrContains(response.body, absl::StrCat("\"records\":", produced.size())))
      << response.body;
  for (const kafka::OutgoingMessage& m : produced) {
    EXPECT_EQ(m.topic, "leads.inbound");
    const kafka::ConsumedMessage consumed{m.topic, 0, 0, m.key, m.value, m.headers, 0, false};
    EXPECT_EQ(consumed.HeaderValue("x-leadrouter-source"), "marketo");
    EXPECT_EQ(consumed.HeaderValue("content-type"), "application/json");
    EXPECT_EQ(consumed.HeaderValue(kHeaderDeliveryId), "delivery-42");
    const decide::DecodedRecord decoded =
        decide::DecodeRecord(*config_, m.value, "application/json", "marketo", m.topic, kNow);
    ASSERT_FALSE(decoded.rejection) << decoded.rejection->detail;
    ASSERT_EQ(decoded.events.size(), 1u);
    EXPECT_EQ(decoded.events[0].event_id(), m.key) << "keyed by the event id the daemon maps";
    EXPECT_TRUE(absl::StrContains(response.body, absl::StrCat("\"", m.key, "\"")));
  }

  // A form on its source's own topic; a change of two records stays one record.
  ASSERT_EQ(Post("forms", Example("web_form.txt"),
                 {{"Content-Type", "application/x-www-form-urlencoded; charset=UTF-8"}})
                .status,
            200);
  EXPECT_EQ(producer_.produced().back().topic, "forms.raw");
  const size_t before = producer_.produced().size();
  ASSERT_EQ(Post("cdc", Example("salesforce_cdc.json")).status, 200);
  EXPECT_EQ(producer_.produced().size(), before + 1);
  EXPECT_EQ(producer_.produced().back().value, Example("salesforce_cdc.json"))
      << "an undivided delivery is stored byte for byte";
}

TEST_F(IngestServiceTest, RefusalsStoreNothing) {
  struct Case {
    std::string source;
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;
    int status;
    std::string code;
  };
  const std::vector<Case> cases = {
      {"nope", "{}", {}, 404, "unknown_source"},
      {"internal", "{}", {}, 404, "unknown_source"},  // no auth: not served over HTTP
      {"marketo",
       Example("marketo_lead.json"),
       {{"Content-Type", "application/json"}},
       401,
       "unauthorized"},
      {"marketo",
       Example("marketo_lead.json"),
       {{"Content-Type", "application/json"}, {"X-Leadrouter-Token", "mk-tokeN"}},
       401,
       "unauthorized"},
      {"marketo", "{\"result\": [", MarketoHeaders(), 400, "bad_request"},
      {"marketo", "  ", MarketoHeaders(), 400, "bad_request"},
      {"marketo",
       "<lead/>",
       {{"Content-Type", "text/xml"}, {"X-Leadrouter-Token", "mk-token"}},
       415,
       "unsupported_media_type"},
      {"marketo", R"({"result":[{"id":1},{"id":2},{"id":3},{"id":4}]})", MarketoHeaders(), 413,
       "too_many_records"},
      {"native",
       "email=a%40b.example",
       {{"Content-Type", "application/x-www-form-urlencoded"}},
       415,
       "unsupported_media_type"},
  };
  for (const Case& c : cases) {
    const http::Response response = Post(c.source, c.body, c.headers);
    EXPECT_EQ(response.status, c.status) << c.source << " " << c.body << ": " << response.body;
    EXPECT_TRUE(absl::StrContains(response.body, absl::StrCat("\"code\":\"", c.code, "\"")))
        << response.body;
  }
  EXPECT_TRUE(producer_.produced().empty());
  EXPECT_EQ(producer_.calls(), 0);

  http::Request get;
  get.method = "GET";
  get.path = "/v1/sources/marketo";
  const http::Response method = service_->HandleDelivery(get);
  EXPECT_EQ(method.status, 405);
}

TEST_F(IngestServiceTest, KafkaFailureIs503WithRetryAfterAndTheRetrySucceeds) {
  producer_.FailNext(absl::UnavailableError("all brokers down"));
  const std::string page = Example("marketo_lead.json");
  const http::Response refused = Post("marketo", page, MarketoHeaders());
  ASSERT_EQ(refused.status, 503) << refused.body;
  bool retry_after = false;
  for (const auto& [name, value] : refused.headers)
    retry_after |= name == "Retry-After" && value == "7";
  EXPECT_TRUE(retry_after);
  EXPECT_TRUE(producer_.produced().empty());

  const http::Response retried = Post("marketo", page, MarketoHeaders());
  ASSERT_EQ(retried.status, 200) << retried.body;
  const auto first = producer_.produced();
  // The same delivery again: the same keys, so the daemon answers it from its idempotency keys.
  ASSERT_EQ(Post("marketo", page, MarketoHeaders()).status, 200);
  const auto all = producer_.produced();
  ASSERT_EQ(all.size(), 2 * first.size());
  for (size_t i = 0; i < first.size(); ++i) EXPECT_EQ(all[first.size() + i].key, first[i].key);

  service_->StartDraining();
  EXPECT_EQ(Post("marketo", page, MarketoHeaders()).status, 503);
}

TEST_F(IngestServiceTest, NativeEventsAndUnmappableRecordsAreStoredForTheDaemonToJudge) {
  const http::Response native =
      Post("native", R"([{"event_id":"n-1","person":{"email":"a@x.example"}},{"event_id":"n-2"}])");
  ASSERT_EQ(native.status, 200) << native.body;
  ASSERT_EQ(producer_.produced().size(), 2u);
  EXPECT_EQ(producer_.produced()[0].key, "n-1");
  EXPECT_EQ(producer_.produced()[1].key, "n-2");

  // Parses, does not map: stored whole (the daemon dead-letters it `unmappable`), and said so.
  const http::Response unmappable =
      Post("marketo", R"({"result":[{"email":"a@x.example"}]})", MarketoHeaders());
  ASSERT_EQ(unmappable.status, 200) << unmappable.body;
  EXPECT_TRUE(absl::StrContains(unmappable.body, "\"unmappable\":")) << unmappable.body;
  EXPECT_TRUE(producer_.produced().back().key.starts_with("sha256-"));
}

}  // namespace
}  // namespace leadrouter::ingest
