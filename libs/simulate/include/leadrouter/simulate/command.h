#pragma once

#include <cstddef>
#include <string>

namespace leadrouter::simulate {

// The `leadrouter simulate` command line, parsed.
struct CommandOptions {
  std::string config_path;
  std::string leads_path;
  std::string baseline_path;
  std::string html_path;
  bool json = false;
  size_t sample = 20;
  std::string source;  // --source NAME: each line is a payload of that configured source
};

// Runs `leadrouter simulate`: loads the configs and the lead file, simulates, writes the report
// (text or JSON on stdout, HTML to a file). Returns the process exit code: 0, 2 for a bad
// config (its errors on stderr), 1 for an unreadable leads file or an unwritable --html file.
int RunCommand(const CommandOptions& options);

}  // namespace leadrouter::simulate
