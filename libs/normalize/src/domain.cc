#include <libpsl.h>

#include <memory>
#include <string>

#include "host.h"
#include "leadrouter/normalize/normalize.h"
#include "text.h"

namespace leadrouter::normalize {
namespace {

// Owns a Public Suffix List context from psl_latest()/psl_load_file().
struct PslFree {
  void operator()(psl_ctx_t* ctx) const { psl_free(ctx); }
};
using PslContext = std::unique_ptr<psl_ctx_t, PslFree>;

// The process-wide list, loaded on first use (C++ guarantees one thread initializes a
// function-local static; the others wait). psl_latest(nullptr) takes the newer of the data
// compiled into libpsl and the distribution's file (/usr/share/publicsuffix, package
// publicsuffix); psl_builtin() is the fallback when no file can be read. The context is
// read-only after loading, and libpsl's lookups are safe to call from any thread. It is never
// freed: threads still running during static destruction may call RegistrableDomain.
const psl_ctx_t* Psl() {
  static const psl_ctx_t* const kPsl = [] {
    PslContext latest(psl_latest(nullptr));
    if (latest != nullptr) return static_cast<const psl_ctx_t*>(latest.release());
    return psl_builtin();  // static data owned by libpsl; nullptr when built without it
  }();
  return kPsl;
}

bool IsSchemeChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '+' ||
         c == '-' || c == '.';
}

// The length of a leading "scheme://" (RFC 3986: a letter, then letters, digits, "+-."), or of
// a leading "//"; 0 when there is neither. "://" later in the text (in a query) is no scheme.
size_t SchemePrefixLength(std::string_view s) {
  if (s.substr(0, 2) == "//") return 2;
  const size_t sep = s.find("://");
  if (sep == std::string_view::npos || sep == 0) return 0;
  const char first = static_cast<char>(s.front() | 0x20);  // ASCII lower case
  if (first < 'a' || first > 'z') return 0;
  for (const char c : s.substr(0, sep)) {
    if (!IsSchemeChar(c)) return 0;
  }
  return sep + 3;
}

// The host part of a URL, a host with port, "user@host", or a bare host: scheme ("https://"),
// user info, port, path, query and fragment removed. "" when it cannot hold a host name (an IPv6
// literal, more than one ':').
std::string_view HostPart(std::string_view s) {
  s.remove_prefix(SchemePrefixLength(s));
  s = s.substr(0, s.find_first_of("/?#"));
  if (const size_t at = s.rfind('@'); at != std::string_view::npos) s.remove_prefix(at + 1);
  if (!s.empty() && s.front() == '[') return "";  // "[2001:db8::1]": an IPv6 literal
  if (const size_t colon = s.find(':'); colon != std::string_view::npos) {
    if (s.find(':', colon + 1) != std::string_view::npos) return "";  // bare IPv6
    s = s.substr(0, colon);
  }
  return s;
}

}  // namespace

std::string uncached::RegistrableDomain(std::string_view host_or_url) {
  const std::string_view host = HostPart(internal::TrimSpace(host_or_url));
  if (host.empty()) return "";
  const absl::StatusOr<std::string> canonical = internal::CanonicalHost(host);
  if (!canonical.ok()) return "";
  const psl_ctx_t* psl = Psl();
  if (psl == nullptr) return "";
  // psl_registrable_domain applies the whole list, private section included, so
  // "foo.github.io" stays "foo.github.io" (one site per customer) instead of collapsing every
  // GitHub Pages site into "github.io", which is itself a suffix (""). Unknown top-level domains
  // fall under the list's implicit "*" rule: "acme.internal" -> "acme.internal".
  const char* registrable = psl_registrable_domain(psl, canonical->c_str());
  return registrable == nullptr ? "" : std::string(registrable);
}

}  // namespace leadrouter::normalize
