#include "leadrouter/lead/decode.h"

#include <google/protobuf/util/json_util.h>

#include <string>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "fast_json.h"
#include "json_prepare.h"
#include "leadrouter/lead/validate.h"
#include "strict_json.h"

namespace leadrouter::lead {

namespace {

enum class Encoding { kJson, kProtobuf };

// The length of the blank (ASCII whitespace, U+00A0 no-break space, U+200B zero-width space,
// U+FEFF) that `text` starts with at `at`, or 0. Form fills and CSV exports carry these around
// values all the time.
size_t BlankAt(std::string_view text, size_t at) {
  const std::string_view rest = text.substr(at);
  if (rest.empty()) return 0;
  const char c = rest.front();
  if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f') return 1;
  if (rest.substr(0, 2) == "\xC2\xA0") return 2;
  if (rest.substr(0, 3) == "\xE2\x80\x8B" || rest.substr(0, 3) == "\xEF\xBB\xBF") return 3;
  return 0;
}

// The length of the blank that `text` ends with before `end`, or 0.
size_t BlankBefore(std::string_view text, size_t end) {
  for (size_t length = 1; length <= 3 && length <= end; ++length) {
    if (BlankAt(text.substr(0, end), end - length) == length) return length;
  }
  return 0;
}

// `text` without surrounding blanks; with `collapse`, every inner run of blanks becomes one
// space (safe for names and titles, where "Ada  Lovelace" is "Ada Lovelace").
std::string Tidy(std::string_view text, bool collapse) {
  size_t begin = 0;
  while (const size_t blank = BlankAt(text, begin)) begin += blank;
  size_t end = text.size();
  while (end > begin) {
    const size_t blank = BlankBefore(text, end);
    if (blank == 0) break;
    end -= blank;
  }
  const std::string_view core = text.substr(begin, end - begin);
  if (!collapse) return std::string(core);
  std::string out;
  out.reserve(core.size());
  for (size_t i = 0; i < core.size();) {
    if (size_t blank = BlankAt(core, i); blank > 0) {
      while (blank > 0) {
        i += blank;
        blank = BlankAt(core, i);
      }
      out.push_back(' ');
      continue;
    }
    out.push_back(core[i++]);
  }
  return out;
}

void TidyField(std::string* value, bool collapse) {
  if (value->empty()) return;
  const bool padded = BlankAt(*value, 0) > 0 || BlankBefore(*value, value->size()) > 0;
  // Inner runs to collapse: two spaces, or any blank other than a single space.
  const bool inner = collapse && (value->find("  ") != std::string::npos ||
                                  value->find_first_of("\t\n\r\v\f") != std::string::npos ||
                                  value->find("\xC2\xA0") != std::string::npos ||
                                  value->find("\xE2\x80\x8B") != std::string::npos ||
                                  value->find("\xEF\xBB\xBF") != std::string::npos);
  if (padded || inner) *value = Tidy(*value, collapse);
}

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
      // PrepareJson removed every unknown field: what is left is an object for a map's value.
      {"Cannot find field", "an object where a string or number belongs"},
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

void TidyStrings(v1::LeadEvent& event) {
  TidyField(event.mutable_event_id(), false);
  TidyField(event.mutable_source_system(), false);
  TidyField(event.mutable_campaign(), false);
  TidyField(event.mutable_sourced_by_rep_id(), false);
  TidyField(event.mutable_source_record_id(), false);
  if (event.has_person()) {
    v1::Person& person = *event.mutable_person();
    TidyField(person.mutable_first_name(), true);
    TidyField(person.mutable_last_name(), true);
    TidyField(person.mutable_email(), false);
    TidyField(person.mutable_phone(), false);
    TidyField(person.mutable_title(), true);
  }
  if (event.has_company()) {
    v1::Company& company = *event.mutable_company();
    TidyField(company.mutable_name(), true);
    TidyField(company.mutable_website(), false);
    TidyField(company.mutable_industry(), true);
    TidyField(company.mutable_country(), false);
    TidyField(company.mutable_region(), false);
    TidyField(company.mutable_postal_code(), false);
  }
  for (auto& [key, value] : *event.mutable_attributes()) TidyField(&value, false);
}

namespace internal {

DecodeResult DecodeJsonFallback(std::string_view payload, const DecodeOptions& options) {
  // Before protobuf's parser, which is lenient (control bytes, trailing commas) and merges
  // duplicate keys: syntax errors and duplicates are decided here, in the same words for every
  // input whatever the fast path did.
  if (std::optional<Rejection> invalid = CheckStrictJson(payload, v1::LeadEvent::descriptor())) {
    return *std::move(invalid);
  }
  // Enums and unknown fields are decided here too (decode.h), so protobuf runs strict.
  std::variant<PreparedJson, Rejection> prepared =
      PrepareJson(payload, *v1::LeadEvent::descriptor(), options.unknown_fields);
  if (auto* rejection = std::get_if<Rejection>(&prepared)) return *std::move(rejection);
  PreparedJson& ready = std::get<PreparedJson>(prepared);
  v1::LeadEvent event;
  const auto status = google::protobuf::util::JsonStringToMessage(
      google::protobuf::StringPiece(ready.json.data(), ready.json.size()), &event,
      google::protobuf::util::JsonParseOptions());
  if (!status.ok()) {
    const std::string message = status.message().as_string();
    return Rejection{RejectReason::kUndecodable, absl::StrCat("invalid LeadEvent JSON: ", message),
                     ProtobufLogDetail(message)};
  }
  if (!ready.unknown_scalars.empty()) {
    auto& attributes = *event.mutable_attributes();
    const size_t explicit_count = attributes.size();
    for (auto& [path, value] : ready.unknown_scalars) {
      attributes.try_emplace(std::move(path), std::move(value));  // an explicit one wins
    }
    if (attributes.size() > kMaxAttributes) {
      const std::string detail = absl::StrCat(
          "attributes: ", attributes.size(), " entries with ", attributes.size() - explicit_count,
          " unknown fields kept as attributes, the limit is ", kMaxAttributes);
      return Rejection{RejectReason::kInvalidField, detail, detail};
    }
  }
  return event;
}

}  // namespace internal

DecodeResult DecodeLeadEvent(std::string_view payload, std::optional<std::string_view> content_type,
                             size_t max_bytes, const DecodeOptions& options) {
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
      internal::FastJsonOptions fast;
      fast.lenient_enums = true;
      fast.skip_unknown_scalars = options.unknown_fields == UnknownFields::kIgnore;
      if (internal::TryParseJsonFast(payload, event, fast)) {
        TidyStrings(event);
        return event;
      }
      DecodeResult slow = internal::DecodeJsonFallback(payload, options);
      if (auto* decoded = std::get_if<v1::LeadEvent>(&slow)) TidyStrings(*decoded);
      return slow;
    }
    case Encoding::kProtobuf:
      if (payload.size() > static_cast<size_t>(INT32_MAX) ||
          !event.ParseFromArray(payload.data(), static_cast<int>(payload.size()))) {
        return Safe("invalid LeadEvent protobuf (malformed wire format or invalid UTF-8)");
      }
      break;
  }
  TidyStrings(event);
  return event;
}

}  // namespace leadrouter::lead
