#pragma once

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace leadrouter::kafka {

// librdkafka's embedded Kafka (rdkafka_mock.h): real Kafka-protocol brokers listening over TCP on
// 127.0.0.1 with kernel-chosen ports, reachable by any client (kcat included). For tests and the
// demo only: data lives in memory (at most ~5 MiB per partition; older data is dropped silently),
// there is no SASL/SSL and no Admin API, and a group waits session.timeout.ms - 1 s after a member
// leaves before rebalancing.
//
// Thread-safety: thread-safe after Create. The brokers run on librdkafka's own threads until the
// object is destroyed.
class MockCluster {
 public:
  static absl::StatusOr<std::unique_ptr<MockCluster>> Create(int broker_count = 1);

  MockCluster(const MockCluster&) = delete;
  MockCluster& operator=(const MockCluster&) = delete;
  ~MockCluster();

  int broker_count() const;

  // "127.0.0.1:port,..." for bootstrap.servers.
  const std::string& bootstrap_servers() const;

  // Creates `name` with `partitions` partitions (replication factor 1).
  absl::Status CreateTopic(const std::string& name, int partitions);

  // Takes every broker down (connections are closed and refused, as in an outage) or brings
  // them back up. For fault tests.
  absl::Status SetBrokersDown(bool down);

  // The next Produce request any client sends is answered MSG_SIZE_TOO_LARGE (as a broker whose
  // message.max.bytes is below the producer's answers it), a permanent error. For fault tests.
  void RefuseNextProduceAsTooLarge();

 private:
  struct Impl;
  explicit MockCluster(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace leadrouter::kafka
