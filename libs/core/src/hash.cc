#include "leadrouter/core/hash.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>

namespace leadrouter::core {

namespace {

std::string Hex(const unsigned char* digest, unsigned int len, size_t hex_digits) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(static_cast<size_t>(len) * 2);
  for (unsigned int i = 0; i < len; ++i) {
    out.push_back(kHex[digest[i] >> 4]);
    out.push_back(kHex[digest[i] & 0xF]);
  }
  out.resize(std::min(hex_digits, out.size()));
  return out;
}

}  // namespace

std::string Sha256Hex(std::string_view data, size_t hex_digits) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), digest, &len, EVP_sha256(), nullptr);
  return Hex(digest, len, hex_digits);
}

std::string HmacSha256Hex(std::string_view key, std::string_view data, size_t hex_digits) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  // One-shot HMAC(): no context to leak, safe to call from any thread.
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest, &len);
  return Hex(digest, len, hex_digits);
}

}  // namespace leadrouter::core
