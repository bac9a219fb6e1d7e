#include "leadrouter/simulate/command.h"

#include <cstdio>
#include <fstream>
#include <optional>
#include <vector>

#include "leadrouter/config/config.h"
#include "leadrouter/simulate/render.h"
#include "leadrouter/simulate/simulate.h"

namespace leadrouter::simulate {
namespace {

constexpr int kExitBadConfig = 2;

}  // namespace

int RunCommand(const CommandOptions& args) {
  auto candidate = config::LoadConfigFile(args.config_path);
  if (!candidate.ok()) {
    std::fprintf(stderr, "%s\n", std::string(candidate.status().message()).c_str());
    return kExitBadConfig;
  }
  std::optional<config::Config> baseline;
  if (!args.baseline_path.empty()) {
    auto loaded = config::LoadConfigFile(args.baseline_path);
    if (!loaded.ok()) {
      std::fprintf(stderr, "%s\n", std::string(loaded.status().message()).c_str());
      return kExitBadConfig;
    }
    baseline = std::move(*loaded);
  }
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
