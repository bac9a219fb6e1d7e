#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "leadrouter/config/reloader.h"
#include "leadrouter/kafka/producer.h"
#include "leadrouter/metrics/metrics.h"
#include "leadrouter/store/outbox_store.h"

namespace leadrouter::pipeline {

// Publishes the shared assignment log (every AssignmentEvent any instance committed, in commit
// order) to kafka.topics.assignments: the topic's only source of new messages, so it is complete
// even when Kafka was down when a transition was made.
//
// Guarantees: every log entry reaches the topic at least once, as AssignmentMessage (key lead_id,
// its own message_id), and a lead's messages reach its partition in log order (one forwarder,
// one idempotent producer, batches in order; a batch Kafka did not acknowledge is published
// again before anything after it). The durable position moves only after Kafka acknowledged
// every message up to it; a crash or a lost lease publishes at most the unacknowledged batch
// again (consumers dedupe on message_id).
//
// With several instances exactly one forwards: the holder of the lease in Redis
// (store::OutboxStore, fenced by its epoch). A second thread renews the lease every third of
// outbox.lease; when it is lost (not renewed in time, or taken) the publication in progress is
// cancelled and the position is not moved. An instance that stops releases the lease, so another
// takes over at once; one that dies is replaced within outbox.lease.
//
// A message Kafka refuses for good (too large) is counted as undeliverable (kind "assignment")
// and skipped: it stays in the log, readable by StreamAssignments and ExplainLead.
//
// Thread-compatible: Run() on one thread. `producer` should be the forwarder's own (so its
// order is not interleaved with other publishers); the stores are used only by this forwarder
// (one for the forwarding thread, one for the renewing thread).
// "<hostname>:<pid>": this process, as a lease holder (in logs and in the lease's value).
std::string OutboxHolderName();

class OutboxForwarder {
 public:
  OutboxForwarder(const config::ConfigReloader& configs, std::unique_ptr<store::OutboxStore> store,
                  std::unique_ptr<store::OutboxStore> lease_keeper, kafka::Producer& producer,
                  metrics::PipelineMetrics& metrics, std::string holder);
  ~OutboxForwarder();

  // Forwards until `stop` is set, then releases the lease. Redis and Kafka failures are retried
  // with capped backoff (counted in leadrouter_outbox_failures_total), never returned.
  void Run(const std::atomic<bool>& stop);

 private:
  // One round while holding the lease: read what follows the position, publish it, advance.
  // Returns false when there was nothing to forward.
  bool ForwardRound(const std::atomic<bool>& stop);
  void KeepLease(const std::atomic<bool>& stop);
  void DropLease(const char* why);
  // Sleeps up to `d`, returning early when `stop` is set.
  void Pause(std::chrono::milliseconds d, const std::atomic<bool>& stop);

  const config::ConfigReloader& configs_;
  std::unique_ptr<store::OutboxStore> store_;
  std::unique_ptr<store::OutboxStore> lease_keeper_;
  kafka::Producer& producer_;
  metrics::PipelineMetrics& metrics_;
  const std::string holder_;
  const std::chrono::milliseconds lease_ttl_;

  std::mutex mu_;  // guards lease_ and last_renewed_
  std::optional<store::OutboxStore::Lease> lease_;
  std::chrono::steady_clock::time_point last_renewed_{};
  std::atomic<bool> holding_{false};
  // Set to cancel a publication in progress: the lease was lost, or the forwarder stops.
  std::atomic<bool> cancel_{false};
  // The position this holder forwards from (forwarding thread only); reloaded after a new lease
  // or an advance whose outcome is unknown.
  std::optional<std::string> after_id_;
};

}  // namespace leadrouter::pipeline
