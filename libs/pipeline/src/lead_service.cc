#include "leadrouter/pipeline/lead_service.h"

#include <google/protobuf/util/time_util.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <thread>

#include "absl/strings/str_cat.h"
#include "leadrouter/api/error_text.h"
#include "leadrouter/core/backoff.h"
#include "leadrouter/pipeline/assigner.h"
#include "leadrouter/pipeline/claims.h"
#include "leadrouter/pipeline/lead_metrics.h"
#include "leadrouter/pipeline/messages.h"

namespace leadrouter::pipeline {
namespace {

constexpr size_t kExpiryBatch = 100;
constexpr size_t kMaxIdleConnections = 8;

// One entry of the assignment log as its event, with the cursor set.
absl::StatusOr<std::shared_ptr<v1::AssignmentEvent>> LogEvent(
    const store::AssignmentStore::LogEntry& entry) {
  auto event = std::make_shared<v1::AssignmentEvent>();
  if (!event->ParseFromString(entry.bytes)) {
    return absl::DataLossError(absl::StrCat("assignment log entry ", entry.id, " does not parse"));
  }
  event->set_cursor(entry.id);
  return event;
}

}  // namespace

class LeadService::Lease {
 public:
  Lease(LeadService* owner, std::unique_ptr<store::AssignmentStore> store)
      : owner_(owner), store_(std::move(store)) {}
  Lease(Lease&&) = default;
  ~Lease() {
    if (!store_ || !store_->healthy()) return;
    std::lock_guard lock(owner_->mu_);
    if (owner_->idle_.size() < kMaxIdleConnections) owner_->idle_.push_back(std::move(store_));
  }
  store::AssignmentStore& operator*() { return *store_; }

 private:
  LeadService* owner_;
  std::unique_ptr<store::AssignmentStore> store_;
};

LeadService::LeadService(config::ConfigReloader& configs, store::RedisOptions redis,
                         kafka::Producer& producer, metrics::PipelineMetrics& metrics,
                         const core::Clock& clock)
    : configs_(configs),
      redis_(std::move(redis)),
      producer_(producer),
      metrics_(metrics),
      clock_(clock) {}

LeadService::~LeadService() = default;

absl::StatusOr<LeadService::Lease> LeadService::Borrow() {
  {
    std::lock_guard lock(mu_);
    if (!idle_.empty()) {
      auto store = std::move(idle_.back());
      idle_.pop_back();
      return Lease(this, std::move(store));
    }
  }
  auto store = store::AssignmentStore::Connect(redis_);
  if (!store.ok()) return store.status();
  return Lease(this, *std::move(store));
}

std::shared_ptr<const config::Config> LeadService::CurrentConfig() const {
  return configs_.Current();
}

v1::LeadUpdate LeadService::Publish(const config::Config& config, const LeadUpdate& update) {
  v1::LeadUpdate answer;
  for (const auto& event : update.events) *answer.add_events() = *event;
  if (update.unchanged) return answer;
  // The transitions reach Kafka through the outbox (OutboxForwarder), from the shared log the
  // commit appended them to: in order, even when Kafka is down now.
  for (const auto& event : update.events) CountLeadEvent(metrics_, config, *event);
  std::vector<kafka::OutgoingMessage> outputs;
  for (const auto& nurture : update.recycled) {
    auto message =
        JsonMessage(config.kafka.topics.nurture, nurture->lead_id(), nurture->event_id(), *nurture);
    if (message.ok()) outputs.push_back(*std::move(message));
  }
  if (outputs.empty()) return answer;
  if (absl::Status produced = producer_.ProduceAndWait(outputs, config.kafka.produce_timeout);
      !produced.ok()) {
    metrics_.BatchFailed("kafka_produce");
    spdlog::error(
        "{} recycled lead(s) committed in Redis (and on the gRPC stream) but not acknowledged "
        "by Kafka on the nurture topic: {}",
        outputs.size(), produced.ToString());
  }
  return answer;
}

absl::StatusOr<v1::LeadUpdate> LeadService::RunTransition(
    const std::function<absl::StatusOr<LeadUpdate>(LeadLifecycle&)>& transition) {
  auto store = Borrow();
  if (!store.ok()) return store.status();
  const auto config = configs_.Current();
  LeadLifecycle lifecycle(**store, config, clock_);
  auto update = transition(lifecycle);
  if (!update.ok()) return update.status();
  return Publish(*config, *update);
}

absl::StatusOr<v1::LeadUpdate> LeadService::Accept(const v1::AcceptLeadRequest& request,
                                                   const std::string& actor) {
  return RunTransition([&](LeadLifecycle& lifecycle) {
    return lifecycle.Accept(core::LeadId(request.lead_id()), core::RepId(request.rep_id()), actor);
  });
}

absl::StatusOr<v1::LeadUpdate> LeadService::Return(const v1::ReturnLeadRequest& request,
                                                   const std::string& actor) {
  return RunTransition([&](LeadLifecycle& lifecycle) {
    return lifecycle.Return(core::LeadId(request.lead_id()), core::RepId(request.rep_id()),
                            request.reason(), request.note(), actor);
  });
}

absl::StatusOr<v1::LeadUpdate> LeadService::Convert(const v1::ConvertLeadRequest& request,
                                                    const std::string& actor) {
  return RunTransition([&](LeadLifecycle& lifecycle) {
    return lifecycle.Convert(core::LeadId(request.lead_id()), core::RepId(request.rep_id()),
                             request.value(), request.note(), actor);
  });
}

absl::StatusOr<v1::AssignmentEvent> LeadService::Explain(const std::string& lead_id) {
  auto store = Borrow();
  if (!store.ok()) return store.status();
  LeadLifecycle lifecycle(**store, configs_.Current(), clock_);
  return lifecycle.Explain(core::LeadId(lead_id));
}

namespace {

absl::StatusOr<std::vector<api::SharedAssignment>> LogEvents(
    const absl::StatusOr<std::vector<store::AssignmentStore::LogEntry>>& entries) {
  if (!entries.ok()) return entries.status();
  std::vector<api::SharedAssignment> events;
  for (const auto& entry : *entries) {
    auto event = LogEvent(entry);
    if (!event.ok()) return event.status();
    events.push_back(*std::move(event));
  }
  return events;
}

}  // namespace

absl::StatusOr<std::vector<api::SharedAssignment>> LeadService::ReadLog(
    const std::string& after_cursor, size_t limit) {
  auto store = Borrow();
  if (!store.ok()) return store.status();
  return LogEvents((**store).ReadLog(after_cursor, limit));
}

absl::StatusOr<std::vector<api::SharedAssignment>> LeadService::ReadLogTail(size_t limit) {
  auto store = Borrow();
  if (!store.ok()) return store.status();
  return LogEvents((**store).ReadLogTail(limit));
}

absl::StatusOr<std::string> LeadService::LogTrimmedUpTo() {
  auto store = Borrow();
  if (!store.ok()) return store.status();
  return (**store).LogTrimmedUpTo();
}

absl::StatusOr<v1::ListUnassignedResponse> LeadService::ListUnassigned(int limit) {
  auto store = Borrow();
  if (!store.ok()) return store.status();
  auto queue = (**store).PeekUnassigned(static_cast<size_t>(std::max(1, limit)));
  if (!queue.ok()) return queue.status();
  auto records = (**store).LoadRecords(queue->first);
  if (!records.ok()) return records.status();
  v1::ListUnassignedResponse response;
  response.set_total(queue->second);
  for (const auto& record : *records) {
    v1::EventOutcome outcome;
    if (record.has_value() && outcome.ParseFromString(*record) && outcome.has_assignment()) {
      *response.add_leads() = outcome.assignment();
    }
  }
  return response;
}

namespace {

v1::RepLoad RepLoadOf(const config::Config& config, const routing::RepProfile& rep,
                      const routing::RoutingState& state, core::TimePoint now) {
  v1::RepLoad load;
  load.set_rep_id(rep.id);
  const auto status = config.engine->StatusOf(rep.id, now, state);
  const auto it = state.reps.find(rep.id);
  const routing::RepCounters counters =
      it == state.reps.end() ? routing::RepCounters{} : it->second;
  load.set_open_leads(counters.open_leads);
  // The day count is for the rep's local day stored with it; a new local day starts at 0.
  if (status && counters.day == status->local_day)
    load.set_assigned_today(counters.assigned_on_day);
  load.set_max_open_leads(routing::EffectiveMaxOpen(rep, counters));
  load.set_daily_cap(routing::EffectiveDailyCap(rep, counters));
  load.set_paused(counters.paused);
  load.set_available_now(status && status->unavailable.empty());
  load.set_unavailable_reason(status ? status->unavailable : "not a configured rep");
  return load;
}

constexpr int kMaxAdminCommitAttempts = 16;

}  // namespace

absl::StatusOr<v1::ListRepLoadResponse> LeadService::ListRepLoad() {
  auto store = Borrow();
  if (!store.ok()) return store.status();
  auto snapshot = (**store).Load({});
  if (!snapshot.ok()) return snapshot.status();
  const auto config = configs_.Current();
  auto state = StateFromFields(snapshot->state);
  if (!state.ok()) return state.status();
  v1::ListRepLoadResponse response;
  for (const routing::RepProfile& rep : config->routing.reps) {
    *response.add_reps() = RepLoadOf(*config, rep, *state, clock_.Now());
  }
  return response;
}

absl::StatusOr<v1::RepLoad> LeadService::UpdateRep(
    const std::string& rep_id, const std::function<absl::Status(routing::RepCounters&)>& change) {
  if (rep_id.empty()) return absl::InvalidArgumentError("rep_id: required");
  const auto config = configs_.Current();
  const auto profile = std::find_if(config->routing.reps.begin(), config->routing.reps.end(),
                                    [&](const routing::RepProfile& r) { return r.id == rep_id; });
  if (profile == config->routing.reps.end()) {
    return absl::NotFoundError(
        absl::StrCat("rep_id: no rep ", api::QuoteForError(rep_id), " in the config"));
  }
  auto store = Borrow();
  if (!store.ok()) return store.status();
  for (int attempt = 0; attempt < kMaxAdminCommitAttempts; ++attempt) {
    auto snapshot = (**store).Load({});
    if (!snapshot.ok()) return snapshot.status();
    auto loaded = StateFromFields(snapshot->state);
    if (!loaded.ok()) return loaded.status();
    routing::RoutingState state = *std::move(loaded);
    if (absl::Status changed = change(state.reps[rep_id]); !changed.ok()) return changed;
    store::AssignmentStore::CommitRequest commit;
    commit.expected_version = snapshot->version;
    commit.state_updates = ChangedFields(snapshot->state, state);
    // Overrides that were cleared leave the hash.
    const std::map<std::string, std::string> after = FieldsFromState(state);
    const std::string prefix = absl::StrCat("rep:", rep_id, ":");
    for (const auto& [field, value] : snapshot->state) {
      if (field.rfind(prefix, 0) == 0 && !after.count(field)) commit.state_deletes.push_back(field);
    }
    if (commit.state_updates.empty() && commit.state_deletes.empty()) {
      return RepLoadOf(*config, *profile, state, clock_.Now());
    }
    auto committed = (**store).Commit(commit);
    if (!committed.ok()) return committed.status();
    if (*committed == store::AssignmentStore::CommitResult::kCommitted) {
      return RepLoadOf(*config, *profile, state, clock_.Now());
    }
  }
  return absl::AbortedError("routing state still contended; retry");
}

absl::StatusOr<v1::RepLoad> LeadService::SetAvailability(
    const v1::SetAvailabilityRequest& request) {
  const bool has_from = request.has_out_of_office_from();
  const bool has_to = request.has_out_of_office_to();
  if (has_from != has_to) {
    return absl::InvalidArgumentError(has_from
                                          ? "out_of_office_to: required with out_of_office_from"
                                          : "out_of_office_from: required with out_of_office_to");
  }
  using google::protobuf::util::TimeUtil;
  const auto from = core::TimePoint(std::chrono::seconds(request.out_of_office_from().seconds()));
  const auto to = core::TimePoint(std::chrono::seconds(request.out_of_office_to().seconds()));
  if (has_from && to <= from) {
    return absl::InvalidArgumentError("out_of_office_to: must be after out_of_office_from");
  }
  if (!request.has_paused() && !has_from && !request.clear_out_of_office()) {
    return absl::InvalidArgumentError(
        "nothing to change: set paused, an out_of_office_from/to window or clear_out_of_office");
  }
  return UpdateRep(request.rep_id(), [&](routing::RepCounters& rep) {
    if (request.has_paused()) rep.paused = request.paused();
    if (request.clear_out_of_office()) rep.extra_out_of_office.clear();
    if (has_from) rep.extra_out_of_office.push_back({from, to});
    return absl::OkStatus();
  });
}

absl::StatusOr<v1::RepLoad> LeadService::SetCapacity(const v1::SetCapacityRequest& request) {
  if (request.has_max_open_leads() && request.max_open_leads() < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("max_open_leads: must be >= 0 (0 = no cap), got ", request.max_open_leads()));
  }
  if (request.has_daily_cap() && request.daily_cap() < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("daily_cap: must be >= 0 (0 = no cap), got ", request.daily_cap()));
  }
  if (!request.clear() && !request.has_max_open_leads() && !request.has_daily_cap()) {
    return absl::InvalidArgumentError("nothing to change: set max_open_leads, daily_cap or clear");
  }
  return UpdateRep(request.rep_id(), [&](routing::RepCounters& rep) {
    if (request.clear()) {
      rep.max_open_override.reset();
      rep.daily_cap_override.reset();
    }
    if (request.has_max_open_leads()) rep.max_open_override = request.max_open_leads();
    if (request.has_daily_cap()) rep.daily_cap_override = request.daily_cap();
    return absl::OkStatus();
  });
}

absl::StatusOr<v1::ReloadConfigResponse> LeadService::ReloadConfig() {
  const config::ConfigReloader::Report report = configs_.Reload();
  metrics_.ConfigReload(config::ReloadResultName(report.result));
  v1::ReloadConfigResponse response;
  response.set_result(config::ReloadResultName(report.result));
  response.set_version(configs_.Current()->version);
  response.set_detail(report.message);
  if (report.result == config::ConfigReloader::Result::kApplied) {
    metrics_.SetConfigInfo(configs_.Current()->version);
  }
  return response;
}

absl::StatusOr<v1::ClaimAccountsResponse> LeadService::ClaimAccounts(
    const v1::ClaimAccountsRequest& request, const std::string& actor) {
  auto store = Borrow();
  if (!store.ok()) return store.status();
  AccountClaims claims(**store, configs_.Current(), clock_);
  auto response = claims.Claim(request, actor);
  if (!response.ok()) return response.status();
  for (const v1::ClaimResult& result : response->results()) {
    metrics_.AccountClaim(
        ShortEnumName(v1::ClaimOutcome_Name(result.outcome()), "CLAIM_OUTCOME_", /*lower=*/true));
    spdlog::info("claim: {} on {} by {}: {}", request.rep_id(), result.domain(), actor,
                 v1::ClaimOutcome_Name(result.outcome()));
  }
  return response;
}

absl::StatusOr<v1::ListClaimsResponse> LeadService::ListClaims(
    const v1::ListClaimsRequest& request) {
  auto store = Borrow();
  if (!store.ok()) return store.status();
  return AccountClaims(**store, configs_.Current(), clock_).List(request);
}

absl::StatusOr<v1::ClaimConflict> LeadService::ResolveClaimConflict(
    const v1::ResolveClaimConflictRequest& request, const std::string& actor) {
  auto store = Borrow();
  if (!store.ok()) return store.status();
  auto resolved = AccountClaims(**store, configs_.Current(), clock_).Resolve(request, actor);
  if (!resolved.ok()) return resolved.status();
  metrics_.ClaimConflictResolved(ShortEnumName(v1::ConflictDecision_Name(request.decision()),
                                               "CONFLICT_DECISION_", /*lower=*/true));
  spdlog::info("claim conflict of {} on {} resolved by {}: {}", request.claimant_rep_id(),
               resolved->domain(), actor, v1::ConflictStatus_Name(resolved->status()));
  return resolved;
}

absl::StatusOr<size_t> LeadService::ExpireDue() {
  auto store = Borrow();
  if (!store.ok()) return store.status();
  const auto config = configs_.Current();
  LeadLifecycle lifecycle(**store, config, clock_);
  auto update = lifecycle.ExpireDue(kExpiryBatch);
  if (!update.ok()) return update.status();
  size_t expired = 0;
  for (const auto& event : update->events) {
    expired += event->status() == v1::ASSIGNMENT_STATUS_EXPIRED;
  }
  if (!update->events.empty()) Publish(*config, *update);
  if (auto pending = (**store).SlaPendingCount(); pending.ok()) {
    metrics_.SetSlaPending(static_cast<double>(*pending));
  }
  return expired;
}

void LeadService::RunExpiry(const std::atomic<bool>& stop, std::chrono::milliseconds interval) {
  core::Backoff backoff(interval, std::chrono::seconds(10));
  auto wait = interval;
  while (!stop.load()) {
    // Sleep in small steps so shutdown is prompt.
    for (auto slept = std::chrono::milliseconds(0); slept < wait && !stop.load();
         slept += std::chrono::milliseconds(50)) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    if (stop.load()) return;
    auto expired = ExpireDue();
    if (!expired.ok()) {
      wait = backoff.Next();
      spdlog::warn("SLA expiry pass failed, retrying in {} ms: {}", wait.count(),
                   expired.status().ToString());
      continue;
    }
    backoff.Reset();
    wait = interval;
    if (*expired > 0)
      spdlog::info("{} lead(s) passed their accept SLA and were re-routed", *expired);
  }
}

LogTailer::LogTailer(store::RedisOptions redis, api::AssignmentHub& hub)
    : redis_(std::move(redis)), hub_(hub) {}

void LogTailer::Run(const std::atomic<bool>& stop) {
  constexpr auto kBlock = std::chrono::milliseconds(500);
  store::RedisOptions options = redis_;
  // XREAD BLOCK must finish before the socket timeout.
  options.command_timeout = std::max(options.command_timeout, kBlock + std::chrono::seconds(2));
  core::Backoff backoff(std::chrono::milliseconds(100), std::chrono::seconds(5));
  std::string after;  // the last entry published; resolved from the log's end at start
  std::unique_ptr<store::AssignmentStore> store;
  while (!stop.load()) {
    if (!store) {
      auto connected = store::AssignmentStore::Connect(options);
      if (!connected.ok()) {
        spdlog::warn("assignment log: {}", connected.status().ToString());
        std::this_thread::sleep_for(backoff.Next());
        continue;
      }
      store = *std::move(connected);
    }
    if (after.empty()) {
      // "$" in a loop would skip entries added between two reads: pin the start once.
      auto last = store->LogLastId();
      if (!last.ok()) {
        spdlog::warn("assignment log: {}", last.status().ToString());
        store.reset();
        std::this_thread::sleep_for(backoff.Next());
        continue;
      }
      after = *last;
    }
    auto entries = store->TailLog(after, 1000, kBlock);
    if (!entries.ok()) {
      spdlog::warn("assignment log: {}", entries.status().ToString());
      store.reset();
      std::this_thread::sleep_for(backoff.Next());
      continue;
    }
    backoff.Reset();
    if (hub_.size() == 0) {
      // Nobody to tell: parsing every entry was ~4% of a busy daemon's CPU. A subscriber that
      // joins later with a cursor catches up from the log itself (it joins the hub first).
      if (!entries->empty()) after = entries->back().id;
      continue;
    }
    std::vector<api::SharedAssignment> events;
    events.reserve(entries->size());
    for (const auto& entry : *entries) {
      after = entry.id;
      auto event = LogEvent(entry);
      if (!event.ok()) {
        spdlog::error("{}; skipped", event.status().ToString());
        continue;
      }
      events.push_back(*std::move(event));
    }
    if (!events.empty()) hub_.Publish(events);
  }
}

}  // namespace leadrouter::pipeline
