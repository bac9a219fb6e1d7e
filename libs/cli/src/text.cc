// Terminal text: sanitizing, measuring in columns (ICU's character properties) and tables.
#include <unicode/uchar.h>
#include <unicode/utf8.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "leadrouter/cli/format.h"

namespace leadrouter::cli {
namespace {

constexpr UChar32 kReplacement = 0xFFFD;

// The code point at `i` (advanced past it); kReplacement for an invalid byte, which is consumed
// alone so that decoding always makes progress.
UChar32 NextCodePoint(std::string_view text, size_t& i) {
  // U8_NEXT works on int32_t offsets; a longer string is decoded in windows of at most 8 bytes,
  // enough for one code point.
  const size_t window = std::min<size_t>(text.size() - i, 8);
  const auto* bytes = reinterpret_cast<const uint8_t*>(text.data() + i);
  int32_t offset = 0;
  UChar32 c = 0;
  U8_NEXT(bytes, offset, static_cast<int32_t>(window), c);
  i += static_cast<size_t>(offset);
  return c < 0 ? kReplacement : c;
}

void Append(std::string& out, UChar32 c) {
  uint8_t buffer[U8_MAX_LENGTH];
  int32_t length = 0;
  U8_APPEND_UNSAFE(buffer, length, c);
  out.append(reinterpret_cast<const char*>(buffer), static_cast<size_t>(length));
}

bool IsBidiControl(UChar32 c) {
  return (c >= 0x202A && c <= 0x202E) || (c >= 0x2066 && c <= 0x2069);
}

size_t CodePointWidth(UChar32 c) {
  switch (u_charType(c)) {
    case U_CONTROL_CHAR:
    case U_NON_SPACING_MARK:
    case U_ENCLOSING_MARK:
    case U_FORMAT_CHAR:
      return 0;
    default:
      break;
  }
  if (c >= 0x1160 && c <= 0x11FF) return 0;  // Hangul medial vowels and final consonants
  switch (u_getIntPropertyValue(c, UCHAR_EAST_ASIAN_WIDTH)) {
    case U_EA_WIDE:
    case U_EA_FULLWIDTH:
      return 2;
    default:
      return 1;
  }
}

std::string Pad(const std::string& cell, size_t width, Align align) {
  const size_t used = DisplayWidth(cell);
  if (used >= width) return cell;
  const std::string fill(width - used, ' ');
  return align == Align::kLeft ? cell + fill : fill + cell;
}

}  // namespace

std::string Sanitize(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    const UChar32 c = NextCodePoint(text, i);
    const int8_t type = u_charType(c);
    if (type == U_CONTROL_CHAR || type == U_LINE_SEPARATOR || type == U_PARAGRAPH_SEPARATOR) {
      out.push_back(' ');
    } else if (IsBidiControl(c)) {
      Append(out, kReplacement);
    } else {
      Append(out, c);
    }
  }
  return out;
}

size_t DisplayWidth(std::string_view text) {
  size_t width = 0;
  size_t i = 0;
  while (i < text.size()) width += CodePointWidth(NextCodePoint(text, i));
  return width;
}

std::string Truncate(std::string_view text, size_t width) {
  if (DisplayWidth(text) <= width) return std::string(text);
  if (width == 0) return "";
  // Keep whole code points (with their zero-width marks) while one column is left for "…".
  std::string out;
  size_t used = 0;
  size_t i = 0;
  while (i < text.size()) {
    const UChar32 c = NextCodePoint(text, i);
    const size_t w = CodePointWidth(c);
    if (used + w > width - 1) break;
    used += w;
    Append(out, c);
  }
  return out + "\xE2\x80\xA6";  // …
}

std::string RenderTable(const std::vector<Column>& columns,
                        const std::vector<std::vector<std::string>>& rows,
                        std::string_view indent) {
  if (columns.empty()) return "";
  std::vector<std::vector<std::string>> cells;
  cells.reserve(rows.size() + 1);
  std::vector<std::string> header;
  for (const Column& column : columns) header.push_back(Sanitize(column.header));
  cells.push_back(std::move(header));
  for (const auto& row : rows) {
    std::vector<std::string> line;
    for (size_t c = 0; c < columns.size(); ++c) {
      std::string cell = c < row.size() ? Sanitize(row[c]) : "";
      if (columns[c].max_width > 0) cell = Truncate(cell, columns[c].max_width);
      line.push_back(std::move(cell));
    }
    cells.push_back(std::move(line));
  }
  std::vector<size_t> widths(columns.size(), 0);
  for (const auto& line : cells) {
    for (size_t c = 0; c < line.size(); ++c) widths[c] = std::max(widths[c], DisplayWidth(line[c]));
  }
  std::string out;
  for (const auto& line : cells) {
    std::string text(indent);
    for (size_t c = 0; c < line.size(); ++c) {
      if (c > 0) text += "  ";
      text += Pad(line[c], widths[c], columns[c].align);
    }
    while (!text.empty() && text.back() == ' ') text.pop_back();
    out += text;
    out += '\n';
  }
  return out;
}

}  // namespace leadrouter::cli
