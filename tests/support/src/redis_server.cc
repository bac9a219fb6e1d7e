#include "leadrouter/testing/redis_server.h"

#include <hiredis/hiredis.h>
#include <sys/time.h>

#include <filesystem>
#include <thread>

#include "absl/strings/str_cat.h"
#include "leadrouter/testing/free_port.h"

namespace leadrouter::testing {
namespace {

bool Pings(const std::string& host, int port) {
  const timeval timeout{0, 200 * 1000};
  redisContext* context = redisConnectWithTimeout(host.c_str(), port, timeout);
  if (context == nullptr) return false;
  bool ok = false;
  if (context->err == 0 && redisSetTimeout(context, timeout) == REDIS_OK) {
    auto* reply = static_cast<redisReply*>(redisCommand(context, "PING"));
    ok = reply != nullptr && reply->type == REDIS_REPLY_STATUS;
    if (reply != nullptr) freeReplyObject(reply);
  }
  redisFree(context);
  return ok;
}

}  // namespace

absl::StatusOr<std::unique_ptr<RedisServer>> RedisServer::Start() {
  absl::Status last = absl::UnavailableError("no free port");
  // Another process may take the free port before redis-server binds it: try a few.
  for (int attempt = 0; attempt < 5; ++attempt) {
    const int port = FreeLoopbackPort();
    if (port <= 0) continue;
    auto server = StartOnPort(port);
    if (server.ok()) return server;
    last = server.status();
  }
  return last;
}

absl::StatusOr<std::unique_ptr<RedisServer>> RedisServer::StartOnPort(int port) {
  std::unique_ptr<RedisServer> server(new RedisServer(port));
  if (absl::Status status = server->Launch(); !status.ok()) return status;
  return server;
}

absl::Status RedisServer::Launch() {
  std::error_code ignored;
  const std::string dir = std::filesystem::temp_directory_path(ignored).string();
  auto process = Subprocess::Start({"redis-server", "--port", std::to_string(port_), "--bind",
                                    host_, "--save", "", "--appendonly", "no", "--dir",
                                    dir.empty() ? "/tmp" : dir, "--loglevel", "notice"});
  if (!process.ok()) return process.status();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    if (!(*process)->Running()) {
      return absl::UnavailableError(
          absl::StrCat("redis-server on port ", port_, " exited; output:\n", (*process)->Output()));
    }
    if (Pings(host_, port_)) {
      process_ = *std::move(process);
      return absl::OkStatus();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return absl::DeadlineExceededError(absl::StrCat(
      "redis-server on port ", port_, " did not answer PING; output:\n", (*process)->Output()));
}

absl::Status RedisServer::Stop() {
  if (process_ == nullptr) return absl::OkStatus();
  absl::StatusOr<int> exit_code = process_->Terminate(std::chrono::seconds(5));
  previous_output_ += process_->Output();
  process_.reset();
  return exit_code.status();
}

absl::Status RedisServer::Restart() {
  if (absl::Status stopped = Stop(); !stopped.ok()) return stopped;
  return Launch();
}

std::string RedisServer::Output() const {
  return process_ == nullptr ? previous_output_ : previous_output_ + process_->Output();
}

}  // namespace leadrouter::testing
