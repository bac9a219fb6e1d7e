#include "leadrouter/testing/subprocess.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

extern char** environ;

namespace leadrouter::testing {
namespace {

// Closes a descriptor on scope exit unless released.
class FdCloser {
 public:
  explicit FdCloser(int fd) : fd_(fd) {}
  ~FdCloser() {
    if (fd_ >= 0) close(fd_);
  }
  FdCloser(const FdCloser&) = delete;
  FdCloser& operator=(const FdCloser&) = delete;
  int get() const { return fd_; }
  int release() {
    const int fd = fd_;
    fd_ = -1;
    return fd;
  }
  void reset() {
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
  }

 private:
  int fd_;
};

int ExitCodeOf(int wait_status) {
  if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status);
  if (WIFSIGNALED(wait_status)) return 128 + WTERMSIG(wait_status);
  return -1;
}

// In the forked child: only async-signal-safe calls until exec.
[[noreturn]] void ExecChild(pid_t parent, int output_fd, int error_fd, char* const argv[],
                            char* const envp[]) {
  setpgid(0, 0);
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent) _exit(127);  // the parent died before prctl took effect
  sigset_t all;
  sigemptyset(&all);
  sigprocmask(SIG_SETMASK, &all, nullptr);
  const int null_fd = open("/dev/null", O_RDONLY);
  if (null_fd >= 0) dup2(null_fd, STDIN_FILENO);
  dup2(output_fd, STDOUT_FILENO);
  dup2(output_fd, STDERR_FILENO);
  execvpe(argv[0], argv, envp);
  const int error = errno;
  ssize_t ignored = write(error_fd, &error, sizeof(error));
  (void)ignored;
  _exit(127);
}

}  // namespace

absl::StatusOr<std::unique_ptr<Subprocess>> Subprocess::Start(
    std::vector<std::string> argv, std::map<std::string, std::string> extra_env) {
  if (argv.empty()) return absl::InvalidArgumentError("Subprocess::Start needs argv[0]");

  // Everything the child needs is built before fork: after fork only exec-safe calls are allowed.
  std::vector<char*> argv_pointers;
  for (std::string& arg : argv) argv_pointers.push_back(arg.data());
  argv_pointers.push_back(nullptr);
  std::vector<std::string> env_strings;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    std::string_view variable(*entry);
    const std::string name(variable.substr(0, variable.find('=')));
    if (extra_env.count(name) == 0) env_strings.emplace_back(variable);
  }
  for (const auto& [name, value] : extra_env) env_strings.push_back(absl::StrCat(name, "=", value));
  std::vector<char*> env_pointers;
  for (std::string& entry : env_strings) env_pointers.push_back(entry.data());
  env_pointers.push_back(nullptr);

  int output_pipe[2];
  int error_pipe[2];
  if (pipe2(output_pipe, O_CLOEXEC) != 0) {
    return absl::InternalError(absl::StrCat("pipe2: ", std::strerror(errno)));
  }
  FdCloser output_read(output_pipe[0]);
  FdCloser output_write(output_pipe[1]);
  if (pipe2(error_pipe, O_CLOEXEC) != 0) {
    return absl::InternalError(absl::StrCat("pipe2: ", std::strerror(errno)));
  }
  FdCloser error_read(error_pipe[0]);
  FdCloser error_write(error_pipe[1]);

  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid < 0) return absl::InternalError(absl::StrCat("fork: ", std::strerror(errno)));
  if (pid == 0) {
    ExecChild(parent, output_write.get(), error_write.get(), argv_pointers.data(),
              env_pointers.data());
  }
  setpgid(pid, pid);  // also here, so signals to the group work even before the child runs
  output_write.reset();
  error_write.reset();

  // The error pipe closes on a successful exec (CLOEXEC) or carries errno on failure.
  int exec_errno = 0;
  ssize_t got;
  do {
    got = read(error_read.get(), &exec_errno, sizeof(exec_errno));
  } while (got < 0 && errno == EINTR);
  if (got > 0) {
    int status = 0;
    waitpid(pid, &status, 0);
    const std::string message =
        absl::StrCat("cannot exec ", argv.front(), ": ", std::strerror(exec_errno));
    return exec_errno == ENOENT ? absl::NotFoundError(message) : absl::InternalError(message);
  }
  return std::unique_ptr<Subprocess>(new Subprocess(pid, output_read.release()));
}

Subprocess::Subprocess(pid_t pid, int output_fd) : pid_(pid), output_fd_(output_fd) {
  reader_ = std::thread([this] { ReadOutput(); });
}

Subprocess::~Subprocess() {
  (void)Terminate(std::chrono::seconds(5));
  stop_reading_.store(true);
  reader_.join();
  close(output_fd_);
}

void Subprocess::ReadOutput() {
  char buffer[4096];
  // poll with a short timeout rather than a blocking read, so the destructor can stop this thread
  // even if a stray process still holds the pipe's write end.
  while (!stop_reading_.load()) {
    pollfd request{output_fd_, POLLIN, 0};
    const int ready = poll(&request, 1, 100);
    if (ready < 0 && errno != EINTR) break;
    if (ready <= 0) continue;
    const ssize_t got = read(output_fd_, buffer, sizeof(buffer));
    if (got < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (got <= 0) break;
    std::lock_guard<std::mutex> lock(mutex_);
    output_.append(buffer, static_cast<size_t>(got));
    output_changed_.notify_all();
  }
  std::lock_guard<std::mutex> lock(mutex_);
  output_ended_ = true;
  output_changed_.notify_all();
}

std::string Subprocess::Output() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return output_;
}

absl::StatusOr<std::string> Subprocess::WaitForLine(std::string_view contains,
                                                    std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::unique_lock<std::mutex> lock(mutex_);
  while (true) {
    size_t begin = 0;
    while (begin < output_.size()) {
      const size_t end = output_.find('\n', begin);
      // A final line without newline counts only once no more output can follow.
      if (end == std::string::npos && !output_ended_) break;
      std::string_view line(output_.data() + begin,
                            (end == std::string::npos ? output_.size() : end) - begin);
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      if (line.find(contains) != std::string_view::npos) return std::string(line);
      if (end == std::string::npos) break;
      begin = end + 1;
    }
    if (output_ended_) {
      return absl::FailedPreconditionError(
          absl::StrCat("output of pid ", pid_, " ended without a line containing '",
                       std::string(contains), "'; output:\n", output_));
    }
    if (output_changed_.wait_until(lock, deadline) == std::cv_status::timeout &&
        std::chrono::steady_clock::now() >= deadline) {
      return absl::DeadlineExceededError(absl::StrCat("no line containing '", std::string(contains),
                                                      "' within ", timeout.count(), " ms from pid ",
                                                      pid_, "; output:\n", output_));
    }
  }
}

bool Subprocess::TryReap() {
  if (exit_code_.has_value()) return true;
  siginfo_t info{};
  // WNOWAIT leaves the leader a zombie, so its pid (the group id) cannot be reused while the
  // group's stragglers are killed.
  if (waitid(P_PID, pid_, &info, WEXITED | WNOHANG | WNOWAIT) != 0 || info.si_pid != pid_) {
    return false;
  }
  kill(-pid_, SIGKILL);
  int status = 0;
  while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  exit_code_ = ExitCodeOf(status);
  return true;
}

bool Subprocess::Running() {
  return !TryReap();
}

absl::StatusOr<int> Subprocess::Wait(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!TryReap()) {
    if (std::chrono::steady_clock::now() >= deadline) {
      return absl::DeadlineExceededError(
          absl::StrCat("pid ", pid_, " still running after ", timeout.count(), " ms"));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return *exit_code_;
}

absl::StatusOr<int> Subprocess::Terminate(std::chrono::milliseconds grace) {
  if (TryReap()) return *exit_code_;
  kill(-pid_, SIGTERM);
  const auto deadline = std::chrono::steady_clock::now() + grace;
  while (std::chrono::steady_clock::now() < deadline) {
    if (TryReap()) return *exit_code_;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  kill(-pid_, SIGKILL);
  while (!TryReap()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  return *exit_code_;
}

}  // namespace leadrouter::testing
