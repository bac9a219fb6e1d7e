#include "leadrouter/lead/validate.h"

#include <array>
#include <chrono>
#include <iterator>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "enum_names.h"

namespace leadrouter::lead {
namespace {

constexpr int64_t kEarliestOccurredAt = 946684800;  // 2000-01-01T00:00:00Z
constexpr std::chrono::hours kMaxClockSkew{24};

// The string fields and their limits, with the accessor that reads each: one table, so the
// documented limits, the check and StringFieldLimits() cannot drift apart.
struct StringField {
  StringFieldLimit limit;
  const std::string& (*get)(const v1::LeadEvent&);
};

constexpr StringField kStringFields[] = {
    {{"event_id", 128}, [](const v1::LeadEvent& e) -> const std::string& { return e.event_id(); }},
    {{"source_system", 256},
     [](const v1::LeadEvent& e) -> const std::string& { return e.source_system(); }},
    {{"campaign", 256}, [](const v1::LeadEvent& e) -> const std::string& { return e.campaign(); }},
    {{"sourced_by_rep_id", 128},
     [](const v1::LeadEvent& e) -> const std::string& { return e.sourced_by_rep_id(); }},
    {{"source_record_id", 128},
     [](const v1::LeadEvent& e) -> const std::string& { return e.source_record_id(); }},
    {{"person.first_name", 256},
     [](const v1::LeadEvent& e) -> const std::string& { return e.person().first_name(); }},
    {{"person.last_name", 256},
     [](const v1::LeadEvent& e) -> const std::string& { return e.person().last_name(); }},
    {{"person.email", 254},
     [](const v1::LeadEvent& e) -> const std::string& { return e.person().email(); }},
    {{"person.phone", 64},
     [](const v1::LeadEvent& e) -> const std::string& { return e.person().phone(); }},
    {{"person.title", 256},
     [](const v1::LeadEvent& e) -> const std::string& { return e.person().title(); }},
    {{"company.name", 512},
     [](const v1::LeadEvent& e) -> const std::string& { return e.company().name(); }},
    {{"company.website", 2048},
     [](const v1::LeadEvent& e) -> const std::string& { return e.company().website(); }},
    {{"company.industry", 256},
     [](const v1::LeadEvent& e) -> const std::string& { return e.company().industry(); }},
    {{"company.country", 64},
     [](const v1::LeadEvent& e) -> const std::string& { return e.company().country(); }},
    {{"company.region", 64},
     [](const v1::LeadEvent& e) -> const std::string& { return e.company().region(); }},
    {{"company.postal_code", 32},
     [](const v1::LeadEvent& e) -> const std::string& { return e.company().postal_code(); }},
};

constexpr auto kStringFieldLimits = [] {
  std::array<StringFieldLimit, std::size(kStringFields)> limits{};
  for (size_t i = 0; i < limits.size(); ++i) limits[i] = kStringFields[i].limit;
  return limits;
}();

constexpr size_t SumOfLimits() {
  size_t sum = kMaxAttributes * (kMaxAttributeKeyBytes + kMaxAttributeValueBytes);
  for (const StringField& field : kStringFields) sum += field.limit.max_bytes;
  return sum;
}
static_assert(SumOfLimits() == kMaxLeadEventStringBytes, "update validate.h's documented total");
// Every byte escaped as \uXXXX, plus the names, quotes and punctuation of every field.
static_assert(6 * kMaxLeadEventStringBytes + 2000 <= kMaxLeadEventJsonBytes);

// A rejection whose detail holds nothing from the payload, so it is also the log detail.
Rejection Safe(RejectReason reason, std::string detail) {
  Rejection rejection{reason, std::move(detail), ""};
  rejection.log_detail = rejection.detail;
  return rejection;
}

Rejection Missing(absl::string_view field) {
  return Safe(RejectReason::kMissingField, absl::StrCat(field, " is required"));
}

Rejection Invalid(absl::string_view field, absl::string_view why) {
  return Safe(RejectReason::kInvalidField, absl::StrCat(field, ": ", why));
}

// An enum number no value has (binary protobuf keeps them; JSON is refused at decode already, in
// the same words).
Rejection UnknownEnumNumber(absl::string_view field, int number,
                            const google::protobuf::EnumDescriptor& type) {
  const std::string accepted = internal::AcceptedEnumValues(type);
  return Rejection{RejectReason::kInvalidField,
                   absl::StrCat(field, ": ", number, " is not one of ", accepted),
                   absl::StrCat(field, ": not one of ", accepted)};
}

std::string TooLong(size_t size, size_t limit) {
  return absl::StrCat(size, " bytes, the limit is ", limit);
}

bool IsPrintableAsciiNoSpace(std::string_view s) {
  for (unsigned char c : s) {
    if (c < 0x21 || c > 0x7E) return false;
  }
  return true;
}

// Shape only: local@domain.tld, no whitespace or control bytes. Provider rules and IDN
// handling belong to normalization, not to the gate that decides dead-letter or not.
bool HasEmailShape(std::string_view email) {
  const auto at = email.find('@');
  if (at == std::string_view::npos || at == 0 ||
      email.find('@', at + 1) != std::string_view::npos) {
    return false;
  }
  const std::string_view domain = email.substr(at + 1);
  const auto dot = domain.rfind('.');
  if (dot == std::string_view::npos || dot == 0 || dot + 1 == domain.size()) return false;
  for (unsigned char c : email) {
    if (c <= 0x20 || c == 0x7F) return false;
  }
  return true;
}

bool HasPhoneShape(std::string_view phone) {
  int digits = 0;
  for (char c : phone) {
    if (c >= '0' && c <= '9') {
      ++digits;
    } else if (c != '+' && c != ' ' && c != '-' && c != '(' && c != ')' && c != '.' && c != '/' &&
               c != 'x' && c != 'X') {
      return false;
    }
  }
  return digits >= 7 && digits <= 20;  // 15 for E.164 plus room for an extension
}

}  // namespace

std::span<const StringFieldLimit> StringFieldLimits() {
  return kStringFieldLimits;
}

std::optional<Rejection> ValidateLeadEvent(const v1::LeadEvent& event, core::TimePoint now) {
  for (const StringField& field : kStringFields) {
    const size_t size = field.get(event).size();
    if (size > field.limit.max_bytes) {
      const std::string_view name = field.limit.field;
      return Invalid(absl::string_view(name.data(), name.size()),
                     TooLong(size, field.limit.max_bytes));
    }
  }
  if (event.event_id().empty()) return Missing("event_id");
  if (!IsPrintableAsciiNoSpace(event.event_id())) {
    return Invalid("event_id", "must be printable ASCII without spaces");
  }

  if (!event.has_occurred_at()) return Missing("occurred_at");
  const int64_t occurred = event.occurred_at().seconds();
  const int64_t latest =
      std::chrono::duration_cast<std::chrono::seconds>((now + kMaxClockSkew).time_since_epoch())
          .count();
  if (occurred < kEarliestOccurredAt) return Invalid("occurred_at", "before 2000-01-01");
  if (occurred > latest) return Invalid("occurred_at", "more than 24h in the future");

  if (event.source_kind() == v1::LEAD_SOURCE_KIND_UNSPECIFIED) return Missing("source_kind");
  if (!v1::LeadSourceKind_IsValid(event.source_kind())) {
    return UnknownEnumNumber("source_kind", event.source_kind(), *v1::LeadSourceKind_descriptor());
  }

  const v1::Person& person = event.person();
  if (person.email().empty() && person.phone().empty())
    return Missing("person.email or person.phone");
  if (!person.email().empty() && !HasEmailShape(person.email())) {
    return Invalid("person.email", "not an email address");
  }
  if (!person.phone().empty() && !HasPhoneShape(person.phone())) {
    return Invalid("person.phone", "not a phone number (7-20 digits and + - ( ) . / x)");
  }

  const v1::Company& company = event.company();
  if (company.employee_count() < 0) return Invalid("company.employee_count", "negative");
  if (company.annual_revenue_usd() < 0) return Invalid("company.annual_revenue_usd", "negative");
  if (company.location_count() < 0) return Invalid("company.location_count", "negative");

  const v1::Psychographics& psycho = event.psychographics();
  if (!v1::BuyingPriority_IsValid(psycho.buying_priority())) {
    return UnknownEnumNumber("psychographics.buying_priority", psycho.buying_priority(),
                             *v1::BuyingPriority_descriptor());
  }
  if (!v1::InnovationAppetite_IsValid(psycho.innovation_appetite())) {
    return UnknownEnumNumber("psychographics.innovation_appetite", psycho.innovation_appetite(),
                             *v1::InnovationAppetite_descriptor());
  }
  if (psycho.intent_score() < 0 || psycho.intent_score() > 100) {
    return Invalid("psychographics.intent_score", "must be within 0..100");
  }

  if (event.attributes_size() > static_cast<int>(kMaxAttributes)) {
    return Invalid("attributes", absl::StrCat(event.attributes_size(), " entries, the limit is ",
                                              kMaxAttributes));
  }
  for (const auto& [key, value] : event.attributes()) {
    if (key.empty() || key.size() > kMaxAttributeKeyBytes) {
      return Invalid("attributes", absl::StrCat("a key of ", key.size(), " bytes, keys must be 1..",
                                                kMaxAttributeKeyBytes, " bytes"));
    }
    if (value.size() > kMaxAttributeValueBytes) {
      // The key names the attribute in the dead letter; a key is producer data, so the log
      // line leaves it out.
      return Rejection{
          RejectReason::kInvalidField,
          absl::StrCat("attributes.", key, ": ", TooLong(value.size(), kMaxAttributeValueBytes)),
          absl::StrCat("attributes: a value of ", TooLong(value.size(), kMaxAttributeValueBytes))};
    }
  }
  return std::nullopt;
}

}  // namespace leadrouter::lead
