#include "leadrouter/core/hash.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>

namespace leadrouter::core {

namespace {

std::string HexOf(const unsigned char* digest, unsigned int len, size_t hex_digits) {
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
  return HexOf(digest, len, hex_digits);
}

std::string HmacSha256Hex(std::string_view key, std::string_view data, size_t hex_digits) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  // One-shot HMAC(): no context to leak, safe to call from any thread.
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest, &len);
  return HexOf(digest, len, hex_digits);
}

// The inner and outer hash states of RFC 2104, each after its padded key block.
struct HmacSha256Key::Prepared {
  std::string key;  // for the one-shot fallback
  EVP_MD_CTX* inner = nullptr;
  EVP_MD_CTX* outer = nullptr;
  Prepared() = default;
  Prepared(const Prepared&) = delete;
  Prepared& operator=(const Prepared&) = delete;
  ~Prepared() {
    EVP_MD_CTX_free(inner);
    EVP_MD_CTX_free(outer);
  }
};

namespace {

constexpr size_t kSha256Block = 64;

// SHA-256 fetched once: EVP_sha256() in an Init makes OpenSSL 3 look the implementation up on
// every call. Never freed (used until exit).
const EVP_MD* Sha256() {
  static const EVP_MD* const kMd = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  return kMd;
}

EVP_MD_CTX* HashStateAfter(const unsigned char* block) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  if (ctx == nullptr || EVP_DigestInit_ex(ctx, Sha256(), nullptr) != 1 ||
      EVP_DigestUpdate(ctx, block, kSha256Block) != 1) {
    EVP_MD_CTX_free(ctx);
    return nullptr;
  }
  return ctx;
}

// Continues a copy of `state` over `data`; false on any OpenSSL failure.
bool FinishFrom(const EVP_MD_CTX* state, EVP_MD_CTX* scratch, const void* data, size_t size,
                unsigned char* digest, unsigned int* len) {
  return EVP_MD_CTX_copy_ex(scratch, state) == 1 && EVP_DigestUpdate(scratch, data, size) == 1 &&
         EVP_DigestFinal_ex(scratch, digest, len) == 1;
}

struct MdCtxFree {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};

}  // namespace

HmacSha256Key::HmacSha256Key(std::string_view key) {
  auto prepared = std::make_shared<Prepared>();
  prepared->key = std::string(key);
  unsigned char block[kSha256Block] = {};
  if (key.size() > kSha256Block) {
    unsigned int len = 0;
    EVP_Digest(key.data(), key.size(), block, &len, EVP_sha256(), nullptr);
  } else {
    std::copy(key.begin(), key.end(), block);
  }
  unsigned char pad[kSha256Block];
  for (size_t i = 0; i < kSha256Block; ++i) pad[i] = block[i] ^ 0x36;
  prepared->inner = Sha256() != nullptr ? HashStateAfter(pad) : nullptr;
  for (size_t i = 0; i < kSha256Block; ++i) pad[i] = block[i] ^ 0x5c;
  prepared->outer = Sha256() != nullptr ? HashStateAfter(pad) : nullptr;
  prepared_ = std::move(prepared);
}

std::string HmacSha256Key::Hex(std::string_view data, size_t hex_digits) const {
  thread_local std::unique_ptr<EVP_MD_CTX, MdCtxFree> scratch(EVP_MD_CTX_new());
  unsigned char inner[EVP_MAX_MD_SIZE];
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int inner_len = 0;
  unsigned int len = 0;
  if (prepared_->inner == nullptr || prepared_->outer == nullptr || scratch == nullptr ||
      !FinishFrom(prepared_->inner, scratch.get(), data.data(), data.size(), inner, &inner_len) ||
      !FinishFrom(prepared_->outer, scratch.get(), inner, inner_len, digest, &len)) {
    return HmacSha256Hex(prepared_->key, data, hex_digits);  // OpenSSL failed: the slow way
  }
  return HexOf(digest, len, hex_digits);
}

}  // namespace leadrouter::core
