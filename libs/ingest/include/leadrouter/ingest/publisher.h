#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "leadrouter/kafka/message.h"
#include "leadrouter/kafka/producer.h"

namespace leadrouter::ingest {

// Publishes the records of concurrent HTTP requests through one kafka::Producer, the records
// of every request waiting at the time in one ProduceAndWait (a group commit): the producer
// serialises its calls, so one call per request would let each request wait out the previous
// one's acknowledgement. A request's Publish returns only when Kafka has acknowledged all of its
// records (acks=all on the idempotent producer) or when that has failed.
//
// Thread-safety: Publish may be called from any number of threads. The destructor stops the
// publishing thread; calls still waiting return Cancelled.
class GroupPublisher {
 public:
  struct Result {
    // OK: every record of the call not listed in `refused` was acknowledged. Otherwise nothing
    // is known of them (some may be in Kafka: at least once, the sender retries).
    absl::Status status;
    // Records Kafka will never take as they are (kafka::RefusedMessage; indexes into this call's
    // records).
    std::vector<kafka::RefusedMessage> refused;
  };

  // At most `max_group_records` records go into one ProduceAndWait (a request bigger than that
  // goes alone).
  explicit GroupPublisher(kafka::Producer& producer, size_t max_group_records = 10000);
  GroupPublisher(const GroupPublisher&) = delete;
  GroupPublisher& operator=(const GroupPublisher&) = delete;
  ~GroupPublisher();

  // Blocks until the records are acknowledged, refused or failed, or `deadline` has passed
  // (DeadlineExceeded). A group is given the earliest deadline among its calls.
  Result Publish(std::vector<kafka::OutgoingMessage> records,
                 std::chrono::steady_clock::time_point deadline);

  // Records waiting for a group (a gauge of backpressure).
  size_t waiting_records() const;

 private:
  struct Call {
    std::vector<kafka::OutgoingMessage> records;
    std::chrono::steady_clock::time_point deadline;
    bool done = false;
    Result result;
  };
  void Run();

  kafka::Producer& producer_;
  const size_t max_group_records_;
  mutable std::mutex mu_;
  std::condition_variable work_;
  std::condition_variable done_;
  std::deque<Call*> waiting_;
  size_t waiting_records_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace leadrouter::ingest
