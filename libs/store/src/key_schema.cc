#include "leadrouter/store/key_schema.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace leadrouter::store {

KeySchema::KeySchema(std::string tenant)
    : tenant_(std::move(tenant)), prefix_(absl::StrCat("lr:{", tenant_, "}:")) {}

absl::Status KeySchema::ValidateTenant(std::string_view tenant) {
  if (tenant.empty()) return absl::InvalidArgumentError("tenant must not be empty");
  if (tenant.find_first_of("{}") != std::string_view::npos) {
    return absl::InvalidArgumentError(absl::StrCat(
        "tenant '", std::string(tenant), "' must not contain '{' or '}' (it is the hash tag)"));
  }
  return absl::OkStatus();
}

std::string KeySchema::RoutingState() const {
  return prefix_ + "routing";
}

std::string KeySchema::UnassignedQueue() const {
  return prefix_ + "unassigned";
}

std::string KeySchema::SlaDeadlines() const {
  return prefix_ + "sla";
}

std::string KeySchema::AssignmentLog() const {
  return prefix_ + "log";
}

std::string KeySchema::Outbox() const {
  return prefix_ + "outbox";
}

std::string KeySchema::OutboxLease() const {
  return prefix_ + "outbox:lease";
}

std::string KeySchema::OutboxEpoch() const {
  return prefix_ + "outbox:epoch";
}

std::string KeySchema::EventRecord(std::string_view event_id) const {
  std::string key = prefix_;
  key.append("event:").append(event_id);
  return key;
}

std::string KeySchema::LeadIndex(std::string_view lead_id) const {
  std::string key = prefix_;
  key.append("lead:").append(lead_id);
  return key;
}

std::string KeySchema::Person(std::string_view hmac) const {
  std::string key = prefix_;
  key.append("person:").append(hmac);
  return key;
}

std::string KeySchema::Account(std::string_view hmac) const {
  std::string key = prefix_;
  key.append("account:").append(hmac);
  return key;
}

std::string KeySchema::Claims() const {
  return prefix_ + "claims";
}

std::string KeySchema::ClaimConflicts() const {
  return prefix_ + "claim_conflicts";
}

std::string KeySchema::Undeliverable(std::string_view id) const {
  return prefix_ + "undeliverable:" + std::string(id);
}

std::string KeySchema::UndeliverableLog() const {
  return prefix_ + "undeliverable";
}

}  // namespace leadrouter::store
