#pragma once

#include <string_view>
#include <vector>

namespace leadrouter::console {

// One file of the console's front end, compiled into the binary (libs/console/assets).
struct Asset {
  std::string_view name;          // file name, e.g. "app.js"
  std::string_view content_type;  // from the extension
  std::string_view body;
};

// Every asset, in a fixed order. Thread-safe (built once).
const std::vector<Asset>& Assets();

}  // namespace leadrouter::console
