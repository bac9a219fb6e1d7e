#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace leadrouter::config {

// Bounds on one YAML document, checked before the node tree is built and walked.
struct YamlLimits {
  // Nodes of the document with every alias expanded: a config walker visits an aliased node
  // once per reference, so a few KB of nested aliases ("billion laughs") would be billions.
  size_t max_nodes = 1000000;
  // Mappings and sequences nested in one another.
  size_t max_depth = 64;
};

// Scans the first document of `yaml_text` with yaml-cpp's event parser (which keeps both
// pairs of a repeated mapping key, and its node API finds only the first). Calls
// `duplicate(path, message)` for every repeated key of every mapping at any depth, with the path
// of the repeated key as the config errors write it (`reps[1].working_hours.start`) and a
// message naming the line of the first occurrence. Returns InvalidArgument when a limit is
// exceeded (the scan stops there), and lets YAML::Exception through for syntax errors.
absl::Status ScanYaml(std::string_view yaml_text, const YamlLimits& limits,
                      const std::function<void(const std::string&, const std::string&)>& duplicate);

}  // namespace leadrouter::config
