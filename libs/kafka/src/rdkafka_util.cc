#include "rdkafka_util.h"

#include <spdlog/spdlog.h>

#include <array>

#include "absl/strings/str_cat.h"

namespace leadrouter::kafka::internal {
namespace {

// librdkafka calls this from its own threads; spdlog's default logger is thread-safe.
void LogToSpdlog(const rd_kafka_t* handle, int syslog_level, const char* facility,
                 const char* text) {
  const char* client = handle != nullptr ? rd_kafka_name(handle) : "rdkafka";
  spdlog::level::level_enum level = spdlog::level::debug;
  if (syslog_level <= 3) {
    level = spdlog::level::err;
  } else if (syslog_level == 4) {
    level = spdlog::level::warn;
  } else if (syslog_level <= 6) {
    level = spdlog::level::info;
  }
  spdlog::log(level, "[{}] {}: {}", client, facility, text);
}

}  // namespace

ConfHandle NewConf() {
  ConfHandle conf(rd_kafka_conf_new());
  rd_kafka_conf_set_log_cb(conf.get(), &LogToSpdlog);
  return conf;
}

absl::Status SetProperty(rd_kafka_conf_t* conf, const std::string& name, const std::string& value) {
  std::array<char, 512> reason{};
  if (rd_kafka_conf_set(conf, name.c_str(), value.c_str(), reason.data(), reason.size()) !=
      RD_KAFKA_CONF_OK) {
    return absl::InvalidArgumentError(absl::StrCat("kafka property '", name, "': ", reason.data()));
  }
  return absl::OkStatus();
}

absl::Status SetProperties(rd_kafka_conf_t* conf, const std::map<std::string, std::string>& props) {
  for (const auto& [name, value] : props) {
    if (absl::Status status = SetProperty(conf, name, value); !status.ok()) return status;
  }
  return absl::OkStatus();
}

absl::StatusOr<KafkaHandle> NewClient(rd_kafka_type_t type, ConfHandle conf) {
  std::array<char, 512> reason{};
  // rd_kafka_new takes ownership of the configuration only on success.
  rd_kafka_t* handle = rd_kafka_new(type, conf.get(), reason.data(), reason.size());
  if (handle == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat("kafka client: ", reason.data()));
  }
  conf.release();
  return KafkaHandle(handle);
}

absl::Status FatalErrorStatus(rd_kafka_t* handle) {
  std::array<char, 512> reason{};
  rd_kafka_resp_err_t err = rd_kafka_fatal_error(handle, reason.data(), reason.size());
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return absl::OkStatus();
  return absl::InternalError(
      absl::StrCat("kafka fatal error (", rd_kafka_err2name(err), "): ", reason.data()));
}

std::string DescribePartitions(const rd_kafka_topic_partition_list_t* partitions) {
  std::string text;
  for (int i = 0; i < partitions->cnt; ++i) {
    const rd_kafka_topic_partition_t& tp = partitions->elems[i];
    absl::StrAppend(&text, i == 0 ? "" : " ", tp.topic, "[", tp.partition, "]");
  }
  return text.empty() ? "(none)" : text;
}

}  // namespace leadrouter::kafka::internal
