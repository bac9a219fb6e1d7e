// The Assigner against a real redis-server: exactly-once outcomes, fairness and caps across
// concurrent instances, the unassigned queue.
#include "leadrouter/pipeline/assigner.h"

#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "leadrouter/testing/redis_fixture.h"

namespace leadrouter::pipeline {
namespace {

using namespace std::chrono_literals;

// 2026-11-23T15:00:00Z: a Monday, 10:00 in New York.
const core::TimePoint kMonday = core::TimePoint(std::chrono::seconds(1795446000));

v1::LeadEvent Lead(const std::string& event_id, const std::string& country = "US") {
  v1::LeadEvent lead;
  lead.set_event_id(event_id);
  lead.mutable_occurred_at()->set_seconds(1795440000);
  lead.set_source_kind(v1::LEAD_SOURCE_KIND_INBOUND_MARKETING);
  lead.mutable_person()->set_email(event_id + "@example.com");
  lead.mutable_company()->set_country(country);
  return lead;
}

class AssignerTest : public testing::RedisFixture {
 protected:
  std::shared_ptr<const config::Config> Config(const std::string& routing_yaml) {
    auto cfg = config::ParseConfig("kafka: {bootstrap_servers: k:1}\n" + routing_yaml);
    EXPECT_TRUE(cfg.ok()) << cfg.status();
    return cfg.ok() ? std::make_shared<const config::Config>(*cfg) : nullptr;
  }

  std::unique_ptr<store::AssignmentStore> Store() { return Connect<store::AssignmentStore>(); }
};

// A store that runs `before_first_commit` once, just before forwarding its first Commit: where
// another instance's commit lands between this one's load and commit.
class InterleavingStore : public store::AssignmentStore {
 public:
  InterleavingStore(store::AssignmentStore& inner, std::function<void()> before_first_commit)
      : AssignmentStore(inner.keys()), inner_(inner), hook_(std::move(before_first_commit)) {}
  absl::StatusOr<CommitResult> Commit(const CommitRequest& request) override {
    if (hook_) std::exchange(hook_, nullptr)();
    return inner_.Commit(request);
  }
  absl::StatusOr<Snapshot> Load(const std::vector<std::string>& event_ids,
                                const std::vector<std::string>& value_keys) override {
    return inner_.Load(event_ids, value_keys);
  }
  absl::StatusOr<StampedRecords> LoadStampedRecords(
      const std::vector<std::string>& event_ids) override {
    return inner_.LoadStampedRecords(event_ids);
  }
  absl::StatusOr<std::vector<std::optional<std::string>>> LoadValues(
      const std::vector<std::string>& keys) override {
    return inner_.LoadValues(keys);
  }
  absl::StatusOr<std::vector<std::optional<std::string>>> LoadHashFields(
      const std::string& key, const std::vector<std::string>& fields) override {
    return inner_.LoadHashFields(key, fields);
  }
  absl::StatusOr<std::vector<std::pair<std::string, std::string>>> LoadHash(
      const std::string& key) override {
    return inner_.LoadHash(key);
  }
  absl::StatusOr<std::vector<core::LeadId>> DueSlaLeads(int64_t now_s, size_t limit) override {
    return inner_.DueSlaLeads(now_s, limit);
  }
  absl::StatusOr<int64_t> SlaPendingCount() override { return inner_.SlaPendingCount(); }
  absl::StatusOr<std::optional<core::EventId>> EventIdOfLead(const core::LeadId& id) override {
    return inner_.EventIdOfLead(id);
  }
  absl::StatusOr<std::vector<LogEntry>> ReadLog(const std::string& after_id,
                                                size_t limit) override {
    return inner_.ReadLog(after_id, limit);
  }
  absl::StatusOr<std::vector<LogEntry>> ReadLogTail(size_t limit) override {
    return inner_.ReadLogTail(limit);
  }
  absl::StatusOr<std::vector<LogEntry>> TailLog(const std::string& after_id, size_t limit,
                                                std::chrono::milliseconds block) override {
    return inner_.TailLog(after_id, limit, block);
  }
  absl::StatusOr<std::string> LogLastId() override { return inner_.LogLastId(); }
  absl::StatusOr<std::string> LogTrimmedUpTo() override { return inner_.LogTrimmedUpTo(); }
  absl::Status RecordUndeliverable(const std::vector<UndeliverableRecord>& records,
                                   std::chrono::seconds ttl, int64_t log_max) override {
    return inner_.RecordUndeliverable(records, ttl, log_max);
  }
  absl::StatusOr<std::vector<std::pair<std::string, std::string>>> LoadUndeliverable(
      const std::string& id) override {
    return inner_.LoadUndeliverable(id);
  }
  absl::StatusOr<std::pair<std::vector<std::string>, int64_t>> PeekUnassigned(
      size_t limit) override {
    return inner_.PeekUnassigned(limit);
  }
  bool healthy() const override { return inner_.healthy(); }

 private:
  store::AssignmentStore& inner_;
  std::function<void()> hook_;
};

// DESIGN.md §3: N instances routing one pool produce the same fairness as one, never exceed a
// cap, and give each lead exactly one rep.
TEST_F(AssignerTest, FourInstancesShareOnePoolFairlyAndExactlyOnce) {
  const auto cfg = Config(R"(
reps: [{id: r1}, {id: r2}, {id: r3}, {id: r4}, {id: r5}, {id: r6}, {id: r7}]
pools:
  - name: main
    members: [{rep: r1, weight: 1}, {rep: r2, weight: 2}, {rep: r3, weight: 3}, {rep: r4, weight: 4},
              {rep: r5, weight: 5}, {rep: r6, weight: 6}, {rep: r7, weight: 7}]
)");
  ASSERT_NE(cfg, nullptr);
  constexpr int kLeads = 10000;
  constexpr int kThreads = 4;
  constexpr int kBatch = 50;
  core::FakeClock clock(kMonday);
  std::mutex mu;
  std::map<std::string, std::string> rep_of_event;
  std::atomic<int> next{0};

  auto instance = [&] {
    auto store = Store();
    ASSERT_NE(store, nullptr);
    Assigner assigner(*store, cfg, clock);
    while (true) {
      const int begin = next.fetch_add(kBatch);
      if (begin >= kLeads) return;
      std::vector<v1::LeadEvent> leads;
      for (int i = begin; i < std::min(kLeads, begin + kBatch); ++i) {
        leads.push_back(Lead(absl::StrCat("e", i)));
      }
      // Every tenth batch is redelivered too, as after a crash.
      if ((begin / kBatch) % 10 == 0) leads.push_back(leads.front());
      std::vector<const v1::LeadEvent*> ptrs;
      for (const auto& lead : leads) ptrs.push_back(&lead);
      auto results = assigner.DecideBatch(ptrs);
      ASSERT_TRUE(results.ok()) << results.status();
      std::lock_guard lock(mu);
      for (const LeadResult& result : *results) {
        ASSERT_TRUE(result.outcome->has_assignment());
        const auto& a = result.outcome->assignment();
        ASSERT_EQ(a.status(), v1::ASSIGNMENT_STATUS_ASSIGNED);
        auto [it, inserted] = rep_of_event.emplace(a.event_id(), a.rep_id());
        if (!inserted) {
          EXPECT_EQ(it->second, a.rep_id()) << a.event_id() << " got two reps";
        }
        EXPECT_EQ(inserted, !result.replayed) << a.event_id();
      }
    }
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) threads.emplace_back(instance);
  for (auto& thread : threads) thread.join();

  ASSERT_EQ(rep_of_event.size(), size_t(kLeads));
  std::map<std::string, int64_t> per_rep;
  for (const auto& [event, rep] : rep_of_event) ++per_rep[rep];
  for (int w = 1; w <= 7; ++w) {
    // |count - kLeads * w / 28| < 1, in integers: |28 * count - kLeads * w| < 28.
    const int64_t count = per_rep[absl::StrCat("r", w)];
    EXPECT_LT(std::abs(28 * count - int64_t{kLeads} * w), 28) << "r" << w << " got " << count;
  }
}

// A commit refused because another instance committed after this batch's load: the batch is
// decided again on the new state (counted in last_timings, hence in
// leadrouter_commit_conflicts_total), and the round robin continues where the other left it.
TEST_F(AssignerTest, ACommitBetweenLoadAndCommitMakesTheBatchDecideAgain) {
  const auto cfg = Config(R"(
reps: [{id: r1}, {id: r2}]
pools: [{name: main, members: [{rep: r1}, {rep: r2}]}]
)");
  ASSERT_NE(cfg, nullptr);
  core::FakeClock clock(kMonday);
  auto first_store = Store();
  auto second_store = Store();
  ASSERT_NE(first_store, nullptr);
  ASSERT_NE(second_store, nullptr);
  Assigner other(*second_store, cfg, clock);
  std::string other_rep;
  InterleavingStore interleaving(*first_store, [&] {
    const v1::LeadEvent lead = Lead("other");
    auto results = other.DecideBatch({&lead});
    ASSERT_TRUE(results.ok()) << results.status();
    other_rep = (*results)[0].outcome->assignment().rep_id();
    EXPECT_EQ(other.last_timings().commit_conflicts, 0);
  });
  Assigner assigner(interleaving, cfg, clock);
  const v1::LeadEvent lead = Lead("mine");
  auto results = assigner.DecideBatch({&lead});
  ASSERT_TRUE(results.ok()) << results.status();
  EXPECT_EQ(assigner.last_timings().commit_conflicts, 1);
  ASSERT_FALSE(other_rep.empty());
  // Decided on the state the other commit left: the other rep, not the same one twice.
  EXPECT_NE((*results)[0].outcome->assignment().rep_id(), other_rep);

  // Without interference: no conflict.
  const v1::LeadEvent next = Lead("next");
  ASSERT_TRUE(assigner.DecideBatch({&next}).ok());
  EXPECT_EQ(assigner.last_timings().commit_conflicts, 0);
}

// Issue 20: a commit of another instance refuses this one only when it wrote what this one read.
// Here the other instance routes a lead of the other territory (other pool, other reps) and
// nurtures one: neither touches the west pool or its reps, so the west batch commits at once.
TEST_F(AssignerTest, InstancesRoutingOtherPoolsDoNotMakeEachOtherDecideAgain) {
  const auto cfg = Config(R"(
reps: [{id: w1}, {id: w2}, {id: e1}, {id: e2}]
pools:
  - {name: west, members: [w1, w2]}
  - {name: east, members: [e1, e2]}
territories:
  - {name: na, match: {countries: [US]}, pool: west}
  - {name: emea, match: {countries: [DE]}, pool: east}
qualification:
  requirements: [{name: no-competitors, field: company.domain, in: [rival.example], negate: true}]
)");
  ASSERT_NE(cfg, nullptr);
  core::FakeClock clock(kMonday);
  auto first_store = Store();
  auto second_store = Store();
  ASSERT_NE(first_store, nullptr);
  ASSERT_NE(second_store, nullptr);
  Assigner other(*second_store, cfg, clock);
  v1::LeadEvent rival = Lead("rival", "US");
  rival.mutable_company()->set_website("https://rival.example");
  InterleavingStore interleaving(*first_store, [&] {
    const v1::LeadEvent east = Lead("east", "DE");
    auto results = other.DecideBatch({&east, &rival});
    ASSERT_TRUE(results.ok()) << results.status();
    EXPECT_EQ((*results)[0].outcome->assignment().pool(), "east");
    EXPECT_TRUE((*results)[1].outcome->has_nurture());
  });
  Assigner assigner(interleaving, cfg, clock);
  const v1::LeadEvent west = Lead("west", "US");
  auto results = assigner.DecideBatch({&west});
  ASSERT_TRUE(results.ok()) << results.status();
  EXPECT_EQ(assigner.last_timings().commit_conflicts, 0);
  EXPECT_EQ((*results)[0].outcome->assignment().pool(), "west");
  // Both commits are there, each pool moved once.
  EXPECT_EQ(RedisCommand({"HGET", first_store->keys().RoutingState(), "pool:west:step"}).str, "1");
  EXPECT_EQ(RedisCommand({"HGET", first_store->keys().RoutingState(), "pool:east:step"}).str, "1");
}

// The earlier lead a duplicate joins is read too: when another instance converts it between
// this batch's load and commit, the batch decides again and the new lead is a new assignment,
// not a duplicate of a lead that is no longer live.
TEST_F(AssignerTest, AnEarlierLeadChangedBeforeTheCommitMakesItsDuplicateDecideAgain) {
  setenv("LEADROUTER_TEST_ASSIGNER_DEDUPE_KEY", "assigner-test-secret-0123456789", 1);
  const auto cfg = Config(R"(
reps: [{id: r1}, {id: r2}]
pools: [{name: main, members: [r1, r2]}]
dedupe: {hmac_key_env: LEADROUTER_TEST_ASSIGNER_DEDUPE_KEY}
)");
  ASSERT_NE(cfg, nullptr);
  core::FakeClock clock(kMonday);
  auto first_store = Store();
  auto second_store = Store();
  ASSERT_NE(first_store, nullptr);
  ASSERT_NE(second_store, nullptr);
  v1::LeadEvent earlier = Lead("earlier");
  earlier.mutable_person()->set_email("pat@acme.example");
  v1::LeadEvent again = Lead("again");
  again.mutable_person()->set_email("pat@acme.example");
  {
    Assigner setup(*second_store, cfg, clock);
    auto first = setup.DecideBatch({&earlier});
    ASSERT_TRUE(first.ok()) << first.status();
    ASSERT_EQ((*first)[0].outcome->assignment().status(), v1::ASSIGNMENT_STATUS_ASSIGNED);
  }
  InterleavingStore interleaving(*first_store, [&] {
    // Another instance records the conversion (as the lifecycle does: whole-tenant version).
    auto loaded = second_store->Load({"earlier"});
    ASSERT_TRUE(loaded.ok()) << loaded.status();
    ASSERT_TRUE(loaded->records[0].has_value());
    v1::EventOutcome converted;
    ASSERT_TRUE(converted.ParseFromString(*loaded->records[0]));
    converted.mutable_assignment()->set_status(v1::ASSIGNMENT_STATUS_CONVERTED);
    auto committed =
        second_store->Commit({.expected_version = loaded->version,
                              .replaced_records = {{"earlier", converted.SerializeAsString()}},
                              .ttl = std::chrono::seconds(3600)});
    ASSERT_TRUE(committed.ok()) << committed.status();
    ASSERT_EQ(*committed, store::AssignmentStore::CommitResult::kCommitted);
  });
  Assigner assigner(interleaving, cfg, clock);
  auto results = assigner.DecideBatch({&again});
  ASSERT_TRUE(results.ok()) << results.status();
  EXPECT_EQ(assigner.last_timings().commit_conflicts, 1);
  const v1::AssignmentEvent& decided = (*results)[0].outcome->assignment();
  EXPECT_EQ(decided.status(), v1::ASSIGNMENT_STATUS_ASSIGNED) << decided.reason();
  EXPECT_NE(decided.lead_id(), decide::LeadIdFor(cfg->redis.tenant, "earlier"));
}

TEST_F(AssignerTest, CapsHoldAcrossInstancesAndOverflowThenQueue) {
  const auto cfg = Config(R"(
reps:
  - {id: capped, daily_cap: 30}
  - {id: backup, daily_cap: 20}
pools:
  - {name: main, members: [capped], overflow: spare}
  - {name: spare, members: [backup]}
)");
  ASSERT_NE(cfg, nullptr);
  core::FakeClock clock(kMonday);
  std::mutex mu;
  std::map<std::string, int> per_rep;
  int unassigned = 0;
  auto instance = [&](int id) {
    auto store = Store();
    ASSERT_NE(store, nullptr);
    Assigner assigner(*store, cfg, clock);
    for (int b = 0; b < 10; ++b) {
      std::vector<v1::LeadEvent> leads;
      for (int i = 0; i < 5; ++i) leads.push_back(Lead(absl::StrCat("t", id, "-", b, "-", i)));
      std::vector<const v1::LeadEvent*> ptrs;
      for (const auto& lead : leads) ptrs.push_back(&lead);
      auto results = assigner.DecideBatch(ptrs);
      ASSERT_TRUE(results.ok()) << results.status();
      std::lock_guard lock(mu);
      for (const auto& result : *results) {
        const auto& a = result.outcome->assignment();
        if (a.status() == v1::ASSIGNMENT_STATUS_UNASSIGNED) {
          ++unassigned;
        } else {
          ++per_rep[a.rep_id()];
        }
      }
    }
  };
  std::thread a(instance, 1), b(instance, 2);
  a.join();
  b.join();
  EXPECT_EQ(per_rep["capped"], 30);
  EXPECT_EQ(per_rep["backup"], 20);
  EXPECT_EQ(unassigned, 100 - 50);

  // The queue holds them; the next local day the caps reset and a retry routes them.
  auto store = Store();
  Assigner assigner(*store, cfg, clock);
  auto none = assigner.RetryUnassigned(100);
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_TRUE(none->assigned.empty());
  EXPECT_EQ(none->queue_depth, 50);
  clock.Advance(24h);
  auto retried = assigner.RetryUnassigned(100);
  ASSERT_TRUE(retried.ok()) << retried.status();
  EXPECT_EQ(retried->assigned.size(), 50u);
  EXPECT_EQ(retried->queue_depth, 0);
  for (const auto& outcome : retried->assigned) {
    EXPECT_EQ(outcome->assignment().status(), v1::ASSIGNMENT_STATUS_ASSIGNED);
  }
  // The stored record now says who took it: a redelivery replays the assignment.
  const v1::LeadEvent again = Lead(retried->assigned.front()->assignment().event_id());
  auto replay = assigner.DecideBatch({&again});
  ASSERT_TRUE(replay.ok());
  EXPECT_TRUE((*replay)[0].replayed);
  EXPECT_EQ((*replay)[0].outcome->assignment().rep_id(),
            retried->assigned.front()->assignment().rep_id());
}

TEST_F(AssignerTest, TerritoriesAndTheTraceExplainTheDecision) {
  const auto cfg = Config(R"(
reps: [{id: us-rep}, {id: eu-rep, out_of_office: [{from: "2026-11-01T00:00:00Z", to: "2026-12-01T00:00:00Z"}]}, {id: eu-backup}]
pools:
  - {name: americas, members: [us-rep]}
  - {name: europe, members: [eu-rep, eu-backup]}
territories:
  - {name: na, match: {countries: [US, CA]}, pool: americas}
  - {name: emea, match: {countries: [DE, FR]}, pool: europe}
)");
  ASSERT_NE(cfg, nullptr);
  core::FakeClock clock(kMonday);
  auto store = Store();
  Assigner assigner(*store, cfg, clock);
  const v1::LeadEvent us = Lead("us", "US"), de = Lead("de", "DE"), jp = Lead("jp", "JP");
  auto results = assigner.DecideBatch({&us, &de, &jp});
  ASSERT_TRUE(results.ok()) << results.status();
  const auto& a_us = (*results)[0].outcome->assignment();
  EXPECT_EQ(a_us.rep_id(), "us-rep");
  EXPECT_EQ(a_us.territory(), "na");
  EXPECT_EQ(a_us.pool(), "americas");
  // Explain(lead_id) finds the stored outcome, trace included, through the lead index.
  const store::RedisReply indexed = RedisCommand({"GET", store->keys().LeadIndex(a_us.lead_id())});
  EXPECT_EQ(indexed.str, "us");
  const auto& a_de = (*results)[1].outcome->assignment();
  EXPECT_EQ(a_de.rep_id(), "eu-backup");
  bool explained_absence = false;
  for (const auto& step : a_de.trace()) {
    if (step.stage() == "candidate" && step.decision() == "eu-rep") {
      explained_absence = step.reason().find("out of office") != std::string::npos;
    }
  }
  EXPECT_TRUE(explained_absence) << a_de.DebugString();
  bool counters_explained = false;
  for (const auto& step : a_de.trace()) {
    if (step.stage() == "counters") {
      counters_explained = step.reason().find("eu-backup open 0->1") != std::string::npos &&
                           step.reason().find("pool europe step 0->1") != std::string::npos;
    }
  }
  EXPECT_TRUE(counters_explained) << a_de.DebugString();
  const auto& a_jp = (*results)[2].outcome->assignment();
  EXPECT_EQ(a_jp.status(), v1::ASSIGNMENT_STATUS_UNASSIGNED) << a_jp.reason();
  EXPECT_FALSE(a_jp.reason().empty());
}

}  // namespace
}  // namespace leadrouter::pipeline
