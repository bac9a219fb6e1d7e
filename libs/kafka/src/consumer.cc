#include "leadrouter/kafka/consumer.h"

#include <librdkafka/rdkafka.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "rdkafka_util.h"

namespace leadrouter::kafka {
namespace {

using internal::KafkaHandle;
using internal::MessageHandle;
using internal::PartitionList;

void LogRebalanceError(const char* action, rd_kafka_error_t* error) {
  if (error == nullptr) return;
  spdlog::error("kafka consumer: {} failed: {}", action, rd_kafka_error_string(error));
  rd_kafka_error_destroy(error);
}

void LogRebalanceError(const char* action, rd_kafka_resp_err_t err) {
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return;
  spdlog::error("kafka consumer: {} failed: {}", action, rd_kafka_err2str(err));
}

// Runs inside rd_kafka_consumer_poll() on the polling thread. Without this callback librdkafka
// would assign on its own, but we want the assignment logged and both protocols handled: the
// cooperative assignor requires incremental (un)assign, the eager ones a full (un)assign.
void OnRebalance(rd_kafka_t* handle, rd_kafka_resp_err_t err,
                 rd_kafka_topic_partition_list_t* partitions, void* opaque) {
  const bool paused = opaque != nullptr && *static_cast<const bool*>(opaque);
  const bool cooperative = std::strcmp(rd_kafka_rebalance_protocol(handle), "COOPERATIVE") == 0;
  const std::string described = internal::DescribePartitions(partitions);
  switch (err) {
    case RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS:
      spdlog::info("kafka consumer {}: assigned {} ({} rebalance)", rd_kafka_name(handle),
                   described, cooperative ? "cooperative" : "eager");
      if (cooperative) {
        LogRebalanceError("incremental assign", rd_kafka_incremental_assign(handle, partitions));
      } else {
        LogRebalanceError("assign", rd_kafka_assign(handle, partitions));
      }
      // Partitions that arrive while the pipeline holds back are paused with the rest. Nothing
      // is resumed here: the revoke below already cleared the pause flag of every partition it
      // took away (librdkafka keeps that flag across unassign/assign), and a resume racing the
      // assignment's fetch start can leave a partition assigned but never fetched (librdkafka
      // issue 5591; our suspect for a silent stall once seen after a broker outage).
      if (paused) LogRebalanceError("pause", rd_kafka_pause_partitions(handle, partitions));
      return;
    case RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS:
      spdlog::info("kafka consumer {}: revoked {} ({} rebalance)", rd_kafka_name(handle), described,
                   cooperative ? "cooperative" : "eager");
      // Clear the pause flag while the partitions are still ours, so none comes back paused
      // after a resume it missed.
      if (paused) LogRebalanceError("resume", rd_kafka_resume_partitions(handle, partitions));
      if (cooperative) {
        LogRebalanceError("incremental unassign",
                          rd_kafka_incremental_unassign(handle, partitions));
      } else {
        LogRebalanceError("unassign", rd_kafka_assign(handle, nullptr));
      }
      return;
    default:
      spdlog::error("kafka consumer {}: rebalance error {}; dropping assignment",
                    rd_kafka_name(handle), rd_kafka_err2str(err));
      if (paused) LogRebalanceError("resume", rd_kafka_resume_partitions(handle, partitions));
      LogRebalanceError("unassign", rd_kafka_assign(handle, nullptr));
      return;
  }
}

// Errors that are not tied to a message (broker down, resolve failures, ...). librdkafka keeps
// retrying on its own; fatal ones are picked up by FatalErrorStatus after each poll.
void OnError(rd_kafka_t* handle, int err, const char* reason, void* /*opaque*/) {
  spdlog::warn("kafka consumer {}: {} ({})", rd_kafka_name(handle), reason,
               rd_kafka_err2name(static_cast<rd_kafka_resp_err_t>(err)));
}

ConsumedMessage CopyOut(const rd_kafka_message_t& message) {
  ConsumedMessage out;
  out.topic = rd_kafka_topic_name(message.rkt);
  out.partition = message.partition;
  out.offset = message.offset;
  if (message.key != nullptr)
    out.key.assign(static_cast<const char*>(message.key), message.key_len);
  if (message.payload != nullptr) {
    out.value.assign(static_cast<const char*>(message.payload), message.len);
  }
  rd_kafka_timestamp_type_t timestamp_type = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE;
  const int64_t timestamp = rd_kafka_message_timestamp(&message, &timestamp_type);
  out.timestamp_ms = timestamp_type == RD_KAFKA_TIMESTAMP_NOT_AVAILABLE ? 0 : timestamp;

  rd_kafka_headers_t* headers = nullptr;  // owned by the message
  if (rd_kafka_message_headers(&message, &headers) == RD_KAFKA_RESP_ERR_NO_ERROR) {
    const char* name = nullptr;
    const void* value = nullptr;
    size_t size = 0;
    for (size_t i = 0;
         rd_kafka_header_get_all(headers, i, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR;
         ++i) {
      Header& header = out.headers.emplace_back();
      header.name = name;
      if (value != nullptr) header.value.assign(static_cast<const char*>(value), size);
    }
  }
  return out;
}

}  // namespace

struct Consumer::Impl {
  KafkaHandle handle;
  bool closed = false;
  // Read by OnRebalance, which runs inside rd_kafka_consumer_poll on the polling thread.
  bool paused = false;

  // Pauses or resumes the current assignment.
  absl::Status SetPaused(bool pause) {
    rd_kafka_topic_partition_list_t* raw = nullptr;
    if (rd_kafka_resp_err_t err = rd_kafka_assignment(handle.get(), &raw);
        err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return absl::UnavailableError(absl::StrCat("kafka assignment: ", rd_kafka_err2str(err)));
    }
    PartitionList assignment(raw);
    const rd_kafka_resp_err_t err = pause ? rd_kafka_pause_partitions(handle.get(), raw)
                                          : rd_kafka_resume_partitions(handle.get(), raw);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return absl::UnavailableError(
          absl::StrCat(pause ? "kafka pause: " : "kafka resume: ", rd_kafka_err2str(err)));
    }
    paused = pause;
    spdlog::info("kafka consumer {}: {} {}", rd_kafka_name(handle.get()),
                 pause ? "paused" : "resumed", internal::DescribePartitions(raw));
    return absl::OkStatus();
  }

  void Close() {
    if (closed) return;
    closed = true;
    // Leaves the group (the revoke runs through OnRebalance) so partitions move at once instead
    // of after session.timeout.ms. Nothing is committed here: auto-commit is off.
    rd_kafka_resp_err_t err = rd_kafka_consumer_close(handle.get());
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      spdlog::warn("kafka consumer {}: close: {}", rd_kafka_name(handle.get()),
                   rd_kafka_err2str(err));
    } else {
      spdlog::info("kafka consumer {}: closed", rd_kafka_name(handle.get()));
    }
  }

  ~Impl() { Close(); }
};

Consumer::Consumer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Consumer::~Consumer() = default;

absl::StatusOr<std::unique_ptr<Consumer>> Consumer::Create(const ConsumerOptions& options) {
  if (options.group_id.empty()) return absl::InvalidArgumentError("kafka consumer: empty group_id");
  if (options.topics.empty()) return absl::InvalidArgumentError("kafka consumer: no topics");

  internal::ConfHandle conf = internal::NewConf();
  const std::map<std::string, std::string> defaults = {
      {"bootstrap.servers", options.bootstrap_servers},
      {"group.id", options.group_id},
      {"enable.auto.commit", "false"},
      {"enable.auto.offset.store", "false"},
      {"auto.offset.reset", "earliest"},
      {"enable.partition.eof", "false"},
      // Incremental rebalancing: a member joining or leaving moves only the partitions that
      // change hands; the others keep flowing (and keep their in-flight batch).
      {"partition.assignment.strategy", "cooperative-sticky"},
      // As Kafka's own clients do (offset commits and fetches are small requests).
      {"socket.nagle.disable", "true"},
      // Prefetch at most 16 MiB instead of librdkafka's 64 MiB: a batch is at most
      // batch_max_messages events, and the prefetch queue was most of the daemon's peak RSS
      // while draining a backlog (159 -> 94 MB with 100,000 leads waiting).
      {"queued.max.messages.kbytes", "16384"},
  };
  if (absl::Status s = internal::SetProperties(conf.get(), defaults); !s.ok()) return s;
  if (absl::Status s = internal::SetProperties(conf.get(), options.extra); !s.ok()) return s;
  auto impl = std::make_unique<Impl>();
  // The rebalance callback reads the paused flag; Impl outlives the handle it owns.
  rd_kafka_conf_set_opaque(conf.get(), &impl->paused);
  rd_kafka_conf_set_rebalance_cb(conf.get(), &OnRebalance);
  rd_kafka_conf_set_error_cb(conf.get(), &OnError);

  absl::StatusOr<KafkaHandle> handle = internal::NewClient(RD_KAFKA_CONSUMER, std::move(conf));
  if (!handle.ok()) return handle.status();
  impl->handle = *std::move(handle);
  rd_kafka_t* rk = impl->handle.get();
  // One queue for messages, errors and rebalances, served by rd_kafka_consumer_poll().
  rd_kafka_poll_set_consumer(rk);

  PartitionList topics(rd_kafka_topic_partition_list_new(static_cast<int>(options.topics.size())));
  for (const std::string& topic : options.topics) {
    rd_kafka_topic_partition_list_add(topics.get(), topic.c_str(), RD_KAFKA_PARTITION_UA);
  }
  if (rd_kafka_resp_err_t err = rd_kafka_subscribe(rk, topics.get());
      err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    impl->closed = true;  // never joined; nothing to leave
    return absl::InvalidArgumentError(absl::StrCat("kafka consumer: subscribe to ",
                                                   absl::StrJoin(options.topics, ","), ": ",
                                                   rd_kafka_err2str(err)));
  }
  spdlog::info("kafka consumer {}: group '{}' subscribed to {}", rd_kafka_name(rk),
               options.group_id, absl::StrJoin(options.topics, ","));
  return std::unique_ptr<Consumer>(new Consumer(std::move(impl)));
}

absl::StatusOr<std::vector<ConsumedMessage>> Consumer::PollBatch(size_t max_messages,
                                                                 std::chrono::milliseconds max_wait,
                                                                 std::chrono::milliseconds linger) {
  if (impl_->closed) return absl::FailedPreconditionError("kafka consumer: closed");
  rd_kafka_t* rk = impl_->handle.get();
  auto deadline = std::chrono::steady_clock::now() + max_wait;
  std::vector<ConsumedMessage> batch;
  while (batch.size() < max_messages) {
    // Rounded up: librdkafka's poll can wake a little early, and truncating would return before
    // max_wait. When the wait is over this polls without blocking, which still drains records
    // already buffered (and lets max_wait=0 return what is at hand).
    const auto remaining =
        std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    const int timeout_ms = static_cast<int>(std::max<int64_t>(0, remaining.count()));
    MessageHandle message(rd_kafka_consumer_poll(rk, timeout_ms));
    if (message != nullptr) {
      if (message->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        if (batch.empty()) deadline = std::min(deadline, std::chrono::steady_clock::now() + linger);
        batch.push_back(CopyOut(*message));
      } else if (message->err == RD_KAFKA_RESP_ERR__FATAL) {
        return internal::FatalErrorStatus(rk);
      } else if (message->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        spdlog::warn("kafka consumer {}: {} [{}]: {}", rd_kafka_name(rk),
                     message->rkt != nullptr ? rd_kafka_topic_name(message->rkt) : "-",
                     message->partition, rd_kafka_message_errstr(message.get()));
      }
    }
    if (absl::Status fatal = internal::FatalErrorStatus(rk); !fatal.ok()) return fatal;
    if (message == nullptr && std::chrono::steady_clock::now() >= deadline) break;
  }
  return batch;
}

absl::Status Consumer::Commit(const std::vector<ConsumedMessage>& processed) {
  if (impl_->closed) return absl::FailedPreconditionError("kafka consumer: closed");
  if (processed.empty()) return absl::OkStatus();
  std::map<std::pair<std::string, int32_t>, int64_t> highest;
  for (const ConsumedMessage& message : processed) {
    auto [it, inserted] = highest.try_emplace({message.topic, message.partition}, message.offset);
    if (!inserted) it->second = std::max(it->second, message.offset);
  }
  PartitionList offsets(rd_kafka_topic_partition_list_new(static_cast<int>(highest.size())));
  for (const auto& [topic_partition, offset] : highest) {
    // Kafka's committed offset is the next record to read, hence + 1.
    rd_kafka_topic_partition_list_add(offsets.get(), topic_partition.first.c_str(),
                                      topic_partition.second)
        ->offset = offset + 1;
  }
  rd_kafka_t* rk = impl_->handle.get();
  const rd_kafka_resp_err_t err = rd_kafka_commit(rk, offsets.get(), /*async=*/0);
  // The per-partition results say which partition failed; report the first.
  for (int i = 0; i < offsets->cnt; ++i) {
    const rd_kafka_topic_partition_t& tp = offsets->elems[i];
    if (tp.err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return absl::UnavailableError(absl::StrCat("kafka commit ", tp.topic, "[", tp.partition, "]@",
                                                 tp.offset, ": ", rd_kafka_err2str(tp.err)));
    }
  }
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return absl::UnavailableError(absl::StrCat("kafka commit: ", rd_kafka_err2str(err)));
  }
  return absl::OkStatus();
}

absl::Status Consumer::Pause() {
  if (impl_->closed) return absl::FailedPreconditionError("kafka consumer: closed");
  return impl_->paused ? absl::OkStatus() : impl_->SetPaused(true);
}

absl::Status Consumer::Resume() {
  if (impl_->closed) return absl::FailedPreconditionError("kafka consumer: closed");
  return impl_->paused ? impl_->SetPaused(false) : absl::OkStatus();
}

bool Consumer::paused() const {
  return impl_->paused;
}

absl::StatusOr<std::vector<PartitionLag>> Consumer::Lag() const {
  if (impl_->closed) return absl::FailedPreconditionError("kafka consumer: closed");
  rd_kafka_t* rk = impl_->handle.get();
  rd_kafka_topic_partition_list_t* raw = nullptr;
  if (rd_kafka_resp_err_t err = rd_kafka_assignment(rk, &raw); err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return absl::UnavailableError(absl::StrCat("kafka assignment: ", rd_kafka_err2str(err)));
  }
  PartitionList assignment(raw);
  // Fills each element's offset with the application's position (last handed out + 1), or
  // RD_KAFKA_OFFSET_INVALID; per-partition errors only for partitions it does not know.
  rd_kafka_position(rk, raw);
  std::vector<PartitionLag> lags;
  lags.reserve(static_cast<size_t>(raw->cnt));
  for (int i = 0; i < raw->cnt; ++i) {
    const rd_kafka_topic_partition_t& tp = raw->elems[i];
    PartitionLag& lag = lags.emplace_back();
    lag.topic = tp.topic;
    lag.partition = tp.partition;
    int64_t low = RD_KAFKA_OFFSET_INVALID, high = RD_KAFKA_OFFSET_INVALID;
    if (rd_kafka_get_watermark_offsets(rk, tp.topic, tp.partition, &low, &high) !=
            RD_KAFKA_RESP_ERR_NO_ERROR ||
        high < 0) {
      continue;
    }
    if (tp.err == RD_KAFKA_RESP_ERR_NO_ERROR && tp.offset >= 0) {
      lag.messages = std::max<int64_t>(0, high - tp.offset);
    } else if (low >= 0 && low == high) {
      lag.messages = 0;
    }
  }
  return lags;
}

void Consumer::Close() {
  impl_->Close();
}

}  // namespace leadrouter::kafka
