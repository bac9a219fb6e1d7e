#include "leadrouter/store/assignment_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <mutex>
#include <thread>

#include "leadrouter/testing/redis_server.h"

namespace leadrouter::store {
namespace {

using ::testing::ElementsAre;
using ::testing::Optional;
using CommitResult = AssignmentStore::CommitResult;

class AssignmentStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto server = testing::RedisServer::Start();
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    options_.host = server_->host();
    options_.port = server_->port();
    options_.tenant = "acme";
    store_ = Connect();
    ASSERT_NE(store_, nullptr);
  }

  std::unique_ptr<AssignmentStore> Connect() {
    auto store = AssignmentStore::Connect(options_);
    EXPECT_TRUE(store.ok()) << store.status();
    return store.ok() ? *std::move(store) : nullptr;
  }

  AssignmentStore::Snapshot Load(std::string_view pool, const std::vector<std::string>& ids) {
    auto snapshot = store_->Load(pool, ids);
    EXPECT_TRUE(snapshot.ok()) << snapshot.status();
    return snapshot.ok() ? *snapshot : AssignmentStore::Snapshot{};
  }

  CommitResult Commit(std::string_view pool, int64_t expected, int64_t next,
                      const std::vector<std::pair<std::string, std::string>>& records) {
    auto result = store_->Commit(pool, expected, next, records, std::chrono::seconds(3600));
    EXPECT_TRUE(result.ok()) << result.status();
    return result.ok() ? *result : CommitResult::kCursorMoved;
  }

  RedisReply Raw(const std::vector<std::string>& args) {
    auto reply = store_->connection().Command(args);
    EXPECT_TRUE(reply.ok()) << reply.status();
    return reply.ok() ? *reply : RedisReply{};
  }

  std::unique_ptr<testing::RedisServer> server_;
  RedisOptions options_;
  std::unique_ptr<AssignmentStore> store_;
};

TEST_F(AssignmentStoreTest, EmptyStateLoadsAsCursorZeroAndNoRecords) {
  AssignmentStore::Snapshot snapshot = Load("pool-a", {"e1", "e2"});
  EXPECT_EQ(snapshot.cursor, 0);
  EXPECT_THAT(snapshot.records, ElementsAre(std::nullopt, std::nullopt));
}

TEST_F(AssignmentStoreTest, CommitThenLoadSeesRecordsAndCursor) {
  const std::string binary("rep\0\x01\xff-7", 8);
  EXPECT_EQ(Commit("pool-a", 0, 2, {{"e1", "rep-1"}, {"e2", binary}}), CommitResult::kCommitted);
  AssignmentStore::Snapshot snapshot = Load("pool-a", {"e1", "e2", "e3"});
  EXPECT_EQ(snapshot.cursor, 2);
  EXPECT_THAT(snapshot.records,
              ElementsAre(Optional(std::string("rep-1")), Optional(binary), std::nullopt));
  // Another pool's cursor is independent.
  EXPECT_EQ(Load("pool-b", {}).cursor, 0);
}

TEST_F(AssignmentStoreTest, StaleCursorWritesNothing) {
  ASSERT_EQ(Commit("pool-a", 0, 3, {{"e1", "r1"}}), CommitResult::kCommitted);
  EXPECT_EQ(Commit("pool-a", 1, 2, {{"e2", "r2"}}), CommitResult::kCursorMoved);
  AssignmentStore::Snapshot snapshot = Load("pool-a", {"e2"});
  EXPECT_EQ(snapshot.cursor, 3);
  EXPECT_THAT(snapshot.records, ElementsAre(std::nullopt));
}

TEST_F(AssignmentStoreTest, ExistingRecordWritesNothingAndKeepsCursor) {
  ASSERT_EQ(Commit("pool-a", 0, 1, {{"e1", "first"}}), CommitResult::kCommitted);
  EXPECT_EQ(Commit("pool-a", 1, 3, {{"e9", "new"}, {"e1", "second"}}), CommitResult::kRecordExists);
  AssignmentStore::Snapshot snapshot = Load("pool-a", {"e1", "e9"});
  EXPECT_EQ(snapshot.cursor, 1);
  EXPECT_THAT(snapshot.records, ElementsAre(Optional(std::string("first")), std::nullopt));
}

TEST_F(AssignmentStoreTest, RecordsExpireAndCursorPersists) {
  auto result = store_->Commit("pool-a", 0, 1, {{"e1", "r"}}, std::chrono::seconds(100));
  ASSERT_TRUE(result.ok()) << result.status();
  const RedisReply ttl = Raw({"TTL", store_->keys().EventRecord("e1")});
  EXPECT_GT(ttl.integer, 0);
  EXPECT_LE(ttl.integer, 100);
  EXPECT_EQ(Raw({"TTL", store_->keys().RotationCursor("pool-a")}).integer, -1);
}

TEST_F(AssignmentStoreTest, KeysCarryTheTenantHashTag) {
  EXPECT_EQ(store_->keys().RotationCursor("pool-a"), "lr:{acme}:rr:pool-a");
  EXPECT_EQ(store_->keys().EventRecord("e1"), "lr:{acme}:event:e1");
  ASSERT_EQ(Commit("pool-a", 0, 1, {{"e1", "r"}}), CommitResult::kCommitted);
  RedisReply keys = Raw({"KEYS", "*"});
  std::vector<std::string> names;
  for (const RedisReply& key : keys.elements) names.push_back(key.str);
  std::sort(names.begin(), names.end());
  EXPECT_THAT(names, ElementsAre("lr:{acme}:event:e1", "lr:{acme}:rr:pool-a"));

  RedisOptions bad = options_;
  bad.tenant = "a}b";
  EXPECT_EQ(AssignmentStore::Connect(bad).status().code(), absl::StatusCode::kInvalidArgument);
  bad.tenant = "";
  EXPECT_EQ(AssignmentStore::Connect(bad).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(AssignmentStoreTest, EmptyCommitIsANoOp) {
  EXPECT_EQ(Commit("pool-a", 0, 0, {}), CommitResult::kCommitted);
  EXPECT_TRUE(Raw({"KEYS", "*"}).elements.empty());
  EXPECT_EQ(Commit("pool-a", 5, 5, {}), CommitResult::kCursorMoved);
}

TEST_F(AssignmentStoreTest, RejectsDuplicateEventsAndNonPositiveTtl) {
  auto duplicate =
      store_->Commit("pool-a", 0, 2, {{"e1", "a"}, {"e1", "b"}}, std::chrono::seconds(10));
  EXPECT_EQ(duplicate.status().code(), absl::StatusCode::kInvalidArgument);
  auto no_ttl = store_->Commit("pool-a", 0, 1, {{"e1", "a"}}, std::chrono::seconds(0));
  EXPECT_EQ(no_ttl.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(Raw({"KEYS", "*"}).elements.empty());
}

TEST_F(AssignmentStoreTest, CursorsAboveTwoToThe53AreComparedExactly) {
  const int64_t big = (int64_t{1} << 53) + 1;  // a Lua double would round it to 2^53
  ASSERT_EQ(Commit("pool-a", 0, big, {}), CommitResult::kCommitted);
  EXPECT_EQ(Load("pool-a", {}).cursor, big);
  EXPECT_EQ(Commit("pool-a", big - 1, big + 1, {}), CommitResult::kCursorMoved);
  EXPECT_EQ(Commit("pool-a", big, big + 1, {}), CommitResult::kCommitted);
}

TEST_F(AssignmentStoreTest, CorruptCursorIsDataLoss) {
  Raw({"SET", store_->keys().RotationCursor("pool-a"), "twelve"});
  EXPECT_EQ(store_->Load("pool-a", {}).status().code(), absl::StatusCode::kDataLoss);
}

TEST_F(AssignmentStoreTest, CommitSurvivesScriptFlush) {
  ASSERT_EQ(Commit("pool-a", 0, 1, {{"e1", "r"}}), CommitResult::kCommitted);
  Raw({"SCRIPT", "FLUSH"});
  EXPECT_EQ(Commit("pool-a", 1, 2, {{"e2", "r"}}), CommitResult::kCommitted);
}

// Two connections race read-decide-commit loops on the same pool. They share half of their events
// (so kRecordExists is exercised) and own the other half (so only the cursor check can keep their
// commits apart). Each successful commit must advance the cursor by exactly its own record count,
// the successful commits must chain 0 -> ... -> N without gaps or overlaps, and every event must
// end with exactly the record of the one commit that claimed it.
TEST_F(AssignmentStoreTest, RacingCommitsNeverDoubleAssignOrSkip) {
  constexpr int kPerKind = 300;
  std::vector<std::vector<std::string>> events_of(3);  // indexed by worker id 1 and 2
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
  const int64_t total = static_cast<int64_t>(all_events.size());

  struct Success {
    int64_t expected;
    int64_t next;
    std::vector<std::pair<std::string, std::string>> records;
  };
  std::mutex successes_mutex;
  std::vector<Success> successes;
  std::atomic<int> retries{0};

  auto worker = [&](int worker_id) {
    auto store = AssignmentStore::Connect(options_);
    ASSERT_TRUE(store.ok()) << store.status();
    const std::vector<std::string>& events = events_of[worker_id];
    size_t begin = 0;
    int step = 0;
    while (begin < events.size()) {
      // Different chunk sizes per worker so batches overlap partially.
      const size_t size = std::min(events.size() - begin, size_t(1 + (step++ + worker_id) % 4));
      const std::vector<std::string> chunk(events.begin() + begin, events.begin() + begin + size);
      begin += size;
      while (true) {
        auto snapshot = (*store)->Load("shared", chunk);
        ASSERT_TRUE(snapshot.ok()) << snapshot.status();
        std::vector<std::pair<std::string, std::string>> records;
        for (size_t i = 0; i < chunk.size(); ++i) {
          if (!snapshot->records[i].has_value()) {
            records.emplace_back(chunk[i], "worker-" + std::to_string(worker_id));
          }
        }
        if (records.empty()) break;  // the other worker already took them all
        const int64_t next = snapshot->cursor + static_cast<int64_t>(records.size());
        auto result =
            (*store)->Commit("shared", snapshot->cursor, next, records, std::chrono::seconds(600));
        ASSERT_TRUE(result.ok()) << result.status();
        if (*result == CommitResult::kCommitted) {
          std::lock_guard<std::mutex> lock(successes_mutex);
          successes.push_back({snapshot->cursor, next, records});
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

  std::sort(successes.begin(), successes.end(),
            [](const Success& a, const Success& b) { return a.expected < b.expected; });
  int64_t cursor = 0;
  std::map<std::string, std::string> claimed;
  for (const Success& success : successes) {
    EXPECT_EQ(success.expected, cursor) << "a gap or overlap in the cursor chain";
    EXPECT_EQ(success.next - success.expected, static_cast<int64_t>(success.records.size()));
    cursor = success.next;
    for (const auto& [event_id, record] : success.records) {
      EXPECT_TRUE(claimed.emplace(event_id, record).second) << event_id << " committed twice";
    }
  }
  EXPECT_EQ(cursor, total);
  EXPECT_EQ(claimed.size(), all_events.size());

  AssignmentStore::Snapshot final_state = Load("shared", all_events);
  EXPECT_EQ(final_state.cursor, total);
  for (size_t i = 0; i < all_events.size(); ++i) {
    ASSERT_TRUE(final_state.records[i].has_value()) << all_events[i];
    EXPECT_EQ(*final_state.records[i], claimed[all_events[i]]) << all_events[i];
  }
  std::cout << "successful commits: " << successes.size() << ", retries: " << retries << "\n";
}

}  // namespace
}  // namespace leadrouter::store
