#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace leadrouter::kafka {

// One Kafka record header. Kafka allows repeated names, so headers are a list, not a map.
// A header with a null value is represented by an empty `value`.
// Every field has a default initializer so designated initializers may omit fields without
// tripping -Wmissing-field-initializers (GCC 12 warns otherwise); the same holds for the structs
// below and the option structs.
struct Header {
  std::string name{};
  std::string value{};

  friend bool operator==(const Header&, const Header&) = default;
};

// A record read from Kafka, copied out of librdkafka's buffers so it outlives the poll that
// returned it. A plain value type: thread-compatible.
struct ConsumedMessage {
  std::string topic{};
  int32_t partition = 0;
  int64_t offset = 0;
  std::string key{};
  std::string value{};
  std::vector<Header> headers{};
  int64_t timestamp_ms = 0;  // broker/producer timestamp, 0 if none
  // The record had no key at all (Kafka's null key), not an empty one; `key` is then "".
  bool null_key = false;

  // The value of the first header called `name`, or nullopt if there is none.
  std::optional<std::string> HeaderValue(std::string_view name) const;

  friend bool operator==(const ConsumedMessage&, const ConsumedMessage&) = default;
};

// A record to publish. A plain value type: thread-compatible.
struct OutgoingMessage {
  std::string topic{};
  std::string key{};
  std::string value{};
  std::vector<Header> headers{};
  // Last, so positional initializers {topic, key, value, headers} keep their meaning.
  // Publish without a key (Kafka's null key, partitioned by the producer's partitioner) rather
  // than with `key`, which must then be "": a dead letter of a keyless input stays keyless.
  bool null_key = false;

  friend bool operator==(const OutgoingMessage&, const OutgoingMessage&) = default;
};

}  // namespace leadrouter::kafka
