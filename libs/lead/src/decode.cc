#include "leadrouter/lead/decode.h"

#include <google/protobuf/util/json_util.h>

#include <string>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "fast_json.h"
#include "strict_json.h"

namespace leadrouter::lead {

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

// A rejection whose detail holds nothing from the payload, so it is also the log detail.
Rejection Safe(std::string detail) {
  Rejection rejection{RejectReason::kUndecodable, std::move(detail), ""};
  rejection.log_detail = rejection.detail;
  return rejection;
}

// The kind of problem a protobuf 3.21 JSON parser message reports, in fixed words (the message
// itself may quote the value and an excerpt of the payload).
std::string_view ProtobufProblem(std::string_view message) {
  struct Kind {
    std::string_view phrase;
    std::string_view problem;
  };
  static constexpr Kind kKinds[] = {
      {"Cannot find field", "an unknown field"},
      {"Invalid time format", "an invalid timestamp"},
      {"invalid value", "a value of the wrong type or out of range"},
      {"cannot start list", "a list for a field that is not repeated"},
      {"Cannot bind a list to map", "a list for a map"},
      {"Root element must be a message", "the top level is not an object"},
      {"Message too deep", "nesting deeper than protobuf's limit"},
      {"Number exceeds the range of double", "a number beyond the range of double"},
      {"Repeated map key", "a map key given twice"},
  };
  for (const Kind& kind : kKinds) {
    if (message.find(kind.phrase) != std::string_view::npos) return kind.problem;
  }
  return "";
}

// The field path a protobuf 3.21 JSON parser message starts with ("(person.email): ...",
// "campaign: ..."), when every segment is a field of LeadEvent's schema (a map key or unknown
// field is input, so then nothing); "" for the top level.
std::optional<std::string> ProtobufFieldPath(std::string_view message) {
  const size_t colon = message.find(": ");
  if (colon == std::string_view::npos) return std::nullopt;
  std::string_view path = message.substr(0, colon);
  if (path.size() >= 2 && path.front() == '(' && path.back() == ')') {
    path = path.substr(1, path.size() - 2);
  }
  std::string known;
  const google::protobuf::Descriptor* type = v1::LeadEvent::descriptor();
  while (!path.empty()) {
    const size_t dot = path.find('.');
    const std::string_view segment = path.substr(0, dot);
    path = dot == std::string_view::npos ? std::string_view() : path.substr(dot + 1);
    const google::protobuf::FieldDescriptor* field =
        type == nullptr ? nullptr : internal::FindJsonField(*type, segment);
    if (field == nullptr) return std::nullopt;
    absl::StrAppend(&known, known.empty() ? "" : ".", field->name());
    type = field->is_map() ? nullptr : field->message_type();
  }
  return known;
}

// What protobuf's parser said, without anything that could be input: the field path when the
// schema confirms it, and the kind of problem in fixed words.
std::string ProtobufLogDetail(std::string_view message) {
  std::string out = "invalid LeadEvent JSON";
  if (const std::optional<std::string> path = ProtobufFieldPath(message);
      path.has_value() && !path->empty()) {
    absl::StrAppend(&out, " at ", *path);
  }
  if (const std::string_view problem = ProtobufProblem(message); !problem.empty()) {
    absl::StrAppend(&out, ": ", absl::string_view(problem.data(), problem.size()));
  }
  return out;
}

}  // namespace

DecodeResult DecodeLeadEvent(std::string_view payload, std::optional<std::string_view> content_type,
                             size_t max_bytes) {
  if (payload.size() > max_bytes) {
    return Rejection{RejectReason::kTooLarge,
                     absl::StrCat("event is ", payload.size(), " bytes; the limit is ", max_bytes),
                     absl::StrCat("event is ", payload.size(), " bytes; the limit is ", max_bytes)};
  }
  const std::optional<Encoding> encoding = EncodingFor(payload, content_type);
  if (!encoding.has_value()) {
    static constexpr absl::string_view kSupported =
        " is not application/json or application/x-protobuf";
    // The header is producer data: quoted for the dead letter, not for the log.
    return Rejection{RejectReason::kUnsupportedContentType,
                     absl::StrCat("content-type \"", std::string(*content_type), "\"", kSupported),
                     absl::StrCat("content-type", kSupported)};
  }
  if (payload.empty()) return Safe("empty payload");

  v1::LeadEvent event;
  switch (*encoding) {
    case Encoding::kJson: {
      // JSON text is UTF-8 (RFC 8259); checked here so the rule holds whatever the parser does.
      if (const size_t bad = FirstInvalidUtf8(payload); bad != std::string_view::npos) {
        return Safe(absl::StrCat("invalid UTF-8 at byte ", bad, " of the JSON payload"));
      }
      // The common, well-formed event: simdjson straight into the message. It takes only strict
      // RFC 8259 JSON without a field given twice (see fast_json.h), which CheckStrictJson would
      // pass, so the gate below runs only on what it declines.
      if (internal::TryParseJsonFast(payload, event)) return event;
      event.Clear();
      // Before protobuf's parser, which is lenient (control bytes, trailing commas) and merges
      // duplicate keys: syntax errors and duplicates are decided here, in the same words for
      // every input whatever the fast path did.
      if (std::optional<Rejection> invalid =
              internal::CheckStrictJson(payload, v1::LeadEvent::descriptor())) {
        return *std::move(invalid);
      }
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
        const std::string message = status.message().as_string();
        return Rejection{RejectReason::kUndecodable,
                         absl::StrCat("invalid LeadEvent JSON: ", message),
                         ProtobufLogDetail(message)};
      }
      break;
    }
    case Encoding::kProtobuf:
      if (payload.size() > static_cast<size_t>(INT32_MAX) ||
          !event.ParseFromArray(payload.data(), static_cast<int>(payload.size()))) {
        return Safe("invalid LeadEvent protobuf (malformed wire format or invalid UTF-8)");
      }
      break;
  }
  return event;
}

}  // namespace leadrouter::lead
