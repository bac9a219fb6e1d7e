#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "leadrouter/kafka/message.h"

namespace leadrouter::pipeline {

// Dead-letter headers: what went wrong and where the event came from.
inline constexpr char kHeaderErrorCode[] = "x-leadrouter-error-code";
inline constexpr char kHeaderError[] = "x-leadrouter-error";
inline constexpr char kHeaderSourceTopic[] = "x-leadrouter-source-topic";
inline constexpr char kHeaderSourcePartition[] = "x-leadrouter-source-partition";
inline constexpr char kHeaderSourceOffset[] = "x-leadrouter-source-offset";
// Present only when the dead letter does not carry the whole original record: the original
// value's size in bytes and SHA-256 (hex), and what was cut ("value", "key", "headers", comma
// separated).
inline constexpr char kHeaderOriginalSize[] = "x-leadrouter-original-size";
inline constexpr char kHeaderOriginalSha256[] = "x-leadrouter-original-sha256";
inline constexpr char kHeaderTruncated[] = "x-leadrouter-truncated";

// What a dead letter may carry of the original record. Every dead letter fits in
// max_value_bytes + max_key_bytes + max_headers_bytes + max_detail_bytes + about 1 KiB of
// leadrouter's own headers, whatever the input, so it can always be published when the
// producer's message.max.bytes allows that much (the config checks it).
struct DeadLetterLimits {
  // A value up to this size is kept whole (a fixed event can be re-published as it was); a
  // larger one is cut to its first `oversized_prefix_bytes` bytes.
  size_t max_value_bytes = 524288;
  size_t oversized_prefix_bytes = 4096;
  size_t max_key_bytes = 4096;
  // Original headers are copied in order while they fit; the rest are dropped.
  size_t max_headers_bytes = 16384;
  size_t max_detail_bytes = 1024;  // of x-leadrouter-error
};

// The dead letter of `in` for `topic`: the original key (a null key stays null), value and headers
// (within `limits`), plus the error code, the detail (which may quote values: the dead-letter topic
// is access-controlled, logs are not) and the source topic, partition and offset. Pure.
kafka::OutgoingMessage BuildDeadLetter(const kafka::ConsumedMessage& in, const std::string& topic,
                                       std::string_view error_code, std::string_view detail,
                                       const DeadLetterLimits& limits);

// `text` cut to at most `max_bytes` without splitting a UTF-8 sequence, "…" appended when cut
// (within the bound). Pure.
std::string TruncateUtf8(std::string_view text, size_t max_bytes);

}  // namespace leadrouter::pipeline
