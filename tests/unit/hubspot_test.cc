#include <chrono>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "leadrouter/hubspot/contact_fetcher.h"
#include "leadrouter/testing/fake_hubspot.h"

namespace leadrouter::hubspot {
namespace {

using std::chrono::milliseconds;
using ::testing::HasSubstr;

const std::vector<std::string> kProperties = {"email", "firstname"};

class ContactFetcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fake_ = testing::FakeHubSpot::Start(
        "pat-na1-good", testing::FakeHubSpot::ExampleContacts(LEADROUTER_SOURCE_DIR));
    ASSERT_NE(fake_, nullptr);
    source_.name = "hs";
    source_.enrich.configured = true;
    source_.enrich.api_base_url = fake_->base_url();
    source_.enrich.token = "pat-na1-good";
    source_.enrich.token_source = "env:HS_TOKEN";
    source_.enrich.timeout = milliseconds(2000);
    source_.enrich.max_attempts = 3;
    source_.enrich.max_retry_after = milliseconds(5000);
  }
  ContactFetcher Fetcher() {
    return ContactFetcher(
        ContactFetcher::Options{.sleep = [this](milliseconds d) { waits_.push_back(d); },
                                .cache_entries = 16,
                                .cache_ttl = std::chrono::seconds(60),
                                .now = [this] { return now_; }});
  }
  absl::StatusOr<std::string> Fetch(ContactFetcher& fetcher, std::string_view id) {
    return fetcher.Fetch(source_, {"hubspot_contact", id, kProperties});
  }

  std::unique_ptr<testing::FakeHubSpot> fake_;
  config::SourceConfig source_;
  std::vector<milliseconds> waits_;
  std::chrono::steady_clock::time_point now_{};
};

TEST_F(ContactFetcherTest, FetchesTheContactWithTheTokenAndTheProperties) {
  ContactFetcher fetcher = Fetcher();
  auto contact = Fetch(fetcher, "3234574");
  ASSERT_TRUE(contact.ok()) << contact.status();
  EXPECT_THAT(*contact, HasSubstr(R"("email": "ada.lovelace@analytical-engines.example")"));
  const auto calls = fake_->calls();
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].path, "/crm/v3/objects/contacts/3234574");
  EXPECT_EQ(calls[0].query, "archived=false&properties=email,firstname");
  EXPECT_EQ(calls[0].authorization, "Bearer pat-na1-good");
  // Cached: a batch retried after another failure does not ask again, until the TTL passes.
  ASSERT_TRUE(Fetch(fetcher, "3234574").ok());
  EXPECT_EQ(fake_->calls().size(), 1u);
  now_ += std::chrono::seconds(61);
  ASSERT_TRUE(Fetch(fetcher, "3234574").ok());
  EXPECT_EQ(fake_->calls().size(), 2u);
  EXPECT_TRUE(waits_.empty());
}

TEST_F(ContactFetcherTest, HonoursRetryAfterOn429) {
  fake_->Script("3234575", {{429, "2"}, {429, ""}});
  ContactFetcher fetcher = Fetcher();
  auto contact = Fetch(fetcher, "3234575");
  ASSERT_TRUE(contact.ok()) << contact.status();
  EXPECT_THAT(*contact, HasSubstr("Babbage"));
  EXPECT_EQ(fake_->calls().size(), 3u);
  // Retry-After: 2 as given; then no header: the first backoff step.
  EXPECT_EQ(waits_, (std::vector<milliseconds>{milliseconds(2000), milliseconds(250)}));
}

TEST_F(ContactFetcherTest, ARetryAfterLongerThanAllowedFailsAtOnceAsTransient) {
  fake_->Script("3234575", {{429, "30"}});
  ContactFetcher fetcher = Fetcher();
  auto contact = Fetch(fetcher, "3234575");
  EXPECT_TRUE(absl::IsUnavailable(contact.status())) << contact.status();
  EXPECT_THAT(contact.status().message(), HasSubstr("rate limited (429), Retry-After 30 s"));
  EXPECT_EQ(fake_->calls().size(), 1u);
  EXPECT_TRUE(waits_.empty());
}

TEST_F(ContactFetcherTest, ServerErrorsAreRetriedThenTransient) {
  fake_->Script("3234574", {{500, ""}, {503, ""}, {502, ""}});
  ContactFetcher fetcher = Fetcher();
  auto contact = Fetch(fetcher, "3234574");
  EXPECT_TRUE(absl::IsUnavailable(contact.status())) << contact.status();
  EXPECT_EQ(contact.status().message(), "HubSpot contact 3234574: HTTP 502 after 3 attempts");
  EXPECT_EQ(waits_, (std::vector<milliseconds>{milliseconds(250), milliseconds(500)}));
  // The next batch attempt finds HubSpot back.
  EXPECT_TRUE(Fetch(fetcher, "3234574").ok());
}

TEST_F(ContactFetcherTest, MissingContactBadIdAndBadTokenAreAnswers) {
  ContactFetcher fetcher = Fetcher();
  auto missing = Fetch(fetcher, "999");
  EXPECT_TRUE(absl::IsNotFound(missing.status())) << missing.status();
  EXPECT_EQ(missing.status().message(), "HubSpot contact 999: not found (404)");
  auto bad_id = Fetch(fetcher, "12/../34");
  EXPECT_TRUE(absl::IsInvalidArgument(bad_id.status())) << bad_id.status();
  EXPECT_EQ(fake_->calls().size(), 1u) << "an id that is not digits is never sent";

  source_.enrich.token = "pat-na1-revoked";
  auto refused = Fetch(fetcher, "3234574");
  // Transient: fixing the token lets the waiting records through; nothing is dead-lettered.
  EXPECT_TRUE(absl::IsUnavailable(refused.status())) << refused.status();
  EXPECT_THAT(refused.status().message(),
              HasSubstr("HubSpot refused the token (401): check hs's enrich token (env:HS_TOKEN)"));
  EXPECT_THAT(refused.status().message(), ::testing::Not(HasSubstr("revoked")));
  EXPECT_EQ(fake_->calls().size(), 2u) << "a 401 is not retried within the attempt";
}

TEST_F(ContactFetcherTest, PrefetchReadsABatchInOneRequestAndFetchUsesIt) {
  ContactFetcher fetcher = Fetcher();
  fetcher.Prefetch(source_, {"3234574", "3234575", "999", "3234574", "not-an-id"}, kProperties);
  auto calls = fake_->calls();
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].path, "/crm/v3/objects/contacts/batch/read");
  EXPECT_EQ(calls[0].authorization, "Bearer pat-na1-good");
  EXPECT_EQ(calls[0].body,
            R"({"properties":["email","firstname"],"inputs":[{"id":"3234574"},{"id":"3234575"},)"
            R"({"id":"999"}]})")
      << "each id once, none that is not a contact id";
  auto ada = Fetch(fetcher, "3234574");
  ASSERT_TRUE(ada.ok()) << ada.status();
  EXPECT_THAT(*ada, HasSubstr(R"("email":"ada.lovelace@analytical-engines.example")"));
  EXPECT_TRUE(Fetch(fetcher, "3234575").ok());
  EXPECT_EQ(fake_->calls().size(), 1u) << "both came with the batch (answered 207)";
  // HubSpot left 999 out of the batch: Fetch asks for it and reports HubSpot's own answer.
  EXPECT_TRUE(absl::IsNotFound(Fetch(fetcher, "999").status()));
  EXPECT_EQ(fake_->calls().size(), 2u);
  // Cached ids are not read again.
  fetcher.Prefetch(source_, {"3234574", "3234575"}, kProperties);
  EXPECT_EQ(fake_->calls().size(), 2u);
}

TEST_F(ContactFetcherTest, AFailedBatchReadLeavesEveryIdToFetch) {
  fake_->Script("batch", {{429, "1"}});
  ContactFetcher fetcher = Fetcher();
  fetcher.Prefetch(source_, {"3234574", "3234575"}, kProperties);
  EXPECT_TRUE(waits_.empty()) << "a prefetch never waits";
  EXPECT_TRUE(Fetch(fetcher, "3234574").ok());
  EXPECT_TRUE(Fetch(fetcher, "3234575").ok());
  EXPECT_EQ(fake_->calls().size(), 3u);
}

TEST_F(ContactFetcherTest, NoServerIsTransient) {
  source_.enrich.api_base_url = "http://127.0.0.1:1";
  source_.enrich.max_attempts = 2;
  ContactFetcher fetcher = Fetcher();
  auto contact = Fetch(fetcher, "3234574");
  EXPECT_TRUE(absl::IsUnavailable(contact.status())) << contact.status();
  EXPECT_THAT(contact.status().message(), HasSubstr("no answer ("));
  EXPECT_EQ(waits_.size(), 1u);
}

}  // namespace
}  // namespace leadrouter::hubspot
