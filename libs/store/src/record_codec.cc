#include "leadrouter/store/record_codec.h"

#include <openssl/evp.h>
#include <zstd.h>

#include <cstdint>
#include <memory>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace leadrouter::store {

// Generated at configure time from libs/store/data/outcome-v1.zdict (see CMakeLists.txt).
extern const unsigned char kOutcomeDictV1[];
extern const size_t kOutcomeDictV1Size;

namespace {

constexpr unsigned kOutcomeDictV1Id = 1;
// Level 3 (zstd's default): with the dictionary, higher levels saved ~2% for twice the CPU.
constexpr int kLevel = 3;
constexpr unsigned char kZstdMagic[] = {0x28, 0xB5, 0x2F, 0xFD};
// An outcome is a few KB; anything claiming more is not one of ours.
constexpr unsigned long long kMaxDecodedBytes = 16ull << 20;

struct CCtxFree {
  void operator()(ZSTD_CCtx* c) const { ZSTD_freeCCtx(c); }
};
struct DCtxFree {
  void operator()(ZSTD_DCtx* c) const { ZSTD_freeDCtx(c); }
};

// Built once, shared read-only by every thread; never freed (used until exit).
const ZSTD_CDict* CompressionDict() {
  static const ZSTD_CDict* const kDict =
      ZSTD_createCDict(kOutcomeDictV1, kOutcomeDictV1Size, kLevel);
  return kDict;
}

const ZSTD_DDict* DecompressionDict() {
  static const ZSTD_DDict* const kDict = ZSTD_createDDict(kOutcomeDictV1, kOutcomeDictV1Size);
  return kDict;
}

bool IsZstdFrame(std::string_view bytes) {
  return bytes.size() >= sizeof(kZstdMagic) &&
         std::string_view(reinterpret_cast<const char*>(kZstdMagic), sizeof(kZstdMagic)) ==
             bytes.substr(0, sizeof(kZstdMagic));
}

}  // namespace

std::string EncodeRecord(std::string_view serialized_outcome) {
  thread_local std::unique_ptr<ZSTD_CCtx, CCtxFree> context(ZSTD_createCCtx());
  const ZSTD_CDict* dict = CompressionDict();
  // Without a context or the dictionary (out of memory at start), the record is stored as it is,
  // which DecodeRecord reads too.
  if (context == nullptr || dict == nullptr) return std::string(serialized_outcome);
  std::string out(ZSTD_compressBound(serialized_outcome.size()), '\0');
  const size_t size =
      ZSTD_compress_usingCDict(context.get(), out.data(), out.size(), serialized_outcome.data(),
                               serialized_outcome.size(), dict);
  if (ZSTD_isError(size)) return std::string(serialized_outcome);
  out.resize(size);
  return out;
}

absl::StatusOr<std::string> DecodeRecord(std::string_view stored) {
  if (!IsZstdFrame(stored)) return std::string(stored);  // written before compression
  const unsigned dict_id = ZSTD_getDictID_fromFrame(stored.data(), stored.size());
  if (dict_id != kOutcomeDictV1Id) {
    return absl::DataLossError(
        absl::StrCat("stored record names zstd dictionary ", dict_id, "; this build has 1"));
  }
  const unsigned long long decoded_size = ZSTD_getFrameContentSize(stored.data(), stored.size());
  if (decoded_size == ZSTD_CONTENTSIZE_ERROR || decoded_size == ZSTD_CONTENTSIZE_UNKNOWN ||
      decoded_size > kMaxDecodedBytes) {
    return absl::DataLossError("stored record is not a complete zstd frame");
  }
  thread_local std::unique_ptr<ZSTD_DCtx, DCtxFree> context(ZSTD_createDCtx());
  const ZSTD_DDict* dict = DecompressionDict();
  if (context == nullptr || dict == nullptr) {
    return absl::ResourceExhaustedError("no memory for the zstd decoder");
  }
  std::string out(static_cast<size_t>(decoded_size), '\0');
  const size_t size = ZSTD_decompress_usingDDict(context.get(), out.data(), out.size(),
                                                 stored.data(), stored.size(), dict);
  if (ZSTD_isError(size) || size != out.size()) {
    return absl::DataLossError(
        absl::StrCat("stored record does not decode: ",
                     ZSTD_isError(size) ? ZSTD_getErrorName(size) : "short frame"));
  }
  return out;
}

std::optional<std::string_view> AssignmentOfOutcome(std::string_view outcome) {
  // Every field of an EventOutcome is a message (wire type 2): tag, length, bytes.
  auto varint = [&outcome](size_t& at) -> std::optional<uint64_t> {
    uint64_t value = 0;
    for (int shift = 0; at < outcome.size() && shift < 64; shift += 7) {
      const auto byte = static_cast<unsigned char>(outcome[at++]);
      value |= static_cast<uint64_t>(byte & 0x7F) << shift;
      if ((byte & 0x80) == 0) return value;
    }
    return std::nullopt;
  };
  std::optional<std::string_view> assignment;
  for (size_t at = 0; at < outcome.size();) {
    const std::optional<uint64_t> tag = varint(at);
    if (!tag || (*tag & 7) != 2) return std::nullopt;
    const std::optional<uint64_t> length = varint(at);
    if (!length || *length > outcome.size() - at) return std::nullopt;
    if (*tag >> 3 == 1) {
      if (assignment) return std::nullopt;  // never written twice by a serializer
      assignment = outcome.substr(at, *length);
    }
    at += *length;
  }
  return assignment;
}

std::string RecordStamp(std::string_view stored) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  EVP_Digest(stored.data(), stored.size(), digest, &size, EVP_sha1(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex(2 * size, '0');
  for (unsigned int i = 0; i < size; ++i) {
    hex[2 * i] = kHex[digest[i] >> 4];
    hex[2 * i + 1] = kHex[digest[i] & 0xF];
  }
  return hex;
}

}  // namespace leadrouter::store
