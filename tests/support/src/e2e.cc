#include "leadrouter/testing/e2e.h"

namespace leadrouter::testing {

std::string LineField(const std::string& line, const std::string& key) {
  const auto start = line.find(key + "=");
  if (start == std::string::npos) return "";
  const auto value = start + key.size() + 1;
  const auto end = line.find(' ', value);
  return line.substr(value, end == std::string::npos ? std::string::npos : end - value);
}

StreamCollector::StreamCollector(const std::string& target, const std::string& after_cursor)
    : stub_(v1::RouterService::NewStub(
          grpc::CreateChannel(target, grpc::InsecureChannelCredentials()))) {
  thread_ = std::thread([this, after_cursor] {
    v1::StreamAssignmentsRequest request;
    request.set_after_cursor(after_cursor);
    auto reader = stub_->StreamAssignments(&context_, request);
    v1::AssignmentEvent event;
    while (reader->Read(&event)) {
      std::lock_guard lock(mu_);
      events_.push_back(event);
      changed_.notify_all();
    }
    const grpc::Status status = reader->Finish();
    std::lock_guard lock(mu_);
    status_ = status;
    finished_ = true;
    changed_.notify_all();
  });
}

StreamCollector::~StreamCollector() {
  Stop();
}

void StreamCollector::Stop() {
  if (!thread_.joinable()) return;
  context_.TryCancel();
  thread_.join();
}

std::vector<v1::AssignmentEvent> StreamCollector::WaitFor(size_t n,
                                                          std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  changed_.wait_for(lock, timeout, [&] { return events_.size() >= n || finished_; });
  return events_;
}

grpc::Status StreamCollector::WaitFinished(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  changed_.wait_for(lock, timeout, [&] { return finished_; });
  return status_;
}

}  // namespace leadrouter::testing
