#include "leadrouter/pipeline/observability.h"

#include <google/protobuf/descriptor.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <set>
#include <thread>
#include <utility>

#include "leadrouter/core/backoff.h"
#include "leadrouter/lead/rejection.h"
#include "leadrouter/pipeline/assigner.h"
#include "leadrouter/pipeline/source_decode.h"
#include "leadrouter/v1/lifecycle.pb.h"

namespace leadrouter::pipeline {

RedisMetrics::RedisMetrics(metrics::PipelineMetrics& metrics) : metrics_(metrics) {
  for (const store::RedisOp op : store::kAllRedisOps) {
    metrics_.PrecreateRedisOp(store::RedisOpName(op));
  }
}

void RedisMetrics::Observe(store::RedisOp op, double seconds, bool ok) {
  metrics_.ObserveRedis(store::RedisOpName(op), seconds, ok);
}

void RpcMetrics::RpcFinished(std::string_view method, std::string_view code,
                             std::optional<double> seconds) {
  metrics_.RpcFinished(method, code, seconds);
}

metrics::PipelineMetrics::RoutingLoad ToMetrics(const routing::LoadReport& report) {
  metrics::PipelineMetrics::RoutingLoad load;
  for (const routing::PoolLoad& pool : report.pools) {
    load.pool_fairness_deviation.emplace_back(pool.pool, pool.fairness_deviation);
    load.pool_open_leads.emplace_back(pool.pool, static_cast<double>(pool.open_leads));
  }
  for (const routing::RepOpenLeads& rep : report.reps) {
    load.rep_open_leads.emplace_back(rep.rep, static_cast<double>(rep.open_leads));
  }
  return load;
}

LoadSampler::LoadSampler(const config::ConfigReloader& configs, store::RedisOptions redis,
                         metrics::PipelineMetrics& metrics)
    : configs_(configs), redis_(std::move(redis)), metrics_(metrics) {}

absl::Status LoadSampler::SampleOnce() {
  // A broken connection reconnects on its next command; only the first connect is made here.
  if (store_ == nullptr) {
    auto connected = store::AssignmentStore::Connect(redis_);
    if (!connected.ok()) return connected.status();
    store_ = *std::move(connected);
  }
  auto snapshot = store_->Load({});
  if (!snapshot.ok()) return snapshot.status();
  const auto config = configs_.Current();
  auto state = StateFromFields(snapshot->state);
  if (!state.ok()) return state.status();
  metrics_.SetRoutingLoad(ToMetrics(routing::MeasureLoad(config->routing, *state)));
  return absl::OkStatus();
}

void LoadSampler::Run(const std::atomic<bool>& stop, std::chrono::milliseconds interval) {
  core::Backoff backoff(interval, std::chrono::seconds(60));
  auto next = std::chrono::steady_clock::now();
  while (!stop.load()) {
    if (std::chrono::steady_clock::now() < next) {
      // Short naps so shutdown is prompt.
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      continue;
    }
    if (absl::Status sampled = SampleOnce(); !sampled.ok()) {
      const auto wait = backoff.Next();
      spdlog::warn("routing load metrics: {}; retrying in {} ms", sampled.ToString(), wait.count());
      next = std::chrono::steady_clock::now() + wait;
      continue;
    }
    backoff.Reset();
    next = std::chrono::steady_clock::now() + interval;
  }
}

namespace {

// The short names of an enum's values, UNSPECIFIED (= 0) left out.
std::vector<std::string> EnumShortNames(const google::protobuf::EnumDescriptor& descriptor,
                                        std::string_view prefix, bool lower) {
  std::vector<std::string> names;
  for (int i = 0; i < descriptor.value_count(); ++i) {
    const google::protobuf::EnumValueDescriptor& value = *descriptor.value(i);
    if (value.number() != 0) names.push_back(ShortEnumName(value.name(), prefix, lower));
  }
  return names;
}

}  // namespace

metrics::PipelineMetrics::LeadSeriesSpace LeadSeriesSpaceOf(const config::Config& config) {
  metrics::PipelineMetrics::LeadSeriesSpace space;
  space.events = EnumShortNames(*v1::AssignmentStatus_descriptor(), "ASSIGNMENT_STATUS_", true);
  space.source_kinds = EnumShortNames(*v1::LeadSourceKind_descriptor(), "LEAD_SOURCE_KIND_", false);
  for (const auto& kind : space.source_kinds) {
    space.source_kind_names.push_back("LEAD_SOURCE_KIND_" + kind);
  }
  space.return_reasons = EnumShortNames(*v1::ReturnReason_descriptor(), "RETURN_REASON_", true);
  // As CountLeadEvent labels campaigns.
  space.campaigns = config.metrics.campaigns;
  space.campaigns.push_back("other");
  space.campaigns.push_back("none");

  // The (territory, pool) pairs a decision can carry; a set, so a config listing one pool twice
  // in a chain (or "other" as a campaign) makes no duplicate work.
  const routing::RoutingRules& rules = config.routing;
  std::set<std::pair<std::string, std::string>> pairs{{"", ""}};
  auto add_chain = [&](const std::string& territory, const std::string& first_pool) {
    std::set<std::string> seen;
    for (std::string pool = first_pool; !pool.empty() && seen.insert(pool).second;) {
      pairs.emplace(territory, pool);
      const auto it = std::find_if(rules.pools.begin(), rules.pools.end(),
                                   [&](const routing::Pool& p) { return p.name == pool; });
      pool = it == rules.pools.end() ? "" : it->overflow_pool;
    }
  };
  if (rules.territories.empty()) {
    if (!rules.pools.empty()) add_chain("", rules.pools.front().name);
  }
  for (const routing::Territory& territory : rules.territories) {
    pairs.emplace(territory.name, "");
    add_chain(territory.name, territory.pool);
  }
  space.territory_pools.assign(pairs.begin(), pairs.end());
  std::sort(space.campaigns.begin(), space.campaigns.end());
  space.campaigns.erase(std::unique(space.campaigns.begin(), space.campaigns.end()),
                        space.campaigns.end());

  for (const routing::RepProfile& rep : rules.reps) space.reps.push_back(rep.id);
  // Every lead::RejectReason, as the pipeline labels dead letters.
  for (const lead::RejectReason reason :
       {lead::RejectReason::kTooLarge, lead::RejectReason::kUnsupportedContentType,
        lead::RejectReason::kUndecodable, lead::RejectReason::kMissingField,
        lead::RejectReason::kInvalidField, lead::RejectReason::kUnmappable}) {
    space.deadletter_reasons.emplace_back(lead::RejectReasonName(reason));
  }
  for (const auto& requirement : config.qualification.requirements) {
    space.requirements.push_back(requirement.name);
  }
  for (const config::SourceConfig& source : config.sources) space.sources.push_back(source.name);
  space.sources.emplace_back(kNoSource);
  space.sources.emplace_back(kUnknownSource);
  return space;
}

void PrecreateLeadSeries(metrics::PipelineMetrics& metrics, const config::Config& config) {
  const auto report = metrics.PrecreateLeadSeries(LeadSeriesSpaceOf(config));
  if (report.created < report.wanted) {
    spdlog::warn(
        "config {} bounds {} labelled lead metric series; only the first {} were created at 0, "
        "the rest appear at their first event (fewer campaigns in metrics.campaigns, territories "
        "or pools lower the count)",
        config.version, report.wanted, report.created);
  }
}

}  // namespace leadrouter::pipeline
