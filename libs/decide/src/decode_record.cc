#include "leadrouter/decide/decode_record.h"

#include <iterator>
#include <map>
#include <variant>

#include "absl/strings/str_cat.h"
#include "leadrouter/lead/decode.h"

namespace leadrouter::decide {

DecodedRecord DecodeRecord(const config::Config& config, std::string_view payload,
                           std::optional<std::string_view> content_type,
                           std::optional<std::string_view> source_header, std::string_view topic,
                           core::TimePoint received_at, Enricher* enricher) {
  DecodedRecord out;
  const config::SourceConfig* source = nullptr;
  if (source_header) {
    source = config.FindSource(*source_header);
    if (source == nullptr) {
      out.source = kUnknownSource;
      // The name comes from the producer: the header detail may quote it, the log line not.
      out.rejection =
          lead::Rejection{lead::RejectReason::kUnmappable,
                          absl::StrCat(kHeaderSource, ": no source \"", std::string(*source_header),
                                       "\" in the config"),
                          absl::StrCat(kHeaderSource, ": names no source of the config")};
      return out;
    }
  } else {
    source = config.SourceForTopic(topic);
  }
  out.source = source ? source->name : kNoSource;
  const size_t max_bytes = static_cast<size_t>(config.kafka.max_event_bytes);
  if (source == nullptr || source->mapping == nullptr) {
    lead::DecodeResult decoded = lead::DecodeLeadEvent(
        payload, content_type, max_bytes, lead::DecodeOptions{config.ingest.unknown_fields});
    if (auto* rejection = std::get_if<lead::Rejection>(&decoded)) {
      out.rejection = std::move(*rejection);
    } else {
      out.events.push_back(std::move(std::get<v1::LeadEvent>(decoded)));
    }
    return out;
  }
  if (payload.size() > max_bytes) {
    const std::string detail =
        absl::StrCat("event is ", payload.size(), " bytes, the limit is ", max_bytes);
    out.rejection = lead::Rejection{lead::RejectReason::kTooLarge, detail, detail};
    return out;
  }
  std::optional<sources::Mapping::Fetch> fetch;
  if (!source->mapping->enrich_kind().empty()) {
    if (enricher == nullptr) {
      out.transient = absl::FailedPreconditionError(absl::StrCat(
          "source ", source->name, " fetches each record's ",
          std::string(source->mapping->enrich_kind()), ", and nothing here can fetch it"));
      return out;
    }
    fetch = [enricher, source](const sources::Mapping::EnrichRequest& request) {
      return enricher->Fetch(*source, request);
    };
  }
  auto mapped = source->mapping->Map(payload, content_type, received_at, fetch ? &*fetch : nullptr);
  // Only a fetch fails other than InvalidArgument; anything else stays the record's problem (a
  // record wrongly called transient would hold its partition forever).
  if (fetch && !mapped.ok() && !absl::IsInvalidArgument(mapped.status())) {
    out.transient = absl::Status(
        mapped.status().code(),
        absl::StrCat("source ", source->name, ": ", std::string(mapped.status().message())));
    return out;
  }
  if (!mapped.ok()) {
    // Mapping errors name the target and the source path, never a payload value.
    const std::string detail =
        absl::StrCat("source ", source->name, ": ", mapped.status().message());
    out.rejection = lead::Rejection{lead::RejectReason::kUnmappable, detail, detail};
    return out;
  }
  out.events = std::move(mapped->events);
  out.filtered = mapped->filtered;
  return out;
}

void PrefetchEnrichment(const config::Config& config, const std::vector<RecordView>& records,
                        Enricher& enricher) {
  std::map<const config::SourceConfig*, std::vector<std::string>> ids;
  for (const RecordView& record : records) {
    const config::SourceConfig* source = record.source_header
                                             ? config.FindSource(*record.source_header)
                                             : config.SourceForTopic(record.topic);
    if (source == nullptr || source->mapping == nullptr || source->mapping->enrich_kind().empty() ||
        record.payload.size() > static_cast<size_t>(config.kafka.max_event_bytes)) {
      continue;
    }
    std::vector<std::string> found =
        source->mapping->EnrichObjectIds(record.payload, record.content_type);
    std::vector<std::string>& all = ids[source];
    all.insert(all.end(), std::make_move_iterator(found.begin()),
               std::make_move_iterator(found.end()));
  }
  for (const auto& [source, object_ids] : ids) {
    if (!object_ids.empty()) {
      enricher.Prefetch(*source, object_ids, source->mapping->enrich_properties());
    }
  }
}

}  // namespace leadrouter::decide
