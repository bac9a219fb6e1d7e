#include "leadrouter/kafka/mock_cluster.h"

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <spdlog/spdlog.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "rdkafka_util.h"

namespace leadrouter::kafka {
namespace {

struct MockClusterDeleter {
  void operator()(rd_kafka_mock_cluster_t* cluster) const {
    rd_kafka_mock_cluster_destroy(cluster);
  }
};

}  // namespace

struct MockCluster::Impl {
  // The mock cluster needs a client handle for its bookkeeping. Member order matters: the
  // cluster is destroyed before the handle it was created on.
  internal::KafkaHandle owner;
  std::unique_ptr<rd_kafka_mock_cluster_t, MockClusterDeleter> cluster;
  std::string bootstrap_servers;
  int broker_count = 0;
};

MockCluster::MockCluster(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

MockCluster::~MockCluster() = default;

int MockCluster::broker_count() const {
  return impl_->broker_count;
}

absl::Status MockCluster::SetBrokersDown(bool down) {
  for (int32_t id = 1; id <= impl_->broker_count; ++id) {
    const rd_kafka_resp_err_t err = down ? rd_kafka_mock_broker_set_down(impl_->cluster.get(), id)
                                         : rd_kafka_mock_broker_set_up(impl_->cluster.get(), id);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return absl::InternalError(
          absl::StrCat("mock broker ", id, down ? " down: " : " up: ", rd_kafka_err2str(err)));
    }
  }
  return absl::OkStatus();
}

void MockCluster::RefuseNextProduceAsTooLarge() {
  constexpr int16_t kProduceApiKey = 0;
  rd_kafka_mock_push_request_errors(impl_->cluster.get(), kProduceApiKey, 1,
                                    RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE);
}

absl::StatusOr<std::unique_ptr<MockCluster>> MockCluster::Create(int broker_count) {
  if (broker_count < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("mock kafka: broker_count must be >= 1, got ", broker_count));
  }
  internal::ConfHandle conf = internal::NewConf();
  // The owner handle never talks to a broker: name it, and silence its (info-level) warning that
  // no bootstrap.servers is configured.
  if (absl::Status s = internal::SetProperties(
          conf.get(), {{"client.id", "leadrouter-mock-owner"}, {"log_level", "4"}});
      !s.ok()) {
    return s;
  }
  absl::StatusOr<internal::KafkaHandle> owner =
      internal::NewClient(RD_KAFKA_PRODUCER, std::move(conf));
  if (!owner.ok()) return owner.status();

  auto impl = std::make_unique<Impl>();
  impl->owner = *std::move(owner);
  impl->cluster.reset(rd_kafka_mock_cluster_new(impl->owner.get(), broker_count));
  if (impl->cluster == nullptr) {
    return absl::InternalError("mock kafka: rd_kafka_mock_cluster_new failed");
  }
  impl->bootstrap_servers = rd_kafka_mock_cluster_bootstraps(impl->cluster.get());
  impl->broker_count = broker_count;
  spdlog::info("mock kafka: {} broker(s) at {}", broker_count, impl->bootstrap_servers);
  return std::unique_ptr<MockCluster>(new MockCluster(std::move(impl)));
}

const std::string& MockCluster::bootstrap_servers() const {
  return impl_->bootstrap_servers;
}

absl::Status MockCluster::CreateTopic(const std::string& name, int partitions) {
  if (name.empty() || partitions < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("mock kafka: bad topic '", name, "' with ", partitions, " partitions"));
  }
  const rd_kafka_resp_err_t err =
      rd_kafka_mock_topic_create(impl_->cluster.get(), name.c_str(), partitions,
                                 /*replication_factor=*/1);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return absl::InternalError(
        absl::StrCat("mock kafka: create topic '", name, "': ", rd_kafka_err2str(err)));
  }
  return absl::OkStatus();
}

}  // namespace leadrouter::kafka
