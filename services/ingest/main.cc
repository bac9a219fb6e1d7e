// The leadrouter-ingest binary: parses the flags and wires. Its logic is libs/ingest.
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <string>

#include "leadrouter/daemon/signals.h"
#include "leadrouter/ingest/runner.h"

int main(int argc, char** argv) {
  leadrouter::daemon::BlockDaemonSignals();
  CLI::App app{"leadrouter-ingest: takes webhook deliveries of marketing systems into Kafka"};
  std::string config_path;
  std::string log_level = "info";
  app.add_option("-c,--config", config_path, "YAML configuration file (its ingest.http section)")
      ->required();
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}));
  CLI11_PARSE(app, argc, argv);
  spdlog::set_default_logger(spdlog::stderr_logger_mt("leadrouter-ingest"));
  spdlog::set_level(spdlog::level::from_str(log_level));

  static std::atomic<bool> stop{false};
  static std::atomic<bool> reload_requested{false};
  leadrouter::daemon::StartSignalThread(stop, reload_requested);
  return leadrouter::ingest::Run(config_path, stop, reload_requested);
}
