#include "text.h"

#include <unicode/uchar.h>
#include <unicode/utf8.h>

#include <cstdint>
#include <limits>

namespace leadrouter::normalize::internal {
namespace {

bool IsTrimmable(UChar32 c) {
  return u_isUWhiteSpace(c) || c == 0x200B /* ZERO WIDTH SPACE */ || c == 0xFEFF /* BOM */;
}

// The code point starting at byte `i` (advancing `i`), or a negative value for invalid UTF-8.
UChar32 NextCodePoint(std::string_view s, int32_t& i) {
  UChar32 c = 0;
  const auto* bytes = reinterpret_cast<const uint8_t*>(s.data());
  U8_NEXT(bytes, i, static_cast<int32_t>(s.size()), c);
  return c;
}

// The code point ending at byte `i` (moving `i` back to its start), negative when invalid.
UChar32 PrevCodePoint(std::string_view s, int32_t& i) {
  UChar32 c = 0;
  const auto* bytes = reinterpret_cast<const uint8_t*>(s.data());
  U8_PREV(bytes, 0, i, c);
  return c;
}

bool Fits(std::string_view s) {
  return s.size() <= static_cast<size_t>(std::numeric_limits<int32_t>::max());
}

}  // namespace

bool IsAsciiSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

std::string_view TrimSpace(std::string_view s) {
  if (!Fits(s)) return s;
  while (!s.empty()) {
    int32_t i = 0;
    const UChar32 c = NextCodePoint(s, i);
    if (c < 0 || !IsTrimmable(c)) break;
    s.remove_prefix(static_cast<size_t>(i));
  }
  while (!s.empty()) {
    int32_t i = static_cast<int32_t>(s.size());
    const UChar32 c = PrevCodePoint(s, i);
    if (c < 0 || !IsTrimmable(c)) break;
    s.remove_suffix(s.size() - static_cast<size_t>(i));
  }
  return s;
}

bool ContainsSpace(std::string_view s) {
  if (!Fits(s)) return true;
  for (int32_t i = 0; i < static_cast<int32_t>(s.size());) {
    const UChar32 c = NextCodePoint(s, i);
    if (c >= 0 && IsTrimmable(c)) return true;
  }
  return false;
}

bool IsAscii(std::string_view s) {
  for (const char c : s) {
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  }
  return true;
}

bool IsValidUtf8(std::string_view s) {
  if (!Fits(s)) return false;
  for (int32_t i = 0; i < static_cast<int32_t>(s.size());) {
    const UChar32 c = NextCodePoint(s, i);
    if (c <= 0) return false;  // invalid sequence, or NUL
  }
  return true;
}

void AsciiLowerInPlace(std::string& s) {
  for (char& c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
}

bool StartsWithIgnoreCase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    char c = s[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    char p = prefix[i];
    if (p >= 'A' && p <= 'Z') p = static_cast<char>(p - 'A' + 'a');
    if (c != p) return false;
  }
  return true;
}

}  // namespace leadrouter::normalize::internal
