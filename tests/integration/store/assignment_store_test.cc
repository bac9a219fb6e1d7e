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
#include "leadrouter/testing/fake_assignment_store.h"
#include "leadrouter/testing/redis_fixture.h"

namespace leadrouter::store {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Optional;
using ::testing::Pair;
using CommitResult = AssignmentStore::CommitResult;
using CommitRequest = AssignmentStore::CommitRequest;

// The store's contract, run against both implementations: Redis (the commit script) and
// testing::FakeAssignmentStore (what unit tests above the store seam run on), so the fake cannot
// drift from what the daemon gets. Tests of Redis-only behaviour (compression, the script cache,
// trimming behind the outbox, tenant validation at Connect) are RedisAssignmentStoreTest.
enum class Backend { kRedis, kFake };

class StoreTestBase : public testing::RedisFixture {
 protected:
  virtual Backend backend() const = 0;

  void SetUp() override {
    RedisFixture::SetUp();
    if (HasFatalFailure()) return;
    options_.tenant = "acme";
    if (backend() == Backend::kRedis) {
      store_ = Connect();
    } else {
      auto fake = std::make_unique<testing::FakeAssignmentStore>(clock_, "acme");
      fake_ = fake.get();
      store_ = std::move(fake);
    }
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

  // A string key's value as stored, read past the store's interface.
  std::optional<std::string> Get(const std::string& key) {
    if (fake_ != nullptr) return fake_->Value(key);
    const RedisReply reply = Raw({"GET", key});
    return reply.type == RedisReply::Type::kString ? std::optional<std::string>(reply.str)
                                                   : std::nullopt;
  }
  // Redis's TTL: seconds left, -1 without expiry, -2 no such key.
  int64_t Ttl(const std::string& key) {
    if (fake_ != nullptr) {
      const auto ttl = fake_->Ttl(key);
      return ttl.has_value() ? ttl->count() : -2;
    }
    return Raw({"TTL", key}).integer;
  }
  bool Exists(const std::string& key) {
    if (fake_ != nullptr) return fake_->Exists(key);
    return Raw({"EXISTS", key}).integer == 1;
  }
  // Lets `d` pass for expiry: the fake's clock moves, Redis's is real.
  void Pass(std::chrono::milliseconds d) {
    if (fake_ != nullptr) {
      clock_.Advance(d);
    } else {
      std::this_thread::sleep_for(d);
    }
  }

  core::FakeClock clock_{std::chrono::system_clock::now()};
  testing::FakeAssignmentStore* fake_ = nullptr;  // set when backend() is kFake
  std::unique_ptr<AssignmentStore> store_;
};

class AssignmentStoreTest : public StoreTestBase, public ::testing::WithParamInterface<Backend> {
 protected:
  Backend backend() const override { return GetParam(); }
};

INSTANTIATE_TEST_SUITE_P(Backends, AssignmentStoreTest,
                         ::testing::Values(Backend::kRedis, Backend::kFake),
                         [](const ::testing::TestParamInfo<Backend>& info) {
                           return info.param == Backend::kRedis ? "Redis" : "Fake";
                         });

class RedisAssignmentStoreTest : public StoreTestBase {
 protected:
  Backend backend() const override { return Backend::kRedis; }
};

TEST_P(AssignmentStoreTest, EmptyStateLoadsAsVersionZeroAndNoRecords) {
  const auto snapshot = Load({"a", "b"});
  EXPECT_EQ(snapshot.version, 0);
  EXPECT_TRUE(snapshot.state.empty());
  EXPECT_THAT(snapshot.records, ElementsAre(std::nullopt, std::nullopt));
}

TEST_P(AssignmentStoreTest, CommitThenLoadSeesRecordsStateAndVersion) {
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

TEST_P(AssignmentStoreTest, StaleVersionWritesNothing) {
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

// Issue 20: a guarded commit is refused only by a commit that wrote what it read, so instances
// deciding on other pools, reps and people do not serialise each other.
TEST_P(AssignmentStoreTest, EveryWrittenScopeGetsItsOwnVersion) {
  ASSERT_EQ(Commit({.state_updates = {{"pool:west:step", "1"},
                                      {"pool:west:credit:ada", "2"},
                                      {"rep:ada:open", "1"}}}),
            CommitResult::kCommitted);
  ASSERT_EQ(Commit({.expected_version = 1, .state_deletes = {"rep:ada:open"}}),
            CommitResult::kCommitted);
  const auto snapshot = Load({});
  EXPECT_EQ(snapshot.version, 2);
  EXPECT_THAT(snapshot.scope_versions, ElementsAre(Pair("pool:west", 1), Pair("rep:ada", 2)));
  EXPECT_THAT(snapshot.state,
              ElementsAre(Pair("pool:west:credit:ada", "2"), Pair("pool:west:step", "1")))
      << "the versions are the store's, not state";
}

TEST_P(AssignmentStoreTest, AGuardedCommitIsRefusedOnlyByAWriteToWhatItRead) {
  ASSERT_EQ(Commit({.state_updates = {{"pool:west:step", "1"}, {"pool:east:step", "1"}}}),
            CommitResult::kCommitted);
  const auto loaded = Load({});
  ASSERT_EQ(loaded.scope_versions.at("pool:west"), 1);
  // Another instance moves the east pool (and the tenant's version).
  ASSERT_EQ(Commit({.expected_version = 1, .state_updates = {{"pool:east:step", "2"}}}),
            CommitResult::kCommitted);
  EXPECT_EQ(Commit({.guards = CommitRequest::Guards{.scopes = {{"pool:west", 1}, {"rep:ada", 0}}},
                    .new_records = {{"w1", "west"}},
                    .state_updates = {{"pool:west:step", "2"}, {"rep:ada:open", "1"}}}),
            CommitResult::kCommitted)
      << "east's commit touched nothing this one read";
  // Decided on west at version 1, which the commit above moved to 2: refused, nothing written.
  EXPECT_EQ(Commit({.guards = CommitRequest::Guards{.scopes = {{"pool:west", 1}}},
                    .new_records = {{"w2", "stale"}},
                    .state_updates = {{"pool:west:step", "9"}}}),
            CommitResult::kVersionMoved);
  const auto snapshot = Load({"w1", "w2"});
  EXPECT_EQ(snapshot.state.at("pool:west:step"), "2");
  EXPECT_EQ(snapshot.state.at("pool:east:step"), "2");
  EXPECT_EQ(snapshot.state.at("rep:ada:open"), "1");
  EXPECT_THAT(snapshot.records, ElementsAre(Optional(std::string("west")), std::nullopt));
  EXPECT_EQ(snapshot.scope_versions.at("pool:west"), 2);
  EXPECT_EQ(snapshot.scope_versions.at("rep:ada"), 1);
  EXPECT_EQ(snapshot.version, 3);
  // A whole-tenant commit still sees every write, guarded ones included.
  EXPECT_EQ(Commit({.expected_version = 2, .state_updates = {{"x", "1"}}}),
            CommitResult::kVersionMoved);
}

// Mid rolling upgrade an older leadrouter commits by the tenant version alone, moving no scope
// version: a guarded commit cannot tell what it wrote, so any such commit since the load refuses
// it.
TEST_P(AssignmentStoreTest, ACommitOfAWriterWithoutScopeVersionsRefusesAGuardedOne) {
  ASSERT_EQ(Commit({.state_updates = {{"pool:west:step", "1"}}}), CommitResult::kCommitted);
  auto olderWriterCommits = [&] {
    if (fake_ != nullptr) {
      fake_->BumpVersion();
    } else {
      Raw({"HINCRBY", store_->keys().RoutingState(), "version", "1"});
      Raw({"HSET", store_->keys().RoutingState(), "pool:east:step", "7"});
    }
  };
  olderWriterCommits();  // before the load: no matter
  const auto loaded = Load({});
  EXPECT_EQ(loaded.version, 2);
  EXPECT_EQ(loaded.unscoped_commits, 1);
  EXPECT_FALSE(loaded.scope_versions.contains("")) << "the store's own count is not a scope";
  const CommitRequest::Guards guards{.scopes = {{"pool:west", 1}},
                                     .unscoped_commits = loaded.unscoped_commits};
  olderWriterCommits();
  EXPECT_EQ(Commit({.guards = guards, .state_updates = {{"pool:west:step", "2"}}}),
            CommitResult::kVersionMoved);
  const auto again = Load({});
  EXPECT_EQ(again.unscoped_commits, 2);
  EXPECT_EQ(Commit({.guards = CommitRequest::Guards{.scopes = {{"pool:west", 1}},
                                                    .unscoped_commits = again.unscoped_commits},
                    .state_updates = {{"pool:west:step", "2"}}}),
            CommitResult::kCommitted);
  EXPECT_EQ(Load({}).unscoped_commits, 2) << "this store's commits are not counted as unscoped";
}

TEST_P(AssignmentStoreTest, GuardedValuesAndRecordsMustBeAsTheyWereRead) {
  const std::string person = store_->keys().Person("p1");
  ASSERT_EQ(Commit({.new_records = {{"e1", "live"}}}), CommitResult::kCommitted);
  auto stamped = store_->LoadStampedRecords({"e1", "none"});
  ASSERT_TRUE(stamped.ok()) << stamped.status();
  EXPECT_THAT(stamped->records, ElementsAre(Optional(std::string("live")), std::nullopt));
  ASSERT_TRUE(stamped->stamps[0].has_value());
  EXPECT_FALSE(stamped->stamps[1].has_value());
  const CommitRequest::Guards read{.values = {{person, std::nullopt}},
                                   .records = {{"e1", stamped->stamps[0]}, {"none", std::nullopt}}};

  // The person appeared since the read: refused.
  ASSERT_EQ(Commit({.expected_version = 1,
                    .expiring_values = {{person, "e9", std::chrono::seconds(60)}}}),
            CommitResult::kCommitted);
  EXPECT_EQ(Commit({.guards = read, .new_records = {{"e2", "dup"}}}), CommitResult::kVersionMoved);
  // Read again, then the earlier record changes (a return, say): refused.
  CommitRequest::Guards again = read;
  again.values = {{person, "e9"}};
  ASSERT_EQ(Commit({.expected_version = 2, .replaced_records = {{"e1", "returned"}}}),
            CommitResult::kCommitted);
  EXPECT_EQ(Commit({.guards = again, .new_records = {{"e2", "dup"}}}), CommitResult::kVersionMoved);
  // Read once more: everything as read, committed.
  auto fresh = store_->LoadStampedRecords({"e1"});
  ASSERT_TRUE(fresh.ok());
  EXPECT_NE(fresh->stamps[0], stamped->stamps[0]);
  again.records = {{"e1", fresh->stamps[0]}, {"none", std::nullopt}};
  EXPECT_EQ(Commit({.guards = again, .new_records = {{"e2", "dup"}}}), CommitResult::kCommitted);
  EXPECT_THAT(Load({"e2"}).records, ElementsAre(Optional(std::string("dup"))));
}

TEST_P(AssignmentStoreTest, TheStoresVersionFieldsAndForeignGuardsAreRefused) {
  for (const char* field : {"version", "v:pool:west", "v:"}) {
    const auto updated = store_->Commit({.state_updates = {{field, "9"}}});
    EXPECT_EQ(updated.status().code(), absl::StatusCode::kInvalidArgument) << field;
    EXPECT_THAT(std::string(updated.status().message()), HasSubstr(field));
    EXPECT_EQ(store_->Commit({.state_deletes = {field}}).status().code(),
              absl::StatusCode::kInvalidArgument)
        << field;
  }
  const auto foreign = store_->Commit(
      {.guards = CommitRequest::Guards{.values = {{"lr:{other}:person:x", std::nullopt}}}});
  EXPECT_EQ(foreign.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(foreign.status().message()), HasSubstr("lr:{other}:person:x"));
  EXPECT_FALSE(Exists(store_->keys().RoutingState()));
}

TEST(ScopeOfFieldTest, IsTheNameUpToItsSecondColon) {
  EXPECT_EQ(store::ScopeOfField("pool:west:credit:ada"), "pool:west");
  EXPECT_EQ(store::ScopeOfField("rep:ada:open"), "rep:ada");
  EXPECT_EQ(store::ScopeOfField("rep:ada"), "rep:ada");
  EXPECT_EQ(store::ScopeOfField("x"), "x");
  EXPECT_EQ(store::ScopeVersionField("pool:west"), "v:pool:west");
}

TEST_P(AssignmentStoreTest, ExistingRecordWritesNothingAndKeepsTheVersion) {
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

TEST_P(AssignmentStoreTest, ReplacedRecordsStateDeletesAndTheQueue) {
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

TEST_P(AssignmentStoreTest, LeadIndexFindsTheEventOfALead) {
  ASSERT_EQ(Commit({.expected_version = 0,
                    .new_records = {{"e1", "r"}},
                    .lead_index = {{"ld_1", "e1"}},
                    .ttl = std::chrono::seconds(100)}),
            CommitResult::kCommitted);
  EXPECT_EQ(store_->keys().LeadIndex("ld_1"), "lr:{acme}:lead:ld_1");
  EXPECT_EQ(Get(store_->keys().LeadIndex("ld_1")), std::optional<std::string>("e1"));
  auto event_id = store_->EventIdOfLead(core::LeadId("ld_1"));
  ASSERT_TRUE(event_id.ok()) << event_id.status();
  EXPECT_EQ(*event_id, std::optional<core::EventId>(core::EventId("e1")));
  EXPECT_EQ(*store_->EventIdOfLead(core::LeadId("ld_2")), std::nullopt);
  const int64_t ttl = Ttl(store_->keys().LeadIndex("ld_1"));
  EXPECT_GT(ttl, 0);
  EXPECT_LE(ttl, 100);
}

TEST_P(AssignmentStoreTest, RecordsExpireTheStateDoesNot) {
  ASSERT_EQ(Commit({.expected_version = 0,
                    .new_records = {{"e1", "r"}},
                    .state_updates = {{"x", "1"}},
                    .ttl = std::chrono::seconds(100)}),
            CommitResult::kCommitted);
  const int64_t ttl = Ttl(store_->keys().EventRecord("e1"));
  EXPECT_GT(ttl, 0);
  EXPECT_LE(ttl, 100);
  EXPECT_EQ(Ttl(store_->keys().RoutingState()), -1);
  if (backend() == Backend::kFake) {  // Redis would take 100 s to show it
    Pass(std::chrono::milliseconds(101'000));
    EXPECT_EQ(Load({"e1"}).records[0], std::nullopt) << "expired by the clock";
    EXPECT_EQ(Load({}).state.at("x"), "1");
  }
}

// Stored outcomes are zstd frames with the outcome dictionary (record_codec.h), read back as the
// bytes that were committed.
TEST_F(RedisAssignmentStoreTest, RecordsAreStoredCompressedAndReadBackExactly) {
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
TEST_F(RedisAssignmentStoreTest, UncompressedRecordsAreReadAsTheyAreDamagedOnesAreDataLoss) {
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

// Log entries are compressed as records are; every reader (ReadLog, TailLog, the outbox through
// internal::LogEntries) gets the bytes committed. Entries written before (plain serialized
// events) and a damaged frame are passed on as they are stored.
TEST_F(RedisAssignmentStoreTest, LogEntriesAreStoredCompressedAndReadBackExactly) {
  std::string event;
  while (event.size() < 2000) {
    event += "assignment rep-ada pool everyone territory rest-of-world reason lowest load; ";
  }
  Raw({"XADD", store_->keys().AssignmentLog(), "*", "e", "legacy-plain-bytes"});
  ASSERT_EQ(Commit({.log_events = {event, ""}, .log_max_events = 100}), CommitResult::kCommitted);
  std::string damaged = EncodeRecord(event);
  damaged.resize(damaged.size() - 3);
  Raw({"XADD", store_->keys().AssignmentLog(), "*", "e", damaged});

  const RedisReply raw = Raw({"XRANGE", store_->keys().AssignmentLog(), "-", "+"});
  ASSERT_EQ(raw.elements.size(), 4u);
  const std::string stored = raw.elements[1].elements[1].elements[1].str;
  EXPECT_EQ(stored.substr(0, 4), std::string("\x28\xb5\x2f\xfd", 4)) << "a zstd frame";
  EXPECT_LT(stored.size(), event.size() / 4);

  auto entries = store_->ReadLog("0-0", 10);
  ASSERT_TRUE(entries.ok()) << entries.status();
  ASSERT_EQ(entries->size(), 4u);
  EXPECT_EQ((*entries)[0].bytes, "legacy-plain-bytes");
  EXPECT_EQ((*entries)[1].bytes, event);
  EXPECT_EQ((*entries)[2].bytes, "");
  EXPECT_EQ((*entries)[3].bytes, damaged);
  auto tailed = store_->TailLog("0-0", 10, std::chrono::milliseconds(10));
  ASSERT_TRUE(tailed.ok()) << tailed.status();
  ASSERT_EQ(tailed->size(), 4u);
  EXPECT_EQ((*tailed)[1].bytes, event);
}

// Issue 20: a transition that is the assignment of a record of the same commit is stored once,
// as the record's bytes (stream field "o"), and read back as the assignment alone.
TEST_P(AssignmentStoreTest, ALoggedRecordIsReadBackAsItsAssignmentInOrder) {
  std::string assignment;
  while (assignment.size() < 300) assignment += "assignment of rep-ada in pool everyone; ";
  // A serialized EventOutcome holding it: field 1, length-delimited (two varint bytes here).
  std::string outcome = "\x0a";
  outcome += static_cast<char>(0x80 | (assignment.size() & 0x7F));
  outcome += static_cast<char>(assignment.size() >> 7);
  outcome += assignment;
  ASSERT_EQ(store::AssignmentOfOutcome(outcome), std::optional<std::string_view>(assignment));
  // With a first message after it (field 3), as a re-routed lead's record has.
  const std::string rerouted = outcome + "\x1a\x03old";
  ASSERT_EQ(store::AssignmentOfOutcome(rerouted), std::optional<std::string_view>(assignment));
  ASSERT_EQ(store::AssignmentOfOutcome("\x12\x03nur"), std::nullopt) << "a nurture record";
  ASSERT_EQ(Commit({.new_records = {{"n1", "nurture"}, {"a1", outcome}},
                    .replaced_records = {{"a0", rerouted}, {"a2", "\x12\x03nur"}},
                    .log_events = {"first"},
                    .log_records = {1, 2, 3},
                    .log_max_events = 100}),
            CommitResult::kCommitted);
  auto entries = store_->ReadLog("0-0", 10);
  ASSERT_TRUE(entries.ok()) << entries.status();
  ASSERT_EQ(entries->size(), 4u);
  EXPECT_EQ((*entries)[0].bytes, "first");
  EXPECT_EQ((*entries)[1].bytes, assignment);
  EXPECT_EQ((*entries)[2].bytes, assignment);
  EXPECT_EQ((*entries)[3].bytes, "\x12\x03nur") << "no assignment in it: as stored";
  EXPECT_THAT(Load({"a1"}).records, ElementsAre(Optional(outcome)));
  if (backend() == Backend::kRedis) {
    const RedisReply raw = Raw({"XRANGE", store_->keys().AssignmentLog(), "-", "+"});
    ASSERT_EQ(raw.elements.size(), 4u);
    EXPECT_EQ(raw.elements[1].elements[1].elements[0].str, "o");
    EXPECT_EQ(raw.elements[1].elements[1].elements[1].str, *Get(store_->keys().EventRecord("a1")))
        << "the log entry is the stored record";
  }
  const auto bad = store_->Commit({.new_records = {{"x", outcome}},
                                   .ttl = std::chrono::seconds(60),
                                   .log_records = {1},
                                   .log_max_events = 100});
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(bad.status().message()), HasSubstr("log_records"));
}

TEST_F(RedisAssignmentStoreTest, KeysCarryTheTenantHashTag) {
  EXPECT_EQ(store_->keys().RoutingState(), "lr:{acme}:routing");
  EXPECT_EQ(store_->keys().UnassignedQueue(), "lr:{acme}:unassigned");
  EXPECT_EQ(store_->keys().EventRecord("e1"), "lr:{acme}:event:e1");
  options_.tenant = "bad{tenant";
  EXPECT_EQ(AssignmentStore::Connect(options_).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_P(AssignmentStoreTest, EmptyCommitWritesNothing) {
  EXPECT_EQ(Commit({.expected_version = 0}), CommitResult::kCommitted);
  EXPECT_FALSE(Exists(store_->keys().RoutingState()));
  EXPECT_EQ(Commit({.expected_version = 5}), CommitResult::kVersionMoved);
}

TEST_P(AssignmentStoreTest, RejectsDuplicatesNonPositiveTtlAndTheVersionField) {
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
  EXPECT_EQ(store_->Commit({.log_events = {"e"}}).status().code(),
            absl::StatusCode::kInvalidArgument)
      << "logging needs log_max_events";
  EXPECT_EQ(
      store_->Commit({.hash_sets = {{store_->keys().RoutingState(), "x", "1"}}}).status().code(),
      absl::StatusCode::kInvalidArgument)
      << "the routing hash is written through state_updates";
  EXPECT_EQ(store_->Commit({.hash_sets = {{"lr:{other}:claims", "x", "1"}}}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(Exists(store_->keys().RoutingState()));
}

TEST_F(RedisAssignmentStoreTest, CorruptVersionIsDataLoss) {
  Raw({"HSET", store_->keys().RoutingState(), "version", "seven"});
  EXPECT_EQ(store_->Load({}).status().code(), absl::StatusCode::kDataLoss);
}

TEST_F(RedisAssignmentStoreTest, CommitSurvivesScriptFlush) {
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
TEST_P(AssignmentStoreTest, RacingCommitsNeverDoubleAssignOrLoseAnUpdate) {
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

  // Redis: a connection per worker. The fake: one store, thread-safe, shared.
  auto worker = [&](int worker_id) {
    std::unique_ptr<AssignmentStore> connected = backend() == Backend::kRedis ? Connect() : nullptr;
    AssignmentStore* store = connected ? connected.get() : store_.get();
    ASSERT_NE(store, nullptr);
    const std::vector<std::string>& events = events_of[worker_id];
    size_t begin = 0;
    int step = 0;
    while (begin < events.size()) {
      const size_t size = std::min(events.size() - begin, size_t(1 + (step++ + worker_id) % 4));
      const std::vector<std::string> chunk(events.begin() + begin, events.begin() + begin + size);
      begin += size;
      while (true) {
        auto snapshot = store->Load(chunk);
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
        auto result = store->Commit(request);
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

TEST_P(AssignmentStoreTest, ExpiringValuesStayInsideTheTenantAndExpire) {
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
  Pass(std::chrono::milliseconds(1500));
  values = store_->LoadValues({store_->keys().Person("abc")});
  ASSERT_TRUE(values.ok());
  EXPECT_EQ((*values)[0], std::nullopt) << "the window is the key's TTL";
}

TEST_P(AssignmentStoreTest, SlaDeadlinesAreDueInOrderAndAReRouteMovesTheDeadline) {
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

TEST_F(RedisAssignmentStoreTest, TheLogKeepsCommittedEventsInOrderAndTrims) {
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

// Leads into a claimed account renew its owner key for the idle period; that must never cut a
// claim's longer period short. A different value starts over with its own ttl.
TEST_P(AssignmentStoreTest, AnUnchangedExpiringValueKeepsItsLongerExpiry) {
  const std::string key = store_->keys().Account("acct");
  ASSERT_EQ(Commit({.expiring_values = {{key, "rep-a", std::chrono::seconds(1000)}}}),
            CommitResult::kCommitted);
  ASSERT_EQ(Commit({.expected_version = 1,
                    .expiring_values = {{key, "rep-a", std::chrono::seconds(100)}}}),
            CommitResult::kCommitted);
  EXPECT_GT(Ttl(key), 900) << "the same value keeps the longer expiry";
  ASSERT_EQ(Commit({.expected_version = 2,
                    .expiring_values = {{key, "rep-b", std::chrono::seconds(100)}}}),
            CommitResult::kCommitted);
  EXPECT_LE(Ttl(key), 100) << "a new value gets its own";
  EXPECT_EQ(Get(key), std::optional<std::string>("rep-b"));
  ASSERT_EQ(Commit({.expected_version = 3,
                    .expiring_values = {{key, "rep-b", std::chrono::seconds(500)}}}),
            CommitResult::kCommitted);
  EXPECT_GT(Ttl(key), 400) << "a longer one extends it";
}

// The same rules when a guard names the key (the Redis script then writes without reading it
// again), also for a key written twice in one commit.
TEST_P(AssignmentStoreTest, AGuardedExpiringValueFollowsTheSameRules) {
  const std::string key = store_->keys().Account("acct");
  const std::string person = store_->keys().Person("p");
  auto guarded = [&](std::optional<std::string> account, std::optional<std::string> person_value,
                     std::vector<CommitRequest::ExpiringValue> values) {
    return Commit({.guards = CommitRequest::Guards{.values = {{key, std::move(account)},
                                                              {person, std::move(person_value)}}},
                   .expiring_values = std::move(values)});
  };
  using std::chrono::seconds;
  ASSERT_EQ(guarded(std::nullopt, std::nullopt, {{key, "rep-a", seconds(1000)}}),
            CommitResult::kCommitted);
  ASSERT_EQ(guarded("rep-a", std::nullopt, {{key, "rep-a", seconds(100)}}),
            CommitResult::kCommitted);
  EXPECT_GT(Ttl(key), 900) << "the same value keeps the longer expiry";
  ASSERT_EQ(guarded("rep-a", std::nullopt, {{key, "rep-b", seconds(100)}}),
            CommitResult::kCommitted);
  EXPECT_LE(Ttl(key), 100) << "a new value gets its own";
  EXPECT_EQ(Get(key), std::optional<std::string>("rep-b"));
  ASSERT_EQ(guarded("rep-b", std::nullopt, {{key, "rep-b", seconds(500)}}),
            CommitResult::kCommitted);
  EXPECT_GT(Ttl(key), 400) << "a longer one extends it";
  // Twice in one commit: a new value, then the same value with a shorter and a longer expiry.
  ASSERT_EQ(guarded("rep-b", std::nullopt,
                    {{person, "e1", seconds(50)},
                     {person, "e2", seconds(300)},
                     {person, "e2", seconds(100)},
                     {key, "rep-c", seconds(200)},
                     {key, "rep-c", seconds(700)}}),
            CommitResult::kCommitted);
  EXPECT_EQ(Get(person), std::optional<std::string>("e2"));
  EXPECT_GT(Ttl(person), 200);
  EXPECT_LE(Ttl(person), 300);
  EXPECT_EQ(Get(key), std::optional<std::string>("rep-c"));
  EXPECT_GT(Ttl(key), 600);
  // A guard that no longer holds writes nothing.
  EXPECT_EQ(guarded("rep-b", "e2", {{key, "rep-z", seconds(5)}}), CommitResult::kVersionMoved);
  EXPECT_EQ(Get(key), std::optional<std::string>("rep-c"));
}

TEST_P(AssignmentStoreTest, QueueAdditionsComeBeforeRemovalsAndTiesOrderByMember) {
  ASSERT_EQ(Commit({.queue_add = {{"b", 10}, {"a", 10}, {"c", 5}}}), CommitResult::kCommitted);
  auto queue = store_->PeekUnassigned(2);
  ASSERT_TRUE(queue.ok()) << queue.status();
  EXPECT_THAT(queue->first, ElementsAre("c", "a"));
  EXPECT_EQ(queue->second, 3);
  // Added and removed in one commit (queued, then routed by the same batch): gone.
  ASSERT_EQ(Commit({.expected_version = 1, .queue_add = {{"d", 1}}, .queue_remove = {"d"}}),
            CommitResult::kCommitted);
  queue = store_->PeekUnassigned(0);
  ASSERT_TRUE(queue.ok());
  EXPECT_THAT(queue->first, ElementsAre("c")) << "a limit of 0 reads one";
  EXPECT_EQ(queue->second, 3);
}

TEST_P(AssignmentStoreTest, OtherHashesOfTheTenantAreWrittenWithTheCommit) {
  const std::string claims = store_->keys().Claims();
  ASSERT_EQ(Commit({.hash_sets = {{claims, "acct-1", "rep-a"}, {claims, "acct-2", "rep-b"}}}),
            CommitResult::kCommitted);
  ASSERT_EQ(Commit({.expected_version = 1, .hash_deletes = {{claims, "acct-1", ""}}}),
            CommitResult::kCommitted);
  auto fields = store_->LoadHashFields(claims, {"acct-1", "acct-2"});
  ASSERT_TRUE(fields.ok()) << fields.status();
  EXPECT_THAT(*fields, ElementsAre(std::nullopt, Optional(std::string("rep-b"))));
  auto all = store_->LoadHash(claims);
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_THAT(*all, ElementsAre(Pair("acct-2", "rep-b")));
  EXPECT_EQ(Load({}).version, 2);
}

TEST_P(AssignmentStoreTest, TheLogReadsInOrderFromACursorAndTailsWhatComesNext) {
  EXPECT_EQ(*store_->LogLastId(), "0-0");
  ASSERT_EQ(Commit({.log_events = {"one", "two", "three"}, .log_max_events = 100}),
            CommitResult::kCommitted);
  auto entries = store_->ReadLog("0-0", 10);
  ASSERT_TRUE(entries.ok()) << entries.status();
  ASSERT_EQ(entries->size(), 3u);
  EXPECT_EQ((*entries)[0].bytes, "one");
  EXPECT_EQ((*entries)[2].bytes, "three");
  auto after_first = store_->ReadLog((*entries)[0].id, 1);
  ASSERT_TRUE(after_first.ok());
  ASSERT_EQ(after_first->size(), 1u);
  EXPECT_EQ((*after_first)[0].bytes, "two") << "exclusive cursor, limited";
  EXPECT_EQ(*store_->LogLastId(), (*entries)[2].id);
  EXPECT_EQ(*store_->LogTrimmedUpTo(), "0-0");

  auto nothing = store_->TailLog("$", 10, std::chrono::milliseconds(50));
  ASSERT_TRUE(nothing.ok()) << nothing.status();
  EXPECT_TRUE(nothing->empty()) << "\"$\" waits for what is added from now on";
  std::thread later([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    auto other = backend() == Backend::kRedis ? Connect() : nullptr;
    AssignmentStore& store = other ? *other : *store_;
    auto committed =
        store.Commit({.expected_version = 1, .log_events = {"four"}, .log_max_events = 100});
    EXPECT_TRUE(committed.ok()) << committed.status();
  });
  auto tail = store_->TailLog((*entries)[2].id, 10, std::chrono::milliseconds(5000));
  later.join();
  ASSERT_TRUE(tail.ok()) << tail.status();
  ASSERT_EQ(tail->size(), 1u) << "woken by the commit";
  EXPECT_EQ((*tail)[0].bytes, "four");
  EXPECT_EQ(store_->ReadLog("not-a-cursor", 1).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_P(AssignmentStoreTest, TheLogsTailIsItsNewestEntriesOldestFirst) {
  auto empty = store_->ReadLogTail(5);
  ASSERT_TRUE(empty.ok()) << empty.status();
  EXPECT_TRUE(empty->empty()) << "no log yet";
  ASSERT_EQ(Commit({.log_events = {"one", "two", "three"}, .log_max_events = 100}),
            CommitResult::kCommitted);
  auto all = store_->ReadLog("0-0", 10);
  ASSERT_TRUE(all.ok()) << all.status();
  auto tail = store_->ReadLogTail(2);
  ASSERT_TRUE(tail.ok()) << tail.status();
  ASSERT_EQ(tail->size(), 2u);
  EXPECT_EQ((*tail)[0].bytes, "two");
  EXPECT_EQ((*tail)[0].id, (*all)[1].id);
  EXPECT_EQ((*tail)[1].bytes, "three");
  EXPECT_EQ((*tail)[1].id, (*all)[2].id) << "a viewer resumes from the last one's id";
  auto more_than_there_is = store_->ReadLogTail(10);
  ASSERT_TRUE(more_than_there_is.ok());
  EXPECT_EQ(more_than_there_is->size(), 3u);
}

TEST_P(AssignmentStoreTest, UndeliverableRecordsAreKeptByIdWithTheirFields) {
  ASSERT_TRUE(store_
                  ->RecordUndeliverable({{"evt-1", {{"reason", "too_large"}, {"size", "2000000"}}}},
                                        std::chrono::seconds(60))
                  .ok());
  auto fields = store_->LoadUndeliverable("evt-1");
  ASSERT_TRUE(fields.ok()) << fields.status();
  const std::map<std::string, std::string> by_name(fields->begin(), fields->end());
  EXPECT_EQ(by_name.at("id"), "evt-1");
  EXPECT_EQ(by_name.at("reason"), "too_large");
  EXPECT_EQ(by_name.at("size"), "2000000");
  EXPECT_TRUE(store_->LoadUndeliverable("evt-2")->empty());
  EXPECT_EQ(store_->RecordUndeliverable({{"x", {}}}, std::chrono::seconds(0)).code(),
            absl::StatusCode::kInvalidArgument);
}

// What unit tests above the seam use the fake for: failures on demand, then recovery.
TEST(FakeAssignmentStoreTest, FailuresAreInjectedPerCallAndHealthReturnsAfterASuccess) {
  core::FakeClock clock(std::chrono::system_clock::now());
  testing::FakeAssignmentStore store(clock);
  store.FailNext(testing::FakeAssignmentStore::Call::kCommit, absl::UnavailableError("down"), 2);
  EXPECT_EQ(store.Commit({.state_updates = {{"x", "1"}}}).status().code(),
            absl::StatusCode::kUnavailable);
  EXPECT_FALSE(store.healthy());
  EXPECT_TRUE(store.Load({}).ok()) << "a load is another call";
  EXPECT_TRUE(store.healthy());
  EXPECT_EQ(store.Commit({.state_updates = {{"x", "1"}}}).status().code(),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ(*store.Commit({.state_updates = {{"x", "1"}}}), CommitResult::kCommitted);
  EXPECT_EQ(store.commit_calls(), 3);
  EXPECT_EQ(store.committed(), 1);
  store.BumpVersion();
  EXPECT_EQ(*store.Commit({.expected_version = 1, .state_updates = {{"x", "2"}}}),
            CommitResult::kVersionMoved);
  EXPECT_EQ(store.RoutingHash().at("x"), "1");
  EXPECT_EQ(store.RoutingHash().at("version"), "2");
}

}  // namespace
}  // namespace leadrouter::store
