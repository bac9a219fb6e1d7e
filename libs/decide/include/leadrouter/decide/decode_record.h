#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "leadrouter/config/config.h"
#include "leadrouter/core/clock.h"
#include "leadrouter/decide/enricher.h"
#include "leadrouter/lead/rejection.h"
#include "leadrouter/v1/lead.pb.h"

namespace leadrouter::decide {

// Names a record's source: `x-leadrouter-source: NAME` on an inbound record.
inline constexpr char kHeaderSource[] = "x-leadrouter-source";

// The source label of a record that names no source and arrives on no source's topic (a
// native LeadEvent), and of one whose header names a source the config does not have.
inline constexpr char kNoSource[] = "none";
inline constexpr char kUnknownSource[] = "unknown";

// One inbound record turned into the LeadEvents it carries, not yet validated.
struct DecodedRecord {
  // A configured source name, kNoSource or kUnknownSource: a bounded metric label.
  std::string source;
  // The record's events (a native record has one; a mapped record one per mapped record).
  std::vector<v1::LeadEvent> events;
  // Set when the whole record is refused (then `events` is empty): undecodable, too large,
  // unmappable (the detail names the source and the source path that failed), or an unknown
  // source name.
  std::optional<lead::Rejection> rejection;
  // Records the source's filter dropped (e.g. a Salesforce UPDATE when only CREATE is routed):
  // no event, no dead letter.
  size_t filtered = 0;
  // Not OK when the record cannot be decoded now because fetching its source's enrichment
  // failed transiently (HubSpot unreachable, rate limiting): retry the record later; it is
  // neither an event nor a dead letter yet.
  absl::Status transient;
};

// Chooses the record's source, the header first, then the topic (`config.SourceForTopic`),
// and decodes it: a source with a mapping maps the payload (sources::Mapping::Map, receipt time
// `received_at`); otherwise the payload is a native LeadEvent (lead::DecodeLeadEvent). A payload
// over `config.kafka.max_event_bytes` is kTooLarge either way. A source whose mapping enriches
// its records fetches through `enricher`; without one such a record is `transient`
// (FailedPrecondition). Pure and thread-safe but for what `enricher` does.
DecodedRecord DecodeRecord(const config::Config& config, std::string_view payload,
                           std::optional<std::string_view> content_type,
                           std::optional<std::string_view> source_header, std::string_view topic,
                           core::TimePoint received_at, Enricher* enricher = nullptr);

}  // namespace leadrouter::decide
