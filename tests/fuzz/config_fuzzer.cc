// libFuzzer target for the config loader (issue 7, fault test 6). ParseConfig also compiles the
// qualification profile (libs/qualify) and the routing engine (libs/routing), so both are fuzzed
// through it.
//
// Checks, beyond "no crash, no sanitizer report, no exception escaping ParseConfig":
//   * a parsed Config has its compiled engine and qualifier (documented as never null);
//   * Summarize() of it does not crash;
//   * parsing is deterministic: the same text parses again to the same version and summary, or
//     fails again with the same error.
//
// Note: ParseConfig resolves secrets, so an input naming `redis.password_env` makes it call
// getenv() and one naming `redis.password_file` makes it read the first line of that file. Both
// are harmless in the fuzzer (nothing is written), but an input naming a file with no newline
// and no end, such as /dev/zero, would read until the RSS limit; libFuzzer would then report an
// OOM for it. That is a property of the loader (an operator-chosen path), not of hostile input.
//
// Build and run: scripts/fuzz.sh [--seconds N]  (a separate clang build in build/fuzz).

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "leadrouter/config/config.h"

namespace {

// Real config files are a few KiB; bigger inputs only slow the fuzzer down.
constexpr size_t kMaxInput = 64 * 1024;

[[noreturn]] void Fail(const char* what, const std::string& detail) {
  std::fprintf(stderr, "config_fuzzer: %s: %s\n", what, detail.c_str());
  std::abort();  // libFuzzer reports it as a crash and saves the input
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > kMaxInput) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  const auto config = leadrouter::config::ParseConfig(text);
  const auto again = leadrouter::config::ParseConfig(text);
  if (config.ok() != again.ok()) Fail("parse is not deterministic", config.status().ToString());
  if (!config.ok()) {
    if (config.status() != again.status()) {
      Fail("errors are not deterministic",
           config.status().ToString() + "\n---\n" + again.status().ToString());
    }
    return 0;
  }
  if (config->engine == nullptr) Fail("parsed config without an engine", config->version);
  if (config->qualifier == nullptr) Fail("parsed config without a qualifier", config->version);
  const std::string summary = leadrouter::config::Summarize(*config);
  if (config->version != again->version)
    Fail("version differs", config->version + " vs " + again->version);
  if (summary != leadrouter::config::Summarize(*again)) Fail("summary differs", summary);
  return 0;
}
