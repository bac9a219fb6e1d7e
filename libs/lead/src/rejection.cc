#include "leadrouter/lead/rejection.h"

namespace leadrouter::lead {

std::string_view RejectReasonName(RejectReason reason) {
  switch (reason) {
    case RejectReason::kTooLarge:
      return "too_large";
    case RejectReason::kUnsupportedContentType:
      return "unsupported_content_type";
    case RejectReason::kUndecodable:
      return "undecodable";
    case RejectReason::kMissingField:
      return "missing_field";
    case RejectReason::kInvalidField:
      return "invalid_field";
    case RejectReason::kUnmappable:
      return "unmappable";
  }
  return "unknown";
}

std::string RedactForTrace(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    const auto byte = static_cast<unsigned char>(text[i]);
    if (byte >= 0x80) {
      // One 'x' per UTF-8 sequence: a lead byte and up to its count of continuation bytes.
      const size_t length = byte >= 0xF0 && byte <= 0xF7   ? 4
                            : byte >= 0xE0 && byte <= 0xEF ? 3
                            : byte >= 0xC0 && byte <= 0xDF ? 2
                                                           : 1;
      out.push_back('x');
      ++i;
      for (size_t k = 1;
           k < length && i < text.size() && (static_cast<unsigned char>(text[i]) & 0xC0) == 0x80;
           ++k) {
        ++i;
      }
      continue;
    }
    if ((byte >= 'a' && byte <= 'z') || (byte >= 'A' && byte <= 'Z')) {
      out.push_back('x');
    } else if (byte >= '0' && byte <= '9') {
      out.push_back('9');
    } else if (byte < 0x20 || byte == 0x7F) {
      out.push_back('.');
    } else {
      out.push_back(static_cast<char>(byte));
    }
    ++i;
  }
  return out;
}

}  // namespace leadrouter::lead
