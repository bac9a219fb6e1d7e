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

// Which events one subscriber gets: the reps and pools it asked for, within what its token may
// see (checked against the config of the moment it subscribed).
struct StreamFilter {
  std::set<std::string> reps;
  std::set<std::string> pools;
  Principal principal;
  std::shared_ptr<const config::Config> config;

  bool Wants(const v1::AssignmentEvent& event) const {
    if (!reps.empty() && !reps.count(event.rep_id())) return false;
    if (!pools.empty() && !pools.count(event.pool())) return false;
    if (principal.Unrestricted()) return true;
    // A restricted token sees only its reps' events (not the unassigned queue).
    return !event.rep_id().empty() && principal.MayActFor(event.rep_id(), config->routing);
  }
};

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

// Authenticates, checks the scope and that the caller may act for `rep_id`.
absl::StatusOr<Principal> AuthorizeFor(const Authorizer& authorizer,
                                       const grpc::CallbackServerContext& context, Scope scope,
                                       const std::string& rep_id, const config::Config& config) {
  auto principal = authorizer.Authorize(context, scope);
  if (!principal.ok()) return principal.status();
  if (!rep_id.empty()) {
    if (absl::Status may = authorizer.RequireActFor(*principal, rep_id, config.routing);
        !may.ok()) {
      return may;
    }
  }
  return principal;
}

template <typename Request>
absl::Status RequireIds(const Request& request) {
  if (request.lead_id().empty()) return absl::InvalidArgumentError("lead_id: required");
  if (request.rep_id().empty()) return absl::InvalidArgumentError("rep_id: required");
  return absl::OkStatus();
}

}  // namespace

RouterServiceImpl::RouterServiceImpl(AssignmentHub& hub, size_t subscriber_queue_limit,
                                     LeadOperations& operations, const Authorizer& authorizer)
    : hub_(hub),
      subscriber_queue_limit_(subscriber_queue_limit),
      operations_(operations),
      authorizer_(authorizer) {}

grpc::ServerWriteReactor<v1::AssignmentEvent>* RouterServiceImpl::StreamAssignments(
    grpc::CallbackServerContext* context, const v1::StreamAssignmentsRequest* request) {
  auto reject = [](const absl::Status& status) {
    return new RejectingReactor(ToGrpcStatus(status));
  };
  auto principal = authorizer_.Authorize(*context, Scope::kStream);
  if (!principal.ok()) return reject(principal.status());
  StreamFilter filter;
  filter.config = operations_.CurrentConfig();
  for (int i = 0; i < request->rep_ids_size(); ++i) {
    if (request->rep_ids(i).empty()) {
      return reject(absl::InvalidArgumentError(absl::StrCat("rep_ids[", i, "]: is empty")));
    }
    if (absl::Status may =
            authorizer_.RequireActFor(*principal, request->rep_ids(i), filter.config->routing);
        !may.ok()) {
      return reject(may);
    }
    filter.reps.insert(request->rep_ids(i));
  }
  for (int i = 0; i < request->pools_size(); ++i) {
    if (request->pools(i).empty()) {
      return reject(absl::InvalidArgumentError(absl::StrCat("pools[", i, "]: is empty")));
    }
    filter.pools.insert(request->pools(i));
  }
  filter.principal = *std::move(principal);
  const std::string& after = request->after_cursor();
  uint64_t ms = 0, seq = 0;
  if (!after.empty() && !ParseCursor(after, ms, seq)) {
    return reject(absl::InvalidArgumentError(
        absl::StrCat("after_cursor: ", QuoteForError(after), " is not a cursor (<ms>-<seq>)")));
  }
  auto sink = std::make_shared<StreamSink>(std::move(filter), subscriber_queue_limit_,
                                           /*catching_up=*/!after.empty());
  auto* reactor = new StreamReactor(hub_, sink);
  if (!after.empty()) {
    // The backlog is read on the executor (Redis I/O); live events are held by the sink
    // meanwhile, and both are ordered by cursor.
    executor_.Submit([this, sink, after] {
      auto trimmed = operations_.LogTrimmedUpTo();
      if (!trimmed.ok()) return sink->Fail(ToGrpcStatus(trimmed.status()));
      if (CursorBefore(after, *trimmed)) {
        return sink->Fail(ToGrpcStatus(absl::OutOfRangeError(absl::StrCat(
            "after_cursor: ", after, " is older than the retained log (oldest retained ", *trimmed,
            "); re-sync from the leads.assignments topic, then resume"))));
      }
      std::string cursor = after;
      constexpr size_t kPage = 500;
      while (true) {
        auto page = operations_.ReadLog(cursor, kPage);
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

template <typename Request>
grpc::ServerUnaryReactor* RouterServiceImpl::Act(
    grpc::CallbackServerContext* context, const Request& request, v1::LeadUpdate* response,
    absl::StatusOr<v1::LeadUpdate> (LeadOperations::*operation)(const Request&,
                                                                const std::string&)) {
  if (absl::Status ids = RequireIds(request); !ids.ok()) return Done(ids);
  auto principal = AuthorizeFor(authorizer_, *context, Scope::kAct, request.rep_id(),
                                *operations_.CurrentConfig());
  if (!principal.ok()) return Done(principal.status());
  return Offload(executor_, response, [this, &request, operation, actor = principal->name] {
    return (operations_.*operation)(request, actor);
  });
}

grpc::ServerUnaryReactor* RouterServiceImpl::AcceptLead(grpc::CallbackServerContext* context,
                                                        const v1::AcceptLeadRequest* request,
                                                        v1::LeadUpdate* response) {
  return Act(context, *request, response, &LeadOperations::Accept);
}

grpc::ServerUnaryReactor* RouterServiceImpl::ReturnLead(grpc::CallbackServerContext* context,
                                                        const v1::ReturnLeadRequest* request,
                                                        v1::LeadUpdate* response) {
  return Act(context, *request, response, &LeadOperations::Return);
}

grpc::ServerUnaryReactor* RouterServiceImpl::ConvertLead(grpc::CallbackServerContext* context,
                                                         const v1::ConvertLeadRequest* request,
                                                         v1::LeadUpdate* response) {
  return Act(context, *request, response, &LeadOperations::Convert);
}

grpc::ServerUnaryReactor* RouterServiceImpl::ExplainLead(grpc::CallbackServerContext* context,
                                                         const v1::ExplainLeadRequest* request,
                                                         v1::AssignmentEvent* response) {
  if (request->lead_id().empty()) return Done(absl::InvalidArgumentError("lead_id: required"));
  // Either scope may explain; a restricted token only its reps' leads.
  auto principal = authorizer_.Authenticate(*context);
  if (!principal.ok()) return Done(principal.status());
  if (!principal->Has(Scope::kAct) && !principal->Has(Scope::kStream)) {
    return Done(authorizer_.Require(*principal, Scope::kAct));
  }
  return Offload(
      executor_, response,
      [this, request, principal = *std::move(principal)]() -> absl::StatusOr<v1::AssignmentEvent> {
        auto explained = operations_.Explain(request->lead_id());
        if (!explained.ok()) return explained.status();
        if (!principal.Unrestricted() &&
            (explained->rep_id().empty() ||
             !principal.MayActFor(explained->rep_id(), operations_.CurrentConfig()->routing))) {
          return absl::PermissionDeniedError(absl::StrCat(principal.name, " may not see lead ",
                                                          QuoteForError(request->lead_id())));
        }
        return explained;
      });
}

grpc::ServerUnaryReactor* RouterServiceImpl::ClaimAccounts(grpc::CallbackServerContext* context,
                                                           const v1::ClaimAccountsRequest* request,
                                                           v1::ClaimAccountsResponse* response) {
  if (request->rep_id().empty()) return Done(absl::InvalidArgumentError("rep_id: required"));
  auto principal = AuthorizeFor(authorizer_, *context, Scope::kAct, request->rep_id(),
                                *operations_.CurrentConfig());
  if (!principal.ok()) return Done(principal.status());
  return Offload(executor_, response, [this, request, actor = principal->name] {
    return operations_.ClaimAccounts(*request, actor);
  });
}

grpc::ServerUnaryReactor* RouterServiceImpl::ListClaims(grpc::CallbackServerContext* context,
                                                        const v1::ListClaimsRequest* request,
                                                        v1::ListClaimsResponse* response) {
  auto principal = authorizer_.Authenticate(*context);
  if (!principal.ok()) return Done(principal.status());
  if (!principal->Has(Scope::kAct) && !principal->Has(Scope::kStream)) {
    return Done(authorizer_.Require(*principal, Scope::kAct));
  }
  const auto config = operations_.CurrentConfig();
  v1::ListClaimsRequest narrowed = *request;
  for (int i = 0; i < request->rep_ids_size(); ++i) {
    if (request->rep_ids(i).empty()) {
      return Done(absl::InvalidArgumentError(absl::StrCat("rep_ids[", i, "]: is empty")));
    }
    if (absl::Status may =
            authorizer_.RequireActFor(*principal, request->rep_ids(i), config->routing);
        !may.ok()) {
      return Done(may);
    }
  }
  // A token limited to some reps sees only their claims and conflicts.
  if (request->rep_ids().empty() && !principal->Unrestricted()) {
    for (const config::RepConfig& rep : config->reps) {
      if (principal->MayActFor(rep.id, config->routing)) narrowed.add_rep_ids(rep.id);
    }
    if (narrowed.rep_ids().empty()) {
      return Done(absl::PermissionDeniedError(
          absl::StrCat(principal->name, " may not see any configured rep's claims")));
    }
  }
  return Offload(executor_, response, [this, narrowed = std::move(narrowed)] {
    return operations_.ListClaims(narrowed);
  });
}

AdminServiceImpl::AdminServiceImpl(LeadOperations& operations, const Authorizer& authorizer)
    : operations_(operations), authorizer_(authorizer) {}

grpc::ServerUnaryReactor* AdminServiceImpl::SetAvailability(
    grpc::CallbackServerContext* context, const v1::SetAvailabilityRequest* request,
    v1::RepLoad* response) {
  if (auto p = authorizer_.Authorize(*context, Scope::kAdmin); !p.ok()) return Done(p.status());
  return Offload(executor_, response,
                 [this, request] { return operations_.SetAvailability(*request); });
}

grpc::ServerUnaryReactor* AdminServiceImpl::SetCapacity(grpc::CallbackServerContext* context,
                                                        const v1::SetCapacityRequest* request,
                                                        v1::RepLoad* response) {
  if (auto p = authorizer_.Authorize(*context, Scope::kAdmin); !p.ok()) return Done(p.status());
  return Offload(executor_, response,
                 [this, request] { return operations_.SetCapacity(*request); });
}

grpc::ServerUnaryReactor* AdminServiceImpl::ListUnassigned(grpc::CallbackServerContext* context,
                                                           const v1::ListUnassignedRequest* request,
                                                           v1::ListUnassignedResponse* response) {
  if (auto p = authorizer_.Authorize(*context, Scope::kAdmin); !p.ok()) return Done(p.status());
  if (request->limit() < 0 || request->limit() > 1000) {
    return Done(absl::InvalidArgumentError(
        absl::StrCat("limit: must be between 0 and 1000, got ", request->limit())));
  }
  const int limit = request->limit() == 0 ? 100 : request->limit();
  return Offload(executor_, response, [this, limit] { return operations_.ListUnassigned(limit); });
}

grpc::ServerUnaryReactor* AdminServiceImpl::ListRepLoad(grpc::CallbackServerContext* context,
                                                        const v1::ListRepLoadRequest* /*request*/,
                                                        v1::ListRepLoadResponse* response) {
  if (auto p = authorizer_.Authorize(*context, Scope::kAdmin); !p.ok()) return Done(p.status());
  return Offload(executor_, response, [this] { return operations_.ListRepLoad(); });
}

grpc::ServerUnaryReactor* AdminServiceImpl::ResolveClaimConflict(
    grpc::CallbackServerContext* context, const v1::ResolveClaimConflictRequest* request,
    v1::ClaimConflict* response) {
  auto principal = authorizer_.Authorize(*context, Scope::kAdmin);
  if (!principal.ok()) return Done(principal.status());
  return Offload(executor_, response, [this, request, actor = principal->name] {
    return operations_.ResolveClaimConflict(*request, actor);
  });
}

grpc::ServerUnaryReactor* AdminServiceImpl::ReloadConfig(grpc::CallbackServerContext* context,
                                                         const v1::ReloadConfigRequest* /*request*/,
                                                         v1::ReloadConfigResponse* response) {
  if (auto p = authorizer_.Authorize(*context, Scope::kAdmin); !p.ok()) return Done(p.status());
  return Offload(executor_, response, [this] { return operations_.ReloadConfig(); });
}

}  // namespace leadrouter::api
