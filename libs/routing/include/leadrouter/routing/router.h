#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "leadrouter/routing/round_robin.h"

namespace leadrouter::routing {

// The facts about a lead that routing looks at (a plain value, so routing knows no protobuf).
struct RoutingInput {
  bool rep_sourced = false;
  std::string sourced_by_rep_id;  // meaningful when rep_sourced
};

// A routing decision and its explanation.
struct Route {
  std::string rep_id;
  bool took_rotation_slot = false;  // false: the rotation did not move
  std::string reason;
};

// The skeleton router: a rep-sourced lead stays with the configured rep who sourced it
// (self-sourced credit, without taking a rotation turn from the pool); every other lead takes
// the next round-robin slot. Pure, immutable, thread-safe.
class Router {
 public:
  explicit Router(std::vector<std::string> rep_ids);

  Route Decide(const RoutingInput& input, int64_t slot) const;

 private:
  RoundRobin rotation_;
  std::set<std::string, std::less<>> reps_;
};

}  // namespace leadrouter::routing
