#pragma once

// Strong id types for the strings that signatures mix up: an event id where a lead id belongs,
// a rep id where a pool name does. After Redpanda's named_type: a NamedType is constructed from
// its underlying value only explicitly, gives it back with value(), and compares and hashes as
// it. Zero cost; a value type, thread-compatible like its T.

#include <compare>
#include <functional>
#include <string>
#include <utility>

namespace leadrouter::core {

template <typename T, typename Tag>
class NamedType {
 public:
  using value_type = T;

  NamedType() = default;
  explicit NamedType(T value) : value_(std::move(value)) {}

  const T& value() const& { return value_; }
  T value() && { return std::move(value_); }
  bool empty() const { return value_.empty(); }

  friend auto operator<=>(const NamedType&, const NamedType&) = default;
  friend bool operator==(const NamedType&, const NamedType&) = default;

  template <typename H>
  friend H AbslHashValue(H h, const NamedType& id) {
    return H::combine(std::move(h), id.value_);
  }

 private:
  T value_{};
};

// An input event's id (LeadEvent.event_id): the idempotency key, and the key of its record.
using EventId = NamedType<std::string, struct EventIdTag>;
// A lead's id ("ld_..."), derived from the tenant and the event id that created it.
using LeadId = NamedType<std::string, struct LeadIdTag>;
// A configured rep's id (reps[].id).
using RepId = NamedType<std::string, struct RepIdTag>;
// A configured pool's name (pools[].name).
using PoolName = NamedType<std::string, struct PoolNameTag>;

}  // namespace leadrouter::core

template <typename T, typename Tag>
struct std::hash<leadrouter::core::NamedType<T, Tag>> {
  size_t operator()(const leadrouter::core::NamedType<T, Tag>& id) const {
    return std::hash<T>()(id.value());
  }
};
