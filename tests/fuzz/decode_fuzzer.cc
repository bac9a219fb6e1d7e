// libFuzzer target for the inbound event decoder (issue 7, fault test 6).
//
// Input layout: byte 0 picks the content-type header (its value % 4) and the unknown-field policy
// (its value / 4 % 3), the rest is the payload.
// Checks, beyond "no crash, no sanitizer report, no exception":
//   * differential: for a JSON payload, DecodeLeadEvent (fast path first) gives what the fallback
//     alone gives (json_prepare.h's DecodeJsonFallback, then the tidying): the same event, or the
//     same reason, detail and log detail (issue 16: unknown fields, enum spellings, nulls);
//   * a decoded event passes through ValidateLeadEvent without crashing (either verdict is fine);
//   * a decoded event re-encodes to binary protobuf and that decodes again, to the same message.
//
// Build and run: scripts/fuzz.sh [--seconds N]  (a separate clang build in build/fuzz).

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "json_prepare.h"
#include "leadrouter/lead/decode.h"
#include "leadrouter/lead/validate.h"

namespace {

constexpr size_t kMaxBytes = 64 * 1024;

// Deterministic serialization, so map<string,string> attributes compare byte for byte.
std::string Canonical(const leadrouter::v1::LeadEvent& event) {
  std::string out;
  {
    google::protobuf::io::StringOutputStream stream(&out);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    event.SerializeToCodedStream(&coded);
  }
  return out;
}

[[noreturn]] void Fail(const char* what, const std::string& detail) {
  std::fprintf(stderr, "decode_fuzzer: %s: %s\n", what, detail.c_str());
  std::abort();  // libFuzzer reports it as a crash and saves the input
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::optional<std::string_view> content_type;
  switch (data[0] % 4) {
    case 0:
      break;  // no header: the decoder sniffs
    case 1:
      content_type = "application/json";
      break;
    case 2:
      content_type = "application/x-protobuf";
      break;
    case 3:
      content_type = "text/plain; charset=utf-8";
      break;  // unsupported: must reject
  }
  const std::string_view payload(reinterpret_cast<const char*>(data) + 1, size - 1);

  leadrouter::lead::DecodeOptions options;
  switch (data[0] / 4 % 3) {
    case 0:
      options.unknown_fields = leadrouter::lead::UnknownFields::kIgnore;
      break;
    case 1:
      options.unknown_fields = leadrouter::lead::UnknownFields::kAttributes;
      break;
    default:
      options.unknown_fields = leadrouter::lead::UnknownFields::kReject;
      break;
  }

  const leadrouter::lead::DecodeResult result =
      leadrouter::lead::DecodeLeadEvent(payload, content_type, kMaxBytes, options);
  const auto* rejected = std::get_if<leadrouter::lead::Rejection>(&result);
  const bool json =
      data[0] % 4 == 1 ||
      (data[0] % 4 == 0 && payload.find_first_not_of(" \t\r\n\v\f") != std::string_view::npos &&
       payload[payload.find_first_not_of(" \t\r\n\v\f")] == '{');
  const bool before_parsers =
      rejected != nullptr && (rejected->detail == "empty payload" ||
                              rejected->detail.rfind("invalid UTF-8 at byte", 0) == 0);
  if (json && !before_parsers && payload.size() <= kMaxBytes) {
    leadrouter::lead::DecodeResult want =
        leadrouter::lead::internal::DecodeJsonFallback(payload, options);
    if (auto* e = std::get_if<leadrouter::v1::LeadEvent>(&want)) leadrouter::lead::TidyStrings(*e);
    if (want.index() != result.index()) {
      Fail("fast path and fallback disagree on acceptance", std::string(payload));
    }
    if (const auto* w = std::get_if<leadrouter::lead::Rejection>(&want)) {
      if (w->reason != rejected->reason || w->detail != rejected->detail ||
          w->log_detail != rejected->log_detail) {
        Fail("fast path and fallback reject differently", w->detail + " vs " + rejected->detail);
      }
    } else if (Canonical(std::get<leadrouter::v1::LeadEvent>(want)) !=
               Canonical(std::get<leadrouter::v1::LeadEvent>(result))) {
      Fail("fast path and fallback decode different events", std::string(payload));
    }
  }
  const auto* event = std::get_if<leadrouter::v1::LeadEvent>(&result);
  if (event == nullptr) {
    if (data[0] % 4 == 3 && std::get<leadrouter::lead::Rejection>(result).reason !=
                                leadrouter::lead::RejectReason::kUnsupportedContentType) {
      Fail("unsupported content-type not rejected as such", "");
    }
    return 0;
  }
  if (data[0] % 4 == 3) Fail("decoded despite an unsupported content-type", "");

  // Fixed clock: 2026-11-22T12:00:00Z, so runs are reproducible.
  const leadrouter::core::TimePoint now{std::chrono::seconds(1795348800)};
  (void)leadrouter::lead::ValidateLeadEvent(*event, now);

  // Round trip. What must hold: every event the decoder returns is a well-formed message, so it
  // serializes, and the bytes parse back to the same message. What need NOT hold, so is not
  // asserted:
  //   * the re-encoding fitting in kMaxBytes: JSON can be smaller than binary (e.g. "-1" for an
  //     int32 is 2 bytes of JSON but a 10-byte varint), so the re-decode uses no size limit;
  //   * a non-empty re-encoding: an event with every field at its default (JSON "{}", or binary
  //     holding only default-valued fields) serializes to zero bytes, and DecodeLeadEvent rejects
  //     an empty payload by design ("empty payload" → dead letter), so that case is checked as
  //     exactly that rejection of an all-default event;
  //   * byte equality with the input: the binary input may be non-canonical (field order,
  //     repeated scalar fields, overlong varints, duplicate map keys), so bytes are compared only
  //     after one normalizing round.
  std::string bytes;
  if (!event->SerializeToString(&bytes)) Fail("decoded event does not serialize", "");
  const leadrouter::lead::DecodeResult again = leadrouter::lead::DecodeLeadEvent(
      bytes, std::string_view("application/x-protobuf"), static_cast<size_t>(-1));
  if (const auto* rejection = std::get_if<leadrouter::lead::Rejection>(&again)) {
    if (bytes.empty() && rejection->reason == leadrouter::lead::RejectReason::kUndecodable) {
      return 0;  // all-default event, see above
    }
    Fail("re-encoded event does not decode", rejection->detail);
  }
  const auto& event2 = std::get<leadrouter::v1::LeadEvent>(again);
  if (Canonical(event2) != Canonical(*event)) {
    Fail("round trip changed the event",
         event->ShortDebugString() + " -> " + event2.ShortDebugString());
  }
  return 0;
}
