#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "leadrouter/config/config.h"
#include "leadrouter/core/clock.h"

namespace leadrouter::ingest {

// What a delivery presents to authenticate itself, copied from its request.
struct Credentials {
  std::string method;             // "POST"
  std::string url;                // the full URL the sender called (scheme, host, path, query)
  std::string_view body;          // the raw body, as received (HubSpot signs the bytes)
  std::string authorization;      // the Authorization header, or ""
  std::string custom_header;      // the value of SourceAuth::header (kind header), or ""
  std::string hubspot_signature;  // X-HubSpot-Signature-v3, or ""
  std::string hubspot_timestamp;  // X-HubSpot-Request-Timestamp (epoch ms), or ""
};

// Why a delivery was refused: a bounded metric label and the text of its 401.
struct AuthFailure {
  std::string reason;   // "missing", "malformed", "mismatch", "stale"
  std::string message;  // names the header, never a secret or a value sent
};

// Checks `credentials` against the source's `auth` (config::SourceAuth, whose secret must have
// been read: LoadOptions::for_ingest). Every comparison with a secret runs in constant time.
// kHubSpotSignature: base64(HMAC-SHA256(secret, method + url + body + timestamp)) with the
// characters HubSpot decodes in the URL decoded first (HubSpotSignedUrl), and a timestamp at most
// `max_age` old (or in the future by as much). kUnset is always refused (the source is not served
// over HTTP; the caller answers 404 before this). Pure.
std::optional<AuthFailure> Authenticate(const config::SourceAuth& auth,
                                        const Credentials& credentials, core::TimePoint now,
                                        std::chrono::seconds max_age);

// The URL as HubSpot signs it: %3A %2F %3F %40 %21 %24 %27 %28 %29 %2A %2C %3B decoded (any
// case), everything else as sent. Pure.
std::string HubSpotSignedUrl(std::string_view url);

// base64(HMAC-SHA256(secret, method + url + body + timestamp)) over HubSpotSignedUrl(url): what
// HubSpot sends in X-HubSpot-Signature-v3 (and what a test or a replay tool signs with). Pure.
std::string HubSpotSignatureV3(std::string_view secret, std::string_view method,
                               std::string_view url, std::string_view body,
                               std::string_view timestamp);

// a == b in time that depends only on their lengths. Pure.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

}  // namespace leadrouter::ingest
