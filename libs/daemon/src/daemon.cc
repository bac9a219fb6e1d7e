#include "leadrouter/daemon/daemon.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <utility>

#include "absl/strings/str_cat.h"
#include "leadrouter/core/clock.h"
#include "leadrouter/hubspot/contact_fetcher.h"

namespace leadrouter::daemon {
namespace {

std::string HostOf(const std::string& listen) {
  return listen.substr(0, listen.rfind(':'));
}

// The step of the shutdown in progress, for the watchdog's last words. Static: the watchdog may
// fire while anything else is being torn down.
std::atomic<const char*> shutdown_step{"stopping the pipeline"};

}  // namespace

Daemon::Options Daemon::Options::FromConfig(const config::Config& config) {
  Options options;
  options.redis.host = config.redis.host;
  options.redis.port = config.redis.port;
  options.redis.password = config.redis.password;
  options.redis.tenant = config.redis.tenant;
  options.redis.connect_timeout = config.redis.timeout;
  options.redis.command_timeout = config.redis.timeout;
  options.producer = {config.kafka.bootstrap_servers, config.kafka.producer_properties};
  options.consumer.bootstrap_servers = config.kafka.bootstrap_servers;
  options.consumer.group_id = config.kafka.group_id;
  options.consumer.topics = config.InputTopics();
  options.consumer.extra = config.kafka.consumer_properties;
  options.inbound_topic = config.kafka.topics.inbound;
  options.grpc_listen = config.grpc.listen;
  options.grpc_tls.cert_pem = config.grpc.tls.cert_pem;
  options.grpc_tls.key_pem = config.grpc.tls.key_pem;
  options.grpc_tls.client_ca_pem = config.grpc.tls.client_ca_pem;
  options.grpc_tls.require_client_cert = config.grpc.tls.require_client_cert;
  options.grpc_tokens = config.grpc.auth.tokens;
  options.subscriber_queue_limit = static_cast<size_t>(config.grpc.subscriber_queue_limit);
  options.metrics_listen = config.metrics.listen;
  options.console_listen = config.console.listen;
  options.console_max_live_streams = static_cast<size_t>(config.console.max_live_streams);
  options.console_tls_cert_file = config.grpc.tls.cert_file;
  options.console_tls_key_file = config.grpc.tls.key_file;
  options.tenant = config.redis.tenant;
  options.stream_grace = config.shutdown.stream_grace;
  options.shutdown_timeout = config.shutdown.timeout;
  return options;
}

Daemon::Daemon(config::ConfigReloader& configs, Options options)
    : configs_(configs),
      options_(std::move(options)),
      config_version_(configs.Current()->version),
      redis_metrics_(metrics_),
      rpc_metrics_(metrics_),
      redis_(options_.redis),
      readiness_({"kafka", "redis"},
                 [this](bool ready) {
                   metrics_.SetReady(ready);
                   std::lock_guard<std::mutex> lock(grpc_server_mutex_);
                   if (grpc_server_) grpc_server_->SetServing(ready);
                 }),
      hub_([this](size_t n) { metrics_.SetStreamSubscribers(static_cast<double>(n)); }),
      authorizer_(options_.grpc_tokens) {
  metrics_.SetConfigInfo(config_version_);
  // Every Redis round trip and gRPC call is measured (store and api know no metrics library).
  redis_.observer = &redis_metrics_;
}

Daemon::~Daemon() = default;

absl::Status Daemon::StartParts() {
  metrics_.SetReady(false);
  auto metrics_server = metrics::MetricsServer::Start(
      options_.metrics_listen, metrics_.registry(),
      [this] { return std::make_pair(readiness_.ready(), readiness_.Describe()); });
  if (!metrics_server.ok()) return metrics_server.status();
  metrics_server_ = *std::move(metrics_server);

  auto store = store::AssignmentStore::Connect(redis_);
  if (!store.ok()) return store.status();
  store_ = *std::move(store);

  auto producer = kafka::Producer::Create(options_.producer);
  if (!producer.ok()) return producer.status();
  producer_ = *std::move(producer);
  // The outbox has its own producer, so nothing else interleaves with the log's order.
  auto outbox_producer = kafka::Producer::Create(options_.producer);
  if (!outbox_producer.ok()) return outbox_producer.status();
  outbox_producer_ = *std::move(outbox_producer);
  auto outbox_store = store::OutboxStore::Connect(redis_);
  if (!outbox_store.ok()) return outbox_store.status();
  outbox_store_ = *std::move(outbox_store);
  auto outbox_lease_keeper = store::OutboxStore::Connect(redis_);
  if (!outbox_lease_keeper.ok()) return outbox_lease_keeper.status();
  outbox_lease_keeper_ = *std::move(outbox_lease_keeper);
  kafka::ConsumerOptions consumer_options = options_.consumer;
  consumer_options.on_commit = [this](const absl::Status& committed) {
    if (!committed.ok()) metrics_.BatchFailed("kafka_commit");
  };
  auto consumer = kafka::Consumer::Create(consumer_options);
  if (!consumer.ok()) return consumer.status();
  consumer_ = *std::move(consumer);

  // Bearer tokens of grpc.auth (none: auth off, every caller may do everything), fixed for the
  // life of the process like the rest of the grpc section.
  leads_ = std::make_unique<pipeline::LeadService>(configs_, redis_, *producer_, metrics_,
                                                   core::SystemClock::Get());
  calls_ = std::make_unique<api::ServiceCalls>(*leads_, authorizer_);
  router_service_ =
      std::make_unique<api::RouterServiceImpl>(hub_, options_.subscriber_queue_limit, *calls_);
  admin_service_ = std::make_unique<api::AdminServiceImpl>(*calls_);
  auto started_grpc =
      api::GrpcServer::Start(options_.grpc_listen, {router_service_.get(), admin_service_.get()},
                             options_.grpc_tls, &rpc_metrics_);
  if (!started_grpc.ok()) return started_grpc.status();
  {
    std::lock_guard<std::mutex> lock(grpc_server_mutex_);
    grpc_server_ = *std::move(started_grpc);
    grpc_server_->SetServing(readiness_.ready());
  }
  if (!options_.console_listen.empty()) {
    console_ = std::make_unique<console::Console>(
        *calls_, console::ConsoleOptions{.max_live_streams = options_.console_max_live_streams,
                                         .tenant = options_.tenant});
    http::ServerOptions http_options;
    http_options.listen = options_.console_listen;
    // The live feeds hold a thread each; the views' JSON calls need some besides.
    http_options.worker_threads = static_cast<int>(options_.console_max_live_streams) + 4;
    http_options.max_body_bytes = 256 * 1024;
    http_options.tls_cert_file = options_.console_tls_cert_file;
    http_options.tls_key_file = options_.console_tls_key_file;
    auto started_console = http::Server::Start(http_options, console_->Routes());
    if (!started_console.ok()) {
      return absl::FailedPreconditionError(
          absl::StrCat("console.listen: ", started_console.status().message()));
    }
    console_server_ = *std::move(started_console);
  }
  // Built before the ready line: its constructor creates the lead series the config bounds at
  // 0, so whoever reads /metrics after the ready line finds them.
  pipeline_ = std::make_unique<pipeline::Pipeline>(configs_, *consumer_, *producer_, *store_,
                                                   metrics_, core::SystemClock::Get());
  // Always there: a reload may add a source that enriches its records.
  enricher_ = std::make_unique<hubspot::ContactFetcher>();
  pipeline_->SetEnricher(enricher_.get());
  pipeline_->OnPausedChange([this](bool paused) {
    readiness_.Set("consumption", !paused, "paused for backpressure (a batch keeps failing)");
  });
  return absl::OkStatus();
}

void Daemon::StartThreads(std::atomic<bool>& stop, std::atomic<bool>& reload_requested) {
  // Whatever a dependency or a client does, a stop ends the process within shutdown.timeout:
  // the watchdog says which step was still running and exits 0 (offsets past what was durable
  // were never committed, so nothing is lost). Started only after the last start-up failure (a
  // joinable thread destroyed by an early return would terminate the process instead of exiting
  // with the start-up's code).
  stop_watcher_ = std::thread([this, &stop] {
    while (!stop.load()) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    const std::chrono::milliseconds timeout = options_.shutdown_timeout;
    watchdog_.Arm(timeout, [timeout] {
      spdlog::error("shutdown did not finish within {} ms; abandoning it while {}; exiting",
                    timeout.count(), shutdown_step.load());
      spdlog::default_logger()->flush();
      std::_Exit(0);
    });
  });

  // Kafka reachable (a metadata request) and Redis answering within its timeout.
  auto probe_redis = store::RedisConnection::Connect(redis_);
  std::shared_ptr<store::RedisConnection> probe_connection =
      probe_redis.ok() ? std::shared_ptr<store::RedisConnection>(*std::move(probe_redis)) : nullptr;
  probe_ = std::make_unique<pipeline::DependencyProbe>(
      readiness_,
      std::vector<pipeline::DependencyProbe::Check>{
          {"kafka",
           [this]() -> absl::Status {
             absl::Status reached =
                 producer_->WarmUp(options_.inbound_topic, std::chrono::milliseconds(1000));
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
  probe_thread_ = std::thread([this, &stop] { probe_->Run(stop, options_.probe_interval); });

  // One machine-readable line on stdout: scripts and tests wait for it.
  const std::string console_field =
      console_server_ == nullptr
          ? std::string()
          : absl::StrCat(" console=", options_.console_tls_cert_file.empty() ? "http" : "https",
                         "://", HostOf(options_.console_listen), ":", console_server_->port(),
                         "/console/");
  std::printf("leadrouter ready grpc=%s:%d metrics=http://%s:%d/metrics config=%s%s\n",
              HostOf(options_.grpc_listen).c_str(), grpc_server_->port(),
              HostOf(options_.metrics_listen).c_str(), metrics_server_->port(),
              config_version_.c_str(), console_field.c_str());
  std::fflush(stdout);

  watcher_ = std::thread([this, &stop, &reload_requested] { WatchConfig(stop, reload_requested); });

  // Stream subscribers are fed from the shared assignment log; SLA deadlines are checked twice
  // a second (any instance expires any lead, each once).
  tailer_ = std::make_unique<pipeline::LogTailer>(redis_, hub_);
  tail_thread_ = std::thread([this, &stop] { tailer_->Run(stop); });
  // One instance at a time (the lease holder) publishes the log to the assignments topic.
  outbox_ = std::make_unique<pipeline::OutboxForwarder>(
      configs_, std::move(outbox_store_), std::move(outbox_lease_keeper_), *outbox_producer_,
      metrics_, pipeline::OutboxHolderName());
  outbox_thread_ = std::thread([this, &stop] { outbox_->Run(stop); });
  expiry_thread_ =
      std::thread([this, &stop] { leads_->RunExpiry(stop, options_.expiry_interval); });
  // Fairness and open-lead gauges from the shared routing state.
  load_sampler_ = std::make_unique<pipeline::LoadSampler>(configs_, redis_, metrics_);
  load_thread_ =
      std::thread([this, &stop] { load_sampler_->Run(stop, options_.load_sample_interval); });
}

void Daemon::WatchConfig(const std::atomic<bool>& stop, std::atomic<bool>& reload_requested) {
  auto next_check = std::chrono::steady_clock::now();
  while (!stop.load()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (!reload_requested.exchange(false) && std::chrono::steady_clock::now() < next_check)
      continue;
    next_check = std::chrono::steady_clock::now() + options_.config_poll_interval;
    const auto report = configs_.Reload();
    metrics_.ConfigReload(config::ReloadResultName(report.result));
    switch (report.result) {
      case config::ConfigReloader::Result::kUnchanged:
        break;
      case config::ConfigReloader::Result::kApplied:
        metrics_.SetConfigInfo(configs_.Current()->version);
        spdlog::info("{}", report.message);
        break;
      case config::ConfigReloader::Result::kRefused:
        spdlog::error("config reload refused, keeping {}: {}", configs_.Current()->version,
                      report.message);
        break;
    }
  }
}

void Daemon::ShutDown() {
  // Leave the consumer group first, so the partitions move to another instance at once.
  shutdown_step.store("leaving the consumer group");
  consumer_->Close(std::min(options_.shutdown_timeout / 3, kafka::kDefaultCloseTimeout));
  // Streams get stream_grace to end; one whose client stopped reading is then cancelled.
  // The console's live feeds end at their next poll; its server waits for its handlers.
  shutdown_step.store("stopping the console");
  if (console_ != nullptr) console_->Stop();
  console_server_.reset();
  shutdown_step.store("closing the gRPC streams");
  hub_.CloseAll();
  grpc_server_->Shutdown(options_.stream_grace);
  shutdown_step.store("stopping the background threads");
  watcher_.join();
  tail_thread_.join();
  outbox_thread_.join();
  expiry_thread_.join();
  load_thread_.join();
  probe_thread_.join();
  stop_watcher_.join();
  shutdown_step.store("flushing the producer");
}

int Daemon::Run(std::atomic<bool>& stop, std::atomic<bool>& reload_requested) {
  if (absl::Status started = StartParts(); !started.ok()) {
    const std::string what = started.ToString();
    spdlog::critical("{}", what);
    std::fprintf(stderr, "leadrouter: %s\n", what.c_str());
    return kExitStartup;
  }
  StartThreads(stop, reload_requested);
  const absl::Status run = pipeline_->Run(stop);
  spdlog::info("shutting down");
  stop.store(true);
  ShutDown();
  if (!run.ok()) {
    const std::string what = run.ToString();
    spdlog::critical("{}", what);
    std::fprintf(stderr, "leadrouter: %s\n", what.c_str());
    return kExitFatal;
  }
  spdlog::info("stopped cleanly");
  return kExitOk;
}

}  // namespace leadrouter::daemon
