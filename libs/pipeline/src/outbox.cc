#include "leadrouter/pipeline/outbox.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <optional>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "leadrouter/core/backoff.h"
#include "leadrouter/decide/outcome.h"
#include "leadrouter/pipeline/messages.h"
#include "leadrouter/v1/assignment.pb.h"

namespace leadrouter::pipeline {
namespace {

// How long one read waits for new entries: short, so a lost lease or a stop is noticed soon.
constexpr std::chrono::milliseconds kReadBlock{500};

// The milliseconds part of a stream id ("<ms>-<seq>").
// A lead's first assignment to a rep (straight away or from the unassigned queue), not a
// re-route after a return or an expiry, nor an acceptance or a duplicate.
bool IsFirstAssignment(const v1::AssignmentEvent& event) {
  if (event.status() != v1::ASSIGNMENT_STATUS_ASSIGNED) return false;
  return std::count_if(event.history().begin(), event.history().end(), [](const auto& entry) {
           return entry.status() == v1::ASSIGNMENT_STATUS_ASSIGNED;
         }) == 1;
}

int64_t StreamIdMillis(std::string_view id) {
  int64_t ms = 0;
  const std::string_view millis = id.substr(0, id.find('-'));
  return absl::SimpleAtoi(absl::string_view(millis.data(), millis.size()), &ms) ? ms : 0;
}

}  // namespace

std::string OutboxHolderName() {
  char host[256] = {};
  if (::gethostname(host, sizeof(host) - 1) != 0) host[0] = '\0';
  return absl::StrCat(host[0] != '\0' ? host : "localhost", ":", ::getpid());
}

OutboxForwarder::OutboxForwarder(const config::ConfigReloader& configs,
                                 std::unique_ptr<store::OutboxStore> store,
                                 std::unique_ptr<store::OutboxStore> lease_keeper,
                                 kafka::Producer& producer, metrics::PipelineMetrics& metrics,
                                 std::string holder)
    : configs_(configs),
      store_(std::move(store)),
      lease_keeper_(std::move(lease_keeper)),
      producer_(producer),
      metrics_(metrics),
      holder_(std::move(holder)),
      lease_ttl_(configs.Current()->outbox.lease) {}

OutboxForwarder::~OutboxForwarder() = default;

void OutboxForwarder::Pause(std::chrono::milliseconds d, const std::atomic<bool>& stop) {
  const auto until = std::chrono::steady_clock::now() + d;
  while (!stop.load() && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::min<std::chrono::nanoseconds>(
        std::chrono::milliseconds(50), until - std::chrono::steady_clock::now()));
  }
}

void OutboxForwarder::DropLease(const char* why) {
  std::lock_guard lock(mu_);
  if (!lease_) return;
  spdlog::warn("outbox: lease {} lost ({}); another instance forwards", lease_->token, why);
  lease_.reset();
  holding_ = false;
  cancel_ = true;
  metrics_.SetOutboxHolder(false);
  metrics_.SetOutboxBacklog(0, 0);
}

void OutboxForwarder::KeepLease(const std::atomic<bool>& stop) {
  while (!stop.load()) {
    Pause(lease_ttl_ / 3, stop);
    if (stop.load()) break;
    std::optional<store::OutboxStore::Lease> lease;
    std::chrono::steady_clock::time_point renewed;
    {
      std::lock_guard lock(mu_);
      lease = lease_;
      renewed = last_renewed_;
    }
    if (!lease) continue;
    const auto attempted = std::chrono::steady_clock::now();
    absl::StatusOr<bool> kept = lease_keeper_->Renew(*lease, lease_ttl_);
    if (kept.ok() && *kept) {
      std::lock_guard lock(mu_);
      if (lease_ && lease_->token == lease->token) last_renewed_ = attempted;
      continue;
    }
    if (kept.ok()) {
      DropLease("taken over");
    } else if (std::chrono::steady_clock::now() - renewed >= lease_ttl_) {
      // Redis has not confirmed the lease for as long as it lasts: another may hold it now.
      DropLease("not renewed in time");
    } else {
      spdlog::warn("outbox: lease renewal failed, retrying: {}", kept.status().ToString());
    }
  }
  cancel_ = true;  // a publication waiting for Kafka gives up on stop
}

void OutboxForwarder::Run(const std::atomic<bool>& stop) {
  metrics_.SetOutboxHolder(false);
  std::thread keeper([&] { KeepLease(stop); });
  core::Backoff backoff(std::chrono::milliseconds(100), std::chrono::seconds(5));
  bool waiting_logged = false;
  while (!stop.load()) {
    if (!holding_.load()) {
      absl::StatusOr<std::optional<store::OutboxStore::Lease>> taken =
          store_->Acquire(holder_, lease_ttl_);
      if (!taken.ok()) {
        metrics_.OutboxFailed("redis");
        Pause(backoff.Next(), stop);
        continue;
      }
      if (!taken->has_value()) {
        if (!waiting_logged) spdlog::info("outbox: another instance holds the lease; standing by");
        waiting_logged = true;
        Pause(lease_ttl_ / 3, stop);
        continue;
      }
      {
        std::lock_guard lock(mu_);
        lease_ = **taken;
        last_renewed_ = std::chrono::steady_clock::now();
        cancel_ = false;
        holding_ = true;
      }
      waiting_logged = false;
      after_id_.reset();
      metrics_.SetOutboxHolder(true);
      spdlog::info("outbox: this instance forwards the assignment log (lease {})", (*taken)->token);
    }
    if (!after_id_) {
      absl::StatusOr<std::optional<store::OutboxStore::Position>> loaded = store_->Load();
      if (!loaded.ok() || !loaded->has_value()) {
        metrics_.OutboxFailed("redis");
        if (loaded.ok()) spdlog::error("outbox: the lease is held but the position is missing");
        Pause(backoff.Next(), stop);
        continue;
      }
      after_id_ = (*loaded)->after_id;
    }
    if (ForwardRound(stop)) {
      backoff.Reset();
    }
  }
  keeper.join();
  std::optional<store::OutboxStore::Lease> lease;
  {
    std::lock_guard lock(mu_);
    lease = lease_;
    lease_.reset();
    holding_ = false;
  }
  if (lease) {
    if (absl::Status released = store_->Release(*lease); !released.ok()) {
      spdlog::warn("outbox: could not release the lease (it expires by itself): {}",
                   released.ToString());
    }
  }
  metrics_.SetOutboxHolder(false);
}

bool OutboxForwarder::ForwardRound(const std::atomic<bool>& stop) {
  const std::shared_ptr<const config::Config> config = configs_.Current();
  // Within the connection's command timeout, or every wait would break the connection.
  const std::chrono::milliseconds block = std::min(kReadBlock, config->redis.timeout / 2);
  absl::StatusOr<std::vector<store::AssignmentStore::LogEntry>> entries =
      store_->Read(*after_id_, static_cast<size_t>(config->outbox.batch_max_messages), block);
  if (!entries.ok()) {
    metrics_.OutboxFailed("redis");
    spdlog::warn("outbox: reading the log failed: {}", entries.status().ToString());
    Pause(std::chrono::milliseconds(500), stop);
    return false;
  }
  if (entries->empty()) {
    metrics_.SetOutboxBacklog(0, 0);
    if (block < kReadBlock) Pause(kReadBlock - block, stop);  // a short timeout: poll, not spin
    return true;
  }
  const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
  if (absl::StatusOr<std::optional<store::OutboxStore::Position>> counters = store_->Load();
      counters.ok() && counters->has_value()) {
    metrics_.SetOutboxBacklog(
        static_cast<double>((*counters)->backlog()),
        static_cast<double>(std::max<int64_t>(0, now_ms - StreamIdMillis(entries->front().id))) /
            1000.0);
  }

  std::vector<kafka::OutgoingMessage> messages;
  messages.reserve(entries->size());
  // Per message, the lead's occurred_at when it is the lead's first assignment (speed to lead).
  std::vector<std::optional<core::TimePoint>> first_assignment_of;
  first_assignment_of.reserve(entries->size());
  for (const auto& entry : *entries) {
    v1::AssignmentEvent event;
    absl::StatusOr<kafka::OutgoingMessage> message =
        event.ParseFromString(entry.bytes)
            ? AssignmentMessage(config->kafka.topics.assignments, event)
            : absl::DataLossError("not a serialized AssignmentEvent");
    if (!message.ok()) {
      // Not retried: the same bytes would fail again and stall the whole topic behind them.
      metrics_.OutboxFailed("undecodable");
      spdlog::error("outbox: log entry {} skipped: {}", entry.id, message.status().ToString());
      continue;
    }
    messages.push_back(*std::move(message));
    first_assignment_of.push_back(
        IsFirstAssignment(event)
            ? std::optional<core::TimePoint>(decide::ToTimePoint(event.lead_occurred_at()))
            : std::nullopt);
  }
  std::vector<kafka::RefusedMessage> refused;
  const absl::Status produced =
      producer_.ProduceAndWait(messages, config->kafka.produce_timeout, &refused, &cancel_);
  if (!produced.ok()) {
    if (!stop.load() && holding_.load()) {
      metrics_.OutboxFailed("kafka");
      spdlog::warn("outbox: {} message(s) not acknowledged by Kafka, publishing them again: {}",
                   messages.size(), produced.ToString());
      Pause(std::chrono::seconds(1), stop);
    }
    return false;
  }
  const core::TimePoint acknowledged_at = std::chrono::system_clock::now();
  for (const kafka::RefusedMessage& r : refused) {
    if (r.index < first_assignment_of.size()) first_assignment_of[r.index].reset();
  }
  for (const std::optional<core::TimePoint>& occurred : first_assignment_of) {
    if (!occurred) continue;
    metrics_.ObserveLeadToKafka(
        std::max(0.0, std::chrono::duration<double>(acknowledged_at - *occurred).count()));
  }
  for (const kafka::RefusedMessage& r : refused) {
    metrics_.MessageUndeliverable("assignment", r.reason);
    spdlog::error("outbox: Kafka refused message {} for good ({}): {}", messages[r.index].key,
                  r.reason, r.error);
  }
  std::optional<store::OutboxStore::Lease> lease;
  {
    std::lock_guard lock(mu_);
    lease = lease_;
  }
  if (!lease) return false;
  const std::string& last = entries->back().id;
  const auto n = static_cast<int64_t>(entries->size());
  absl::StatusOr<store::OutboxStore::AdvanceResult> advanced =
      store_->Advance(*lease, *after_id_, last, n);
  if (!advanced.ok()) {
    // Unknown whether it moved: read it again (at worst this batch is published twice).
    metrics_.OutboxFailed("redis");
    after_id_.reset();
    return false;
  }
  switch (*advanced) {
    case store::OutboxStore::AdvanceResult::kAdvanced:
      *after_id_ = last;
      metrics_.OutboxForwarded(static_cast<double>(messages.size()));
      return true;
    case store::OutboxStore::AdvanceResult::kLeaseLost:
      DropLease("fenced off");
      return false;
    case store::OutboxStore::AdvanceResult::kMoved:
      spdlog::warn("outbox: the position moved under this holder; reading it again");
      after_id_.reset();
      return false;
  }
  return false;
}

}  // namespace leadrouter::pipeline
