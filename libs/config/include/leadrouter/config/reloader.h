#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "leadrouter/config/config.h"

namespace leadrouter::config {

// Holds the live config and replaces it when its file changes and the new content validates.
//
// Reload() re-reads the file: unchanged content (same version) does nothing; content that fails
// validation is refused and the live config stays; valid content is swapped in atomically.
// Sections that only take effect at start (kafka, redis, grpc, metrics) keep their live values
// on reload, and the report says which of them changed and need a restart; everything else
// (reps, pool, qualification) applies to the next batch. Readers hold the shared_ptr they got
// for as long as they need a consistent view. Thread-safe.
class ConfigReloader {
 public:
  ConfigReloader(std::string path, std::shared_ptr<const Config> initial);

  std::shared_ptr<const Config> Current() const;

  enum class Result { kUnchanged, kApplied, kRefused };
  struct Report {
    Result result;
    std::string message;  // the errors when refused; restart-only changes when applied
  };
  Report Reload();

  const std::string& path() const { return path_; }

 private:
  const std::string path_;
  mutable std::mutex mu_;
  std::shared_ptr<const Config> current_;
};

// "unchanged", "applied", "refused": metric labels.
const char* ReloadResultName(ConfigReloader::Result result);

}  // namespace leadrouter::config
