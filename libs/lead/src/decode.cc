#include "leadrouter/lead/decode.h"

#include <google/protobuf/util/json_util.h>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "fast_json.h"

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
  }
  return "unknown";
}

namespace {

enum class Encoding { kJson, kProtobuf };

std::optional<Encoding> EncodingFor(std::string_view payload,
                                    std::optional<std::string_view> content_type) {
  if (!content_type.has_value()) {
    const absl::string_view trimmed =
        absl::StripLeadingAsciiWhitespace(absl::string_view(payload.data(), payload.size()));
    return !trimmed.empty() && trimmed.front() == '{' ? Encoding::kJson : Encoding::kProtobuf;
  }
  std::string_view media = *content_type;
  if (const auto semi = media.find(';'); semi != std::string_view::npos)
    media = media.substr(0, semi);
  const std::string lowered = absl::AsciiStrToLower(
      absl::StripAsciiWhitespace(absl::string_view(media.data(), media.size())));
  if (lowered == "application/json") return Encoding::kJson;
  if (lowered == "application/x-protobuf" || lowered == "application/protobuf" ||
      lowered == "application/vnd.google.protobuf") {
    return Encoding::kProtobuf;
  }
  return std::nullopt;
}

// The offset of the first byte that breaks UTF-8 (overlongs, surrogates and code points above
// U+10FFFF included), or npos when the text is valid.
size_t FirstInvalidUtf8(std::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    const auto byte = static_cast<unsigned char>(text[i]);
    if (byte < 0x80) {
      ++i;
      continue;
    }
    size_t length = 0;
    uint32_t code_point = 0;
    if ((byte & 0xE0) == 0xC0) {
      length = 2;
      code_point = byte & 0x1F;
    } else if ((byte & 0xF0) == 0xE0) {
      length = 3;
      code_point = byte & 0x0F;
    } else if ((byte & 0xF8) == 0xF0) {
      length = 4;
      code_point = byte & 0x07;
    } else {
      return i;
    }
    if (i + length > text.size()) return i;
    for (size_t k = 1; k < length; ++k) {
      const auto next = static_cast<unsigned char>(text[i + k]);
      if ((next & 0xC0) != 0x80) return i;
      code_point = (code_point << 6) | (next & 0x3F);
    }
    static constexpr uint32_t kMinForLength[] = {0, 0, 0x80, 0x800, 0x10000};
    if (code_point < kMinForLength[length] || code_point > 0x10FFFF ||
        (code_point >= 0xD800 && code_point <= 0xDFFF)) {
      return i;
    }
    i += length;
  }
  return std::string_view::npos;
}

}  // namespace

DecodeResult DecodeLeadEvent(std::string_view payload, std::optional<std::string_view> content_type,
                             size_t max_bytes) {
  if (payload.size() > max_bytes) {
    return Rejection{RejectReason::kTooLarge,
                     absl::StrCat("event is ", payload.size(), " bytes; the limit is ", max_bytes)};
  }
  const std::optional<Encoding> encoding = EncodingFor(payload, content_type);
  if (!encoding.has_value()) {
    return Rejection{RejectReason::kUnsupportedContentType,
                     absl::StrCat("content-type \"", std::string(*content_type),
                                  "\" is not application/json or application/x-protobuf")};
  }
  if (payload.empty()) return Rejection{RejectReason::kUndecodable, "empty payload"};

  v1::LeadEvent event;
  switch (*encoding) {
    case Encoding::kJson: {
      // JSON text is UTF-8 (RFC 8259); checked here so the rule holds whatever the parser does.
      if (const size_t bad = FirstInvalidUtf8(payload); bad != std::string_view::npos) {
        return Rejection{RejectReason::kUndecodable,
                         absl::StrCat("invalid UTF-8 at byte ", bad, " of the JSON payload")};
      }
      // The common, well-formed event: simdjson straight into the message. Anything it is not
      // sure about (see fast_json.h) goes to protobuf's parser, which has the last word.
      if (internal::TryParseJsonFast(payload, event)) return event;
      event.Clear();
      const google::protobuf::StringPiece json(payload.data(), payload.size());
      google::protobuf::util::JsonParseOptions strict;
      auto status = google::protobuf::util::JsonStringToMessage(json, &event, strict);
      // Unknown fields are tolerated (forward compatibility), but only they: with
      // ignore_unknown_fields the parser would also silently drop misspelled enum values, so
      // the lenient parse runs only when the strict one failed on an unknown field.
      if (!status.ok() && absl::EndsWith(status.message().as_string(), "Cannot find field.")) {
        event.Clear();
        google::protobuf::util::JsonParseOptions lenient;
        lenient.ignore_unknown_fields = true;
        status = google::protobuf::util::JsonStringToMessage(json, &event, lenient);
      }
      if (!status.ok()) {
        return Rejection{RejectReason::kUndecodable,
                         absl::StrCat("invalid LeadEvent JSON: ", status.message().as_string())};
      }
      break;
    }
    case Encoding::kProtobuf:
      if (payload.size() > static_cast<size_t>(INT32_MAX) ||
          !event.ParseFromArray(payload.data(), static_cast<int>(payload.size()))) {
        return Rejection{RejectReason::kUndecodable,
                         "invalid LeadEvent protobuf (malformed wire format or invalid UTF-8)"};
      }
      break;
  }
  return event;
}

}  // namespace leadrouter::lead
