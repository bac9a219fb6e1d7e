// The Kafka Connect examples in deploy/connect reference leadrouter's fields by name: every field
// they read must be in the JSON leadrouter publishes on leads.assignments, under that name, as a
// string, and the status value they filter on must be the one leadrouter prints.
#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "absl/strings/str_split.h"
#include "leadrouter/pipeline/pipeline.h"

namespace leadrouter::pipeline {
namespace {

std::string Read(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// An ASSIGNED message as the outbox publishes it, with every field a sink may need.
google::protobuf::Struct PublishedAssignment() {
  v1::AssignmentEvent a;
  a.set_message_id("m_0123456789abcdef0123456789abcdef");
  a.set_assignment_id("as_0123");
  a.set_lead_id("ld_0123");
  a.set_event_id("evt-1");
  a.set_rep_id("rep-ada");
  a.set_status(v1::ASSIGNMENT_STATUS_ASSIGNED);
  a.set_sequence(1);
  a.set_crm_user_id("0055e000001AbCdEFG");
  a.set_source_record_id("00Q5e00000AbCdE");
  a.mutable_lead()->set_source_system("salesforce");
  a.mutable_lead()->set_source_record_id("00Q5e00000AbCdE");
  auto message = AssignmentMessage("leads.assignments", a);
  EXPECT_TRUE(message.ok());
  google::protobuf::Struct json;
  EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(message->value, &json).ok());
  return json;
}

struct Reference {
  std::string field;
  std::string value;  // the value a filter compares it with, if any
};

// The leadrouter fields a connector config reads: filter conditions (`@.field == 'value'`),
// ReplaceField's include list and renames, and HTTP templates (`{{value.field}}`).
std::vector<Reference> References(const google::protobuf::Struct& config) {
  std::vector<Reference> refs;
  const std::regex filter(R"(@\.([a-z_.]+) == '([^']*)')");
  const std::regex templated(R"(\{\{value\.([a-z_]+)\}\})");
  for (const auto& [key, value] : config.fields()) {
    const std::string& text = value.string_value();
    std::smatch m;
    if (key.ends_with(".filter.condition") && std::regex_search(text, m, filter)) {
      refs.push_back({m[1], m[2]});
    }
    if (key.ends_with(".include")) {
      for (absl::string_view f : absl::StrSplit(text, ',')) refs.push_back({std::string(f), ""});
    }
    if (key.ends_with(".renames")) {
      for (absl::string_view pair : absl::StrSplit(text, ',')) {
        refs.push_back({std::string(pair.substr(0, pair.find(':'))), ""});
      }
    }
    for (auto it = std::sregex_iterator(text.begin(), text.end(), templated);
         it != std::sregex_iterator(); ++it) {
      refs.push_back({(*it)[1], ""});
    }
  }
  return refs;
}

// The value at a dotted path ("lead.source_system"), or nullptr.
const google::protobuf::Value* At(const google::protobuf::Struct& json, const std::string& path) {
  const google::protobuf::Struct* object = &json;
  const google::protobuf::Value* value = nullptr;
  for (absl::string_view part : absl::StrSplit(path, '.')) {
    if (object == nullptr) return nullptr;
    auto it = object->fields().find(std::string(part));
    if (it == object->fields().end()) return nullptr;
    value = &it->second;
    object = value->has_struct_value() ? &value->struct_value() : nullptr;
  }
  return value;
}

TEST(ConnectExamplesTest, EveryReferencedFieldIsPublishedWithItsNameAndType) {
  const google::protobuf::Struct published = PublishedAssignment();
  const std::filesystem::path dir = std::filesystem::path(LEADROUTER_SOURCE_DIR) / "deploy/connect";
  std::set<std::string> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".json") continue;
    files.insert(entry.path().filename());
    SCOPED_TRACE(entry.path().filename().string());
    google::protobuf::Struct connector;
    ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(Read(entry.path()), &connector).ok());
    const google::protobuf::Struct& config = connector.fields().at("config").struct_value();
    EXPECT_EQ(config.fields().at("topics").string_value(), "leads.assignments");
    const std::vector<Reference> refs = References(config);
    std::set<std::string> fields;
    for (const Reference& ref : refs) {
      SCOPED_TRACE(ref.field);
      fields.insert(ref.field);
      const google::protobuf::Value* value = At(published, ref.field);
      ASSERT_NE(value, nullptr) << "not a field leadrouter publishes";
      EXPECT_EQ(value->kind_case(), google::protobuf::Value::kStringValue);
      if (ref.field == "status") {
        EXPECT_EQ(ref.value, value->string_value());
      }
    }
    // What a CRM needs to apply an assignment without a lookup.
    EXPECT_TRUE(fields.count("crm_user_id")) << "the owner is not set";
    EXPECT_TRUE(fields.count("source_record_id")) << "the record is not named";
    EXPECT_TRUE(fields.count("status")) << "not filtered on ASSIGNED";
    EXPECT_TRUE(fields.count("lead.source_system")) << "not filtered on its own system";
  }
  EXPECT_EQ(files, (std::set<std::string>{"hubspot-contact-owner-sink.json",
                                          "salesforce-lead-owner-sink.json"}));
}

}  // namespace
}  // namespace leadrouter::pipeline
