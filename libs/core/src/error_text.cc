#include "leadrouter/core/error_text.h"

#include "absl/strings/str_cat.h"

namespace leadrouter::core {
namespace {

// The length of the valid UTF-8 sequence starting at `s[i]` (1..4), or 0 if it is not one
// (truncated, overlong, a surrogate, beyond U+10FFFF).
size_t Utf8SequenceLength(std::string_view s, size_t i) {
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char lead = byte(i);
  if (lead < 0x80) return 1;
  size_t length = 0;
  unsigned char low = 0x80, high = 0xBF;  // the allowed range of the second byte
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    if (lead == 0xE0) low = 0xA0;
    if (lead == 0xED) high = 0x9F;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    if (lead == 0xF0) low = 0x90;
    if (lead == 0xF4) high = 0x8F;
  } else {
    return 0;
  }
  if (i + length > s.size()) return 0;
  if (byte(i + 1) < low || byte(i + 1) > high) return 0;
  for (size_t k = 2; k < length; ++k) {
    if (byte(i + k) < 0x80 || byte(i + k) > 0xBF) return 0;
  }
  return length;
}

// The longest prefix of `s` of at most `max` bytes that does not split a UTF-8 sequence.
size_t Utf8Prefix(std::string_view s, size_t max) {
  size_t end = 0;
  while (end < s.size()) {
    const size_t length = std::max<size_t>(Utf8SequenceLength(s, end), 1);
    if (end + length > max) break;
    end += length;
  }
  return end;
}

}  // namespace

std::string QuoteForError(std::string_view value, size_t max) {
  const size_t shown = Utf8Prefix(value, max);
  std::string out = "\"";
  for (size_t i = 0; i < shown;) {
    const size_t length = Utf8SequenceLength(value, i);
    const unsigned char c = static_cast<unsigned char>(value[i]);
    if (length == 0 || c < 0x20 || c == 0x7F) {
      constexpr char kHex[] = "0123456789ABCDEF";
      out += "\\x";
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xF]);
      ++i;
      continue;
    }
    if (c == '"' || c == '\\') out.push_back('\\');
    out.append(value.substr(i, length));
    i += length;
  }
  out.push_back('"');
  if (shown < value.size()) {
    // Inside the quotes: the value goes on; after them, how much of it there was.
    out.insert(out.size() - 1, "…");
    absl::StrAppend(&out, " (", value.size(), " bytes)");
  }
  return out;
}

std::string BoundErrorMessage(std::string_view message, size_t max) {
  if (message.size() <= max) return std::string(message);
  const std::string suffix = absl::StrCat("… (", message.size(), " bytes)");
  const size_t room = max > suffix.size() ? max - suffix.size() : 0;
  return std::string(message.substr(0, Utf8Prefix(message, room))) + suffix;
}

}  // namespace leadrouter::core
