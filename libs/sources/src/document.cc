#include "document.h"

#include <algorithm>
#include <charconv>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "simdjson.h"

namespace leadrouter::sources::internal {
namespace {

namespace dom = simdjson::dom;

std::string NumberText(double v) {
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return ec == std::errc() ? std::string(buf, end) : std::string("0");
}

Node FromElement(dom::element element) {
  Node node;
  switch (element.type()) {
    case dom::element_type::NULL_VALUE:
      node.kind = Node::Kind::kNull;
      break;
    case dom::element_type::BOOL:
      node.kind = Node::Kind::kBool;
      node.text = bool(element.get_bool()) ? "true" : "false";
      break;
    case dom::element_type::INT64:
      node.kind = Node::Kind::kNumber;
      node.text = std::to_string(int64_t(element.get_int64()));
      break;
    case dom::element_type::UINT64:
      node.kind = Node::Kind::kNumber;
      node.text = std::to_string(uint64_t(element.get_uint64()));
      break;
    case dom::element_type::DOUBLE:
      node.kind = Node::Kind::kNumber;
      node.text = NumberText(double(element.get_double()));
      break;
    case dom::element_type::STRING:
      node.kind = Node::Kind::kString;
      node.text = std::string(std::string_view(element.get_string()));
      break;
    case dom::element_type::ARRAY:
      node.kind = Node::Kind::kArray;
      for (dom::element item : dom::array(element.get_array())) {
        node.items.push_back(FromElement(item));
      }
      break;
    case dom::element_type::OBJECT:
      node.kind = Node::Kind::kObject;
      for (dom::key_value_pair field : dom::object(element.get_object())) {
        node.members.push_back(NodeMember{std::string(field.key), FromElement(field.value)});
      }
      break;
  }
  return node;
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

absl::StatusOr<std::string> FormDecode(std::string_view text, size_t offset) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '+') {
      out.push_back(' ');
    } else if (c == '%') {
      if (i + 2 >= text.size()) {
        return absl::InvalidArgumentError(
            absl::StrCat("invalid form body: truncated %-escape at byte ", offset + i));
      }
      const int hi = HexDigit(text[i + 1]);
      const int lo = HexDigit(text[i + 2]);
      if (hi < 0 || lo < 0) {
        return absl::InvalidArgumentError(
            absl::StrCat("invalid form body: bad %-escape at byte ", offset + i));
      }
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else {
      out.push_back(c);
    }
  }
  if (!simdjson::validate_utf8(out.data(), out.size())) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid form body: not UTF-8 after decoding, in the field at byte ", offset));
  }
  return out;
}

void AppendEscaped(std::string& out, std::string_view text) {
  out.push_back('"');
  for (const char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned char>(c));
          out += buf;
        } else {
          out.push_back(c);
        }
    }
  }
  out.push_back('"');
}

void AppendCanonical(std::string& out, const Node& node) {
  switch (node.kind) {
    case Node::Kind::kNull:
      out += "null";
      return;
    case Node::Kind::kBool:
    case Node::Kind::kNumber:
      out += node.text;
      return;
    case Node::Kind::kString:
      AppendEscaped(out, node.text);
      return;
    case Node::Kind::kArray:
      out.push_back('[');
      for (size_t i = 0; i < node.items.size(); ++i) {
        if (i) out.push_back(',');
        AppendCanonical(out, node.items[i]);
      }
      out.push_back(']');
      return;
    case Node::Kind::kObject: {
      std::vector<const NodeMember*> sorted;
      for (const auto& member : node.members) sorted.push_back(&member);
      std::stable_sort(sorted.begin(), sorted.end(),
                       [](const auto* a, const auto* b) { return a->name < b->name; });
      out.push_back('{');
      for (size_t i = 0; i < sorted.size(); ++i) {
        if (i) out.push_back(',');
        AppendEscaped(out, sorted[i]->name);
        out.push_back(':');
        AppendCanonical(out, sorted[i]->value);
      }
      out.push_back('}');
      return;
    }
  }
}

}  // namespace

const Node* Node::Member(std::string_view key) const {
  if (kind != Kind::kObject) return nullptr;
  for (const auto& member : members) {
    if (member.name == key) return &member.value;
  }
  return nullptr;
}

absl::StatusOr<Node> ParseJson(std::string_view payload) {
  // One parser per call: Map is called from any thread, and payloads are small.
  dom::parser parser;
  dom::element root;
  const simdjson::padded_string padded(payload);
  if (const auto error = parser.parse(padded).get(root); error != simdjson::SUCCESS) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid JSON: ", simdjson::error_message(error)));
  }
  return FromElement(root);
}

absl::StatusOr<Node> ParseForm(std::string_view payload) {
  Node root;
  root.kind = Node::Kind::kObject;
  size_t start = 0;
  while (start <= payload.size()) {
    size_t end = payload.find('&', start);
    if (end == std::string_view::npos) end = payload.size();
    const std::string_view pair = payload.substr(start, end - start);
    if (!pair.empty()) {
      const size_t eq = pair.find('=');
      auto name = FormDecode(pair.substr(0, eq), start);
      if (!name.ok()) return name.status();
      Node value;
      value.kind = Node::Kind::kString;
      if (eq != std::string_view::npos) {
        auto decoded = FormDecode(pair.substr(eq + 1), start + eq + 1);
        if (!decoded.ok()) return decoded.status();
        value.text = *std::move(decoded);
      }
      root.members.push_back(NodeMember{*std::move(name), std::move(value)});
    }
    start = end + 1;
  }
  return root;
}

std::string Canonical(const Node& node) {
  std::string out;
  AppendCanonical(out, node);
  return out;
}

}  // namespace leadrouter::sources::internal
