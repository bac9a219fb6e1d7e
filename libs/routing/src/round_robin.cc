#include "leadrouter/routing/round_robin.h"

#include <cassert>

#include "absl/strings/str_cat.h"

namespace leadrouter::routing {

RoundRobin::RoundRobin(std::vector<std::string> rep_ids) : rep_ids_(std::move(rep_ids)) {
  assert(!rep_ids_.empty());
}

RotationDecision RoundRobin::Pick(int64_t slot) const {
  const int64_t n = static_cast<int64_t>(rep_ids_.size());
  // A negative slot can only come from corrupted state; fold it into range rather than index
  // out of bounds.
  const int64_t index = ((slot % n) + n) % n;
  RotationDecision d;
  d.rep_id = rep_ids_[static_cast<size_t>(index)];
  d.slot = slot;
  d.next_slot = slot + 1;
  d.reason = absl::StrCat("round robin: slot ", slot, " of a rotation of ", n, " reps -> position ",
                          index + 1);
  return d;
}

}  // namespace leadrouter::routing
