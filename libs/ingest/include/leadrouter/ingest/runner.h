#pragma once

#include <atomic>
#include <string>

namespace leadrouter::ingest {

// leadrouter-ingest's whole life, for services/ingest/main.cc: loads `config_path`
// (LoadOptions::for_ingest: the sources' auth secrets read), starts the idempotent producer
// (acks=all) and the HTTP listener (ingest.http) and the metrics listener, prints
//   leadrouter-ingest ready http=HOST:PORT metrics=HOST:PORT config=VERSION
// on stdout, serves until `stop`, reloading the config when `reload_requested` (a bad file keeps
// the running config and is logged), then drains: new deliveries are answered 503, those in
// flight finish (each within ingest.http.request_timeout_ms), and the producer flushes.
// Returns the process's exit code: 0 after a clean stop, 2 for a bad config, 1 when a part
// cannot start. Call from main with the signals blocked (daemon::BlockDaemonSignals).
int Run(const std::string& config_path, std::atomic<bool>& stop,
        std::atomic<bool>& reload_requested);

}  // namespace leadrouter::ingest
