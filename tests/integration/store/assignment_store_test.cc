#include "leadrouter/store/assignment_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "leadrouter/store/record_codec.h"
#include "leadrouter/testing/redis_fixture.h"

namespace leadrouter::store {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Optional;
using ::testing::Pair;
using CommitResult = AssignmentStore::CommitResult;
using CommitRequest = AssignmentStore::CommitRequest;

class AssignmentStoreTest : public testing::RedisFixture {
 protected:
  void SetUp() override {
    RedisFixture::SetUp();
    if (HasFatalFailure()) return;
    options_.tenant = "acme";
    store_ = Connect();
    ASSERT_NE(store_, nullptr);
  }

  std::unique_ptr<AssignmentStore> Connect() { return RedisFixture::Connect<AssignmentStore>(); }

  AssignmentStore::Snapshot Load(const std::vector<std::string>& ids) {
    auto snapshot = store_->Load(ids);
    EXPECT_TRUE(snapshot.ok()) << snapshot.status();
    return snapshot.ok() ? *snapshot : AssignmentStore::Snapshot{};
  }

  CommitResult Commit(CommitRequest request) {
    if (request.ttl.count() == 0) request.ttl = std::chrono::seconds(3600);
    auto result = store_->Commit(request);
    EXPECT_TRUE(result.ok()) << result.status();
    return result.ok() ? *result : CommitResult::kVersionMoved;
  }

  RedisReply Raw(const std::vector<std::string>& args) { return RedisCommand(args); }

  std::unique_ptr<AssignmentStore> store_;
};

TEST_F(AssignmentStoreTest, EmptyStateLoadsAsVersionZeroAndNoRecords) {
  const auto snapshot = Load({"a", "b"});
  EXPECT_EQ(snapshot.version, 0);
  EXPECT_TRUE(snapshot.state.empty());
  EXPECT_THAT(snapshot.records, ElementsAre(std::nullopt, std::nullopt));
}

TEST_F(AssignmentStoreTest, CommitThenLoadSeesRecordsStateAndVersion) {
  CommitRequest request;
  request.new_records = {{"e1", std::string("bin\0ary", 7)}, {"e2", "two"}};
  request.state_updates = {{"pool:west:step", "2"}, {"rep:ada:open", "1"}};
  ASSERT_EQ(Commit(request), CommitResult::kCommitted);
  const auto snapshot = Load({"e1", "e2", "e3"});
  EXPECT_EQ(snapshot.version, 1);
  EXPECT_THAT(snapshot.state, ElementsAre(Pair("pool:west:step", "2"), Pair("rep:ada:open", "1")));
  EXPECT_THAT(snapshot.records, ElementsAre(Optional(std::string("bin\0ary", 7)),
                                            Optional(std::string("two")), std::nullopt));
}

TEST_F(AssignmentStoreTest, StaleVersionWritesNothing) {
  ASSERT_EQ(Commit({.expected_version = 0, .state_updates = {{"x", "1"}}}),
            CommitResult::kCommitted);
  EXPECT_EQ(
      Commit({.expected_version = 0, .new_records = {{"e1", "r"}}, .state_updates = {{"x", "2"}}}),
      CommitResult::kVersionMoved);
  const auto snapshot = Load({"e1"});
  EXPECT_EQ(snapshot.version, 1);
  EXPECT_EQ(snapshot.state.at("x"), "1");
  EXPECT_FALSE(snapshot.records[0].has_value());
}

TEST_F(AssignmentStoreTest, ExistingRecordWritesNothingAndKeepsTheVersion) {
  ASSERT_EQ(Commit({.expected_version = 0, .new_records = {{"e1", "first"}}}),
            CommitResult::kCommitted);
  EXPECT_EQ(Commit({.expected_version = 1,
                    .new_records = {{"e2", "other"}, {"e1", "second"}},
                    .state_updates = {{"x", "1"}}}),
            CommitResult::kRecordExists);
  const auto snapshot = Load({"e1", "e2"});
  EXPECT_EQ(snapshot.version, 1);
  EXPECT_THAT(snapshot.records, ElementsAre(Optional(std::string("first")), std::nullopt));
  EXPECT_TRUE(snapshot.state.empty());
}

TEST_F(AssignmentStoreTest, ReplacedRecordsStateDeletesAndTheQueue) {
  ASSERT_EQ(Commit({.expected_version = 0,
                    .new_records = {{"q1", "queued"}, {"q2", "queued"}},
                    .state_updates = {{"rep:ada:day:2026-11-21", "4"}},
                    .queue_add = {{"q1", 100}, {"q2", 50}}}),
            CommitResult::kCommitted);
  auto queue = store_->PeekUnassigned(10);
  ASSERT_TRUE(queue.ok()) << queue.status();
  EXPECT_THAT(queue->first, ElementsAre("q2", "q1")) << "oldest first";
  EXPECT_EQ(queue->second, 2);

  ASSERT_EQ(Commit({.expected_version = 1,
                    .replaced_records = {{"q2", "assigned"}},
                    .state_updates = {{"rep:ada:day:2026-11-22", "1"}},
                    .state_deletes = {"rep:ada:day:2026-11-21"},
                    .queue_remove = {"q2"}}),
            CommitResult::kCommitted);
  const auto snapshot = Load({"q1", "q2"});
  EXPECT_THAT(snapshot.records,
              ElementsAre(Optional(std::string("queued")), Optional(std::string("assigned"))));
  EXPECT_THAT(snapshot.state, ElementsAre(Pair("rep:ada:day:2026-11-22", "1")));
  queue = store_->PeekUnassigned(10);
  ASSERT_TRUE(queue.ok());
  EXPECT_THAT(queue->first, ElementsAre("q1"));
  EXPECT_EQ(queue->second, 1);
}

TEST_F(AssignmentStoreTest, LeadIndexFindsTheEventOfALead) {
  ASSERT_EQ(Commit({.expected_version = 0,
                    .new_records = {{"e1", "r"}},
                    .lead_index = {{"ld_1", "e1"}},
                    .ttl = std::chrono::seconds(100)}),
            CommitResult::kCommitted);
  EXPECT_EQ(store_->keys().LeadIndex("ld_1"), "lr:{acme}:lead:ld_1");
  EXPECT_EQ(Raw({"GET", store_->keys().LeadIndex("ld_1")}).str, "e1");
  const int64_t ttl = Raw({"TTL", store_->keys().LeadIndex("ld_1")}).integer;
  EXPECT_GT(ttl, 0);
  EXPECT_LE(ttl, 100);
}

TEST_F(AssignmentStoreTest, RecordsExpireTheStateDoesNot) {
  ASSERT_EQ(Commit({.expected_version = 0,
                    .new_records = {{"e1", "r"}},
                    .state_updates = {{"x", "1"}},
                    .ttl = std::chrono::seconds(100)}),
            CommitResult::kCommitted);
  const int64_t ttl = Raw({"TTL", store_->keys().EventRecord("e1")}).integer;
  EXPECT_GT(ttl, 0);
  EXPECT_LE(ttl, 100);
  EXPECT_EQ(Raw({"TTL", store_->keys().RoutingState()}).integer, -1);
}

// Stored outcomes are zstd frames with the outcome dictionary (record_codec.h), read back as the
// bytes that were committed.
TEST_F(AssignmentStoreTest, RecordsAreStoredCompressedAndReadBackExactly) {
  std::string outcome;
  for (int i = 0; outcome.size() < 2000; ++i) {
    outcome +=
        "territory \"rest-of-world\": pool \"everyone\" (least_loaded) chose rep-ada: lowest "
        "load " +
        std::to_string(700 + i) +
        " open leads (uncapped); company.country=JP in "
        "[US, CA, GB, IE, DE, FR, NL, IT, ES, JP]\n";
  }
  ASSERT_EQ(Commit({.expected_version = 0,
                    .new_records = {{"e1", outcome}, {"e2", ""}},
                    .ttl = std::chrono::seconds(100)}),
            CommitResult::kCommitted);
  const std::string stored = Raw({"GET", store_->keys().EventRecord("e1")}).str;
  EXPECT_EQ(stored.substr(0, 4), std::string("\x28\xb5\x2f\xfd", 4)) << "a zstd frame";
  EXPECT_LT(stored.size(), outcome.size() / 4);
  EXPECT_EQ(DecodeRecord(stored).value_or("?"), outcome);

  auto records = store_->LoadRecords({"e1", "e2", "none"});
  ASSERT_TRUE(records.ok()) << records.status();
  EXPECT_EQ((*records)[0], outcome);
  EXPECT_EQ((*records)[1], "");
  EXPECT_EQ((*records)[2], std::nullopt);
  auto snapshot = store_->Load({"e1"});
  ASSERT_TRUE(snapshot.ok()) << snapshot.status();
  EXPECT_EQ(snapshot->records[0], outcome);
  EXPECT_EQ(EncodeRecord(outcome), stored) << "deterministic";
}

// Records written before compression (a serialized outcome starts with a field tag, 0x0A or
// 0x12) are read as they are; a damaged frame is DataLoss naming the event.
TEST_F(AssignmentStoreTest, UncompressedRecordsAreReadAsTheyAreDamagedOnesAreDataLoss) {
  const std::string legacy = std::string("\x0a\x05hello", 7);
  Raw({"SET", store_->keys().EventRecord("old"), legacy});
  std::string damaged = EncodeRecord(std::string(500, 'x'));
  damaged[damaged.size() / 2] ^= 0x55;
  damaged.resize(damaged.size() - 3);
  Raw({"SET", store_->keys().EventRecord("bad"), damaged});

  auto records = store_->LoadRecords({"old"});
  ASSERT_TRUE(records.ok()) << records.status();
  EXPECT_EQ((*records)[0], legacy);
  auto bad = store_->LoadRecords({"old", "bad"});
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(bad.status().message(), HasSubstr("\"bad\""));
  EXPECT_EQ(store_->Load({"bad"}).status().code(), absl::StatusCode::kDataLoss);
}

TEST_F(AssignmentStoreTest, KeysCarryTheTenantHashTag) {
  EXPECT_EQ(store_->keys().RoutingState(), "lr:{acme}:routing");
  EXPECT_EQ(store_->keys().UnassignedQueue(), "lr:{acme}:unassigned");
  EXPECT_EQ(store_->keys().EventRecord("e1"), "lr:{acme}:event:e1");
  options_.tenant = "bad{tenant";
  EXPECT_EQ(AssignmentStore::Connect(options_).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(AssignmentStoreTest, EmptyCommitWritesNothing) {
  EXPECT_EQ(Commit({.expected_version = 0}), CommitResult::kCommitted);
  EXPECT_EQ(Raw({"EXISTS", store_->keys().RoutingState()}).integer, 0);
  EXPECT_EQ(Commit({.expected_version = 5}), CommitResult::kVersionMoved);
}

TEST_F(AssignmentStoreTest, RejectsDuplicatesNonPositiveTtlAndTheVersionField) {
  EXPECT_EQ(store_
                ->Commit({.new_records = {{"e", "1"}},
                          .replaced_records = {{"e", "2"}},
                          .ttl = std::chrono::seconds(5)})
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->Commit({.new_records = {{"e", "1"}}}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->Commit({.state_updates = {{"version", "9"}}}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Raw({"EXISTS", store_->keys().RoutingState()}).integer, 0);
}

TEST_F(AssignmentStoreTest, CorruptVersionIsDataLoss) {
  Raw({"HSET", store_->keys().RoutingState(), "version", "seven"});
  EXPECT_EQ(store_->Load({}).status().code(), absl::StatusCode::kDataLoss);
}

TEST_F(AssignmentStoreTest, CommitSurvivesScriptFlush) {
  ASSERT_EQ(Commit({.expected_version = 0, .state_updates = {{"x", "1"}}}),
            CommitResult::kCommitted);
  Raw({"SCRIPT", "FLUSH"});
  EXPECT_EQ(Commit({.expected_version = 1, .state_updates = {{"x", "2"}}}),
            CommitResult::kCommitted);
  EXPECT_EQ(Load({}).state.at("x"), "2");
}

// Two connections racing read-decide-write cycles on one counter and overlapping events: every
// commit was decided on exactly the state it replaced, so the counter equals the number of
// records and no event was written twice.
TEST_F(AssignmentStoreTest, RacingCommitsNeverDoubleAssignOrLoseAnUpdate) {
  constexpr int kPerKind = 300;
  std::vector<std::vector<std::string>> events_of(3);
  std::vector<std::string> all_events;
  for (int i = 0; i < kPerKind; ++i) {
    const std::string shared = "evt-" + std::to_string(i);
    all_events.push_back(shared);
    for (int worker_id : {1, 2}) {
      const std::string own = "w" + std::to_string(worker_id) + "-" + std::to_string(i);
      all_events.push_back(own);
      events_of[worker_id].push_back(shared);
      events_of[worker_id].push_back(own);
    }
  }
  std::mutex mu;
  std::map<std::string, std::string> claimed;
  std::set<int64_t> versions_committed;
  std::atomic<int> retries{0};

  auto worker = [&](int worker_id) {
    auto store = AssignmentStore::Connect(options_);
    ASSERT_TRUE(store.ok()) << store.status();
    const std::vector<std::string>& events = events_of[worker_id];
    size_t begin = 0;
    int step = 0;
    while (begin < events.size()) {
      const size_t size = std::min(events.size() - begin, size_t(1 + (step++ + worker_id) % 4));
      const std::vector<std::string> chunk(events.begin() + begin, events.begin() + begin + size);
      begin += size;
      while (true) {
        auto snapshot = (*store)->Load(chunk);
        ASSERT_TRUE(snapshot.ok()) << snapshot.status();
        CommitRequest request;
        request.expected_version = snapshot->version;
        request.ttl = std::chrono::seconds(600);
        for (size_t i = 0; i < chunk.size(); ++i) {
          if (!snapshot->records[i].has_value()) {
            request.new_records.emplace_back(chunk[i], "worker-" + std::to_string(worker_id));
          }
        }
        if (request.new_records.empty()) break;
        const int64_t count =
            snapshot->state.count("count") ? std::stoll(snapshot->state.at("count")) : 0;
        request.state_updates["count"] = std::to_string(count + request.new_records.size());
        auto result = (*store)->Commit(request);
        ASSERT_TRUE(result.ok()) << result.status();
        if (*result == CommitResult::kCommitted) {
          std::lock_guard lock(mu);
          EXPECT_TRUE(versions_committed.insert(snapshot->version).second);
          for (const auto& [event_id, record] : request.new_records) {
            EXPECT_TRUE(claimed.emplace(event_id, record).second) << event_id << " committed twice";
          }
          break;
        }
        ++retries;
      }
    }
  };
  std::thread first(worker, 1);
  std::thread second(worker, 2);
  first.join();
  second.join();

  EXPECT_EQ(claimed.size(), all_events.size());
  const auto final_state = Load(all_events);
  EXPECT_EQ(final_state.state.at("count"), std::to_string(all_events.size()));
  EXPECT_EQ(final_state.version, static_cast<int64_t>(versions_committed.size()));
  for (size_t i = 0; i < all_events.size(); ++i) {
    ASSERT_TRUE(final_state.records[i].has_value()) << all_events[i];
    EXPECT_EQ(*final_state.records[i], claimed[all_events[i]]) << all_events[i];
  }
  std::cout << "commits: " << versions_committed.size() << ", retries: " << retries << "\n";
}

TEST_F(AssignmentStoreTest, ExpiringValuesStayInsideTheTenantAndExpire) {
  CommitRequest outside;
  outside.expiring_values.push_back({"lr:{other}:person:abc", "e1", std::chrono::seconds(60)});
  EXPECT_EQ(store_->Commit(outside).status().code(), absl::StatusCode::kInvalidArgument);
  CommitRequest no_ttl;
  no_ttl.expiring_values.push_back({store_->keys().Person("abc"), "e1", std::chrono::seconds(0)});
  EXPECT_EQ(store_->Commit(no_ttl).status().code(), absl::StatusCode::kInvalidArgument);

  CommitRequest ok;
  ok.expiring_values.push_back({store_->keys().Person("abc"), "e1", std::chrono::seconds(1)});
  ok.expiring_values.push_back({store_->keys().Account("def"), "rep-a", std::chrono::seconds(60)});
  ASSERT_EQ(Commit(ok), CommitResult::kCommitted);
  auto values = store_->LoadValues({store_->keys().Person("abc"), store_->keys().Account("def"),
                                    store_->keys().Account("none")});
  ASSERT_TRUE(values.ok()) << values.status();
  EXPECT_EQ((*values)[0], std::optional<std::string>("e1"));
  EXPECT_EQ((*values)[1], std::optional<std::string>("rep-a"));
  EXPECT_EQ((*values)[2], std::nullopt);
  EXPECT_EQ(Load({}).version, 1) << "writing keys is a change other instances must see";
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  values = store_->LoadValues({store_->keys().Person("abc")});
  ASSERT_TRUE(values.ok());
  EXPECT_EQ((*values)[0], std::nullopt) << "the window is the key's TTL";
}

TEST_F(AssignmentStoreTest, SlaDeadlinesAreDueInOrderAndAReRouteMovesTheDeadline) {
  CommitRequest add;
  add.sla_add = {{"ld_b", 200}, {"ld_a", 100}, {"ld_c", 300}};
  ASSERT_EQ(Commit(add), CommitResult::kCommitted);
  auto due = store_->DueSlaLeads(250, 10);
  ASSERT_TRUE(due.ok()) << due.status();
  EXPECT_EQ(*due, (std::vector<core::LeadId>{core::LeadId("ld_a"), core::LeadId("ld_b")}));
  // One commit that removes and re-adds a lead (an expiry and its re-route) keeps the new one.
  CommitRequest reroute;
  reroute.expected_version = Load({}).version;
  reroute.sla_remove = {"ld_a"};
  reroute.sla_add = {{"ld_a", 1000}};
  ASSERT_EQ(Commit(reroute), CommitResult::kCommitted);
  due = store_->DueSlaLeads(250, 10);
  ASSERT_TRUE(due.ok());
  EXPECT_EQ(*due, std::vector<core::LeadId>{core::LeadId("ld_b")});
  EXPECT_EQ(*store_->SlaPendingCount(), 3);
}

TEST_F(AssignmentStoreTest, TheLogKeepsCommittedEventsInOrderAndTrims) {
  auto last = store_->LogLastId();
  ASSERT_TRUE(last.ok()) << last.status();
  EXPECT_EQ(*last, "0-0");
  for (int i = 0; i < 300; ++i) {
    CommitRequest request;
    request.expected_version = i;
    request.log_events = {absl::StrCat("event-", i)};
    request.log_max_events = 100;
    ASSERT_EQ(Commit(request), CommitResult::kCommitted);
    // What the outbox's forwarder records once Kafka has the entry: only then may it be trimmed
    // (OutboxStoreTest.TheLogIsNeverTrimmedPastWhatKafkaLacks).
    Raw({"HSET", store_->keys().Outbox(), "forwarded", std::to_string(i + 1)});
  }
  auto trimmed = store_->LogTrimmedUpTo();
  ASSERT_TRUE(trimmed.ok()) << trimmed.status();
  EXPECT_NE(*trimmed, "0-0") << "MAXLEN ~ 100 trims 300 entries";
  auto entries = store_->ReadLog("0-0", 1000);
  ASSERT_TRUE(entries.ok()) << entries.status();
  ASSERT_FALSE(entries->empty());
  EXPECT_LT(entries->size(), 300u);
  EXPECT_EQ(entries->front().id, *trimmed) << "the oldest retained entry";
  EXPECT_EQ(entries->back().bytes, "event-299");
  for (size_t i = 1; i < entries->size(); ++i) {
    EXPECT_NE((*entries)[i - 1].id, (*entries)[i].id);
  }
  // A tail after the last entry blocks, then returns what is committed next.
  const std::string after = entries->back().id;
  auto empty = store_->TailLog(after, 10, std::chrono::milliseconds(100));
  ASSERT_TRUE(empty.ok()) << empty.status();
  EXPECT_TRUE(empty->empty());
  CommitRequest next;
  next.expected_version = 300;
  next.log_events = {"event-300"};
  next.log_max_events = 100;
  ASSERT_EQ(Commit(next), CommitResult::kCommitted);
  auto tail = store_->TailLog(after, 10, std::chrono::milliseconds(100));
  ASSERT_TRUE(tail.ok()) << tail.status();
  ASSERT_EQ(tail->size(), 1u);
  EXPECT_EQ((*tail)[0].bytes, "event-300");
  EXPECT_EQ(*store_->LogLastId(), (*tail)[0].id);
  EXPECT_EQ(store_->ReadLog("not-a-cursor", 1).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace leadrouter::store
