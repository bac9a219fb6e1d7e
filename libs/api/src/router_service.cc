#include "leadrouter/api/router_service.h"

#include <deque>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include "absl/strings/str_cat.h"

namespace leadrouter::api {
namespace {

class StreamReactor;

// The state of one StreamAssignments call that the hub can hold safely: the reactor is deleted
// by gRPC (in OnDone), this object lives until the hub lets go of it.
class StreamSink final : public AssignmentSink {
 public:
  StreamSink(std::set<std::string> rep_filter, size_t queue_limit)
      : rep_filter_(std::move(rep_filter)), queue_limit_(queue_limit) {}

  void Attach(grpc::ServerWriteReactor<v1::AssignmentEvent>* reactor) {
    std::lock_guard lock(mu_);
    reactor_ = reactor;
  }

  void Offer(const SharedAssignment& assignment) override {
    if (!rep_filter_.empty() && !rep_filter_.count(assignment->rep_id())) return;
    std::lock_guard lock(mu_);
    if (reactor_ == nullptr || finish_requested_) return;
    if (queue_.size() >= queue_limit_) {
      FinishLocked(grpc::Status(
          grpc::StatusCode::RESOURCE_EXHAUSTED,
          absl::StrCat(
              "subscriber fell more than ", queue_limit_,
              " assignments behind; resume from the leads.assignments topic or re-subscribe")));
      return;
    }
    queue_.push_back(assignment);
    if (!write_in_flight_) StartNextWriteLocked();
  }

  void Close() override {
    std::lock_guard lock(mu_);
    FinishLocked(grpc::Status(grpc::StatusCode::UNAVAILABLE, "leadrouter is shutting down"));
  }

  void OnWriteDone(bool ok) {
    std::lock_guard lock(mu_);
    write_in_flight_ = false;
    if (!queue_.empty()) queue_.pop_front();
    if (!ok) {
      // The client went away; gRPC still requires exactly one Finish.
      FinishLocked(grpc::Status(grpc::StatusCode::CANCELLED, "stream broken"));
      return;
    }
    if (pending_status_.has_value()) {
      SendFinishLocked();
    } else if (!queue_.empty()) {
      StartNextWriteLocked();
    }
  }

  void OnCancel() {
    std::lock_guard lock(mu_);
    FinishLocked(grpc::Status::CANCELLED);
  }

  void Detach() {
    std::lock_guard lock(mu_);
    reactor_ = nullptr;
  }

 private:
  void StartNextWriteLocked() {
    write_in_flight_ = true;
    reactor_->StartWrite(queue_.front().get());
  }

  // Finish is sent once, after the write in flight (if any) completes.
  void FinishLocked(grpc::Status status) {
    if (finish_requested_ || reactor_ == nullptr) return;
    finish_requested_ = true;
    pending_status_ = std::move(status);
    if (!write_in_flight_) SendFinishLocked();
  }

  void SendFinishLocked() {
    if (finish_sent_ || !pending_status_.has_value()) return;
    finish_sent_ = true;
    queue_.clear();
    reactor_->Finish(*pending_status_);
  }

  const std::set<std::string> rep_filter_;
  const size_t queue_limit_;
  std::mutex mu_;
  grpc::ServerWriteReactor<v1::AssignmentEvent>* reactor_ = nullptr;
  std::deque<SharedAssignment> queue_;  // front() is the write in flight
  bool write_in_flight_ = false;
  bool finish_requested_ = false;
  bool finish_sent_ = false;
  std::optional<grpc::Status> pending_status_;
};

class StreamReactor final : public grpc::ServerWriteReactor<v1::AssignmentEvent> {
 public:
  StreamReactor(AssignmentHub& hub, std::shared_ptr<StreamSink> sink)
      : hub_(hub), sink_(std::move(sink)) {
    sink_->Attach(this);
    hub_.Add(sink_);
  }

  void OnWriteDone(bool ok) override { sink_->OnWriteDone(ok); }
  void OnCancel() override { sink_->OnCancel(); }
  void OnDone() override {
    sink_->Detach();
    hub_.Remove(sink_.get());
    delete this;
  }

 private:
  AssignmentHub& hub_;
  std::shared_ptr<StreamSink> sink_;
};

// Ends a call at once with an error status.
class RejectingReactor final : public grpc::ServerWriteReactor<v1::AssignmentEvent> {
 public:
  explicit RejectingReactor(grpc::Status status) { Finish(std::move(status)); }
  void OnDone() override { delete this; }
};

}  // namespace

RouterServiceImpl::RouterServiceImpl(AssignmentHub& hub, size_t subscriber_queue_limit)
    : hub_(hub), subscriber_queue_limit_(subscriber_queue_limit) {}

grpc::ServerWriteReactor<v1::AssignmentEvent>* RouterServiceImpl::StreamAssignments(
    grpc::CallbackServerContext* /*context*/, const v1::StreamAssignmentsRequest* request) {
  std::set<std::string> reps;
  for (int i = 0; i < request->rep_ids_size(); ++i) {
    if (request->rep_ids(i).empty()) {
      return new RejectingReactor(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                                               absl::StrCat("rep_ids[", i, "] is empty")));
    }
    reps.insert(request->rep_ids(i));
  }
  auto sink = std::make_shared<StreamSink>(std::move(reps), subscriber_queue_limit_);
  return new StreamReactor(hub_, std::move(sink));
}

}  // namespace leadrouter::api
