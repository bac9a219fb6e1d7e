#include "strict_json.h"

#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "fast_json.h"

namespace leadrouter::lead::internal {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;

constexpr size_t kLinearScanKeys = 16;  // keys of one object checked by a scan, then a hash set
constexpr size_t kMaxShownKeyBytes = 128;
constexpr size_t kMaxShownPathBytes = 256;

absl::string_view Sv(std::string_view s) {
  return {s.data(), s.size()};
}

bool IsJsonSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}
bool IsDigit(char c) {
  return c >= '0' && c <= '9';
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The message whose fields a JSON object of this type names, or nullptr when its JSON form is
// not an object of fields (the well-known types: Struct, Any, wrappers, ...).
const Descriptor* ObjectMessage(const Descriptor* type) {
  if (type == nullptr || type->file()->name().rfind("google/protobuf/", 0) == 0) return nullptr;
  return type;
}

struct Key {
  std::string_view identity;  // what duplicates compare: the field's proto name, or the key
  std::string_view spelled;   // the key as given, unescaped
  const FieldDescriptor* field;
};

// An open array or object.
struct Frame {
  bool object = false;
  // Object: the message whose fields its keys name. Array: the message of its elements.
  const Descriptor* message = nullptr;
  const FieldDescriptor* map_field = nullptr;  // object: the map whose entries these are
  const FieldDescriptor* field = nullptr;      // array: the repeated field it holds
  // Where the container sits in its parent: under a key (which names `parent_field` of the
  // parent's message, or nothing) or at an index of an array.
  std::string_view parent_key;
  const FieldDescriptor* parent_field = nullptr;
  size_t parent_index = 0;
  size_t keys_begin = 0;                                       // object: its keys in Checker::keys_
  size_t count = 0;                                            // keys or elements so far
  std::unique_ptr<absl::flat_hash_set<std::string_view>> set;  // objects of many keys
};

class Checker {
 public:
  Checker(std::string_view json, const Descriptor* type) : in_(json), type_(ObjectMessage(type)) {}

  std::optional<Rejection> Run() {
    if (in_.substr(0, 3) == "\xEF\xBB\xBF") return Syntax("byte order mark", 0);
    enum class Next { kValue, kAfterValue, kKey };
    Next next = Next::kValue;
    while (true) {
      if (next == Next::kValue) {
        SkipSpace();
        if (pos_ == in_.size()) return Syntax("unexpected end of input", pos_);
        const char c = in_[pos_];
        if (c == '{' || c == '[') {
          if (stack_.size() >= static_cast<size_t>(kMaxJsonNesting)) {
            return Syntax(absl::StrCat("nesting deeper than ", kMaxJsonNesting, " levels"), pos_);
          }
          Open(c == '{');
          ++pos_;
          SkipSpace();
          if (pos_ < in_.size() && in_[pos_] == (c == '{' ? '}' : ']')) {
            ++pos_;
            Close();
            next = Next::kAfterValue;
          } else {
            next = c == '{' ? Next::kKey : Next::kValue;
          }
          continue;
        }
        if (c == '"') {
          if (!ScanString(nullptr)) return error_;
        } else if (c == '-' || IsDigit(c)) {
          if (!ScanNumber()) return error_;
        } else if (c == 't' || c == 'f' || c == 'n') {
          if (!ScanLiteral()) return error_;
        } else {
          return Syntax("expected a value", pos_);
        }
        next = Next::kAfterValue;
        continue;
      }
      if (next == Next::kAfterValue) {
        SkipSpace();
        if (stack_.empty()) {
          if (pos_ != in_.size()) return Syntax("unexpected data after the JSON value", pos_);
          return std::nullopt;
        }
        Frame& top = stack_.back();
        const char close = top.object ? '}' : ']';
        if (pos_ == in_.size()) return Syntax("unexpected end of input", pos_);
        if (in_[pos_] == close) {
          ++pos_;
          Close();
          continue;
        }
        if (in_[pos_] != ',') {
          return Syntax(top.object ? "expected ',' or '}' after a value"
                                   : "expected ',' or ']' after a value",
                        pos_);
        }
        const size_t comma = pos_++;
        SkipSpace();
        if (pos_ < in_.size() && in_[pos_] == close) return Syntax("trailing comma", comma);
        if (!top.object) ++top.count;
        next = top.object ? Next::kKey : Next::kValue;
        continue;
      }
      // Next::kKey
      SkipSpace();
      if (pos_ == in_.size()) return Syntax("unexpected end of input", pos_);
      if (in_[pos_] != '"') return Syntax("expected a quoted key", pos_);
      std::string_view key;
      if (!ScanString(&key)) return error_;
      if (auto duplicate = AddKey(key)) return duplicate;
      SkipSpace();
      if (pos_ == in_.size()) return Syntax("unexpected end of input", pos_);
      if (in_[pos_] != ':') return Syntax("expected ':' after a key", pos_);
      ++pos_;
      next = Next::kValue;
    }
  }

 private:
  // Records the first problem: its detail never quotes the payload, so it is also the log detail.
  bool Fail(std::string_view problem, size_t offset) {
    std::string detail = absl::StrCat("invalid JSON: ", Sv(problem), " at byte ", offset);
    error_ = Rejection{RejectReason::kUndecodable, detail, detail};
    return false;
  }

  std::optional<Rejection> Syntax(std::string_view problem, size_t offset) {
    Fail(problem, offset);
    return error_;
  }

  void SkipSpace() {
    while (pos_ < in_.size() && IsJsonSpace(in_[pos_])) ++pos_;
  }

  // Pushes a frame for the container starting at pos_, typed by where it sits.
  void Open(bool object) {
    Frame frame;
    frame.object = object;
    if (stack_.empty()) {
      frame.message = object ? type_ : nullptr;
    } else {
      const Frame& parent = stack_.back();
      const FieldDescriptor* field = nullptr;
      const Descriptor* element = nullptr;  // the message a child object of the parent is
      if (parent.object) {
        const Key& key = keys_.back();
        frame.parent_key = key.spelled;
        frame.parent_field = key.field;
        field = key.field;
        if (parent.map_field != nullptr) {
          const FieldDescriptor* value = parent.map_field->message_type()->map_value();
          element = value != nullptr ? value->message_type() : nullptr;
        } else if (field != nullptr && !field->is_map() && !field->is_repeated()) {
          element = field->message_type();
        }
      } else {
        frame.parent_index = parent.count;
        element = parent.message;
      }
      if (object) {
        if (field != nullptr && field->is_map()) {
          frame.map_field = field;
        } else {
          frame.message = ObjectMessage(element);
        }
      } else if (field != nullptr && field->is_repeated() && !field->is_map()) {
        frame.field = field;
        frame.message = ObjectMessage(field->message_type());
      }
    }
    frame.keys_begin = keys_.size();
    stack_.push_back(std::move(frame));
  }

  void Close() {
    keys_.resize(stack_.back().keys_begin);
    stack_.pop_back();
  }

  // Records a key of the innermost object; a Rejection when the object already has it.
  std::optional<Rejection> AddKey(std::string_view spelled) {
    Frame& frame = stack_.back();
    const FieldDescriptor* field =
        frame.message != nullptr ? FindJsonField(*frame.message, spelled) : nullptr;
    const std::string_view identity = field != nullptr ? std::string_view(field->name()) : spelled;
    bool duplicate = false;
    if (frame.count < kLinearScanKeys) {
      for (size_t i = frame.keys_begin; i < keys_.size(); ++i) {
        if (keys_[i].identity == identity) duplicate = true;
      }
    } else {
      if (frame.set == nullptr) {
        frame.set = std::make_unique<absl::flat_hash_set<std::string_view>>();
        for (size_t i = frame.keys_begin; i < keys_.size(); ++i)
          frame.set->insert(keys_[i].identity);
      }
      duplicate = !frame.set->insert(identity).second;
    }
    if (duplicate) return Duplicate(spelled, identity, field);
    keys_.push_back(Key{identity, spelled, field});
    ++frame.count;
    return std::nullopt;
  }

  std::optional<Rejection> Duplicate(std::string_view spelled, std::string_view identity,
                                     const FieldDescriptor* field) {
    const Frame& frame = stack_.back();
    std::string_view first;
    for (size_t i = frame.keys_begin; i < keys_.size(); ++i) {
      if (keys_[i].identity == identity) first = keys_[i].spelled;
    }
    // The path to the object, as given and as far as the schema names it.
    std::string path;
    std::string known_path;
    bool known = true;
    for (size_t i = 1; i < stack_.size(); ++i) {
      const Frame& parent = stack_[i - 1];
      const Frame& child = stack_[i];
      std::string segment;
      std::string known_segment;
      if (parent.object) {
        segment = absl::StrCat(path.empty() ? "" : ".", Shown(child.parent_key, kMaxShownKeyBytes));
        if (parent.message != nullptr && child.parent_field != nullptr) {
          known_segment = absl::StrCat(known_path.empty() ? "" : ".", child.parent_field->name());
        } else {
          known = false;
        }
      } else {
        segment = absl::StrCat("[", child.parent_index, "]");
        known_segment = segment;  // an index is never data; the key that led here decides
      }
      if (path.size() < kMaxShownPathBytes) path += segment;
      if (known) known_path += known_segment;
    }
    if (path.size() > kMaxShownPathBytes) path = path.substr(0, kMaxShownPathBytes) + "...";
    const auto where = [](const std::string& p) {
      return p.empty() ? std::string("at the top level") : absl::StrCat("in ", p);
    };
    std::string detail =
        absl::StrCat("duplicate key \"", Shown(spelled, kMaxShownKeyBytes), "\" ", where(path));
    if (first != spelled) {
      absl::StrAppend(&detail, " (the same field as \"", Shown(first, kMaxShownKeyBytes), "\")");
    }
    std::string log_detail;
    if (!known) {
      log_detail =
          absl::StrCat("duplicate key inside an unknown field or a map value, ", where(known_path));
    } else if (field != nullptr) {
      // Both spellings are names of the field, so they are schema, not data.
      log_detail = absl::StrCat("duplicate key \"", Sv(spelled), "\" ", where(known_path));
      if (first != spelled)
        absl::StrAppend(&log_detail, " (the same field as \"", Sv(first), "\")");
    } else if (frame.map_field != nullptr) {
      log_detail = absl::StrCat("duplicate key ", where(known_path));
    } else {
      log_detail = absl::StrCat("duplicate key (not a field name) ", where(known_path));
    }
    error_ = Rejection{RejectReason::kUndecodable, std::move(detail), std::move(log_detail)};
    return error_;
  }

  // A string at pos_ (the opening quote); pos_ ends after the closing quote. With `key`, also
  // its unescaped text (a view of the input when it has no escapes).
  bool ScanString(std::string_view* key) {
    const size_t start = ++pos_;
    bool escaped = false;
    while (true) {
      if (pos_ == in_.size()) return Fail("unterminated string", start - 1);
      const auto byte = static_cast<unsigned char>(in_[pos_]);
      if (byte == '"') break;
      if (byte < 0x20) {
        return Fail(absl::StrFormat("unescaped control character U+%04X in a string", byte), pos_);
      }
      if (byte != '\\') {
        ++pos_;
        continue;
      }
      escaped = true;
      if (!ScanEscape(nullptr)) return false;
    }
    const std::string_view raw = in_.substr(start, pos_ - start);
    ++pos_;
    if (key == nullptr) return true;
    if (!escaped) {
      *key = raw;
      return true;
    }
    // Unescape into the arena (checked already, so it cannot fail).
    std::string& text = arena_.emplace_back();
    const size_t end = pos_;
    pos_ = start;
    while (pos_ < end - 1) {
      if (in_[pos_] == '\\') {
        ScanEscape(&text);
      } else {
        text.push_back(in_[pos_++]);
      }
    }
    pos_ = end;
    *key = text;
    return true;
  }

  // One escape at pos_ (the backslash); appends its UTF-8 to `out` when given.
  bool ScanEscape(std::string* out) {
    const size_t at = pos_;
    if (pos_ + 1 >= in_.size()) return Fail("unterminated string", at);
    const char c = in_[pos_ + 1];
    static constexpr std::string_view kSimple = "\"\\/bfnrt";
    static constexpr std::string_view kSimpleValue = "\"\\/\b\f\n\r\t";
    if (const size_t i = kSimple.find(c); i != std::string_view::npos) {
      if (out != nullptr) out->push_back(kSimpleValue[i]);
      pos_ += 2;
      return true;
    }
    if (c != 'u') return Fail("invalid escape sequence", at);
    uint32_t unit = 0;
    if (!ScanHex4(pos_ + 2, unit)) return Fail("invalid \\u escape", at);
    pos_ += 6;
    uint32_t code_point = unit;
    if (unit >= 0xDC00 && unit <= 0xDFFF) {
      return Fail("lone UTF-16 surrogate escape", at);
    }
    if (unit >= 0xD800 && unit <= 0xDBFF) {
      uint32_t low = 0;
      if (pos_ + 1 >= in_.size() || in_[pos_] != '\\' || in_[pos_ + 1] != 'u' ||
          !ScanHex4(pos_ + 2, low) || low < 0xDC00 || low > 0xDFFF) {
        return Fail("lone UTF-16 surrogate escape", at);
      }
      pos_ += 6;
      code_point = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00);
    }
    if (out != nullptr) AppendUtf8(code_point, *out);
    return true;
  }

  bool ScanHex4(size_t at, uint32_t& value) const {
    if (at + 4 > in_.size()) return false;
    value = 0;
    for (size_t i = at; i < at + 4; ++i) {
      const int digit = HexValue(in_[i]);
      if (digit < 0) return false;
      value = value << 4 | static_cast<uint32_t>(digit);
    }
    return true;
  }

  static void AppendUtf8(uint32_t cp, std::string& out) {
    if (cp < 0x80) {
      out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out.push_back(static_cast<char>(0xC0 | cp >> 6));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
      out.push_back(static_cast<char>(0xE0 | cp >> 12));
      out.push_back(static_cast<char>(0x80 | (cp >> 6 & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
      out.push_back(static_cast<char>(0xF0 | cp >> 18));
      out.push_back(static_cast<char>(0x80 | (cp >> 12 & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (cp >> 6 & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
  }

  // -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?
  bool ScanNumber() {
    const size_t start = pos_;
    if (in_[pos_] == '-') ++pos_;
    if (pos_ == in_.size() || !IsDigit(in_[pos_])) return Fail("invalid number", start);
    if (in_[pos_] == '0') {
      ++pos_;
      if (pos_ < in_.size() && IsDigit(in_[pos_])) {
        return Fail("invalid number (leading zero)", start);
      }
    } else {
      while (pos_ < in_.size() && IsDigit(in_[pos_])) ++pos_;
    }
    if (pos_ < in_.size() && in_[pos_] == '.') {
      ++pos_;
      if (pos_ == in_.size() || !IsDigit(in_[pos_])) return Fail("invalid number", start);
      while (pos_ < in_.size() && IsDigit(in_[pos_])) ++pos_;
    }
    if (pos_ < in_.size() && (in_[pos_] == 'e' || in_[pos_] == 'E')) {
      ++pos_;
      if (pos_ < in_.size() && (in_[pos_] == '+' || in_[pos_] == '-')) ++pos_;
      if (pos_ == in_.size() || !IsDigit(in_[pos_])) return Fail("invalid number", start);
      while (pos_ < in_.size() && IsDigit(in_[pos_])) ++pos_;
    }
    return true;
  }

  bool ScanLiteral() {
    for (const std::string_view literal : {"true", "false", "null"}) {
      if (in_.substr(pos_, literal.size()) == literal) {
        pos_ += literal.size();
        return true;
      }
    }
    return Fail("invalid literal (expected true, false or null)", pos_);
  }

  const std::string_view in_;
  const Descriptor* const type_;
  size_t pos_ = 0;
  std::vector<Frame> stack_;
  std::vector<Key> keys_;          // the keys of the open objects, innermost last
  std::deque<std::string> arena_;  // unescaped keys (a deque never moves its elements)
  std::optional<Rejection> error_;
};

}  // namespace

std::string Shown(std::string_view text, size_t limit) {
  std::string out;
  for (const char c : text) {
    if (out.size() >= limit) {
      out += "...";
      break;
    }
    const auto byte = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (byte < 0x20 || byte == 0x7F) {
      out += absl::StrFormat("\\u%04x", byte);
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::optional<Rejection> CheckStrictJson(std::string_view json, const Descriptor* type) {
  return Checker(json, type).Run();
}

}  // namespace leadrouter::lead::internal
