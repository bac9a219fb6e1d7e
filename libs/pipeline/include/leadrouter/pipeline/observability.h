#pragma once

#include <atomic>
#include <chrono>
#include <optional>
#include <string_view>

#include "absl/status/status.h"
#include "leadrouter/api/grpc_server.h"
#include "leadrouter/config/config.h"
#include "leadrouter/config/reloader.h"
#include "leadrouter/metrics/metrics.h"
#include "leadrouter/routing/load.h"
#include "leadrouter/store/assignment_store.h"
#include "leadrouter/store/redis_observer.h"

// The glue between the libraries that must not know the metrics library (store, api, routing)
// and the metric families: observers, the sampler of the shared routing load, and the label
// space the config bounds.
namespace leadrouter::pipeline {

// Every Redis round trip into leadrouter_redis_command_seconds{op} and, when it failed,
// leadrouter_redis_errors_total{op}. Creates every op's series at 0. Thread-safe.
class RedisMetrics final : public store::RedisObserver {
 public:
  explicit RedisMetrics(metrics::PipelineMetrics& metrics);
  void Observe(store::RedisOp op, double seconds, bool ok) override;

 private:
  metrics::PipelineMetrics& metrics_;
};

// Every finished gRPC call into leadrouter_grpc_requests_total{method,code} and (unary)
// leadrouter_grpc_request_seconds{method}. Thread-safe.
class RpcMetrics final : public api::RpcObserver {
 public:
  explicit RpcMetrics(metrics::PipelineMetrics& metrics) : metrics_(metrics) {}
  void RpcFinished(std::string_view method, std::string_view code,
                   std::optional<double> seconds) override;

 private:
  metrics::PipelineMetrics& metrics_;
};

// The gauges of a routing::LoadReport, by pool and by rep.
metrics::PipelineMetrics::RoutingLoad ToMetrics(const routing::LoadReport& report);

// Samples the shared routing state (one HGETALL) and sets leadrouter_pool_fairness_deviation,
// leadrouter_pool_open_leads and leadrouter_rep_open_leads from routing::MeasureLoad under the
// live config. Every instance reports the same values (the state is shared): aggregate with max.
// Run() on one thread; it owns its own Redis connection.
class LoadSampler {
 public:
  LoadSampler(const config::ConfigReloader& configs, store::RedisOptions redis,
              metrics::PipelineMetrics& metrics);
  // One sample. Unavailable when Redis cannot be reached (the gauges keep their last values).
  absl::Status SampleOnce();
  // SampleOnce now and every `interval` until `stop`; failures are logged and retried.
  void Run(const std::atomic<bool>& stop, std::chrono::milliseconds interval);

 private:
  const config::ConfigReloader& configs_;
  const store::RedisOptions redis_;
  metrics::PipelineMetrics& metrics_;
  std::unique_ptr<store::AssignmentStore> store_;
};

// The label values of the lead series `config` bounds (see
// metrics::PipelineMetrics::LeadSeriesSpace): every lifecycle event, every source kind, the
// campaign allowlist plus "other" and "none", every (territory, pool) pair a decision can carry
// (each territory with "" and each pool of its pool's overflow chain; without territories, ""
// with the first pool's chain; and ("", "") for rep-sourced, account-owner and unmatched leads),
// every return reason, configured rep, dead-letter reason and hard requirement. Pure.
metrics::PipelineMetrics::LeadSeriesSpace LeadSeriesSpaceOf(const config::Config& config);

// Creates the series of LeadSeriesSpaceOf(config) at 0 (at most metrics::kMaxPrecreatedSeries;
// logs a warning naming how many were left out when the config spans more).
void PrecreateLeadSeries(metrics::PipelineMetrics& metrics, const config::Config& config);

}  // namespace leadrouter::pipeline
