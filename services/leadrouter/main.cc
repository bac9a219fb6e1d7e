// The leadrouter daemon: wiring only. The logic lives in libs/ (see libs/pipeline).
#include <signal.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <mutex>
#include <string>
#include <thread>

#include "leadrouter/api/assignment_hub.h"
#include "leadrouter/api/auth.h"
#include "leadrouter/api/grpc_server.h"
#include "leadrouter/api/router_service.h"
#include "leadrouter/config/config.h"
#include "leadrouter/config/reloader.h"
#include "leadrouter/core/clock.h"
#include "leadrouter/core/watchdog.h"
#include "leadrouter/kafka/consumer.h"
#include "leadrouter/kafka/producer.h"
#include "leadrouter/metrics/metrics.h"
#include "leadrouter/pipeline/lead_service.h"
#include "leadrouter/pipeline/observability.h"
#include "leadrouter/pipeline/outbox.h"
#include "leadrouter/pipeline/pipeline.h"
#include "leadrouter/pipeline/readiness.h"
#include "leadrouter/simulate/command.h"
#include "leadrouter/simulate/map_command.h"
#include "leadrouter/store/assignment_store.h"
#include "leadrouter/store/outbox_store.h"
#include "leadrouter/store/redis_connection.h"

namespace {

constexpr int kExitConfig = 2;
constexpr int kExitStartup = 3;

std::string HostOf(const std::string& listen) {
  return listen.substr(0, listen.rfind(':'));
}

// How often the config file is checked for changes (SIGHUP checks at once).
constexpr auto kConfigPollInterval = std::chrono::seconds(1);

int Fail(int code, const std::string& what) {
  spdlog::critical("{}", what);
  std::fprintf(stderr, "leadrouter: %s\n", what.c_str());
  return code;
}

}  // namespace

// Validates without the secrets unless `require_secrets` (CI has no production secrets): then
// a missing one is an error naming its field, as at start.
int CheckConfig(const std::string& path, bool require_secrets) {
  auto config = leadrouter::config::LoadConfigFile(path, {.require_secrets = require_secrets});
  if (!config.ok()) {
    std::fprintf(stderr, "%s\n", std::string(config.status().message()).c_str());
    return kExitConfig;
  }
  std::printf("%s: valid\n%s", path.c_str(), leadrouter::config::Summarize(*config).c_str());
  return 0;
}

namespace {
// The signals the daemon handles, blocked in every thread from the top of main on.
sigset_t signals;
}  // namespace

int main(int argc, char** argv) {
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  CLI::App app{"leadrouter: routes lead events from Kafka to sales reps"};
  app.require_subcommand(0, 1);
  std::string config_path;
  std::string log_level = "info";
  app.add_option("-c,--config", config_path, "YAML configuration file (runs the daemon)");
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}));
  auto* check = app.add_subcommand("check-config", "validate a config file, print a summary, exit");
  std::string check_path;
  check->add_option("file", check_path, "YAML configuration file")->required();
  bool check_require_secrets = false;
  check->add_flag("--require-secrets", check_require_secrets,
                  "fail (exit 2) when a secret it names is not set or cannot be read");
  auto* simulate = app.add_subcommand(
      "simulate", "replay leads through a config in memory (what-if), print a report, exit");
  leadrouter::simulate::CommandOptions sim;
  simulate->add_option("-c,--config", sim.config_path, "candidate YAML configuration")->required();
  simulate->add_option("--leads", sim.leads_path, "lead events, one JSON object per line")
      ->required();
  simulate->add_option("--baseline", sim.baseline_path, "current YAML configuration to compare");
  simulate->add_option("--html", sim.html_path, "also write a self-contained HTML report here");
  simulate->add_flag("--json", sim.json, "print JSON instead of the text report");
  simulate->add_option("--sample", sim.sample, "changed leads to list in the diff (default 20)");
  simulate->add_option("--source", sim.source,
                       "each line is a payload of this configured source (default: LeadEvents)");
  auto* map = app.add_subcommand(
      "map", "map one payload of a configured source, print the LeadEvents as JSON lines, exit");
  leadrouter::simulate::MapCommandOptions map_options;
  map->add_option("-c,--config", map_options.config_path, "YAML configuration")->required();
  map->add_option("--source", map_options.source, "a source of the config")->required();
  map->add_option("--content-type", map_options.content_type,
                  "application/json or application/x-www-form-urlencoded (default: the "
                  "mapping's input)");
  map->add_option("payload", map_options.payload_path, "the payload file")->required();
  CLI11_PARSE(app, argc, argv);
  if (check->parsed() || simulate->parsed() || map->parsed()) {
    pthread_sigmask(SIG_UNBLOCK, &signals, nullptr);  // one-shot commands stop on Ctrl-C
    if (check->parsed()) return CheckConfig(check_path, check_require_secrets);
    if (map->parsed()) return leadrouter::simulate::RunMapCommand(map_options, stdout, stderr);
    return leadrouter::simulate::RunCommand(sim);
  }
  if (config_path.empty()) {
    std::fprintf(stderr,
                 "leadrouter: --config FILE is required (or: leadrouter check-config FILE)\n");
    return kExitConfig;
  }
  spdlog::set_default_logger(spdlog::stderr_logger_mt("leadrouter"));
  spdlog::set_level(spdlog::level::from_str(log_level));
  spdlog::info("leadrouter starting (pid {})", ::getpid());

  // Signals are taken by a dedicated thread (sigwait), so no handler runs inside library code.
  // They were blocked at the top of main (before any library started a thread), so a SIGTERM at
  // any moment of the start-up is a clean stop. The thread is detached and may outlive main(),
  // so it touches only objects with static storage duration.
  static std::atomic<bool> stop{false};
  static std::atomic<bool> reload_requested{false};
  std::thread([] {
    while (true) {
      int received = 0;
      if (sigwait(&signals, &received) != 0) continue;
      if (received == SIGHUP) {
        reload_requested.store(true);
        continue;
      }
      stop.store(true);
      return;
    }
  }).detach();

  auto loaded = leadrouter::config::LoadConfigFile(config_path);
  if (!loaded.ok()) return Fail(kExitConfig, std::string(loaded.status().message()));
  leadrouter::config::ConfigReloader configs(
      config_path, std::make_shared<const leadrouter::config::Config>(*std::move(loaded)));
  const auto config = configs.Current();  // endpoints: fixed for the life of the process
  const std::chrono::milliseconds stream_grace = config->shutdown.stream_grace;
  const std::chrono::milliseconds shutdown_timeout = config->shutdown.timeout;

  leadrouter::metrics::PipelineMetrics metrics;
  metrics.SetConfigInfo(config->version);

  leadrouter::store::RedisOptions redis;
  redis.host = config->redis.host;
  redis.port = config->redis.port;
  redis.password = config->redis.password;
  redis.tenant = config->redis.tenant;
  redis.connect_timeout = config->redis.timeout;
  redis.command_timeout = config->redis.timeout;
  // Every Redis round trip and gRPC call is measured (store and api know no metrics library).
  leadrouter::pipeline::RedisMetrics redis_metrics(metrics);
  leadrouter::pipeline::RpcMetrics rpc_metrics(metrics);
  redis.observer = &redis_metrics;

  // Readiness: NOT_SERVING (gRPC health) and 503 (/readyz) until Kafka and Redis answered, and
  // whenever one of them stops answering or consumption is paused for backpressure.
  std::unique_ptr<leadrouter::api::GrpcServer> grpc_server;
  std::mutex grpc_server_mutex;
  leadrouter::pipeline::Readiness readiness({"kafka", "redis"}, [&](bool ready) {
    metrics.SetReady(ready);
    std::lock_guard<std::mutex> lock(grpc_server_mutex);
    if (grpc_server) grpc_server->SetServing(ready);
  });
  metrics.SetReady(false);
  auto metrics_server = leadrouter::metrics::MetricsServer::Start(
      config->metrics.listen, metrics.registry(),
      [&readiness] { return std::make_pair(readiness.ready(), readiness.Describe()); });
  if (!metrics_server.ok()) return Fail(kExitStartup, metrics_server.status().ToString());

  auto store = leadrouter::store::AssignmentStore::Connect(redis);
  if (!store.ok()) return Fail(kExitStartup, store.status().ToString());

  auto producer = leadrouter::kafka::Producer::Create(
      {config->kafka.bootstrap_servers, config->kafka.producer_properties});
  if (!producer.ok()) return Fail(kExitStartup, producer.status().ToString());
  // The outbox has its own producer, so nothing else interleaves with the log's order.
  auto outbox_producer = leadrouter::kafka::Producer::Create(
      {config->kafka.bootstrap_servers, config->kafka.producer_properties});
  if (!outbox_producer.ok()) return Fail(kExitStartup, outbox_producer.status().ToString());
  auto outbox_store = leadrouter::store::OutboxStore::Connect(redis);
  if (!outbox_store.ok()) return Fail(kExitStartup, outbox_store.status().ToString());
  auto outbox_lease_keeper = leadrouter::store::OutboxStore::Connect(redis);
  if (!outbox_lease_keeper.ok()) return Fail(kExitStartup, outbox_lease_keeper.status().ToString());
  leadrouter::kafka::ConsumerOptions consumer_options{config->kafka.bootstrap_servers,
                                                      config->kafka.group_id, config->InputTopics(),
                                                      config->kafka.consumer_properties};
  consumer_options.on_commit = [&metrics](const absl::Status& committed) {
    if (!committed.ok()) metrics.BatchFailed("kafka_commit");
  };
  auto consumer = leadrouter::kafka::Consumer::Create(consumer_options);
  if (!consumer.ok()) return Fail(kExitStartup, consumer.status().ToString());

  leadrouter::api::AssignmentHub hub(
      [&metrics](size_t n) { metrics.SetStreamSubscribers(static_cast<double>(n)); });
  // Bearer tokens of grpc.auth (none: auth off, every caller may do everything). Fixed for the
  // life of the process, like the rest of the grpc section; outlives the services using it.
  const leadrouter::api::Authorizer authorizer(config->grpc.auth.tokens);
  leadrouter::pipeline::LeadService leads(configs, redis, **producer, metrics,
                                          leadrouter::core::SystemClock::Get());
  leadrouter::api::RouterServiceImpl router_service(
      hub, static_cast<size_t>(config->grpc.subscriber_queue_limit), leads, authorizer);
  leadrouter::api::AdminServiceImpl admin_service(leads, authorizer);
  leadrouter::api::TlsOptions grpc_tls;
  grpc_tls.cert_pem = config->grpc.tls.cert_pem;
  grpc_tls.key_pem = config->grpc.tls.key_pem;
  grpc_tls.client_ca_pem = config->grpc.tls.client_ca_pem;
  grpc_tls.require_client_cert = config->grpc.tls.require_client_cert;
  auto started_grpc = leadrouter::api::GrpcServer::Start(
      config->grpc.listen, {&router_service, &admin_service}, grpc_tls, &rpc_metrics);
  if (!started_grpc.ok()) return Fail(kExitStartup, started_grpc.status().ToString());
  {
    std::lock_guard<std::mutex> lock(grpc_server_mutex);
    grpc_server = *std::move(started_grpc);
    grpc_server->SetServing(readiness.ready());
  }

  // Whatever a dependency or a client does, a stop ends the process within shutdown_timeout:
  // the watchdog says which step was still running and exits 0 (offsets past what was durable
  // were never committed, so nothing is lost).
  static std::atomic<const char*> shutdown_step{"stopping the pipeline"};
  leadrouter::core::Watchdog watchdog;
  // Started only after the last early return of the start-up (a joinable thread destroyed by a
  // return would terminate the process instead of exiting with the start-up's code).
  std::thread stop_watcher([&] {
    while (!stop.load()) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    watchdog.Arm(shutdown_timeout, [shutdown_timeout] {
      spdlog::error("shutdown did not finish within {} ms; abandoning it while {}; exiting",
                    shutdown_timeout.count(), shutdown_step.load());
      spdlog::default_logger()->flush();
      std::_Exit(0);
    });
  });

  // Kafka reachable (a metadata request) and Redis answering within its timeout, every second.
  auto probe_redis = leadrouter::store::RedisConnection::Connect(redis);
  std::shared_ptr<leadrouter::store::RedisConnection> probe_connection =
      probe_redis.ok()
          ? std::shared_ptr<leadrouter::store::RedisConnection>(*std::move(probe_redis))
          : nullptr;
  leadrouter::pipeline::DependencyProbe probe(
      readiness,
      {{"kafka",
        [&producer, &config]() -> absl::Status {
          absl::Status reached =
              (*producer)->WarmUp(config->kafka.topics.inbound, std::chrono::milliseconds(1000));
          // A missing topic is the consumer's to report; the brokers did answer.
          return reached.code() == absl::StatusCode::kNotFound ? absl::OkStatus() : reached;
        }},
       {"redis", [probe_connection]() -> absl::Status {
          if (probe_connection == nullptr) return absl::UnavailableError("no connection");
          auto pong = probe_connection->Command({"PING"});
          if (!pong.ok()) return pong.status();
          if (pong->is_error()) return absl::UnavailableError(pong->str);
          return absl::OkStatus();
        }}});
  std::thread probe_thread([&probe] { probe.Run(stop, std::chrono::seconds(1)); });

  // One machine-readable line on stdout: scripts and tests wait for it.
  std::printf("leadrouter ready grpc=%s:%d metrics=http://%s:%d/metrics config=%s\n",
              HostOf(config->grpc.listen).c_str(), grpc_server->port(),
              HostOf(config->metrics.listen).c_str(), (*metrics_server)->port(),
              config->version.c_str());
  std::fflush(stdout);

  // Reloads on SIGHUP and when the file changes; a refused file leaves the live config in place.
  std::thread watcher([&configs, &metrics] {
    auto next_check = std::chrono::steady_clock::now();
    while (!stop.load()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      if (!reload_requested.exchange(false) && std::chrono::steady_clock::now() < next_check)
        continue;
      next_check = std::chrono::steady_clock::now() + kConfigPollInterval;
      const auto report = configs.Reload();
      metrics.ConfigReload(leadrouter::config::ReloadResultName(report.result));
      switch (report.result) {
        case leadrouter::config::ConfigReloader::Result::kUnchanged:
          break;
        case leadrouter::config::ConfigReloader::Result::kApplied:
          metrics.SetConfigInfo(configs.Current()->version);
          spdlog::info("{}", report.message);
          break;
        case leadrouter::config::ConfigReloader::Result::kRefused:
          spdlog::error("config reload refused, keeping {}: {}", configs.Current()->version,
                        report.message);
          break;
      }
    }
  });

  // Stream subscribers are fed from the shared assignment log; SLA deadlines are checked twice
  // a second (any instance expires any lead, each once).
  leadrouter::pipeline::LogTailer tailer(redis, hub);
  std::thread tail_thread([&tailer] { tailer.Run(stop); });
  // One instance at a time (the lease holder) publishes the log to the assignments topic.
  leadrouter::pipeline::OutboxForwarder outbox(configs, *std::move(outbox_store),
                                               *std::move(outbox_lease_keeper), **outbox_producer,
                                               metrics, leadrouter::pipeline::OutboxHolderName());
  std::thread outbox_thread([&outbox] { outbox.Run(stop); });
  std::thread expiry_thread([&leads] { leads.RunExpiry(stop, std::chrono::milliseconds(500)); });
  // Fairness and open-lead gauges from the shared routing state.
  leadrouter::pipeline::LoadSampler load_sampler(configs, redis, metrics);
  std::thread load_thread([&load_sampler] { load_sampler.Run(stop, std::chrono::seconds(5)); });

  leadrouter::pipeline::Pipeline pipeline(configs, **consumer, **producer, **store, metrics,
                                          leadrouter::core::SystemClock::Get());
  pipeline.OnPausedChange([&readiness](bool paused) {
    readiness.Set("consumption", !paused, "paused for backpressure (a batch keeps failing)");
  });
  const absl::Status run = pipeline.Run(stop);
  spdlog::info("shutting down");
  stop.store(true);

  // Leave the consumer group first, so the partitions move to another instance at once.
  shutdown_step.store("leaving the consumer group");
  (*consumer)->Close(std::min(shutdown_timeout / 3, leadrouter::kafka::kDefaultCloseTimeout));
  // Streams get stream_grace to end; one whose client stopped reading is then cancelled.
  shutdown_step.store("closing the gRPC streams");
  hub.CloseAll();
  grpc_server->Shutdown(stream_grace);
  shutdown_step.store("stopping the background threads");
  watcher.join();
  tail_thread.join();
  outbox_thread.join();
  expiry_thread.join();
  load_thread.join();
  probe_thread.join();
  stop_watcher.join();
  shutdown_step.store("flushing the producer");
  if (!run.ok()) return Fail(1, run.ToString());
  spdlog::info("stopped cleanly");
  return 0;
}
