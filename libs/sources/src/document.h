#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace leadrouter::sources::internal {

// A parsed payload: a small owned tree, so a mapping reads JSON and form bodies the same way.
// Numbers keep their shortest text (an id such as 12345678901234567 stays exact), booleans are
// "true" / "false".
struct NodeMember;

struct Node {
  enum class Kind { kNull, kBool, kNumber, kString, kArray, kObject };
  Kind kind = Kind::kNull;
  std::string text;                 // kBool, kNumber, kString
  std::vector<Node> items;          // kArray
  std::vector<NodeMember> members;  // kObject, in payload order

  // The first member called `key`, or nullptr (also when this is no object).
  const Node* Member(std::string_view key) const;
};

// One member of an object node. Not a std::pair: a pair of an incomplete Node inside Node is
// refused by clang with libstdc++.
struct NodeMember {
  std::string name;
  Node value;
};

// RFC 8259 JSON (simdjson). Errors name the kind of problem, never payload bytes.
absl::StatusOr<Node> ParseJson(std::string_view payload);

// application/x-www-form-urlencoded: an object of strings in body order ('+' is a space, %XX
// decoded; a repeated name keeps every value, and a lookup finds the first).
absl::StatusOr<Node> ParseForm(std::string_view payload);

// The canonical JSON text of a node: object members sorted by name (stable for repeats), no
// blanks, strings escaped only where JSON requires. Two payloads that differ only in member
// order or whitespace have the same canonical text.
std::string Canonical(const Node& node);

}  // namespace leadrouter::sources::internal
