#pragma once

#include <cstdio>
#include <string>

namespace leadrouter::simulate {

// The `leadrouter map` command line, parsed.
struct MapCommandOptions {
  std::string config_path;
  std::string source;        // a source of the config
  std::string content_type;  // "" = the source's mapping decides (its `input`)
  std::string payload_path;
};

// Runs `leadrouter map`: maps one payload of a configured source exactly as the daemon would
// (decide::DecodeRecord, then lead::ValidateLeadEvent on each event) and prints each event as
// one line of protobuf JSON on `out`. Needs no secret (the config is loaded as check-config
// loads it) and writes nothing anywhere else. Exit code: 0 when every event is valid (also for
// a record the source's filter drops, said on `err`); 2 for a bad config, an unknown source, an
// unmappable payload (the error names the source path) or an event that fails validation (the
// others are still printed); 1 for an unreadable payload file. Thread-compatible.
int RunMapCommand(const MapCommandOptions& options, std::FILE* out, std::FILE* err);

}  // namespace leadrouter::simulate
