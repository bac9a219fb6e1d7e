#include "leadrouter/testing/fake_kafka.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"

namespace leadrouter::testing {

void FakeConsumer::Assign(const std::vector<kafka::TopicPartition>& partitions) {
  {
    std::lock_guard lock(mu_);
    assigned_.insert(partitions.begin(), partitions.end());
  }
  fed_.notify_all();
}

void FakeConsumer::Revoke(const std::vector<kafka::TopicPartition>& partitions) {
  std::lock_guard lock(mu_);
  for (const kafka::TopicPartition& tp : partitions) {
    if (assigned_.erase(tp) == 0) continue;
    revoked_.push_back(tp);
    std::erase_if(queue_, [&](const Fed& fed) {
      return fed.message.topic == tp.topic && fed.message.partition == tp.partition;
    });
  }
}

kafka::ConsumedMessage FakeConsumer::AddLocked(const std::string& topic, int32_t partition,
                                               std::string value, bool fetched) {
  const kafka::TopicPartition tp{topic, partition};
  assigned_.insert(tp);
  kafka::ConsumedMessage message;
  message.topic = topic;
  message.partition = partition;
  message.offset = next_offset_[tp]++;
  message.key = absl::StrCat(topic, "-", partition, "-", message.offset);
  message.value = std::move(value);
  queue_.push_back({message, fetched});
  return message;
}

kafka::ConsumedMessage FakeConsumer::Add(const std::string& topic, int32_t partition,
                                         std::string value) {
  kafka::ConsumedMessage message;
  {
    std::lock_guard lock(mu_);
    message = AddLocked(topic, partition, std::move(value), /*fetched=*/false);
  }
  fed_.notify_all();
  return message;
}

kafka::ConsumedMessage FakeConsumer::AddFetched(const std::string& topic, int32_t partition,
                                                std::string value) {
  kafka::ConsumedMessage message;
  {
    std::lock_guard lock(mu_);
    message = AddLocked(topic, partition, std::move(value), /*fetched=*/true);
  }
  fed_.notify_all();
  return message;
}

void FakeConsumer::FailNextPoll(absl::Status status) {
  std::lock_guard lock(mu_);
  poll_failure_ = std::move(status);
}

std::vector<std::vector<kafka::ConsumedMessage>> FakeConsumer::commit_calls() const {
  std::lock_guard lock(mu_);
  return commit_calls_;
}

std::map<kafka::TopicPartition, int64_t> FakeConsumer::committed() const {
  std::lock_guard lock(mu_);
  return committed_;
}

size_t FakeConsumer::undelivered() const {
  std::lock_guard lock(mu_);
  return queue_.size();
}

int FakeConsumer::pause_calls() const {
  std::lock_guard lock(mu_);
  return pause_calls_;
}

int FakeConsumer::resume_calls() const {
  std::lock_guard lock(mu_);
  return resume_calls_;
}

bool FakeConsumer::closed() const {
  std::lock_guard lock(mu_);
  return closed_;
}

bool FakeConsumer::DeliverableLocked(const Fed& fed) const {
  return (!paused_ || fed.fetched) &&
         assigned_.count({fed.message.topic, fed.message.partition}) > 0;
}

absl::StatusOr<std::vector<kafka::ConsumedMessage>> FakeConsumer::PollBatch(
    size_t max_messages, std::chrono::milliseconds max_wait, std::chrono::milliseconds /*linger*/) {
  std::unique_lock lock(mu_);
  if (closed_) return absl::FailedPreconditionError("fake consumer: closed");
  if (poll_failure_) {
    absl::Status failure = *std::move(poll_failure_);
    poll_failure_.reset();
    return failure;
  }
  auto any = [&] {
    return std::any_of(queue_.begin(), queue_.end(),
                       [&](const Fed& fed) { return DeliverableLocked(fed); });
  };
  fed_.wait_for(lock, max_wait, any);
  std::vector<kafka::ConsumedMessage> batch;
  for (auto it = queue_.begin(); it != queue_.end() && batch.size() < max_messages;) {
    if (!DeliverableLocked(*it)) {
      ++it;
      continue;
    }
    batch.push_back(std::move(it->message));
    it = queue_.erase(it);
  }
  return batch;
}

absl::Status FakeConsumer::Commit(const std::vector<kafka::ConsumedMessage>& processed) {
  std::lock_guard lock(mu_);
  if (closed_) return absl::FailedPreconditionError("fake consumer: closed");
  if (processed.empty()) return absl::OkStatus();
  commit_calls_.push_back(processed);
  absl::Status refused;
  std::map<kafka::TopicPartition, int64_t> highest;
  for (const kafka::ConsumedMessage& m : processed) {
    auto [it, inserted] = highest.try_emplace({m.topic, m.partition}, m.offset);
    if (!inserted) it->second = std::max(it->second, m.offset);
  }
  for (const auto& [tp, offset] : highest) {
    if (assigned_.count(tp) == 0) {
      if (refused.ok()) {
        refused = absl::FailedPreconditionError(
            absl::StrCat("fake commit ", tp.topic, "[", tp.partition, "]@", offset + 1,
                         " (no longer assigned to this member)"));
      }
      continue;
    }
    committed_[tp] = offset + 1;
  }
  return refused;
}

std::vector<kafka::TopicPartition> FakeConsumer::TakeRevoked() {
  std::lock_guard lock(mu_);
  std::vector<kafka::TopicPartition> taken;
  taken.swap(revoked_);
  return taken;
}

absl::Status FakeConsumer::Pause() {
  std::lock_guard lock(mu_);
  if (closed_) return absl::FailedPreconditionError("fake consumer: closed");
  ++pause_calls_;
  paused_ = true;
  return absl::OkStatus();
}

absl::Status FakeConsumer::Resume() {
  {
    std::lock_guard lock(mu_);
    if (closed_) return absl::FailedPreconditionError("fake consumer: closed");
    ++resume_calls_;
    paused_ = false;
  }
  fed_.notify_all();
  return absl::OkStatus();
}

bool FakeConsumer::paused() const {
  std::lock_guard lock(mu_);
  return paused_;
}

absl::StatusOr<std::vector<kafka::PartitionLag>> FakeConsumer::Lag() const {
  std::lock_guard lock(mu_);
  if (closed_) return absl::FailedPreconditionError("fake consumer: closed");
  std::vector<kafka::PartitionLag> lags;
  for (const kafka::TopicPartition& tp : assigned_) {
    const auto waiting = std::count_if(queue_.begin(), queue_.end(), [&](const Fed& fed) {
      return fed.message.topic == tp.topic && fed.message.partition == tp.partition;
    });
    lags.push_back({tp.topic, tp.partition, static_cast<int64_t>(waiting)});
  }
  return lags;
}

void FakeConsumer::Close(std::chrono::milliseconds /*timeout*/) {
  std::lock_guard lock(mu_);
  closed_ = true;
}

void FakeProducer::FailNext(absl::Status status, int times) {
  std::lock_guard lock(mu_);
  for (int i = 0; i < times; ++i) failures_.push_back(status);
}

void FakeProducer::FailUntilCleared(absl::Status status) {
  std::lock_guard lock(mu_);
  sticky_failure_ = std::move(status);
}

void FakeProducer::ClearFailure() {
  std::lock_guard lock(mu_);
  sticky_failure_.reset();
}

void FakeProducer::RefuseTopic(const std::string& topic, std::string reason) {
  std::lock_guard lock(mu_);
  refused_topics_[topic] = std::move(reason);
}

void FakeProducer::SetWarmUpStatus(absl::Status status) {
  std::lock_guard lock(mu_);
  warm_up_status_ = std::move(status);
}

std::vector<kafka::OutgoingMessage> FakeProducer::produced() const {
  std::lock_guard lock(mu_);
  return produced_;
}

int FakeProducer::calls() const {
  std::lock_guard lock(mu_);
  return calls_;
}

absl::Status FakeProducer::ProduceAndWait(const std::vector<kafka::OutgoingMessage>& messages,
                                          std::chrono::milliseconds /*timeout*/,
                                          std::vector<kafka::RefusedMessage>* refused,
                                          const std::atomic<bool>* cancel) {
  std::lock_guard lock(mu_);
  ++calls_;
  if (refused != nullptr) refused->clear();
  if (!failures_.empty()) {
    absl::Status failure = std::move(failures_.front());
    failures_.pop_front();
    return failure;
  }
  if (sticky_failure_) return *sticky_failure_;
  if (cancel != nullptr && cancel->load()) return absl::CancelledError("fake produce: cancelled");
  std::vector<kafka::OutgoingMessage> accepted;
  for (size_t i = 0; i < messages.size(); ++i) {
    const auto refusal = refused_topics_.find(messages[i].topic);
    if (refusal == refused_topics_.end()) {
      accepted.push_back(messages[i]);
      continue;
    }
    if (refused == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("fake produce to ", messages[i].topic, ": refused (", refusal->second, ")"));
    }
    refused->push_back({i, refusal->second, "refused by the fake producer"});
  }
  produced_.insert(produced_.end(), std::make_move_iterator(accepted.begin()),
                   std::make_move_iterator(accepted.end()));
  return absl::OkStatus();
}

absl::Status FakeProducer::WarmUp(const std::string& /*topic*/,
                                  std::chrono::milliseconds /*timeout*/) {
  std::lock_guard lock(mu_);
  return warm_up_status_;
}

}  // namespace leadrouter::testing
