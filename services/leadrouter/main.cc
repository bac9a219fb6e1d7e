// The leadrouter daemon: wiring only. The logic lives in libs/ (see libs/pipeline).
#include <signal.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <cstdio>
#include <thread>

#include "leadrouter/api/assignment_hub.h"
#include "leadrouter/api/grpc_server.h"
#include "leadrouter/api/router_service.h"
#include "leadrouter/config/config.h"
#include "leadrouter/core/clock.h"
#include "leadrouter/kafka/consumer.h"
#include "leadrouter/kafka/producer.h"
#include "leadrouter/metrics/metrics.h"
#include "leadrouter/pipeline/pipeline.h"
#include "leadrouter/store/assignment_store.h"

namespace {

constexpr int kExitConfig = 2;
constexpr int kExitStartup = 3;

std::string HostOf(const std::string& listen) {
  return listen.substr(0, listen.rfind(':'));
}

int Fail(int code, const std::string& what) {
  spdlog::critical("{}", what);
  std::fprintf(stderr, "leadrouter: %s\n", what.c_str());
  return code;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"leadrouter: routes lead events from Kafka to sales reps"};
  std::string config_path;
  std::string log_level = "info";
  app.add_option("-c,--config", config_path, "YAML configuration file")->required();
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}));
  bool check_only = false;
  app.add_flag("--check", check_only, "validate the config file, print its version and exit");
  CLI11_PARSE(app, argc, argv);
  spdlog::set_default_logger(spdlog::stderr_logger_mt("leadrouter"));
  spdlog::set_level(spdlog::level::from_str(log_level));

  // Signals are taken by a dedicated thread (sigwait), so no handler runs inside library code.
  // The thread is detached and may outlive main(), so it touches only objects with static
  // storage duration.
  static sigset_t signals;
  static std::atomic<bool> stop{false};
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::thread([] {
    int received = 0;
    sigwait(&signals, &received);
    stop.store(true);
  }).detach();

  auto config = leadrouter::config::LoadConfigFile(config_path);
  if (!config.ok()) return Fail(kExitConfig, std::string(config.status().message()));
  if (check_only) {
    std::printf("%s: valid, version %s\n", config_path.c_str(), config->version.c_str());
    return 0;
  }

  leadrouter::metrics::PipelineMetrics metrics;
  metrics.SetConfigInfo(config->version);
  auto metrics_server =
      leadrouter::metrics::MetricsServer::Start(config->metrics.listen, metrics.registry());
  if (!metrics_server.ok()) return Fail(kExitStartup, metrics_server.status().ToString());

  leadrouter::store::RedisOptions redis;
  redis.host = config->redis.host;
  redis.port = config->redis.port;
  redis.password = config->redis.password;
  redis.tenant = config->redis.tenant;
  redis.connect_timeout = config->redis.timeout;
  redis.command_timeout = config->redis.timeout;
  auto store = leadrouter::store::AssignmentStore::Connect(redis);
  if (!store.ok()) return Fail(kExitStartup, store.status().ToString());

  auto producer = leadrouter::kafka::Producer::Create(
      {config->kafka.bootstrap_servers, config->kafka.producer_properties});
  if (!producer.ok()) return Fail(kExitStartup, producer.status().ToString());
  auto consumer = leadrouter::kafka::Consumer::Create({config->kafka.bootstrap_servers,
                                                       config->kafka.group_id,
                                                       {config->kafka.topics.inbound},
                                                       config->kafka.consumer_properties});
  if (!consumer.ok()) return Fail(kExitStartup, consumer.status().ToString());

  leadrouter::api::AssignmentHub hub(
      [&metrics](size_t n) { metrics.SetStreamSubscribers(static_cast<double>(n)); });
  leadrouter::api::RouterServiceImpl router_service(
      hub, static_cast<size_t>(config->grpc.subscriber_queue_limit));
  auto grpc_server = leadrouter::api::GrpcServer::Start(config->grpc.listen, {&router_service});
  if (!grpc_server.ok()) return Fail(kExitStartup, grpc_server.status().ToString());

  // One machine-readable line on stdout: scripts and tests wait for it.
  std::printf("leadrouter ready grpc=%s:%d metrics=http://%s:%d/metrics config=%s\n",
              HostOf(config->grpc.listen).c_str(), (*grpc_server)->port(),
              HostOf(config->metrics.listen).c_str(), (*metrics_server)->port(),
              config->version.c_str());
  std::fflush(stdout);

  leadrouter::pipeline::Pipeline pipeline(*config, **consumer, **producer, **store, hub, metrics,
                                          leadrouter::core::SystemClock::Get());
  const absl::Status run = pipeline.Run(stop);
  spdlog::info("shutting down");

  hub.CloseAll();
  (*grpc_server)->Shutdown(std::chrono::seconds(2));
  (*consumer)->Close();
  if (!run.ok()) return Fail(1, run.ToString());
  spdlog::info("stopped cleanly");
  return 0;
}
