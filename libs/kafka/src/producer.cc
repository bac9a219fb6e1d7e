#include "leadrouter/kafka/producer.h"

#include <librdkafka/rdkafka.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdint>
#include <mutex>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "rdkafka_util.h"

namespace leadrouter::kafka {
namespace {

using internal::HeadersHandle;
using internal::KafkaHandle;
using Clock = std::chrono::steady_clock;

constexpr std::chrono::milliseconds kMaxPollSlice{100};
constexpr int kDestructorFlushMs = 5000;

int MillisUntil(Clock::time_point deadline, std::chrono::milliseconds cap) {
  const auto remaining =
      std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return static_cast<int>(std::clamp(remaining, std::chrono::milliseconds(0), cap).count());
}

// Delivery reports carry the batch number (high 32 bits) and the message's index in its batch
// (low 32 bits) as their opaque. A report from an earlier batch that gave up at its deadline is
// then recognised and ignored instead of being counted for this one.
void* MessageTag(uint64_t batch, size_t index) {
  return reinterpret_cast<void*>(static_cast<uintptr_t>((batch << 32) | (index & 0xffffffffu)));
}
uint64_t BatchOfTag(const void* tag) {
  return static_cast<uint64_t>(reinterpret_cast<uintptr_t>(tag)) >> 32;
}
size_t IndexOfTag(const void* tag) {
  return static_cast<size_t>(reinterpret_cast<uintptr_t>(tag) & 0xffffffffu);
}

// Errors after which the same message can never be accepted: retrying would stall its caller
// forever. Everything else (brokers down, time-outs, leader changes, authorization, an unknown
// topic that may yet be created) is transient.
std::optional<std::string> PermanentReason(rd_kafka_resp_err_t err) {
  switch (err) {
    case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
    case RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE:
    case RD_KAFKA_RESP_ERR_INVALID_MSG_SIZE:
      return "too_large";
    case RD_KAFKA_RESP_ERR_INVALID_RECORD:
    case RD_KAFKA_RESP_ERR__INVALID_ARG:
      return "invalid_record";
    case RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION:
      return "invalid_topic";
    default:
      return std::nullopt;
  }
}

struct Impl {
  KafkaHandle handle;
  std::mutex mutex;  // serializes ProduceAndWait; delivery reports run inside it (see OnDelivery)

  // The batch in flight; touched only by the thread holding `mutex`.
  uint64_t batch = 0;
  size_t acknowledged = 0;
  size_t reported = 0;
  std::optional<absl::Status> first_failure;
  std::vector<RefusedMessage>* refused = nullptr;  // the caller's, when it takes refusals

  // Counts a permanent refusal of message `index` when the caller takes them; false otherwise.
  bool Refuse(size_t index, rd_kafka_resp_err_t err, const std::string& topic) {
    if (refused == nullptr) return false;
    std::optional<std::string> reason = PermanentReason(err);
    if (!reason.has_value()) return false;
    ++reported;
    refused->push_back({index, *std::move(reason),
                        absl::StrCat("kafka produce to ", topic, ": ", rd_kafka_err2str(err))});
    return true;
  }

  // Runs inside rd_kafka_poll()/rd_kafka_flush(), which only ProduceAndWait (holding `mutex`) and
  // the destructor call, so no extra locking is needed.
  static void OnDelivery(rd_kafka_t* /*handle*/, const rd_kafka_message_t* message, void* opaque) {
    auto* self = static_cast<Impl*>(opaque);
    if (BatchOfTag(message->_private) != (self->batch & 0xffffffffu)) return;  // a stale report
    if (message->err != RD_KAFKA_RESP_ERR_NO_ERROR &&
        self->Refuse(IndexOfTag(message->_private), message->err,
                     rd_kafka_topic_name(message->rkt))) {
      return;
    }
    ++self->reported;
    if (message->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      ++self->acknowledged;
    } else if (!self->first_failure.has_value()) {
      self->first_failure = absl::UnavailableError(
          absl::StrCat("kafka delivery to ", rd_kafka_topic_name(message->rkt), ": ",
                       rd_kafka_err2str(message->err)));
    }
  }

  static void OnError(rd_kafka_t* handle, int err, const char* reason, void* /*opaque*/) {
    spdlog::warn("kafka producer {}: {} ({})", rd_kafka_name(handle), reason,
                 rd_kafka_err2name(static_cast<rd_kafka_resp_err_t>(err)));
  }

  // Enqueues message `index`, serving delivery reports while the local queue is full.
  absl::Status Enqueue(const OutgoingMessage& message, size_t index, Clock::time_point deadline,
                       const std::atomic<bool>* cancel) {
    rd_kafka_t* rk = handle.get();
    while (true) {
      // producev takes the headers only on success, so they are rebuilt for each attempt.
      HeadersHandle headers(rd_kafka_headers_new(message.headers.size()));
      for (const Header& header : message.headers) {
        rd_kafka_header_add(headers.get(), header.name.data(),
                            static_cast<ssize_t>(header.name.size()), header.value.data(),
                            static_cast<ssize_t>(header.value.size()));
      }
      const rd_kafka_resp_err_t err = rd_kafka_producev(
          rk, RD_KAFKA_V_TOPIC(message.topic.c_str()),
          RD_KAFKA_V_KEY(message.null_key ? nullptr : message.key.data(),
                         message.null_key ? 0 : message.key.size()),
          RD_KAFKA_V_VALUE(const_cast<char*>(message.value.data()), message.value.size()),
          RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_HEADERS(headers.get()),
          RD_KAFKA_V_OPAQUE(MessageTag(batch, index)), RD_KAFKA_V_END);
      if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        headers.release();  // now owned by the queued message
        return absl::OkStatus();
      }
      // Refused locally (e.g. larger than message.max.bytes): never queued, never reported.
      if (Refuse(index, err, message.topic)) return absl::OkStatus();
      if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
        return absl::UnavailableError(
            absl::StrCat("kafka produce to ", message.topic, ": ", rd_kafka_err2str(err)));
      }
      if (Clock::now() >= deadline) {
        return absl::DeadlineExceededError(
            absl::StrCat("kafka produce to ", message.topic, ": local queue full until deadline"));
      }
      if (cancel != nullptr && cancel->load()) {
        return absl::CancelledError("kafka produce: cancelled while the local queue was full");
      }
      rd_kafka_poll(rk, MillisUntil(deadline, kMaxPollSlice));
    }
  }

  absl::Status ProduceAndWait(const std::vector<OutgoingMessage>& messages,
                              std::chrono::milliseconds timeout,
                              std::vector<RefusedMessage>* refused_out,
                              const std::atomic<bool>* cancel) {
    std::lock_guard<std::mutex> lock(mutex);
    const Clock::time_point deadline = Clock::now() + timeout;
    rd_kafka_t* rk = handle.get();
    ++batch;
    acknowledged = 0;
    reported = 0;
    first_failure.reset();
    refused = refused_out;
    if (refused != nullptr) refused->clear();
    // Reports of this batch arriving after it returned are stale: none may touch `refused_out`.
    struct Forget {
      Impl& impl;
      ~Forget() { impl.refused = nullptr; }
    } forget{*this};

    for (size_t i = 0; i < messages.size(); ++i) {
      if (absl::Status status = Enqueue(messages[i], i, deadline, cancel); !status.ok()) {
        return status;
      }
    }
    while (reported < messages.size()) {
      if (absl::Status fatal = internal::FatalErrorStatus(rk); !fatal.ok()) return fatal;
      if (cancel != nullptr && cancel->load()) {
        return absl::CancelledError(absl::StrCat("kafka produce: cancelled with ",
                                                 messages.size() - reported, " of ",
                                                 messages.size(), " messages unacknowledged"));
      }
      const int wait_ms = MillisUntil(deadline, kMaxPollSlice);
      if (wait_ms == 0 && Clock::now() >= deadline) break;
      rd_kafka_poll(rk, wait_ms);
    }
    if (first_failure.has_value()) return *first_failure;
    const size_t refusals = refused_out != nullptr ? refused_out->size() : 0;
    if (acknowledged + refusals < messages.size()) {
      return absl::DeadlineExceededError(
          absl::StrCat("kafka produce: ", messages.size() - acknowledged - refusals, " of ",
                       messages.size(), " messages unacknowledged after ", timeout.count(), " ms"));
    }
    return absl::OkStatus();
  }

  ~Impl() {
    if (handle == nullptr) return;
    const rd_kafka_resp_err_t err = rd_kafka_flush(handle.get(), kDestructorFlushMs);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      spdlog::warn("kafka producer {}: {} messages still undelivered at shutdown",
                   rd_kafka_name(handle.get()), rd_kafka_outq_len(handle.get()));
    }
  }
};

// The librdkafka implementation of Producer.
class RdKafkaProducer final : public Producer {
 public:
  explicit RdKafkaProducer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

  absl::Status ProduceAndWait(const std::vector<OutgoingMessage>& messages,
                              std::chrono::milliseconds timeout,
                              std::vector<RefusedMessage>* refused,
                              const std::atomic<bool>* cancel) override;
  absl::Status WarmUp(const std::string& topic, std::chrono::milliseconds timeout) override;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Producer>> Producer::Create(const ProducerOptions& options) {
  auto impl = std::make_unique<Impl>();
  internal::ConfHandle conf = internal::NewConf();
  const std::map<std::string, std::string> defaults = {
      {"bootstrap.servers", options.bootstrap_servers},
      {"enable.idempotence", "true"},
      {"acks", "all"},
      // As Kafka's own clients do: batching is linger.ms's job, and Nagle would hold the tail
      // of each batch (up to the peer's delayed ACK, 40 ms on Linux).
      {"socket.nagle.disable", "true"},
      // librdkafka's own default, set explicitly because the config checks kafka.max_event_bytes
      // against it (a dead letter carries the event); producer_properties may raise it.
      {"message.max.bytes", "1000000"},
  };
  if (absl::Status s = internal::SetProperties(conf.get(), defaults); !s.ok()) return s;
  if (absl::Status s = internal::SetProperties(conf.get(), options.extra); !s.ok()) return s;
  rd_kafka_conf_set_opaque(conf.get(), impl.get());
  rd_kafka_conf_set_dr_msg_cb(conf.get(), &Impl::OnDelivery);
  rd_kafka_conf_set_error_cb(conf.get(), &Impl::OnError);

  absl::StatusOr<KafkaHandle> handle = internal::NewClient(RD_KAFKA_PRODUCER, std::move(conf));
  if (!handle.ok()) return handle.status();
  impl->handle = *std::move(handle);
  return std::unique_ptr<Producer>(new RdKafkaProducer(std::move(impl)));
}

absl::Status RdKafkaProducer::WarmUp(const std::string& topic, std::chrono::milliseconds timeout) {
  rd_kafka_t* rk = impl_->handle.get();
  std::unique_ptr<rd_kafka_topic_t, decltype(&rd_kafka_topic_destroy)> handle(
      rd_kafka_topic_new(rk, topic.c_str(), nullptr), &rd_kafka_topic_destroy);
  if (handle == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("kafka topic ", topic, ": ", rd_kafka_err2str(rd_kafka_last_error())));
  }
  const rd_kafka_metadata_t* metadata = nullptr;
  const rd_kafka_resp_err_t err =
      rd_kafka_metadata(rk, 0, handle.get(), &metadata, static_cast<int>(timeout.count()));
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return absl::UnavailableError(
        absl::StrCat("kafka metadata of ", topic, ": ", rd_kafka_err2str(err)));
  }
  const rd_kafka_resp_err_t topic_err =
      metadata->topic_cnt > 0 ? metadata->topics[0].err : RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC;
  rd_kafka_metadata_destroy(metadata);
  if (topic_err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return absl::NotFoundError(
        absl::StrCat("kafka topic ", topic, ": ", rd_kafka_err2str(topic_err)));
  }
  return absl::OkStatus();
}

absl::Status RdKafkaProducer::ProduceAndWait(const std::vector<OutgoingMessage>& messages,
                                             std::chrono::milliseconds timeout,
                                             std::vector<RefusedMessage>* refused,
                                             const std::atomic<bool>* cancel) {
  return impl_->ProduceAndWait(messages, timeout, refused, cancel);
}

}  // namespace leadrouter::kafka
