#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "leadrouter/core/clock.h"
#include "leadrouter/v1/lead.pb.h"

namespace leadrouter::sources {

// A compiled source mapping: how one record of a source system (a JSON object, a JSON array, or
// an application/x-www-form-urlencoded body) becomes one or more LeadEvents. Written as YAML
// (the shipped profiles are deploy/sources/<profile>.yaml; README "sources"):
//
//   input: json                          # json | form: the payload type when no content-type
//   records: "result[*]"                 # optional: one event per element of this array (an
//                                        # object payload without that array is the one record)
//   filter: {from: $.ChangeEventHeader.changeType, in: [CREATE], option: route_change_types}
//   event_id: "marketo-{id}"             # template over source paths; {#sha256} = the record's
//                                        # canonical SHA-256 (the default: "{#sha256}")
//   fields:                              # LeadEvent field ← rule
//     person.email: email                # shorthand for {from: email}
//     person.first_name: {from: [firstName, $.fallback.name], transforms: [trim, first_name]}
//     company.country: {from: country, transforms: [country]}
//     source_kind: {const: INBOUND_MARKETING}
//     psychographics.buying_priority: {from: priority, map: {cheap: PRICE}, default: VALUE}
//   enrich: {kind: hubspot_contact, object_id: objectId, into: contact}
//                                        # optional: fetch each record's object (see Fetch) and
//                                        # attach it as `contact`; rules read contact.properties.x
//
// Paths resolve against the record (the array element with `records`, else the payload): dotted
// (`properties.email.value`, `recordIds[0]`, `values[name=email].value`: the first element
// whose `name` is "email") or a JSON Pointer (`/properties/email/value`). `$` starts at the
// payload's root (`$.ChangeEventHeader.changeType`), `@` is the record itself. A rule takes the
// first path whose value is not empty (null, "" and blanks are empty), else `default`; `const`
// takes no path. Transforms run in order on the text of the value: trim, lower, upper,
// first_name / last_name (a full name split: "Ada King Lovelace" → "Ada" / "King Lovelace",
// "Lovelace, Ada" → "Ada" / "Lovelace"), number ("1.2M" → 1200000, "50k", "$1,500", "51-200" →
// 51), epoch_ms / epoch_s / rfc3339 / timestamp (any of the three) → a timestamp, country (a
// name or an alpha-3 code → ISO 3166 alpha-2, from the shipped table; an unknown name passes
// unchanged). `map` replaces a value (compared case-insensitively) before the transforms; a value
// it does not list passes unchanged, or becomes the rule's `default` when it has one. Enum targets
// take the name with or without its prefix
// (`PRICE`, `BUYING_PRIORITY_PRICE`) in any case; integer targets take an integer or apply
// `number`; `occurred_at` takes a timestamp (epoch ms, epoch s or RFC 3339), and without a value
// it is the record's receipt time. Targets: every string, integer and enum field of LeadEvent by
// its proto path, `occurred_at`, and `attributes.<key>`.
//
// Thread-safety: immutable once built; Map may be called from any number of threads.
class Mapping {
 public:
  // Parses and validates a mapping. Errors are InvalidArgument listing every problem, one per
  // line, each prefixed with `path_prefix` and the field's path, e.g.
  //   sources[1].mapping.fields.person.emial: unknown target (known: ...)
  //   sources[1].mapping.fields.occurred_at.transforms[0]: unknown transform "epoch_us" (known:
  //   ...)
  // Unknown fields are errors. Pure.
  static absl::StatusOr<std::shared_ptr<const Mapping>> Parse(std::string_view yaml_text,
                                                              std::string_view path_prefix);

  // A copy with the options a source sets (`options: {route_change_types: [CREATE, UPDATE]}`):
  // each names an option the mapping declares (today: its filter's `option`), whose value list
  // replaces the filter's `in`. Errors name `path_prefix.<option>`.
  absl::StatusOr<std::shared_ptr<const Mapping>> WithOptions(
      const std::map<std::string, std::vector<std::string>>& options,
      std::string_view path_prefix) const;

  // The options this mapping accepts, e.g. {"route_change_types": ["CREATE"]} (with defaults).
  std::map<std::string, std::vector<std::string>> Options() const;

  // What a mapping with `enrich` fetches for each record it maps (the record carries only a
  // reference, e.g. a HubSpot webhook event's objectId): the fetched object is attached to the
  // record as the member named by `enrich.into`, and the rules read it like any other path.
  struct EnrichRequest {
    std::string_view kind;       // the mapping's enrich.kind: "hubspot_contact"
    std::string_view object_id;  // the record's value at enrich.object_id
    // The object's properties the rules read (paths <into>.properties.<name>), sorted: what to
    // ask the API for.
    const std::vector<std::string>& properties;
  };
  // Returns the fetched object as JSON text. NotFound and InvalidArgument are answers about the
  // record (no such object, an id the API refuses): Map makes the record unmappable. Any other
  // error is transient and Map returns it unchanged, so the caller retries the record later
  // instead of dead-lettering a record its sender delivered correctly.
  using Fetch = std::function<absl::StatusOr<std::string>(const EnrichRequest&)>;

  // The kind of object this mapping fetches per record ("hubspot_contact"), or "" when it
  // fetches nothing.
  std::string_view enrich_kind() const;
  // The properties EnrichRequest asks for (empty without `enrich`).
  const std::vector<std::string>& enrich_properties() const;
  // The object ids Map would fetch for `payload`, in record order (repeats kept), so a caller
  // can fetch a batch's objects in one request first (Enricher::Prefetch). Best effort: empty
  // without `enrich` or for a payload that does not parse, and cut short where a record does
  // not map. Pure.
  std::vector<std::string> EnrichObjectIds(std::string_view payload,
                                           std::optional<std::string_view> content_type) const;

  struct Output {
    std::vector<v1::LeadEvent> events;  // in record order; tidied (lead::TidyStrings)
    size_t filtered = 0;                // records the filter dropped (no event, not an error)
  };

  // Maps one payload. `content_type` chooses the parser (application/json, or
  // application/x-www-form-urlencoded, parameters ignored); without it the mapping's `input`.
  // `received_at` is the occurred_at of an event whose mapping gives none. An error is
  // InvalidArgument naming the source path and the kind of problem, never a value from the
  // payload (it goes to logs), e.g.
  //   occurred_at ← submittedAt: not a timestamp (epoch ms)
  //   records ← result[*]: not an array
  // The events are not validated: the caller runs lead::ValidateLeadEvent on each, as on a native
  // event. At most kMaxEventsPerRecord events; more is an error. A mapping with `enrich` calls
  // `fetch` once per record its filter keeps, in record order, and stops at the first transient
  // error (returned as it is, not InvalidArgument); without `fetch` its records are mapped
  // without the object (what SplitDelivery needs: the event ids never read it). Pure but for
  // what `fetch` does.
  absl::StatusOr<Output> Map(std::string_view payload, std::optional<std::string_view> content_type,
                             core::TimePoint received_at, const Fetch* fetch = nullptr) const;

  // One record of a delivery as leadrouter-ingest stores it on Kafka.
  struct Piece {
    std::string payload;  // the record's own bytes (the whole payload when not split)
    bool split = false;   // `payload` is one element's canonical JSON, not the delivery
    std::vector<std::string> event_ids;  // its events' ids, in order (none: all filtered)
    // The mapping's error when the piece parses but does not map (then no event ids): it is
    // still stored, and the daemon dead-letters it with this reason, so a delivery is never
    // lost to a mapping bug and one bad element of a page does not take the others with it.
    std::optional<std::string> unmappable;
  };
  struct Split {
    std::vector<Piece> pieces;
  };

  // Divides a delivery into records that map on their own, each with its event ids, so each
  // can be a Kafka record keyed by its event id and Map of a piece gives exactly those events.
  // A payload is split when `records` is `[*]` or `<member>[*]` of its top level, every element
  // is an object and no rule reads `$` (a JSON array of HubSpot events, a Marketo result[]
  // page): each element becomes its canonical JSON (internal::Canonical). Otherwise it is one
  // piece (a Salesforce change of several records, a form, a single object). An element that
  // does not map on its own is its own unmappable piece. An error is
  // InvalidArgument for a payload that does not parse as its content type (never a value from
  // the payload). Pure.
  absl::StatusOr<Split> SplitDelivery(std::string_view payload,
                                      std::optional<std::string_view> content_type,
                                      core::TimePoint received_at) const;

  // The number of field rules, for summaries.
  size_t field_count() const;

  static constexpr size_t kMaxEventsPerRecord = 1000;

  struct Spec;  // the compiled rules (src/mapping.cc)
  explicit Mapping(std::shared_ptr<const Spec> spec) : spec_(std::move(spec)) {}

 private:
  std::shared_ptr<const Spec> spec_;
};

// The records of a JSON payload that has no mapping (native LeadEvents over HTTP): the elements
// of a top-level array, each as its canonical JSON, or the payload itself when it is an object.
// InvalidArgument when it is not JSON, or neither an object nor an array of objects. Pure.
absl::StatusOr<std::vector<std::string>> SplitJsonRecords(std::string_view payload);

// The profile names shipped with leadrouter (compiled in from deploy/sources/<name>.yaml), in
// alphabetical order, plus "leadevent" (the native contract: no mapping).
std::vector<std::string_view> ShippedProfileNames();

// The YAML text of a shipped profile, or nullopt for an unknown name and for "leadevent".
std::optional<std::string_view> ShippedProfileText(std::string_view name);

}  // namespace leadrouter::sources
