#include "yaml_scan.h"

#include <yaml-cpp/anchor.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <map>
#include <sstream>
#include <vector>

#include "absl/strings/str_cat.h"

namespace leadrouter::config {
namespace {

// Thrown from the event handler to stop yaml-cpp's parser at once when a limit is exceeded.
struct LimitExceeded {
  std::string message;
};

class Scanner : public YAML::EventHandler {
 public:
  Scanner(const YamlLimits& limits,
          const std::function<void(const std::string&, const std::string&)>& duplicate)
      : limits_(limits), duplicate_(duplicate) {}

  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    Node(mark, "~", /*scalar=*/true, 1);
    Remember(anchor, 1);
  }
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    auto it = sizes_.find(anchor);
    Node(mark, "", /*scalar=*/false, it == sizes_.end() ? 1 : it->second);
  }
  void OnScalar(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                const std::string& value) override {
    Node(mark, value, /*scalar=*/true, 1);
    Remember(anchor, 1);
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value) override {
    Open(mark, /*is_map=*/false, anchor);
  }
  void OnSequenceEnd() override { Close(); }
  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value) override {
    Open(mark, /*is_map=*/true, anchor);
  }
  void OnMapEnd() override { Close(); }

 private:
  struct Frame {
    bool is_map = false;
    std::string path;
    size_t next_index = 0;            // sequences
    bool expecting_key = true;        // mappings: the next node is a key
    std::string key;                  // mappings: the current key, for its value's path
    std::map<std::string, int> keys;  // mappings: key -> line of its first occurrence (1-based)
    size_t first_node = 0;            // the container's own node number, for its anchor's size
    YAML::anchor_t anchor = YAML::NullAnchor;
  };

  static std::string Child(const std::string& parent, const std::string& name) {
    return parent.empty() ? name : absl::StrCat(parent, ".", name);
  }

  // Counts a node (`weight` nodes for an alias: what it expands to) and returns its path; a
  // scalar in key position is checked against its mapping's earlier keys.
  std::string Node(const YAML::Mark& mark, const std::string& text, bool scalar, size_t weight) {
    nodes_ += weight;
    if (nodes_ > limits_.max_nodes) {
      throw LimitExceeded{absl::StrCat("line ", mark.line + 1, ": the document has more than ",
                                       limits_.max_nodes,
                                       " nodes (counting each alias as what it refers to)")};
    }
    if (frames_.empty()) return "";
    Frame& parent = frames_.back();
    if (!parent.is_map) return absl::StrCat(parent.path, "[", parent.next_index++, "]");
    if (!parent.expecting_key) {
      parent.expecting_key = true;
      return Child(parent.path, parent.key);
    }
    parent.expecting_key = false;
    parent.key = scalar ? text : "(complex key)";
    const std::string path = Child(parent.path, parent.key);
    if (scalar) {
      auto [it, fresh] = parent.keys.emplace(text, mark.line + 1);
      if (!fresh) duplicate_(path, absl::StrCat("duplicate key (also at line ", it->second, ")"));
    }
    return path;
  }

  void Open(const YAML::Mark& mark, bool is_map, YAML::anchor_t anchor) {
    Frame frame;
    frame.is_map = is_map;
    frame.path = Node(mark, "", /*scalar=*/false, 1);
    frame.first_node = nodes_;
    frame.anchor = anchor;
    if (frames_.size() >= limits_.max_depth) {
      throw LimitExceeded{absl::StrCat("line ", mark.line + 1, ": ",
                                       frame.path.empty() ? "the document" : frame.path,
                                       ": nested deeper than ", limits_.max_depth, " levels")};
    }
    frames_.push_back(std::move(frame));
  }

  void Close() {
    if (frames_.empty()) return;
    const Frame& frame = frames_.back();
    Remember(frame.anchor, nodes_ - frame.first_node + 1);
    frames_.pop_back();
  }

  void Remember(YAML::anchor_t anchor, size_t size) {
    if (anchor != YAML::NullAnchor) sizes_[anchor] = size;
  }

  const YamlLimits& limits_;
  const std::function<void(const std::string&, const std::string&)>& duplicate_;
  std::vector<Frame> frames_;
  std::map<YAML::anchor_t, size_t> sizes_;  // anchor -> nodes of its subtree
  size_t nodes_ = 0;
};

}  // namespace

absl::Status ScanYaml(
    std::string_view yaml_text, const YamlLimits& limits,
    const std::function<void(const std::string&, const std::string&)>& duplicate) {
  std::istringstream in{std::string(yaml_text)};
  YAML::Parser parser(in);
  Scanner scanner(limits, duplicate);
  try {
    parser.HandleNextDocument(scanner);
  } catch (const LimitExceeded& e) {
    return absl::InvalidArgumentError(e.message);
  }
  return absl::OkStatus();
}

}  // namespace leadrouter::config
