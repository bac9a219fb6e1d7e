#include "leadrouter/kafka/consumer.h"

#include <librdkafka/rdkafka.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstring>
#include <functional>
#include <future>
#include <mutex>
#include <set>
#include <thread>
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

// What the callbacks below share with the consumer; they run inside rd_kafka_consumer_poll()
// (or the close loop) on the polling thread, so no locking is needed.
struct CallbackState {
  bool paused = false;
  // Whether any assignment arrived. librdkafka 2.0.2's cooperative-sticky assignor keeps its
  // state only from the first assignment on, and rd_kafka_destroy() of a consumer that joined
  // but never got one asserts on the missing state (librdkafka issue 4312, fixed in 2.3.0).
  bool ever_assigned = false;
  std::function<void(const absl::Status&)> on_commit;
  // Partitions revoked or lost since Consumer::TakeRevoked last took them (at most every
  // partition once, however long nobody takes them).
  std::set<TopicPartition> revoked;
  // Those revoked or lost during the current rd_kafka_consumer_poll() call of PollBatch.
  std::vector<TopicPartition> revoked_in_poll;
};

void NoteRevoked(CallbackState& state, const rd_kafka_topic_partition_list_t* partitions) {
  for (int i = 0; partitions != nullptr && i < partitions->cnt; ++i) {
    TopicPartition tp{partitions->elems[i].topic, partitions->elems[i].partition};
    state.revoked_in_poll.push_back(tp);
    state.revoked.insert(std::move(tp));
  }
}

// Runs inside rd_kafka_consumer_poll() on the polling thread. Without this callback librdkafka
// would assign on its own, but we want the assignment logged and both protocols handled: the
// cooperative assignor requires incremental (un)assign, the eager ones a full (un)assign.
void OnRebalance(rd_kafka_t* handle, rd_kafka_resp_err_t err,
                 rd_kafka_topic_partition_list_t* partitions, void* opaque) {
  auto* state = static_cast<CallbackState*>(opaque);
  const bool paused = state->paused;
  const bool cooperative = std::strcmp(rd_kafka_rebalance_protocol(handle), "COOPERATIVE") == 0;
  const std::string described = internal::DescribePartitions(partitions);
  switch (err) {
    case RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS:
      state->ever_assigned = true;
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
      NoteRevoked(*state, partitions);
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
      {
        rd_kafka_topic_partition_list_t* raw = nullptr;
        if (rd_kafka_assignment(handle, &raw) == RD_KAFKA_RESP_ERR_NO_ERROR) {
          PartitionList assignment(raw);
          NoteRevoked(*state, raw);
        }
      }
      if (paused) LogRebalanceError("resume", rd_kafka_resume_partitions(handle, partitions));
      LogRebalanceError("unassign", rd_kafka_assign(handle, nullptr));
      return;
  }
}

// The outcome of an asynchronous offset commit (see Consumer::Commit), on the polling thread.
void OnOffsetCommit(rd_kafka_t* handle, rd_kafka_resp_err_t err,
                    rd_kafka_topic_partition_list_t* offsets, void* opaque) {
  auto* state = static_cast<CallbackState*>(opaque);
  absl::Status status;
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR && err != RD_KAFKA_RESP_ERR__NO_OFFSET) {
    status = absl::UnavailableError(absl::StrCat("kafka commit: ", rd_kafka_err2str(err)));
  }
  for (int i = 0; offsets != nullptr && status.ok() && i < offsets->cnt; ++i) {
    const rd_kafka_topic_partition_t& tp = offsets->elems[i];
    if (tp.err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      status =
          absl::UnavailableError(absl::StrCat("kafka commit ", tp.topic, "[", tp.partition, "]@",
                                              tp.offset, ": ", rd_kafka_err2str(tp.err)));
    }
  }
  if (!status.ok()) {
    spdlog::warn("kafka consumer {}: {}; those records will be redelivered and replayed",
                 rd_kafka_name(handle), std::string(status.message()));
  }
  if (state->on_commit) state->on_commit(status);
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
  if (message.key != nullptr) {
    out.key.assign(static_cast<const char*>(message.key), message.key_len);
  } else {
    out.null_key = true;
  }
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

// Consumers whose handle could not be destroyed safely (see Consumer::Impl::Close). Kept
// reachable on purpose: the process is about to exit, and a leak checker must not count them.
std::mutex abandoned_mutex;
std::vector<rd_kafka_t*>* abandoned_handles = new std::vector<rd_kafka_t*>();
std::vector<CallbackState*>* abandoned_callbacks = new std::vector<CallbackState*>();

struct Impl {
  KafkaHandle handle;
  bool closed = false;
  // Shared with the callbacks (the handle's opaque); outlives the handle.
  std::unique_ptr<CallbackState> callbacks = std::make_unique<CallbackState>();
  bool cooperative_sticky = false;  // the configured assignment strategy includes it

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
    callbacks->paused = pause;
    spdlog::info("kafka consumer {}: {} {}", rd_kafka_name(handle.get()),
                 pause ? "paused" : "resumed", internal::DescribePartitions(raw));
    return absl::OkStatus();
  }

  // Leaves the group (the revoke runs through OnRebalance) so partitions move at once instead
  // of after session.timeout.ms, waiting at most `timeout` (rd_kafka_consumer_close would wait
  // up to session.timeout.ms, forever in effect when the coordinator is gone). Nothing is
  // committed here: auto-commit is off, and commits already sent finish as part of the close.
  void Close(std::chrono::milliseconds timeout) {
    if (closed) return;
    closed = true;
    rd_kafka_t* rk = handle.get();
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    // librdkafka's own close (it serves the revoke through OnRebalance), on a thread of its own
    // so that this one can stop waiting. (Serving rd_kafka_consumer_close_queue's queue with
    // rd_kafka_queue_poll_callback asserted in 2.0.2 when a fetch was still queued.)
    auto result = std::make_shared<std::promise<rd_kafka_resp_err_t>>();
    std::future<rd_kafka_resp_err_t> closing = result->get_future();
    std::thread([rk, result] { result->set_value(rd_kafka_consumer_close(rk)); }).detach();
    bool finished = false;
    if (closing.wait_until(deadline) == std::future_status::ready) {
      finished = true;
      if (const rd_kafka_resp_err_t err = closing.get(); err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        spdlog::warn("kafka consumer {}: close: {}", rd_kafka_name(rk), rd_kafka_err2str(err));
      }
    }
    if (finished) {
      spdlog::info("kafka consumer {}: closed", rd_kafka_name(rk));
    } else {
      spdlog::warn(
          "kafka consumer {}: close did not finish within {} ms (group coordinator "
          "unreachable?); abandoning it: its partitions move after session.timeout.ms",
          rd_kafka_name(rk), timeout.count());
    }
    // Destroying a handle whose close did not finish could block, and librdkafka 2.0.2 asserts
    // when a cooperative-sticky member that began joining without ever receiving an assignment
    // is destroyed (issue 4312). Such a handle is abandoned, not destroyed: this only happens at
    // shutdown, and the process exits next. Whether the join had begun cannot be known
    // reliably: a member id read before the close can be empty while the JoinGroup response is
    // in flight, and arrive during it (a CI run aborted that way once in 50 stops), so every
    // cooperative-sticky handle that never had an assignment is abandoned.
    if (!finished || (cooperative_sticky && !callbacks->ever_assigned)) {
      std::lock_guard<std::mutex> lock(abandoned_mutex);
      abandoned_handles->push_back(handle.release());
      // The unfinished close may still call back into this state: it must outlive us too.
      abandoned_callbacks->push_back(callbacks.release());
    }
  }

  ~Impl() { Close(kDefaultCloseTimeout); }
};

// The librdkafka implementation of Consumer.
class RdKafkaConsumer final : public Consumer {
 public:
  explicit RdKafkaConsumer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

  using Consumer::Close;
  using Consumer::PollBatch;
  absl::StatusOr<std::vector<ConsumedMessage>> PollBatch(size_t max_messages,
                                                         std::chrono::milliseconds max_wait,
                                                         std::chrono::milliseconds linger) override;
  absl::Status Commit(const std::vector<ConsumedMessage>& processed) override;
  std::vector<TopicPartition> TakeRevoked() override;
  absl::Status Pause() override;
  absl::Status Resume() override;
  bool paused() const override;
  absl::StatusOr<std::vector<PartitionLag>> Lag() const override;
  void Close(std::chrono::milliseconds timeout) override;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace

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
  impl->callbacks->on_commit = options.on_commit;
  const auto strategy = options.extra.find("partition.assignment.strategy");
  impl->cooperative_sticky = strategy == options.extra.end() ||
                             strategy->second.find("cooperative-sticky") != std::string::npos;
  // The callbacks read the shared state; Impl (and so the state) outlives the handle it owns.
  rd_kafka_conf_set_opaque(conf.get(), impl->callbacks.get());
  rd_kafka_conf_set_rebalance_cb(conf.get(), &OnRebalance);
  rd_kafka_conf_set_offset_commit_cb(conf.get(), &OnOffsetCommit);
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
  return std::unique_ptr<Consumer>(new RdKafkaConsumer(std::move(impl)));
}

absl::StatusOr<std::vector<ConsumedMessage>> RdKafkaConsumer::PollBatch(
    size_t max_messages, std::chrono::milliseconds max_wait, std::chrono::milliseconds linger) {
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
    std::vector<TopicPartition>& revoked = impl_->callbacks->revoked_in_poll;
    revoked.clear();
    MessageHandle message(rd_kafka_consumer_poll(rk, timeout_ms));
    if (!revoked.empty()) {
      // A rebalance inside that poll took partitions away: the records of theirs taken before it
      // are no longer ours (any record that poll returned came after the rebalance).
      std::erase_if(batch, [&](const ConsumedMessage& m) {
        return std::any_of(revoked.begin(), revoked.end(), [&](const TopicPartition& tp) {
          return tp.partition == m.partition && tp.topic == m.topic;
        });
      });
    }
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

absl::Status RdKafkaConsumer::Commit(const std::vector<ConsumedMessage>& processed) {
  if (impl_->closed) return absl::FailedPreconditionError("kafka consumer: closed");
  if (processed.empty()) return absl::OkStatus();
  std::map<std::pair<std::string, int32_t>, int64_t> highest;
  for (const ConsumedMessage& message : processed) {
    auto [it, inserted] = highest.try_emplace({message.topic, message.partition}, message.offset);
    if (!inserted) it->second = std::max(it->second, message.offset);
  }
  PartitionList offsets(rd_kafka_topic_partition_list_new(static_cast<int>(highest.size())));
  for (const auto& [topic_partition, offset] : highest) {
    // Kafka's committed offset is the next record to read, hence + 1 (offsets_store stores the
    // offset as given).
    rd_kafka_topic_partition_list_add(offsets.get(), topic_partition.first.c_str(),
                                      topic_partition.second)
        ->offset = offset + 1;
  }
  rd_kafka_t* rk = impl_->handle.get();
  // Storing first refuses partitions no longer assigned to this member (ERR__STATE), so a batch
  // whose partition moved during a rebalance never commits over its new owner's progress.
  rd_kafka_offsets_store(rk, offsets.get());
  absl::Status refused;
  PartitionList stored(rd_kafka_topic_partition_list_new(offsets->cnt));
  for (int i = 0; i < offsets->cnt; ++i) {
    const rd_kafka_topic_partition_t& tp = offsets->elems[i];
    if (tp.err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      if (refused.ok()) {
        refused = absl::FailedPreconditionError(
            absl::StrCat("kafka commit ", tp.topic, "[", tp.partition, "]@", tp.offset, ": ",
                         rd_kafka_err2str(tp.err), " (no longer assigned to this member)"));
      }
      continue;
    }
    rd_kafka_topic_partition_list_add(stored.get(), tp.topic, tp.partition)->offset = tp.offset;
  }
  if (stored->cnt > 0) {
    // Asynchronous: never blocks the consume loop, whatever the group coordinator does. The
    // result reaches options.on_commit from a later poll; commits go out in order.
    const rd_kafka_resp_err_t err = rd_kafka_commit(rk, stored.get(), /*async=*/1);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return absl::UnavailableError(absl::StrCat("kafka commit: ", rd_kafka_err2str(err)));
    }
  }
  return refused;
}

std::vector<TopicPartition> RdKafkaConsumer::TakeRevoked() {
  std::set<TopicPartition>& revoked = impl_->callbacks->revoked;
  std::vector<TopicPartition> taken(revoked.begin(), revoked.end());
  revoked.clear();
  return taken;
}

absl::Status RdKafkaConsumer::Pause() {
  if (impl_->closed) return absl::FailedPreconditionError("kafka consumer: closed");
  return impl_->callbacks->paused ? absl::OkStatus() : impl_->SetPaused(true);
}

absl::Status RdKafkaConsumer::Resume() {
  if (impl_->closed) return absl::FailedPreconditionError("kafka consumer: closed");
  return impl_->callbacks->paused ? impl_->SetPaused(false) : absl::OkStatus();
}

bool RdKafkaConsumer::paused() const {
  return impl_->callbacks->paused;
}

absl::StatusOr<std::vector<PartitionLag>> RdKafkaConsumer::Lag() const {
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

void RdKafkaConsumer::Close(std::chrono::milliseconds timeout) {
  impl_->Close(timeout);
}

}  // namespace leadrouter::kafka
