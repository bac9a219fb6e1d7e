#include "leadrouter/pipeline/dead_letter.h"

#include <vector>

#include "absl/strings/str_join.h"
#include "leadrouter/core/hash.h"

namespace leadrouter::pipeline {
namespace {

// The length of the longest prefix of `text` of at most `max_bytes` that does not end inside a
// UTF-8 sequence (bytes that are not UTF-8 at all are cut anywhere).
size_t Utf8PrefixLength(std::string_view text, size_t max_bytes) {
  if (text.size() <= max_bytes) return text.size();
  size_t end = max_bytes;
  // Step back over continuation bytes (at most 3) to the start of the cut sequence.
  for (size_t back = 0; back < 3 && end > 0; ++back) {
    if ((static_cast<unsigned char>(text[end]) & 0xC0) != 0x80) break;
    --end;
  }
  return (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80 ? max_bytes : end;
}

}  // namespace

std::string TruncateUtf8(std::string_view text, size_t max_bytes) {
  if (text.size() <= max_bytes) return std::string(text);
  static constexpr std::string_view kEllipsis = "\u2026";
  if (max_bytes < kEllipsis.size())
    return std::string(text.substr(0, Utf8PrefixLength(text, max_bytes)));
  std::string out(text.substr(0, Utf8PrefixLength(text, max_bytes - kEllipsis.size())));
  out += kEllipsis;
  return out;
}

kafka::OutgoingMessage BuildDeadLetter(const kafka::ConsumedMessage& in, const std::string& topic,
                                       std::string_view error_code, std::string_view detail,
                                       const DeadLetterLimits& limits) {
  kafka::OutgoingMessage out;
  out.topic = topic;
  std::vector<std::string> cut;
  if (in.value.size() > limits.max_value_bytes) {
    out.value = in.value.substr(0, limits.oversized_prefix_bytes);
    cut.push_back("value");
  } else {
    out.value = in.value;
  }
  if (in.key.size() > limits.max_key_bytes) {
    out.key = in.key.substr(0, limits.max_key_bytes);
    cut.push_back("key");
  } else {
    out.key = in.key;
  }
  out.null_key = in.null_key;
  size_t header_bytes = 0;
  for (const kafka::Header& header : in.headers) {
    const size_t size = header.name.size() + header.value.size();
    if (header_bytes + size > limits.max_headers_bytes) {
      cut.push_back("headers");
      break;
    }
    header_bytes += size;
    out.headers.push_back(header);
  }
  out.headers.push_back({kHeaderErrorCode, std::string(error_code)});
  out.headers.push_back({kHeaderError, TruncateUtf8(detail, limits.max_detail_bytes)});
  out.headers.push_back({kHeaderSourceTopic, in.topic});
  out.headers.push_back({kHeaderSourcePartition, std::to_string(in.partition)});
  out.headers.push_back({kHeaderSourceOffset, std::to_string(in.offset)});
  if (!cut.empty()) {
    out.headers.push_back({kHeaderOriginalSize, std::to_string(in.value.size())});
    out.headers.push_back({kHeaderOriginalSha256, core::Sha256Hex(in.value)});
    out.headers.push_back({kHeaderTruncated, absl::StrJoin(cut, ",")});
  }
  return out;
}

}  // namespace leadrouter::pipeline
