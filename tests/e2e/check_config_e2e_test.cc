// End to end, `leadrouter check-config`: the built binary on the shipped example config, with
// and without its secret, as a CI job without production secrets runs it; and `leadrouter map`
// on the shipped example config and example payloads, also without the secret.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "leadrouter/testing/fake_hubspot.h"
#include "leadrouter/testing/subprocess.h"

namespace leadrouter {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kExample[] = LEADROUTER_SOURCE_DIR "/deploy/config/leadrouter.example.yaml";

struct CommandResult {
  int code = -1;
  std::string output;
};

CommandResult RunCommand(const std::string& command, std::vector<std::string> args,
                         std::map<std::string, std::string> env = {}) {
  args.insert(args.begin(), {LEADROUTER_BIN, command});
  auto process = testing::Subprocess::Start(std::move(args), std::move(env));
  if (!process.ok()) {
    ADD_FAILURE() << process.status();
    return {};
  }
  auto code = (*process)->Wait(10s);
  if (!code.ok()) ADD_FAILURE() << code.status() << "\n" << (*process)->Output();
  return {code.ok() ? *code : -1, (*process)->Output()};
}

CommandResult CheckConfig(std::vector<std::string> args,
                          std::map<std::string, std::string> env = {}) {
  return RunCommand("check-config", std::move(args), std::move(env));
}

class CheckConfigEndToEnd : public ::testing::Test {
 protected:
  // The child inherits the environment: the key must not be there unless a test adds it.
  void SetUp() override {
    ::unsetenv("LEADROUTER_DEDUPE_KEY");
    ::unsetenv("HUBSPOT_PRIVATE_APP_TOKEN");
  }
};

TEST_F(CheckConfigEndToEnd, PassesWithoutSecretsAndSaysWhichAreMissing) {
  const CommandResult run = CheckConfig({kExample});
  EXPECT_EQ(run.code, 0) << run.output;
  EXPECT_THAT(run.output, HasSubstr(std::string(kExample) + ": valid"));
  EXPECT_THAT(run.output, HasSubstr("secrets:        dedupe.hmac_key_env=LEADROUTER_DEDUPE_KEY "
                                    "(not set)"));
}

TEST_F(CheckConfigEndToEnd, RequireSecretsFailsNamingTheField) {
  const CommandResult run = CheckConfig({kExample, "--require-secrets"});
  EXPECT_EQ(run.code, 2) << run.output;
  EXPECT_THAT(run.output, HasSubstr("config: dedupe.hmac_key_env: environment variable "
                                    "LEADROUTER_DEDUPE_KEY is not set"));
  EXPECT_THAT(run.output, HasSubstr("config: sources[2].enrich.token_env: environment variable "
                                    "HUBSPOT_PRIVATE_APP_TOKEN is not set"));
}

TEST_F(CheckConfigEndToEnd, RequireSecretsPassesWhenTheyAreThereAndNeverPrintsThem) {
  const std::string key = "check-config-e2e-key-0123456789";
  const std::string token = "pat-na1-check-config-e2e-token";
  const CommandResult run =
      CheckConfig({kExample, "--require-secrets"},
                  {{"LEADROUTER_DEDUPE_KEY", key}, {"HUBSPOT_PRIVATE_APP_TOKEN", token}});
  EXPECT_EQ(run.code, 0) << run.output;
  EXPECT_THAT(run.output, HasSubstr("dedupe.hmac_key_env=LEADROUTER_DEDUPE_KEY (set)"));
  EXPECT_THAT(run.output, HasSubstr("sources[2].enrich.token_env=HUBSPOT_PRIVATE_APP_TOKEN (set)"));
  EXPECT_THAT(run.output, HasSubstr("hubspot_webhook (profile hubspot_webhook, "));
  EXPECT_THAT(run.output, HasSubstr("fetches each hubspot_contact from https://api.hubapi.com"));
  EXPECT_THAT(run.output, Not(HasSubstr(key)));
  EXPECT_THAT(run.output, Not(HasSubstr(token)));
}

TEST_F(CheckConfigEndToEnd, AnEndlessFileIsRefusedQuickly) {
  const auto start = std::chrono::steady_clock::now();
  const CommandResult run = CheckConfig({"/dev/zero"});
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
  EXPECT_EQ(run.code, 2) << run.output;
  EXPECT_THAT(run.output,
              HasSubstr("config file /dev/zero: larger than the limit of 4194304 bytes (4 MiB)"));
}

TEST_F(CheckConfigEndToEnd, MapPrintsEachProfilesExampleAsLeadEventsWithoutSecrets) {
  const std::string examples = LEADROUTER_SOURCE_DIR "/deploy/sources/examples/";
  const std::map<std::string, std::pair<std::string, std::string>> runs = {
      {"hubspot_workflow",
       {"hubspot_workflow.json", R"({"event_id":"hubspot-62515-3234574-1700000360000",)"}},
      {"hubspot_form", {"hubspot_form.json", R"("source_record_id":"5bd2f2f0-)"}},
      {"marketo_webhook", {"marketo_webhook.json", R"("source_record_id":"318581")"}},
      {"marketo_lead", {"marketo_lead.json", R"({"event_id":"marketo-51-)"}},
      {"salesforce_cdc", {"salesforce_cdc.json", R"("source_record_id":"00Q5e00000AbCdFAAA")"}},
      {"pardot_prospect",
       {"pardot_prospect.json", R"("email":"margaret@apollo-guidance.example")"}},
      {"web_form", {"web_form.txt", R"("country":"DE")"}},
  };
  for (const auto& [source, run] : runs) {
    const CommandResult result =
        RunCommand("map", {"--config", kExample, "--source", source, examples + run.first});
    EXPECT_EQ(result.code, 0) << source << ": " << result.output;
    EXPECT_THAT(result.output, HasSubstr(run.second)) << source;
  }
  const CommandResult typed =
      RunCommand("map", {"--config", kExample, "--source", "web_form", "--content-type",
                         "application/x-www-form-urlencoded", examples + "web_form.txt"});
  EXPECT_EQ(typed.code, 0) << typed.output;
}

// hubspot_webhook events name a contact: `map` fetches it with the source's token (read-only),
// and says so when the token is not there.
TEST_F(CheckConfigEndToEnd, MapFetchesHubSpotContactsWithTheSourcesToken) {
  const std::string examples = LEADROUTER_SOURCE_DIR "/deploy/sources/examples/";
  const CommandResult no_token = RunCommand(
      "map",
      {"--config", kExample, "--source", "hubspot_webhook", examples + "hubspot_webhook.json"});
  EXPECT_EQ(no_token.code, 2) << no_token.output;
  EXPECT_THAT(no_token.output,
              HasSubstr("source hubspot_webhook fetches each record's hubspot_contact from "
                        "https://api.hubapi.com: its token (env:HUBSPOT_PRIVATE_APP_TOKEN) is not "
                        "there"));

  auto hubspot = testing::FakeHubSpot::Start(
      "pat-na1-map", testing::FakeHubSpot::ExampleContacts(LEADROUTER_SOURCE_DIR));
  ASSERT_NE(hubspot, nullptr);
  std::ifstream in(kExample);
  std::stringstream text;
  text << in.rdbuf();
  std::string config = text.str();
  const std::string enrich = "enrich: {token_env: HUBSPOT_PRIVATE_APP_TOKEN}";
  ASSERT_NE(config.find(enrich), std::string::npos);
  config.replace(config.find(enrich), enrich.size(),
                 "enrich: {token_env: HUBSPOT_PRIVATE_APP_TOKEN, api_base_url: \"" +
                     hubspot->base_url() + "\"}");
  const std::string path = ::testing::TempDir() + "/map-hubspot-" + std::to_string(::getpid());
  {
    std::ofstream out(path);
    out << config;
  }
  const CommandResult mapped = RunCommand(
      "map", {"--config", path, "--source", "hubspot_webhook", examples + "hubspot_webhook.json"},
      {{"HUBSPOT_PRIVATE_APP_TOKEN", "pat-na1-map"}});
  EXPECT_EQ(mapped.code, 0) << mapped.output;
  EXPECT_THAT(mapped.output, HasSubstr(R"("email":"ada.lovelace@analytical-engines.example")"));
  EXPECT_THAT(mapped.output, HasSubstr(R"("email":"Charles.Babbage@Babbage-Co.example")"));
  EXPECT_THAT(mapped.output, HasSubstr("1 record(s) dropped by the source's filter"));
  ASSERT_EQ(hubspot->calls().size(), 1u) << "one batch read for both contacts";
  EXPECT_EQ(hubspot->calls()[0].path, "/crm/v3/objects/contacts/batch/read");
  const CommandResult refused = RunCommand(
      "map", {"--config", path, "--source", "hubspot_webhook", examples + "hubspot_webhook.json"},
      {{"HUBSPOT_PRIVATE_APP_TOKEN", "pat-na1-wrong"}});
  EXPECT_EQ(refused.code, 1) << refused.output;
  EXPECT_THAT(refused.output, HasSubstr("HubSpot refused the token (401)"));
  EXPECT_THAT(refused.output, Not(HasSubstr("pat-na1-wrong")));
  std::remove(path.c_str());
}

TEST_F(CheckConfigEndToEnd, MapNamesTheSourcePathThatFailedAndExitsTwo) {
  const std::string payload = ::testing::TempDir() + "/map-bad-" + std::to_string(::getpid());
  {
    std::FILE* f = std::fopen(payload.c_str(), "w");
    ASSERT_NE(f, nullptr);
    std::fputs(R"({"vid": 1, "portal-id": 2, "properties": {"email": {"value": [1]},)"
               R"( "lastmodifieddate": {"value": "1700000000000"}}})",
               f);
    std::fclose(f);
  }
  const CommandResult bad =
      RunCommand("map", {"--config", kExample, "--source", "hubspot_workflow", payload});
  EXPECT_EQ(bad.code, 2) << bad.output;
  EXPECT_THAT(bad.output, HasSubstr("unmappable: source hubspot_workflow: person.email ← "
                                    "properties.email.value: not a value (an array)"));
  const CommandResult unknown =
      RunCommand("map", {"--config", kExample, "--source", "zoho", payload});
  EXPECT_EQ(unknown.code, 2) << unknown.output;
  EXPECT_THAT(unknown.output, HasSubstr("--source zoho: no such source"));
  std::remove(payload.c_str());
}

}  // namespace
}  // namespace leadrouter
