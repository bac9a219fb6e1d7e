#include <google/protobuf/any.pb.h>
#include <google/protobuf/descriptor.h>
#include <google/protobuf/descriptor.pb.h>
#include <google/protobuf/duration.pb.h>
#include <google/protobuf/dynamic_message.h>
#include <google/protobuf/timestamp.pb.h>
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/message_differencer.h>
#include <google/protobuf/wrappers.pb.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "leadrouter/protojson/print.h"
#include "leadrouter/v1/admin_service.pb.h"
#include "leadrouter/v1/assignment.pb.h"
#include "leadrouter/v1/router_service.pb.h"

namespace leadrouter::protojson {
namespace {

namespace pb = google::protobuf;
using pb::Descriptor;
using pb::FieldDescriptor;
using pb::Message;
using pb::Reflection;

// What protobuf's own printer appends (the reference), errors included.
std::string Reference(const Message& m) {
  pb::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  std::string out;
  (void)pb::util::MessageToJsonString(m, &out, options);
  return out;
}

void ExpectSame(const Message& m) {
  const std::string expected = Reference(m);
  EXPECT_EQ(ToJson(m), expected) << m.GetTypeName() << ": " << m.ShortDebugString();
}

void SetTime(pb::Timestamp* t, int64_t seconds, int32_t nanos) {
  t->set_seconds(seconds);
  t->set_nanos(nanos);
}

v1::LeadEvent FilledLead() {
  v1::LeadEvent lead;
  lead.set_event_id("evt-7f3a9c");
  SetTime(lead.mutable_occurred_at(), 1795348740, 123000000);
  lead.set_source_system("hubspot");
  lead.set_source_kind(v1::LEAD_SOURCE_KIND_INBOUND_MARKETING);
  lead.set_campaign("q4-webinar");
  lead.set_sourced_by_rep_id("rep-lin");
  v1::Person* p = lead.mutable_person();
  p->set_first_name("Grace");
  p->set_last_name("Hopper");
  p->set_email("grace@navy.example.com");
  p->set_phone("+14155550100");
  p->set_title("Rear Admiral");
  v1::Company* c = lead.mutable_company();
  c->set_name("Navy Labs");
  c->set_website("https://navy.example.com");
  c->set_industry("software");
  c->set_employee_count(1200);
  c->set_annual_revenue_usd(50000000);
  c->set_location_count(3);
  c->set_country("US");
  c->set_region("VA");
  c->set_postal_code("22202");
  v1::Psychographics* ps = lead.mutable_psychographics();
  ps->set_buying_priority(v1::BUYING_PRIORITY_VALUE);
  ps->set_innovation_appetite(v1::INNOVATION_APPETITE_EARLY_ADOPTER);
  ps->set_intent_score(87);
  (*lead.mutable_attributes())["product"] = "router";
  return lead;
}

v1::Qualification FilledQualification() {
  v1::Qualification q;
  q.set_outcome(v1::QUALIFICATION_OUTCOME_QUALIFIED);
  q.set_score(72);
  q.add_reasons("score 72 >= threshold 60");
  q.add_segments("enterprise");
  q.add_segments("emea");
  for (int i = 0; i < 3; ++i) {
    v1::RuleEvaluation* r = q.add_rules();
    r->set_kind(i == 0 ? "requirement" : "criterion");
    r->set_name("rule-" + std::to_string(i));
    r->set_fired(i != 2);
    r->set_points(i * 10);
    r->set_detail("company.employee_count=1200 at_least 200 \"quoted\" <b>");
  }
  return q;
}

v1::LeadTransition Transition(v1::AssignmentStatus status, int64_t seconds, int32_t nanos) {
  v1::LeadTransition t;
  t.set_status(status);
  t.set_rep_id("rep-ada");
  SetTime(t.mutable_at(), seconds, nanos);
  t.set_actor("leadrouter");
  t.set_assignment_id("asg-1");
  return t;
}

v1::AssignmentEvent FilledAssignment() {
  v1::AssignmentEvent a;
  a.set_assignment_id("asg-01HZX3");
  a.set_lead_id("lead-5d2e");
  a.set_event_id("evt-7f3a9c");
  a.set_rep_id("rep-ada");
  a.set_pool("enterprise-emea");
  a.set_territory("EMEA");
  a.set_status(v1::ASSIGNMENT_STATUS_ASSIGNED);
  a.set_reason("owner of the account; round robin among 3 eligible reps");
  for (const char* stage : {"decode", "validate", "qualify", "dedupe", "route"}) {
    v1::TraceStep* s = a.add_trace();
    s->set_stage(stage);
    s->set_decision(std::string(stage) + "-ok");
    s->set_reason("because \\ of \"reasons\" & <rules>");
  }
  a.set_config_version("cfg-2026-11-22.3");
  SetTime(a.mutable_lead_occurred_at(), 1795348740, 0);     // no fraction
  SetTime(a.mutable_assigned_at(), 1795348800, 120000000);  // 3 digits
  *a.mutable_lead() = FilledLead();
  *a.mutable_qualification() = FilledQualification();
  a.set_attempt(2);
  SetTime(a.mutable_sla_deadline(), 1795350600, 123456000);  // 6 digits
  a.set_return_reason(v1::RETURN_REASON_WRONG_TERRITORY);
  a.set_note("returned: wrong territory\nsee ticket #42");
  a.set_actor("token:crm");
  a.set_conversion_value(12345.67);
  a.set_cursor("1795348800000-0");
  *a.add_history() = Transition(v1::ASSIGNMENT_STATUS_ASSIGNED, -86400 * 365, 1);  // 9, < 1970
  *a.add_history() = Transition(v1::ASSIGNMENT_STATUS_RETURNED, -1, 999999999);
  SetTime(a.mutable_event_time(), 1795348800, 123456789);  // 9 digits
  v1::OwnerShare* s1 = a.add_account_split();
  s1->set_rep_id("rep-ada");
  s1->set_percent(60);
  v1::OwnerShare* s2 = a.add_account_split();
  s2->set_rep_id("rep-lin");
  s2->set_percent(40);
  return a;
}

v1::NurtureEvent FilledNurture() {
  v1::NurtureEvent n;
  n.set_event_id("evt-9");
  n.set_lead_id("lead-9");
  *n.mutable_qualification() = FilledQualification();
  n.mutable_qualification()->set_outcome(v1::QUALIFICATION_OUTCOME_NURTURE);
  n.set_config_version("cfg-1");
  SetTime(n.mutable_decided_at(), 1795348800, 5000000);
  *n.mutable_lead() = FilledLead();
  *n.add_history() = Transition(v1::ASSIGNMENT_STATUS_EXPIRED, 1795348800, 0);
  n.set_recycle_reason("expired 3 times");
  return n;
}

TEST(ProtoJson, FilledAssignmentEvent) {
  const v1::AssignmentEvent a = FilledAssignment();
  ExpectSame(a);
  EXPECT_TRUE(PrintsItself(v1::AssignmentEvent::descriptor()));
  // A few spot checks of the format itself, so a test of nothing cannot pass.
  const std::string json = ToJson(a);
  EXPECT_NE(json.find("\"assigned_at\":\"2026-11-22T12:00:00.120Z\""), std::string::npos);
  EXPECT_NE(json.find("\"at\":\"1969-01-01T00:00:00.000000001Z\""), std::string::npos);
  EXPECT_NE(json.find("\"at\":\"1969-12-31T23:59:59.999999999Z\""), std::string::npos);
  EXPECT_NE(json.find("\"employee_count\":\"1200\""), std::string::npos);
  EXPECT_NE(json.find("\"attributes\":{\"product\":\"router\"}"), std::string::npos);
}

TEST(ProtoJson, EmptyAndPartialMessages) {
  ExpectSame(v1::AssignmentEvent());
  EXPECT_EQ(ToJson(v1::AssignmentEvent()), "{}");
  v1::AssignmentEvent a;
  a.mutable_lead();  // present but empty
  a.mutable_assigned_at();
  ExpectSame(a);
  EXPECT_EQ(ToJson(a), R"({"assigned_at":"1970-01-01T00:00:00Z","lead":{}})");
}

TEST(ProtoJson, NurtureEvent) {
  ExpectSame(FilledNurture());
}

TEST(ProtoJson, LeadEventWithOneAttribute) {
  ExpectSame(FilledLead());
  v1::LeadEvent lead;
  (*lead.mutable_attributes())["k\"<&>"] = "v\n";
  ExpectSame(lead);
  v1::LeadEvent empty_key;
  (*empty_key.mutable_attributes())[""] = "";
  ExpectSame(empty_key);
  EXPECT_EQ(ToJson(empty_key), R"({"attributes":{"":""}})");
}

// Map order is unspecified, but both printers walk the same map object: a map filled through
// the generated API (the daemon's case) prints in the same order as protobuf's printer.
TEST(ProtoJson, ManyAttributesInTheSameOrderAsProtobuf) {
  v1::LeadEvent lead = FilledLead();
  for (int i = 0; i < 40; ++i) {
    (*lead.mutable_attributes())["key-" + std::to_string(i * 7919 % 1000)] =
        "value \"" + std::to_string(i) + "\" \u2028";
  }
  ExpectSame(lead);
  v1::AssignmentEvent a = FilledAssignment();
  *a.mutable_lead() = lead;
  ExpectSame(a);
  v1::LeadEvent back;
  ASSERT_TRUE(pb::util::JsonStringToMessage(ToJson(lead), &back).ok());
  EXPECT_TRUE(pb::util::MessageDifferencer::Equals(lead, back));
}

TEST(ProtoJson, EveryLifecycleEvent) {
  const pb::EnumDescriptor* statuses = v1::AssignmentStatus_descriptor();
  for (int i = 0; i < statuses->value_count(); ++i) {
    v1::AssignmentEvent a = FilledAssignment();
    a.set_status(static_cast<v1::AssignmentStatus>(statuses->value(i)->number()));
    ExpectSame(a);
    v1::LeadTransition t = Transition(a.status(), 1795348800, 0);
    ExpectSame(t);
    v1::EventOutcome outcome;
    *outcome.mutable_assignment() = a;
    ExpectSame(outcome);
  }
  v1::EventOutcome nurture;
  *nurture.mutable_nurture() = FilledNurture();
  ExpectSame(nurture);
  v1::LeadUpdate update;
  *update.add_events() = FilledAssignment();
  *update.add_events() = FilledAssignment();
  ExpectSame(update);
}

std::vector<std::string> EdgeStrings() {
  std::vector<std::string> s;
  for (int c = 0; c < 0x20; ++c) s.push_back(std::string(1, static_cast<char>(c)));
  s.push_back(std::string("a\0b", 3));
  for (const char* t : {"\x7f",
                        "\"",
                        "\\",
                        "/",
                        "<",
                        ">",
                        "&",
                        "=",
                        "'",
                        "<script>alert('x&y=1')</script>",
                        "\u2028",
                        "\u2029",
                        "line\u2028sep\u2029para",
                        "\U0001F600",
                        "caf\u00e9",
                        "\u00ad",
                        "\u0080",
                        "\u009f",
                        "\u00a0",
                        "\u0600",
                        "\u0603",
                        "\u0604",
                        "\u06dd",
                        "\u070f",
                        "\u17b4",
                        "\u17b5",
                        "\u200b",
                        "\u200f",
                        "\u2027",
                        "\u202e",
                        "\u202f",
                        "\u2060",
                        "\u2064",
                        "\u2065",
                        "\u206a",
                        "\u206f",
                        "\ufeff",
                        "\ufff9",
                        "\ufffb",
                        "\ufffc",
                        "\uffff",
                        "\U000E0001",
                        "\U000E0020",
                        "\U000E007F",
                        "\U000E0080",
                        "\U0001D173",
                        "\U0001D17A",
                        "\U0001D17B",
                        "\U0010FFFF",
                        "\u65e5\u672c\u8a9e",
                        "\u0416\u0438\u0437\u043d\u044c",
                        "mixed \"q\" \\b\\ \t tab \U0001F680 end",
                        ""}) {
    s.push_back(t);
  }
  return s;
}

TEST(ProtoJson, EdgeStrings) {
  for (const std::string& s : EdgeStrings()) {
    v1::TraceStep step;
    step.set_reason(s);
    step.set_stage("x" + s + "y");
    ExpectSame(step);
    v1::LeadEvent lead;
    (*lead.mutable_attributes())[s] = s;
    ExpectSame(lead);
    v1::Qualification q;
    q.add_reasons(s);
    q.add_reasons(s + s);
    ExpectSame(q);
  }
  // protobuf's rules, spelled out.
  v1::TraceStep step;
  step.set_reason("\"\\/<>&='\x01\x1f\x7f\b\f\n\r\t\u2028\U0001F600\u00e9\U000E0041");
  EXPECT_EQ(ToJson(step),
            "{\"reason\":\"\\\"\\\\/\\u003c\\u003e&='\\u0001\\u001f\\u007f\\b\\f\\n\\r\\t\\u2028"
            "\U0001F600\u00e9\\udb40\\udc41\"}");
}

TEST(ProtoJson, InvalidUtf8GoesToProtobufsPrinter) {
  for (const char* s :
       {"a\xc3"
        "Ab",
        "\xc0\x80", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xff", "tail\xe2\x82", "\x80"}) {
    v1::TraceStep step;
    step.set_reason(s);
    ExpectSame(step);
  }
}

TEST(ProtoJson, Doubles) {
  const double kInf = std::numeric_limits<double>::infinity();
  for (double d : {0.1,
                   1e21,
                   1e-7,
                   -0.0,
                   123456789012345678.0,
                   std::nan(""),
                   -std::nan(""),
                   kInf,
                   -kInf,
                   5e-324,
                   2.2250738585072009e-308,
                   2.2250738585072014e-308,
                   std::numeric_limits<double>::max(),
                   1.0 / 3,
                   2.0 / 3,
                   100.0,
                   1e15,
                   1e16,
                   1e17,
                   0.30000000000000004,
                   9007199254740993.0,
                   -1.5,
                   12345.67,
                   1e-5,
                   1e-4}) {
    v1::AssignmentEvent a;
    a.set_conversion_value(d);
    ExpectSame(a);
    v1::ConvertLeadRequest c;
    c.set_value(d);
    ExpectSame(c);
  }
  v1::AssignmentEvent a;
  a.set_conversion_value(-0.0);
  EXPECT_EQ(ToJson(a), R"({"conversion_value":-0})");
  a.set_conversion_value(1e21);
  EXPECT_EQ(ToJson(a), R"({"conversion_value":1e+21})");
  a.set_conversion_value(std::nan(""));
  EXPECT_EQ(ToJson(a), R"({"conversion_value":"NaN"})");
  a.set_conversion_value(-kInf);
  EXPECT_EQ(ToJson(a), R"({"conversion_value":"-Infinity"})");
}

TEST(ProtoJson, Integers) {
  v1::Company c;
  c.set_employee_count(std::numeric_limits<int64_t>::min());
  c.set_annual_revenue_usd(std::numeric_limits<int64_t>::max());
  c.set_location_count(std::numeric_limits<int32_t>::min());
  ExpectSame(c);
  c.set_location_count(std::numeric_limits<int32_t>::max());
  c.set_employee_count(-1);
  ExpectSame(c);
  v1::OwnerShare s;
  s.set_percent(std::numeric_limits<uint32_t>::max());
  ExpectSame(s);
  EXPECT_EQ(ToJson(s), R"({"percent":4294967295})");
}

TEST(ProtoJson, UnknownEnumNumbers) {
  v1::AssignmentEvent a;
  a.set_status(static_cast<v1::AssignmentStatus>(99));
  a.set_return_reason(static_cast<v1::ReturnReason>(-7));
  ExpectSame(a);
  EXPECT_EQ(ToJson(a), R"({"status":99,"return_reason":-7})");
}

TEST(ProtoJson, Proto3OptionalSetToDefault) {
  v1::SetAvailabilityRequest r;
  r.set_paused(false);
  ExpectSame(r);
  EXPECT_EQ(ToJson(r), R"({"paused":false})");
  v1::SetCapacityRequest c;
  c.set_max_open_leads(0);
  c.set_daily_cap(0);
  ExpectSame(c);
}

TEST(ProtoJson, TimestampsAndTheirRange) {
  for (auto [s, n] : std::vector<std::pair<int64_t, int32_t>>{{0, 0},
                                                              {-1, 0},
                                                              {-62135596800, 0},
                                                              {253402300799, 999999999},
                                                              {951782400, 0},
                                                              {951868800, 1000},
                                                              {-2208988800, 10},
                                                              {1795348800, 100000000}}) {
    v1::AssignmentEvent a;
    SetTime(a.mutable_assigned_at(), s, n);
    ExpectSame(a);
    pb::Timestamp t;
    SetTime(&t, s, n);
    ExpectSame(t);  // a bare Timestamp prints as a JSON string
  }
  // Out of range: protobuf's printer fails; AppendJson appends what it appends, TryAppendJson
  // reports the error and appends nothing.
  for (auto [s, n] : std::vector<std::pair<int64_t, int32_t>>{
           {-62135596801, 0}, {253402300800, 0}, {0, -1}, {0, 1000000000}}) {
    v1::AssignmentEvent a;
    a.set_reason("r");
    SetTime(a.mutable_assigned_at(), s, n);
    ExpectSame(a);
    std::string out = "prefix";
    EXPECT_FALSE(TryAppendJson(a, out).ok());
    EXPECT_EQ(out, "prefix");
  }
  std::string out = "prefix";
  EXPECT_TRUE(TryAppendJson(FilledAssignment(), out).ok());
  EXPECT_EQ(out, "prefix" + Reference(FilledAssignment()));
}

TEST(ProtoJson, AppendsLikeProtobuf) {
  std::string out = "[";
  AppendJson(FilledNurture(), out);
  AppendJson(FilledLead(), out);
  std::string expected = "[";
  pb::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  ASSERT_TRUE(pb::util::MessageToJsonString(FilledNurture(), &expected, options).ok());
  ASSERT_TRUE(pb::util::MessageToJsonString(FilledLead(), &expected, options).ok());
  EXPECT_EQ(out, expected);
}

TEST(ProtoJson, ConcurrentCallers) {
  const v1::AssignmentEvent a = FilledAssignment();
  const v1::NurtureEvent n = FilledNurture();
  const std::string ea = Reference(a);
  const std::string en = Reference(n);
  std::vector<std::thread> threads;
  std::atomic<int> mismatches{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 200; ++i) {
        if (ToJson(a) != ea) ++mismatches;
        if (ToJson(n) != en) ++mismatches;
        v1::ClaimResult r;  // types first seen by several threads at once
        r.set_domain("acme.com");
        if (ToJson(r) != R"({"domain":"acme.com"})") ++mismatches;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(mismatches.load(), 0);
}

// ---- Randomized differential tests ------------------------------------------------------------

struct FillOptions {
  int max_map_entries = 1;
  bool only_parseable = false;  // no NaN, unknown enums, bad timestamps or bad UTF-8
  int max_depth = 4;
};

class Filler {
 public:
  Filler(uint64_t seed, FillOptions options) : rng_(seed), options_(options) {}

  void Fill(Message& m, int depth) {
    const Descriptor* d = m.GetDescriptor();
    const Reflection* r = m.GetReflection();
    if (d->full_name() == "google.protobuf.Timestamp") {
      FillTimestamp(m);
      return;
    }
    for (int i = 0; i < d->field_count(); ++i) {
      const FieldDescriptor* f = d->field(i);
      if (Chance(0.35)) continue;
      if (f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE && depth >= options_.max_depth) {
        continue;
      }
      if (f->is_map()) {
        const int n = Int(0, options_.max_map_entries);
        std::set<std::string> keys;
        for (int k = 0; k < n; ++k) {
          Message* entry = r->AddMessage(&m, f);
          FillValue(*entry, entry->GetDescriptor()->map_key(), depth);
          FillValue(*entry, entry->GetDescriptor()->map_value(), depth);
          // Keep keys unique so that parse-back compares like with like.
          const std::string key = entry->ShortDebugString().substr(0, 0) + KeyText(*entry);
          if (!keys.insert(key).second) r->RemoveLast(&m, f);
        }
      } else if (f->is_repeated()) {
        const int n = Int(1, 3);
        for (int k = 0; k < n; ++k) AddValue(m, f, depth);
      } else {
        FillValue(m, f, depth);
      }
    }
  }

 private:
  static std::string KeyText(const Message& entry) {
    const FieldDescriptor* key = entry.GetDescriptor()->map_key();
    const Reflection* r = entry.GetReflection();
    switch (key->cpp_type()) {
      case FieldDescriptor::CPPTYPE_STRING:
        return r->GetString(entry, key);
      case FieldDescriptor::CPPTYPE_INT32:
        return std::to_string(r->GetInt32(entry, key));
      case FieldDescriptor::CPPTYPE_INT64:
        return std::to_string(r->GetInt64(entry, key));
      case FieldDescriptor::CPPTYPE_UINT32:
        return std::to_string(r->GetUInt32(entry, key));
      case FieldDescriptor::CPPTYPE_UINT64:
        return std::to_string(r->GetUInt64(entry, key));
      case FieldDescriptor::CPPTYPE_BOOL:
        return r->GetBool(entry, key) ? "true" : "false";
      default:
        return "";
    }
  }

  bool Chance(double p) { return std::uniform_real_distribution<double>(0, 1)(rng_) < p; }
  int Int(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }
  uint64_t Bits() { return rng_(); }

  template <typename T>
  T Integer() {
    switch (Int(0, 4)) {
      case 0:
        return 0;
      case 1:
        return std::numeric_limits<T>::max();
      case 2:
        return std::numeric_limits<T>::min();
      case 3:
        return static_cast<T>(Int(-300, 300));
      default:
        return static_cast<T>(Bits());
    }
  }

  double Double() {
    static const double kSpecial[] = {0.0,
                                      -0.0,
                                      0.1,
                                      1e21,
                                      1e-7,
                                      123456789012345678.0,
                                      5e-324,
                                      std::numeric_limits<double>::max(),
                                      std::numeric_limits<double>::infinity(),
                                      -std::numeric_limits<double>::infinity(),
                                      std::nan("")};
    double d;
    switch (Int(0, 3)) {
      case 0:
        d = kSpecial[Int(0, std::size(kSpecial) - 1)];
        break;
      case 1: {
        const uint64_t bits = Bits();
        std::memcpy(&d, &bits, sizeof(d));
        break;
      }
      case 2:
        d = Int(-100000, 100000) / 100.0;
        break;
      default:
        d = std::ldexp(std::uniform_real_distribution<double>(-1, 1)(rng_), Int(-1074, 1023));
        break;
    }
    // protobuf's JSON parser reads -0 back as 0 (then not set), and rejects NaN nowhere but
    // MessageDifferencer finds NaN != NaN.
    if (options_.only_parseable && (!std::isfinite(d) || d == 0)) d = 1.5;
    return d;
  }

  float Float() {
    float f;
    switch (Int(0, 2)) {
      case 0: {
        const uint32_t bits = static_cast<uint32_t>(Bits());
        std::memcpy(&f, &bits, sizeof(f));
        break;
      }
      case 1:
        f = static_cast<float>(Int(-100000, 100000)) / 100.0f;
        break;
      default:
        f = std::ldexp(std::uniform_real_distribution<float>(-1, 1)(rng_), Int(-149, 127));
        break;
    }
    if (options_.only_parseable && (!std::isfinite(f) || f == 0)) f = 2.5f;
    return f;
  }

  void AppendCodePoint(std::string& s, uint32_t cp) {
    if (cp < 0x80) {
      s.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      s.push_back(static_cast<char>(0xc0 | (cp >> 6)));
      s.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    } else if (cp < 0x10000) {
      s.push_back(static_cast<char>(0xe0 | (cp >> 12)));
      s.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
      s.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    } else {
      s.push_back(static_cast<char>(0xf0 | (cp >> 18)));
      s.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3f)));
      s.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
      s.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    }
  }

  std::string String() {
    static const std::vector<std::string> kPieces = EdgeStrings();
    std::string s;
    const int parts = Int(0, 6);
    for (int i = 0; i < parts; ++i) {
      switch (Int(0, 4)) {
        case 0:
          s += kPieces[static_cast<size_t>(Int(0, static_cast<int>(kPieces.size()) - 1))];
          break;
        case 1:
          for (int k = Int(1, 12); k > 0; --k) s.push_back(static_cast<char>(Int(0x20, 0x7e)));
          break;
        case 2:
          AppendCodePoint(s, static_cast<uint32_t>(Int(0, 0x7ff)));
          break;
        case 3: {
          uint32_t cp = static_cast<uint32_t>(Int(0, 0x10ffff));
          if (cp >= 0xd800 && cp <= 0xdfff) cp = 0xfffd;
          AppendCodePoint(s, cp);
          break;
        }
        default:
          if (!options_.only_parseable && Chance(0.005)) {
            s.push_back(static_cast<char>(Int(0x80, 0xff)));  // invalid UTF-8
          } else {
            s += "lead";
          }
          break;
      }
    }
    return s;
  }

  std::string Bytes() {
    std::string s;
    for (int k = Int(0, 9); k > 0; --k) s.push_back(static_cast<char>(Int(0, 255)));
    return s;
  }

  int Enum(const pb::EnumDescriptor* e) {
    if (!options_.only_parseable && Chance(0.15)) return Int(-5, 1000);
    return e->value(Int(0, e->value_count() - 1))->number();
  }

  void FillTimestamp(Message& m) {
    const Descriptor* d = m.GetDescriptor();
    const Reflection* r = m.GetReflection();
    int64_t seconds = std::uniform_int_distribution<int64_t>(-62135596800, 253402300799)(rng_);
    if (Chance(0.3)) seconds = Int(-100000, 100000) + int64_t{1795348800};
    int32_t nanos = 0;
    switch (Int(0, 3)) {
      case 0:
        nanos = 0;
        break;
      case 1:
        nanos = Int(0, 999) * 1000000;
        break;
      case 2:
        nanos = Int(0, 999999) * 1000;
        break;
      default:
        nanos = Int(0, 999999999);
        break;
    }
    if (!options_.only_parseable && Chance(0.002)) seconds = 253402300800;  // out of range
    r->SetInt64(&m, d->field(0), seconds);
    r->SetInt32(&m, d->field(1), nanos);
  }

  void FillValue(Message& m, const FieldDescriptor* f, int depth) {
    const Reflection* r = m.GetReflection();
    switch (f->cpp_type()) {
      case FieldDescriptor::CPPTYPE_INT32:
        r->SetInt32(&m, f, Integer<int32_t>());
        break;
      case FieldDescriptor::CPPTYPE_INT64:
        r->SetInt64(&m, f, Integer<int64_t>());
        break;
      case FieldDescriptor::CPPTYPE_UINT32:
        r->SetUInt32(&m, f, Integer<uint32_t>());
        break;
      case FieldDescriptor::CPPTYPE_UINT64:
        r->SetUInt64(&m, f, Integer<uint64_t>());
        break;
      case FieldDescriptor::CPPTYPE_DOUBLE:
        r->SetDouble(&m, f, Double());
        break;
      case FieldDescriptor::CPPTYPE_FLOAT:
        r->SetFloat(&m, f, Float());
        break;
      case FieldDescriptor::CPPTYPE_BOOL:
        r->SetBool(&m, f, Chance(0.5));
        break;
      case FieldDescriptor::CPPTYPE_ENUM:
        r->SetEnumValue(&m, f, Enum(f->enum_type()));
        break;
      case FieldDescriptor::CPPTYPE_STRING:
        r->SetString(&m, f, f->type() == FieldDescriptor::TYPE_BYTES ? Bytes() : String());
        break;
      case FieldDescriptor::CPPTYPE_MESSAGE:
        Fill(*r->MutableMessage(&m, f), depth + 1);
        break;
    }
  }

  void AddValue(Message& m, const FieldDescriptor* f, int depth) {
    const Reflection* r = m.GetReflection();
    switch (f->cpp_type()) {
      case FieldDescriptor::CPPTYPE_INT32:
        r->AddInt32(&m, f, Integer<int32_t>());
        break;
      case FieldDescriptor::CPPTYPE_INT64:
        r->AddInt64(&m, f, Integer<int64_t>());
        break;
      case FieldDescriptor::CPPTYPE_UINT32:
        r->AddUInt32(&m, f, Integer<uint32_t>());
        break;
      case FieldDescriptor::CPPTYPE_UINT64:
        r->AddUInt64(&m, f, Integer<uint64_t>());
        break;
      case FieldDescriptor::CPPTYPE_DOUBLE:
        r->AddDouble(&m, f, Double());
        break;
      case FieldDescriptor::CPPTYPE_FLOAT:
        r->AddFloat(&m, f, Float());
        break;
      case FieldDescriptor::CPPTYPE_BOOL:
        r->AddBool(&m, f, Chance(0.5));
        break;
      case FieldDescriptor::CPPTYPE_ENUM:
        r->AddEnumValue(&m, f, Enum(f->enum_type()));
        break;
      case FieldDescriptor::CPPTYPE_STRING:
        r->AddString(&m, f, f->type() == FieldDescriptor::TYPE_BYTES ? Bytes() : String());
        break;
      case FieldDescriptor::CPPTYPE_MESSAGE:
        Fill(*r->AddMessage(&m, f), depth + 1);
        break;
    }
  }

  std::mt19937_64 rng_;
  FillOptions options_;
};

// Every message type of the leadrouter.v1 package (map entries aside).
std::vector<const Descriptor*> LeadrouterTypes() {
  std::vector<const pb::FileDescriptor*> files = {
      v1::ClaimAccountsRequest::descriptor()->file(),  // router_service.proto
      v1::RepLoad::descriptor()->file(),               // admin_service.proto
  };
  std::set<const pb::FileDescriptor*> seen(files.begin(), files.end());
  for (size_t i = 0; i < files.size(); ++i) {
    for (int k = 0; k < files[i]->dependency_count(); ++k) {
      const pb::FileDescriptor* dep = files[i]->dependency(k);
      if (dep->package() == "leadrouter.v1" && seen.insert(dep).second) files.push_back(dep);
    }
  }
  std::vector<const Descriptor*> types;
  for (const pb::FileDescriptor* f : files) {
    for (int i = 0; i < f->message_type_count(); ++i) types.push_back(f->message_type(i));
  }
  return types;
}

TEST(ProtoJson, RandomLeadrouterMessagesExact) {
  const std::vector<const Descriptor*> types = LeadrouterTypes();
  ASSERT_GE(types.size(), 30u);
  Filler filler(20261122, FillOptions{});
  int failures = 0;
  for (int i = 0; i < 4000 && failures < 5; ++i) {
    const Descriptor* d = types[static_cast<size_t>(i) % types.size()];
    std::unique_ptr<Message> m(pb::MessageFactory::generated_factory()->GetPrototype(d)->New());
    filler.Fill(*m, 0);
    const std::string expected = Reference(*m);
    const std::string got = ToJson(*m);
    if (got != expected) {
      ++failures;
      ADD_FAILURE() << d->full_name() << " #" << i << "\n got: " << got << "\nwant: " << expected;
    }
  }
}

TEST(ProtoJson, RandomLeadrouterMessagesWithLargeMapsParseBack) {
  const std::vector<const Descriptor*> types = LeadrouterTypes();
  Filler filler(7, FillOptions{.max_map_entries = 6, .only_parseable = true});
  int failures = 0;
  for (int i = 0; i < 1500 && failures < 5; ++i) {
    const Descriptor* d = types[static_cast<size_t>(i) % types.size()];
    const Message* prototype = pb::MessageFactory::generated_factory()->GetPrototype(d);
    std::unique_ptr<Message> m(prototype->New());
    filler.Fill(*m, 0);
    const std::string json = ToJson(*m);
    std::unique_ptr<Message> back(prototype->New());
    const auto status = pb::util::JsonStringToMessage(json, back.get());
    if (!status.ok() || !pb::util::MessageDifferencer::Equals(*m, *back)) {
      ++failures;
      ADD_FAILURE() << d->full_name() << " #" << i << ": " << status.ToString() << "\n" << json;
    }
  }
}

// ---- A dynamic proto3 schema with every field kind (the leadrouter protos lack some) ---------

class DynamicSchema {
 public:
  DynamicSchema() {
    for (const pb::FileDescriptor* f :
         {pb::Timestamp::descriptor()->file(), pb::Duration::descriptor()->file(),
          pb::Any::descriptor()->file(), pb::DoubleValue::descriptor()->file()}) {
      pb::FileDescriptorProto proto;
      f->CopyTo(&proto);
      pool_.BuildFile(proto);
    }
    pb::FileDescriptorProto file;
    file.set_name("protojson_test.proto");
    file.set_package("pjt");
    file.set_syntax("proto3");
    file.add_dependency("google/protobuf/timestamp.proto");
    file.add_dependency("google/protobuf/duration.proto");
    file.add_dependency("google/protobuf/any.proto");
    file.add_dependency("google/protobuf/wrappers.proto");

    pb::EnumDescriptorProto* color = file.add_enum_type();
    color->set_name("Color");
    AddEnumValue(color, "COLOR_UNSPECIFIED", 0);
    AddEnumValue(color, "RED", 1);
    AddEnumValue(color, "BLUE", 7);
    AddEnumValue(color, "NEGATIVE", -3);
    AddEnumValue(color, "BIG", 100000);
    pb::EnumDescriptorProto* alias = file.add_enum_type();
    alias->set_name("Alias");
    alias->mutable_options()->set_allow_alias(true);
    AddEnumValue(alias, "ALIAS_UNSPECIFIED", 0);
    AddEnumValue(alias, "FIRST", 1);
    AddEnumValue(alias, "SECOND", 1);

    pb::DescriptorProto* inner = file.add_message_type();
    inner->set_name("Inner");
    AddField(inner, "name", 1, FieldDescriptor::TYPE_STRING);
    AddField(inner, "n", 2, FieldDescriptor::TYPE_SINT64);
    AddField(inner, "kids", 3, FieldDescriptor::TYPE_MESSAGE, ".pjt.Inner", true);

    pb::DescriptorProto* all = file.add_message_type();
    all->set_name("All");
    using T = FieldDescriptor::Type;
    const std::vector<std::pair<std::string, T>> scalars = {
        {"i32", FieldDescriptor::TYPE_INT32},     {"i64", FieldDescriptor::TYPE_INT64},
        {"u32", FieldDescriptor::TYPE_UINT32},    {"u64", FieldDescriptor::TYPE_UINT64},
        {"s32", FieldDescriptor::TYPE_SINT32},    {"s64", FieldDescriptor::TYPE_SINT64},
        {"f32", FieldDescriptor::TYPE_FIXED32},   {"f64", FieldDescriptor::TYPE_FIXED64},
        {"sf32", FieldDescriptor::TYPE_SFIXED32}, {"sf64", FieldDescriptor::TYPE_SFIXED64},
        {"fl", FieldDescriptor::TYPE_FLOAT},      {"db", FieldDescriptor::TYPE_DOUBLE},
        {"b", FieldDescriptor::TYPE_BOOL},        {"s", FieldDescriptor::TYPE_STRING},
        {"by", FieldDescriptor::TYPE_BYTES},
    };
    int number = 1;
    for (const auto& [name, type] : scalars) AddField(all, name, number++, type);
    AddField(all, "color", number++, FieldDescriptor::TYPE_ENUM, ".pjt.Color");
    AddField(all, "alias", number++, FieldDescriptor::TYPE_ENUM, ".pjt.Alias");
    AddField(all, "inner", number++, FieldDescriptor::TYPE_MESSAGE, ".pjt.Inner");
    AddField(all, "ts", number++, FieldDescriptor::TYPE_MESSAGE, ".google.protobuf.Timestamp");
    AddField(all, "child", number++, FieldDescriptor::TYPE_MESSAGE, ".pjt.All");
    number = 30;
    for (const auto& [name, type] : scalars) AddField(all, "r_" + name, number++, type, "", true);
    AddField(all, "r_color", number++, FieldDescriptor::TYPE_ENUM, ".pjt.Color", true);
    AddField(all, "r_inner", number++, FieldDescriptor::TYPE_MESSAGE, ".pjt.Inner", true);
    AddField(all, "r_ts", number++, FieldDescriptor::TYPE_MESSAGE, ".google.protobuf.Timestamp",
             true);
    number = 60;
    AddMap(all, "m_ss", number++, FieldDescriptor::TYPE_STRING, FieldDescriptor::TYPE_STRING);
    AddMap(all, "m_i32_inner", number++, FieldDescriptor::TYPE_INT32, FieldDescriptor::TYPE_MESSAGE,
           ".pjt.Inner");
    AddMap(all, "m_i64_color", number++, FieldDescriptor::TYPE_INT64, FieldDescriptor::TYPE_ENUM,
           ".pjt.Color");
    AddMap(all, "m_u32_by", number++, FieldDescriptor::TYPE_UINT32, FieldDescriptor::TYPE_BYTES);
    AddMap(all, "m_u64_db", number++, FieldDescriptor::TYPE_UINT64, FieldDescriptor::TYPE_DOUBLE);
    AddMap(all, "m_b_fl", number++, FieldDescriptor::TYPE_BOOL, FieldDescriptor::TYPE_FLOAT);
    AddMap(all, "m_s32_ts", number++, FieldDescriptor::TYPE_SINT32, FieldDescriptor::TYPE_MESSAGE,
           ".google.protobuf.Timestamp");
    AddMap(all, "m_f64_i64", number++, FieldDescriptor::TYPE_FIXED64, FieldDescriptor::TYPE_INT64);
    // A oneof, then proto3 optionals (each in its synthetic oneof, declared after real ones).
    all->add_oneof_decl()->set_name("choice");
    AddField(all, "o_s", 80, FieldDescriptor::TYPE_STRING)->set_oneof_index(0);
    AddField(all, "o_inner", 81, FieldDescriptor::TYPE_MESSAGE, ".pjt.Inner")->set_oneof_index(0);
    AddField(all, "o_db", 82, FieldDescriptor::TYPE_DOUBLE)->set_oneof_index(0);
    AddField(all, "o_color", 83, FieldDescriptor::TYPE_ENUM, ".pjt.Color")->set_oneof_index(0);
    int oneof = 1;
    for (const auto& [name, type, type_name] : std::vector<std::tuple<std::string, T, std::string>>{
             {"opt_i32", FieldDescriptor::TYPE_INT32, ""},
             {"opt_s", FieldDescriptor::TYPE_STRING, ""},
             {"opt_db", FieldDescriptor::TYPE_DOUBLE, ""},
             {"opt_fl", FieldDescriptor::TYPE_FLOAT, ""},
             {"opt_color", FieldDescriptor::TYPE_ENUM, ".pjt.Color"},
             {"opt_inner", FieldDescriptor::TYPE_MESSAGE, ".pjt.Inner"}}) {
      all->add_oneof_decl()->set_name("_" + name);
      pb::FieldDescriptorProto* f = AddField(all, name, 90 + oneof, type, type_name);
      f->set_proto3_optional(true);
      f->set_oneof_index(oneof++);
    }

    // Types left to protobuf's printer, directly or through a field.
    pb::DescriptorProto* with_duration = file.add_message_type();
    with_duration->set_name("WithDuration");
    AddField(with_duration, "d", 1, FieldDescriptor::TYPE_MESSAGE, ".google.protobuf.Duration");
    AddField(with_duration, "s", 2, FieldDescriptor::TYPE_STRING);
    pb::DescriptorProto* with_any = file.add_message_type();
    with_any->set_name("WithAny");
    AddField(with_any, "a", 1, FieldDescriptor::TYPE_MESSAGE, ".google.protobuf.Any");
    pb::DescriptorProto* with_wrapper = file.add_message_type();
    with_wrapper->set_name("WithWrapper");
    AddField(with_wrapper, "w", 1, FieldDescriptor::TYPE_MESSAGE, ".google.protobuf.DoubleValue");
    pb::DescriptorProto* outer = file.add_message_type();
    outer->set_name("Outer");
    AddField(outer, "inner", 1, FieldDescriptor::TYPE_MESSAGE, ".pjt.Inner");
    AddField(outer, "deep", 2, FieldDescriptor::TYPE_MESSAGE, ".pjt.WithDuration", true);

    file_ = pool_.BuildFile(file);
  }

  bool ok() const { return file_ != nullptr; }
  const Descriptor* Find(const std::string& name) const {
    return pool_.FindMessageTypeByName("pjt." + name);
  }
  std::unique_ptr<Message> New(const std::string& name) {
    return std::unique_ptr<Message>(factory_.GetPrototype(Find(name))->New());
  }

 private:
  static void AddEnumValue(pb::EnumDescriptorProto* e, const std::string& name, int number) {
    pb::EnumValueDescriptorProto* v = e->add_value();
    v->set_name(name);
    v->set_number(number);
  }

  static pb::FieldDescriptorProto* AddField(pb::DescriptorProto* m, const std::string& name,
                                            int number, FieldDescriptor::Type type,
                                            const std::string& type_name = "",
                                            bool repeated = false) {
    pb::FieldDescriptorProto* f = m->add_field();
    f->set_name(name);
    f->set_number(number);
    f->set_type(static_cast<pb::FieldDescriptorProto::Type>(type));
    f->set_label(repeated ? pb::FieldDescriptorProto::LABEL_REPEATED
                          : pb::FieldDescriptorProto::LABEL_OPTIONAL);
    if (!type_name.empty()) f->set_type_name(type_name);
    return f;
  }

  static void AddMap(pb::DescriptorProto* m, const std::string& name, int number,
                     FieldDescriptor::Type key, FieldDescriptor::Type value,
                     const std::string& value_type_name = "") {
    std::string entry_name;
    bool upper = true;
    for (char c : name) {
      if (c == '_') {
        upper = true;
        continue;
      }
      entry_name.push_back(upper ? static_cast<char>(std::toupper(c)) : c);
      upper = false;
    }
    entry_name += "Entry";
    pb::DescriptorProto* entry = m->add_nested_type();
    entry->set_name(entry_name);
    entry->mutable_options()->set_map_entry(true);
    AddField(entry, "key", 1, key);
    AddField(entry, "value", 2, value, value_type_name);
    AddField(m, name, number, FieldDescriptor::TYPE_MESSAGE, ".pjt." + m->name() + "." + entry_name,
             true);
  }

  pb::DescriptorPool pool_;
  pb::DynamicMessageFactory factory_{&pool_};
  const pb::FileDescriptor* file_ = nullptr;
};

TEST(ProtoJsonDynamic, EveryFieldKindExact) {
  DynamicSchema schema;
  ASSERT_TRUE(schema.ok());
  ASSERT_TRUE(PrintsItself(schema.Find("All")));
  Filler filler(42, FillOptions{.max_depth = 3});
  int failures = 0;
  for (int i = 0; i < 1500 && failures < 5; ++i) {
    std::unique_ptr<Message> m = schema.New("All");
    filler.Fill(*m, 0);
    const std::string expected = Reference(*m);
    const std::string got = ToJson(*m);
    if (got != expected) {
      ++failures;
      ADD_FAILURE() << "#" << i << "\n got: " << got << "\nwant: " << expected;
    }
  }
}

TEST(ProtoJsonDynamic, EveryFieldKindParseBack) {
  DynamicSchema schema;
  ASSERT_TRUE(schema.ok());
  Filler filler(43, FillOptions{.max_map_entries = 5, .only_parseable = true, .max_depth = 3});
  int failures = 0;
  for (int i = 0; i < 500 && failures < 5; ++i) {
    std::unique_ptr<Message> m = schema.New("All");
    filler.Fill(*m, 0);
    const std::string json = ToJson(*m);
    std::unique_ptr<Message> back = schema.New("All");
    const auto status = pb::util::JsonStringToMessage(json, back.get());
    if (!status.ok() || !pb::util::MessageDifferencer::Equals(*m, *back)) {
      ++failures;
      ADD_FAILURE() << "#" << i << ": " << status.ToString() << "\n" << json;
    }
  }
}

TEST(ProtoJsonDynamic, FloatsBytesAndDefaults) {
  DynamicSchema schema;
  ASSERT_TRUE(schema.ok());
  const Descriptor* d = schema.Find("All");
  for (float f : {0.1f, -0.0f, 1e-45f, 1.17549435e-38f, 3.4028235e38f, 16777217.0f, 0.3f,
                  std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity(),
                  1.0f / 3}) {
    std::unique_ptr<Message> m = schema.New("All");
    m->GetReflection()->SetFloat(m.get(), d->FindFieldByName("fl"), f);
    m->GetReflection()->AddFloat(m.get(), d->FindFieldByName("r_fl"), f);
    m->GetReflection()->SetFloat(m.get(), d->FindFieldByName("opt_fl"), f);
    ExpectSame(*m);
  }
  for (std::string bytes : {std::string(""), std::string("a"), std::string("ab"),
                            std::string("abc"), std::string("\xff\xfe\x00\x01", 4)}) {
    std::unique_ptr<Message> m = schema.New("All");
    m->GetReflection()->AddString(m.get(), d->FindFieldByName("r_by"), bytes);
    m->GetReflection()->SetString(m.get(), d->FindFieldByName("by"), bytes);
    ExpectSame(*m);
  }
  // Aliased and unknown enum values, proto3 optionals at their defaults, an empty oneof string.
  std::unique_ptr<Message> m = schema.New("All");
  const Reflection* r = m->GetReflection();
  r->SetEnumValue(m.get(), d->FindFieldByName("alias"), 1);
  r->SetEnumValue(m.get(), d->FindFieldByName("color"), -3);
  r->AddEnumValue(m.get(), d->FindFieldByName("r_color"), 100000);
  r->AddEnumValue(m.get(), d->FindFieldByName("r_color"), 5);
  r->SetInt32(m.get(), d->FindFieldByName("opt_i32"), 0);
  r->SetString(m.get(), d->FindFieldByName("opt_s"), "");
  r->SetDouble(m.get(), d->FindFieldByName("opt_db"), 0);
  r->SetEnumValue(m.get(), d->FindFieldByName("opt_color"), 0);
  r->MutableMessage(m.get(), d->FindFieldByName("opt_inner"));
  r->SetString(m.get(), d->FindFieldByName("o_s"), "");
  ExpectSame(*m);
  EXPECT_NE(ToJson(*m).find("\"alias\":\"FIRST\""), std::string::npos);
}

TEST(ProtoJsonDynamic, UnsupportedTypesFallBack) {
  DynamicSchema schema;
  ASSERT_TRUE(schema.ok());
  for (const char* name : {"WithDuration", "WithAny", "WithWrapper", "Outer"}) {
    EXPECT_FALSE(PrintsItself(schema.Find(name))) << name;
    std::unique_ptr<Message> m = schema.New(name);
    Filler(1, FillOptions{}).Fill(*m, 0);
    ExpectSame(*m);
  }
  EXPECT_TRUE(PrintsItself(schema.Find("Inner")));
  // Generated well-known types.
  EXPECT_FALSE(PrintsItself(pb::Duration::descriptor()));
  EXPECT_FALSE(PrintsItself(pb::Any::descriptor()));
  EXPECT_TRUE(PrintsItself(pb::Timestamp::descriptor()));
  pb::Duration duration;
  duration.set_seconds(-3);
  duration.set_nanos(-500000000);
  ExpectSame(duration);
  pb::DoubleValue wrapper;
  wrapper.set_value(0.5);
  ExpectSame(wrapper);
}

TEST(ProtoJsonDynamic, DeepNestingFallsBack) {
  DynamicSchema schema;
  ASSERT_TRUE(schema.ok());
  const Descriptor* d = schema.Find("All");
  for (int depth : {30, 40, 70}) {
    std::unique_ptr<Message> m = schema.New("All");
    Message* cur = m.get();
    for (int i = 0; i < depth; ++i) {
      cur->GetReflection()->SetInt32(cur, d->FindFieldByName("i32"), i);
      cur = cur->GetReflection()->MutableMessage(cur, d->FindFieldByName("child"));
    }
    ExpectSame(*m);
  }
}

}  // namespace
}  // namespace leadrouter::protojson
