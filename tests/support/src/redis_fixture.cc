#include "leadrouter/testing/redis_fixture.h"

namespace leadrouter::testing {
namespace {

// The suite's server: GoogleTest runs suites one after another on the main thread.
std::unique_ptr<RedisServer>& Server() {
  static auto* const server = new std::unique_ptr<RedisServer>();
  return *server;
}

store::RedisOptions OptionsOf(const RedisServer& server) {
  store::RedisOptions options;
  options.host = server.host();
  options.port = server.port();
  return options;
}

// FLUSHALL and SCRIPT FLUSH on a new connection; an error if the server does not take them
// (gone, or a test set a password).
absl::Status Clean(const RedisServer& server) {
  auto connection = store::RedisConnection::Connect(OptionsOf(server));
  if (!connection.ok()) return connection.status();
  const std::vector<std::vector<std::string>> commands = {{"FLUSHALL"}, {"SCRIPT", "FLUSH"}};
  for (const auto& args : commands) {
    auto reply = (*connection)->Command(args);
    if (!reply.ok()) return reply.status();
    if (reply->is_error()) return absl::FailedPreconditionError(reply->str);
  }
  return absl::OkStatus();
}

}  // namespace

void RedisFixture::SetUpTestSuite() {
  auto server = RedisServer::Start();
  ASSERT_TRUE(server.ok()) << server.status();
  Server() = *std::move(server);
}

void RedisFixture::TearDownTestSuite() {
  Server().reset();
}

RedisServer& RedisFixture::redis_server() {
  return *Server();
}

void RedisFixture::SetUp() {
  ASSERT_NE(Server(), nullptr) << "no redis-server for this suite (see SetUpTestSuite)";
  RedisServer& server = *Server();
  absl::Status clean = server.running() ? Clean(server) : absl::UnavailableError("stopped");
  if (!clean.ok()) {
    // A fresh, empty server on the same port.
    ASSERT_TRUE(server.Stop().ok());
    ASSERT_TRUE(server.Restart().ok()) << server.Output();
    clean = Clean(server);
  }
  ASSERT_TRUE(clean.ok()) << clean << "\n" << server.Output();
  options_ = OptionsOf(server);
}

store::RedisReply RedisFixture::RedisCommand(const std::vector<std::string>& args) {
  if (admin_ == nullptr) admin_ = Connect<store::RedisConnection>(OptionsOf(*Server()));
  if (admin_ == nullptr) return {};
  auto reply = admin_->Command(args);
  EXPECT_TRUE(reply.ok()) << reply.status();
  return reply.ok() ? *std::move(reply) : store::RedisReply{};
}

}  // namespace leadrouter::testing
