#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "leadrouter/store/redis_connection.h"
#include "leadrouter/testing/redis_server.h"

namespace leadrouter::testing {

// A GoogleTest fixture for tests against a real Redis: one redis-server (RedisServer, a free
// loopback port, no persistence) per test suite, started in SetUpTestSuite and stopped in
// TearDownTestSuite, and before each test a clean server: running (restarted if a test stopped
// it or locked it with a password), the keyspace flushed and the script cache emptied, so every
// test sees what a fresh server would show it.
//
// Tests read `options_` (host and port of the server, the default tenant; change the tenant or
// timeouts before connecting) and connect what they test with Connect<Client>() (any client with
// `static absl::StatusOr<std::unique_ptr<Client>> Connect(const store::RedisOptions&)`:
// RedisConnection, AssignmentStore, OutboxStore). For one controlling thread (the test's); the
// clients it returns are the caller's.
class RedisFixture : public ::testing::Test {
 public:
  static void SetUpTestSuite();
  static void TearDownTestSuite();

 protected:
  void SetUp() override;

  // The suite's server, e.g. to Stop() and Restart() it within a test. Valid during a test.
  static RedisServer& redis_server();

  // A client of the suite's server with `options` (default: options_); nullptr, with a failed
  // expectation naming the error, when it cannot connect.
  template <typename Client>
  std::unique_ptr<Client> Connect(const store::RedisOptions& options) {
    auto client = Client::Connect(options);
    EXPECT_TRUE(client.ok()) << client.status();
    return client.ok() ? *std::move(client) : nullptr;
  }
  template <typename Client>
  std::unique_ptr<Client> Connect() {
    return Connect<Client>(options_);
  }

  // One command on the fixture's own connection: its reply, or a nil reply with a failed
  // expectation if the round trip failed. For reading keys back.
  store::RedisReply RedisCommand(const std::vector<std::string>& args);

  store::RedisOptions options_;

 private:
  std::unique_ptr<store::RedisConnection> admin_;
};

}  // namespace leadrouter::testing
