#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "leadrouter/kafka/message.h"

namespace leadrouter::kafka {

struct ProducerOptions {
  std::string bootstrap_servers{};
  // Any librdkafka property, applied last (SASL/SSL, linger.ms, compression.type, ...).
  std::map<std::string, std::string> extra{};
};

// A message Kafka will never accept as it is, so retrying it cannot help: larger than the
// producer's message.max.bytes or the broker's / topic's limit, a record the broker calls
// invalid, or an invalid topic name. Transient failures (brokers down, timeouts, authorization,
// unknown topic) are never reported this way: they fail the whole call.
struct RefusedMessage {
  size_t index = 0;      // into the messages given to ProduceAndWait
  std::string reason{};  // "too_large", "invalid_record" or "invalid_topic" (a metric label)
  std::string error{};   // librdkafka's error text
};

// A batch-and-wait producer, so a caller can commit its input offsets only after its outputs are
// durable: the interface the pipeline publishes through. Create() builds the librdkafka
// implementation, an idempotent producer (enable.idempotence=true, acks=all); tests use
// leadrouter::testing::FakeProducer.
//
// Thread-safety: thread-safe. Concurrent ProduceAndWait calls are serialized internally (each
// waits for the previous one to finish).
class Producer {
 public:
  // A property librdkafka rejects yields InvalidArgument naming the property.
  static absl::StatusOr<std::unique_ptr<Producer>> Create(const ProducerOptions& options);

  Producer() = default;
  Producer(const Producer&) = delete;
  Producer& operator=(const Producer&) = delete;
  // The librdkafka implementation flushes outstanding messages for up to 5 s, then drops what is
  // left.
  virtual ~Producer() = default;

  // Enqueues every message (when the local queue is full it serves delivery reports and retries
  // until the deadline), then waits until each one has a delivery report.
  // OK only if all were acknowledged by the broker before `timeout`. Otherwise the error names the
  // first failure (topic and the client's error string), or says how many were unacknowledged
  // (DeadlineExceeded). Messages may have been delivered even on error: at-least-once, the caller
  // retries the whole batch. The messages of one call reach each partition in their order.
  // With `refused`, a message refused for a permanent reason (see RefusedMessage) is listed there
  // instead of failing the call: OK then means every other message was acknowledged.
  // With `cancel`, the call gives up within about 100 ms of it becoming true (Cancelled; nothing
  // is known of the unacknowledged messages, as after a time-out), so a shutdown never waits out
  // `timeout`. (Implementations take the defaults from here: callers go through this interface.)
  virtual absl::Status ProduceAndWait(const std::vector<OutgoingMessage>& messages,
                                      std::chrono::milliseconds timeout,
                                      std::vector<RefusedMessage>* refused = nullptr,
                                      const std::atomic<bool>* cancel = nullptr) = 0;

  // Fetches `topic`'s metadata (connecting to a broker if needed), so that the first message to
  // it is not held until the client learns the topic's partitions (about a second). For callers
  // that time their first messages, such as a load generator, and for the readiness probe.
  // NotFound when the broker does not know the topic; Unavailable when it cannot be reached
  // before `timeout`.
  virtual absl::Status WarmUp(const std::string& topic, std::chrono::milliseconds timeout) = 0;
};

}  // namespace leadrouter::kafka
