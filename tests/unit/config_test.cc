#include "leadrouter/config/config.h"

#include <gtest/gtest.h>

#include <fstream>
#include <string>

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
  max_event_bytes: 4096
  consumer_properties: {session.timeout.ms: "6000"}
  producer_properties: {linger.ms: "1"}
redis: {host: redis.internal, port: 6380, tenant: acme, timeout_ms: 500, idempotency_ttl_s: 3600}
grpc: {listen: "0.0.0.0:6000", subscriber_queue_limit: 50}
metrics: {listen: "0.0.0.0:9000"}
pool: west
reps: [{id: a}]
)");
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  EXPECT_EQ(cfg->kafka.group_id, "lr-eu");
  EXPECT_EQ(cfg->kafka.topics.deadletter, "dlq");
  EXPECT_EQ(cfg->kafka.batch_max_wait, std::chrono::milliseconds(20));
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
  auto cfg = LoadConfigFile(LEADROUTER_SOURCE_DIR "/deploy/config/leadrouter.example.yaml");
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  EXPECT_GE(cfg->reps.size(), 2u);
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

}  // namespace
}  // namespace leadrouter::config
