#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

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
  // Best effort, before a batch's records are decoded: fetches the objects of `object_ids` that
  // Fetch will ask for (in as few requests as the API allows), so each Fetch finds its object
  // ready. Failures are not reported: Fetch fetches what is missing and says what went wrong.
  virtual void Prefetch(const config::SourceConfig& /*source*/,
                        const std::vector<std::string>& /*object_ids*/,
                        const std::vector<std::string>& /*properties*/) {}
};

// One inbound record as PrefetchEnrichment reads it (views into the caller's message).
struct RecordView {
  std::string_view payload;
  std::optional<std::string_view> content_type;
  std::optional<std::string_view> source_header;
  std::string_view topic;
};

// Before decoding a batch: collects, per enriching source (chosen as DecodeRecord chooses it),
// the object ids its records will fetch and hands them to `enricher.Prefetch` in one call per
// source. Records of other sources cost a header lookup.
void PrefetchEnrichment(const config::Config& config, const std::vector<RecordView>& records,
                        Enricher& enricher);

}  // namespace leadrouter::decide
