#include "leadrouter/lead/validate.h"

#include <chrono>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"

namespace leadrouter::lead {
namespace {

constexpr size_t kMaxEventIdBytes = 128;
constexpr size_t kMaxEmailBytes = 254;
constexpr size_t kMaxAttributes = 64;
constexpr size_t kMaxAttributeKeyBytes = 64;
constexpr size_t kMaxAttributeValueBytes = 1024;
constexpr int64_t kEarliestOccurredAt = 946684800;  // 2000-01-01T00:00:00Z
constexpr std::chrono::hours kMaxClockSkew{24};

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

bool IsPrintableAsciiNoSpace(std::string_view s) {
  for (unsigned char c : s) {
    if (c < 0x21 || c > 0x7E) return false;
  }
  return true;
}

// Shape only: local@domain.tld, no whitespace or control bytes. Provider rules and IDN
// handling belong to normalization, not to the gate that decides dead-letter or not.
bool HasEmailShape(std::string_view email) {
  if (email.size() > kMaxEmailBytes) return false;
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

std::optional<Rejection> ValidateLeadEvent(const v1::LeadEvent& event, core::TimePoint now) {
  if (event.event_id().empty()) return Missing("event_id");
  if (event.event_id().size() > kMaxEventIdBytes) {
    return Invalid("event_id", absl::StrCat("longer than ", kMaxEventIdBytes, " bytes"));
  }
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
    return Invalid("source_kind", absl::StrCat("unknown value ", event.source_kind()));
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
    return Invalid("psychographics.buying_priority", "unknown value");
  }
  if (!v1::InnovationAppetite_IsValid(psycho.innovation_appetite())) {
    return Invalid("psychographics.innovation_appetite", "unknown value");
  }
  if (psycho.intent_score() < 0 || psycho.intent_score() > 100) {
    return Invalid("psychographics.intent_score", "must be within 0..100");
  }

  if (event.attributes_size() > static_cast<int>(kMaxAttributes)) {
    return Invalid("attributes", absl::StrCat("more than ", kMaxAttributes, " entries"));
  }
  for (const auto& [key, value] : event.attributes()) {
    if (key.empty() || key.size() > kMaxAttributeKeyBytes) {
      return Invalid("attributes",
                     absl::StrCat("key must be 1..", kMaxAttributeKeyBytes, " bytes"));
    }
    if (value.size() > kMaxAttributeValueBytes) {
      // The key names the attribute in the dead letter; a key is producer data, so the log
      // line leaves it out.
      const std::string why = absl::StrCat("longer than ", kMaxAttributeValueBytes, " bytes");
      return Rejection{RejectReason::kInvalidField, absl::StrCat("attributes.", key, ": ", why),
                       absl::StrCat("attributes: a value ", why)};
    }
  }
  return std::nullopt;
}

}  // namespace leadrouter::lead
