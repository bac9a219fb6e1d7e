#include "leadrouter/testing/subprocess.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>
#include <string>
#include <thread>

#include "leadrouter/testing/free_port.h"

namespace leadrouter::testing {
namespace {

// Dead means no such process, or a zombie waiting for whichever process adopted it.
bool IsDead(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string content;
  if (!std::getline(stat, content)) return true;
  const size_t after_name = content.rfind(')');
  return after_name != std::string::npos && after_name + 2 < content.size() &&
         content[after_name + 2] == 'Z';
}

using ::testing::HasSubstr;

TEST(SubprocessTest, WaitForLineSeesStdoutAndStderrIncludingEarlierLines) {
  auto child = Subprocess::Start({"/bin/sh", "-c", "echo first; echo second >&2; sleep 30"});
  ASSERT_TRUE(child.ok()) << child.status();
  auto second = (*child)->WaitForLine("second", std::chrono::seconds(5));
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(*second, "second");
  // Already seen lines still count.
  auto first = (*child)->WaitForLine("fir", std::chrono::seconds(1));
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(*first, "first");
  EXPECT_THAT((*child)->Output(), HasSubstr("first\nsecond\n"));
}

TEST(SubprocessTest, WaitForLineTimesOutWithTheOutput) {
  auto child = Subprocess::Start({"sh", "-c", "echo hello; sleep 30"});
  ASSERT_TRUE(child.ok()) << child.status();
  auto line = (*child)->WaitForLine("never", std::chrono::milliseconds(200));
  EXPECT_EQ(line.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_THAT(line.status().message(), HasSubstr("hello"));
}

TEST(SubprocessTest, WaitForLineFailsFastWhenTheOutputEnds) {
  auto child = Subprocess::Start({"sh", "-c", "printf 'no newline'"});
  ASSERT_TRUE(child.ok()) << child.status();
  // A last line without newline is found once output ended.
  auto partial = (*child)->WaitForLine("newline", std::chrono::seconds(5));
  ASSERT_TRUE(partial.ok()) << partial.status();
  EXPECT_EQ(*partial, "no newline");
  const auto start = std::chrono::steady_clock::now();
  auto missing = (*child)->WaitForLine("absent", std::chrono::seconds(30));
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
}

TEST(SubprocessTest, TerminateReportsExitCode) {
  auto child = Subprocess::Start(
      {"sh", "-c", "trap 'exit 7' TERM; echo ready; while :; do sleep 0.05; done"});
  ASSERT_TRUE(child.ok()) << child.status();
  ASSERT_TRUE((*child)->WaitForLine("ready", std::chrono::seconds(5)).ok());
  EXPECT_TRUE((*child)->Running());
  auto code = (*child)->Terminate(std::chrono::seconds(5));
  ASSERT_TRUE(code.ok()) << code.status();
  EXPECT_EQ(*code, 7);
  EXPECT_FALSE((*child)->Running());
  EXPECT_EQ(*(*child)->Terminate(std::chrono::seconds(1)), 7);  // idempotent
}

TEST(SubprocessTest, TerminateReportsSignalAndKillsAfterGrace) {
  auto by_term = Subprocess::Start({"sleep", "30"});
  ASSERT_TRUE(by_term.ok()) << by_term.status();
  EXPECT_EQ(*(*by_term)->Terminate(std::chrono::seconds(5)), 128 + SIGTERM);

  auto stubborn = Subprocess::Start({"sh", "-c", "trap '' TERM; echo ready; sleep 30"});
  ASSERT_TRUE(stubborn.ok()) << stubborn.status();
  ASSERT_TRUE((*stubborn)->WaitForLine("ready", std::chrono::seconds(5)).ok());
  EXPECT_EQ(*(*stubborn)->Terminate(std::chrono::milliseconds(200)), 128 + SIGKILL);
}

TEST(SubprocessTest, NaturalExitAndEnvironment) {
  auto child = Subprocess::Start({"sh", "-c", "echo \"value=$LR_TEST_VAR\"; exit 3"},
                                 {{"LR_TEST_VAR", "x y"}});
  ASSERT_TRUE(child.ok()) << child.status();
  auto line = (*child)->WaitForLine("value=", std::chrono::seconds(5));
  ASSERT_TRUE(line.ok()) << line.status();
  EXPECT_EQ(*line, "value=x y");
  // Wait, not Terminate: a SIGTERM could overtake the exit it is racing.
  auto code = (*child)->Wait(std::chrono::seconds(5));
  ASSERT_TRUE(code.ok()) << code.status();
  EXPECT_EQ(*code, 3);
  EXPECT_EQ(*(*child)->Terminate(std::chrono::seconds(1)), 3) << "the result is kept";
}

TEST(SubprocessTest, WaitTimesOutOnARunningChild) {
  auto child = Subprocess::Start({"sleep", "30"});
  ASSERT_TRUE(child.ok()) << child.status();
  EXPECT_EQ((*child)->Wait(std::chrono::milliseconds(100)).status().code(),
            absl::StatusCode::kDeadlineExceeded);
  EXPECT_TRUE((*child)->Running());
}

TEST(SubprocessTest, MissingProgramIsNotFound) {
  auto child = Subprocess::Start({"leadrouter-no-such-program-xyz"});
  EXPECT_EQ(child.status().code(), absl::StatusCode::kNotFound);
}

TEST(SubprocessTest, DestructorKillsTheWholeProcessGroup) {
  pid_t grandchild = 0;
  {
    auto child = Subprocess::Start({"sh", "-c", "sleep 30 & echo bg=$!; wait"});
    ASSERT_TRUE(child.ok()) << child.status();
    auto line = (*child)->WaitForLine("bg=", std::chrono::seconds(5));
    ASSERT_TRUE(line.ok()) << line.status();
    grandchild = static_cast<pid_t>(std::stoi(line->substr(3)));
  }
  // The grandchild was re-parented and reaped by init or a subreaper; give it a moment.
  bool gone = false;
  for (int i = 0; i < 100 && !gone; ++i) {
    gone = IsDead(grandchild);
    if (!gone) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_TRUE(gone) << "grandchild " << grandchild << " survived";
}

TEST(FreeLoopbackPortTest, ReturnsAUsablePort) {
  const int port = FreeLoopbackPort();
  EXPECT_GT(port, 0);
  EXPECT_LT(port, 65536);
}

}  // namespace
}  // namespace leadrouter::testing
