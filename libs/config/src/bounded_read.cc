#include "bounded_read.h"

#include <fstream>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace leadrouter::config {

absl::StatusOr<std::string> ReadBoundedFile(const std::string& what, const std::string& path,
                                            size_t limit) {
  const std::string name = what.empty() ? path : absl::StrCat(what, " ", path);
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(name, ": cannot open"));
  // Grows in chunks, so a small file costs a small buffer and an endless one stops at limit + 1.
  constexpr size_t kChunk = 64 << 10;
  std::string data;
  while (data.size() <= limit) {
    const size_t offset = data.size();
    const size_t want = std::min(kChunk, limit + 1 - offset);
    data.resize(offset + want);
    in.read(data.data() + offset, static_cast<std::streamsize>(want));
    data.resize(offset + static_cast<size_t>(in.gcount()));
    if (in.bad()) return absl::InvalidArgumentError(absl::StrCat(name, ": cannot read"));
    if (in.eof()) break;
  }
  if (data.size() > limit) {
    const std::string human =
        limit % (1 << 20) == 0 ? absl::StrCat(" (", limit >> 20, " MiB)") : std::string();
    return absl::InvalidArgumentError(
        absl::StrCat(name, ": larger than the limit of ", limit, " bytes", human));
  }
  return data;
}

}  // namespace leadrouter::config
