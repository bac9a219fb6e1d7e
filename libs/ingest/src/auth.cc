#include "leadrouter/ingest/auth.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cstdint>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace leadrouter::ingest {
namespace {

// The characters HubSpot's v3 signature decodes in the request URI before signing.
constexpr std::pair<std::string_view, char> kDecoded[] = {
    {"3A", ':'},  {"2F", '/'}, {"3F", '?'}, {"40", '@'}, {"21", '!'}, {"24", '$'},
    {"27", '\''}, {"28", '('}, {"29", ')'}, {"2A", '*'}, {"2C", ','}, {"3B", ';'},
};

AuthFailure Missing(std::string_view header) {
  return {"missing", absl::StrCat("missing ", std::string(header), " header")};
}

AuthFailure Mismatch(std::string_view what) {
  return {"mismatch", absl::StrCat(std::string(what), " does not match")};
}

// "Bearer <token>" / "Basic <base64>": the credentials after a case-insensitive scheme.
std::optional<std::string_view> AfterScheme(std::string_view header, std::string_view scheme) {
  if (header.size() <= scheme.size() ||
      !absl::EqualsIgnoreCase(absl::string_view(header.data(), scheme.size()),
                              absl::string_view(scheme.data(), scheme.size())) ||
      header[scheme.size()] != ' ') {
    return std::nullopt;
  }
  std::string_view rest = header.substr(scheme.size() + 1);
  while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
  while (!rest.empty() && rest.back() == ' ') rest.remove_suffix(1);
  return rest;
}

}  // namespace

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string HubSpotSignedUrl(std::string_view url) {
  std::string out;
  out.reserve(url.size());
  for (size_t i = 0; i < url.size(); ++i) {
    if (url[i] == '%' && i + 2 < url.size()) {
      const std::string hex = absl::AsciiStrToUpper(absl::string_view(url.data() + i + 1, 2));
      bool decoded = false;
      for (const auto& [code, c] : kDecoded) {
        if (hex == code) {
          out.push_back(c);
          decoded = true;
          break;
        }
      }
      if (decoded) {
        i += 2;
        continue;
      }
    }
    out.push_back(url[i]);
  }
  return out;
}

std::string HubSpotSignatureV3(std::string_view secret, std::string_view method,
                               std::string_view url, std::string_view body,
                               std::string_view timestamp) {
  const std::string source = absl::StrCat(std::string(method), HubSpotSignedUrl(url),
                                          std::string(body), std::string(timestamp));
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(source.data()), source.size(), digest, &length);
  return absl::Base64Escape(
      absl::string_view(reinterpret_cast<const char*>(digest), static_cast<size_t>(length)));
}

std::optional<AuthFailure> Authenticate(const config::SourceAuth& auth,
                                        const Credentials& credentials, core::TimePoint now,
                                        std::chrono::seconds max_age) {
  using Kind = config::SourceAuth::Kind;
  switch (auth.kind) {
    case Kind::kUnset:
      return AuthFailure{"missing", "this source does not accept HTTP deliveries"};
    case Kind::kNone:
      return std::nullopt;
    case Kind::kBearer: {
      if (credentials.authorization.empty()) return Missing("Authorization");
      const auto token = AfterScheme(credentials.authorization, "Bearer");
      if (!token) return AuthFailure{"malformed", "Authorization is not \"Bearer <token>\""};
      if (!ConstantTimeEquals(*token, auth.secret)) return Mismatch("the bearer token");
      return std::nullopt;
    }
    case Kind::kBasic: {
      if (credentials.authorization.empty()) return Missing("Authorization");
      const auto encoded = AfterScheme(credentials.authorization, "Basic");
      std::string decoded;
      if (!encoded ||
          !absl::Base64Unescape(absl::string_view(encoded->data(), encoded->size()), &decoded)) {
        return AuthFailure{"malformed", "Authorization is not \"Basic <base64>\""};
      }
      const std::string expected = auth.username + ":" + auth.secret;
      if (!ConstantTimeEquals(decoded, expected)) return Mismatch("the user name or password");
      return std::nullopt;
    }
    case Kind::kHeader: {
      if (credentials.custom_header.empty()) return Missing(auth.header);
      if (!ConstantTimeEquals(credentials.custom_header, auth.secret)) {
        return Mismatch(absl::StrCat("the ", auth.header, " token"));
      }
      return std::nullopt;
    }
    case Kind::kHubSpotSignature: {
      if (credentials.hubspot_signature.empty()) return Missing("X-HubSpot-Signature-v3");
      if (credentials.hubspot_timestamp.empty()) return Missing("X-HubSpot-Request-Timestamp");
      int64_t sent_ms = 0;
      if (!absl::SimpleAtoi(credentials.hubspot_timestamp, &sent_ms)) {
        return AuthFailure{"malformed", "X-HubSpot-Request-Timestamp is not epoch milliseconds"};
      }
      const int64_t now_ms =
          std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
      const int64_t max_age_ms = std::chrono::milliseconds(max_age).count();
      if (now_ms - sent_ms > max_age_ms || sent_ms - now_ms > max_age_ms) {
        return AuthFailure{"stale", absl::StrCat("X-HubSpot-Request-Timestamp is more than ",
                                                 max_age.count(), " s from now")};
      }
      const std::string expected =
          HubSpotSignatureV3(auth.secret, credentials.method, credentials.url, credentials.body,
                             credentials.hubspot_timestamp);
      if (!ConstantTimeEquals(credentials.hubspot_signature, expected)) {
        return Mismatch("X-HubSpot-Signature-v3");
      }
      return std::nullopt;
    }
  }
  return AuthFailure{"missing", "unknown authentication kind"};
}

}  // namespace leadrouter::ingest
