#include "leadrouter/config/config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "leadrouter/config/reloader.h"

namespace leadrouter::config {
namespace {

constexpr char kMinimal[] = R"(
kafka:
  bootstrap_servers: 127.0.0.1:9092
reps:
  - id: rep-ada
    name: Ada Lovelace
  - id: rep-grace
)";

std::string ErrorOf(const std::string& yaml) {
  auto cfg = ParseConfig(yaml);
  if (cfg.ok()) {
    ADD_FAILURE() << "accepted but expected an error:\n" << yaml;
    return "";
  }
  EXPECT_EQ(cfg.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(cfg.status().message());
}

TEST(ConfigTest, MinimalConfigGetsDefaults) {
  auto cfg = ParseConfig(kMinimal);
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  EXPECT_EQ(cfg->kafka.bootstrap_servers, "127.0.0.1:9092");
  EXPECT_EQ(cfg->kafka.topics.inbound, "leads.inbound");
  EXPECT_EQ(cfg->kafka.topics.assignments, "leads.assignments");
  EXPECT_EQ(cfg->kafka.topics.deadletter, "leads.deadletter");
  EXPECT_EQ(cfg->redis.port, 6379);
  EXPECT_EQ(cfg->grpc.listen, "127.0.0.1:50051");
  ASSERT_EQ(cfg->reps.size(), 2u);
  EXPECT_EQ(cfg->reps[0].name, "Ada Lovelace");
  EXPECT_EQ(cfg->version.rfind("sha256:", 0), 0u);
  EXPECT_EQ(cfg->version.size(), 7u + 12u);
}

TEST(ConfigTest, FullConfigIsRead) {
  auto cfg = ParseConfig(R"(
kafka:
  bootstrap_servers: k1:9092,k2:9092
  group_id: lr-eu
  topics: {inbound: in, assignments: out, deadletter: dlq}
  batch_max_messages: 100
  batch_max_wait_ms: 20
  batch_linger_ms: 3
  max_event_bytes: 4096
  consumer_properties: {session.timeout.ms: "6000"}
  producer_properties: {linger.ms: "1"}
redis: {host: redis.internal, port: 6380, tenant: acme, timeout_ms: 500, idempotency_ttl_s: 3600}
grpc: {listen: "0.0.0.0:6000", subscriber_queue_limit: 50, allow_insecure: true}
metrics: {listen: "0.0.0.0:9000"}
pool: west
reps: [{id: a}]
)");
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  EXPECT_EQ(cfg->kafka.group_id, "lr-eu");
  EXPECT_EQ(cfg->kafka.topics.deadletter, "dlq");
  EXPECT_EQ(cfg->kafka.batch_max_wait, std::chrono::milliseconds(20));
  EXPECT_EQ(cfg->kafka.batch_linger, std::chrono::milliseconds(3));
  EXPECT_EQ(cfg->kafka.consumer_properties.at("session.timeout.ms"), "6000");
  EXPECT_EQ(cfg->redis.tenant, "acme");
  EXPECT_EQ(cfg->redis.idempotency_ttl, std::chrono::seconds(3600));
  EXPECT_EQ(cfg->grpc.subscriber_queue_limit, 50);
  ASSERT_EQ(cfg->routing.pools.size(), 1u) << "without pools: one pool of every rep";
  EXPECT_EQ(cfg->routing.pools[0].name, "west");
  ASSERT_EQ(cfg->routing.pools[0].members.size(), 1u);
  EXPECT_EQ(cfg->routing.pools[0].members[0].rep_id, "a");
  ASSERT_NE(cfg->engine, nullptr);
}

TEST(ConfigTest, VersionChangesWithContent) {
  auto a = ParseConfig(kMinimal);
  auto b = ParseConfig(std::string(kMinimal) + "  - id: rep-linus\n");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(a->version, b->version);
}

TEST(ConfigTest, ErrorsNameTheField) {
  EXPECT_EQ(ErrorOf("reps: [{id: a}]"), "config: kafka: is required");
  EXPECT_EQ(ErrorOf("kafka: {group_id: x}\nreps: [{id: a}]"),
            "config: kafka.bootstrap_servers: is required");
  EXPECT_EQ(ErrorOf("kafka: {bootstrap_servers: k:1}"),
            "config: reps: at least one rep is required");
  EXPECT_EQ(ErrorOf("kafka: {bootstrap_servers: k:1}\nreps: [{id: a}, {id: b}, {id: a}]"),
            "config: reps[2].id: duplicate rep id \"a\"");
  EXPECT_EQ(ErrorOf("kafka: {bootstrap_servers: k:1}\nreps: [{name: x}]"),
            "config: reps[0].id: is required");
  EXPECT_EQ(ErrorOf("kafka: {bootstrap_servers: k:1}\nredis: {port: 70000}\nreps: [{id: a}]"),
            "config: redis.port: must be between 1 and 65535, got 70000");
  EXPECT_EQ(ErrorOf("kafka: {bootstrap_servers: k:1}\nredis: {port: six}\nreps: [{id: a}]"),
            "config: redis.port: must be an integer, got \"six\"");
  EXPECT_EQ(ErrorOf("kafka: {bootstrap_servers: k:1}\ngrpc: {listen: nowhere}\nreps: [{id: a}]"),
            "config: grpc.listen: must be host:port, got \"nowhere\"");
  EXPECT_EQ(ErrorOf("kafka: {bootstrap_servers: k:1}\nreps: [{id: \"a b\"}]"),
            "config: reps[0].id: must be 1-64 of [A-Za-z0-9._-]");
  EXPECT_EQ(ErrorOf("kafka: {bootstrap_servers: k:1}\nreps: [{id: a}]\n"
                    "pools: [{name: \"emea:north\", members: [a]}]"),
            "config: pools[0].name: must not contain ':'");
}

TEST(ConfigTest, UnknownFieldsAreRefusedNotIgnored) {
  const std::string err =
      ErrorOf("kafka: {bootstrap_servers: k:1, bootstrap: k:2}\nreps: [{id: a}]");
  EXPECT_EQ(err.rfind("config: kafka.bootstrap: unknown field", 0), 0u) << err;
  EXPECT_EQ(ErrorOf("kafka: {bootstrap_servers: k:1}\nreps: [{id: a}]\nrepz: []")
                .rfind("config: repz: unknown field", 0),
            0u);
}

TEST(ConfigTest, TopicsMustBeDistinct) {
  EXPECT_EQ(
      ErrorOf(
          "kafka: {bootstrap_servers: k:1, topics: {inbound: t, deadletter: t}}\nreps: [{id: a}]"),
      "config: kafka.topics: inbound, assignments, deadletter and nurture must be distinct, "
      "non-empty topics");
}

TEST(ConfigTest, BatchLingerDefaultsToZeroAndIsBounded) {
  auto cfg = ParseConfig("kafka: {bootstrap_servers: k:1}\nreps: [{id: a}]");
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  EXPECT_EQ(cfg->kafka.batch_linger, std::chrono::milliseconds(0));
  EXPECT_EQ(ErrorOf("kafka: {bootstrap_servers: k:1, batch_linger_ms: -1}\nreps: [{id: a}]"),
            "config: kafka.batch_linger_ms: must be between 0 and 60000, got -1");
}

TEST(ConfigTest, EveryErrorIsReportedInOneRun) {
  const std::string err = ErrorOf(R"(
kafka: {bootstrap_servers: k:1, batch_max_messages: 0}
redis: {port: 0, tenant: "a b"}
grpc: {listen: nowhere}
reps: [{id: a}, {id: a}]
)");
  EXPECT_EQ(err,
            "config: kafka.batch_max_messages: must be between 1 and 100000, got 0\n"
            "config: redis.port: must be between 1 and 65535, got 0\n"
            "config: redis.tenant: must be 1-64 of [A-Za-z0-9._-]\n"
            "config: grpc.listen: must be host:port, got \"nowhere\"\n"
            "config: reps[1].id: duplicate rep id \"a\"");
}

TEST(ConfigTest, SecretsComeFromTheEnvironmentOrAFileNeverInline) {
  EXPECT_EQ(ErrorOf("kafka: {bootstrap_servers: k:1}\nredis: {password: hunter2}\nreps: [{id: a}]"),
            "config: redis.password: secrets are never inline: use password_env (a variable name) "
            "or password_file");

  ::setenv("LEADROUTER_TEST_REDIS_PASSWORD", "from-env", 1);
  auto env = ParseConfig(
      "kafka: {bootstrap_servers: k:1}\nredis: {password_env: LEADROUTER_TEST_REDIS_PASSWORD}\n"
      "reps: [{id: a}]");
  ASSERT_TRUE(env.ok()) << env.status();
  EXPECT_EQ(env->redis.password, "from-env");
  EXPECT_EQ(env->redis.password_source, "env:LEADROUTER_TEST_REDIS_PASSWORD");
  EXPECT_EQ(Summarize(*env).find("from-env"), std::string::npos)
      << "a summary never shows a secret";

  EXPECT_EQ(
      ErrorOf("kafka: {bootstrap_servers: k:1}\nredis: {password_env: LEADROUTER_TEST_UNSET_VAR}\n"
              "reps: [{id: a}]"),
      "config: redis.password_env: environment variable LEADROUTER_TEST_UNSET_VAR is not set");

  const std::string secret_file = ::testing::TempDir() + "/redis-password";
  std::ofstream(secret_file) << "from-file\n";
  auto file = ParseConfig("kafka: {bootstrap_servers: k:1}\nredis: {password_file: " + secret_file +
                          "}\nreps: [{id: a}]");
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ(file->redis.password, "from-file");
  EXPECT_EQ(ErrorOf("kafka: {bootstrap_servers: k:1}\nredis: {password_file: /nonexistent/pw}\n"
                    "reps: [{id: a}]"),
            "config: redis.password_file: cannot read /nonexistent/pw");
  EXPECT_EQ(
      ErrorOf(
          "kafka: {bootstrap_servers: k:1}\nredis: {password_file: /dev/zero}\nreps: [{id: a}]"),
      "config: redis.password_file: /dev/zero: first line longer than 4 KiB");
}

TEST(ConfigTest, DedupeNeedsASecretKeyAndCoherentWindows) {
  constexpr char kBase[] = "kafka: {bootstrap_servers: k:1}\nreps: [{id: a}]\n";
  auto off = ParseConfig(kBase);
  ASSERT_TRUE(off.ok()) << off.status();
  EXPECT_FALSE(off->dedupe.enabled);
  EXPECT_NE(Summarize(*off).find("dedupe:         OFF"), std::string::npos) << Summarize(*off);

  ::setenv("LEADROUTER_TEST_DEDUPE_KEY", "0123456789abcdef-secret", 1);
  auto on =
      ParseConfig(std::string(kBase) +
                  "dedupe: {hmac_key_env: LEADROUTER_TEST_DEDUPE_KEY, person_window_days: 30, "
                  "account_owner_idle_days: 7, default_phone_region: DE}\n");
  ASSERT_TRUE(on.ok()) << on.status();
  EXPECT_TRUE(on->dedupe.enabled);
  EXPECT_EQ(on->dedupe.hmac_key, "0123456789abcdef-secret");
  EXPECT_EQ(on->dedupe.person_window, std::chrono::hours(24 * 30));
  EXPECT_EQ(on->dedupe.account_owner_idle, std::chrono::hours(24 * 7));
  EXPECT_EQ(on->dedupe.default_phone_region, "DE");
  EXPECT_EQ(Summarize(*on).find("0123456789abcdef-secret"), std::string::npos);
  EXPECT_NE(Summarize(*on).find("HMAC key from env:LEADROUTER_TEST_DEDUPE_KEY"), std::string::npos);

  EXPECT_EQ(ErrorOf(std::string(kBase) + "dedupe: {}"),
            "config: dedupe.hmac_key_env: dedupe keys are HMACs under a secret: set hmac_key_env "
            "or hmac_key_file (or enabled: false)");
  EXPECT_EQ(ErrorOf(std::string(kBase) + "dedupe: {hmac_key: inline}"),
            "config: dedupe.hmac_key: secrets are never inline: use hmac_key_env (a variable name) "
            "or hmac_key_file\n"
            "config: dedupe.hmac_key_env: dedupe keys are HMACs under a secret: set hmac_key_env "
            "or hmac_key_file (or enabled: false)");
  ::setenv("LEADROUTER_TEST_SHORT_KEY", "short", 1);
  EXPECT_EQ(ErrorOf(std::string(kBase) + "dedupe: {hmac_key_env: LEADROUTER_TEST_SHORT_KEY}"),
            "config: dedupe.hmac_key_env: the key from env:LEADROUTER_TEST_SHORT_KEY has 5 bytes; "
            "use at least 16 random bytes");
  EXPECT_EQ(
      ErrorOf(std::string(kBase) +
              "dedupe: {hmac_key_env: LEADROUTER_TEST_DEDUPE_KEY, default_phone_region: usa}"),
      "config: dedupe.default_phone_region: must be an ISO 3166-1 alpha-2 code in capitals "
      "(e.g. US, DE), got \"usa\"");
  EXPECT_EQ(ErrorOf(std::string(kBase) +
                    "redis: {idempotency_ttl_s: 86400}\n"
                    "dedupe: {hmac_key_env: LEADROUTER_TEST_DEDUPE_KEY, person_window_days: 2}"),
            "config: dedupe.person_window_days: the window (2 days) outlasts the stored leads it "
            "points at (redis.idempotency_ttl_s = 86400); raise idempotency_ttl_s");
  auto disabled = ParseConfig(std::string(kBase) + "dedupe: {enabled: false}");
  ASSERT_TRUE(disabled.ok()) << disabled.status();
  EXPECT_FALSE(disabled->dedupe.enabled);
}

TEST(ConfigTest, ClaimsNeedDedupeAndAKnownPolicy) {
  constexpr char kBase[] = "kafka: {bootstrap_servers: k:1}\nreps: [{id: a}]\n";
  ::setenv("LEADROUTER_TEST_DEDUPE_KEY", "0123456789abcdef-secret", 1);
  const std::string dedupe = "dedupe: {hmac_key_env: LEADROUTER_TEST_DEDUPE_KEY}\n";
  auto defaults = ParseConfig(std::string(kBase) + dedupe);
  ASSERT_TRUE(defaults.ok()) << defaults.status();
  EXPECT_EQ(defaults->claims.policy, ClaimsConfig::Policy::kFirstClaimWins);
  EXPECT_EQ(defaults->claims.ownership, std::chrono::hours(24 * 90));
  EXPECT_NE(Summarize(*defaults).find("claims:         first_claim_wins, ownership 90 days"),
            std::string::npos)
      << Summarize(*defaults);

  auto shared = ParseConfig(std::string(kBase) + dedupe +
                            "claims: {policy: shared, ownership_days: 30, shared_percent: 25}\n");
  ASSERT_TRUE(shared.ok()) << shared.status();
  EXPECT_EQ(shared->claims.policy, ClaimsConfig::Policy::kShared);
  EXPECT_EQ(shared->claims.ownership, std::chrono::hours(24 * 30));
  EXPECT_EQ(shared->claims.shared_percent, 25);

  EXPECT_EQ(ErrorOf(std::string(kBase) + "claims: {policy: manager_decides}\n"),
            "config: claims: claims need the dedupe section (an account is matched by its domain "
            "key)");
  EXPECT_EQ(ErrorOf(std::string(kBase) + dedupe + "claims: {policy: loudest_wins}\n"),
            "config: claims.policy: must be first_claim_wins, manager_decides or shared, got "
            "\"loudest_wins\"");
  EXPECT_NE(ErrorOf(std::string(kBase) + dedupe + "claims: {shared_percent: 100}\n")
                .find("config: claims.shared_percent"),
            std::string::npos);
  EXPECT_NE(ErrorOf(std::string(kBase) + dedupe + "claims: {owner_days: 3}\n")
                .find("config: claims.owner_days"),
            std::string::npos);
}

// Issue 16: both options are new; today each is an unknown field.
TEST(ConfigTest, IngestUnknownFieldsAndKeepPlusTagsDomainsAreReadAndValidated) {
  constexpr char kBase[] = "kafka: {bootstrap_servers: k:1}\nreps: [{id: a}]\n";
  auto defaults = ParseConfig(kBase);
  ASSERT_TRUE(defaults.ok()) << defaults.status();
  EXPECT_EQ(defaults->ingest.unknown_fields, lead::UnknownFields::kIgnore);
  EXPECT_NE(Summarize(*defaults).find("ingest:         unknown JSON fields: ignore\n"),
            std::string::npos)
      << Summarize(*defaults);
  for (const auto& [text, policy] : std::vector<std::pair<std::string, lead::UnknownFields>>{
           {"ignore", lead::UnknownFields::kIgnore},
           {"attributes", lead::UnknownFields::kAttributes},
           {"reject", lead::UnknownFields::kReject}}) {
    auto cfg = ParseConfig(absl::StrCat(kBase, "ingest: {unknown_fields: ", text, "}\n"));
    ASSERT_TRUE(cfg.ok()) << cfg.status();
    EXPECT_EQ(cfg->ingest.unknown_fields, policy);
    EXPECT_NE(Summarize(*cfg).find(absl::StrCat("unknown JSON fields: ", text)), std::string::npos);
  }
  EXPECT_EQ(ErrorOf(std::string(kBase) + "ingest: {unknown_fields: keep}\n"),
            "config: ingest.unknown_fields: must be ignore, attributes or reject, got \"keep\"");
  EXPECT_NE(ErrorOf(std::string(kBase) + "ingest: {unknown: 1}\n").find("config: ingest.unknown"),
            std::string::npos);

  ::setenv("LEADROUTER_TEST_DEDUPE_KEY", "0123456789abcdef-secret", 1);
  const std::string dedupe = "dedupe: {hmac_key_env: LEADROUTER_TEST_DEDUPE_KEY";
  auto tags = ParseConfig(std::string(kBase) + dedupe + "}\n");
  ASSERT_TRUE(tags.ok()) << tags.status();
  EXPECT_TRUE(tags->dedupe.keep_plus_tags_domains.empty());
  EXPECT_NE(Summarize(*tags).find(", +tags dropped on every domain"), std::string::npos);
  auto kept = ParseConfig(std::string(kBase) + dedupe +
                          ", keep_plus_tags_domains: [Shared-Inbox.example, b\u00fccher.de]}\n");
  ASSERT_TRUE(kept.ok()) << kept.status();
  EXPECT_EQ(kept->dedupe.keep_plus_tags_domains,
            (std::vector<std::string>{"shared-inbox.example", "b\u00fccher.de"}));
  EXPECT_NE(Summarize(*kept).find(", +tags kept on shared-inbox.example, b\u00fccher.de"),
            std::string::npos)
      << Summarize(*kept);
  EXPECT_EQ(ErrorOf(std::string(kBase) + dedupe +
                    ", keep_plus_tags_domains: [a.example, jane@b.example, localhost, A.example]}"),
            "config: dedupe.keep_plus_tags_domains[1]: must be a mail domain such as example.com, "
            "got \"jane@b.example\"\n"
            "config: dedupe.keep_plus_tags_domains[2]: must be a mail domain such as example.com, "
            "got \"localhost\"\n"
            "config: dedupe.keep_plus_tags_domains[3]: duplicate domain \"a.example\"");
}

constexpr char kQualification[] = R"(
kafka: {bootstrap_servers: k:1}
reps: [{id: a}]
qualification:
  extra_free_mail_domains: [corp-mail.example]
  requirements:
    - {name: supported-country, field: company.country, in: [US, CA, GB]}
    - {name: no-free-mail, field: person.is_free_mail, equals: "true", negate: true}
    - {name: has-company, field: company.name, exists: true}
  criteria:
    - {name: mid-market, field: company.employee_count, between: [200, 5000], points: 30}
    - {name: high-intent, field: psychographics.intent_score, at_least: 70, points: 40}
    - {name: price-shopper, field: psychographics.buying_priority, equals: PRICE, points: -20}
    - {name: vp-title, field: person.title, matches: "(?i)\\bvp\\b", points: 30}
    - {name: not-student, field: attributes.role, equals: student, negate: true, points: 10}
  thresholds: {qualified: 60, nurture: 30}
  thresholds_by_source:
    REP_SOURCED: {qualified: 20, nurture: 0}
  segments:
    - name: enterprise-innovators
      all_of:
        - {field: company.employee_count, at_least: 1000}
        - {field: psychographics.innovation_appetite, in: [INNOVATOR, EARLY_ADOPTER]}
)";

TEST(ConfigTest, QualificationSectionIsReadAndCompiled) {
  auto cfg = ParseConfig(kQualification);
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  const qualify::Profile& p = cfg->qualification;
  ASSERT_EQ(p.requirements.size(), 3u);
  EXPECT_EQ(p.requirements[0].condition.op, qualify::Operator::kIn);
  EXPECT_EQ(p.requirements[0].condition.values, (std::vector<std::string>{"US", "CA", "GB"}));
  EXPECT_TRUE(p.requirements[1].condition.negate);
  EXPECT_EQ(p.requirements[2].condition.op, qualify::Operator::kExists);
  ASSERT_EQ(p.criteria.size(), 5u);
  EXPECT_EQ(p.criteria[0].condition.op, qualify::Operator::kBetween);
  EXPECT_EQ(p.criteria[0].condition.low, 200);
  EXPECT_EQ(p.criteria[0].condition.high, 5000);
  EXPECT_EQ(p.criteria[2].points, -20);
  EXPECT_EQ(p.criteria[3].condition.values, (std::vector<std::string>{"(?i)\\bvp\\b"}));
  EXPECT_TRUE(p.criteria[4].condition.negate);
  EXPECT_EQ(p.thresholds_by_source.at("REP_SOURCED").qualified, 20);
  ASSERT_EQ(p.segments.size(), 1u);
  EXPECT_EQ(p.segments[0].all_of.size(), 2u);
  EXPECT_EQ(p.extra_free_mail_domains, (std::vector<std::string>{"corp-mail.example"}));
  ASSERT_NE(cfg->qualifier, nullptr);

  v1::LeadEvent lead;
  lead.mutable_person()->set_email("ceo@corp-mail.example");
  lead.mutable_company()->set_country("US");
  lead.mutable_company()->set_name("Acme");
  const qualify::Decision d = cfg->qualifier->Evaluate(lead);
  EXPECT_EQ(d.outcome, qualify::Outcome::kDisqualified);
  EXPECT_EQ(d.reasons, (std::vector<std::string>{"no-free-mail"}))
      << "the compiled qualifier is the one the file describes";
}

TEST(ConfigTest, WithoutQualificationEveryValidLeadQualifies) {
  auto cfg = ParseConfig(kMinimal);
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  ASSERT_NE(cfg->qualifier, nullptr);
  v1::LeadEvent lead;
  lead.set_event_id("e");
  EXPECT_EQ(cfg->qualifier->Evaluate(lead).outcome, qualify::Outcome::kQualified);
}

TEST(ConfigTest, QualificationErrorsNameTheRule) {
  const std::string base = "kafka: {bootstrap_servers: k:1}\nreps: [{id: a}]\nqualification:\n";
  EXPECT_EQ(ErrorOf(base + "  criteria: [{name: big, field: company.employee_count, between: [500, "
                           "50], points: 5}]"),
            "config: qualification.criteria[0].between: lower bound 500 > upper bound 50");
  EXPECT_EQ(ErrorOf(base + "  criteria: [{name: big, field: company.employee_count, at_least: 5}]"),
            "config: qualification.criteria[0].points: is required");
  EXPECT_EQ(
      ErrorOf(base + "  requirements: [{name: r, field: company.country, equals: US, in: [CA]}]"),
      "config: qualification.requirements[0]: needs exactly one of equals, in, between, "
      "at_least, matches, exists; found 2");
  EXPECT_EQ(ErrorOf(base + "  requirements: [{name: r, field: company.country, like: US}]"),
            "config: qualification.requirements[0]: needs exactly one of equals, in, between, "
            "at_least, matches, exists; found 0\n"
            "config: qualification.requirements[0].like: unknown field (known: at_least, between, "
            "equals, exists, field, in, matches, name, negate)");
  EXPECT_EQ(ErrorOf(base + "  requirements: [{name: r, field: company.country, exists: true}, "
                           "{name: r, field: company.name, exists: true}]"),
            "config: qualification.requirements[1].name: duplicate rule name \"r\"");
  EXPECT_EQ(
      ErrorOf(base + "  thresholds: {qualified: 20, nurture: 50}"),
      "config: qualification.thresholds.nurture: nurture threshold 50 > qualified threshold 20");
  EXPECT_EQ(ErrorOf(base + "  thresholds: {qualified: 120}"),
            "config: qualification.thresholds.qualified: must be between 0 and 100, got 120");
  // Semantic errors come from the engine, under the section's path.
  const std::string unknown_field =
      ErrorOf(base + "  requirements: [{name: r, field: company.colour, exists: true}]");
  EXPECT_EQ(unknown_field.rfind("config: qualification: ", 0), 0u) << unknown_field;
  EXPECT_NE(unknown_field.find("company.colour"), std::string::npos) << unknown_field;
  const std::string bad_regex = ErrorOf(
      base + "  criteria: [{name: rx, field: person.title, matches: \"(unclosed\", points: 1}]");
  EXPECT_EQ(bad_regex.rfind("config: qualification: ", 0), 0u) << bad_regex;
  EXPECT_NE(bad_regex.find("rx"), std::string::npos) << bad_regex;
}

constexpr char kRouting[] = R"(
kafka: {bootstrap_servers: k:1}
reps:
  - id: ada
    timezone: America/New_York
    working_hours: {days: [mon, tue, wed, thu, fri], start: "08:30", end: "17:00"}
    out_of_office: [{from: "2026-12-24T00:00:00Z", to: "2027-01-02T00:00:00Z"}]
    max_open_leads: 40
    daily_cap: 12
    skills: [en, de]
  - {id: grace}
  - {id: linus}
pools:
  - name: west
    strategy: weighted_round_robin
    members: [{rep: ada, weight: 3}, grace]
    required_skills: [en]
    overflow: everyone
  - {name: everyone, strategy: least_loaded, members: [ada, grace, linus]}
territories:
  - name: west-enterprise
    match: {countries: [US], regions: [CA, WA], min_employees: 1000, domains: [bigco.example]}
    pool: west
  - {name: catch-all, pool: everyone}
territory_order: most_specific
)";

TEST(ConfigTest, RoutingSectionsAreReadAndCompiled) {
  auto cfg = ParseConfig(kRouting);
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  const routing::RoutingRules& r = cfg->routing;
  ASSERT_EQ(r.reps.size(), 3u);
  const routing::RepProfile& ada = r.reps[0];
  EXPECT_EQ(ada.timezone, "America/New_York");
  ASSERT_TRUE(ada.working_hours.has_value());
  EXPECT_EQ(ada.working_hours->days, (std::set<int>{0, 1, 2, 3, 4}));
  EXPECT_EQ(ada.working_hours->start_minute, 8 * 60 + 30);
  EXPECT_EQ(ada.working_hours->end_minute, 17 * 60);
  ASSERT_EQ(ada.out_of_office.size(), 1u);
  EXPECT_EQ(ada.out_of_office[0].from.time_since_epoch(), std::chrono::seconds(1798070400));
  EXPECT_EQ(ada.max_open_leads, 40);
  EXPECT_EQ(ada.daily_cap, 12);
  EXPECT_EQ(ada.skills, (std::set<std::string>{"en", "de"}));
  ASSERT_EQ(r.pools.size(), 2u);
  EXPECT_EQ(r.pools[0].members[0].weight, 3);
  EXPECT_EQ(r.pools[0].members[1].rep_id, "grace");
  EXPECT_EQ(r.pools[0].members[1].weight, 1);
  EXPECT_EQ(r.pools[0].overflow_pool, "everyone");
  EXPECT_EQ(r.pools[1].strategy, routing::Strategy::kLeastLoaded);
  ASSERT_EQ(r.territories.size(), 2u);
  EXPECT_EQ(r.territories[0].match.min_employees, 1000);
  EXPECT_EQ(r.territories[0].match.domains, (std::set<std::string>{"bigco.example"}));
  EXPECT_EQ(r.order, routing::TerritoryOrder::kMostSpecific);
  ASSERT_NE(cfg->engine, nullptr);
}

TEST(ConfigTest, RoutingErrorsNameTheItem) {
  const std::string reps = "kafka: {bootstrap_servers: k:1}\nreps: [{id: a}, {id: b}]\n";
  EXPECT_EQ(ErrorOf(reps + "pools: [{name: p, strategy: fastest, members: [a]}]"),
            "config: pools[0].strategy: must be weighted_round_robin, least_loaded or "
            "conversion_weighted, got \"fastest\"");
  EXPECT_EQ(ErrorOf(reps + "pools: [{name: p, members: [{rep: a, weight: 0}]}]"),
            "config: pools[0].members[0].weight: must be between 1 and 1000, got 0");
  EXPECT_EQ(ErrorOf(reps + "pool: x\npools: [{name: p, members: [a]}]"),
            "config: pool: give either pool (one pool of every rep) or pools, not both");
  EXPECT_EQ(
      ErrorOf(
          "kafka: {bootstrap_servers: k:1}\nreps: [{id: a, working_hours: {start: \"25:00\"}}]"),
      "config: reps[0].working_hours.start: must be HH:MM");
  EXPECT_EQ(ErrorOf("kafka: {bootstrap_servers: k:1}\nreps: [{id: a, out_of_office: [{from: "
                    "\"2026-12-02T00:00:00Z\", to: \"2026-12-01T00:00:00Z\"}]}]"),
            "config: reps[0].out_of_office[0].to: must be after from");
  EXPECT_EQ(
      ErrorOf(reps +
              "territories: [{name: t, pool: p, match: {min_employees: 10, max_employees: 5}}]")
          .rfind("config: territories[0].match.max_employees: is below min_employees", 0),
      0u);
  // Cross-references are checked by the engine, under the section's path.
  const std::string unknown_member = ErrorOf(reps + "pools: [{name: p, members: [nobody]}]");
  EXPECT_EQ(unknown_member.rfind("config: routing: ", 0), 0u) << unknown_member;
  EXPECT_NE(unknown_member.find("nobody"), std::string::npos) << unknown_member;
  const std::string bad_zone =
      ErrorOf("kafka: {bootstrap_servers: k:1}\nreps: [{id: a, timezone: Mars/Olympus}]");
  EXPECT_NE(bad_zone.find("Mars/Olympus"), std::string::npos) << bad_zone;
  const std::string unknown_pool = ErrorOf(reps + "territories: [{name: t, pool: nowhere}]");
  EXPECT_NE(unknown_pool.find("nowhere"), std::string::npos) << unknown_pool;
}

TEST(ConfigTest, SyntaxErrorsGiveTheLine) {
  const std::string err = ErrorOf("kafka:\n  bootstrap_servers: [unclosed\n");
  EXPECT_EQ(err.rfind("config: line ", 0), 0u) << err;
}

TEST(ConfigTest, LoadConfigFileNamesTheFile) {
  auto missing = LoadConfigFile("/nonexistent/leadrouter.yaml");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("/nonexistent/leadrouter.yaml"), std::string::npos);

  const std::string path = ::testing::TempDir() + "/bad.yaml";
  std::ofstream(path) << "kafka: {bootstrap_servers: k:1}\n";
  auto bad = LoadConfigFile(path);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(std::string(bad.status().message()),
            path + ":\nconfig: reps: at least one rep is required");
}

TEST(ConfigTest, ShippedExampleConfigIsValid) {
  setenv("LEADROUTER_DEDUPE_KEY", "config-test-dedupe-key-0123", 1);
  setenv("HUBSPOT_PRIVATE_APP_TOKEN", "test-hubspot-token", 1);
  auto cfg = LoadConfigFile(LEADROUTER_SOURCE_DIR "/deploy/config/leadrouter.example.yaml");
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  EXPECT_GE(cfg->reps.size(), 2u);
}

// --- duplicate keys, bounds on the file and the document ---------------------------------

TEST(ConfigTest, DuplicateKeysAreRefusedAtEveryDepth) {
  // Top level: yaml-cpp would keep the first kafka section and ignore the second.
  EXPECT_EQ(ErrorOf("kafka: {bootstrap_servers: k:1}\nreps: [{id: a}]\n"
                    "kafka: {bootstrap_servers: k:2}\n"),
            "config: kafka: duplicate key (also at line 1)");
  // A nested mapping.
  EXPECT_EQ(ErrorOf("kafka:\n  bootstrap_servers: k:1\n  group_id: a\n  group_id: b\n"
                    "reps: [{id: a}]\n"),
            "config: kafka.group_id: duplicate key (also at line 3)");
  // A mapping inside a sequence inside a mapping, in flow style.
  EXPECT_EQ(ErrorOf("kafka: {bootstrap_servers: k:1}\nreps:\n  - id: a\n  - id: b\n"
                    "    working_hours: {start: \"08:00\", end: \"17:00\", start: \"09:00\"}\n"),
            "config: reps[1].working_hours.start: duplicate key (also at line 5)");
  // A string map (librdkafka properties): the later value would have won silently.
  EXPECT_EQ(ErrorOf("kafka:\n  bootstrap_servers: k:1\n  producer_properties:\n"
                    "    linger.ms: \"1\"\n    linger.ms: \"5\"\nreps: [{id: a}]\n"),
            "config: kafka.producer_properties.linger.ms: duplicate key (also at line 4)");
  // Every duplicate, and the other errors of the file, in one run.
  const std::string err = ErrorOf(
      "kafka: {bootstrap_servers: k:1, group_id: a, group_id: b}\n"
      "redis: {port: 0}\nreps: [{id: a, id: b}]\n");
  EXPECT_THAT(err, ::testing::HasSubstr("config: kafka.group_id: duplicate key (also at line 1)"));
  EXPECT_THAT(err, ::testing::HasSubstr("config: reps[0].id: duplicate key (also at line 3)"));
  EXPECT_THAT(err, ::testing::HasSubstr("config: redis.port: must be between 1 and 65535, got 0"));
  // The same key in two different mappings is no duplicate.
  EXPECT_TRUE(ParseConfig("kafka: {bootstrap_servers: k:1}\nreps: [{id: a}, {id: b}]\n").ok());
}

TEST(ConfigTest, DuplicateKeysInTheTokensFileAreRefused) {
  const std::string dir = ::testing::TempDir() + "/dup-tokens-" + std::to_string(::getpid());
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/tokens.yaml") << "tokens:\n  - name: a\n    token: \"0123456789abcdef0\"\n "
                                         "   token: \"0123456789abcdef1\"\n"
                                         "    scopes: [admin]\n";
  EXPECT_EQ(ErrorOf("kafka: {bootstrap_servers: k:1}\ngrpc: {auth: {tokens_file: " + dir +
                    "/tokens.yaml}}\nreps: [{id: a}]\n"),
            "config: grpc.auth.tokens_file: tokens[0].token: duplicate key (also at line 3)");
  std::filesystem::remove_all(dir);
}

TEST(ConfigTest, AliasExpansionAndNestingAreBounded) {
  // "Billion laughs": 10 levels of 10 aliases each are 10^10 nodes when walked.
  std::string lol = "kafka: {bootstrap_servers: k:1}\nreps: [{id: a}]\nx0: &x0 [a, a, a, a, a]\n";
  for (int level = 1; level <= 10; ++level) {
    absl::StrAppend(&lol, "x", level, ": &x", level, " [");
    for (int i = 0; i < 10; ++i) absl::StrAppend(&lol, i ? ", " : "", "*x", level - 1);
    absl::StrAppend(&lol, "]\n");
  }
  const auto start = std::chrono::steady_clock::now();
  const std::string err = ErrorOf(lol);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
  EXPECT_THAT(err, ::testing::StartsWith("config: line 9: the document has more than 1000000 "
                                         "nodes (counting each alias as what it refers to)"));

  // A few aliases of a small anchor are fine (and the unknown field is still reported).
  EXPECT_THAT(ErrorOf("kafka: {bootstrap_servers: k:1}\nreps: [{id: a}]\n"
                      "x: &w [1, 2]\ny: [*w, *w]\n"),
              ::testing::StartsWith("config: x: unknown field"));

  std::string deep = "kafka: {bootstrap_servers: k:1}\nreps: [{id: a}]\nx: ";
  deep += std::string(200, '[') + std::string(200, ']') + "\n";
  std::string path = "x";
  for (int i = 0; i < 63; ++i) path += "[0]";  // the document is the first level
  EXPECT_EQ(ErrorOf(deep), "config: line 3: " + path + ": nested deeper than 64 levels");
}

std::string WriteFileOfSize(const std::string& name, size_t bytes) {
  const std::string path = ::testing::TempDir() + "/" + name + "-" + std::to_string(::getpid());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  const std::string line = "# padding padding padding padding padding padding padding padding\n";
  for (size_t written = 0; written < bytes; written += line.size()) out << line;
  return path;
}

TEST(ConfigTest, LargeFilesAreRefusedWithoutBeingReadWhole) {
  const std::string big = WriteFileOfSize("big5", 5 << 20);
  auto five = LoadConfigFile(big);
  ASSERT_FALSE(five.ok());
  EXPECT_EQ(five.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(std::string(five.status().message()),
            "config file " + big + ": larger than the limit of 4194304 bytes (4 MiB)");
  std::filesystem::remove(big);

  const std::string huge = WriteFileOfSize("big44", 44'000'000);
  auto start = std::chrono::steady_clock::now();
  auto forty_four = LoadConfigFile(huge);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
  ASSERT_FALSE(forty_four.ok());
  EXPECT_THAT(std::string(forty_four.status().message()),
              ::testing::HasSubstr("larger than the limit of 4194304 bytes"));
  std::filesystem::remove(huge);

  // Endless: without a bound this reads until memory runs out (std::bad_alloc).
  start = std::chrono::steady_clock::now();
  auto zero = LoadConfigFile("/dev/zero");
  ASSERT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
  ASSERT_FALSE(zero.ok());
  EXPECT_EQ(std::string(zero.status().message()),
            "config file /dev/zero: larger than the limit of 4194304 bytes (4 MiB)");

  // Just at the limit is read (and then judged as YAML).
  const std::string edge = ::testing::TempDir() + "/edge-" + std::to_string(::getpid());
  {
    std::ofstream out(edge, std::ios::binary | std::ios::trunc);
    const std::string head = "kafka: {bootstrap_servers: k:1}\nreps: [{id: a}]\n";
    out << head << std::string(kMaxConfigFileBytes - head.size() - 1, '#') << "\n";
  }
  EXPECT_TRUE(LoadConfigFile(edge).ok());
  std::filesystem::remove(edge);
}

// --- secrets not required (check-config in CI) ------------------------------------------

TEST(ConfigTest, WithoutRequiredSecretsMissingOnesAreRecordedNotErrors) {
  ::unsetenv("LEADROUTER_TEST_ABSENT_KEY");
  const std::string yaml =
      "kafka: {bootstrap_servers: k:1}\n"
      "redis: {password_file: /nonexistent/redis-password}\n"
      "dedupe: {hmac_key_env: LEADROUTER_TEST_ABSENT_KEY}\n"
      "reps: [{id: a}]\n";
  // Required (the daemon): both are errors, each naming its field.
  EXPECT_EQ(ErrorOf(yaml),
            "config: redis.password_file: cannot read /nonexistent/redis-password\n"
            "config: dedupe.hmac_key_env: environment variable LEADROUTER_TEST_ABSENT_KEY is not "
            "set");
  // Not required: valid, and the summary says what is missing.
  auto cfg = ParseConfig(yaml, {.require_secrets = false});
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  ASSERT_EQ(cfg->secrets.size(), 2u);
  EXPECT_EQ(cfg->secrets[0].field, "redis.password_file");
  EXPECT_EQ(cfg->secrets[0].source, "/nonexistent/redis-password");
  EXPECT_FALSE(cfg->secrets[0].present);
  EXPECT_EQ(cfg->secrets[1].field, "dedupe.hmac_key_env");
  EXPECT_EQ(cfg->secrets[1].source, "LEADROUTER_TEST_ABSENT_KEY");
  EXPECT_FALSE(cfg->secrets[1].present);
  EXPECT_THAT(
      Summarize(*cfg),
      ::testing::HasSubstr("secrets:        redis.password_file=/nonexistent/redis-password "
                           "(cannot be read), dedupe.hmac_key_env="
                           "LEADROUTER_TEST_ABSENT_KEY (not set)\n"));

  // A present secret is still checked, and its value never shown.
  ::setenv("LEADROUTER_TEST_SHORT_KEY", "short-secret", 1);
  EXPECT_EQ(std::string(ParseConfig("kafka: {bootstrap_servers: k:1}\n"
                                    "dedupe: {hmac_key_env: LEADROUTER_TEST_SHORT_KEY}\n"
                                    "reps: [{id: a}]\n",
                                    {.require_secrets = false})
                            .status()
                            .message()),
            "config: dedupe.hmac_key_env: the key from env:LEADROUTER_TEST_SHORT_KEY has 12 bytes; "
            "use at least 16 random bytes");
  ::setenv("LEADROUTER_TEST_GOOD_KEY", "a-long-enough-secret-value", 1);
  auto present = ParseConfig(
      "kafka: {bootstrap_servers: k:1}\ndedupe: {hmac_key_env: LEADROUTER_TEST_GOOD_KEY}\n"
      "reps: [{id: a}]\n",
      {.require_secrets = false});
  ASSERT_TRUE(present.ok()) << present.status();
  EXPECT_THAT(Summarize(*present),
              ::testing::HasSubstr("secrets:        dedupe.hmac_key_env=LEADROUTER_TEST_GOOD_KEY "
                                   "(set)"));
  EXPECT_THAT(Summarize(*present), ::testing::Not(::testing::HasSubstr("a-long-enough")));
  EXPECT_THAT(Summarize(*ParseConfig(kMinimal)), ::testing::HasSubstr("secrets:        none\n"));
}

TEST(ConfigTest, SecretReferencesAreValidatedEvenWhenNotRequired) {
  const LoadOptions lenient{.require_secrets = false};
  auto error = [&](const std::string& body) {
    auto cfg =
        ParseConfig("kafka: {bootstrap_servers: k:1}\n" + body + "reps: [{id: a}]\n", lenient);
    return cfg.ok() ? std::string("(accepted)") : std::string(cfg.status().message());
  };
  EXPECT_EQ(error("redis: {password: hunter2}\n"),
            "config: redis.password: secrets are never inline: use password_env (a variable name) "
            "or password_file");
  EXPECT_EQ(error("redis: {password_env: A, password_file: /b}\n"),
            "config: redis.password_env: give password_env or password_file, not both");
  EXPECT_EQ(error("dedupe: {hmac_key_env: \"not a name\"}\n"),
            "config: dedupe.hmac_key_env: \"not a name\" is not an environment variable name "
            "(letters, digits and _, not starting with a digit)");
  EXPECT_EQ(error("dedupe: {hmac_key_env: 9LIVES}\n"),
            "config: dedupe.hmac_key_env: \"9LIVES\" is not an environment variable name "
            "(letters, digits and _, not starting with a digit)");
  EXPECT_EQ(error("dedupe: {hmac_key_file: \"\"}\n"),
            "config: dedupe.hmac_key_file: must not be empty");
  EXPECT_EQ(error("dedupe: {person_window_days: 10}\n"),
            "config: dedupe.hmac_key_env: dedupe keys are HMACs under a secret: set hmac_key_env "
            "or hmac_key_file (or enabled: false)");
}

TEST(ConfigTest, ShippedExampleConfigChecksWithoutSecrets) {
  ::unsetenv("LEADROUTER_DEDUPE_KEY");
  const std::string path = LEADROUTER_SOURCE_DIR "/deploy/config/leadrouter.example.yaml";
  EXPECT_THAT(std::string(LoadConfigFile(path).status().message()),
              ::testing::HasSubstr("config: dedupe.hmac_key_env: environment variable "
                                   "LEADROUTER_DEDUPE_KEY is not set"));
  auto cfg = LoadConfigFile(path, {.require_secrets = false});
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  EXPECT_THAT(Summarize(*cfg),
              ::testing::HasSubstr("dedupe.hmac_key_env=LEADROUTER_DEDUPE_KEY (not set)"));
}

// --- shutdown and Kafka message sizes -------------------------------------------------------

TEST(ConfigTest, ShutdownBoundsAreReadAndOrdered) {
  auto defaults = ParseConfig(kMinimal);
  ASSERT_TRUE(defaults.ok()) << defaults.status();
  EXPECT_EQ(defaults->shutdown.stream_grace, std::chrono::milliseconds(5000));
  EXPECT_EQ(defaults->shutdown.timeout, std::chrono::milliseconds(15000));
  auto set =
      ParseConfig(std::string(kMinimal) + "shutdown: {stream_grace_ms: 0, timeout_ms: 1000}\n");
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_EQ(set->shutdown.stream_grace, std::chrono::milliseconds(0));
  EXPECT_EQ(set->shutdown.timeout, std::chrono::milliseconds(1000));
  EXPECT_THAT(Summarize(*set), ::testing::HasSubstr("shutdown:       streams get 0 ms, all of it "
                                                    "at most 1000 ms\n"));

  const std::string base = std::string(kMinimal) + "shutdown: ";
  EXPECT_EQ(ErrorOf(base + "{stream_grace_ms: 60001}\n"),
            "config: shutdown.stream_grace_ms: must be between 0 and 60000, got 60001");
  EXPECT_EQ(ErrorOf(base + "{timeout_ms: 999}\n"),
            "config: shutdown.timeout_ms: must be between 1000 and 300000, got 999");
  EXPECT_EQ(ErrorOf(base + "{timeout_ms: 300001}\n"),
            "config: shutdown.timeout_ms: must be between 1000 and 300000, got 300001");
  EXPECT_EQ(ErrorOf(base + "{stream_grace_ms: 20000}\n"),
            "config: shutdown.timeout_ms: 15000 must be greater than stream_grace_ms (20000): "
            "streams are cancelled after their grace, within the timeout");
  EXPECT_EQ(ErrorOf(base + "{stream_grace_ms: 5000, timeout_ms: 5000}\n"),
            "config: shutdown.timeout_ms: 5000 must be greater than stream_grace_ms (5000): "
            "streams are cancelled after their grace, within the timeout");
  EXPECT_THAT(ErrorOf(base + "{grace_ms: 1}\n"),
              ::testing::StartsWith("config: shutdown.grace_ms: unknown field"));
}

TEST(ConfigTest, MaxEventBytesMustFitInADeadLetter) {
  auto defaults = ParseConfig(kMinimal);
  ASSERT_TRUE(defaults.ok()) << defaults.status();
  EXPECT_EQ(defaults->kafka.max_event_bytes, 524288);
  EXPECT_EQ(defaults->kafka.producer_message_max_bytes, 1000000);

  auto kafka = [](const std::string& fields) {
    return "kafka: {bootstrap_servers: k:1, " + fields + "}\nreps: [{id: a}]\n";
  };
  // The largest that fits the default: 1000000 - 65536.
  EXPECT_TRUE(ParseConfig(kafka("max_event_bytes: 934464")).ok());
  EXPECT_EQ(ErrorOf(kafka("max_event_bytes: 1048576")),
            "config: kafka.max_event_bytes: 1048576 does not fit in a dead letter: the producer's "
            "message.max.bytes is 1000000 (librdkafka's default), which must be at least "
            "max_event_bytes + 65536; raise message.max.bytes (and the broker's/topic's "
            "max.message.bytes) or lower max_event_bytes");
  EXPECT_EQ(ErrorOf(kafka("max_event_bytes: 1048576, producer_properties: "
                          "{message.max.bytes: \"1000000\"}")),
            "config: kafka.max_event_bytes: 1048576 does not fit in a dead letter: the producer's "
            "message.max.bytes is 1000000 (kafka.producer_properties), which must be at least "
            "max_event_bytes + 65536; raise message.max.bytes (and the broker's/topic's "
            "max.message.bytes) or lower max_event_bytes");
  auto raised = ParseConfig(
      kafka("max_event_bytes: 1048576, producer_properties: {message.max.bytes: \"2097152\"}"));
  ASSERT_TRUE(raised.ok()) << raised.status();
  EXPECT_EQ(raised->kafka.producer_message_max_bytes, 2097152);

  for (const std::string bad : {"lots", "999", "1000000001", "1e6", "", "-5", "1000000 "}) {
    EXPECT_EQ(ErrorOf(kafka("producer_properties: {message.max.bytes: \"" + bad + "\"}")),
              "config: kafka.producer_properties.message.max.bytes: must be an integer between "
              "1000 and 1000000000, got \"" +
                  bad + "\"");
  }
}

TEST(ConfigTest, RepositoryConfigsStayValid) {
  ::setenv("LEADROUTER_DEDUPE_KEY", "config-test-dedupe-key-0123", 1);
  ::setenv("HUBSPOT_PRIVATE_APP_TOKEN", "test-hubspot-token", 1);
  for (const char* file :
       {"/deploy/config/leadrouter.example.yaml", "/deploy/compose/leadrouter.yaml",
        "/tests/fuzz/corpus/config/example.yaml"}) {
    auto cfg =
        LoadConfigFile(std::string(LEADROUTER_SOURCE_DIR) + file, {.require_secrets = false});
    EXPECT_TRUE(cfg.ok()) << file << ": " << cfg.status();
  }
}

// --- sources ----------------------------------------------------------------------------------

TEST(ConfigTest, SourcesNameProfilesFilesAndInlineMappings) {
  const std::string file =
      ::testing::TempDir() + "/mapping-" + std::to_string(::getpid()) + ".yaml";
  std::ofstream(file) << "fields:\n  person.email: mail\n  source_kind: {const: PARTNER}\n";
  auto cfg = ParseConfig(std::string(kMinimal) + R"(
sources:
  - {name: native}
  - {name: crm, profile: salesforce_cdc, topic: sfdc.leads, options: {route_change_types: [CREATE, UPDATE]}}
  - {name: mine, mapping_file: )" +
                         file + R"(}
  - name: partner-portal
    mapping:
      event_id: "pp-{id}"
      fields:
        person.email: email
)");
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  ASSERT_EQ(cfg->sources.size(), 4u);
  EXPECT_EQ(cfg->sources[0].profile, "leadevent");
  EXPECT_EQ(cfg->sources[0].mapping, nullptr);
  ASSERT_NE(cfg->sources[1].mapping, nullptr);
  EXPECT_EQ(cfg->sources[1].mapping->Options().at("route_change_types"),
            (std::vector<std::string>{"CREATE", "UPDATE"}));
  EXPECT_EQ(cfg->SourceForTopic("sfdc.leads"), &cfg->sources[1]);
  EXPECT_EQ(cfg->FindSource("mine"), &cfg->sources[2]);
  EXPECT_EQ(cfg->FindSource("nope"), nullptr);
  ASSERT_NE(cfg->sources[3].mapping, nullptr);
  EXPECT_EQ(cfg->InputTopics(), (std::vector<std::string>{"leads.inbound", "sfdc.leads"}));
  const std::string summary = Summarize(*cfg);
  EXPECT_THAT(summary, ::testing::HasSubstr("sources:        4 (header x-leadrouter-source or own "
                                            "topic): native (profile leadevent); crm (profile "
                                            "salesforce_cdc, "));
  EXPECT_THAT(summary,
              ::testing::HasSubstr("route_change_types [CREATE, UPDATE], topic sfdc.leads"));
  EXPECT_THAT(summary, ::testing::HasSubstr("partner-portal (inline mapping, 1 fields)"));
  std::filesystem::remove(file);
}

TEST(ConfigTest, SourceErrorsCarryTheirPaths) {
  const std::string err = ErrorOf(std::string(kMinimal) + R"(
sources:
  - {name: a, profile: hubspot_workflow, colour: red}
  - {name: a, profile: zoho}
  - {name: b, profile: salesforce_cdc, options: {route_change_type: [UPDATE]}}
  - {name: c, profile: web_form, mapping_file: x.yaml}
  - {name: d, mapping_file: /nonexistent/mapping.yaml}
  - name: e
    topic: leads.deadletter
    mapping:
      fields:
        person.emial: email
        occurred_at: {from: at, transforms: [epoch_us]}
  - {name: "bad name!"}
)");
  for (const char* line : {
           "config: sources[0].colour: unknown field (known: ",
           "config: sources[1].name: duplicate source name \"a\"",
           "config: sources[1].profile: unknown profile \"zoho\" (shipped: hubspot_form, "
           "hubspot_webhook, hubspot_workflow, leadevent,",
           "config: sources[2].options.route_change_type: unknown option (known: "
           "route_change_types)",
           "config: sources[3]: give one of profile, mapping_file and mapping",
           "config: sources[4].mapping_file: ",
           "config: sources[5].mapping.fields.person.emial: unknown target (known: ",
           "config: sources[5].mapping.fields.occurred_at.transforms[0]: unknown transform "
           "\"epoch_us\"",
           "config: sources[5].topic: must not be an output topic",
           "config: sources[6].name: must be 1-64 of [A-Za-z0-9._-]",
       }) {
    EXPECT_THAT(err, ::testing::HasSubstr(line)) << err;
  }
}

TEST(ConfigTest, EnrichingSourcesNeedTheirApiAndToken) {
  ::setenv("CONFIG_TEST_HUBSPOT_TOKEN", "pat-na1-config-test", 1);
  auto cfg = ParseConfig(std::string(kMinimal) + R"(
sources:
  - name: hs
    profile: hubspot_webhook
    enrich: {token_env: CONFIG_TEST_HUBSPOT_TOKEN, api_base_url: "http://127.0.0.1:9/",
             timeout_ms: 800, max_attempts: 5, max_retry_after_ms: 2000}
)");
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  const SourceEnrich& enrich = cfg->sources[0].enrich;
  EXPECT_EQ(enrich.api_base_url, "http://127.0.0.1:9") << "trailing / dropped";
  EXPECT_EQ(enrich.token, "pat-na1-config-test");
  EXPECT_EQ(enrich.token_source, "env:CONFIG_TEST_HUBSPOT_TOKEN");
  EXPECT_EQ(enrich.timeout, std::chrono::milliseconds(800));
  EXPECT_EQ(enrich.max_attempts, 5);
  EXPECT_EQ(enrich.max_retry_after, std::chrono::milliseconds(2000));
  // leadrouter-ingest stores records as they arrive: it never reads the token.
  auto ingest = ParseConfig(std::string(kMinimal) + R"(
sources:
  - {name: hs, profile: hubspot_webhook, enrich: {token_env: CONFIG_TEST_HUBSPOT_TOKEN}}
)",
                            {.for_ingest = true});
  ASSERT_TRUE(ingest.ok()) << ingest.status();
  EXPECT_EQ(ingest->sources[0].enrich.token, "");

  const std::string err = ErrorOf(std::string(kMinimal) + R"(
sources:
  - {name: a, profile: hubspot_webhook}
  - {name: b, profile: hubspot_workflow, enrich: {token_env: X}}
  - {name: c, profile: hubspot_webhook, enrich: {token: inline, api_base_url: "ftp://x", max_attempts: 0}}
  - {name: d, profile: hubspot_webhook, enrich: {token_env: CONFIG_TEST_NO_SUCH_TOKEN, colour: 1}}
  - {name: e, enrich: {token_env: X}}
)");
  for (const char* line : {
           "config: sources[0].enrich: the mapping fetches each record's hubspot_contact: give "
           "enrich.token_env or enrich.token_file",
           "config: sources[1].enrich: the source's mapping fetches nothing (it has no enrich)",
           "config: sources[2].enrich.token: secrets are never inline",
           "config: sources[2].enrich.api_base_url: \"ftp://x\" is not an http(s)://host[:port]",
           "config: sources[2].enrich.max_attempts: ",
           "config: sources[2].enrich.token_env: is required: token_env or token_file",
           "config: sources[3].enrich.colour: unknown field",
           "config: sources[3].enrich.token_env: environment variable CONFIG_TEST_NO_SUCH_TOKEN "
           "is not set",
           "config: sources[4].enrich: the leadevent profile fetches nothing",
       }) {
    EXPECT_THAT(err, ::testing::HasSubstr(line)) << err;
  }
}

TEST(ConfigTest, ShippedExampleConfigDeclaresEveryShippedProfile) {
  auto cfg = LoadConfigFile(LEADROUTER_SOURCE_DIR "/deploy/config/leadrouter.example.yaml",
                            {.require_secrets = false});
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  for (std::string_view profile : sources::ShippedProfileNames()) {
    const SourceConfig* source = cfg->FindSource(profile);
    ASSERT_NE(source, nullptr) << profile;
    EXPECT_EQ(source->profile, profile);
  }
}

class ConfigReloaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = ::testing::TempDir() + "/reload-" + std::to_string(::getpid()) + ".yaml";
    Write(kMinimal);
    auto cfg = LoadConfigFile(path_);
    ASSERT_TRUE(cfg.ok()) << cfg.status();
    reloader_ = std::make_unique<ConfigReloader>(path_, std::make_shared<const Config>(*cfg));
  }
  void Write(const std::string& text) { std::ofstream(path_, std::ios::trunc) << text; }

  std::string path_;
  std::unique_ptr<ConfigReloader> reloader_;
};

TEST_F(ConfigReloaderTest, UnchangedFileIsANoOp) {
  const auto before = reloader_->Current();
  EXPECT_EQ(reloader_->Reload().result, ConfigReloader::Result::kUnchanged);
  EXPECT_EQ(reloader_->Current(), before);
}

TEST_F(ConfigReloaderTest, ValidChangeIsAppliedAtomically) {
  const auto before = reloader_->Current();
  Write(std::string(kMinimal) + "  - id: rep-linus\n");
  const auto report = reloader_->Reload();
  EXPECT_EQ(report.result, ConfigReloader::Result::kApplied) << report.message;
  const auto after = reloader_->Current();
  EXPECT_NE(after->version, before->version);
  EXPECT_EQ(after->reps.size(), 3u);
  EXPECT_EQ(before->reps.size(), 2u) << "holders of the old config keep a consistent view";
}

TEST_F(ConfigReloaderTest, BrokenFileIsRefusedAndTheLiveConfigStays) {
  const auto before = reloader_->Current();
  Write("kafka: {bootstrap_servers: k:1}\nreps: [{id: a}, {id: a}]\n");
  const auto report = reloader_->Reload();
  EXPECT_EQ(report.result, ConfigReloader::Result::kRefused);
  EXPECT_NE(report.message.find("reps[1].id: duplicate rep id"), std::string::npos)
      << report.message;
  EXPECT_EQ(reloader_->Current(), before);
  Write("kafka: [this is: not yaml");
  EXPECT_EQ(reloader_->Reload().result, ConfigReloader::Result::kRefused);
  EXPECT_EQ(reloader_->Current(), before);
}

TEST_F(ConfigReloaderTest, EndpointChangesWaitForARestart) {
  Write("kafka:\n  bootstrap_servers: elsewhere:9092\nredis: {port: 7000}\nreps: [{id: solo}]\n");
  const auto report = reloader_->Reload();
  ASSERT_EQ(report.result, ConfigReloader::Result::kApplied) << report.message;
  EXPECT_NE(report.message.find("kafka, redis take effect after a restart"), std::string::npos)
      << report.message;
  const auto now = reloader_->Current();
  EXPECT_EQ(now->kafka.bootstrap_servers, "127.0.0.1:9092");
  EXPECT_EQ(now->redis.port, 6379);
  ASSERT_EQ(now->reps.size(), 1u);
  EXPECT_EQ(now->reps[0].id, "solo");
}

TEST_F(ConfigReloaderTest, DuplicateKeysAndHugeFilesAreRefused) {
  Write("kafka:\n  bootstrap_servers: 127.0.0.1:9092\nreps: [{id: a}]\nreps: [{id: b}]\n");
  auto report = reloader_->Reload();
  EXPECT_EQ(report.result, ConfigReloader::Result::kRefused);
  EXPECT_EQ(report.message, path_ + ":\nconfig: reps: duplicate key (also at line 3)");

  Write(std::string(kMinimal) + std::string(kMaxConfigFileBytes, '#') + "\n");
  report = reloader_->Reload();
  EXPECT_EQ(report.result, ConfigReloader::Result::kRefused);
  EXPECT_EQ(report.message,
            "config file " + path_ + ": larger than the limit of 4194304 bytes (4 MiB)");
  EXPECT_EQ(reloader_->Current()->reps.size(), 2u) << "the live config stays";
}

TEST_F(ConfigReloaderTest, LargerEventsWaitForTheProducerToRestart) {
  // A new message.max.bytes needs a new producer; the larger max_event_bytes it makes room for
  // must not reach the running one.
  Write(
      "kafka:\n  bootstrap_servers: 127.0.0.1:9092\n  max_event_bytes: 1048576\n"
      "  producer_properties: {message.max.bytes: \"2097152\"}\nreps: [{id: a}]\n");
  const auto report = reloader_->Reload();
  EXPECT_EQ(report.result, ConfigReloader::Result::kRefused);
  EXPECT_EQ(report.message,
            path_ +
                ":\nconfig: kafka.max_event_bytes: 1048576 does not fit in a dead letter of the "
                "running producer (its message.max.bytes is 1000000); producer_properties take "
                "effect at the next start: restart, or keep max_event_bytes at most 934464");
  EXPECT_EQ(reloader_->Current()->kafka.max_event_bytes, 524288);
}

// --- grpc.tls, grpc.auth and grpc.allow_insecure --------------------------------------------

class GrpcSecurityConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/grpc-security-" + std::to_string(::getpid());
    std::filesystem::create_directories(dir_);
    Write("cert.pem", "-----BEGIN CERTIFICATE-----\nMIIBserver\n-----END CERTIFICATE-----\n");
    Write("key.pem", "-----BEGIN PRIVATE KEY-----\nMIGHkey\n-----END PRIVATE KEY-----\n");
    Write("ca.pem", "-----BEGIN CERTIFICATE-----\nMIIBca\n-----END CERTIFICATE-----\n");
    Write("tokens.yaml", R"(tokens:
  - name: crm-emea
    token: "crm-secret-0123456789abcdef"
    scopes: [stream, act]
    reps: [rep-ada]
    pools: [emea]
  - name: ops
    token: "ops-secret-fedcba9876543210"
    scopes: [admin, admin]
)");
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string Path(const std::string& name) const { return dir_ + "/" + name; }
  void Write(const std::string& name, const std::string& text) const {
    std::ofstream(Path(name), std::ios::trunc) << text;
  }
  // A config with reps rep-ada, rep-bo, pool emea, and `grpc` as given.
  std::string WithGrpc(const std::string& grpc) const {
    return "kafka: {bootstrap_servers: k:1}\ngrpc:\n" + grpc +
           "reps: [{id: rep-ada}, {id: rep-bo}]\npools: [{name: emea, members: [rep-bo]}]\n";
  }
  std::string Tls(const std::string& extra = "") const {
    return "  tls: {cert_file: " + Path("cert.pem") + ", key_file: " + Path("key.pem") + extra +
           "}\n";
  }
  std::string Auth(const std::string& file = "tokens.yaml") const {
    return "  auth: {tokens_file: " + Path(file) + "}\n";
  }
  // The error of a tokens file with this text.
  std::string TokensError(const std::string& tokens_yaml) const {
    Write("bad-tokens.yaml", tokens_yaml);
    return ErrorOf(WithGrpc(Auth("bad-tokens.yaml")));
  }

  std::string dir_;
};

TEST_F(GrpcSecurityConfigTest, TlsAndTokensAreReadAtParseTime) {
  auto cfg = ParseConfig(WithGrpc(
      "  listen: 0.0.0.0:50051\n" +
      Tls(", client_ca_file: " + Path("ca.pem") + ", require_client_cert: true") + Auth()));
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  const GrpcConfig& g = cfg->grpc;
  EXPECT_TRUE(g.tls.enabled());
  EXPECT_EQ(g.tls.cert_file, Path("cert.pem"));
  EXPECT_THAT(g.tls.cert_pem, ::testing::HasSubstr("MIIBserver"));
  EXPECT_THAT(g.tls.key_pem, ::testing::HasSubstr("MIGHkey"));
  EXPECT_THAT(g.tls.client_ca_pem, ::testing::HasSubstr("MIIBca"));
  EXPECT_TRUE(g.tls.require_client_cert);
  EXPECT_FALSE(g.allow_insecure);
  ASSERT_TRUE(g.auth.enabled());
  EXPECT_EQ(g.auth.tokens_file, Path("tokens.yaml"));
  ASSERT_EQ(g.auth.tokens.size(), 2u);
  EXPECT_EQ(g.auth.tokens[0].name, "crm-emea");
  EXPECT_EQ(g.auth.tokens[0].token, "crm-secret-0123456789abcdef");
  EXPECT_EQ(g.auth.tokens[0].scopes, (std::vector<std::string>{"stream", "act"}));
  EXPECT_EQ(g.auth.tokens[0].reps, std::vector<std::string>{"rep-ada"});
  EXPECT_EQ(g.auth.tokens[0].pools, std::vector<std::string>{"emea"});
  EXPECT_EQ(g.auth.tokens[1].scopes, std::vector<std::string>{"admin"}) << "kept once";
  EXPECT_TRUE(g.auth.tokens[1].reps.empty() && g.auth.tokens[1].pools.empty());

  const std::string summary = Summarize(*cfg);
  EXPECT_THAT(summary, ::testing::HasSubstr("grpc security:  TLS (cert " + Path("cert.pem") +
                                            "), mTLS: client certificates required (CA " +
                                            Path("ca.pem") + ")"));
  EXPECT_THAT(summary, ::testing::HasSubstr("auth: 2 tokens from " + Path("tokens.yaml") +
                                            " (crm-emea: stream,act for reps rep-ada, pools "
                                            "emea; ops: admin)"));
  EXPECT_THAT(summary, ::testing::Not(::testing::HasSubstr("-secret-"))) << "never a token";
  EXPECT_THAT(summary, ::testing::Not(::testing::HasSubstr("MIGHkey"))) << "never a key";

  auto optional_ca = ParseConfig(WithGrpc(Tls(", client_ca_file: " + Path("ca.pem"))));
  ASSERT_TRUE(optional_ca.ok()) << optional_ca.status();
  EXPECT_FALSE(optional_ca->grpc.tls.require_client_cert);
  EXPECT_THAT(Summarize(*optional_ca),
              ::testing::HasSubstr("client certificates verified when presented"));
}

TEST_F(GrpcSecurityConfigTest, WithoutTlsAndAuthLoopbackStaysOpen) {
  auto cfg = ParseConfig(kMinimal);
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  EXPECT_FALSE(cfg->grpc.tls.enabled());
  EXPECT_FALSE(cfg->grpc.auth.enabled());
  EXPECT_THAT(Summarize(*cfg),
              ::testing::HasSubstr("grpc security:  plaintext (no TLS); auth: none (every caller "
                                   "may do everything)"));
  for (const std::string listen : {"127.0.0.1:0", "localhost:50051", "\"[::1]:50051\""}) {
    auto loopback = ParseConfig(WithGrpc("  listen: " + listen + "\n"));
    EXPECT_TRUE(loopback.ok()) << listen << ": " << loopback.status();
  }
}

TEST_F(GrpcSecurityConfigTest, OtherInterfacesNeedTlsAndAuthOrAnExplicitOptOut) {
  const std::string open = ErrorOf(WithGrpc("  listen: 0.0.0.0:50051\n"));
  EXPECT_EQ(open.rfind("config: grpc.listen: \"0.0.0.0:50051\" is reachable from other hosts but "
                       "grpc.tls and grpc.auth are not configured: anyone who can connect could "
                       "stream every assignment and act for every rep.",
                       0),
            0u)
      << open;
  EXPECT_THAT(open, ::testing::HasSubstr("set grpc.allow_insecure: true"));
  EXPECT_THAT(ErrorOf(WithGrpc("  listen: 10.0.0.5:50051\n" + Tls())),
              ::testing::HasSubstr("config: grpc.listen: \"10.0.0.5:50051\" is reachable from "
                                   "other hosts but grpc.auth is not configured"));
  EXPECT_THAT(ErrorOf(WithGrpc("  listen: \"[::]:50051\"\n" + Auth())),
              ::testing::HasSubstr("but grpc.tls is not configured"));

  auto opted_out = ParseConfig(WithGrpc("  listen: 0.0.0.0:50051\n  allow_insecure: true\n"));
  ASSERT_TRUE(opted_out.ok()) << opted_out.status();
  EXPECT_TRUE(opted_out->grpc.allow_insecure);
  EXPECT_THAT(Summarize(*opted_out), ::testing::HasSubstr("; allow_insecure: true"));
  EXPECT_TRUE(ParseConfig(WithGrpc("  listen: 0.0.0.0:50051\n" + Tls() + Auth())).ok());
  EXPECT_EQ(ErrorOf(WithGrpc("  listen: 127.0.0.1:1\n  allow_insecure: yes\n")),
            "config: grpc.allow_insecure: must be true or false");
}

TEST_F(GrpcSecurityConfigTest, TheConsoleIsOffByDefaultAndExposedOnlyWithTlsAndTokens) {
  auto off = ParseConfig(WithGrpc("  listen: 127.0.0.1:0\n"));
  ASSERT_TRUE(off.ok()) << off.status();
  EXPECT_FALSE(off->console.enabled());
  EXPECT_THAT(Summarize(*off), ::testing::HasSubstr("console:        off"));

  auto local = ParseConfig(WithGrpc("  listen: 127.0.0.1:0\n") +
                           "console: {listen: \"127.0.0.1:0\", max_live_streams: 2}\n");
  ASSERT_TRUE(local.ok()) << local.status();
  EXPECT_EQ(local->console.listen, "127.0.0.1:0");
  EXPECT_EQ(local->console.max_live_streams, 2);
  EXPECT_THAT(Summarize(*local),
              ::testing::HasSubstr("console:        127.0.0.1:0 (http, up to 2 live feeds)"));

  const std::string exposed = "console: {listen: 0.0.0.0:8443}\n";
  EXPECT_THAT(ErrorOf(WithGrpc("  listen: 127.0.0.1:0\n") + exposed),
              ::testing::HasSubstr("config: console.listen: \"0.0.0.0:8443\" is reachable from "
                                   "other hosts but the console would serve it without TLS "
                                   "without tokens"));
  EXPECT_THAT(ErrorOf(WithGrpc("  listen: 127.0.0.1:0\n" + Tls()) + exposed),
              ::testing::HasSubstr("without tokens (it uses grpc.tls and grpc.auth)"));
  auto secured = ParseConfig(WithGrpc("  listen: 127.0.0.1:0\n" + Tls() + Auth()) + exposed);
  ASSERT_TRUE(secured.ok()) << secured.status();
  EXPECT_THAT(Summarize(*secured), ::testing::HasSubstr("console:        0.0.0.0:8443 (https"));
  EXPECT_TRUE(
      ParseConfig(WithGrpc("  listen: 127.0.0.1:0\n  allow_insecure: true\n") + exposed).ok());

  EXPECT_EQ(ErrorOf(WithGrpc("  listen: 127.0.0.1:0\n") + "console: {listen: nowhere}\n"),
            "config: console.listen: must be host:port, got \"nowhere\"");
  EXPECT_THAT(ErrorOf(WithGrpc("  listen: 127.0.0.1:0\n") +
                      "console: {listen: \"127.0.0.1:0\", max_live_streams: 0}\n"),
              ::testing::HasSubstr("config: console.max_live_streams:"));
  EXPECT_THAT(ErrorOf(WithGrpc("  listen: 127.0.0.1:0\n") + "console: {port: 1}\n"),
              ::testing::HasSubstr("config: console.port:"));
}

TEST_F(GrpcSecurityConfigTest, TlsErrorsNameTheField) {
  EXPECT_EQ(ErrorOf(WithGrpc("  tls: {cert_file: " + Path("cert.pem") +
                             ", key_file: /nonexistent/key.pem}\n")),
            "config: grpc.tls.key_file: cannot read /nonexistent/key.pem");
  EXPECT_EQ(ErrorOf(WithGrpc("  tls: {}\n")),
            "config: grpc.tls.cert_file: is required\nconfig: grpc.tls.key_file: is required");
  Write("not-pem.txt", "just text\n");
  EXPECT_EQ(ErrorOf(WithGrpc("  tls: {cert_file: " + Path("not-pem.txt") +
                             ", key_file: " + Path("cert.pem") + "}\n")),
            "config: grpc.tls.cert_file: " + Path("not-pem.txt") +
                " is not a PEM certificate (no \"-----BEGIN CERTIFICATE-----\")\n"
                "config: grpc.tls.key_file: " +
                Path("cert.pem") +
                " is not a PEM private key (no \"-----BEGIN ... PRIVATE KEY-----\")");
  Write("encrypted.pem",
        "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIx\n-----END ENCRYPTED PRIVATE KEY-----\n");
  EXPECT_THAT(ErrorOf(WithGrpc("  tls: {cert_file: " + Path("cert.pem") +
                               ", key_file: " + Path("encrypted.pem") + "}\n")),
              ::testing::HasSubstr("config: grpc.tls.key_file: " + Path("encrypted.pem") +
                                   " is an encrypted key"));
  EXPECT_EQ(ErrorOf(WithGrpc(Tls(", require_client_cert: true"))),
            "config: grpc.tls.require_client_cert: needs client_ca_file (the CA that signs the "
            "clients' certificates)");
  EXPECT_EQ(
      ErrorOf(WithGrpc(Tls(", client_ca_file: /dev/zero"))),
      "config: grpc.tls.client_ca_file: /dev/zero: larger than the limit of 1048576 bytes (1 MiB)");
  EXPECT_THAT(ErrorOf(WithGrpc(Tls(", ca_file: x"))),
              ::testing::HasSubstr("config: grpc.tls.ca_file: unknown field"));
}

TEST_F(GrpcSecurityConfigTest, TokenFileErrorsNameThePathInsideTheFile) {
  EXPECT_EQ(TokensError("tokens:\n  - {name: a, token: aaaaaaaaaaaaaaaaaaaa, scopes: [stream]}\n"
                        "  - {name: b, token: bbbbbbbbbbbbbbbbbbbb, scopes: [strem]}\n"),
            "config: grpc.auth.tokens_file: tokens[1].scopes[0]: unknown scope \"strem\" "
            "(known: stream, act, admin)");
  EXPECT_EQ(TokensError("tokens:\n  - {name: a, token: short, scopes: [act]}\n"),
            "config: grpc.auth.tokens_file: tokens[0].token: must be at least 16 printable ASCII "
            "characters without spaces (got 5 bytes); use e.g. `openssl rand -hex 32`");
  EXPECT_EQ(TokensError("tokens:\n  - {name: a, token: \"has a space in it 0123\", scopes: [act]}"),
            "config: grpc.auth.tokens_file: tokens[0].token: must be at least 16 printable ASCII "
            "characters without spaces (got 22 bytes); use e.g. `openssl rand -hex 32`");
  EXPECT_EQ(TokensError("tokens:\n  - {name: a, token: same-secret-0123456789, scopes: [act]}\n"
                        "  - {name: a, token: same-secret-0123456789, scopes: [act]}\n"),
            "config: grpc.auth.tokens_file: tokens[1].name: duplicate token name \"a\" (also "
            "tokens[0])\n"
            "config: grpc.auth.tokens_file: tokens[1].token: the same secret as tokens[0]: every "
            "caller gets its own token");
  EXPECT_EQ(TokensError("tokens:\n  - {name: \"a b\", token: aaaaaaaaaaaaaaaaaaaa}\n"),
            "config: grpc.auth.tokens_file: tokens[0].name: must be 1-64 of [A-Za-z0-9._-]\n"
            "config: grpc.auth.tokens_file: tokens[0].scopes: is required: a list of stream, "
            "act, admin");
  EXPECT_EQ(TokensError("tokens:\n  - {name: a, token: aaaaaaaaaaaaaaaaaaaa, scopes: []}\n"),
            "config: grpc.auth.tokens_file: tokens[0].scopes: must list at least one of stream, "
            "act, admin");
  EXPECT_THAT(TokensError("tokens:\n  - {name: a, token: aaaaaaaaaaaaaaaaaaaa, scopes: [act], "
                          "team: x}\n"),
              ::testing::HasSubstr("config: grpc.auth.tokens_file: tokens[0].team: unknown field"));
  EXPECT_EQ(TokensError("tokens:\n  - {name: a, token: aaaaaaaaaaaaaaaaaaaa, scopes: [act], "
                        "reps: [rep-ada, rep-zed], pools: [emea, apac]}\n"),
            "config: grpc.auth.tokens_file: tokens[0].reps[1]: unknown rep \"rep-zed\" (not in "
            "reps)\n"
            "config: grpc.auth.tokens_file: tokens[0].pools[1]: unknown pool \"apac\" (not in "
            "pools)");
  EXPECT_EQ(TokensError("tokens: []\n"),
            "config: grpc.auth.tokens_file: tokens: at least one token is required (without "
            "tokens, leave out grpc.auth)");
  EXPECT_EQ(TokensError("tokenz: []\n"),
            "config: grpc.auth.tokens_file: tokenz: unknown field (known: tokens)\n"
            "config: grpc.auth.tokens_file: tokens: at least one token is required (without "
            "tokens, leave out grpc.auth)");
  EXPECT_EQ(TokensError("tokens:\n  - {name: a, token: [unclosed\n"),
            "config: grpc.auth.tokens_file: " + Path("bad-tokens.yaml") +
                ": line 3, column 1: end of sequence flow not found");
  EXPECT_EQ(ErrorOf(WithGrpc(Auth("missing.yaml"))),
            "config: grpc.auth.tokens_file: cannot read " + Path("missing.yaml"));
  EXPECT_EQ(
      ErrorOf(WithGrpc("  auth: {tokens_file: /dev/zero}\n")),
      "config: grpc.auth.tokens_file: /dev/zero: larger than the limit of 1048576 bytes (1 MiB)");
  EXPECT_EQ(ErrorOf(WithGrpc("  auth: {}\n")), "config: grpc.auth.tokens_file: is required");
  EXPECT_THAT(ErrorOf(WithGrpc("  auth: {tokens: [{name: a, token: x}]}\n")),
              ::testing::HasSubstr("config: grpc.auth.tokens: tokens are secrets, never inline"));
  const std::string short_secret =
      TokensError("tokens:\n  - {name: a, token: hunter2-pw, scopes: [act]}\n");
  EXPECT_THAT(short_secret, ::testing::Not(::testing::HasSubstr("hunter2"))) << "never a token";
}

TEST_F(GrpcSecurityConfigTest, KeyAndTokensFilesAreSecrets) {
  const std::string yaml =
      WithGrpc("  listen: 0.0.0.0:50051\n  tls: {cert_file: " + Path("cert.pem") +
               ", key_file: /nonexistent/key.pem}\n  auth: {tokens_file: /nonexistent/t.yaml}\n");
  EXPECT_EQ(ErrorOf(yaml),
            "config: grpc.tls.key_file: cannot read /nonexistent/key.pem\n"
            "config: grpc.auth.tokens_file: cannot read /nonexistent/t.yaml");
  auto cfg = ParseConfig(yaml, {.require_secrets = false});
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  EXPECT_THAT(Summarize(*cfg),
              ::testing::HasSubstr("secrets:        grpc.tls.key_file=/nonexistent/key.pem "
                                   "(cannot be read), grpc.auth.tokens_file=/nonexistent/t.yaml "
                                   "(cannot be read)\n"));

  auto present = ParseConfig(WithGrpc("  listen: 0.0.0.0:50051\n" + Tls() + Auth()));
  ASSERT_TRUE(present.ok()) << present.status();
  EXPECT_THAT(Summarize(*present),
              ::testing::HasSubstr("grpc.tls.key_file=" + Path("key.pem") + " (present), " +
                                   "grpc.auth.tokens_file=" + Path("tokens.yaml") + " (present)"));
  const std::string summary = Summarize(*present);
  EXPECT_EQ(summary.find("crm-secret"), std::string::npos);
  EXPECT_EQ(summary.find("MIGHkey"), std::string::npos);
}

}  // namespace
}  // namespace leadrouter::config
