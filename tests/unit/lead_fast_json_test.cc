// The JSON fast path of DecodeLeadEvent (libs/lead/src/fast_json.h): it may decline anything, but
// whatever it accepts must be exactly what protobuf's strict JsonStringToMessage produces. Checked
// on protobuf-printed events, leadgen's realistic events and seeded differential fuzzing.

#include <google/protobuf/descriptor.h>
#include <google/protobuf/descriptor.pb.h>
#include <google/protobuf/dynamic_message.h>
#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/text_format.h>
#include <google/protobuf/timestamp.pb.h>
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "fast_json.h"
#include "json_prepare.h"
#include "leadrouter/lead/decode.h"
#include "strict_json.h"

namespace leadrouter::lead {
namespace {

using google::protobuf::Message;
using google::protobuf::util::MessageDifferencer;
using internal::CheckStrictJson;
using internal::TryParseJsonFast;

std::string Canonical(const Message& message) {
  std::string out;
  {
    google::protobuf::io::StringOutputStream stream(&out);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    message.SerializeToCodedStream(&coded);
  }
  return out;
}

// The differential check for one input. Returns whether the fast path took it; fails the test
// when it took it and protobuf's strict parser fails or produces a different message.
bool CheckAgainstProtobuf(std::string_view json, const Message& prototype) {
  std::unique_ptr<Message> fast(prototype.New());
  if (!TryParseJsonFast(json, *fast)) return false;
  // The fast path takes only what the RFC 8259 gate passes, so DecodeLeadEvent may skip the gate
  // for it.
  if (const auto invalid = CheckStrictJson(json, prototype.GetDescriptor())) {
    ADD_FAILURE() << "fast path accepted what the gate refuses (" << invalid->detail
                  << "): " << json;
  }
  std::unique_ptr<Message> slow(prototype.New());
  const auto status = google::protobuf::util::JsonStringToMessage(
      google::protobuf::StringPiece(json.data(), json.size()), slow.get(),
      google::protobuf::util::JsonParseOptions());
  EXPECT_TRUE(status.ok()) << "fast path accepted what protobuf rejects (" << status.ToString()
                           << "): " << json;
  if (!status.ok()) return true;
  EXPECT_TRUE(MessageDifferencer::Equals(*fast, *slow))
      << json << "\n fast: " << fast->ShortDebugString()
      << "\n protobuf: " << slow->ShortDebugString();
  // Bytes too: Equals takes -0.0 == 0.0, which serialize differently in proto3.
  EXPECT_EQ(Canonical(*fast), Canonical(*slow)) << json;
  return true;
}

// DecodeLeadEvent before the strict gate and the fast path: protobuf strict, then lenient on
// unknown fields only. What it accepted is what DecodeLeadEvent must still accept identically,
// unless the gate refuses it.
DecodeResult LegacyDecodeJson(std::string_view payload) {
  v1::LeadEvent event;
  const google::protobuf::StringPiece json(payload.data(), payload.size());
  auto status = google::protobuf::util::JsonStringToMessage(
      json, &event, google::protobuf::util::JsonParseOptions());
  if (!status.ok() && absl::EndsWith(status.message().as_string(), "Cannot find field.")) {
    event.Clear();
    google::protobuf::util::JsonParseOptions lenient;
    lenient.ignore_unknown_fields = true;
    status = google::protobuf::util::JsonStringToMessage(json, &event, lenient);
  }
  if (!status.ok()) {
    return Rejection{RejectReason::kUndecodable,
                     absl::StrCat("invalid LeadEvent JSON: ", status.message().as_string()), ""};
  }
  return event;
}

bool IsGateRejection(const Rejection& rejection) {
  return absl::StartsWith(rejection.detail, "invalid JSON: ") ||
         absl::StartsWith(rejection.detail, "duplicate key ");
}

// An enum value that neither ResolveEnumName nor ResolveEnumNumber takes (issue 16): refused
// before protobuf, which took some of them (unknown numbers, or anything next to an unknown
// field, where ignore_unknown_fields dropped it).
bool IsEnumRejection(const Rejection& rejection) {
  return rejection.reason == RejectReason::kInvalidField &&
         absl::StrContains(rejection.detail, " is not one of ");
}

// The enum fields of LeadEvent, cleared in `event` wherever `reference` has them unset.
void ClearEnumsUnsetIn(const v1::LeadEvent& reference, v1::LeadEvent& event) {
  if (reference.source_kind() == 0) event.clear_source_kind();
  if (!reference.has_psychographics()) return;
  if (reference.psychographics().buying_priority() == 0) {
    event.mutable_psychographics()->clear_buying_priority();
  }
  if (reference.psychographics().innovation_appetite() == 0) {
    event.mutable_psychographics()->clear_innovation_appetite();
  }
}

// DecodeLeadEvent's verdict for a JSON payload under `policy` equals the fallback's
// (DecodeJsonFallback, which the fast path is held to): the same event, or the same rejection
// reason and detail (and a log detail). Under kIgnore it also equals what DecodeLeadEvent did
// before the gate (protobuf strict, then lenient on unknown fields), except where the gate or
// the enum rules refuse, and where the legacy parser silently dropped an enum next to an unknown
// field, or skipped the keys of an object given for a scalar. (Empty payloads and invalid UTF-8 are
// rejected before either parser runs.)
void ExpectDecodeUnchanged(std::string_view payload,
                           UnknownFields policy = UnknownFields::kIgnore) {
  if (payload.empty()) return;  // "empty payload", before either parser
  DecodeOptions options;
  options.unknown_fields = policy;
  const DecodeResult got = DecodeLeadEvent(payload, "application/json", 1 << 20, options);
  if (const auto* rejection = std::get_if<Rejection>(&got);
      rejection != nullptr && absl::StartsWith(rejection->detail, "invalid UTF-8 at byte")) {
    return;
  }
  DecodeResult want = internal::DecodeJsonFallback(payload, options);
  // DecodeLeadEvent tidies the strings of what it accepts (decode.h); so do the oracles.
  if (auto* event = std::get_if<v1::LeadEvent>(&want)) TidyStrings(*event);
  ASSERT_EQ(got.index(), want.index()) << payload;
  if (const auto* event = std::get_if<v1::LeadEvent>(&got)) {
    EXPECT_EQ(Canonical(*event), Canonical(std::get<v1::LeadEvent>(want))) << payload;
  } else {
    const Rejection& rejection = std::get<Rejection>(got);
    EXPECT_EQ(rejection.reason, std::get<Rejection>(want).reason) << payload;
    EXPECT_EQ(rejection.detail, std::get<Rejection>(want).detail) << payload;
    EXPECT_EQ(rejection.log_detail, std::get<Rejection>(want).log_detail) << payload;
    EXPECT_FALSE(rejection.log_detail.empty()) << payload;
  }
  if (policy != UnknownFields::kIgnore) return;
  DecodeResult legacy = LegacyDecodeJson(payload);
  if (auto* event = std::get_if<v1::LeadEvent>(&legacy)) TidyStrings(*event);
  if (!std::holds_alternative<v1::LeadEvent>(legacy)) return;
  if (const auto* event = std::get_if<v1::LeadEvent>(&got)) {
    const v1::LeadEvent& before = std::get<v1::LeadEvent>(legacy);
    v1::LeadEvent now = *event;
    ClearEnumsUnsetIn(before, now);
    EXPECT_EQ(Canonical(now), Canonical(before)) << payload;
  } else {
    const Rejection& rejection = std::get<Rejection>(got);
    // "Cannot find field": an object for a Timestamp or a map's string value, whose keys the
    // lenient legacy parse skipped as unknown fields (so `"occurred_at":{"a":1}` was an event
    // with a zero timestamp); the fallback now parses strictly.
    EXPECT_TRUE(IsGateRejection(rejection) || IsEnumRejection(rejection) ||
                absl::StrContains(rejection.detail, "Cannot find field."))
        << rejection.detail << ": " << payload;
  }
}

v1::LeadEvent FullEvent() {
  v1::LeadEvent e;
  e.set_event_id("evt-\"quoted\"-\\-\xc3\xa9-\xf0\x9f\x98\x80-\x01");
  e.mutable_occurred_at()->set_seconds(1795348740);
  e.mutable_occurred_at()->set_nanos(123456000);
  e.set_source_system("hubspot");
  e.set_source_kind(v1::LEAD_SOURCE_KIND_REP_SOURCED);
  e.set_campaign("q4\twebinar\n");
  e.set_sourced_by_rep_id("rep-ada");
  auto* p = e.mutable_person();
  p->set_first_name("Grace");
  p->set_last_name("Hopper");
  p->set_email("grace@navy.example.com");
  p->set_phone("+1 (415) 555-0100");
  p->set_title("Rear Admiral");
  auto* c = e.mutable_company();
  c->set_name("Navy Labs");
  c->set_website("https://navy.example.com/a/b");
  c->set_industry("Defense");
  c->set_employee_count(9223372036854775807);
  c->set_annual_revenue_usd(-5);
  c->set_location_count(-2147483647 - 1);
  c->set_country("US");
  c->set_region("VA");
  c->set_postal_code("22350");
  auto* s = e.mutable_psychographics();
  s->set_buying_priority(v1::BUYING_PRIORITY_VALUE);
  s->set_innovation_appetite(v1::INNOVATION_APPETITE_LAGGARD);
  s->set_intent_score(87);
  (*e.mutable_attributes())["product"] = "router";
  (*e.mutable_attributes())["utm_source"] = "li\xc3\xa9";
  (*e.mutable_attributes())[""] = "";
  return e;
}

std::string PrintJson(const Message& m, bool proto_names) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = proto_names;
  std::string out;
  EXPECT_TRUE(google::protobuf::util::MessageToJsonString(m, &out, options).ok());
  return out;
}

// leadgen's realistic events (tests/bench/leadgen.cc), as JSON lines.
std::vector<std::string> LeadgenEvents(int count, int seed) {
#ifndef LEADGEN_BIN
  ADD_FAILURE() << "built without leadgen (tests/bench needs libbenchmark-dev)";
  return {};
#else
  const std::string command =
      absl::StrCat(LEADGEN_BIN, " --seed ", seed, " --count ", count,
                   " --occurred-at 2026-11-22T11:59:00.123456Z 2>/dev/null");
  std::vector<std::string> lines;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return lines;
  std::string line;
  char buffer[4096];
  while (fgets(buffer, sizeof buffer, pipe) != nullptr) {
    line += buffer;
    if (!line.empty() && line.back() == '\n') {
      line.pop_back();
      lines.push_back(std::move(line));
      line.clear();
    }
  }
  pclose(pipe);
  return lines;
#endif
}

TEST(LeadFastJsonTest, TakesProtobufPrintedEventsInBothNameStyles) {
  const v1::LeadEvent full = FullEvent();
  for (bool proto_names : {true, false}) {
    const std::string json = PrintJson(full, proto_names);
    v1::LeadEvent fast;
    ASSERT_TRUE(TryParseJsonFast(json, fast)) << json;
    EXPECT_TRUE(MessageDifferencer::Equals(fast, full)) << fast.ShortDebugString();
    EXPECT_TRUE(CheckAgainstProtobuf(json, v1::LeadEvent()));
    ExpectDecodeUnchanged(json);
  }
  // Mixed styles, whitespace, escapes, quoted 64-bit integers and enum numbers.
  const std::string mixed = R"( {"eventId":"a\u00e9\ud83d\ude00\/\b\f\n\r\t\"\\",
    "occurred_at":"2026-11-22T12:59:00.5+01:00", "sourceKind":3, "person":{},
    "company":{"employeeCount":"-12","annual_revenue_usd":"9223372036854775807","locationCount":0},
    "psychographics":null, "attributes":{"k":"v","k2":""}} )";
  v1::LeadEvent fast;
  ASSERT_TRUE(TryParseJsonFast(mixed, fast));
  EXPECT_EQ(fast.event_id(), "a\xc3\xa9\xf0\x9f\x98\x80/\b\f\n\r\t\"\\");
  EXPECT_EQ(fast.occurred_at().seconds(), 1795348740);
  EXPECT_EQ(fast.occurred_at().nanos(), 500000000);
  EXPECT_TRUE(fast.has_person());
  EXPECT_FALSE(fast.has_psychographics());
  EXPECT_EQ(fast.company().employee_count(), -12);
  EXPECT_TRUE(CheckAgainstProtobuf(mixed, v1::LeadEvent()));
}

TEST(LeadFastJsonTest, TakesAlmostAllLeadgenEventsAndAgreesWithProtobuf) {
  const std::vector<std::string> events = LeadgenEvents(2000, 42);
  ASSERT_EQ(events.size(), 2000u) << "could not run " << LEADGEN_BIN;
  size_t taken = 0;
  for (const std::string& json : events) {
    if (CheckAgainstProtobuf(json, v1::LeadEvent())) ++taken;
    ExpectDecodeUnchanged(json);
  }
  // leadgen writes ~0.5% garbage (truncated) JSON; everything else must take the fast path.
  EXPECT_GE(taken * 100, events.size() * 99) << taken << " of " << events.size();
}

TEST(LeadFastJsonTest, DeclinesWhatItIsNotSureAbout) {
  const std::vector<std::string> declined = {
      R"({"event_id":"a","event_id":"b"})",  // twice
      R"({"event_id":"a","eventId":"b"})",   // twice, by either name
      R"({"future_field":1})",               // unknown (the lenient path decides)
      R"({"source_kind":"NO_SUCH_KIND"})",   // unknown enum name
      R"({"source_kind":"lead_source_kind_event"})",
      R"({"source_kind":99})",   // unknown enum number (protobuf keeps it)
      R"({"source_kind":"1"})",  // quoted enum number
      R"({"company":{"location_count":2147483648}})",
      R"({"company":{"location_count":1.0}})",  // protobuf takes integral floats
      R"({"company":{"location_count":"+1"}})",
      R"({"company":{"location_count":"01"}})",
      R"({"company":{"employee_count":"many"}})",
      R"({"company":{"employee_count":9223372036854775808}})",
      R"({"event_id":1})",
      R"({"event_id":null,"attributes":{"a":null}})",
      R"({"attributes":{"a":"1","a":"2"}})",
      R"({"occurred_at":"2026-11-22t11:59:00z"})",
      R"({"occurred_at":"2026-11-22T11:59:00Z\u0000"})",
      R"({"occurred_at":{"seconds":1}})",
      R"({"occurred_at":"0001-01-01T00:00:00+01:00"})",  // below Timestamp's range
      R"({"event_id":"a",})",                            // protobuf takes trailing commas
      R"({event_id:"a"})",
      R"({'event_id':'a'})",
      "\xef\xbb\xbf{}",
      R"({"event_id":"a"} x)",
      R"([])",
      R"("x")",
      R"({"person":[]})",
      R"({"person":"x"})",
  };
  for (const std::string& json : declined) {
    v1::LeadEvent out;
    EXPECT_FALSE(TryParseJsonFast(json, out)) << json;
    ExpectDecodeUnchanged(json);
  }
  // Over 64 KiB: left to protobuf, which still decodes it.
  const std::string big =
      absl::StrCat(R"({"event_id":"big","campaign":")", std::string(64 << 10, 'c'), R"("})");
  v1::LeadEvent out;
  EXPECT_FALSE(TryParseJsonFast(big, out));
  EXPECT_EQ(std::get<v1::LeadEvent>(DecodeLeadEvent(big, "application/json", 1 << 20)).event_id(),
            "big");
}

// A proto3 message with every kind of field the fast path handles or declines, built at run time
// so the differential fuzzing also covers doubles, floats, unsigned ints, oneofs, repeated fields,
// bytes and recursion, which LeadEvent does not have.
constexpr char kKitchenSinkProto[] = R"pb(
  name: "leadrouter_test/kitchen_sink.proto"
  package: "leadrouter_test"
  syntax: "proto3"
  dependency: "google/protobuf/timestamp.proto"
  enum_type {
    name: "E"
    value { name: "E_ZERO" number: 0 }
    value { name: "E_ONE" number: 1 }
    value { name: "E_MINUS" number: -1 }
  }
  message_type {
    name: "M"
    field { name: "i32" number: 1 type: TYPE_INT32 label: LABEL_OPTIONAL json_name: "i32" }
    field { name: "i_64" number: 2 type: TYPE_INT64 label: LABEL_OPTIONAL json_name: "i64" }
    field { name: "u32" number: 3 type: TYPE_UINT32 label: LABEL_OPTIONAL json_name: "u32" }
    field { name: "u64" number: 4 type: TYPE_UINT64 label: LABEL_OPTIONAL json_name: "u64" }
    field { name: "d" number: 5 type: TYPE_DOUBLE label: LABEL_OPTIONAL json_name: "d" }
    field { name: "f" number: 6 type: TYPE_FLOAT label: LABEL_OPTIONAL json_name: "f" }
    field { name: "b" number: 7 type: TYPE_BOOL label: LABEL_OPTIONAL json_name: "b" }
    field {
      name: "e"
      number: 8
      type: TYPE_ENUM
      type_name: ".leadrouter_test.E"
      label: LABEL_OPTIONAL
      json_name: "e"
    }
    field { name: "s_name" number: 9 type: TYPE_STRING label: LABEL_OPTIONAL json_name: "sName" }
    field {
      name: "sub"
      number: 10
      type: TYPE_MESSAGE
      type_name: ".leadrouter_test.M"
      label: LABEL_OPTIONAL
      json_name: "sub"
    }
    field { name: "rs" number: 11 type: TYPE_STRING label: LABEL_REPEATED json_name: "rs" }
    field {
      name: "ts"
      number: 12
      type: TYPE_MESSAGE
      type_name: ".google.protobuf.Timestamp"
      label: LABEL_OPTIONAL
      json_name: "ts"
    }
    field {
      name: "mp"
      number: 13
      type: TYPE_MESSAGE
      type_name: ".leadrouter_test.M.MpEntry"
      label: LABEL_REPEATED
      json_name: "mp"
    }
    field { name: "ri" number: 14 type: TYPE_INT32 label: LABEL_REPEATED json_name: "ri" }
    field {
      name: "re"
      number: 15
      type: TYPE_ENUM
      type_name: ".leadrouter_test.E"
      label: LABEL_REPEATED
      json_name: "re"
    }
    field {
      name: "o1"
      number: 16
      type: TYPE_INT32
      label: LABEL_OPTIONAL
      json_name: "o1"
      oneof_index: 0
    }
    field {
      name: "o2"
      number: 17
      type: TYPE_STRING
      label: LABEL_OPTIONAL
      json_name: "o2"
      oneof_index: 0
    }
    field {
      name: "rm"
      number: 18
      type: TYPE_MESSAGE
      type_name: ".leadrouter_test.M"
      label: LABEL_REPEATED
      json_name: "rm"
    }
    field { name: "by" number: 19 type: TYPE_BYTES label: LABEL_OPTIONAL json_name: "by" }
    field { name: "rd" number: 20 type: TYPE_DOUBLE label: LABEL_REPEATED json_name: "rd" }
    field {
      name: "mm"
      number: 21
      type: TYPE_MESSAGE
      type_name: ".leadrouter_test.M.MmEntry"
      label: LABEL_REPEATED
      json_name: "mm"
    }
    nested_type {
      name: "MpEntry"
      options { map_entry: true }
      field { name: "key" number: 1 type: TYPE_STRING label: LABEL_OPTIONAL json_name: "key" }
      field { name: "value" number: 2 type: TYPE_STRING label: LABEL_OPTIONAL json_name: "value" }
    }
    nested_type {
      name: "MmEntry"
      options { map_entry: true }
      field { name: "key" number: 1 type: TYPE_STRING label: LABEL_OPTIONAL json_name: "key" }
      field {
        name: "value"
        number: 2
        type: TYPE_MESSAGE
        type_name: ".leadrouter_test.M"
        label: LABEL_OPTIONAL
        json_name: "value"
      }
    }
    oneof_decl { name: "oo" }
  }
)pb";

class KitchenSink {
 public:
  KitchenSink() : pool_(google::protobuf::DescriptorPool::generated_pool()), factory_(&pool_) {
    google::protobuf::Timestamp::descriptor();  // linked into the generated pool
    google::protobuf::FileDescriptorProto file;
    if (!google::protobuf::TextFormat::ParseFromString(kKitchenSinkProto, &file)) return;
    const google::protobuf::FileDescriptor* built = pool_.BuildFile(file);
    if (built == nullptr) return;
    prototype_ = factory_.GetPrototype(built->FindMessageTypeByName("M"));
  }
  const Message* prototype() const { return prototype_; }

 private:
  google::protobuf::DescriptorPool pool_;
  google::protobuf::DynamicMessageFactory factory_;
  const Message* prototype_ = nullptr;
};

// What protobuf 3.21's parser took although RFC 8259 forbids it, and duplicate keys (which it
// merged or let the later win): refused on both paths, in the same words, before any parser.
TEST(LeadFastJsonTest, BothPathsRefuseControlBytesTrailingCommasAndDuplicateKeys) {
  const std::vector<std::string> events = LeadgenEvents(50, 11);
  ASSERT_FALSE(events.empty());
  std::string seed;
  for (const std::string& json : events) {
    v1::LeadEvent e;
    if (TryParseJsonFast(json, e) && e.has_person()) {
      seed = json;
      break;
    }
  }
  ASSERT_FALSE(seed.empty());
  const auto replace_first = [&](std::string_view from, std::string_view to) {
    std::string out = seed;
    const size_t at = out.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    if (at != std::string::npos) out.replace(at, from.size(), to);
    return out;
  };
  struct Case {
    std::string json;
    std::string detail_prefix;
  };
  std::vector<Case> cases = {
      {replace_first("\"event_id\":\"", "\"event_id\":\"\x01"),
       "invalid JSON: unescaped control character U+0001 in a string at byte "},
      {replace_first("\"event_id\":\"", "\"event_id\":\"\t"),
       "invalid JSON: unescaped control character U+0009 in a string at byte "},
      {seed.substr(0, seed.size() - 1) + ",}", "invalid JSON: trailing comma at byte "},
      {replace_first("\"person\":{", "\"future\":[1,2,],\"person\":{"),
       "invalid JSON: trailing comma at byte "},
      {replace_first("\"person\":{", "\"person\":{\"email\":\"dup@x.example\","),
       R"(duplicate key "email" in person)"},
      {replace_first("\"person\":{", "\"person\":{},\"person\":{"),
       R"(duplicate key "person" at the top level)"},
      {replace_first("\"event_id\":", "\"event_id\":\"first\",\"event_id\":"),
       R"(duplicate key "event_id" at the top level)"},
      {replace_first("\"event_id\":", "\"eventId\":\"first\",\"event_id\":"),
       R"(duplicate key "event_id" at the top level (the same field as "eventId"))"},
      {replace_first("\"person\":{", "\"attributes\":{\"k\":\"1\",\"\\u006b\":\"2\"},\"person\":{"),
       R"(duplicate key "k" in attributes)"},
      {replace_first("\"person\":{", "\"future\":{\"a\":{\"b\":1,\"b\":2}},\"person\":{"),
       R"(duplicate key "b" in future.a)"},
  };
  // Every top-level field of the event given twice.
  v1::LeadEvent parsed;
  ASSERT_TRUE(TryParseJsonFast(seed, parsed));
  for (int i = 0; i < v1::LeadEvent::descriptor()->field_count(); ++i) {
    const std::string name = v1::LeadEvent::descriptor()->field(i)->name();
    if (seed.find(absl::StrCat("\"", name, "\":")) == std::string::npos) continue;
    cases.push_back({absl::StrCat("{\"", name, "\":null,", seed.substr(1)),
                     absl::StrCat("duplicate key \"", name, "\" at the top level")});
  }
  size_t merged_before = 0;
  for (const Case& c : cases) {
    SCOPED_TRACE(c.json);
    v1::LeadEvent fast;
    EXPECT_FALSE(TryParseJsonFast(c.json, fast));
    const DecodeResult got = DecodeLeadEvent(c.json, "application/json", 1 << 20);
    ASSERT_TRUE(std::holds_alternative<Rejection>(got));
    const Rejection& rejection = std::get<Rejection>(got);
    EXPECT_EQ(rejection.reason, RejectReason::kUndecodable);
    EXPECT_TRUE(absl::StartsWith(rejection.detail, c.detail_prefix)) << rejection.detail;
    EXPECT_FALSE(rejection.log_detail.empty());
    ExpectDecodeUnchanged(c.json);
    if (std::holds_alternative<v1::LeadEvent>(LegacyDecodeJson(c.json))) ++merged_before;
  }
  // Protobuf alone took (almost) all of them.
  EXPECT_GE(merged_before + 2, cases.size());

  // The kitchen sink (doubles, repeated messages, maps of messages) through the gate alone.
  const KitchenSink sink;
  ASSERT_NE(sink.prototype(), nullptr);
  const google::protobuf::Descriptor* type = sink.prototype()->GetDescriptor();
  const std::vector<std::pair<std::string, std::string>> sink_cases = {
      {R"({"rm":[{"i32":1},{"i32":1,"i32":2}]})", R"(duplicate key "i32" in rm[1])"},
      {R"({"mm":{"x":{"sub":{"d":1,"d":2}}}})", R"(duplicate key "d" in mm.x.sub)"},
      {R"({"s_name":"a","sName":"b"})",
       R"(duplicate key "sName" at the top level (the same field as "s_name"))"},
      {R"({"rd":[1.5,]})", "invalid JSON: trailing comma at byte 10"},
  };
  for (const auto& [json, detail] : sink_cases) {
    SCOPED_TRACE(json);
    std::unique_ptr<Message> fast(sink.prototype()->New());
    EXPECT_FALSE(TryParseJsonFast(json, *fast));
    const std::optional<Rejection> invalid = CheckStrictJson(json, type);
    ASSERT_TRUE(invalid.has_value());
    EXPECT_EQ(invalid->detail, detail);
  }
  // Log details of those: only what the schema names.
  EXPECT_EQ(CheckStrictJson(R"({"mm":{"x":{"sub":{"d":1,"d":2}}}})", type)->log_detail,
            "duplicate key inside an unknown field or a map value, in mm");
  EXPECT_EQ(CheckStrictJson(R"({"rm":[{"i32":1},{"i32":1,"i32":2}]})", type)->log_detail,
            R"(duplicate key "i32" in rm[1])");
}

// Values of every JSON type, valid and invalid for each field kind, at and beyond the edges.
constexpr std::array kValues = {
    "0",
    "-0",
    "1",
    "-1",
    "7",
    "2147483647",
    "2147483648",
    "-2147483648",
    "-2147483649",
    "4294967295",
    "4294967296",
    "9007199254740992",
    "9007199254740993",
    "16777216",
    "16777217",
    "9223372036854775807",
    "9223372036854775808",
    "-9223372036854775808",
    "18446744073709551615",
    "18446744073709551616",
    "1.0",
    "1e2",
    "-0.0",
    "1.5",
    "0.1",
    "1e-320",
    "3.4028235e38",
    "3.5e38",
    "1.7976931348623157e308",
    "1e400",
    "\"12\"",
    "\"-12\"",
    "\"+12\"",
    "\"012\"",
    "\"-0\"",
    "\"0\"",
    "\" 1\"",
    "\"1.5\"",
    "\"NaN\"",
    "\"Infinity\"",
    "\"-Infinity\"",
    "\"18446744073709551615\"",
    "\"9223372036854775808\"",
    "true",
    "false",
    "\"true\"",
    "null",
    "\"E_ONE\"",
    "\"E_MINUS\"",
    "\"e_one\"",
    "\"1\"",
    "\"7\"",
    "\"x\"",
    "\"\"",
    "\"\\u00e9\\ud83d\\ude00\"",
    "\"\\ud83d\"",
    "\"\\ude00\"",
    "\"\\u0000\"",
    "\"a\\/b\\n\"",
    "\"\xc3\xa9\"",
    "\"YWJj\"",
    "{}",
    "[]",
    "[1,\"a\",null]",
    "[\"a\",\"b\"]",
    "[1,2]",
    "[\"E_ONE\",1]",
    "[1.5,2]",
    "[{},{\"i32\":1}]",
    "{\"a\":\"b\"}",
    "{\"a\":null}",
    "{\"a\":\"1\",\"a\":\"2\"}",
    "{\"a\":{},\"b\":{\"i32\":1}}",
    "{\"i32\":1}",
    "{\"sub\":{}}",
    "\"2020-01-01T00:00:00Z\"",
    "\"2020-01-01t00:00:00z\"",
    "\"2020-01-01T00:00:00.123456789Z\"",
    "\"2020-01-01T00:00:00.1234567891Z\"",
    "\"2020-01-01T00:00:00+01:00\"",
    "\"2020-01-01T00:00:00-23:59\"",
    "\"2020-01-01 00:00:00Z\"",
    "\"0001-01-01T00:00:00Z\"",
    "\"0001-01-01T00:00:00+01:00\"",
    "\"9999-12-31T23:59:59Z\"",
    "\"2020-02-30T00:00:00Z\"",
    "\"2020-01-01T00:00:60Z\"",
    "\"2020-01-01T00:00:00.Z\"",
    "{\"seconds\":1}",
};

constexpr std::array kSinkKeys = {
    "i32", "i_64",    "i64", "u32",          "u64", "d",  "f",  "b",  "e",  "s_name", "sName",
    "sub", "rs",      "ts",  "mp",           "ri",  "re", "o1", "o2", "rm", "by",     "rd",
    "mm",  "unknown", "I32", "s\\u005fname",
};

std::string RandomSinkObject(std::mt19937_64& rng, int depth) {
  std::string out = "{";
  const int fields = static_cast<int>(rng() % 5);
  for (int i = 0; i < fields; ++i) {
    if (i > 0) out += ",";
    const char* key = kSinkKeys[rng() % kSinkKeys.size()];
    absl::StrAppend(&out, "\"", key, "\":");
    const std::string_view k = key;
    if ((k == "sub" || k == "rm" || k == "mm") && depth < 3 && rng() % 2 == 0) {
      const std::string inner = RandomSinkObject(rng, depth + 1);
      if (k == "sub") out += inner;
      if (k == "rm") absl::StrAppend(&out, "[", inner, ",", RandomSinkObject(rng, depth + 1), "]");
      if (k == "mm") absl::StrAppend(&out, "{\"x\":", inner, "}");
    } else {
      out += kValues[rng() % kValues.size()];
    }
  }
  return out + "}";
}

// Mutations on JSON text: byte flips and JSON-significant bytes, truncations, deletions and
// duplications of ranges (which duplicate keys), value swaps and key renames.
std::string Mutate(std::string s, std::mt19937_64& rng, const std::vector<std::string>& keys) {
  static constexpr char kSignificant[] = "{}[]\":,\\-+.0123456789eEtfnu \t\nxZT";
  const int rounds = 1 + static_cast<int>(rng() % 3);
  for (int round = 0; round < rounds && !s.empty(); ++round) {
    const size_t pos = rng() % s.size();
    switch (rng() % 11) {
      case 0:
        s[pos] = static_cast<char>(rng());
        break;
      case 1:
        s[pos] = kSignificant[rng() % (sizeof kSignificant - 1)];
        break;
      case 2:
        s.resize(pos);
        break;
      case 3:
        s.erase(pos, 1 + rng() % 16);
        break;
      case 4: {  // duplicate a range (often a whole "key":value pair) right after itself
        const size_t len = 1 + rng() % 40;
        s.insert(pos, s.substr(pos, len));
        break;
      }
      case 5:
      case 6: {  // replace the value after a ':' with another value
        const size_t colon = s.find(':', pos);
        if (colon == std::string::npos) break;
        size_t end = colon + 1;
        int nesting = 0;
        bool in_string = false;
        for (; end < s.size(); ++end) {
          const char c = s[end];
          if (in_string) {
            if (c == '\\') {
              ++end;
            } else if (c == '"') {
              in_string = false;
            }
          } else if (c == '"') {
            in_string = true;
          } else if (c == '{' || c == '[') {
            ++nesting;
          } else if (c == '}' || c == ']') {
            if (nesting == 0) break;
            --nesting;
          } else if (c == ',' && nesting == 0) {
            break;
          }
        }
        s.replace(colon + 1, std::min(end, s.size()) - colon - 1, kValues[rng() % kValues.size()]);
        break;
      }
      case 7: {  // rename a key
        const size_t open = s.find('"', pos);
        if (open == std::string::npos) break;
        const size_t close = s.find('"', open + 1);
        if (close == std::string::npos || close + 1 >= s.size() || s[close + 1] != ':') break;
        s.replace(open + 1, close - open - 1, keys[rng() % keys.size()]);
        break;
      }
      case 8: {  // a \u escape for a plain ASCII byte inside a string or key
        if (s[pos] >= 'a' && s[pos] <= 'z') {
          char escaped[8];
          std::snprintf(escaped, sizeof escaped, "\\u%04x", s[pos]);
          s.replace(pos, 1, escaped);
        }
        break;
      }
      case 9: {  // a trailing comma before the next '}' or ']'
        const size_t close = s.find_first_of("}]", pos);
        if (close != std::string::npos) s.insert(close, ",");
        break;
      }
      case 10:  // a raw control byte, often inside a string
        s.insert(pos, 1, static_cast<char>(rng() % 0x20));
        break;
    }
  }
  return s;
}

void CollectKeys(const google::protobuf::Descriptor& d, std::vector<std::string>& keys, int depth) {
  for (int i = 0; i < d.field_count(); ++i) {
    keys.push_back(d.field(i)->name());
    keys.push_back(d.field(i)->json_name());
    if (d.field(i)->message_type() != nullptr && depth < 3) {
      CollectKeys(*d.field(i)->message_type(), keys, depth + 1);
    }
  }
  keys.push_back("unknown_field");
  keys.push_back("EventId");
  keys.push_back("event\\u005fid");
}

TEST(LeadFastJsonTest, DifferentialFuzzOnLeadEvents) {
  std::vector<std::string> seeds = LeadgenEvents(300, 7);
  ASSERT_FALSE(seeds.empty());
  seeds.push_back(PrintJson(FullEvent(), true));
  seeds.push_back(PrintJson(FullEvent(), false));
  std::vector<std::string> keys;
  CollectKeys(*v1::LeadEvent::descriptor(), keys, 0);
  std::mt19937_64 rng(20261122);
  size_t taken = 0;
  constexpr int kCases = 12000;
  for (int i = 0; i < kCases; ++i) {
    const std::string json = Mutate(seeds[rng() % seeds.size()], rng, keys);
    if (CheckAgainstProtobuf(json, v1::LeadEvent())) ++taken;
    if (i % 4 == 0) ExpectDecodeUnchanged(json);
    if (HasFailure()) break;  // one input is enough to read
  }
  // Mutations mostly break the JSON, but the fast path must still see a real share of them.
  EXPECT_GT(taken, static_cast<size_t>(kCases / 10)) << taken;
  std::printf("fast path took %zu of %d mutated LeadEvents\n", taken, kCases);
}

TEST(LeadFastJsonTest, DifferentialFuzzOnEveryFieldKind) {
  const KitchenSink sink;
  ASSERT_NE(sink.prototype(), nullptr);
  std::vector<std::string> keys(kSinkKeys.begin(), kSinkKeys.end());
  std::mt19937_64 rng(1795348800);
  size_t taken = 0;
  constexpr int kCases = 20000;
  for (int i = 0; i < kCases; ++i) {
    std::string json = RandomSinkObject(rng, 0);
    if (rng() % 4 == 0) json = Mutate(json, rng, keys);
    if (CheckAgainstProtobuf(json, *sink.prototype())) ++taken;
    if (HasFailure()) break;
  }
  EXPECT_GT(taken, static_cast<size_t>(kCases / 10)) << taken;
  std::printf("fast path took %zu of %d kitchen-sink objects\n", taken, kCases);

  // Nesting: 32 messages deep is taken, 33 is declined.
  for (const int levels : {31, 32, 33, 200}) {
    std::string deep;
    for (int i = 0; i < levels - 1; ++i) deep += "{\"sub\":";
    deep += "{\"i32\":1}";
    deep += std::string(static_cast<size_t>(levels - 1), '}');
    EXPECT_EQ(CheckAgainstProtobuf(deep, *sink.prototype()), levels <= 32) << levels;
  }
}

// Issue 16: generated LeadEvents with unknown fields (top level and nested, scalars, objects,
// arrays), enum values in every spelling and misspelled, nulls, keys given twice and values of
// the wrong type. Under every unknown-field policy, DecodeLeadEvent (fast path first) and the
// fallback alone give the same event, or the same reason, detail and log detail.
std::string RandomEnum(std::mt19937_64& rng, const google::protobuf::EnumDescriptor& type) {
  const auto* value = type.value(static_cast<int>(rng() % type.value_count()));
  std::string name = value->name();
  switch (rng() % 12) {
    case 0:
      return absl::StrCat("\"", name, "\"");
    case 1: {  // without the prefix
      const size_t cut = std::string(type.value(0)->name()).size() - strlen("UNSPECIFIED");
      return absl::StrCat("\"", name.substr(std::min(cut, name.size())), "\"");
    }
    case 2:
      for (char& c : name) c = static_cast<char>(std::tolower(c));
      return absl::StrCat("\"", name, "\"");
    case 3:
      for (char& c : name) {
        if (rng() % 2 == 0) c = static_cast<char>(std::tolower(c));
      }
      return absl::StrCat("\"", name, "\"");
    case 4:
      return std::to_string(value->number());
    case 5:
      return absl::StrCat("\"", value->number(), "\"");
    case 6:  // misspelled
      name.pop_back();
      return absl::StrCat("\"", name, "\"");
    case 7:
      return std::to_string(rng() % 12);
    case 8:
      return "null";
    case 9:
      return kValues[rng() % kValues.size()];
    case 10:
      return absl::StrCat("\" ", name, "\"");
    default:
      return "\"\\u0056ALUE\"";
  }
}

std::string RandomUnknownValue(std::mt19937_64& rng, int depth) {
  switch (rng() % 6) {
    case 0:
      return "\"google\"";
    case 1:
      return "12.50";
    case 2:
      return rng() % 2 == 0 ? "true" : "null";
    case 3:
      return depth < 2 ? absl::StrCat("{\"y\":", RandomUnknownValue(rng, depth + 1),
                                      ",\"z\":", RandomUnknownValue(rng, depth + 1), "}")
                       : "{}";
    case 4:
      return "[1,{\"a\":2}]";
    default:
      return kValues[rng() % kValues.size()];
  }
}

std::string RandomHygieneEvent(std::mt19937_64& rng) {
  struct Member {
    std::string key;
    std::string value;
  };
  const auto object = [&](std::vector<Member> members) {
    // Unknown fields, sometimes a key twice, in random order.
    const int unknown = static_cast<int>(rng() % 3);
    for (int i = 0; i < unknown; ++i) {
      members.push_back({rng() % 2 == 0 ? "utm_source" : "x", RandomUnknownValue(rng, 0)});
    }
    if (!members.empty() && rng() % 10 == 0) members.push_back(members[rng() % members.size()]);
    std::shuffle(members.begin(), members.end(), rng);
    std::string out = "{";
    for (const Member& m : members) {
      absl::StrAppend(&out, out.size() > 1 ? "," : "", "\"", m.key, "\":", m.value);
    }
    return out + "}";
  };
  const auto maybe = [&](std::string value) {
    switch (rng() % 10) {
      case 0:
        return std::string("null");
      case 1:
        return std::string(kValues[rng() % kValues.size()]);  // often the wrong type
      default:
        return value;
    }
  };
  std::vector<Member> psycho = {
      {"buying_priority", RandomEnum(rng, *v1::BuyingPriority_descriptor())},
      {rng() % 2 == 0 ? "innovation_appetite" : "innovationAppetite",
       RandomEnum(rng, *v1::InnovationAppetite_descriptor())},
      {"intent_score", maybe("90")},
  };
  std::vector<Member> person = {{"email", maybe("\" jane+x@acme.example \"")},
                                {"phone", maybe("\"001 (864) 030-2177\"")}};
  std::vector<Member> top = {
      {"event_id", maybe("\"evt-1\"")},
      {"occurred_at", maybe("\"2026-11-22T11:59:00Z\"")},
      {rng() % 2 == 0 ? "source_kind" : "sourceKind",
       RandomEnum(rng, *v1::LeadSourceKind_descriptor())},
      {"person", maybe(object(person))},
      {"psychographics", maybe(object(psycho))},
      {"attributes", maybe("{\"plan\":\"pro\",\"utm_source\":\"explicit\"}")},
  };
  return object(top);
}

TEST(LeadFastJsonTest, DifferentialFuzzOnUnknownFieldsEnumsNullsDuplicatesAndWrongTypes) {
  std::mt19937_64 rng(16);
  constexpr int kCases = 6000;
  size_t fast_taken = 0;
  size_t accepted = 0;
  size_t enum_rejections = 0;
  for (int i = 0; i < kCases; ++i) {
    std::string json = RandomHygieneEvent(rng);
    if (rng() % 8 == 0) {
      std::vector<std::string> keys;
      CollectKeys(*v1::LeadEvent::descriptor(), keys, 0);
      json = Mutate(json, rng, keys);
    }
    SCOPED_TRACE(json);
    for (const UnknownFields policy :
         {UnknownFields::kIgnore, UnknownFields::kAttributes, UnknownFields::kReject}) {
      ExpectDecodeUnchanged(json, policy);
    }
    v1::LeadEvent fast;
    internal::FastJsonOptions lenient;
    lenient.lenient_enums = true;
    lenient.skip_unknown_scalars = true;
    if (TryParseJsonFast(json, fast, lenient)) {
      ++fast_taken;
      EXPECT_FALSE(CheckStrictJson(json, v1::LeadEvent::descriptor()).has_value());
    }
    const DecodeResult got = DecodeLeadEvent(json, "application/json", 1 << 20);
    if (std::holds_alternative<v1::LeadEvent>(got)) ++accepted;
    if (const auto* r = std::get_if<Rejection>(&got); r != nullptr && IsEnumRejection(*r)) {
      ++enum_rejections;
    }
    if (HasFailure()) break;
  }
  // Every kind of outcome must be exercised for the comparison to mean something.
  EXPECT_GT(fast_taken, static_cast<size_t>(kCases / 50)) << fast_taken;
  EXPECT_GT(accepted, static_cast<size_t>(kCases / 20)) << accepted;
  EXPECT_GT(enum_rejections, static_cast<size_t>(kCases / 10)) << enum_rejections;
  std::printf("hygiene inputs: fast path %zu, accepted %zu, enum rejections %zu of %d\n",
              fast_taken, accepted, enum_rejections, kCases);
}

TEST(LeadFastJsonTest, SafeFromManyThreads) {
  const std::vector<std::string> events = LeadgenEvents(200, 3);
  ASSERT_FALSE(events.empty());
  std::vector<std::string> expected;
  for (const std::string& json : events) {
    v1::LeadEvent e;
    expected.push_back(TryParseJsonFast(json, e) ? Canonical(e) : "declined");
  }
  std::vector<std::thread> threads;
  std::array<int, 4> mismatches{};
  for (size_t t = 0; t < mismatches.size(); ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 5; ++round) {
        for (size_t i = 0; i < events.size(); ++i) {
          v1::LeadEvent e;
          const std::string got = TryParseJsonFast(events[i], e) ? Canonical(e) : "declined";
          if (got != expected[i]) ++mismatches[t];
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  for (int m : mismatches) EXPECT_EQ(m, 0);
}

}  // namespace
}  // namespace leadrouter::lead
