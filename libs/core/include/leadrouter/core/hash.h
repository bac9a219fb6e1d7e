#pragma once

#include <memory>
#include <string>
#include <string_view>

namespace leadrouter::core {

// Lower-case hex SHA-256 of `data`, truncated to `hex_digits` (at most 64). Thread-safe.
// Used for stable ids derived from input (same input, same id, on every instance).
std::string Sha256Hex(std::string_view data, size_t hex_digits = 64);

// Lower-case hex HMAC-SHA256 of `data` under `key`, truncated to `hex_digits` (at most 64).
// Thread-safe. Used where a stable key must not reveal its input (dedupe keys of e-mail
// addresses and phone numbers): without the key, nobody can confirm a guessed address.
std::string HmacSha256Hex(std::string_view key, std::string_view data, size_t hex_digits = 64);

// The same HMAC with its key prepared once (the hash states after the padded key blocks), for
// keying many short messages: each then costs two SHA-256 runs over the message and its inner
// digest. A one-shot HMAC() looks the algorithm up and absorbs the key on every call, which was
// most of its cost for a dedupe key (~5% of a draining daemon's CPU).
// Thread-safe: Hex() is const and shares nothing mutable. Copies share the prepared state.
class HmacSha256Key {
 public:
  explicit HmacSha256Key(std::string_view key);
  // Exactly HmacSha256Hex(key, data, hex_digits).
  std::string Hex(std::string_view data, size_t hex_digits = 64) const;

 private:
  struct Prepared;
  std::shared_ptr<const Prepared> prepared_;
};

}  // namespace leadrouter::core
