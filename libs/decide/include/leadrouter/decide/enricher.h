#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "leadrouter/config/config.h"
#include "leadrouter/sources/mapping.h"

namespace leadrouter::decide {

// Fetches what an enriching source's records lack (sources::Mapping::enrich_kind), e.g. the
// HubSpot contact a webhook subscription event only names, from the API in `source.enrich`.
// Returns the object's JSON text. NotFound / InvalidArgument are answers about the record (no
// such object, an id the API refuses): the record is dead-lettered `unmappable` with the
// message, which must name no personal data. Any other error is transient: the record is
// retried later, never dead-lettered (the sender delivered it correctly).
// Implementations do I/O (hubspot::ContactFetcher); thread-safety is theirs to state.
class Enricher {
 public:
  virtual ~Enricher() = default;
  virtual absl::StatusOr<std::string> Fetch(const config::SourceConfig& source,
                                            const sources::Mapping::EnrichRequest& request) = 0;
};

}  // namespace leadrouter::decide
