#include <algorithm>
#include <utility>

#include "leadrouter/sources/mapping.h"

namespace leadrouter::sources {
namespace internal {
extern const std::pair<std::string_view, std::string_view> kProfiles[];
extern const size_t kProfileCount;
}  // namespace internal

std::vector<std::string_view> ShippedProfileNames() {
  std::vector<std::string_view> names = {"leadevent"};
  for (size_t i = 0; i < internal::kProfileCount; ++i)
    names.push_back(internal::kProfiles[i].first);
  std::sort(names.begin(), names.end());
  return names;
}

std::optional<std::string_view> ShippedProfileText(std::string_view name) {
  for (size_t i = 0; i < internal::kProfileCount; ++i) {
    if (internal::kProfiles[i].first == name) return internal::kProfiles[i].second;
  }
  return std::nullopt;
}

}  // namespace leadrouter::sources
