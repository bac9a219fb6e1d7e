#include "leadrouter/store/redis_connection.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "leadrouter/testing/free_port.h"
#include "leadrouter/testing/redis_fixture.h"

namespace leadrouter::store {
namespace {

using ::testing::HasSubstr;
using Type = RedisReply::Type;

class RedisConnectionTest : public testing::RedisFixture {
 protected:
  void SetUp() override {
    RedisFixture::SetUp();
    if (HasFatalFailure()) return;
    options_.connect_timeout = std::chrono::milliseconds(500);
    options_.command_timeout = std::chrono::milliseconds(1000);
    auto connection = RedisConnection::Connect(options_);
    ASSERT_TRUE(connection.ok()) << connection.status();
    connection_ = *std::move(connection);
  }

  RedisReply Run(const std::vector<std::string>& args) {
    auto reply = connection_->Command(args);
    EXPECT_TRUE(reply.ok()) << reply.status();
    return reply.ok() ? *reply : RedisReply{};
  }

  std::unique_ptr<RedisConnection> connection_;
};

TEST_F(RedisConnectionTest, CommandsReturnTypedReplies) {
  RedisReply set = Run({"SET", "k", "v"});
  EXPECT_EQ(set.type, Type::kStatus);
  EXPECT_EQ(set.str, "OK");
  RedisReply get = Run({"GET", "k"});
  EXPECT_EQ(get.type, Type::kString);
  EXPECT_EQ(get.str, "v");
  EXPECT_TRUE(Run({"GET", "missing"}).is_nil());
  RedisReply incr = Run({"INCRBY", "n", "41"});
  EXPECT_EQ(incr.type, Type::kInteger);
  EXPECT_EQ(incr.integer, 41);
  Run({"RPUSH", "list", "a", "b"});
  RedisReply range = Run({"LRANGE", "list", "0", "-1"});
  ASSERT_EQ(range.type, Type::kArray);
  ASSERT_EQ(range.elements.size(), 2u);
  EXPECT_EQ(range.elements[1].str, "b");
  EXPECT_EQ(connection_->Command({}).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(RedisConnectionTest, KeysAndValuesAreBinarySafe) {
  const std::string key("bin\0key", 7);
  std::string value("\0a\r\n\0", 5);
  value.push_back(static_cast<char>(0xff));
  Run({"SET", key, value});
  RedisReply got = Run({"GET", key});
  EXPECT_EQ(got.str, value);
  EXPECT_EQ(got.str.size(), 6u);
  EXPECT_TRUE(Run({"GET", "bin"}).is_nil());  // the key was not cut at the NUL
}

TEST_F(RedisConnectionTest, ErrorRepliesAreValues) {
  Run({"SET", "s", "x"});
  auto reply = connection_->Command({"LPUSH", "s", "y"});
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_TRUE(reply->is_error());
  EXPECT_THAT(reply->str, HasSubstr("WRONGTYPE"));
  EXPECT_TRUE(connection_->healthy());
  EXPECT_EQ(Run({"GET", "s"}).str, "x");  // the connection is still usable
}

TEST_F(RedisConnectionTest, PipelineOfAThousandCommandsAnswersInOrder) {
  std::vector<std::vector<std::string>> commands;
  for (int i = 0; i < 1000; ++i) commands.push_back({"INCR", "counter"});
  auto replies = connection_->Pipeline(commands);
  ASSERT_TRUE(replies.ok()) << replies.status();
  ASSERT_EQ(replies->size(), 1000u);
  for (int i = 0; i < 1000; ++i) EXPECT_EQ((*replies)[i].integer, i + 1) << i;

  // Mixed commands, an error reply in the middle does not disturb the rest.
  auto mixed = connection_->Pipeline({{"SET", "a", "1"}, {"LPUSH", "a", "x"}, {"GET", "a"}});
  ASSERT_TRUE(mixed.ok()) << mixed.status();
  ASSERT_EQ(mixed->size(), 3u);
  EXPECT_EQ((*mixed)[0].str, "OK");
  EXPECT_TRUE((*mixed)[1].is_error());
  EXPECT_EQ((*mixed)[2].str, "1");

  auto empty = connection_->Pipeline({});
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
}

// Records what a RedisObserver hears.
class RecordingObserver final : public RedisObserver {
 public:
  struct Call {
    RedisOp op;
    double seconds;
    bool ok;
  };
  void Observe(RedisOp op, double seconds, bool ok) override { calls.push_back({op, seconds, ok}); }
  std::vector<Call> calls;
};

TEST_F(RedisConnectionTest, ObserverHearsEveryRoundTripWithItsOpAndOutcome) {
  RecordingObserver observer;
  RedisOptions options = options_;
  options.observer = &observer;
  auto connection = RedisConnection::Connect(options);
  ASSERT_TRUE(connection.ok()) << connection.status();
  ASSERT_TRUE((*connection)->Command({"SET", "k", "v"}, RedisOp::kCommit).ok());
  // An error reply is an answer, not a failed round trip.
  ASSERT_TRUE((*connection)->Command({"LPUSH", "k", "x"}).ok());
  ASSERT_TRUE((*connection)->Pipeline({{"GET", "k"}, {"PING"}}, RedisOp::kLoad).ok());
  // No round trip, nothing heard.
  EXPECT_FALSE((*connection)->Command({}).ok());
  EXPECT_TRUE((*connection)->Pipeline({}).ok());
  ASSERT_EQ(observer.calls.size(), 3u);
  EXPECT_EQ(observer.calls[0].op, RedisOp::kCommit);
  EXPECT_EQ(observer.calls[1].op, RedisOp::kOther);
  EXPECT_EQ(observer.calls[2].op, RedisOp::kLoad);
  for (const auto& call : observer.calls) {
    EXPECT_TRUE(call.ok);
    EXPECT_GT(call.seconds, 0);
    EXPECT_LT(call.seconds, 1);
  }

  ASSERT_TRUE(redis_server().Stop().ok());
  EXPECT_FALSE((*connection)->Command({"GET", "k"}, RedisOp::kSla).ok());
  EXPECT_FALSE((*connection)->Pipeline({{"GET", "k"}}, RedisOp::kQueue).ok());  // reconnect fails
  ASSERT_EQ(observer.calls.size(), 5u);
  EXPECT_EQ(observer.calls[3].op, RedisOp::kSla);
  EXPECT_FALSE(observer.calls[3].ok);
  EXPECT_EQ(observer.calls[4].op, RedisOp::kQueue);
  EXPECT_FALSE(observer.calls[4].ok);
}

TEST_F(RedisConnectionTest, UnavailableWhenServerGoneAndReconnectsAfterRestart) {
  Run({"SET", "k", "v"});
  ASSERT_TRUE(redis_server().Stop().ok());

  auto during = connection_->Command({"GET", "k"});
  EXPECT_EQ(during.status().code(), absl::StatusCode::kUnavailable) << during.status();
  EXPECT_FALSE(connection_->healthy());
  // The reconnect attempt on the next call fails too, naming the endpoint.
  auto again = connection_->Pipeline({{"PING"}});
  EXPECT_EQ(again.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(again.status().message(), HasSubstr(std::to_string(redis_server().port())));

  ASSERT_TRUE(redis_server().Restart().ok()) << redis_server().Output();
  RedisReply pong = Run({"PING"});
  EXPECT_EQ(pong.str, "PONG");
  EXPECT_TRUE(connection_->healthy());
  EXPECT_TRUE(Run({"GET", "k"}).is_nil());  // a fresh server without persistence
}

TEST_F(RedisConnectionTest, TimeoutMarksBrokenAndNextCallReconnects) {
  options_.command_timeout = std::chrono::milliseconds(200);
  auto connection = RedisConnection::Connect(options_);
  ASSERT_TRUE(connection.ok()) << connection.status();
  auto blocked = (*connection)->Command({"BLPOP", "empty-list", "5"});
  EXPECT_EQ(blocked.status().code(), absl::StatusCode::kUnavailable) << blocked.status();
  EXPECT_THAT(blocked.status().message(), HasSubstr("timed out after 200 ms"));
  EXPECT_FALSE((*connection)->healthy());
  auto pong = (*connection)->Command({"PING"});
  ASSERT_TRUE(pong.ok()) << pong.status();
  EXPECT_EQ(pong->str, "PONG");
}

TEST_F(RedisConnectionTest, ConnectFailureNamesTheEndpoint) {
  RedisOptions nowhere = options_;
  nowhere.port = testing::FreeLoopbackPort();
  auto connection = RedisConnection::Connect(nowhere);
  EXPECT_EQ(connection.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(connection.status().message(),
              HasSubstr("127.0.0.1:" + std::to_string(nowhere.port)));
}

TEST_F(RedisConnectionTest, AuthenticatesWithPassword) {
  Run({"CONFIG", "SET", "requirepass", "s3cret"});
  RedisOptions with_password = options_;
  with_password.password = "s3cret";
  auto good = RedisConnection::Connect(with_password);
  ASSERT_TRUE(good.ok()) << good.status();
  auto pong = (*good)->Command({"PING"});
  ASSERT_TRUE(pong.ok());
  EXPECT_EQ(pong->str, "PONG");

  with_password.password = "wrong";
  EXPECT_EQ(RedisConnection::Connect(with_password).status().code(),
            absl::StatusCode::kUnauthenticated);
  // Without AUTH, commands are refused as error replies.
  auto refused = RedisConnection::Connect(options_);
  ASSERT_TRUE(refused.ok());
  auto reply = (*refused)->Command({"GET", "k"});
  ASSERT_TRUE(reply.ok());
  EXPECT_THAT(reply->str, HasSubstr("NOAUTH"));
}

}  // namespace
}  // namespace leadrouter::store
