#include "leadrouter/ingest/publisher.h"

#include <algorithm>
#include <utility>

namespace leadrouter::ingest {

GroupPublisher::GroupPublisher(kafka::Producer& producer, size_t max_group_records)
    : producer_(producer), max_group_records_(std::max<size_t>(1, max_group_records)) {
  thread_ = std::thread([this] { Run(); });
}

GroupPublisher::~GroupPublisher() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  work_.notify_all();
  thread_.join();
  std::lock_guard<std::mutex> lock(mu_);
  for (Call* call : waiting_) {
    call->result.status = absl::CancelledError("ingest: shutting down");
    call->done = true;
  }
  waiting_.clear();
  done_.notify_all();
}

size_t GroupPublisher::waiting_records() const {
  std::lock_guard<std::mutex> lock(mu_);
  return waiting_records_;
}

GroupPublisher::Result GroupPublisher::Publish(std::vector<kafka::OutgoingMessage> records,
                                               std::chrono::steady_clock::time_point deadline) {
  if (records.empty()) return {};
  Call call{std::move(records), deadline, false, {}};
  std::unique_lock<std::mutex> lock(mu_);
  if (stopping_) return {absl::CancelledError("ingest: shutting down"), {}};
  waiting_.push_back(&call);
  waiting_records_ += call.records.size();
  work_.notify_one();
  // The publishing thread answers every call it took, deadline or not (ProduceAndWait is given
  // the group's earliest deadline), so waiting without a timeout cannot hang past it for long.
  done_.wait(lock, [&] { return call.done; });
  return std::move(call.result);
}

void GroupPublisher::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    work_.wait(lock, [&] { return stopping_ || !waiting_.empty(); });
    if (stopping_) return;
    std::vector<Call*> group;
    size_t records = 0;
    while (!waiting_.empty() &&
           (group.empty() || records + waiting_.front()->records.size() <= max_group_records_)) {
      group.push_back(waiting_.front());
      records += waiting_.front()->records.size();
      waiting_records_ -= waiting_.front()->records.size();
      waiting_.pop_front();
    }
    lock.unlock();

    auto deadline = group.front()->deadline;
    for (const Call* call : group) deadline = std::min(deadline, call->deadline);
    const auto now = std::chrono::steady_clock::now();
    absl::Status status;
    std::vector<kafka::RefusedMessage> refused;
    std::vector<size_t> first_index;  // where each call's records start in `all`
    if (deadline <= now) {
      status = absl::DeadlineExceededError("ingest: the request timed out before publishing");
    } else {
      std::vector<kafka::OutgoingMessage> all;
      all.reserve(records);
      for (Call* call : group) {
        first_index.push_back(all.size());
        std::move(call->records.begin(), call->records.end(), std::back_inserter(all));
      }
      const auto timeout =
          std::max(std::chrono::milliseconds(1),
                   std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now));
      status = producer_.ProduceAndWait(all, timeout, &refused, &stopping_);
    }

    lock.lock();
    for (size_t c = 0; c < group.size(); ++c) {
      Call* call = group[c];
      call->result.status = status;
      if (status.ok() && !first_index.empty()) {
        const size_t begin = first_index[c];
        const size_t end = c + 1 < group.size() ? first_index[c + 1] : records;
        for (const kafka::RefusedMessage& r : refused) {
          if (r.index >= begin && r.index < end) {
            call->result.refused.push_back({r.index - begin, r.reason, r.error});
          }
        }
      }
      call->done = true;
    }
    done_.notify_all();
  }
}

}  // namespace leadrouter::ingest
