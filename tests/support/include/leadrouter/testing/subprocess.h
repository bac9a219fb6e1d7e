#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"

namespace leadrouter::testing {

// A child process for tests. stdout and stderr are merged into one pipe that a reader thread
// drains into memory, so a test can wait for a line and print everything on failure.
//
// The child runs in its own process group; signals go to the whole group, so a shell's children
// die with it. The child also gets SIGKILL when the thread that started it exits
// (PR_SET_PDEATHSIG), so a crashed test binary leaves no servers behind: start Subprocesses from
// a thread that outlives them (normally the test's main thread).
//
// The destructor terminates (SIGTERM, up to 5 s, then SIGKILL) and reaps the child: never leaks.
// Output() and WaitForLine() are thread-safe; the other members are for one controlling thread.
class Subprocess {
 public:
  // argv[0] is searched in PATH when it has no '/'. extra_env is added to (or overrides) the
  // parent's environment. Fails with the exec error (e.g. NotFound) if the program cannot start.
  static absl::StatusOr<std::unique_ptr<Subprocess>> Start(
      std::vector<std::string> argv, std::map<std::string, std::string> extra_env = {});

  ~Subprocess();
  Subprocess(const Subprocess&) = delete;
  Subprocess& operator=(const Subprocess&) = delete;

  pid_t pid() const { return pid_; }

  // The first complete line of output containing `contains`, including lines already seen.
  // DeadlineExceeded after `timeout`; FailedPrecondition once output has ended (the child exited)
  // without such a line. Error messages carry the output so far.
  absl::StatusOr<std::string> WaitForLine(std::string_view contains,
                                          std::chrono::milliseconds timeout);

  // Everything captured so far.
  std::string Output() const;

  // True until the child has exited (reaps it when it has).
  bool Running();

  // Waits for the child to exit by itself and returns its exit code (or 128+signal);
  // DeadlineExceeded if it is still running after `timeout` (it is left running).
  absl::StatusOr<int> Wait(std::chrono::milliseconds timeout);

  // SIGTERM to the group, wait up to `grace`, then SIGKILL. Returns the exit code, or 128+signal
  // if a signal ended it. Safe to call again: returns the same result.
  absl::StatusOr<int> Terminate(std::chrono::milliseconds grace);

 private:
  Subprocess(pid_t pid, int output_fd);
  void ReadOutput();
  // Reaps without blocking; true if the child is gone (exit_code_ set).
  bool TryReap();

  const pid_t pid_;
  const int output_fd_;
  std::optional<int> exit_code_;

  mutable std::mutex mutex_;
  std::condition_variable output_changed_;
  std::string output_;         // guarded by mutex_
  bool output_ended_ = false;  // guarded by mutex_
  std::atomic<bool> stop_reading_{false};
  std::thread reader_;
};

}  // namespace leadrouter::testing
