#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "leadrouter/api/assignment_hub.h"
#include "leadrouter/api/auth.h"
#include "leadrouter/api/grpc_server.h"
#include "leadrouter/api/router_service.h"
#include "leadrouter/config/config.h"
#include "leadrouter/config/reloader.h"
#include "leadrouter/console/console.h"
#include "leadrouter/core/watchdog.h"
#include "leadrouter/kafka/consumer.h"
#include "leadrouter/kafka/producer.h"
#include "leadrouter/metrics/metrics.h"
#include "leadrouter/pipeline/lead_service.h"
#include "leadrouter/pipeline/observability.h"
#include "leadrouter/pipeline/outbox.h"
#include "leadrouter/pipeline/pipeline.h"
#include "leadrouter/pipeline/readiness.h"
#include "leadrouter/store/assignment_store.h"
#include "leadrouter/store/outbox_store.h"
#include "leadrouter/store/redis_connection.h"

namespace leadrouter::daemon {

// The leadrouter daemon: every long-lived part of the process, its threads, the config reload
// loop and the shutdown order. services/leadrouter/main.cc parses the flags, loads the config
// and hands it here.
//
// Start-up, in order: metrics exposer (readiness false), Redis connection of the pipeline, the
// two producers (the pipeline's and the outbox's own), the outbox's Redis connections, the
// consumer (subscribed), the gRPC services and server, the pipeline (which creates the lead
// metric series at 0); then the shutdown watchdog, the dependency probe thread, the "ready" line
// on stdout, the config watcher, the log tailer, the outbox forwarder, the SLA expiry and the load
// sampler threads; the pipeline runs on the calling thread. Readiness (gRPC health, /readyz,
// leadrouter_ready) is false until Kafka and Redis answered, and whenever one stops answering or
// consumption is paused for backpressure.
//
// Shutdown, once `stop` is set (by a signal) or the pipeline ends (its error is then the exit
// code's cause): the pipeline stops first (an unfinished batch stays uncommitted), then
//   1. the consumer leaves its group (at most min(shutdown.timeout / 3, 5 s)), so its
//      partitions move to another instance at once;
//   2. the gRPC streams end (AssignmentHub::CloseAll), and the server gets shutdown.stream_grace
//      before the calls left are cancelled;
//   3. the background threads are joined: config watcher, log tailer, outbox forwarder (it
//      releases its lease), SLA expiry, load sampler, dependency probe;
//   4. the producers flush as they are destroyed, with the rest of the parts, in the reverse of
//      their start-up order.
// A watchdog armed when `stop` is seen bounds steps 1 to 3 by shutdown.timeout: past it, it logs
// which step was still running and exits the process with code 0 (offsets past what was durable
// were never committed, so nothing is lost).
//
// Exit codes of Run: kExitOk after a clean stop, kExitFatal when the pipeline failed (a fatal
// consumer error), kExitStartup when a part could not start (after logging the cause and printing
// "leadrouter: <cause>" on stderr). Config errors (exit 2) are main's, before a Daemon exists.
//
// Thread-compatible: construct, Run once and destroy on one thread. `configs` must outlive it.
class Daemon {
 public:
  static constexpr int kExitOk = 0;
  static constexpr int kExitFatal = 1;
  static constexpr int kExitStartup = 3;

  // What the daemon takes from the config at start-up: the endpoints and settings fixed for the
  // life of the process (reloads change only what the parts read from the ConfigReloader).
  struct Options {
    store::RedisOptions redis{};  // without an observer: the daemon measures every round trip
    kafka::ProducerOptions producer{};
    kafka::ConsumerOptions consumer{};  // without on_commit: the daemon counts failed commits
    std::string inbound_topic{};        // what the Kafka readiness probe asks the brokers about
    std::string grpc_listen{};
    api::TlsOptions grpc_tls{};
    std::vector<config::GrpcToken> grpc_tokens{};
    size_t subscriber_queue_limit = 0;
    std::string metrics_listen{};
    // The console ("" listen: none), served with grpc's certificate and key files.
    std::string console_listen{};
    size_t console_max_live_streams = 4;
    std::string console_tls_cert_file{}, console_tls_key_file{};
    std::string tenant{};  // redis.tenant (the console derives lead ids from event ids)
    std::chrono::milliseconds stream_grace{0};
    std::chrono::milliseconds shutdown_timeout{0};
    // How often the config file is checked for changes (a SIGHUP checks at once), the
    // dependencies probed, SLA deadlines checked and the routing load sampled.
    std::chrono::milliseconds config_poll_interval{1000};
    std::chrono::milliseconds probe_interval{1000};
    std::chrono::milliseconds expiry_interval{500};
    std::chrono::milliseconds load_sample_interval{5000};

    // Everything above from `config`, in one place.
    static Options FromConfig(const config::Config& config);
  };

  Daemon(config::ConfigReloader& configs, Options options);
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;
  ~Daemon();

  // Starts every part, prints the ready line, runs the pipeline until `stop` is set, then shuts
  // down in the order above; returns the exit code. A SIGHUP's `reload_requested` is taken
  // (exchanged to false) by the config watcher. Call once.
  int Run(std::atomic<bool>& stop, std::atomic<bool>& reload_requested);

 private:
  // Connects and starts the parts before the threads; the first failure is returned.
  absl::Status StartParts();
  // Starts the watchdog and the threads around the pipeline; prints the ready line.
  void StartThreads(std::atomic<bool>& stop, std::atomic<bool>& reload_requested);
  // Reloads on `reload_requested` and when the file changes until `stop`; a refused file leaves
  // the live config in place.
  void WatchConfig(const std::atomic<bool>& stop, std::atomic<bool>& reload_requested);
  // Steps 1 to 3 of the shutdown.
  void ShutDown();

  config::ConfigReloader& configs_;
  const Options options_;
  const std::string config_version_;  // the one it started with, for the ready line

  // Declared in start-up order: destroyed in the reverse.
  metrics::PipelineMetrics metrics_;
  pipeline::RedisMetrics redis_metrics_;
  pipeline::RpcMetrics rpc_metrics_;
  store::RedisOptions redis_;  // options_.redis with the observer
  std::mutex grpc_server_mutex_;
  std::unique_ptr<api::GrpcServer> grpc_server_;  // guarded by grpc_server_mutex_ while starting
  pipeline::Readiness readiness_;
  std::unique_ptr<metrics::MetricsServer> metrics_server_;
  std::unique_ptr<store::AssignmentStore> store_;
  std::unique_ptr<kafka::Producer> producer_;
  std::unique_ptr<kafka::Producer> outbox_producer_;
  std::unique_ptr<store::OutboxStore> outbox_store_;
  std::unique_ptr<store::OutboxStore> outbox_lease_keeper_;
  std::unique_ptr<kafka::Consumer> consumer_;
  api::AssignmentHub hub_;
  const api::Authorizer authorizer_;
  std::unique_ptr<pipeline::LeadService> leads_;
  // The RPCs without a transport, shared by gRPC and the console.
  std::unique_ptr<api::ServiceCalls> calls_;
  std::unique_ptr<api::RouterServiceImpl> router_service_;
  std::unique_ptr<api::AdminServiceImpl> admin_service_;
  std::unique_ptr<console::Console> console_;
  std::unique_ptr<http::Server> console_server_;  // serves console_'s routes; stopped first
  core::Watchdog watchdog_;
  std::thread stop_watcher_;
  std::unique_ptr<pipeline::DependencyProbe> probe_;
  std::thread probe_thread_;
  std::thread watcher_;
  std::unique_ptr<pipeline::LogTailer> tailer_;
  std::thread tail_thread_;
  std::unique_ptr<pipeline::OutboxForwarder> outbox_;
  std::thread outbox_thread_;
  std::thread expiry_thread_;
  std::unique_ptr<pipeline::LoadSampler> load_sampler_;
  std::thread load_thread_;
  std::unique_ptr<decide::Enricher> enricher_;  // before pipeline_, which uses it
  std::unique_ptr<pipeline::Pipeline> pipeline_;
};

}  // namespace leadrouter::daemon
