// leadrouter-kafka-mock as a process: its bootstrap line, a third-party client (kcat) producing
// to it, our Consumer reading back, and a clean exit on SIGTERM.

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "leadrouter/kafka/consumer.h"

namespace leadrouter::kafka {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using Clock = std::chrono::steady_clock;

// A child process with optional pipes to its stdin and from its stdout. Killed (SIGKILL) and
// reaped on destruction if still running, so a failing test never leaks a broker.
class ChildProcess {
 public:
  // Starts argv[0] with `argv`. With `pipe_stdin`/`pipe_stdout`, the test talks to the child
  // through stdin_fd()/stdout_fd(); otherwise the child inherits the test's.
  static std::optional<ChildProcess> Start(const std::vector<std::string>& argv, bool pipe_stdin,
                                           bool pipe_stdout) {
    int in[2] = {-1, -1};
    int out[2] = {-1, -1};
    if (pipe_stdin && pipe2(in, O_CLOEXEC) != 0) return std::nullopt;
    if (pipe_stdout && pipe2(out, O_CLOEXEC) != 0) return std::nullopt;
    // Built before fork: after fork only async-signal-safe calls are allowed in the child.
    std::vector<char*> args;
    for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
    args.push_back(nullptr);

    const pid_t pid = fork();
    if (pid < 0) return std::nullopt;
    if (pid == 0) {
      if (pipe_stdin) dup2(in[0], STDIN_FILENO);
      if (pipe_stdout) dup2(out[1], STDOUT_FILENO);
      execv(args[0], args.data());
      _exit(127);
    }
    ChildProcess child;
    child.pid_ = pid;
    if (pipe_stdin) {
      close(in[0]);
      child.stdin_fd_ = in[1];
    }
    if (pipe_stdout) {
      close(out[1]);
      child.stdout_fd_ = out[0];
    }
    return child;
  }

  ChildProcess(ChildProcess&& other) noexcept { *this = std::move(other); }
  ChildProcess& operator=(ChildProcess&& other) noexcept {
    std::swap(pid_, other.pid_);
    std::swap(stdin_fd_, other.stdin_fd_);
    std::swap(stdout_fd_, other.stdout_fd_);
    return *this;
  }
  ~ChildProcess() {
    CloseStdin();
    if (stdout_fd_ >= 0) close(stdout_fd_);
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }

  int stdin_fd() const { return stdin_fd_; }

  void CloseStdin() {
    if (stdin_fd_ >= 0) close(stdin_fd_);
    stdin_fd_ = -1;
  }

  bool WriteStdin(const std::string& data) {
    size_t written = 0;
    while (written < data.size()) {
      const ssize_t n = write(stdin_fd_, data.data() + written, data.size() - written);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      written += static_cast<size_t>(n);
    }
    return true;
  }

  // One line from the child's stdout (without the newline), or nullopt on EOF or timeout.
  std::optional<std::string> ReadLine(milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    while (true) {
      if (const size_t newline = buffered_.find('\n'); newline != std::string::npos) {
        std::string line = buffered_.substr(0, newline);
        buffered_.erase(0, newline + 1);
        return line;
      }
      const auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
      if (left.count() <= 0) return std::nullopt;
      pollfd readable{.fd = stdout_fd_, .events = POLLIN, .revents = 0};
      const int ready = poll(&readable, 1, static_cast<int>(left.count()));
      if (ready < 0 && errno == EINTR) continue;
      if (ready <= 0) return std::nullopt;
      char chunk[512];
      const ssize_t n = read(stdout_fd_, chunk, sizeof chunk);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return std::nullopt;
      buffered_.append(chunk, static_cast<size_t>(n));
    }
  }

  // The raw wait status once the child exited within `timeout`; nullopt if it is still running.
  std::optional<int> WaitForExit(milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    while (true) {
      int status = 0;
      const pid_t done = waitpid(pid_, &status, WNOHANG);
      if (done == pid_) {
        pid_ = -1;
        return status;
      }
      if (done < 0 || Clock::now() >= deadline) return std::nullopt;
      std::this_thread::sleep_for(milliseconds(20));
    }
  }

  bool Signal(int signal_number) const { return kill(pid_, signal_number) == 0; }

 private:
  ChildProcess() = default;
  pid_t pid_ = -1;
  int stdin_fd_ = -1;
  int stdout_fd_ = -1;
  std::string buffered_;
};

bool ExitedZero(const std::optional<int>& status) {
  return status.has_value() && WIFEXITED(*status) && WEXITSTATUS(*status) == 0;
}

class KafkaMockBinaryTest : public ::testing::Test {
 protected:
  // A child that dies early must fail the test, not kill it with SIGPIPE.
  void SetUp() override { signal(SIGPIPE, SIG_IGN); }
};

TEST_F(KafkaMockBinaryTest, ServesKcatAndOurConsumerThenExitsCleanlyOnSigterm) {
  auto broker = ChildProcess::Start({KAFKA_MOCK_BIN, "--brokers", "2"}, /*pipe_stdin=*/false,
                                    /*pipe_stdout=*/true);
  ASSERT_TRUE(broker.has_value());
  const std::optional<std::string> line = broker->ReadLine(seconds(20));
  ASSERT_TRUE(line.has_value()) << "no bootstrap line from " << KAFKA_MOCK_BIN;
  ASSERT_TRUE(line->starts_with("bootstrap=")) << *line;
  const std::string bootstrap = line->substr(std::string("bootstrap=").size());
  ASSERT_THAT(bootstrap, ::testing::MatchesRegex("127\\.0\\.0\\.1:[0-9]+,127\\.0\\.0\\.1:[0-9]+"));

  // kcat: one record per line, "key:value", and a header on each.
  auto kcat = ChildProcess::Start(
      {KCAT_BIN, "-P", "-b", bootstrap, "-t", "leads.inbound", "-K:", "-H", "source=kcat"},
      /*pipe_stdin=*/true, /*pipe_stdout=*/false);
  ASSERT_TRUE(kcat.has_value());
  ASSERT_TRUE(
      kcat->WriteStdin("lead-1:{\"email\":\"a@example.com\"}\n"
                       "lead-2:{\"email\":\"b@example.com\"}\n"
                       "lead-3:{\"email\":\"c@example.com\"}\n"));
  kcat->CloseStdin();  // EOF: kcat flushes and exits
  ASSERT_TRUE(ExitedZero(kcat->WaitForExit(seconds(30)))) << "kcat failed or hung";

  auto consumer = Consumer::Create({.bootstrap_servers = bootstrap,
                                    .group_id = "binary-test",
                                    .topics = {"leads.inbound"},
                                    .extra = {{"session.timeout.ms", "6000"}}});
  ASSERT_TRUE(consumer.ok()) << consumer.status();
  std::vector<ConsumedMessage> received;
  const auto deadline = Clock::now() + seconds(30);
  while (received.size() < 3 && Clock::now() < deadline) {
    auto batch = (*consumer)->PollBatch(10, milliseconds(500));
    ASSERT_TRUE(batch.ok()) << batch.status();
    received.insert(received.end(), batch->begin(), batch->end());
  }
  ASSERT_EQ(received.size(), 3u);
  std::vector<std::string> records;
  for (const ConsumedMessage& message : received) {
    records.push_back(message.key + "=" + message.value);
    EXPECT_EQ(message.HeaderValue("source"), "kcat");
  }
  EXPECT_THAT(records, ::testing::UnorderedElementsAre("lead-1={\"email\":\"a@example.com\"}",
                                                       "lead-2={\"email\":\"b@example.com\"}",
                                                       "lead-3={\"email\":\"c@example.com\"}"));
  (*consumer)->Close();

  ASSERT_TRUE(broker->Signal(SIGTERM));
  const std::optional<int> status = broker->WaitForExit(seconds(10));
  ASSERT_TRUE(status.has_value()) << "leadrouter-kafka-mock ignored SIGTERM";
  EXPECT_TRUE(ExitedZero(status)) << "wait status " << *status;
  EXPECT_EQ(broker->ReadLine(milliseconds(100)), std::nullopt) << "only one line on stdout";
}

TEST_F(KafkaMockBinaryTest, MalformedTopicFlagFailsWithNonZeroExit) {
  auto broker = ChildProcess::Start({KAFKA_MOCK_BIN, "--topic", "leads.inbound:zero"},
                                    /*pipe_stdin=*/false, /*pipe_stdout=*/true);
  ASSERT_TRUE(broker.has_value());
  EXPECT_EQ(broker->ReadLine(seconds(10)), std::nullopt) << "no bootstrap line on failure";
  const std::optional<int> status = broker->WaitForExit(seconds(10));
  ASSERT_TRUE(status.has_value());
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) != 0);
}

}  // namespace
}  // namespace leadrouter::kafka
