#pragma once

// Private to leadrouter::normalize: byte- and code-point-level helpers shared by the normalizers.

#include <string>
#include <string_view>

namespace leadrouter::normalize::internal {

// True for ' ', '\t', '\n', '\v', '\f', '\r'.
bool IsAsciiSpace(char c);

// `s` without leading and trailing white space: ASCII blanks, Unicode White_Space (NO-BREAK
// SPACE, IDEOGRAPHIC SPACE, ...) and the invisible ZERO WIDTH SPACE / BOM that copy-and-paste
// leaves behind. Invalid UTF-8 is left in place (it is not white space).
std::string_view TrimSpace(std::string_view s);

// True when `s` holds any of the characters TrimSpace removes, anywhere.
bool ContainsSpace(std::string_view s);

// True when every byte is < 0x80.
bool IsAscii(std::string_view s);

// True when `s` is well-formed UTF-8 (no surrogates, no overlong forms) without NUL.
bool IsValidUtf8(std::string_view s);

// A..Z -> a..z; every other byte unchanged.
void AsciiLowerInPlace(std::string& s);

// Case-insensitive ASCII prefix test.
bool StartsWithIgnoreCase(std::string_view s, std::string_view prefix);

}  // namespace leadrouter::normalize::internal
