#include "leadrouter/store/lua_script.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "leadrouter/testing/redis_fixture.h"

namespace leadrouter::store {
namespace {

class LuaScriptTest : public testing::RedisFixture {
 protected:
  void SetUp() override {
    RedisFixture::SetUp();
    if (HasFatalFailure()) return;
    connection_ = Connect<RedisConnection>();
    ASSERT_NE(connection_, nullptr);
  }

  std::unique_ptr<RedisConnection> connection_;
};

constexpr char kAppend[] = "return redis.call('APPEND', KEYS[1], ARGV[1])";

TEST_F(LuaScriptTest, Sha1MatchesWhatRedisComputes) {
  LuaScript script(kAppend);
  auto loaded = connection_->Command({"SCRIPT", "LOAD", kAppend});
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(script.sha1(), loaded->str);
  EXPECT_EQ(script.sha1().size(), 40u);
}

TEST_F(LuaScriptTest, RunsAndReloadsAfterScriptFlush) {
  LuaScript script(kAppend);
  auto first = script.Run(*connection_, {"k"}, {"ab"});  // never loaded: NOSCRIPT path
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->integer, 2);

  ASSERT_TRUE(connection_->Command({"SCRIPT", "FLUSH"}).ok());
  auto exists = connection_->Command({"SCRIPT", "EXISTS", script.sha1()});
  ASSERT_TRUE(exists.ok());
  ASSERT_EQ(exists->elements.at(0).integer, 0);

  auto second = script.Run(*connection_, {"k"}, {"cd"});
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->integer, 4);
  auto value = connection_->Command({"GET", "k"});
  EXPECT_EQ(value->str, "abcd");  // ran exactly once per Run
}

TEST_F(LuaScriptTest, ScriptErrorsAreErrorReplies) {
  LuaScript script("return redis.call('INCR', KEYS[1])");
  ASSERT_TRUE(connection_->Command({"SET", "text", "abc"}).ok());
  auto reply = script.Run(*connection_, {"text"}, {});
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_TRUE(reply->is_error());
  EXPECT_FALSE(LuaScript::IsNoScript(*reply));
}

TEST_F(LuaScriptTest, PipelinedEvalSha) {
  LuaScript script(kAppend);
  ASSERT_TRUE(script.Load(*connection_).ok());
  std::vector<std::vector<std::string>> commands;
  for (int i = 0; i < 100; ++i) commands.push_back(script.EvalShaCommand({"p"}, {"x"}));
  auto replies = connection_->Pipeline(commands);
  ASSERT_TRUE(replies.ok()) << replies.status();
  ASSERT_EQ(replies->size(), 100u);
  EXPECT_EQ(replies->back().integer, 100);
}

}  // namespace
}  // namespace leadrouter::store
