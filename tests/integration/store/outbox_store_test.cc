#include "leadrouter/store/outbox_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <thread>

#include "absl/strings/str_cat.h"
#include "leadrouter/store/assignment_store.h"
#include "leadrouter/testing/redis_fixture.h"

namespace leadrouter::store {
namespace {

using std::chrono_literals::operator""ms;
using AdvanceResult = OutboxStore::AdvanceResult;

class OutboxStoreTest : public testing::RedisFixture {
 protected:
  void SetUp() override {
    RedisFixture::SetUp();
    if (HasFatalFailure()) return;
    options_.tenant = "acme";
    assignments_ = RedisFixture::Connect<AssignmentStore>();
    ASSERT_NE(assignments_, nullptr);
    outbox_ = Connect();
  }

  std::unique_ptr<OutboxStore> Connect() { return RedisFixture::Connect<OutboxStore>(); }

  // Commits `n` log events ("<prefix>0", "<prefix>1", ...) with the log capped at `log_max`.
  void Append(int n, const std::string& prefix, int64_t log_max = 100) {
    AssignmentStore::CommitRequest request;
    request.expected_version = version_;
    request.log_max_events = log_max;
    for (int i = 0; i < n; ++i) request.log_events.push_back(absl::StrCat(prefix, i));
    auto committed = assignments_->Commit(request);
    ASSERT_TRUE(committed.ok()) << committed.status();
    ASSERT_EQ(*committed, AssignmentStore::CommitResult::kCommitted);
    ++version_;
  }

  OutboxStore::Lease Acquire(OutboxStore& store, const std::string& holder,
                             std::chrono::milliseconds ttl = 5000ms) {
    auto lease = store.Acquire(holder, ttl);
    EXPECT_TRUE(lease.ok()) << lease.status();
    EXPECT_TRUE(lease.ok() && lease->has_value()) << holder << " did not get the lease";
    return lease.ok() && lease->has_value() ? **lease : OutboxStore::Lease{};
  }

  OutboxStore::Position Position() {
    auto position = outbox_->Load();
    EXPECT_TRUE(position.ok()) << position.status();
    EXPECT_TRUE(position.ok() && position->has_value());
    return position.ok() && position->has_value() ? **position : OutboxStore::Position{};
  }

  std::vector<AssignmentStore::LogEntry> Read(const std::string& after, size_t limit = 1000) {
    auto entries = outbox_->Read(after, limit, 0ms);
    EXPECT_TRUE(entries.ok()) << entries.status();
    return entries.ok() ? *entries : std::vector<AssignmentStore::LogEntry>{};
  }

  int64_t LogLength() {
    const store::RedisReply reply = RedisCommand({"XLEN", assignments_->keys().AssignmentLog()});
    return reply.type == store::RedisReply::Type::kInteger ? reply.integer : -1;
  }

  std::unique_ptr<AssignmentStore> assignments_;
  std::unique_ptr<OutboxStore> outbox_;
  int64_t version_ = 0;
};

TEST_F(OutboxStoreTest, ANewOutboxStartsAfterWhatWasLoggedBeforeIt) {
  EXPECT_EQ(*outbox_->Load(), std::nullopt);
  // Entries from before the outbox existed were published directly, when they were made.
  Append(3, "old");
  OutboxStore::Position position = Position();
  EXPECT_EQ(position.backlog(), 3) << "the first append starts the outbox before itself";
  const std::vector<AssignmentStore::LogEntry> waiting = Read(position.after_id);
  ASSERT_EQ(waiting.size(), 3u);
  EXPECT_EQ(waiting[0].bytes, "old0");
}

TEST_F(OutboxStoreTest, TheFirstLeaseOnAnExistingLogStartsAtItsEnd) {
  // A log written before any outbox (an upgrade): its commit script never saw the outbox.
  ASSERT_FALSE(
      RedisCommand({"XADD", assignments_->keys().AssignmentLog(), "*", "e", "legacy"}).is_error());
  Acquire(*outbox_, "a");
  EXPECT_TRUE(Read(Position().after_id).empty());
  Append(2, "new");
  const std::vector<AssignmentStore::LogEntry> waiting = Read(Position().after_id);
  ASSERT_EQ(waiting.size(), 2u);
  EXPECT_EQ(waiting[0].bytes, "new0");
  EXPECT_EQ(Position().backlog(), 2);
}

TEST_F(OutboxStoreTest, OneHolderAtATimeAndTheLeaseExpires) {
  std::unique_ptr<OutboxStore> other = Connect();
  const OutboxStore::Lease first = Acquire(*outbox_, "a", 300ms);
  auto refused = other->Acquire("b", 300ms);
  ASSERT_TRUE(refused.ok());
  EXPECT_EQ(*refused, std::nullopt);
  EXPECT_TRUE(*outbox_->Renew(first, 300ms));
  std::this_thread::sleep_for(500ms);  // a holder that died
  const OutboxStore::Lease second = Acquire(*other, "b", 5000ms);
  EXPECT_GT(second.epoch, first.epoch);
  EXPECT_NE(second.token, first.token);
  EXPECT_FALSE(*outbox_->Renew(first, 300ms)) << "a lease taken over is not renewed";
}

TEST_F(OutboxStoreTest, OnlyTheHolderFromTheReadPositionAdvances) {
  Append(4, "e");
  const OutboxStore::Lease lease = Acquire(*outbox_, "a");
  const OutboxStore::Position start = Position();
  const std::vector<AssignmentStore::LogEntry> entries = Read(start.after_id, 2);
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(*outbox_->Advance(lease, start.after_id, entries[1].id, 2), AdvanceResult::kAdvanced);
  EXPECT_EQ(Position().after_id, entries[1].id);
  EXPECT_EQ(Position().backlog(), 2);
  // The same batch again (a holder that did not see its own advance): refused, counted once.
  EXPECT_EQ(*outbox_->Advance(lease, start.after_id, entries[1].id, 2), AdvanceResult::kMoved);
  EXPECT_EQ(Position().backlog(), 2);

  // A stalled holder replaced by another is fenced off: it can never move the position.
  ASSERT_TRUE(outbox_->Release(lease).ok());
  std::unique_ptr<OutboxStore> other = Connect();
  const OutboxStore::Lease taken = Acquire(*other, "b");
  const std::vector<AssignmentStore::LogEntry> rest = Read(entries[1].id);
  ASSERT_EQ(rest.size(), 2u);
  EXPECT_EQ(*outbox_->Advance(lease, entries[1].id, rest[1].id, 2), AdvanceResult::kLeaseLost);
  EXPECT_EQ(*other->Advance(taken, entries[1].id, rest[1].id, 2), AdvanceResult::kAdvanced);
  EXPECT_EQ(Position().backlog(), 0);
  EXPECT_TRUE(Read(Position().after_id).empty());
}

TEST_F(OutboxStoreTest, TheLogIsNeverTrimmedPastWhatKafkaLacks) {
  const OutboxStore::Lease lease = Acquire(*outbox_, "a");
  // Kafka is down: nothing is forwarded while 1,000 events are logged with a cap of 100.
  for (int i = 0; i < 10; ++i) Append(100, absl::StrCat("batch", i, "-"), /*log_max=*/100);
  EXPECT_EQ(Position().backlog(), 1000);
  const std::vector<AssignmentStore::LogEntry> waiting = Read(Position().after_id, 5000);
  ASSERT_EQ(waiting.size(), 1000u) << "an unforwarded entry was trimmed";
  EXPECT_EQ(waiting.front().bytes, "batch0-0");
  EXPECT_EQ(waiting.back().bytes, "batch9-99");

  // Once forwarded, the log is trimmed to its cap again by the next commit.
  EXPECT_EQ(*outbox_->Advance(lease, Position().after_id, waiting.back().id, 1000),
            AdvanceResult::kAdvanced);
  Append(1, "after");
  EXPECT_LT(LogLength(), 300);
  EXPECT_GE(LogLength(), 100);
  EXPECT_EQ(Position().backlog(), 1);
}

TEST_F(OutboxStoreTest, ABlockingReadWakesOnACommit) {
  Acquire(*outbox_, "a");
  const std::string after = Position().after_id;
  std::thread writer([this] {
    std::this_thread::sleep_for(100ms);
    std::unique_ptr<AssignmentStore> store = *AssignmentStore::Connect(options_);
    AssignmentStore::CommitRequest request;
    request.log_max_events = 100;
    request.log_events = {"late"};
    EXPECT_TRUE(store->Commit(request).ok());
  });
  auto entries = outbox_->Read(after, 10, 1500ms);
  writer.join();
  ASSERT_TRUE(entries.ok()) << entries.status();
  ASSERT_EQ(entries->size(), 1u);
  EXPECT_EQ((*entries)[0].bytes, "late");
}

}  // namespace
}  // namespace leadrouter::store
