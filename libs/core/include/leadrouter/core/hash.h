#pragma once

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

}  // namespace leadrouter::core
