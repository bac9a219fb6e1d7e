// The leadrouter binary: parses the flags and wires. The daemon is libs/daemon
// (leadrouter::daemon), its logic libs/pipeline.
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <cstdio>
#include <memory>
#include <string>

#include "leadrouter/config/config.h"
#include "leadrouter/config/reloader.h"
#include "leadrouter/daemon/daemon.h"
#include "leadrouter/daemon/signals.h"
#include "leadrouter/simulate/command.h"
#include "leadrouter/simulate/map_command.h"

namespace {

constexpr int kExitConfig = 2;

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

int main(int argc, char** argv) {
  // Before any library starts a thread, so a signal at any moment of the start-up is a clean
  // stop (leadrouter/daemon/signals.h).
  leadrouter::daemon::BlockDaemonSignals();
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
  simulate->add_option("--return-rate", sim.return_rates,
                       "what if reps return a share of a source's leads: SOURCE=FRACTION "
                       "(source_system or source_kind, * for all), repeatable");
  simulate->add_option("--ooo", sim.out_of_office,
                       "what if a rep is out: REP=FROM..TO (RFC 3339 or YYYY-MM-DD, UTC), "
                       "repeatable");
  simulate->add_option("--claim", sim.claims,
                       "what if a rep claims an account: REP=DOMAIN, repeatable, under the "
                       "config's claims policy");
  simulate->add_option("--claims", sim.claims_path, "claims file: one REP=DOMAIN per line");
  simulate->add_flag("--unaccepted", sim.unaccepted,
                     "nobody accepts: leads expire at their accept SLA and re-route");
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
    leadrouter::daemon::UnblockDaemonSignals();  // one-shot commands stop on Ctrl-C
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

  // SIGTERM/SIGINT stop, SIGHUP reloads. The signal thread may outlive main(), so the flags
  // have static storage duration.
  static std::atomic<bool> stop{false};
  static std::atomic<bool> reload_requested{false};
  leadrouter::daemon::StartSignalThread(stop, reload_requested);

  auto loaded = leadrouter::config::LoadConfigFile(config_path);
  if (!loaded.ok()) return Fail(kExitConfig, std::string(loaded.status().message()));
  leadrouter::config::ConfigReloader configs(
      config_path, std::make_shared<const leadrouter::config::Config>(*std::move(loaded)));
  leadrouter::daemon::Daemon daemon(
      configs, leadrouter::daemon::Daemon::Options::FromConfig(*configs.Current()));
  return daemon.Run(stop, reload_requested);
}
