#include "leadrouter/routing/router.h"

#include "absl/strings/str_cat.h"

namespace leadrouter::routing {

Router::Router(std::vector<std::string> rep_ids)
    : rotation_(rep_ids), reps_(rep_ids.begin(), rep_ids.end()) {}

Route Router::Decide(const RoutingInput& input, int64_t slot) const {
  if (input.rep_sourced && reps_.count(input.sourced_by_rep_id)) {
    return Route{input.sourced_by_rep_id, false,
                 absl::StrCat("rep-sourced: stays with ", input.sourced_by_rep_id,
                              " who sourced it; rotation not advanced")};
  }
  RotationDecision d = rotation_.Pick(slot);
  std::string reason = std::move(d.reason);
  if (input.rep_sourced) {
    reason = absl::StrCat("rep-sourced by unknown rep \"", input.sourced_by_rep_id,
                          "\", routed by rotation; ", reason);
  }
  return Route{std::move(d.rep_id), true, std::move(reason)};
}

}  // namespace leadrouter::routing
