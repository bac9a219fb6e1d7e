#include "leadrouter/api/auth.h"

#include <grpcpp/server_context.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <cctype>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "leadrouter/api/error_text.h"

namespace leadrouter::api {
namespace {

constexpr std::string_view kAuthorizationKey = "authorization";  // gRPC lower-cases keys

std::array<uint8_t, 32> Sha256(std::string_view data) {
  std::array<uint8_t, 32> digest{};
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), digest.data(), &len, EVP_sha256(), nullptr);
  return digest;
}

std::string ScopeList(const std::set<Scope>& scopes) {
  std::vector<std::string> names;
  for (Scope scope : scopes) names.emplace_back(ScopeName(scope));
  return names.empty() ? "none" : absl::StrJoin(names, ", ");
}

Principal Anonymous() {
  return Principal{"anonymous", {Scope::kStream, Scope::kAct, Scope::kAdmin}, {}, {}};
}

// (absl::string_view is not std::string_view in Debian's Abseil: strings cross as std::string.)
absl::Status Unauthenticated(const std::string& why) {
  return absl::UnauthenticatedError(
      absl::StrCat(why,
                   ": send metadata \"authorization: Bearer <token>\" with a token from "
                   "grpc.auth.tokens_file"));
}

}  // namespace

std::string_view ScopeName(Scope scope) {
  switch (scope) {
    case Scope::kStream:
      return "stream";
    case Scope::kAct:
      return "act";
    case Scope::kAdmin:
      return "admin";
  }
  return "unknown";
}

bool Principal::MayActFor(std::string_view rep_id, const routing::RoutingRules& rules) const {
  if (Unrestricted()) return true;
  if (reps.count(std::string(rep_id)) > 0) return true;
  for (const routing::Pool& pool : rules.pools) {
    if (pools.count(pool.name) == 0) continue;
    for (const routing::PoolMember& member : pool.members) {
      if (member.rep_id == rep_id) return true;
    }
  }
  return false;
}

Authorizer::Authorizer(const std::vector<config::GrpcToken>& tokens) {
  tokens_.reserve(tokens.size());
  for (const config::GrpcToken& token : tokens) {
    Entry entry;
    entry.digest = Sha256(token.token);
    entry.principal.name = "token:" + token.name;
    for (const std::string& scope : token.scopes) {
      if (scope == "stream") entry.principal.scopes.insert(Scope::kStream);
      if (scope == "act") entry.principal.scopes.insert(Scope::kAct);
      if (scope == "admin") entry.principal.scopes.insert(Scope::kAdmin);
    }
    entry.principal.reps.insert(token.reps.begin(), token.reps.end());
    entry.principal.pools.insert(token.pools.begin(), token.pools.end());
    tokens_.push_back(std::move(entry));
  }
}

absl::StatusOr<Principal> Authorizer::Authenticate(const grpc::ServerContextBase& context) const {
  if (!enabled()) return Anonymous();
  const auto& metadata = context.client_metadata();
  const auto [first, last] =
      metadata.equal_range(grpc::string_ref(kAuthorizationKey.data(), kAuthorizationKey.size()));
  if (first == last) return AuthenticateHeader("");
  if (std::next(first) != last) return Unauthenticated("more than one authorization entry");
  return AuthenticateHeader(std::string_view(first->second.data(), first->second.size()));
}

absl::StatusOr<Principal> Authorizer::AuthenticateHeader(std::string_view authorization) const {
  if (!enabled()) return Anonymous();
  if (authorization.empty()) return Unauthenticated("no credentials");
  // RFC 6750: "Bearer" (case-insensitive), one or more spaces, the token.
  constexpr std::string_view kScheme = "bearer ";
  bool bearer = authorization.size() > kScheme.size();
  for (size_t i = 0; bearer && i < kScheme.size(); ++i) {
    bearer = std::tolower(static_cast<unsigned char>(authorization[i])) == kScheme[i];
  }
  if (!bearer) return Unauthenticated("the authorization entry is not a Bearer credential");
  std::string_view token = authorization.substr(kScheme.size());
  while (!token.empty() && (token.front() == ' ' || token.front() == '\t')) token.remove_prefix(1);
  while (!token.empty() && (token.back() == ' ' || token.back() == '\t')) token.remove_suffix(1);
  if (token.empty()) return Unauthenticated("empty bearer token");

  // Compare digests (fixed length, whatever the token's) with every entry, without stopping at
  // the first match, so the time taken says nothing about how much of a token was right.
  const std::array<uint8_t, 32> digest = Sha256(token);
  const Entry* found = nullptr;
  for (const Entry& entry : tokens_) {
    const bool match = CRYPTO_memcmp(entry.digest.data(), digest.data(), digest.size()) == 0;
    if (match && found == nullptr) found = &entry;
  }
  if (found == nullptr) return Unauthenticated("unknown bearer token");
  return found->principal;
}

absl::Status Authorizer::Require(const Principal& principal, Scope scope) const {
  if (principal.Has(scope)) return absl::OkStatus();
  return absl::PermissionDeniedError(
      absl::StrCat(principal.name, " lacks the \"", std::string(ScopeName(scope)),
                   "\" scope (it has: ", ScopeList(principal.scopes), ")"));
}

absl::StatusOr<Principal> Authorizer::Authorize(const grpc::ServerContextBase& context,
                                                Scope scope) const {
  absl::StatusOr<Principal> principal = Authenticate(context);
  if (!principal.ok()) return principal;
  if (absl::Status allowed = Require(*principal, scope); !allowed.ok()) return allowed;
  return principal;
}

absl::Status Authorizer::RequireActFor(const Principal& principal, std::string_view rep_id,
                                       const routing::RoutingRules& rules) const {
  if (principal.MayActFor(rep_id, rules)) return absl::OkStatus();
  std::vector<std::string> limits;
  if (!principal.reps.empty()) limits.push_back("reps " + absl::StrJoin(principal.reps, ", "));
  if (!principal.pools.empty()) {
    limits.push_back("members of pools " + absl::StrJoin(principal.pools, ", "));
  }
  return absl::PermissionDeniedError(absl::StrCat(principal.name, " may not act for rep ",
                                                  QuoteForError(rep_id), " (it is limited to ",
                                                  absl::StrJoin(limits, " and "), ")"));
}

}  // namespace leadrouter::api
