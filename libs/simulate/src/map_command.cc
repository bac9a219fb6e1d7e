#include "leadrouter/simulate/map_command.h"

#include <chrono>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>

#include "leadrouter/config/config.h"
#include "leadrouter/decide/decode_record.h"
#include "leadrouter/hubspot/contact_fetcher.h"
#include "leadrouter/lead/validate.h"
#include "leadrouter/protojson/print.h"

namespace leadrouter::simulate {
namespace {

constexpr int kExitBad = 2;

void Print(std::FILE* to, const std::string& line) {
  std::fwrite(line.data(), 1, line.size(), to);
  std::fputc('\n', to);
}

}  // namespace

int RunMapCommand(const MapCommandOptions& options, std::FILE* out, std::FILE* err) {
  // Like check-config without --require-secrets: trying a mapping needs no production secret.
  auto config = config::LoadConfigFile(options.config_path, {.require_secrets = false});
  if (!config.ok()) {
    Print(err, std::string(config.status().message()));
    return kExitBad;
  }
  if (config->FindSource(options.source) == nullptr) {
    std::string names;
    for (const config::SourceConfig& s : config->sources)
      names += (names.empty() ? "" : ", ") + s.name;
    Print(err, "leadrouter map: --source " + options.source + ": no such source in " +
                   options.config_path + " (sources: " + (names.empty() ? "none" : names) + ")");
    return kExitBad;
  }
  std::ifstream in(options.payload_path, std::ios::binary);
  std::stringstream payload;
  payload << in.rdbuf();
  if (!in) {
    Print(err, "leadrouter map: cannot read " + options.payload_path);
    return 1;
  }
  const core::TimePoint now = std::chrono::system_clock::now();
  std::optional<std::string_view> content_type;
  if (!options.content_type.empty()) content_type = options.content_type;
  // An enriching source's records name an object that `map` fetches (read-only) with the
  // source's token: the token is the one secret `map` may need.
  const config::SourceConfig& source = *config->FindSource(options.source);
  std::unique_ptr<hubspot::ContactFetcher> fetcher;
  if (source.mapping != nullptr && !source.mapping->enrich_kind().empty()) {
    if (source.enrich.token.empty()) {
      Print(err, "leadrouter map: source " + source.name + " fetches each record's " +
                     std::string(source.mapping->enrich_kind()) + " from " +
                     source.enrich.api_base_url + ": its token (" + source.enrich.token_source +
                     ") is not there");
      return kExitBad;
    }
    fetcher = std::make_unique<hubspot::ContactFetcher>();
    const std::string text = payload.str();
    decide::PrefetchEnrichment(*config, {{text, content_type, options.source, ""}}, *fetcher);
  }
  const decide::DecodedRecord record = decide::DecodeRecord(*config, payload.str(), content_type,
                                                            options.source, "", now, fetcher.get());
  if (!record.transient.ok()) {
    Print(err, "leadrouter map: " + std::string(record.transient.message()));
    return 1;
  }
  if (record.rejection) {
    Print(err, std::string(lead::RejectReasonName(record.rejection->reason)) + ": " +
                   record.rejection->detail);
    return kExitBad;
  }
  if (record.filtered > 0) {
    Print(err, "leadrouter map: " + std::to_string(record.filtered) +
                   " record(s) dropped by the source's filter (not routed, not dead-lettered)");
  }
  int exit_code = 0;
  for (size_t i = 0; i < record.events.size(); ++i) {
    const v1::LeadEvent& event = record.events[i];
    if (auto rejection = lead::ValidateLeadEvent(event, now)) {
      Print(err, "event " + std::to_string(i + 1) + ": " +
                     std::string(lead::RejectReasonName(rejection->reason)) + ": " +
                     rejection->detail);
      exit_code = kExitBad;
      continue;
    }
    Print(out, protojson::ToJson(event));
  }
  return exit_code;
}

}  // namespace leadrouter::simulate
