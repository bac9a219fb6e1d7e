#pragma once

#include <cstddef>
#include <string>
#include <vector>

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
  std::vector<std::string> return_rates;   // --return-rate SOURCE=FRACTION (ParseWhatIf)
  std::vector<std::string> out_of_office;  // --ooo REP=FROM..TO (ParseWhatIf)
  bool unaccepted = false;                 // --unaccepted: nobody accepts; SLA expiry re-routes
  std::vector<std::string> claims;         // --claim REP=DOMAIN (ParseWhatIf)
  std::string claims_path;                 // --claims FILE: one REP=DOMAIN per line (ClaimLines)
};

// Runs `leadrouter simulate`: loads the configs (without their secrets: a what-if writes nothing;
// without the dedupe key it uses an ephemeral one, the same for both configs, so dedupe matches
// as in the daemon), loads the lead file, simulates, writes the report
// (text or JSON on stdout, HTML to a file). Returns the process exit code: 0, 2 for a bad
// config (its errors on stderr), 1 for an unreadable leads file or an unwritable --html file.
int RunCommand(const CommandOptions& options);

}  // namespace leadrouter::simulate
