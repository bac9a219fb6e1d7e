#pragma once

#include <cstddef>
#include <string>

#include "absl/status/statusor.h"

namespace leadrouter::config {

// Reads all of `path`, reading at most `limit` + 1 bytes whatever the file is (a device, a pipe,
// a file that grows). NotFound when it cannot be opened, InvalidArgument when it is larger than
// `limit` or cannot be read; the messages start with `what` and the path, e.g.
// "config file /dev/zero: larger than the limit of 4194304 bytes (4 MiB)". Thread-safe.
absl::StatusOr<std::string> ReadBoundedFile(const std::string& what, const std::string& path,
                                            size_t limit);

}  // namespace leadrouter::config
