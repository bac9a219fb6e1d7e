#include <google/protobuf/descriptor.h>
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "leadrouter/lead/decode.h"
#include "leadrouter/lead/validate.h"

namespace leadrouter::lead {
namespace {

using std::chrono::hours;
using std::chrono::seconds;

constexpr size_t kLimit = 1 << 20;
// 2026-11-22T12:00:00Z
const core::TimePoint kNow = core::TimePoint(seconds(1795348800));

constexpr char kValidJson[] = R"({
  "event_id": "evt-1", "occurred_at": "2026-11-22T11:59:00Z",
  "source_system": "hubspot", "source_kind": "LEAD_SOURCE_KIND_INBOUND_MARKETING",
  "campaign": "q4-webinar",
  "person": {"first_name": "Grace", "last_name": "Hopper", "email": "grace@navy.example.com",
             "phone": "+1 (415) 555-0100"},
  "company": {"name": "Navy Labs", "website": "https://navy.example.com", "employee_count": 1200,
              "annual_revenue_usd": 50000000, "country": "US", "region": "VA"},
  "psychographics": {"buying_priority": "BUYING_PRIORITY_VALUE", "intent_score": 87},
  "attributes": {"product": "router"}
})";

v1::LeadEvent DecodeOk(std::string_view payload, std::optional<std::string_view> type) {
  DecodeResult r = DecodeLeadEvent(payload, type, kLimit);
  if (auto* rej = std::get_if<Rejection>(&r)) {
    ADD_FAILURE() << "rejected: " << rej->detail;
    return {};
  }
  return std::get<v1::LeadEvent>(r);
}

Rejection DecodeRejected(std::string_view payload, std::optional<std::string_view> type,
                         size_t limit = kLimit) {
  DecodeResult r = DecodeLeadEvent(payload, type, limit);
  if (auto* rej = std::get_if<Rejection>(&r)) return *rej;
  ADD_FAILURE() << "decoded but expected a rejection";
  return {RejectReason::kUndecodable, "", ""};
}

TEST(DecodeTest, JsonMappingWithHeader) {
  const v1::LeadEvent e = DecodeOk(kValidJson, "application/json; charset=utf-8");
  EXPECT_EQ(e.event_id(), "evt-1");
  EXPECT_EQ(e.source_kind(), v1::LEAD_SOURCE_KIND_INBOUND_MARKETING);
  EXPECT_EQ(e.company().employee_count(), 1200);
  EXPECT_EQ(e.psychographics().buying_priority(), v1::BUYING_PRIORITY_VALUE);
  EXPECT_EQ(e.attributes().at("product"), "router");
  EXPECT_EQ(e.occurred_at().seconds(), 1795348740);
}

TEST(DecodeTest, BinaryProtobufWithHeaderAndBySniffing) {
  const v1::LeadEvent original = DecodeOk(kValidJson, std::nullopt);
  const std::string bytes = original.SerializeAsString();
  const v1::LeadEvent with_header = DecodeOk(bytes, "application/x-protobuf");
  const v1::LeadEvent sniffed = DecodeOk(bytes, std::nullopt);
  EXPECT_EQ(with_header.SerializeAsString(), bytes);
  EXPECT_EQ(sniffed.SerializeAsString(), bytes);
}

TEST(DecodeTest, UnknownJsonFieldsAreIgnoredForForwardCompatibility) {
  const v1::LeadEvent e =
      DecodeOk(R"({"event_id":"e","future_field":{"x":1}})", "application/json");
  EXPECT_EQ(e.event_id(), "e");
}

// Form fills and CSV imports pad values: a padded address is the same address, on every
// decode path (the fast path, protobuf's after an unknown field, binary protobuf).
TEST(DecodeTest, StringsAreTidiedBeforeValidation) {
  const std::string padded = R"({"event_id":" evt-1 ","occurred_at":"2026-11-22T11:59:00Z",)"
                             R"("source_kind":"LEAD_SOURCE_KIND_INBOUND_MARKETING",)"
                             R"("person":{"email":"  BO.CHEN@CORP-BLANK.ORG ",)"
                             R"("first_name":"\u00a0Bo  \t Chen ","phone":" +1 415 555 0100\n"},)"
                             R"("company":{"name":" Blank\u00a0\u00a0Corp ","country":" US "},)"
                             R"("attributes":{"plan":" pro "}})";
  const std::string with_unknown =
      padded.substr(0, padded.size() - 1) + R"(,"utm_source":"google"})";
  for (const std::string& json : {padded, with_unknown}) {
    const v1::LeadEvent e = DecodeOk(json, "application/json");
    EXPECT_EQ(e.event_id(), "evt-1");
    EXPECT_EQ(e.person().email(), "BO.CHEN@CORP-BLANK.ORG");
    EXPECT_EQ(e.person().first_name(), "Bo Chen");
    EXPECT_EQ(e.person().phone(), "+1 415 555 0100") << "inner spaces of a phone are kept";
    EXPECT_EQ(e.company().name(), "Blank Corp");
    EXPECT_EQ(e.company().country(), "US");
    EXPECT_EQ(e.attributes().at("plan"), "pro");
    EXPECT_FALSE(ValidateLeadEvent(e, kNow).has_value()) << ValidateLeadEvent(e, kNow)->detail;
  }
  v1::LeadEvent binary;
  binary.mutable_person()->set_email("\xEF\xBB\xBFjane@acme.example\xE2\x80\x8B ");
  const v1::LeadEvent e = DecodeOk(binary.SerializeAsString(), "application/x-protobuf");
  EXPECT_EQ(e.person().email(), "jane@acme.example");
  // Blanks only: the field is empty, as if it had not been sent.
  const v1::LeadEvent blank = DecodeOk(R"({"person":{"email":"   "}})", "application/json");
  EXPECT_EQ(blank.person().email(), "");
}

// Issue 16: senders spell enums every way; the fast path and the fallback (taken when an unknown
// field is present) must read them alike. Today's code rejects "VALUE" as undecodable on the fast
// path and drops it silently next to an unknown field; "INBOUND_MARKETING" next to an unknown
// field became missing_field.
TEST(DecodeTest, EnumsTakeTheFullNameTheShortNameAnyCaseAndTheNumber) {
  struct Spelling {
    std::string json;  // the value as JSON text
    v1::BuyingPriority want;
  };
  const std::vector<Spelling> spellings = {
      {R"("BUYING_PRIORITY_VALUE")", v1::BUYING_PRIORITY_VALUE},
      {R"("VALUE")", v1::BUYING_PRIORITY_VALUE},
      {R"("value")", v1::BUYING_PRIORITY_VALUE},
      {R"("Value")", v1::BUYING_PRIORITY_VALUE},
      {R"("buying_priority_price")", v1::BUYING_PRIORITY_PRICE},
      {R"("\u0070rice")", v1::BUYING_PRIORITY_PRICE},
      {"2", v1::BUYING_PRIORITY_VALUE},
      {R"("1")", v1::BUYING_PRIORITY_PRICE},
      {"null", v1::BUYING_PRIORITY_UNSPECIFIED},
      {R"("UNSPECIFIED")", v1::BUYING_PRIORITY_UNSPECIFIED},
  };
  for (const Spelling& s : spellings) {
    for (const char* unknown : {"", R"("utm_source":"google",)"}) {
      const std::string json =
          absl::StrCat(R"({"event_id":"e",)", unknown,
                       R"("source_kind":"inbound_marketing","psychographics":{"buying_priority":)",
                       s.json, R"(,"innovation_appetite":"Early_Adopter","intent_score":90}})");
      SCOPED_TRACE(json);
      const v1::LeadEvent e = DecodeOk(json, "application/json");
      EXPECT_EQ(e.psychographics().buying_priority(), s.want);
      EXPECT_EQ(e.psychographics().innovation_appetite(), v1::INNOVATION_APPETITE_EARLY_ADOPTER);
      EXPECT_EQ(e.source_kind(), v1::LEAD_SOURCE_KIND_INBOUND_MARKETING);
      EXPECT_EQ(e.psychographics().intent_score(), 90);
    }
  }
  for (const char* unknown : {"", R"("utm_source":"google",)"}) {
    const std::string json =
        absl::StrCat(R"({"event_id":"e",)", unknown, R"("source_kind":"INBOUND_MARKETING"})");
    EXPECT_EQ(DecodeOk(json, "application/json").source_kind(),
              v1::LEAD_SOURCE_KIND_INBOUND_MARKETING)
        << json;
  }
}

TEST(DecodeTest, AnyOtherEnumValueIsAnInvalidFieldListingWhatIsAccepted) {
  const std::string accepted =
      "PRICE, VALUE (or BUYING_PRIORITY_PRICE, ..., in any case, or the number)";
  const std::vector<std::pair<std::string, std::string>> bad = {
      {R"("VALU")", R"("VALU")"},
      {R"("VALUE ")", R"("VALUE ")"},
      {"9", "9"},
      {R"("9")", R"("9")"},
      {R"("02")", R"("02")"},
      {"2.0", "2.0"},
      {"-1", "-1"},
      {"true", "true"},
      {R"({"a":1})", "an object"},
      {"[2]", "an array"},
      {R"("")", R"("")"},
      {R"("PRICE_VALUE")", R"("PRICE_VALUE")"},
  };
  for (const auto& [value, shown] : bad) {
    for (const char* unknown : {"", R"("utm_source":"google",)"}) {
      const std::string json =
          absl::StrCat(R"({"event_id":"e",)", unknown, R"("psychographics":{"buying_priority":)",
                       value, R"(,"intent_score":90}})");
      SCOPED_TRACE(json);
      const Rejection r = DecodeRejected(json, "application/json");
      EXPECT_EQ(r.reason, RejectReason::kInvalidField);
      EXPECT_EQ(r.detail, absl::StrCat("psychographics.buying_priority: ", shown, " is not one of ",
                                       accepted));
      EXPECT_EQ(r.log_detail,
                absl::StrCat("psychographics.buying_priority: not one of ", accepted));
    }
  }
  // A long value is cut in the detail.
  const Rejection long_value = DecodeRejected(
      absl::StrCat(R"({"source_kind":")", std::string(100, 'x'), R"("})"), "application/json");
  EXPECT_EQ(long_value.detail.find(std::string(70, 'x')), std::string::npos) << long_value.detail;
  EXPECT_NE(long_value.detail.find("(102 bytes)"), std::string::npos) << long_value.detail;
  // An unknown number from binary protobuf is refused by validation in the same words.
  v1::LeadEvent binary = DecodeOk(kValidJson, "application/json");
  binary.set_source_kind(static_cast<v1::LeadSourceKind>(9));
  const std::optional<Rejection> r = ValidateLeadEvent(binary, kNow);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->detail,
            "source_kind: 9 is not one of INBOUND_MARKETING, EVENT, PARTNER, REP_SOURCED, "
            "PURCHASED_LIST, OUTBOUND (or LEAD_SOURCE_KIND_INBOUND_MARKETING, ..., in any case, "
            "or the number)");
}

DecodeResult DecodeWith(std::string_view json, UnknownFields policy) {
  DecodeOptions options;
  options.unknown_fields = policy;
  return DecodeLeadEvent(json, "application/json", kLimit, options);
}

// Issue 16: today every unknown field is dropped whatever the config says.
TEST(DecodeTest, UnknownFieldsAreIgnoredKeptAsAttributesOrRejected) {
  const std::string json =
      R"({"event_id":"e","utm_source":" google ","person":{"email":"a@b.example",)"
      R"("linkedin":{"handle":"ada","followers":1.50e3,"verified":true,"tags":["x"],"gone":null}},)"
      R"("x":{"y":1,"z":{}},"attributes":{"plan":"pro","x.y":"explicit"},"esc\u0061ped":"v"})";
  const v1::LeadEvent ignored = std::get<v1::LeadEvent>(DecodeWith(json, UnknownFields::kIgnore));
  EXPECT_EQ(ignored.attributes_size(), 2);
  EXPECT_EQ(ignored.person().email(), "a@b.example");

  const v1::LeadEvent kept = std::get<v1::LeadEvent>(DecodeWith(json, UnknownFields::kAttributes));
  const std::map<std::string, std::string> attributes(kept.attributes().begin(),
                                                      kept.attributes().end());
  const std::map<std::string, std::string> want = {
      {"plan", "pro"},
      {"utm_source", "google"},  // tidied like every attribute
      {"person.linkedin.handle", "ada"},
      {"person.linkedin.followers", "1.50e3"},  // as written
      {"person.linkedin.verified", "true"},
      {"x.y", "explicit"},  // the explicit attribute wins
      {"escaped", "v"},
  };
  EXPECT_EQ(attributes, want);
  EXPECT_EQ(kept.person().email(), "a@b.example");

  const Rejection rejected = std::get<Rejection>(DecodeWith(json, UnknownFields::kReject));
  EXPECT_EQ(rejected.reason, RejectReason::kInvalidField);
  EXPECT_EQ(rejected.detail,
            "utm_source: not a field of LeadEvent (ingest.unknown_fields: reject)");
  EXPECT_EQ(rejected.log_detail,
            "an unknown field at the top level (ingest.unknown_fields: reject)");
  const Rejection nested = std::get<Rejection>(
      DecodeWith(R"({"person":{"email":"a@b.example","linked\nin":1}})", UnknownFields::kReject));
  EXPECT_EQ(nested.detail,
            "person.linked\\u000ain: not a field of LeadEvent (ingest.unknown_fields: reject)");
  EXPECT_EQ(nested.log_detail, "an unknown field in person (ingest.unknown_fields: reject)");
  // Without unknown fields every policy decodes the same event.
  for (const UnknownFields policy :
       {UnknownFields::kIgnore, UnknownFields::kAttributes, UnknownFields::kReject}) {
    EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(
        std::get<v1::LeadEvent>(DecodeWith(kValidJson, policy)),
        DecodeOk(kValidJson, "application/json")));
  }
}

TEST(DecodeTest, UnknownFieldsKeptAsAttributesNeverOverflowSilently) {
  std::string json = R"({"event_id":"e","attributes":{"a":"1","b":"2"})";
  for (int i = 0; i < 63; ++i) absl::StrAppend(&json, ",\"u", i, "\":", i);
  json += "}";
  const Rejection r = std::get<Rejection>(DecodeWith(json, UnknownFields::kAttributes));
  EXPECT_EQ(r.reason, RejectReason::kInvalidField);
  EXPECT_EQ(r.detail,
            "attributes: 65 entries with 63 unknown fields kept as attributes, the limit is 64");
  EXPECT_EQ(r.log_detail, r.detail);
  // 62 + 2 fit; a path longer than an attribute key is refused by validation.
  json = R"({"event_id":"e","attributes":{"a":"1","b":"2"})";
  for (int i = 0; i < 62; ++i) absl::StrAppend(&json, ",\"u", i, "\":", i);
  json += "}";
  EXPECT_EQ(std::get<v1::LeadEvent>(DecodeWith(json, UnknownFields::kAttributes)).attributes_size(),
            64);
  v1::LeadEvent deep = std::get<v1::LeadEvent>(
      DecodeWith(absl::StrCat(R"({"event_id":"e",")", std::string(70, 'k'), R"(":"v"})"),
                 UnknownFields::kAttributes));
  ASSERT_EQ(deep.attributes_size(), 1);
  EXPECT_EQ(deep.attributes().begin()->first.size(), 70u);
}

TEST(DecodeTest, RejectsWhatCannotBeDecoded) {
  EXPECT_EQ(DecodeRejected("{not json", "application/json").reason, RejectReason::kUndecodable);
  EXPECT_EQ(DecodeRejected("", std::nullopt).reason, RejectReason::kUndecodable);
  EXPECT_EQ(DecodeRejected(R"({"source_kind":"NO_SUCH_KIND"})", "application/json").reason,
            RejectReason::kInvalidField);
  EXPECT_EQ(DecodeRejected(R"({"company":{"employee_count":"many"}})", "application/json").reason,
            RejectReason::kUndecodable);
  // Field 1 (event_id) as a length-delimited string holding invalid UTF-8.
  const std::string bad_utf8 = std::string("\x0a\x02\xff\xfe", 4);
  EXPECT_EQ(DecodeRejected(bad_utf8, "application/x-protobuf").reason, RejectReason::kUndecodable);
  // A truncated varint.
  EXPECT_EQ(DecodeRejected(std::string("\x20\xff", 2), "application/x-protobuf").reason,
            RejectReason::kUndecodable);
}

TEST(DecodeTest, RejectsInvalidUtf8InJson) {
  for (const std::string& bad : {std::string("{\"event_id\":\"a\xff\"}"),         // stray byte
                                 std::string("{\"event_id\":\"\xc0\xaf\"}"),      // overlong '/'
                                 std::string("{\"event_id\":\"\xed\xa0\x80\"}"),  // surrogate
                                 std::string("{\"event_id\":\"\xe2\x82\"}")}) {   // truncated
    const Rejection r = DecodeRejected(bad, "application/json");
    EXPECT_EQ(r.reason, RejectReason::kUndecodable) << r.detail;
    EXPECT_NE(r.detail.find("invalid UTF-8 at byte"), std::string::npos) << r.detail;
  }
  const v1::LeadEvent ok =
      DecodeOk("{\"event_id\":\"caf\xc3\xa9-\xe2\x82\xac-\xf0\x9f\x98\x80\"}", "application/json");
  EXPECT_EQ(ok.event_id(), "caf\xc3\xa9-\xe2\x82\xac-\xf0\x9f\x98\x80");
}

TEST(DecodeTest, RejectsUnsupportedContentTypeAndOversizedEvents) {
  const Rejection type = DecodeRejected(kValidJson, "text/csv");
  EXPECT_EQ(type.reason, RejectReason::kUnsupportedContentType);
  EXPECT_NE(type.detail.find("text/csv"), std::string::npos);
  const Rejection big = DecodeRejected(kValidJson, "application/json", 100);
  EXPECT_EQ(big.reason, RejectReason::kTooLarge);
  EXPECT_NE(big.detail.find("100"), std::string::npos);
}

TEST(DecodeTest, HostileBytesNeverCrash) {
  std::string noise;
  uint32_t x = 12345;
  for (int round = 0; round < 2000; ++round) {
    noise.clear();
    const int len = static_cast<int>(x % 64);
    for (int i = 0; i < len; ++i) {
      x = x * 1664525u + 1013904223u;
      noise.push_back(static_cast<char>(x >> 24));
    }
    (void)DecodeLeadEvent(noise, std::nullopt, kLimit);
    (void)DecodeLeadEvent(noise, "application/json", kLimit);
  }
  SUCCEED();
}

// Inputs protobuf 3.21's parser took before the RFC 8259 gate: each is now a dead letter with the
// problem and its byte offset (or the duplicate key and where it is), never a merge.
TEST(DecodeTest, JsonMustBeStrictRfc8259WithoutDuplicateKeys) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"{\"event_id\":\"a\x01"
       "b\"}",
       "invalid JSON: unescaped control character U+0001 in a string at byte 14"},
      {"{\"event_id\":\"a\nb\"}",
       "invalid JSON: unescaped control character U+000A in a string at byte 14"},
      {R"({"event_id":"a",})", "invalid JSON: trailing comma at byte 15"},
      {R"({"event_id":"a","future":[1,2,]})", "invalid JSON: trailing comma at byte 29"},
      {R"({"person":{"email":"a@b.example",}})", "invalid JSON: trailing comma at byte 32"},
      {R"({"event_id":"a","event_id":"b"})", R"(duplicate key "event_id" at the top level)"},
      {R"({"person":{"email":"a@b.example"},"person":{"phone":"5551234567"}})",
       R"(duplicate key "person" at the top level)"},
      {R"({"person":{"email":"a@b.example","phone":"1","email":"c@d.example"}})",
       R"(duplicate key "email" in person)"},
      {R"({"attributes":{"plan":"a","plan":"b"}})", R"(duplicate key "plan" in attributes)"},
      {R"({"event_id":"a","eventId":"b"})",
       R"(duplicate key "eventId" at the top level (the same field as "event_id"))"},
      {R"({"future":{"x":[{"a":1,"\u0061":2}]}})", R"(duplicate key "a" in future.x[0])"},
      {"\xef\xbb\xbf{}", "invalid JSON: byte order mark at byte 0"},
      {"{\"event_id\":\"a\"}\f", "invalid JSON: unexpected data after the JSON value at byte 16"},
      {R"({"event_id":"\ud800"})", "invalid JSON: lone UTF-16 surrogate escape at byte 13"},
      {R"({"company":{"employee_count":012}})",
       "invalid JSON: invalid number (leading zero) at byte 29"},
      {R"({event_id:"a"})", "invalid JSON: expected a quoted key at byte 1"},
      {R"({"event_id":"a"} {"event_id":"b"})",
       "invalid JSON: unexpected data after the JSON value at byte 17"},
      {R"({"event_id":"a")", "invalid JSON: unexpected end of input at byte 15"},
  };
  for (const auto& [json, detail] : cases) {
    SCOPED_TRACE(json);
    const Rejection r = DecodeRejected(json, "application/json");
    EXPECT_EQ(r.reason, RejectReason::kUndecodable);
    EXPECT_EQ(r.detail, detail);
  }
}

TEST(DecodeTest, StrictJsonGateCoversLargeInputsAndDeepNesting) {
  // Over the fast path's 64 KiB: the gate still runs (here on a duplicate among many keys, which
  // takes its hash set).
  std::string big = R"({"event_id":"big","attributes":{)";
  for (int i = 0; i < 40; ++i) absl::StrAppend(&big, "\"k", i, "\":\"v\",");
  absl::StrAppend(&big, R"("k7":"again"},"campaign":")", std::string(70 << 10, 'c'), R"("})");
  EXPECT_EQ(DecodeRejected(big, "application/json").detail, R"(duplicate key "k7" in attributes)");
  const std::string big_ok =
      absl::StrCat(R"({"event_id":"big","campaign":")", std::string(70 << 10, 'c'), R"("})");
  EXPECT_EQ(DecodeOk(big_ok, "application/json").campaign().size(), size_t{70} << 10);

  const auto nested = [](int levels) {
    return absl::StrCat(R"({"future":)", std::string(static_cast<size_t>(levels), '['),
                        std::string(static_cast<size_t>(levels), ']'), "}");
  };
  EXPECT_EQ(DecodeOk(nested(1023), "application/json").ByteSizeLong(), 0u);  // 1024 with the top
  EXPECT_EQ(DecodeRejected(nested(1024), "application/json").detail,
            "invalid JSON: nesting deeper than 1024 levels at byte 1033");
}

// Rejections carrying personal data: the dead-letter detail keeps it (as before), the log detail
// never does.
TEST(RejectionTest, LogDetailNeverHoldsPersonalData) {
  const std::vector<std::string> personal = {"jane",   "Jane",        "x.example",   "5551234567",
                                             "555123", "secret-corp", "Grace",       "Hopper",
                                             "navy",   "doe",         "@example.com"};
  struct Case {
    std::string name;
    std::function<Rejection()> reject;
    std::string detail_has;  // a value the dead-letter detail still names
    std::string log_detail;  // exactly
  };
  const auto json = [](std::string payload) {
    return [payload] { return DecodeRejected(payload, "application/json"); };
  };
  const auto validated = [](std::function<void(v1::LeadEvent&)> mutate) {
    return [mutate] {
      v1::LeadEvent e = DecodeOk(kValidJson, "application/json");
      mutate(e);
      const std::optional<Rejection> r = ValidateLeadEvent(e, kNow);
      if (!r) ADD_FAILURE() << "validated";
      return r.value_or(Rejection{});
    };
  };
  const std::vector<Case> cases = {
      {"message given a string", json(R"({"person":"jane@x.example"})"), "jane@x.example",
       "invalid LeadEvent JSON at person: a value of the wrong type or out of range"},
      {"string given a number", json(R"({"person":{"email":5551234567}})"), "5551234567",
       "invalid LeadEvent JSON at person.email: a value of the wrong type or out of range"},
      {"bad timestamp", json(R"({"occurred_at":"Grace Hopper"})"), "Grace Hopper",
       "invalid LeadEvent JSON at occurred_at: an invalid timestamp"},
      {"unknown enum name", json(R"({"source_kind":"jane@x.example"})"), "jane@x.example",
       "source_kind: not one of INBOUND_MARKETING, EVENT, PARTNER, REP_SOURCED, PURCHASED_LIST, "
       "OUTBOUND (or LEAD_SOURCE_KIND_INBOUND_MARKETING, ..., in any case, or the number)"},
      {"unknown enum name with an unknown field",
       json(R"({"x":1,"psychographics":{"buying_priority":"jane@x.example"}})"), "jane@x.example",
       "psychographics.buying_priority: not one of PRICE, VALUE (or BUYING_PRIORITY_PRICE, ..., "
       "in any case, or the number)"},
      {"unknown field rejected",
       [] {
         DecodeOptions reject;
         reject.unknown_fields = UnknownFields::kReject;
         return std::get<Rejection>(DecodeLeadEvent(R"({"person":{"jane@x.example":1}})",
                                                    "application/json", kLimit, reject));
       },
       "person.jane@x.example", "an unknown field in person (ingest.unknown_fields: reject)"},
      {"object for a map value", json(R"({"attributes":{"jane@x.example":{"a":1}}})"), "",
       "invalid LeadEvent JSON: an object where a string or number belongs"},
      {"syntax error after a value", json(R"({"company":{"name":"secret-corp.example" "x":1}})"),
       "at byte 41", "invalid JSON: expected ',' or '}' after a value at byte 41"},
      {"duplicate attribute", json(R"({"attributes":{"jane@x.example":"1","jane@x.example":"2"}})"),
       "jane@x.example", "duplicate key in attributes"},
      {"duplicate unknown key", json(R"({"Grace Hopper":1,"Grace Hopper":2})"), "Grace Hopper",
       "duplicate key (not a field name) at the top level"},
      {"duplicate in an unknown field", json(R"({"person":{"x":{"jane":1,"jane":2}}})"), "jane",
       "duplicate key inside an unknown field or a map value, in person"},
      {"content type", [] { return DecodeRejected("{}", "text/jane@x.example"); }, "jane@x.example",
       "content-type is not application/json or application/x-protobuf"},
      {"long attribute", validated([](v1::LeadEvent& e) {
         (*e.mutable_attributes())["jane.doe@x.example"] = std::string(1025, 'x');
       }),
       "jane.doe@x.example", "attributes: a value of 1025 bytes, the limit is 1024"},
      {"long first name", validated([](v1::LeadEvent& e) {
         e.mutable_person()->set_first_name(std::string(300, 'J'));
       }),
       "person.first_name", "person.first_name: 300 bytes, the limit is 256"},
      {"bad email",
       validated([](v1::LeadEvent& e) { e.mutable_person()->set_email("jane.doe@example.com@"); }),
       "person.email", "person.email: not an email address"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const Rejection r = c.reject();
    EXPECT_EQ(r.log_detail, c.log_detail);
    EXPECT_NE(r.detail.find(c.detail_has), std::string::npos) << r.detail;
    for (const std::string& value : personal) {
      EXPECT_EQ(r.log_detail.find(value), std::string::npos) << value << " in " << r.log_detail;
    }
  }
  // Protobuf's own words stay in the dead letter, value included.
  EXPECT_EQ(
      DecodeRejected(R"({"person":{"email":5551234567}})", "application/json").detail,
      "invalid LeadEvent JSON: (person.email): invalid value 5551234567 for type TYPE_STRING");
}

TEST(RejectionTest, EveryRejectionHasALogDetail) {
  for (const Rejection& r :
       {DecodeRejected("", std::nullopt), DecodeRejected(kValidJson, "application/json", 10),
        DecodeRejected(std::string("\x20\xff", 2), "application/x-protobuf"),
        DecodeRejected("{\"event_id\":\"a\xff\"}", "application/json")}) {
    EXPECT_FALSE(r.log_detail.empty()) << r.detail;
    EXPECT_EQ(r.log_detail, r.detail);  // nothing from the payload in any of them
  }
}

TEST(RejectionTest, RedactForTraceKeepsTheShapeOnly) {
  EXPECT_EQ(RedactForTrace(R"({"email":"Jane.Doe@x.example","phone":5551234})"),
            R"({"xxxxx":"xxxx.xxx@x.xxxxxxx","xxxxx":9999999})");
  EXPECT_EQ(RedactForTrace("Ren\xc3\xa9\xe2\x80\x94\xf0\x9f\x98\x80 \"\\\t\x01\x7f"),
            "xxxxxx \"\\...");
  EXPECT_EQ(RedactForTrace("\xff\x80"
                           "a"),
            "xxx");
  EXPECT_EQ(RedactForTrace(""), "");
}

class ValidateTest : public ::testing::Test {
 protected:
  v1::LeadEvent Valid() { return DecodeOk(kValidJson, "application/json"); }

  // The rejection's reason and detail, or a failure when the event passed.
  Rejection Rejected(const v1::LeadEvent& e) {
    auto r = ValidateLeadEvent(e, kNow);
    if (!r) {
      ADD_FAILURE() << "validated but expected a rejection";
      return {RejectReason::kInvalidField, "", ""};
    }
    return *r;
  }
};

TEST_F(ValidateTest, AcceptsACompleteLead) {
  EXPECT_FALSE(ValidateLeadEvent(Valid(), kNow));
}

TEST_F(ValidateTest, AcceptsPhoneOnlyOrEmailOnly) {
  v1::LeadEvent phone_only = Valid();
  phone_only.mutable_person()->clear_email();
  EXPECT_FALSE(ValidateLeadEvent(phone_only, kNow));
  v1::LeadEvent email_only = Valid();
  email_only.mutable_person()->clear_phone();
  EXPECT_FALSE(ValidateLeadEvent(email_only, kNow));
}

TEST_F(ValidateTest, RequiredFieldsAreNamed) {
  v1::LeadEvent e = Valid();
  e.clear_event_id();
  Rejection r = Rejected(e);
  EXPECT_EQ(r.reason, RejectReason::kMissingField);
  EXPECT_NE(r.detail.find("event_id"), std::string::npos);

  e = Valid();
  e.clear_occurred_at();
  EXPECT_NE(Rejected(e).detail.find("occurred_at"), std::string::npos);

  e = Valid();
  e.clear_source_kind();
  EXPECT_NE(Rejected(e).detail.find("source_kind"), std::string::npos);

  e = Valid();
  e.mutable_person()->clear_email();
  e.mutable_person()->clear_phone();
  r = Rejected(e);
  EXPECT_EQ(r.reason, RejectReason::kMissingField);
  EXPECT_NE(r.detail.find("person.email or person.phone"), std::string::npos);
}

TEST_F(ValidateTest, OutOfRangeValuesAreInvalid) {
  struct Case {
    std::string name;
    std::function<void(v1::LeadEvent&)> mutate;
    std::string field;
  };
  const std::vector<Case> cases = {
      {"event id with space", [](auto& e) { e.set_event_id("evt 1"); }, "event_id"},
      {"event id too long", [](auto& e) { e.set_event_id(std::string(129, 'a')); }, "event_id"},
      {"ancient", [](auto& e) { e.mutable_occurred_at()->set_seconds(100); }, "occurred_at"},
      {"future", [](auto& e) { e.mutable_occurred_at()->set_seconds(1795348800 + 25 * 3600); },
       "occurred_at"},
      {"bad email", [](auto& e) { e.mutable_person()->set_email("grace@"); }, "person.email"},
      {"two ats", [](auto& e) { e.mutable_person()->set_email("a@b@c.com"); }, "person.email"},
      {"email with space", [](auto& e) { e.mutable_person()->set_email("a b@c.com"); },
       "person.email"},
      {"letters phone", [](auto& e) { e.mutable_person()->set_phone("call me"); }, "person.phone"},
      {"short phone", [](auto& e) { e.mutable_person()->set_phone("12345"); }, "person.phone"},
      {"negative employees", [](auto& e) { e.mutable_company()->set_employee_count(-1); },
       "company.employee_count"},
      {"negative revenue", [](auto& e) { e.mutable_company()->set_annual_revenue_usd(-5); },
       "company.annual_revenue_usd"},
      {"intent over 100", [](auto& e) { e.mutable_psychographics()->set_intent_score(101); },
       "psychographics.intent_score"},
      {"unknown enum from binary",
       [](auto& e) {
         e.mutable_psychographics()->set_buying_priority(static_cast<v1::BuyingPriority>(9));
       },
       "psychographics.buying_priority"},
      {"huge attribute",
       [](auto& e) { (*e.mutable_attributes())["notes"] = std::string(2000, 'x'); },
       "attributes.notes"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    v1::LeadEvent e = Valid();
    c.mutate(e);
    const Rejection r = Rejected(e);
    EXPECT_EQ(r.reason, RejectReason::kInvalidField);
    EXPECT_EQ(r.detail.rfind(c.field, 0), 0u) << r.detail;
  }
}

// The string fields of LeadEvent and its messages, by proto path (maps and repeated fields aside).
void CollectStringFields(const google::protobuf::Descriptor& type, const std::string& prefix,
                         std::set<std::string>& out) {
  for (int i = 0; i < type.field_count(); ++i) {
    const google::protobuf::FieldDescriptor& field = *type.field(i);
    if (field.is_repeated()) continue;
    const std::string path = prefix + field.name();
    if (field.type() == google::protobuf::FieldDescriptor::TYPE_STRING) out.insert(path);
    if (field.type() == google::protobuf::FieldDescriptor::TYPE_MESSAGE &&
        field.message_type()->file() == type.file()) {
      CollectStringFields(*field.message_type(), path + ".", out);
    }
  }
}

// Sets the string field at `path` ("person.first_name") by reflection.
void SetStringAt(google::protobuf::Message& message, std::string_view path, std::string value) {
  const size_t dot = path.find('.');
  const google::protobuf::FieldDescriptor* field =
      message.GetDescriptor()->FindFieldByName(std::string(path.substr(0, dot)));
  ASSERT_NE(field, nullptr) << path;
  if (dot == std::string_view::npos) {
    message.GetReflection()->SetString(&message, field, std::move(value));
  } else {
    SetStringAt(*message.GetReflection()->MutableMessage(&message, field), path.substr(dot + 1),
                std::move(value));
  }
}

TEST_F(ValidateTest, EveryStringFieldHasALimit) {
  std::set<std::string> fields;
  CollectStringFields(*v1::LeadEvent::descriptor(), "", fields);
  std::set<std::string> limited;
  for (const StringFieldLimit& limit : StringFieldLimits()) limited.emplace(limit.field);
  EXPECT_EQ(fields, limited);
  ASSERT_NE(v1::LeadEvent::descriptor()->FindFieldByName("attributes"), nullptr);
}

TEST_F(ValidateTest, OverLongStringsNameTheFieldAndTheLimit) {
  for (const StringFieldLimit& limit : StringFieldLimits()) {
    SCOPED_TRACE(limit.field);
    v1::LeadEvent e = Valid();
    SetStringAt(e, limit.field, std::string(limit.max_bytes + 1, '1'));
    const Rejection r = Rejected(e);
    EXPECT_EQ(r.reason, RejectReason::kInvalidField);
    EXPECT_EQ(r.detail, absl::StrCat(std::string(limit.field), ": ", limit.max_bytes + 1,
                                     " bytes, the limit is ", limit.max_bytes));
    EXPECT_EQ(r.log_detail, r.detail);
  }
  v1::LeadEvent e = Valid();
  e.mutable_person()->set_first_name(std::string(1040000, 'a'));
  EXPECT_EQ(Rejected(e).detail, "person.first_name: 1040000 bytes, the limit is 256");
  e = Valid();
  e.mutable_person()->set_email(std::string(250, 'a') + "@b.example");
  EXPECT_EQ(Rejected(e).detail, "person.email: 260 bytes, the limit is 254");
  e = Valid();
  for (int i = 0; i < 65; ++i) (*e.mutable_attributes())[absl::StrCat("k", i)] = "v";
  EXPECT_EQ(Rejected(e).detail, "attributes: 66 entries, the limit is 64");
  e = Valid();
  (*e.mutable_attributes())[std::string(65, 'k')] = "v";
  EXPECT_EQ(Rejected(e).detail, "attributes: a key of 65 bytes, keys must be 1..64 bytes");
}

// Every string at its limit, filled with `filler` where the field has no shape rule.
v1::LeadEvent EventAtEveryLimit(char filler) {
  v1::LeadEvent e;
  for (const StringFieldLimit& limit : StringFieldLimits()) {
    SetStringAt(e, limit.field, std::string(limit.max_bytes, filler));
  }
  e.set_event_id(std::string(128, filler == '<' ? '<' : 'e'));
  const std::string domain = "@b.example";
  e.mutable_person()->set_email(std::string(254 - domain.size(), filler) + domain);
  std::string phone = "+" + std::string(15, '5');
  phone.resize(64, '-');
  e.mutable_person()->set_phone(phone);
  e.mutable_occurred_at()->set_seconds(1795348740);
  e.mutable_occurred_at()->set_nanos(123456789);
  e.set_source_kind(v1::LEAD_SOURCE_KIND_REP_SOURCED);
  for (size_t i = 0; i < kMaxAttributes; ++i) {
    std::string key = absl::StrCat(i, "-");
    key.resize(kMaxAttributeKeyBytes, filler);
    (*e.mutable_attributes())[key] = std::string(kMaxAttributeValueBytes, filler);
  }
  return e;
}

size_t StringBytes(const v1::LeadEvent& e) {
  size_t total = 0;
  for (const StringFieldLimit& limit : StringFieldLimits()) {
    const google::protobuf::Message* message = &e;
    std::string_view path = limit.field;
    for (size_t dot = path.find('.'); dot != std::string_view::npos; dot = path.find('.')) {
      const auto* field =
          message->GetDescriptor()->FindFieldByName(std::string(path.substr(0, dot)));
      message = &message->GetReflection()->GetMessage(*message, field);
      path.remove_prefix(dot + 1);
    }
    const auto* field = message->GetDescriptor()->FindFieldByName(std::string(path));
    total += message->GetReflection()->GetString(*message, field).size();
  }
  for (const auto& [key, value] : e.attributes()) total += key.size() + value.size();
  return total;
}

TEST_F(ValidateTest, ALeadAtEveryLimitValidatesAndFitsInOneKafkaMessage) {
  for (const char filler : {'a', '<'}) {  // plain text, and text protobuf escapes as \u003c
    SCOPED_TRACE(filler);
    const v1::LeadEvent e = EventAtEveryLimit(filler);
    EXPECT_FALSE(ValidateLeadEvent(e, kNow));
    EXPECT_EQ(StringBytes(e), kMaxLeadEventStringBytes);
    std::string json;
    ASSERT_TRUE(google::protobuf::util::MessageToJsonString(e, &json).ok());
    EXPECT_LE(json.size(), kMaxLeadEventJsonBytes);
    if (filler == 'a') {
      EXPECT_LT(json.size(), size_t{256} << 10) << json.size();
    } else {
      EXPECT_GT(json.size(), size_t{5} * kMaxLeadEventStringBytes) << json.size();
    }
    std::printf("every string at its limit, filled with '%c': %zu bytes of JSON\n", filler,
                json.size());
    // And one byte more anywhere is refused.
    v1::LeadEvent over = e;
    over.mutable_company()->mutable_website()->push_back('a');
    EXPECT_TRUE(ValidateLeadEvent(over, kNow));
  }
}

TEST_F(ValidateTest, ClockSkewAllowanceIsTwentyFourHours) {
  v1::LeadEvent e = Valid();
  e.mutable_occurred_at()->set_seconds(1795348800 + 23 * 3600);
  EXPECT_FALSE(ValidateLeadEvent(e, kNow));
  EXPECT_TRUE(ValidateLeadEvent(e, kNow - hours(2)));
}

TEST(RejectReasonTest, NamesAreStableLabels) {
  EXPECT_EQ(RejectReasonName(RejectReason::kTooLarge), "too_large");
  EXPECT_EQ(RejectReasonName(RejectReason::kUnsupportedContentType), "unsupported_content_type");
  EXPECT_EQ(RejectReasonName(RejectReason::kUndecodable), "undecodable");
  EXPECT_EQ(RejectReasonName(RejectReason::kMissingField), "missing_field");
  EXPECT_EQ(RejectReasonName(RejectReason::kInvalidField), "invalid_field");
}

}  // namespace
}  // namespace leadrouter::lead
