#include "leadrouter/protojson/print.h"

#include <google/protobuf/descriptor.pb.h>
#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/wire_format.h>
#include <locale.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"

namespace leadrouter::protojson {
namespace {

namespace pb = google::protobuf;
using pb::Descriptor;
using pb::FieldDescriptor;
using pb::Message;
using pb::Reflection;

// protobuf's printer fails beyond 64 nested messages; deeper messages go to it, whatever it does.
constexpr int kMaxDepth = 32;
// google.protobuf.Timestamp's valid range: 0001-01-01T00:00:00Z .. 9999-12-31T23:59:59Z.
constexpr int64_t kTimestampMinSeconds = -62135596800;
constexpr int64_t kTimestampMaxSeconds = 253402300799;

enum class Kind : uint8_t {
  kInt32,
  kInt64,
  kUint32,
  kUint64,
  kDouble,
  kFloat,
  kBool,
  kEnum,
  kString,
  kBytes,
  kMessage,
};

// Enum values by number, each already quoted ("\"NAME\""), for enums whose numbers are small
// and non-negative; others are looked up in the descriptor.
struct EnumPlan {
  const pb::EnumDescriptor* descriptor = nullptr;
  std::vector<std::string> quoted;  // index = number; empty string: no such value
};

struct MessagePlan;

// How one value (of a singular field, an element of a repeated field, or a map value) prints.
struct ValuePlan {
  Kind kind = Kind::kInt32;
  const EnumPlan* enum_plan = nullptr;   // kEnum
  const MessagePlan* message = nullptr;  // kMessage
};

struct FieldPlan {
  const FieldDescriptor* field = nullptr;
  std::string key;  // "\"name\":"
  bool repeated = false;
  bool is_map = false;
  // Implicit presence floating point: present when its bits are not all zero (so -0.0 prints).
  bool bit_presence = false;
  ValuePlan value;                             // of the field, or of the map's value
  const FieldDescriptor* map_key = nullptr;    // is_map
  const FieldDescriptor* map_value = nullptr;  // is_map
  // A map whose values are not messages: read from its own serialization (see PrintWireMap).
  bool wire_map = false;
};

struct MessagePlan {
  const Descriptor* descriptor = nullptr;
  bool is_timestamp = false;
  bool supported_here = true;  // this type itself, not counting the types it uses
  bool fast_computed = false;
  bool fast = false;              // this type and every type it uses: valid once fast_computed
  std::vector<FieldPlan> fields;  // in field number order (protobuf's serialization order)
  mutable std::atomic<uint32_t> size_hint{0};
};

bool IsGoogleProtobuf(const std::string& full_name) {
  return full_name.rfind("google.protobuf.", 0) == 0;
}

// Plans for the types of one descriptor pool. Not synchronized: the caller holds a lock or owns
// it alone.
class PlanSet {
 public:
  MessagePlan* Get(const Descriptor* d) {
    MessagePlan* plan = Build(d);
    if (!plan->fast_computed) {
      plan->fast = ComputeFast(plan);
      plan->fast_computed = true;
    }
    return plan;
  }

 private:
  const EnumPlan* BuildEnum(const pb::EnumDescriptor* e) {
    auto [it, inserted] = enums_.try_emplace(e);
    if (!inserted) return it->second.get();
    it->second = std::make_unique<EnumPlan>();
    EnumPlan* plan = it->second.get();
    plan->descriptor = e;
    int max = -1;
    bool dense = true;
    for (int i = 0; i < e->value_count(); ++i) {
      const int n = e->value(i)->number();
      if (n < 0 || n > 1024) dense = false;
      max = std::max(max, n);
    }
    if (dense && max >= 0) {
      plan->quoted.resize(static_cast<size_t>(max) + 1);
      // The first value declared with a number wins, as protobuf's lookup by number does.
      for (int i = e->value_count() - 1; i >= 0; --i) {
        const pb::EnumValueDescriptor* v = e->value(i);
        plan->quoted[static_cast<size_t>(v->number())] = "\"" + v->name() + "\"";
      }
    }
    return plan;
  }

  ValuePlan BuildValue(const FieldDescriptor* f, bool& supported) {
    ValuePlan v;
    switch (f->cpp_type()) {
      case FieldDescriptor::CPPTYPE_INT32:
        v.kind = Kind::kInt32;
        break;
      case FieldDescriptor::CPPTYPE_INT64:
        v.kind = Kind::kInt64;
        break;
      case FieldDescriptor::CPPTYPE_UINT32:
        v.kind = Kind::kUint32;
        break;
      case FieldDescriptor::CPPTYPE_UINT64:
        v.kind = Kind::kUint64;
        break;
      case FieldDescriptor::CPPTYPE_DOUBLE:
        v.kind = Kind::kDouble;
        break;
      case FieldDescriptor::CPPTYPE_FLOAT:
        v.kind = Kind::kFloat;
        break;
      case FieldDescriptor::CPPTYPE_BOOL:
        v.kind = Kind::kBool;
        break;
      case FieldDescriptor::CPPTYPE_ENUM:
        v.kind = Kind::kEnum;
        // google.protobuf.NullValue prints as null.
        if (IsGoogleProtobuf(f->enum_type()->full_name())) supported = false;
        v.enum_plan = BuildEnum(f->enum_type());
        break;
      case FieldDescriptor::CPPTYPE_STRING:
        v.kind = f->type() == FieldDescriptor::TYPE_BYTES ? Kind::kBytes : Kind::kString;
        break;
      case FieldDescriptor::CPPTYPE_MESSAGE:
        v.kind = Kind::kMessage;
        if (f->type() == FieldDescriptor::TYPE_GROUP) supported = false;
        v.message = Build(f->message_type());
        break;
    }
    return v;
  }

  MessagePlan* Build(const Descriptor* d) {
    auto [it, inserted] = plans_.try_emplace(d);
    if (!inserted) return it->second.get();
    it->second = std::make_unique<MessagePlan>();
    MessagePlan* plan = it->second.get();  // stable across rehashes: Build recurses
    plan->descriptor = d;
    if (d->full_name() == "google.protobuf.Timestamp") {
      plan->is_timestamp = true;
      return plan;
    }
    bool supported = d->file()->syntax() == pb::FileDescriptor::SYNTAX_PROTO3 &&
                     !IsGoogleProtobuf(d->full_name()) && d->extension_range_count() == 0 &&
                     !d->options().message_set_wire_format();
    std::vector<const FieldDescriptor*> fields;
    fields.reserve(static_cast<size_t>(d->field_count()));
    for (int i = 0; i < d->field_count(); ++i) fields.push_back(d->field(i));
    std::sort(fields.begin(), fields.end(), [](const FieldDescriptor* a, const FieldDescriptor* b) {
      return a->number() < b->number();
    });
    plan->fields.reserve(fields.size());
    for (const FieldDescriptor* f : fields) {
      FieldPlan fp;
      fp.field = f;
      fp.key = "\"" + f->name() + "\":";
      fp.repeated = f->is_repeated();
      fp.is_map = f->is_map();
      fp.bit_presence = !f->is_repeated() && !f->has_presence() &&
                        (f->cpp_type() == FieldDescriptor::CPPTYPE_DOUBLE ||
                         f->cpp_type() == FieldDescriptor::CPPTYPE_FLOAT);
      if (fp.is_map) {
        const Descriptor* entry = f->message_type();
        fp.map_key = entry->map_key();
        fp.map_value = entry->map_value();
        fp.value = BuildValue(fp.map_value, supported);
        fp.wire_map = fp.map_value->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE;
      } else {
        fp.value = BuildValue(f, supported);
      }
      plan->fields.push_back(std::move(fp));
    }
    plan->supported_here = supported;
    return plan;
  }

  // Whether `root` and every message type reachable from it print here.
  static bool ComputeFast(const MessagePlan* root) {
    std::vector<const MessagePlan*> stack{root};
    absl::flat_hash_map<const MessagePlan*, bool> seen{{root, true}};
    while (!stack.empty()) {
      const MessagePlan* p = stack.back();
      stack.pop_back();
      if (!p->supported_here) return false;
      for (const FieldPlan& f : p->fields) {
        const MessagePlan* m = f.value.message;
        if (m != nullptr && seen.emplace(m, true).second) stack.push_back(m);
      }
    }
    return true;
  }

  absl::flat_hash_map<const Descriptor*, std::unique_ptr<MessagePlan>> plans_;
  absl::flat_hash_map<const pb::EnumDescriptor*, std::unique_ptr<EnumPlan>> enums_;
};

// The plans of the generated pool's types: built once, never freed (descriptors of the generated
// pool live as long as the process).
struct GeneratedPlans {
  absl::Mutex mu;
  PlanSet plans ABSL_GUARDED_BY(mu);
};

GeneratedPlans& Generated() {
  static GeneratedPlans* plans = new GeneratedPlans();
  return *plans;
}

const MessagePlan* GeneratedPlan(const Descriptor* d) {
  thread_local absl::flat_hash_map<const Descriptor*, const MessagePlan*> cache;
  auto it = cache.find(d);
  if (it != cache.end()) return it->second;
  GeneratedPlans& g = Generated();
  const MessagePlan* plan;
  {
    absl::MutexLock lock(&g.mu);
    plan = g.plans.Get(d);
  }
  cache.emplace(d, plan);
  return plan;
}

// ---- Formatting -------------------------------------------------------------------------------

constexpr char kHex[] = "0123456789abcdef";

// protobuf's escapes of the code points below 0xa0 (json_escaping.cc's kCommonEscapes): quote,
// backslash, '<', '>', the C0 controls (\b \t \n \f \r by name), DEL and the C1 controls.
struct AsciiEscapes {
  char text[128][8] = {};
  uint8_t length[128] = {};
  constexpr AsciiEscapes() {
    for (int c = 0; c < 128; ++c) {
      if (c < 0x20 || c == 0x7f) {
        const char* named = nullptr;
        switch (c) {
          case '\b':
            named = "\\b";
            break;
          case '\t':
            named = "\\t";
            break;
          case '\n':
            named = "\\n";
            break;
          case '\f':
            named = "\\f";
            break;
          case '\r':
            named = "\\r";
            break;
          default:
            break;
        }
        if (named != nullptr) {
          text[c][0] = named[0];
          text[c][1] = named[1];
          length[c] = 2;
        } else {
          const char u[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xf]};
          for (int i = 0; i < 6; ++i) text[c][i] = u[i];
          length[c] = 6;
        }
      } else if (c == '"' || c == '\\') {
        text[c][0] = '\\';
        text[c][1] = static_cast<char>(c);
        length[c] = 2;
      } else if (c == '<' || c == '>') {
        const char u[6] = {'\\', 'u', '0', '0', '3', c == '<' ? 'c' : 'e'};
        for (int i = 0; i < 6; ++i) text[c][i] = u[i];
        length[c] = 6;
      }
    }
  }
};
constexpr AsciiEscapes kAscii;

// Bytes that end a run of bytes copied as they are.
struct SpecialBytes {
  bool special[256] = {};
  constexpr SpecialBytes() {
    for (int c = 0; c < 256; ++c) special[c] = c >= 0x80 || kAscii.length[c] != 0;
  }
};
constexpr SpecialBytes kSpecial;

void AppendU(std::string& out, uint32_t unit) {
  const char u[6] = {'\\',
                     'u',
                     kHex[(unit >> 12) & 0xf],
                     kHex[(unit >> 8) & 0xf],
                     kHex[(unit >> 4) & 0xf],
                     kHex[unit & 0xf]};
  out.append(u, 6);
}

// Whether protobuf escapes this code point (>= 0x80), and how: 1 as \uXXXX, 2 as a surrogate pair.
int EscapeOf(uint32_t cp) {
  if (cp < 0xa0) return 1;
  switch (cp) {
    case 0xfeff:
    case 0xfff9:
    case 0xfffa:
    case 0xfffb:
    case 0x00ad:
    case 0x06dd:
    case 0x070f:
    case 0x17b4:
    case 0x17b5:
      return 1;
    default:
      break;
  }
  if ((cp >= 0x0600 && cp <= 0x0603) || (cp >= 0x200b && cp <= 0x200f) ||
      (cp >= 0x2028 && cp <= 0x202e) || (cp >= 0x2060 && cp <= 0x2064) ||
      (cp >= 0x206a && cp <= 0x206f)) {
    return 1;
  }
  if (cp == 0xe0001 || (cp >= 0x1d173 && cp <= 0x1d17a) || (cp >= 0xe0020 && cp <= 0xe007f)) {
    return 2;
  }
  return 0;
}

// Decodes one well-formed UTF-8 sequence at p (a lead byte >= 0x80). Returns its length, or 0 if
// the bytes are not well-formed UTF-8 (overlong, surrogate, beyond U+10FFFF, truncated).
size_t DecodeUtf8(const unsigned char* p, const unsigned char* end, uint32_t& cp) {
  const unsigned char c = p[0];
  const size_t left = static_cast<size_t>(end - p);
  auto cont = [](unsigned char b) { return (b & 0xc0) == 0x80; };
  if (c >= 0xc2 && c <= 0xdf) {
    if (left < 2 || !cont(p[1])) return 0;
    cp = ((c & 0x1fu) << 6) | (p[1] & 0x3fu);
    return 2;
  }
  if (c >= 0xe0 && c <= 0xef) {
    if (left < 3 || !cont(p[1]) || !cont(p[2])) return 0;
    if (c == 0xe0 && p[1] < 0xa0) return 0;  // overlong
    if (c == 0xed && p[1] > 0x9f) return 0;  // surrogate
    cp = ((c & 0x0fu) << 12) | ((p[1] & 0x3fu) << 6) | (p[2] & 0x3fu);
    return 3;
  }
  if (c >= 0xf0 && c <= 0xf4) {
    if (left < 4 || !cont(p[1]) || !cont(p[2]) || !cont(p[3])) return 0;
    if (c == 0xf0 && p[1] < 0x90) return 0;  // overlong
    if (c == 0xf4 && p[1] > 0x8f) return 0;  // beyond U+10FFFF
    cp = ((c & 0x07u) << 18) | ((p[1] & 0x3fu) << 12) | ((p[2] & 0x3fu) << 6) | (p[3] & 0x3fu);
    return 4;
  }
  return 0;
}

// Appends s as a quoted JSON string. False if s is not valid UTF-8 (protobuf drops such bytes in
// its own way; the caller leaves those messages to protobuf's printer).
bool AppendQuoted(std::string& out, std::string_view s) {
  out.push_back('"');
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const auto* end = p + s.size();
  const auto* run = p;  // start of the bytes not yet appended
  while (p < end) {
    const unsigned char c = *p;
    if (!kSpecial.special[c]) {
      ++p;
      continue;
    }
    if (c < 0x80) {
      out.append(reinterpret_cast<const char*>(run), static_cast<size_t>(p - run));
      out.append(kAscii.text[c], kAscii.length[c]);
      run = ++p;
      continue;
    }
    uint32_t cp = 0;
    const size_t n = DecodeUtf8(p, end, cp);
    if (n == 0) return false;
    const int escape = EscapeOf(cp);
    if (escape == 0) {
      p += n;
      continue;
    }
    out.append(reinterpret_cast<const char*>(run), static_cast<size_t>(p - run));
    if (escape == 1) {
      AppendU(out, cp);
    } else {
      const uint32_t v = cp - 0x10000;
      AppendU(out, 0xd800 + (v >> 10));
      AppendU(out, 0xdc00 + (v & 0x3ff));
    }
    p += n;
    run = p;
  }
  out.append(reinterpret_cast<const char*>(run), static_cast<size_t>(p - run));
  out.push_back('"');
  return true;
}

template <typename T>
void AppendInteger(std::string& out, T value) {
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof(buf), value);
  out.append(buf, r.ptr);
}

template <typename T>
void AppendQuotedInteger(std::string& out, T value) {
  char buf[24];
  buf[0] = '"';
  auto r = std::to_chars(buf + 1, buf + sizeof(buf) - 1, value);
  *r.ptr++ = '"';
  out.append(buf, r.ptr);
}

// Whether the text parses back to value: strtod for double (protobuf's NoLocaleStrtod), and
// for float protobuf's safe_strtof, which also fails on a range error (errno).
template <typename T>
bool ParsesBackTo(const char* first, const char* last, T value) {
  static const locale_t c_locale = newlocale(LC_ALL_MASK, "C", static_cast<locale_t>(nullptr));
  if constexpr (std::is_same_v<T, double>) {
    double parsed = 0;
    const auto r = std::from_chars(first, last, parsed);
    if (r.ec == std::errc()) return parsed == value;
    // from_chars may report subnormal results as out of range; ask the C library.
    const std::string text(first, last);
    return strtod_l(text.c_str(), nullptr, c_locale) == value;
  } else {
    char text[48];
    const size_t n = std::min(static_cast<size_t>(last - first), sizeof(text) - 1);
    std::memcpy(text, first, n);
    text[n] = '\0';
    errno = 0;
    const float parsed = strtof_l(text, nullptr, c_locale);
    return errno == 0 && parsed == value;
  }
}

// protobuf's SimpleDtoa/SimpleFtoa: %.15g (%.6g for float) if it parses back to the same value,
// else %.17g (%.9g); NaN and infinities quoted by name.
template <typename T>
void AppendFloating(std::string& out, T value) {
  if (std::isnan(value)) {
    out.append("\"NaN\"");
    return;
  }
  if (std::isinf(value)) {
    out.append(value > 0 ? "\"Infinity\"" : "\"-Infinity\"");
    return;
  }
  constexpr int kShort = std::is_same_v<T, double> ? 15 : 6;
  constexpr int kLong = std::is_same_v<T, double> ? 17 : 9;
  char buf[48];
  auto r = std::to_chars(buf, buf + sizeof(buf), value, std::chars_format::general, kShort);
  if (!ParsesBackTo(buf, r.ptr, value)) {
    r = std::to_chars(buf, buf + sizeof(buf), value, std::chars_format::general, kLong);
  }
  out.append(buf, r.ptr);
}

void AppendBase64(std::string& out, std::string_view s) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  out.push_back('"');
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  size_t n = s.size();
  char quad[4];
  for (; n >= 3; n -= 3, p += 3) {
    const uint32_t v = (uint32_t{p[0]} << 16) | (uint32_t{p[1]} << 8) | p[2];
    quad[0] = kAlphabet[v >> 18];
    quad[1] = kAlphabet[(v >> 12) & 0x3f];
    quad[2] = kAlphabet[(v >> 6) & 0x3f];
    quad[3] = kAlphabet[v & 0x3f];
    out.append(quad, 4);
  }
  if (n > 0) {
    const uint32_t v = (uint32_t{p[0]} << 16) | (n == 2 ? uint32_t{p[1]} << 8 : 0);
    quad[0] = kAlphabet[v >> 18];
    quad[1] = kAlphabet[(v >> 12) & 0x3f];
    quad[2] = n == 2 ? kAlphabet[(v >> 6) & 0x3f] : '=';
    quad[3] = '=';
    out.append(quad, 4);
  }
  out.push_back('"');
}

void Append2(char* p, int v) {
  p[0] = static_cast<char>('0' + v / 10);
  p[1] = static_cast<char>('0' + v % 10);
}

// RFC 3339 as protobuf's FormatTime: "YYYY-MM-DDThh:mm:ss[.fff|.ffffff|.fffffffff]Z", quoted.
// False if out of protobuf's range (its printer then fails).
bool AppendTimestamp(std::string& out, int64_t seconds, int32_t nanos) {
  if (seconds < kTimestampMinSeconds || seconds > kTimestampMaxSeconds || nanos < 0 ||
      nanos > 999999999) {
    return false;
  }
  int64_t days = seconds / 86400;
  int64_t secs = seconds % 86400;
  if (secs < 0) {
    secs += 86400;
    --days;
  }
  // Howard Hinnant's civil_from_days.
  const int64_t z = days + 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  const int day = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  const int month = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  const int year = static_cast<int>(yoe + era * 400 + (month <= 2 ? 1 : 0));

  char buf[40];
  buf[0] = '"';
  Append2(buf + 1, year / 100);
  Append2(buf + 3, year % 100);
  buf[5] = '-';
  Append2(buf + 6, month);
  buf[8] = '-';
  Append2(buf + 9, day);
  buf[11] = 'T';
  const int sod = static_cast<int>(secs);
  Append2(buf + 12, sod / 3600);
  buf[14] = ':';
  Append2(buf + 15, sod / 60 % 60);
  buf[17] = ':';
  Append2(buf + 18, sod % 60);
  char* p = buf + 20;
  if (nanos != 0) {
    int digits = 9;
    int frac = nanos;
    if (nanos % 1000000 == 0) {
      digits = 3;
      frac = nanos / 1000000;
    } else if (nanos % 1000 == 0) {
      digits = 6;
      frac = nanos / 1000;
    }
    *p++ = '.';
    for (int i = digits - 1; i >= 0; --i) {
      p[i] = static_cast<char>('0' + frac % 10);
      frac /= 10;
    }
    p += digits;
  }
  *p++ = 'Z';
  *p++ = '"';
  out.append(buf, p);
  return true;
}

void AppendEnum(std::string& out, const EnumPlan& plan, int value) {
  if (value >= 0 && static_cast<size_t>(value) < plan.quoted.size()) {
    const std::string& q = plan.quoted[static_cast<size_t>(value)];
    if (!q.empty()) {
      out.append(q);
      return;
    }
  } else if (plan.quoted.empty()) {
    if (const pb::EnumValueDescriptor* v = plan.descriptor->FindValueByNumber(value)) {
      out.push_back('"');
      out.append(v->name());
      out.push_back('"');
      return;
    }
  }
  AppendInteger(out, value);  // unknown numbers print as numbers
}

// ---- The printer ------------------------------------------------------------------------------

class Printer {
 public:
  explicit Printer(std::string& out) : out_(out) {}

  // False if this message must go to protobuf's printer.
  bool PrintMessage(const Message& m, const MessagePlan& plan, int depth) {
    const Reflection* r = m.GetReflection();
    if (plan.is_timestamp) return PrintTimestamp(m, r);
    if (depth > kMaxDepth) return false;
    out_.push_back('{');
    bool first = true;
    for (const FieldPlan& f : plan.fields) {
      const FieldDescriptor* field = f.field;
      int size = 0;
      if (f.repeated) {
        size = r->FieldSize(m, field);
        if (size == 0) continue;
      } else if (f.bit_presence) {
        if (f.value.kind == Kind::kDouble) {
          const double v = r->GetDouble(m, field);
          uint64_t bits;
          std::memcpy(&bits, &v, sizeof(bits));
          if (bits == 0) continue;
        } else {
          const float v = r->GetFloat(m, field);
          uint32_t bits;
          std::memcpy(&bits, &v, sizeof(bits));
          if (bits == 0) continue;
        }
      } else if (!r->HasField(m, field)) {
        continue;
      }
      if (!first) out_.push_back(',');
      first = false;
      out_.append(f.key);
      if (!f.repeated) {
        if (!PrintSingular(m, r, field, f.value, depth)) return false;
      } else if (f.wire_map) {
        if (!PrintWireMap(m, f)) return false;
      } else if (f.is_map) {
        out_.push_back('{');
        for (int i = 0; i < size; ++i) {
          if (i > 0) out_.push_back(',');
          const Message& entry = r->GetRepeatedMessage(m, field, i);
          const Reflection* er = entry.GetReflection();
          if (!PrintMapKey(entry, er, f.map_key)) return false;
          out_.push_back(':');
          if (!PrintSingular(entry, er, f.map_value, f.value, depth)) return false;
        }
        out_.push_back('}');
      } else {
        out_.push_back('[');
        for (int i = 0; i < size; ++i) {
          if (i > 0) out_.push_back(',');
          if (!PrintElement(m, r, field, i, f.value, depth)) return false;
        }
        out_.push_back(']');
      }
    }
    out_.push_back('}');
    return true;
  }

 private:
  bool PrintTimestamp(const Message& m, const Reflection* r) {
    const Descriptor* d = m.GetDescriptor();
    return AppendTimestamp(out_, r->GetInt64(m, d->field(0)), r->GetInt32(m, d->field(1)));
  }

  bool PrintSingular(const Message& m, const Reflection* r, const FieldDescriptor* field,
                     const ValuePlan& v, int depth) {
    switch (v.kind) {
      case Kind::kInt32:
        AppendInteger(out_, r->GetInt32(m, field));
        return true;
      case Kind::kInt64:
        AppendQuotedInteger(out_, r->GetInt64(m, field));
        return true;
      case Kind::kUint32:
        AppendInteger(out_, r->GetUInt32(m, field));
        return true;
      case Kind::kUint64:
        AppendQuotedInteger(out_, r->GetUInt64(m, field));
        return true;
      case Kind::kDouble:
        AppendFloating(out_, r->GetDouble(m, field));
        return true;
      case Kind::kFloat:
        AppendFloating(out_, r->GetFloat(m, field));
        return true;
      case Kind::kBool:
        out_.append(r->GetBool(m, field) ? "true" : "false");
        return true;
      case Kind::kEnum:
        AppendEnum(out_, *v.enum_plan, r->GetEnumValue(m, field));
        return true;
      case Kind::kString:
        return AppendQuoted(out_, r->GetStringReference(m, field, &scratch_));
      case Kind::kBytes:
        AppendBase64(out_, r->GetStringReference(m, field, &scratch_));
        return true;
      case Kind::kMessage:
        return PrintMessage(r->GetMessage(m, field), *v.message, depth + 1);
    }
    return false;
  }

  bool PrintElement(const Message& m, const Reflection* r, const FieldDescriptor* field, int i,
                    const ValuePlan& v, int depth) {
    switch (v.kind) {
      case Kind::kInt32:
        AppendInteger(out_, r->GetRepeatedInt32(m, field, i));
        return true;
      case Kind::kInt64:
        AppendQuotedInteger(out_, r->GetRepeatedInt64(m, field, i));
        return true;
      case Kind::kUint32:
        AppendInteger(out_, r->GetRepeatedUInt32(m, field, i));
        return true;
      case Kind::kUint64:
        AppendQuotedInteger(out_, r->GetRepeatedUInt64(m, field, i));
        return true;
      case Kind::kDouble:
        AppendFloating(out_, r->GetRepeatedDouble(m, field, i));
        return true;
      case Kind::kFloat:
        AppendFloating(out_, r->GetRepeatedFloat(m, field, i));
        return true;
      case Kind::kBool:
        out_.append(r->GetRepeatedBool(m, field, i) ? "true" : "false");
        return true;
      case Kind::kEnum:
        AppendEnum(out_, *v.enum_plan, r->GetRepeatedEnumValue(m, field, i));
        return true;
      case Kind::kString:
        return AppendQuoted(out_, r->GetRepeatedStringReference(m, field, i, &scratch_));
      case Kind::kBytes:
        AppendBase64(out_, r->GetRepeatedStringReference(m, field, i, &scratch_));
        return true;
      case Kind::kMessage:
        return PrintMessage(r->GetRepeatedMessage(m, field, i), *v.message, depth + 1);
    }
    return false;
  }

  // Map keys as protobuf's printer writes them: the key's text, escaped, quoted.
  bool PrintMapKey(const Message& entry, const Reflection* r, const FieldDescriptor* key) {
    switch (key->cpp_type()) {
      case FieldDescriptor::CPPTYPE_STRING:
        if (!AppendQuoted(out_, r->GetStringReference(entry, key, &scratch_))) return false;
        return true;
      case FieldDescriptor::CPPTYPE_BOOL:
        out_.append(r->GetBool(entry, key) ? "\"true\"" : "\"false\"");
        return true;
      case FieldDescriptor::CPPTYPE_INT32:
        AppendQuotedInteger(out_, r->GetInt32(entry, key));
        return true;
      case FieldDescriptor::CPPTYPE_INT64:
        AppendQuotedInteger(out_, r->GetInt64(entry, key));
        return true;
      case FieldDescriptor::CPPTYPE_UINT32:
        AppendQuotedInteger(out_, r->GetUInt32(entry, key));
        return true;
      case FieldDescriptor::CPPTYPE_UINT64:
        AppendQuotedInteger(out_, r->GetUInt64(entry, key));
        return true;
      default:
        return false;  // not a valid map key type
    }
  }

  // A map field without message values, read from its serialization. Reading a generated map
  // through the repeated reflection API would make protobuf build, once per message object, a
  // repeated field of entry messages (an allocation per entry); serializing the one field
  // iterates the map itself, in the order MessageToJsonString's serialization also follows.
  bool PrintWireMap(const Message& m, const FieldPlan& f) {
    // Never re-entered (map values here are not messages): one buffer per thread will do.
    thread_local std::string wire_;
    wire_.clear();
    {
      pb::io::StringOutputStream stream(&wire_);
      pb::io::CodedOutputStream coded(&stream);
      // Entries kept in the repeated view (a map filled through the repeated reflection API)
      // are written with their cached sizes; computing the field's size sets them, as the
      // serialization of the whole message does.
      (void)pb::internal::WireFormat::FieldByteSize(f.field, m);
      pb::internal::WireFormat::SerializeFieldWithCachedSizes(f.field, m, &coded);
    }
    const char* p = wire_.data();
    const char* const end = p + wire_.size();
    out_.push_back('{');
    bool first = true;
    while (p < end) {
      uint64_t tag = 0;
      uint64_t length = 0;
      if (!ReadVarint(p, end, tag) || !ReadVarint(p, end, length) ||
          length > static_cast<uint64_t>(end - p)) {
        return false;
      }
      const char* const entry_end = p + length;
      WireValue key;
      WireValue value;
      while (p < entry_end) {
        uint64_t entry_tag = 0;
        if (!ReadVarint(p, entry_end, entry_tag)) return false;
        WireValue* target = (entry_tag >> 3) == 1 ? &key : (entry_tag >> 3) == 2 ? &value : nullptr;
        WireValue ignored;
        if (!ReadWireValue(p, entry_end, static_cast<int>(entry_tag & 7),
                           target != nullptr ? *target : ignored)) {
          return false;
        }
      }
      if (!first) out_.push_back(',');
      first = false;
      if (!PrintWireKey(f.map_key, key)) return false;
      out_.push_back(':');
      if (!PrintWireValue(f.map_value, f.value, value)) return false;
    }
    out_.push_back('}');
    return true;
  }

  struct WireValue {
    uint64_t bits = 0;       // varint, fixed32 or fixed64
    std::string_view bytes;  // length-delimited
  };

  static bool ReadVarint(const char*& p, const char* end, uint64_t& v) {
    v = 0;
    for (int shift = 0; shift < 64 && p < end; shift += 7) {
      const auto b = static_cast<unsigned char>(*p++);
      v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if (b < 0x80) return true;
    }
    return false;
  }

  static bool ReadWireValue(const char*& p, const char* end, int wire_type, WireValue& v) {
    switch (wire_type) {
      case 0:
        return ReadVarint(p, end, v.bits);
      case 1:
      case 5: {
        const size_t n = wire_type == 1 ? 8 : 4;
        if (static_cast<size_t>(end - p) < n) return false;
        v.bits = 0;
        for (size_t i = 0; i < n; ++i) {
          v.bits |= static_cast<uint64_t>(static_cast<unsigned char>(p[i])) << (8 * i);
        }
        p += n;
        return true;
      }
      case 2: {
        uint64_t n = 0;
        if (!ReadVarint(p, end, n) || n > static_cast<uint64_t>(end - p)) return false;
        v.bytes = std::string_view(p, static_cast<size_t>(n));
        p += n;
        return true;
      }
      default:
        return false;
    }
  }

  // The key as protobuf's printer writes it: its text, quoted (and escaped if a string).
  bool PrintWireKey(const FieldDescriptor* key, const WireValue& v) {
    switch (key->type()) {
      case FieldDescriptor::TYPE_STRING:
        return AppendQuoted(out_, v.bytes);
      case FieldDescriptor::TYPE_BOOL:
        out_.append(v.bits != 0 ? "\"true\"" : "\"false\"");
        return true;
      case FieldDescriptor::TYPE_INT32:
      case FieldDescriptor::TYPE_SFIXED32:
        AppendQuotedInteger(out_, static_cast<int32_t>(static_cast<uint32_t>(v.bits)));
        return true;
      case FieldDescriptor::TYPE_SINT32:
        AppendQuotedInteger(
            out_, pb::internal::WireFormatLite::ZigZagDecode32(static_cast<uint32_t>(v.bits)));
        return true;
      case FieldDescriptor::TYPE_UINT32:
      case FieldDescriptor::TYPE_FIXED32:
        AppendQuotedInteger(out_, static_cast<uint32_t>(v.bits));
        return true;
      case FieldDescriptor::TYPE_INT64:
      case FieldDescriptor::TYPE_SFIXED64:
        AppendQuotedInteger(out_, static_cast<int64_t>(v.bits));
        return true;
      case FieldDescriptor::TYPE_SINT64:
        AppendQuotedInteger(out_, pb::internal::WireFormatLite::ZigZagDecode64(v.bits));
        return true;
      case FieldDescriptor::TYPE_UINT64:
      case FieldDescriptor::TYPE_FIXED64:
        AppendQuotedInteger(out_, v.bits);
        return true;
      default:
        return false;
    }
  }

  bool PrintWireValue(const FieldDescriptor* field, const ValuePlan& plan, const WireValue& v) {
    switch (field->type()) {
      case FieldDescriptor::TYPE_INT32:
      case FieldDescriptor::TYPE_SFIXED32:
        AppendInteger(out_, static_cast<int32_t>(static_cast<uint32_t>(v.bits)));
        return true;
      case FieldDescriptor::TYPE_SINT32:
        AppendInteger(out_,
                      pb::internal::WireFormatLite::ZigZagDecode32(static_cast<uint32_t>(v.bits)));
        return true;
      case FieldDescriptor::TYPE_UINT32:
      case FieldDescriptor::TYPE_FIXED32:
        AppendInteger(out_, static_cast<uint32_t>(v.bits));
        return true;
      case FieldDescriptor::TYPE_INT64:
      case FieldDescriptor::TYPE_SFIXED64:
        AppendQuotedInteger(out_, static_cast<int64_t>(v.bits));
        return true;
      case FieldDescriptor::TYPE_SINT64:
        AppendQuotedInteger(out_, pb::internal::WireFormatLite::ZigZagDecode64(v.bits));
        return true;
      case FieldDescriptor::TYPE_UINT64:
      case FieldDescriptor::TYPE_FIXED64:
        AppendQuotedInteger(out_, v.bits);
        return true;
      case FieldDescriptor::TYPE_DOUBLE: {
        double d;
        std::memcpy(&d, &v.bits, sizeof(d));
        AppendFloating(out_, d);
        return true;
      }
      case FieldDescriptor::TYPE_FLOAT: {
        const auto bits = static_cast<uint32_t>(v.bits);
        float f;
        std::memcpy(&f, &bits, sizeof(f));
        AppendFloating(out_, f);
        return true;
      }
      case FieldDescriptor::TYPE_BOOL:
        out_.append(v.bits != 0 ? "true" : "false");
        return true;
      case FieldDescriptor::TYPE_ENUM:
        AppendEnum(out_, *plan.enum_plan, static_cast<int32_t>(static_cast<uint32_t>(v.bits)));
        return true;
      case FieldDescriptor::TYPE_STRING:
        return AppendQuoted(out_, v.bytes);
      case FieldDescriptor::TYPE_BYTES:
        AppendBase64(out_, v.bytes);
        return true;
      default:
        return false;
    }
  }

  std::string& out_;
  std::string scratch_;  // for GetStringReference; generated messages never use it
};

absl::Status Fallback(const Message& message, std::string& out) {
  pb::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  const pb::util::Status status = pb::util::MessageToJsonString(message, &out, options);
  if (status.ok()) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(static_cast<int>(status.code())),
                      std::string(status.message().data(), status.message().size()));
}

// Prints with the plan if it can; false if the message must go to protobuf's printer (out is
// then as it was).
bool PrintFast(const Message& message, const MessagePlan& plan, std::string& out) {
  if (!plan.fast) return false;
  const size_t start = out.size();
  const uint32_t hint = plan.size_hint.load(std::memory_order_relaxed);
  if (hint > 0) out.reserve(start + hint + hint / 8);
  Printer printer(out);
  if (!printer.PrintMessage(message, plan, 0)) {
    out.resize(start);
    return false;
  }
  const size_t written = out.size() - start;
  if (written > hint && written < (uint32_t{1} << 31)) {
    plan.size_hint.store(static_cast<uint32_t>(written), std::memory_order_relaxed);
  }
  return true;
}

bool InGeneratedPool(const Descriptor* d) {
  return d->file()->pool() == pb::DescriptorPool::generated_pool();
}

absl::Status Append(const Message& message, std::string& out) {
  const Descriptor* d = message.GetDescriptor();
  if (InGeneratedPool(d)) {
    if (PrintFast(message, *GeneratedPlan(d), out)) return absl::OkStatus();
  } else {
    PlanSet plans;  // descriptors of other pools may be freed: never cached
    if (PrintFast(message, *plans.Get(d), out)) return absl::OkStatus();
  }
  return Fallback(message, out);
}

}  // namespace

void AppendJson(const Message& message, std::string& out) {
  (void)Append(message, out);
}

std::string ToJson(const Message& message) {
  std::string out;
  AppendJson(message, out);
  return out;
}

absl::Status TryAppendJson(const Message& message, std::string& out) {
  const size_t start = out.size();
  absl::Status status = Append(message, out);
  if (!status.ok()) out.resize(start);
  return status;
}

bool PrintsItself(const Descriptor* descriptor) {
  if (InGeneratedPool(descriptor)) return GeneratedPlan(descriptor)->fast;
  PlanSet plans;
  return plans.Get(descriptor)->fast;
}

}  // namespace leadrouter::protojson
