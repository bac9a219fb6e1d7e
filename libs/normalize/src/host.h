#pragma once

// Private to leadrouter::normalize: host names as the e-mail and domain normalizers see them.

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace leadrouter::normalize::internal {

// A host name in canonical form: lower-case ASCII, internationalized labels as A-labels
// ("bücher.de" -> "xn--bcher-kva.de", libidn2 lookup with UTS #46 non-transitional processing and
// NFC input), at most one trailing dot removed. Then checked as a DNS host name: 2 or more labels,
// each 1-63 bytes of letters, digits and inner hyphens, 253 bytes in all, and not an IP address
// (a numeric last label: top-level domains are never numeric). Underscores are not accepted.
// InvalidArgument saying which rule failed, without echoing the input. Thread-safe.
absl::StatusOr<std::string> CanonicalHost(std::string_view host);

}  // namespace leadrouter::normalize::internal
