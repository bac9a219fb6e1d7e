#pragma once

// Private helpers shared by the librdkafka wrappers: RAII handles, configuration, logging.

#include <librdkafka/rdkafka.h>

#include <map>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace leadrouter::kafka::internal {

struct KafkaHandleDeleter {
  void operator()(rd_kafka_t* handle) const { rd_kafka_destroy(handle); }
};
struct ConfDeleter {
  void operator()(rd_kafka_conf_t* conf) const { rd_kafka_conf_destroy(conf); }
};
struct PartitionListDeleter {
  void operator()(rd_kafka_topic_partition_list_t* list) const {
    rd_kafka_topic_partition_list_destroy(list);
  }
};
struct MessageDeleter {
  void operator()(rd_kafka_message_t* message) const { rd_kafka_message_destroy(message); }
};
struct HeadersDeleter {
  void operator()(rd_kafka_headers_t* headers) const { rd_kafka_headers_destroy(headers); }
};

using KafkaHandle = std::unique_ptr<rd_kafka_t, KafkaHandleDeleter>;
using ConfHandle = std::unique_ptr<rd_kafka_conf_t, ConfDeleter>;
using PartitionList = std::unique_ptr<rd_kafka_topic_partition_list_t, PartitionListDeleter>;
using MessageHandle = std::unique_ptr<rd_kafka_message_t, MessageDeleter>;
using HeadersHandle = std::unique_ptr<rd_kafka_headers_t, HeadersDeleter>;

// A fresh configuration whose librdkafka log lines go to spdlog.
ConfHandle NewConf();

// Sets one property; InvalidArgument naming the property and librdkafka's reason on rejection.
absl::Status SetProperty(rd_kafka_conf_t* conf, const std::string& name, const std::string& value);
absl::Status SetProperties(rd_kafka_conf_t* conf, const std::map<std::string, std::string>& props);

// Creates the client; takes ownership of `conf` whether or not it succeeds.
absl::StatusOr<KafkaHandle> NewClient(rd_kafka_type_t type, ConfHandle conf);

// If the client hit a fatal error (it is then unusable), a non-OK status describing it.
absl::Status FatalErrorStatus(rd_kafka_t* handle);

// "topic[partition, partition, ...]" lines for logging an assignment.
std::string DescribePartitions(const rd_kafka_topic_partition_list_t* partitions);

}  // namespace leadrouter::kafka::internal
