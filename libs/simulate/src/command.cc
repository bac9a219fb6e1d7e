#include "leadrouter/simulate/command.h"

#include <cstdio>
#include <fstream>
#include <optional>
#include <random>
#include <sstream>
#include <vector>

#include "leadrouter/config/config.h"
#include "leadrouter/simulate/render.h"
#include "leadrouter/simulate/simulate.h"

namespace leadrouter::simulate {
namespace {

constexpr int kExitBadConfig = 2;

// A what-if needs no secret: the dedupe key only has to be the same for every lead of the run.
config::LoadOptions WhatIfLoadOptions() {
  config::LoadOptions options;
  options.require_secrets = false;
  return options;
}

// 32 random bytes as hex: a key that lives as long as the run.
std::string EphemeralKey() {
  std::random_device random;
  static constexpr char kHex[] = "0123456789abcdef";
  std::string key;
  for (int i = 0; i < 64; ++i) key.push_back(kHex[random() % 16]);
  return key;
}

// Gives a config whose dedupe key was not available `key` (random per run).
void UseEphemeralKeyIfMissing(config::Config& config, const std::string& key) {
  if (config.dedupe.enabled && config.dedupe.hmac_key.empty()) config.dedupe.hmac_key = key;
}

}  // namespace

int RunCommand(const CommandOptions& args) {
  auto candidate = config::LoadConfigFile(args.config_path, WhatIfLoadOptions());
  if (!candidate.ok()) {
    std::fprintf(stderr, "%s\n", std::string(candidate.status().message()).c_str());
    return kExitBadConfig;
  }
  std::optional<config::Config> baseline;
  if (!args.baseline_path.empty()) {
    auto loaded = config::LoadConfigFile(args.baseline_path, WhatIfLoadOptions());
    if (!loaded.ok()) {
      std::fprintf(stderr, "%s\n", std::string(loaded.status().message()).c_str());
      return kExitBadConfig;
    }
    baseline = std::move(*loaded);
  }
  const std::string ephemeral_key = EphemeralKey();
  UseEphemeralKeyIfMissing(*candidate, ephemeral_key);
  if (baseline) UseEphemeralKeyIfMissing(*baseline, ephemeral_key);
  std::ifstream in(args.leads_path, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "leadrouter: cannot read leads file %s\n", args.leads_path.c_str());
    return 1;
  }
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(std::move(line));
  if (in.bad()) {
    std::fprintf(stderr, "leadrouter: error reading leads file %s\n", args.leads_path.c_str());
    return 1;
  }

  Options options;
  if (!args.source.empty()) {
    for (const config::Config* cfg : {&*candidate, baseline ? &*baseline : nullptr}) {
      if (cfg != nullptr && cfg->FindSource(args.source) == nullptr) {
        std::fprintf(stderr, "leadrouter: --source %s: no such source in %s\n", args.source.c_str(),
                     cfg == &*candidate ? args.config_path.c_str() : args.baseline_path.c_str());
        return kExitBadConfig;
      }
    }
    options.source = args.source;
  }
  std::vector<std::string> claims = args.claims;
  if (!args.claims_path.empty()) {
    std::ifstream claims_file(args.claims_path, std::ios::binary);
    std::stringstream text;
    text << claims_file.rdbuf();
    if (!claims_file) {
      std::fprintf(stderr, "leadrouter: cannot read claims file %s\n", args.claims_path.c_str());
      return 1;
    }
    for (std::string& line : ClaimLines(text.str())) claims.push_back(std::move(line));
  }
  if (absl::Status what_if =
          ParseWhatIf(*candidate, args.return_rates, args.out_of_office, claims, options);
      !what_if.ok()) {
    std::fprintf(stderr, "leadrouter: %s\n", std::string(what_if.message()).c_str());
    return kExitBadConfig;
  }
  options.unaccepted = args.unaccepted;
  const Report report = Simulate(*candidate, lines, options);
  std::optional<Diff> diff;
  if (baseline) {
    diff = Compare(Simulate(*baseline, lines, options), report, args.sample);
  }
  const Diff* d = diff ? &*diff : nullptr;
  if (!args.html_path.empty()) {
    std::ofstream html(args.html_path, std::ios::binary | std::ios::trunc);
    html << RenderHtml(report, d);
    html.close();
    if (!html) {
      std::fprintf(stderr, "leadrouter: cannot write %s\n", args.html_path.c_str());
      return 1;
    }
  }
  const std::string text = args.json ? RenderJson(report, d) : RenderText(report, d);
  std::fwrite(text.data(), 1, text.size(), stdout);
  if (!args.html_path.empty() && !args.json) {
    std::printf("\nHTML report written to %s\n", args.html_path.c_str());
  }
  return 0;
}

}  // namespace leadrouter::simulate
