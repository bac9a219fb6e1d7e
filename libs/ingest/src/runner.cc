#include "leadrouter/ingest/runner.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <thread>

#include "leadrouter/config/config.h"
#include "leadrouter/core/clock.h"
#include "leadrouter/http/server.h"
#include "leadrouter/ingest/service.h"
#include "leadrouter/kafka/producer.h"
#include "leadrouter/metrics/metrics.h"

namespace leadrouter::ingest {
namespace {

constexpr int kExitConfig = 2;
constexpr int kExitStart = 1;

int Fail(int code, const std::string& what) {
  spdlog::critical("{}", what);
  std::fprintf(stderr, "leadrouter-ingest: %s\n", what.c_str());
  return code;
}

std::string Host(const std::string& listen) {
  return listen.substr(0, listen.rfind(':'));
}

}  // namespace

int Run(const std::string& config_path, std::atomic<bool>& stop,
        std::atomic<bool>& reload_requested) {
  const config::LoadOptions load_options{.require_secrets = true, .for_ingest = true};
  auto loaded = config::LoadConfigFile(config_path, load_options);
  if (!loaded.ok()) return Fail(kExitConfig, std::string(loaded.status().message()));
  auto config = std::make_shared<const config::Config>(*std::move(loaded));
  const config::IngestHttpConfig& http_config = config->ingest.http;

  kafka::ProducerOptions producer_options{config->kafka.bootstrap_servers,
                                          config->kafka.producer_properties};
  // Bounded memory under backpressure: a full local queue makes ProduceAndWait wait, and the
  // request's deadline turns that into a 503 (unless the config sets its own bounds).
  producer_options.extra.emplace("queue.buffering.max.kbytes", "65536");
  producer_options.extra.emplace("queue.buffering.max.messages", "100000");
  // Every request waits for its records' acknowledgement, so a linger is added to each answer
  // (2 ms halved single-connection throughput in scripts/bench-ingest.sh); batching is the
  // GroupPublisher's job: requests that arrive while one produce is in flight share the next.
  producer_options.extra.emplace("linger.ms", "0");
  auto producer = kafka::Producer::Create(producer_options);
  if (!producer.ok()) return Fail(kExitConfig, std::string(producer.status().message()));

  core::SystemClock clock;
  IngestMetrics metrics;
  IngestService service(config, **producer, metrics, clock);

  auto metrics_server =
      metrics::MetricsServer::Start(http_config.metrics_listen, metrics.registry(), [&service] {
        const http::Response ready = service.Readyz();
        return std::make_pair(ready.status == 200, ready.body);
      });
  if (!metrics_server.ok()) return Fail(kExitStart, std::string(metrics_server.status().message()));

  http::ServerOptions server_options;
  server_options.listen = http_config.listen;
  server_options.worker_threads = http_config.worker_threads;
  server_options.request_timeout = http_config.request_timeout;
  server_options.max_body_bytes = http_config.max_body_bytes;
  server_options.tls_cert_file = http_config.tls_cert_file;
  server_options.tls_key_file = http_config.tls_key_file;
  auto server = http::Server::Start(server_options, service.Routes());
  if (!server.ok()) return Fail(kExitStart, std::string(server.status().message()));

  std::printf("leadrouter-ingest ready http=%s:%d metrics=%s:%d config=%s\n",
              Host(http_config.listen).c_str(), (*server)->port(),
              Host(http_config.metrics_listen).c_str(), (*metrics_server)->port(),
              config->version.c_str());
  std::fflush(stdout);

  while (!stop.load()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (!reload_requested.exchange(false)) continue;
    auto reloaded = config::LoadConfigFile(config_path, load_options);
    if (!reloaded.ok()) {
      spdlog::error("config reload refused, keeping {}: {}", config->version,
                    std::string(reloaded.status().message()));
      continue;
    }
    const config::IngestHttpConfig& next = reloaded->ingest.http;
    if (next.listen != http_config.listen || next.metrics_listen != http_config.metrics_listen ||
        next.tls_cert_file != http_config.tls_cert_file ||
        next.tls_key_file != http_config.tls_key_file ||
        next.worker_threads != http_config.worker_threads) {
      spdlog::warn("config reload: ingest.http listen, tls and worker_threads apply at restart");
    }
    config = std::make_shared<const config::Config>(*std::move(reloaded));
    service.SetConfig(config);
    spdlog::info("config reloaded: {}", config->version);
  }

  spdlog::info("draining");
  service.StartDraining();
  server->reset();  // waits for the deliveries in flight
  metrics_server->reset();
  spdlog::info("stopped cleanly");
  return 0;
}

}  // namespace leadrouter::ingest
