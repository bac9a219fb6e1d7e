// protobuf's MessageToJsonString against leadrouter::protojson::AppendJson on realistic events.
// Both produce the same bytes (tests/unit/protojson_test.cc); this measures the time.
//   Steady:   the same message printed over and over (what the printers cost by themselves).
//   Fresh:    a copy of the message made and printed per iteration, as the daemon prints each
//             event once; includes the copy and, for AppendJson, the first reflective read of
//             the lead's attributes map (protobuf builds its repeated view once per object).
//   CopyOnly: the copy alone, to subtract from Fresh.
#include <benchmark/benchmark.h>
#include <google/protobuf/util/json_util.h>

#include <string>

#include "leadrouter/protojson/print.h"
#include "leadrouter/v1/assignment.pb.h"

namespace leadrouter {
namespace {

void SetTime(google::protobuf::Timestamp* t, int64_t seconds, int32_t nanos) {
  t->set_seconds(seconds);
  t->set_nanos(nanos);
}

v1::LeadEvent Lead() {
  v1::LeadEvent lead;
  lead.set_event_id("evt-5f0c1e8a-2b7d-4c1e-9a43-0d6f2b9e7c11");
  SetTime(lead.mutable_occurred_at(), 1795348740, 123000000);
  lead.set_source_system("hubspot");
  lead.set_source_kind(v1::LEAD_SOURCE_KIND_INBOUND_MARKETING);
  lead.set_campaign("2026-q4-webinar-routing");
  v1::Person* p = lead.mutable_person();
  p->set_first_name("Grace");
  p->set_last_name("Hopper");
  p->set_email("grace.hopper@navy-labs.example.com");
  p->set_phone("+14155550100");
  p->set_title("VP Engineering");
  v1::Company* c = lead.mutable_company();
  c->set_name("Navy Labs, Inc.");
  c->set_website("https://www.navy-labs.example.com");
  c->set_industry("software");
  c->set_employee_count(1200);
  c->set_annual_revenue_usd(250000000);
  c->set_location_count(4);
  c->set_country("US");
  c->set_region("VA");
  c->set_postal_code("22202");
  v1::Psychographics* ps = lead.mutable_psychographics();
  ps->set_buying_priority(v1::BUYING_PRIORITY_VALUE);
  ps->set_innovation_appetite(v1::INNOVATION_APPETITE_EARLY_ADOPTER);
  ps->set_intent_score(87);
  (*lead.mutable_attributes())["product"] = "router";
  (*lead.mutable_attributes())["utm_source"] = "linkedin";
  (*lead.mutable_attributes())["form"] = "demo-request";
  return lead;
}

v1::Qualification Qualification() {
  v1::Qualification q;
  q.set_outcome(v1::QUALIFICATION_OUTCOME_QUALIFIED);
  q.set_score(72);
  q.add_reasons("score 72 >= qualify_at 60");
  q.add_segments("enterprise");
  q.add_segments("na-east");
  const char* rules[][3] = {
      {"requirement", "has_contact", "person.email=grace.hopper@navy-labs.example.com present"},
      {"requirement", "not_competitor", "company.website not in competitors"},
      {"criterion", "size", "company.employee_count=1200 at_least 200"},
      {"criterion", "revenue", "company.annual_revenue_usd=250000000 at_least 10000000"},
      {"criterion", "intent", "psychographics.intent_score=87 at_least 70"},
      {"criterion", "industry", "company.industry=software in [software, fintech]"},
      {"criterion", "title", "person.title=VP Engineering matches (?i)vp|director|head"},
      {"segment", "enterprise", "company.employee_count=1200 at_least 1000"},
  };
  int i = 0;
  for (const auto& r : rules) {
    v1::RuleEvaluation* e = q.add_rules();
    e->set_kind(r[0]);
    e->set_name(r[1]);
    e->set_fired(i % 3 != 2);
    e->set_points(r[0][0] == 'c' ? 10 + i : 0);
    e->set_detail(r[2]);
    ++i;
  }
  return q;
}

v1::AssignmentEvent Assignment() {
  v1::AssignmentEvent a;
  a.set_assignment_id("asg-01HZX3M8W4K2Q7R9T1V5B6N0CD");
  a.set_lead_id("lead-7c2e9a41d0b3");
  a.set_event_id("evt-5f0c1e8a-2b7d-4c1e-9a43-0d6f2b9e7c11");
  a.set_rep_id("rep-ada");
  a.set_pool("enterprise-na");
  a.set_territory("na-east");
  a.set_status(v1::ASSIGNMENT_STATUS_ASSIGNED);
  a.set_reason("weighted round robin among 4 eligible reps in enterprise-na");
  const char* steps[][3] = {
      {"decode", "ok", "application/json, 1,024 bytes"},
      {"validate", "ok", "event_id, occurred_at, source_kind and a contact present"},
      {"qualify", "qualified", "score 72 >= 60"},
      {"dedupe", "new", "no live lead with the same email or domain"},
      {"territory", "na-east", "country US, region VA, employees 1200 >= 10"},
      {"route", "rep-ada", "weight 3 of 10; 2 open leads of 25; within working hours"},
  };
  for (const auto& s : steps) {
    v1::TraceStep* t = a.add_trace();
    t->set_stage(s[0]);
    t->set_decision(s[1]);
    t->set_reason(s[2]);
  }
  a.set_config_version("cfg-2026-11-22.3");
  SetTime(a.mutable_lead_occurred_at(), 1795348740, 123000000);
  SetTime(a.mutable_assigned_at(), 1795348800, 456789000);
  *a.mutable_lead() = Lead();
  *a.mutable_qualification() = Qualification();
  a.set_attempt(1);
  SetTime(a.mutable_sla_deadline(), 1795350600, 456789000);
  a.set_actor("leadrouter");
  v1::LeadTransition* h = a.add_history();
  h->set_status(v1::ASSIGNMENT_STATUS_ASSIGNED);
  h->set_rep_id("rep-ada");
  SetTime(h->mutable_at(), 1795348800, 456789000);
  h->set_actor("leadrouter");
  h->set_assignment_id("asg-01HZX3M8W4K2Q7R9T1V5B6N0CD");
  SetTime(a.mutable_event_time(), 1795348800, 456789000);
  return a;
}

v1::NurtureEvent Nurture() {
  v1::NurtureEvent n;
  n.set_event_id("evt-5f0c1e8a-2b7d-4c1e-9a43-0d6f2b9e7c11");
  n.set_lead_id("lead-7c2e9a41d0b3");
  *n.mutable_qualification() = Qualification();
  n.mutable_qualification()->set_outcome(v1::QUALIFICATION_OUTCOME_NURTURE);
  n.mutable_qualification()->set_score(41);
  n.set_config_version("cfg-2026-11-22.3");
  SetTime(n.mutable_decided_at(), 1795348800, 456789000);
  *n.mutable_lead() = Lead();
  return n;
}

template <typename M>
const M& Sample();
template <>
const v1::AssignmentEvent& Sample() {
  static const v1::AssignmentEvent a = Assignment();
  return a;
}
template <>
const v1::NurtureEvent& Sample() {
  static const v1::NurtureEvent n = Nurture();
  return n;
}

void ProtobufPrint(const google::protobuf::Message& m, std::string& out) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  if (!google::protobuf::util::MessageToJsonString(m, &out, options).ok()) std::abort();
}

template <typename M>
void BM_Steady_Protobuf(benchmark::State& state) {
  const M& m = Sample<M>();
  size_t bytes = 0;
  for (auto _ : state) {
    std::string out;
    ProtobufPrint(m, out);
    bytes += out.size();
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
}

template <typename M>
void BM_Steady_AppendJson(benchmark::State& state) {
  const M& m = Sample<M>();
  size_t bytes = 0;
  for (auto _ : state) {
    std::string out;
    protojson::AppendJson(m, out);
    bytes += out.size();
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
}

template <typename M>
void BM_Fresh_Protobuf(benchmark::State& state) {
  for (auto _ : state) {
    M m = Sample<M>();
    std::string out;
    ProtobufPrint(m, out);
    benchmark::DoNotOptimize(out.data());
  }
}

template <typename M>
void BM_Fresh_AppendJson(benchmark::State& state) {
  for (auto _ : state) {
    M m = Sample<M>();
    std::string out;
    protojson::AppendJson(m, out);
    benchmark::DoNotOptimize(out.data());
  }
}

template <typename M>
void BM_CopyOnly(benchmark::State& state) {
  for (auto _ : state) {
    M m = Sample<M>();
    benchmark::DoNotOptimize(&m);
  }
}

BENCHMARK(BM_Steady_Protobuf<v1::AssignmentEvent>);
BENCHMARK(BM_Steady_AppendJson<v1::AssignmentEvent>);
BENCHMARK(BM_Steady_Protobuf<v1::NurtureEvent>);
BENCHMARK(BM_Steady_AppendJson<v1::NurtureEvent>);
BENCHMARK(BM_Fresh_Protobuf<v1::AssignmentEvent>);
BENCHMARK(BM_Fresh_AppendJson<v1::AssignmentEvent>);
BENCHMARK(BM_Fresh_Protobuf<v1::NurtureEvent>);
BENCHMARK(BM_Fresh_AppendJson<v1::NurtureEvent>);
BENCHMARK(BM_CopyOnly<v1::AssignmentEvent>);
BENCHMARK(BM_CopyOnly<v1::NurtureEvent>);

}  // namespace
}  // namespace leadrouter

BENCHMARK_MAIN();
