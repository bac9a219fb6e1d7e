#pragma once

#include <array>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "leadrouter/config/config.h"
#include "leadrouter/routing/rules.h"

namespace grpc {
class ServerContextBase;
}  // namespace grpc

namespace leadrouter::api {

// What a bearer token lets its caller do (`scopes` in grpc.auth.tokens_file).
enum class Scope {
  kStream,  // StreamAssignments, ExplainLead, ListClaims
  kAct,     // AcceptLead, ReturnLead, ConvertLead, ClaimAccounts, ExplainLead, ListClaims
  kAdmin,   // every AdminService RPC
};

// "stream", "act", "admin": the names used in the tokens file and in error messages.
std::string_view ScopeName(Scope scope);

// Who is calling, as established by Authorizer::Authenticate. A value type.
struct Principal {
  // "token:<name>", or "anonymous" when auth is off; the actor recorded on what the call does.
  std::string name;
  std::set<Scope> scopes;
  // The reps the caller may stream and act for: these reps, or members of these pools (pool
  // membership as of the rules passed to MayActFor). Both empty: every rep.
  std::set<std::string> reps;
  std::set<std::string> pools;

  bool Has(Scope scope) const { return scopes.count(scope) > 0; }
  // True when the caller may act for (and see the leads of) `rep_id`: unrestricted, the rep is
  // listed, or it is a member of a listed pool in `rules` (pass the live config's rules: pools
  // change on hot reload). A pool missing from `rules` grants nothing.
  bool MayActFor(std::string_view rep_id, const routing::RoutingRules& rules) const;
  // True when neither reps nor pools restrict the caller.
  bool Unrestricted() const { return reps.empty() && pools.empty(); }
};

// Checks the bearer token of a gRPC call against the tokens of grpc.auth.tokens_file and says
// what the caller may do. Tokens are kept only as SHA-256 digests and compared in constant
// time. Immutable once built, so thread-safe: one instance serves every call.
//
// With no tokens, auth is off: every call authenticates as "anonymous" with every scope and no
// rep restriction (dev and tests on loopback; config refuses that on other interfaces unless
// grpc.allow_insecure is set).
//
// Typical use in a handler:
//   auto principal = authorizer.Authorize(*context, Scope::kAct);
//   if (!principal.ok()) return ToGrpcStatus(principal.status());
//   if (auto s = authorizer.RequireActFor(*principal, request->rep_id(), rules); !s.ok()) ...
class Authorizer {
 public:
  // `tokens` as validated by config::ParseConfig (unique names and secrets, known scopes).
  // Empty: auth off.
  explicit Authorizer(const std::vector<config::GrpcToken>& tokens);

  bool enabled() const { return !tokens_.empty(); }

  // Reads the call's `authorization: Bearer <token>` metadata. UNAUTHENTICATED when it is
  // missing, repeated, not a Bearer credential, or no token matches. When auth is off, the
  // anonymous principal (the metadata is ignored).
  absl::StatusOr<Principal> Authenticate(const grpc::ServerContextBase& context) const;

  // The same for one `authorization` metadata value ("" = absent): the part of Authenticate
  // that needs no gRPC call, for tests and other transports.
  absl::StatusOr<Principal> AuthenticateHeader(std::string_view authorization) const;

  // PERMISSION_DENIED naming the missing scope (and the caller), OK when it has it.
  absl::Status Require(const Principal& principal, Scope scope) const;

  // Authenticate, then Require(scope).
  absl::StatusOr<Principal> Authorize(const grpc::ServerContextBase& context, Scope scope) const;

  // PERMISSION_DENIED naming the rep when !principal.MayActFor(rep_id, rules).
  absl::Status RequireActFor(const Principal& principal, std::string_view rep_id,
                             const routing::RoutingRules& rules) const;

 private:
  struct Entry {
    std::array<uint8_t, 32> digest;  // SHA-256 of the token
    Principal principal;
  };
  std::vector<Entry> tokens_;
};

}  // namespace leadrouter::api
