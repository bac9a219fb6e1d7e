#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace leadrouter::routing {

// What the rotation decided for one lead, and why.
struct RotationDecision {
  std::string rep_id;
  int64_t slot = 0;       // the rotation slot this lead took
  int64_t next_slot = 0;  // where the rotation continues
  std::string reason;     // human-readable, for the assignment trace
};

// Plain round robin over a fixed list of reps: slot s goes to reps[s mod n], so over any n
// consecutive slots every rep gets exactly one lead, and after any prefix counts differ by at
// most one. The rotation position (the slot) is state the caller keeps (in Redis, shared by
// every instance); this class is pure, immutable and thread-safe.
class RoundRobin {
 public:
  // rep_ids must be non-empty (the config validator guarantees it).
  explicit RoundRobin(std::vector<std::string> rep_ids);

  RotationDecision Pick(int64_t slot) const;
  size_t size() const { return rep_ids_.size(); }

 private:
  std::vector<std::string> rep_ids_;
};

}  // namespace leadrouter::routing
