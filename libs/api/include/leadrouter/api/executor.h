#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace leadrouter::api {

// A fixed pool of threads for the work gRPC callbacks must not do themselves: the callback API
// runs reactions on a small shared pool, so a Redis round trip or a Kafka produce inside one
// would stall every other call. Handlers submit the work here and finish their reactor from it.
// Thread-safe. The destructor runs what is queued, then joins.
class Executor {
 public:
  explicit Executor(size_t threads);
  ~Executor();
  Executor(const Executor&) = delete;
  Executor& operator=(const Executor&) = delete;

  void Submit(std::function<void()> task);

 private:
  void Work();

  std::mutex mu_;
  std::condition_variable ready_;
  std::deque<std::function<void()>> queue_;  // guarded by mu_
  bool stopping_ = false;                    // guarded by mu_
  std::vector<std::thread> threads_;
};

}  // namespace leadrouter::api
