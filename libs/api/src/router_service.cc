#include "leadrouter/api/router_service.h"

#include <deque>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include "absl/strings/str_cat.h"
#include "leadrouter/api/error_text.h"
#include "leadrouter/api/grpc_status.h"

namespace leadrouter::api {

bool ParseCursor(const std::string& cursor, uint64_t& ms, uint64_t& seq) {
  const size_t dash = cursor.find('-');
  if (dash == std::string::npos || dash == 0 || dash + 1 == cursor.size()) return false;
  auto number = [](std::string_view text, uint64_t& out) {
    if (text.size() > 20) return false;
    out = 0;
    for (char c : text) {
      if (c < '0' || c > '9') return false;
      out = out * 10 + static_cast<uint64_t>(c - '0');
    }
    return true;
  };
  return number(std::string_view(cursor).substr(0, dash), ms) &&
         number(std::string_view(cursor).substr(dash + 1), seq);
}

bool CursorBefore(const std::string& a, const std::string& b) {
  uint64_t ams = 0, aseq = 0, bms = 0, bseq = 0;
  ParseCursor(a, ams, aseq);
  ParseCursor(b, bms, bseq);
  return ams < bms || (ams == bms && aseq < bseq);
}

namespace {

class StreamReactor;

// The state of one StreamAssignments call that the hub can hold safely: the reactor is deleted
// by gRPC (in OnDone), this object lives until the hub lets go of it.
class StreamSink final : public AssignmentSink {
 public:
  StreamSink(StreamFilter filter, size_t queue_limit, bool catching_up)
      : filter_(std::move(filter)), queue_limit_(queue_limit), catching_up_(catching_up) {}

  void Attach(grpc::ServerWriteReactor<v1::AssignmentEvent>* reactor) {
    std::lock_guard lock(mu_);
    reactor_ = reactor;
  }

  // A live event from the hub. While the backlog is being replayed, live events are held (up
  // to the queue limit) and released after it, minus those the backlog already delivered.
  void Offer(const SharedAssignment& assignment) override {
    if (!filter_.Wants(*assignment)) return;
    std::lock_guard lock(mu_);
    if (reactor_ == nullptr || finish_requested_) return;
    if (catching_up_) {
      if (held_.size() >= queue_limit_) {
        FinishLocked(TooSlow());
        return;
      }
      held_.push_back(assignment);
      return;
    }
    EnqueueLocked(assignment, /*bounded=*/true);
  }

  // Backlog events, oldest first; not bounded by the queue limit (the log's retention bounds
  // them).
  void Replay(const std::vector<SharedAssignment>& events) {
    std::lock_guard lock(mu_);
    for (const auto& event : events) {
      if (reactor_ == nullptr || finish_requested_) return;
      if (filter_.Wants(*event)) EnqueueLocked(event, /*bounded=*/false);
      if (!event->cursor().empty()) last_cursor_ = event->cursor();
    }
  }

  // The backlog is done: release the held live events that come after it.
  void CaughtUp() {
    std::lock_guard lock(mu_);
    catching_up_ = false;
    for (const auto& event : held_) {
      if (reactor_ == nullptr || finish_requested_) break;
      EnqueueLocked(event, /*bounded=*/true);
    }
    held_.clear();
  }

  void Fail(grpc::Status status) {
    std::lock_guard lock(mu_);
    FinishLocked(std::move(status));
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
      // The client went away, or the call was cancelled (a shutdown past its grace cancels a
      // subscriber that stopped reading). gRPC still requires exactly one Finish, and OnDone
      // (which the server's shutdown waits for) comes only after it: a Finish requested while
      // this write was stuck is sent now.
      if (pending_status_.has_value()) {
        SendFinishLocked();
      } else {
        FinishLocked(grpc::Status(grpc::StatusCode::CANCELLED, "stream broken"));
      }
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
  grpc::Status TooSlow() const {
    return grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                        absl::StrCat("subscriber fell more than ", queue_limit_,
                                     " events behind; reconnect with after_cursor set to the last "
                                     "cursor received"));
  }

  void EnqueueLocked(const SharedAssignment& event, bool bounded) {
    // Events at or before the last one delivered were already replayed from the log.
    if (!event->cursor().empty() && !last_cursor_.empty() &&
        !CursorBefore(last_cursor_, event->cursor())) {
      return;
    }
    if (bounded && queue_.size() >= queue_limit_) {
      FinishLocked(TooSlow());
      return;
    }
    if (!event->cursor().empty()) last_cursor_ = event->cursor();
    queue_.push_back(event);
    if (!write_in_flight_) StartNextWriteLocked();
  }

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

  const StreamFilter filter_;
  const size_t queue_limit_;
  bool catching_up_;                   // guarded by mu_
  std::deque<SharedAssignment> held_;  // live events held while catching up
  std::string last_cursor_;            // the newest cursor queued
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

// A unary call answered at once (the work ran inline in the method).
class DoneReactor final : public grpc::ServerUnaryReactor {
 public:
  explicit DoneReactor(grpc::Status status) { Finish(std::move(status)); }
  void OnDone() override { delete this; }
};

grpc::ServerUnaryReactor* Done(const absl::Status& status) {
  return new DoneReactor(ToGrpcStatus(status));
}

// A unary call finished later, from an executor thread (Finish may be called before gRPC has
// bound the reactor; it holds the status until then).
class LaterReactor final : public grpc::ServerUnaryReactor {
 public:
  void OnDone() override { delete this; }
};

// Runs `work` on the executor (never on gRPC's callback threads: it does Redis and Kafka I/O)
// and finishes the call with its result.
template <typename Response, typename Work>
grpc::ServerUnaryReactor* Offload(Executor& executor, Response* response, Work work) {
  auto* reactor = new LaterReactor();
  executor.Submit([reactor, response, work = std::move(work)]() mutable {
    absl::StatusOr<Response> result = work();
    if (result.ok()) *response = *std::move(result);
    reactor->Finish(ToGrpcStatus(result.status()));
  });
  return reactor;
}

}  // namespace

RouterServiceImpl::RouterServiceImpl(AssignmentHub& hub, size_t subscriber_queue_limit,
                                     ServiceCalls& calls)
    : hub_(hub), subscriber_queue_limit_(subscriber_queue_limit), calls_(calls) {}

grpc::ServerWriteReactor<v1::AssignmentEvent>* RouterServiceImpl::StreamAssignments(
    grpc::CallbackServerContext* context, const v1::StreamAssignmentsRequest* request) {
  auto reject = [](const absl::Status& status) {
    return new RejectingReactor(ToGrpcStatus(status));
  };
  auto principal = calls_.authorizer().Authenticate(*context);
  if (!principal.ok()) return reject(principal.status());
  auto filter = calls_.FilterFor(*principal, *request);
  if (!filter.ok()) return reject(filter.status());
  const std::string& after = request->after_cursor();
  uint64_t ms = 0, seq = 0;
  if (!after.empty() && !ParseCursor(after, ms, seq)) {
    return reject(absl::InvalidArgumentError(
        absl::StrCat("after_cursor: ", QuoteForError(after), " is not a cursor (<ms>-<seq>)")));
  }
  auto sink = std::make_shared<StreamSink>(*std::move(filter), subscriber_queue_limit_,
                                           /*catching_up=*/!after.empty());
  auto* reactor = new StreamReactor(hub_, sink);
  if (!after.empty()) {
    // The backlog is read on the executor (Redis I/O); live events are held by the sink
    // meanwhile, and both are ordered by cursor.
    executor_.Submit([this, sink, after] {
      LeadOperations& operations = calls_.operations();
      auto trimmed = operations.LogTrimmedUpTo();
      if (!trimmed.ok()) return sink->Fail(ToGrpcStatus(trimmed.status()));
      if (CursorBefore(after, *trimmed)) {
        return sink->Fail(ToGrpcStatus(absl::OutOfRangeError(absl::StrCat(
            "after_cursor: ", after, " is older than the retained log (oldest retained ", *trimmed,
            "); re-sync from the leads.assignments topic, then resume"))));
      }
      std::string cursor = after;
      constexpr size_t kPage = 500;
      while (true) {
        auto page = operations.ReadLog(cursor, kPage);
        if (!page.ok()) return sink->Fail(ToGrpcStatus(page.status()));
        sink->Replay(*page);
        if (page->size() < kPage) break;
        cursor = page->back()->cursor();
      }
      sink->CaughtUp();
    });
  }
  return reactor;
}

// A unary RPC: authenticate on the callback thread (no I/O), then the call itself, its checks
// included, on the executor.
template <typename Request, typename Response>
grpc::ServerUnaryReactor* Unary(ServiceCalls& calls, Executor& executor,
                                grpc::CallbackServerContext& context, const Request* request,
                                Response* response,
                                absl::StatusOr<Response> (ServiceCalls::*call)(const Principal&,
                                                                               const Request&)) {
  auto principal = calls.authorizer().Authenticate(context);
  if (!principal.ok()) return Done(principal.status());
  return Offload(executor, response, [&calls, request, call, caller = *std::move(principal)] {
    return (calls.*call)(caller, *request);
  });
}

grpc::ServerUnaryReactor* RouterServiceImpl::AcceptLead(grpc::CallbackServerContext* context,
                                                        const v1::AcceptLeadRequest* request,
                                                        v1::LeadUpdate* response) {
  return Unary(calls_, executor_, *context, request, response, &ServiceCalls::Accept);
}

grpc::ServerUnaryReactor* RouterServiceImpl::ReturnLead(grpc::CallbackServerContext* context,
                                                        const v1::ReturnLeadRequest* request,
                                                        v1::LeadUpdate* response) {
  return Unary(calls_, executor_, *context, request, response, &ServiceCalls::Return);
}

grpc::ServerUnaryReactor* RouterServiceImpl::ConvertLead(grpc::CallbackServerContext* context,
                                                         const v1::ConvertLeadRequest* request,
                                                         v1::LeadUpdate* response) {
  return Unary(calls_, executor_, *context, request, response, &ServiceCalls::Convert);
}

grpc::ServerUnaryReactor* RouterServiceImpl::ExplainLead(grpc::CallbackServerContext* context,
                                                         const v1::ExplainLeadRequest* request,
                                                         v1::AssignmentEvent* response) {
  return Unary(calls_, executor_, *context, request, response, &ServiceCalls::Explain);
}

grpc::ServerUnaryReactor* RouterServiceImpl::ClaimAccounts(grpc::CallbackServerContext* context,
                                                           const v1::ClaimAccountsRequest* request,
                                                           v1::ClaimAccountsResponse* response) {
  return Unary(calls_, executor_, *context, request, response, &ServiceCalls::ClaimAccounts);
}

grpc::ServerUnaryReactor* RouterServiceImpl::ListClaims(grpc::CallbackServerContext* context,
                                                        const v1::ListClaimsRequest* request,
                                                        v1::ListClaimsResponse* response) {
  return Unary(calls_, executor_, *context, request, response, &ServiceCalls::ListClaims);
}

AdminServiceImpl::AdminServiceImpl(ServiceCalls& calls) : calls_(calls) {}

grpc::ServerUnaryReactor* AdminServiceImpl::SetAvailability(
    grpc::CallbackServerContext* context, const v1::SetAvailabilityRequest* request,
    v1::RepLoad* response) {
  return Unary(calls_, executor_, *context, request, response, &ServiceCalls::SetAvailability);
}

grpc::ServerUnaryReactor* AdminServiceImpl::SetCapacity(grpc::CallbackServerContext* context,
                                                        const v1::SetCapacityRequest* request,
                                                        v1::RepLoad* response) {
  return Unary(calls_, executor_, *context, request, response, &ServiceCalls::SetCapacity);
}

grpc::ServerUnaryReactor* AdminServiceImpl::ListUnassigned(grpc::CallbackServerContext* context,
                                                           const v1::ListUnassignedRequest* request,
                                                           v1::ListUnassignedResponse* response) {
  return Unary(calls_, executor_, *context, request, response, &ServiceCalls::ListUnassigned);
}

grpc::ServerUnaryReactor* AdminServiceImpl::ResolveClaimConflict(
    grpc::CallbackServerContext* context, const v1::ResolveClaimConflictRequest* request,
    v1::ClaimConflict* response) {
  return Unary(calls_, executor_, *context, request, response, &ServiceCalls::ResolveClaimConflict);
}

grpc::ServerUnaryReactor* AdminServiceImpl::ListRepLoad(grpc::CallbackServerContext* context,
                                                        const v1::ListRepLoadRequest* /*request*/,
                                                        v1::ListRepLoadResponse* response) {
  auto principal = calls_.authorizer().Authenticate(*context);
  if (!principal.ok()) return Done(principal.status());
  return Offload(executor_, response,
                 [this, caller = *std::move(principal)] { return calls_.ListRepLoad(caller); });
}

grpc::ServerUnaryReactor* AdminServiceImpl::ReloadConfig(grpc::CallbackServerContext* context,
                                                         const v1::ReloadConfigRequest* /*request*/,
                                                         v1::ReloadConfigResponse* response) {
  auto principal = calls_.authorizer().Authenticate(*context);
  if (!principal.ok()) return Done(principal.status());
  return Offload(executor_, response,
                 [this, caller = *std::move(principal)] { return calls_.ReloadConfig(caller); });
}

}  // namespace leadrouter::api
