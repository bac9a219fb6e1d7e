#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace leadrouter::store {

// How an event's stored outcome (a serialized v1.EventOutcome) is kept in Redis: a zstd frame
// compressed with a dictionary trained on stored outcomes (libs/store/data/outcome-v1.zdict,
// zstd dictionary id 1; scripts/train-record-dict.sh rebuilds it). An outcome is mostly the lead,
// its qualification rules and its routing explanation, the same words lead after lead: 1.4-2.6 KB
// become ~230 bytes (7x), where zstd without a dictionary gets under 2x.
//
// The entries of the assignment log (serialized v1.AssignmentEvents, the same words) are kept
// the same way; an entry that is an assignment of a record written with it is kept as that
// record's bytes (stream field "o" instead of "e"), compressed once for both.
//
// A record written before compression (the serialized outcome itself, whose first byte is a
// field tag 0x0A or 0x12, never zstd's 0x28) is read as it is. A new dictionary must get a new id
// and the old one must stay readable: records live for the idempotency TTL.
//
// Thread-safe: the dictionaries are built once; each thread keeps its own zstd contexts.

// The stored form of `serialized_outcome` (deterministic: equal input, equal output).
std::string EncodeRecord(std::string_view serialized_outcome);

// The serialized outcome of a stored record. DataLoss for a zstd frame that does not decode (or
// names a dictionary this build does not have).
absl::StatusOr<std::string> DecodeRecord(std::string_view stored);

// The serialized AssignmentEvent inside a serialized EventOutcome that holds one (field 1; the
// other fields, all messages, are skipped); nullopt for anything else.
std::optional<std::string_view> AssignmentOfOutcome(std::string_view serialized_outcome);

// A record's stamp (AssignmentStore::LoadStampedRecords): the hex SHA-1 of its stored bytes, as
// the commit script's redis.sha1hex computes it.
std::string RecordStamp(std::string_view stored);

}  // namespace leadrouter::store
