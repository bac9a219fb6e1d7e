#include "leadrouter/pipeline/source_decode.h"

#include <gtest/gtest.h>

#include <string>

#include "leadrouter/simulate/simulate.h"

namespace leadrouter::pipeline {
namespace {

const core::TimePoint kNow = core::TimePoint(std::chrono::seconds(1700000500));

config::Config Config() {
  auto cfg = config::ParseConfig(R"(
kafka: {bootstrap_servers: "127.0.0.1:9092", max_event_bytes: 2048}
reps: [{id: rep-ada}]
sources:
  - {name: native, profile: leadevent}
  - {name: forms, profile: web_form, topic: forms.raw}
  - {name: cdc, profile: salesforce_cdc}
)");
  EXPECT_TRUE(cfg.ok()) << cfg.status();
  return *cfg;
}

constexpr char kNative[] =
    R"({"event_id":"e1","occurred_at":"2023-11-14T22:13:20Z","source_kind":"LEAD_SOURCE_KIND_EVENT",)"
    R"("person":{"email":"a@x.example"}})";

TEST(SourceDecodeTest, HeaderThenTopicThenNative) {
  const config::Config cfg = Config();
  auto native = DecodeRecord(cfg, kNative, std::nullopt, std::nullopt, "leads.inbound", kNow);
  EXPECT_EQ(native.source, kNoSource);
  ASSERT_EQ(native.events.size(), 1u);
  EXPECT_EQ(native.events[0].event_id(), "e1");

  auto named = DecodeRecord(cfg, kNative, std::nullopt, "native", "leads.inbound", kNow);
  EXPECT_EQ(named.source, "native");
  EXPECT_EQ(named.events.size(), 1u);

  auto by_topic = DecodeRecord(cfg, "email=b%40x.example&last_name=B", std::nullopt, std::nullopt,
                               "forms.raw", kNow);
  EXPECT_EQ(by_topic.source, "forms");
  ASSERT_EQ(by_topic.events.size(), 1u);
  EXPECT_EQ(by_topic.events[0].person().email(), "b@x.example");
  EXPECT_TRUE(by_topic.events[0].event_id().starts_with("webform-"));

  // The header wins over the topic.
  auto header_wins = DecodeRecord(cfg, kNative, std::nullopt, "native", "forms.raw", kNow);
  EXPECT_EQ(header_wins.source, "native");
  EXPECT_EQ(header_wins.events.size(), 1u);
}

TEST(SourceDecodeTest, UnknownSourceUnmappableTooLargeAndFiltered) {
  const config::Config cfg = Config();
  auto unknown = DecodeRecord(cfg, kNative, std::nullopt, "zoho", "leads.inbound", kNow);
  EXPECT_EQ(unknown.source, kUnknownSource);
  ASSERT_TRUE(unknown.rejection);
  EXPECT_EQ(unknown.rejection->reason, lead::RejectReason::kUnmappable);
  EXPECT_EQ(unknown.rejection->detail, "x-leadrouter-source: no source \"zoho\" in the config");
  EXPECT_EQ(unknown.rejection->log_detail, "x-leadrouter-source: names no source of the config");

  auto unmappable = DecodeRecord(cfg, R"({"ChangeEventHeader": {"changeType": "CREATE",
      "recordIds": {"not": "an array"}}})",
                                 std::nullopt, "cdc", "leads.inbound", kNow);
  ASSERT_TRUE(unmappable.rejection);
  EXPECT_EQ(unmappable.rejection->reason, lead::RejectReason::kUnmappable);
  EXPECT_EQ(unmappable.rejection->detail,
            "source cdc: records ← ChangeEventHeader.recordIds[*]: not an array (an object)");
  EXPECT_EQ(lead::RejectReasonName(unmappable.rejection->reason), "unmappable");

  auto large = DecodeRecord(cfg, std::string(3000, 'a'), std::nullopt, "forms", "", kNow);
  ASSERT_TRUE(large.rejection);
  EXPECT_EQ(large.rejection->reason, lead::RejectReason::kTooLarge);

  auto update = DecodeRecord(cfg, R"({"ChangeEventHeader": {"changeType": "UPDATE",
      "recordIds": ["00Q1", "00Q2"], "transactionKey": "t", "sequenceNumber": 1}})",
                             std::nullopt, "cdc", "", kNow);
  EXPECT_FALSE(update.rejection);
  EXPECT_TRUE(update.events.empty());
  EXPECT_EQ(update.filtered, 2u);
}

TEST(SourceDecodeTest, SimulateMapsEachLineAsARecordOfTheSource) {
  const config::Config cfg = Config();
  simulate::Options options;
  options.validation_now = kNow;
  options.source = "cdc";
  const simulate::Report report = simulate::Simulate(
      cfg,
      {R"({"ChangeEventHeader": {"changeType": "CREATE", "recordIds": ["00Q1", "00Q2"],)"
       R"( "transactionKey": "t", "sequenceNumber": 1, "commitTimestamp": 1700000000000},)"
       R"( "Email": "c@x.example"})",
       R"({"ChangeEventHeader": {"changeType": "CREATE", "recordIds": 5}})"},
      options);
  EXPECT_EQ(report.counts.lines, 2);
  ASSERT_EQ(report.leads.size(), 3u);
  EXPECT_EQ(report.leads[0].line, 1);
  EXPECT_EQ(report.leads[1].line, 1);
  EXPECT_EQ(report.leads[0].event_id, "sfdc-t-1-00Q1");
  EXPECT_EQ(report.leads[1].event_id, "sfdc-t-1-00Q2");
  EXPECT_EQ(report.counts.assigned, 2);
  EXPECT_EQ(report.leads[2].outcome, simulate::LeadOutcome::kInvalid);
  EXPECT_EQ(report.leads[2].reason,
            "unmappable: source cdc: records ← ChangeEventHeader.recordIds[*]: not an array (a "
            "number)");
}

}  // namespace
}  // namespace leadrouter::pipeline
