#pragma once

// The routing counters (routing::RoutingState) <-> the fields of the shared routing hash
// ("rep:<id>:open", "pool:<name>:credit:<rep>", ...). The hash is how every store keeps the
// counters: Redis as a hash, the simulator's MemoryStore as the same map. Pure.

#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "leadrouter/routing/engine.h"

namespace leadrouter::decide {

// Unknown fields are ignored (a newer version's counters). DataLoss naming the field when a
// counter is not an integer or an out-of-office window is malformed: a corrupt counter must
// not read as 0, which would silently re-open a capped rep or restart a rotation.
absl::StatusOr<routing::RoutingState> StateFromFields(
    const std::map<std::string, std::string>& fields);
std::map<std::string, std::string> FieldsFromState(const routing::RoutingState& state);
// The fields of FieldsFromState(after) that differ from `before` (a loaded hash): what a commit
// must write. A field missing from `before` counts as "0".
std::map<std::string, std::string> ChangedFields(const std::map<std::string, std::string>& before,
                                                 const routing::RoutingState& after);

// The scope of a pool's and of a rep's fields: every field of the pool starts with "pool:<name>:",
// every field of the rep with "rep:<id>:" (the store keeps a version per scope: a field's name up
// to its second ':').
std::string PoolScope(const std::string& pool);
std::string RepScope(const std::string& rep_id);

}  // namespace leadrouter::decide
