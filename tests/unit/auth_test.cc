// api::Authorizer and ToGrpcStatus without a network. The gRPC metadata path (Authenticate on a
// real call, over TLS) is tests/integration/api/tls_auth_test.cc.
#include "leadrouter/api/auth.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "leadrouter/api/grpc_status.h"

namespace leadrouter::api {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kCrmSecret[] = "crm-emea-0123456789abcdef";
constexpr char kOpsSecret[] = "ops-fedcba9876543210-xyz";

config::GrpcToken Token(std::string name, std::string secret, std::vector<std::string> scopes,
                        std::vector<std::string> reps = {}, std::vector<std::string> pools = {}) {
  return {std::move(name), std::move(secret), std::move(scopes), std::move(reps), std::move(pools)};
}

std::vector<config::GrpcToken> Tokens() {
  return {Token("crm-emea", kCrmSecret, {"stream", "act"}, {"rep-ada"}, {"emea"}),
          Token("ops", kOpsSecret, {"admin"})};
}

routing::RoutingRules Rules() {
  routing::RoutingRules rules;
  routing::Pool emea;
  emea.name = "emea";
  emea.members = {{"rep-bo", 1}};
  routing::Pool amer;
  amer.name = "amer";
  amer.members = {{"rep-cy", 1}, {"rep-ada", 1}};
  rules.pools = {emea, amer};
  return rules;
}

TEST(AuthTest, ScopesHaveTheirFileNames) {
  EXPECT_EQ(ScopeName(Scope::kStream), "stream");
  EXPECT_EQ(ScopeName(Scope::kAct), "act");
  EXPECT_EQ(ScopeName(Scope::kAdmin), "admin");
}

TEST(AuthTest, WithoutTokensEveryCallerIsAnonymousAndMayDoEverything) {
  const Authorizer authorizer({});
  EXPECT_FALSE(authorizer.enabled());
  for (const std::string header : {"", "Bearer whatever-it-is-ignored", "Basic x"}) {
    auto principal = authorizer.AuthenticateHeader(header);
    ASSERT_TRUE(principal.ok()) << principal.status();
    EXPECT_EQ(principal->name, "anonymous");
    EXPECT_TRUE(principal->Unrestricted());
    for (Scope scope : {Scope::kStream, Scope::kAct, Scope::kAdmin}) {
      EXPECT_TRUE(authorizer.Require(*principal, scope).ok()) << ScopeName(scope);
    }
    EXPECT_TRUE(principal->MayActFor("rep-anyone", Rules()));
  }
}

TEST(AuthTest, ABearerTokenAuthenticatesAsItsName) {
  const Authorizer authorizer(Tokens());
  EXPECT_TRUE(authorizer.enabled());
  auto crm = authorizer.AuthenticateHeader(std::string("Bearer ") + kCrmSecret);
  ASSERT_TRUE(crm.ok()) << crm.status();
  EXPECT_EQ(crm->name, "token:crm-emea");
  EXPECT_TRUE(crm->Has(Scope::kStream));
  EXPECT_TRUE(crm->Has(Scope::kAct));
  EXPECT_FALSE(crm->Has(Scope::kAdmin));
  EXPECT_EQ(crm->reps, std::set<std::string>{"rep-ada"});
  EXPECT_EQ(crm->pools, std::set<std::string>{"emea"});

  auto ops = authorizer.AuthenticateHeader(std::string("bearer   ") + kOpsSecret + " ");
  ASSERT_TRUE(ops.ok()) << "the scheme is case-insensitive, spaces around the token are not "
                           "part of it: "
                        << ops.status();
  EXPECT_EQ(ops->name, "token:ops");
  EXPECT_EQ(ops->scopes, std::set<Scope>{Scope::kAdmin});
  EXPECT_TRUE(ops->Unrestricted());
}

TEST(AuthTest, MissingMalformedOrUnknownTokensAreUnauthenticated) {
  const Authorizer authorizer(Tokens());
  const std::string crm = kCrmSecret;
  for (const std::string& header : std::vector<std::string>{
           std::string(), "Bearer", "Bearer ", "Bearer    ", "Basic " + crm, crm, "Bearer" + crm,
           "Bearer " + crm.substr(0, crm.size() - 1), "Bearer " + crm + "x", "Bearer x" + crm,
           "Bearer wrong-token-0123456789", "Bearer " + crm + " " + crm}) {
    auto principal = authorizer.AuthenticateHeader(header);
    ASSERT_FALSE(principal.ok()) << "accepted: [" << header << "]";
    EXPECT_EQ(principal.status().code(), absl::StatusCode::kUnauthenticated) << header;
    EXPECT_THAT(std::string(principal.status().message()), HasSubstr("authorization: Bearer"))
        << "says how to authenticate";
    EXPECT_THAT(std::string(principal.status().message()), Not(HasSubstr("0123456789")))
        << "never echoes a token";
  }
}

TEST(AuthTest, RequireNamesTheMissingScope) {
  const Authorizer authorizer(Tokens());
  auto crm = authorizer.AuthenticateHeader(std::string("Bearer ") + kCrmSecret);
  ASSERT_TRUE(crm.ok()) << crm.status();
  EXPECT_TRUE(authorizer.Require(*crm, Scope::kStream).ok());
  EXPECT_TRUE(authorizer.Require(*crm, Scope::kAct).ok());
  const absl::Status admin = authorizer.Require(*crm, Scope::kAdmin);
  EXPECT_EQ(admin.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(admin.message(), "token:crm-emea lacks the \"admin\" scope (it has: stream, act)");

  auto ops = authorizer.AuthenticateHeader(std::string("Bearer ") + kOpsSecret);
  ASSERT_TRUE(ops.ok()) << ops.status();
  EXPECT_EQ(authorizer.Require(*ops, Scope::kStream).code(), absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(authorizer.Require(*ops, Scope::kAdmin).ok());
}

TEST(AuthTest, ARestrictedTokenActsOnlyForItsRepsAndThePoolsMembersOfTheCurrentRules) {
  const Authorizer authorizer(Tokens());
  auto crm = authorizer.AuthenticateHeader(std::string("Bearer ") + kCrmSecret);
  ASSERT_TRUE(crm.ok()) << crm.status();
  routing::RoutingRules rules = Rules();
  EXPECT_TRUE(crm->MayActFor("rep-ada", rules)) << "listed rep";
  EXPECT_TRUE(crm->MayActFor("rep-bo", rules)) << "member of a listed pool";
  EXPECT_FALSE(crm->MayActFor("rep-cy", rules)) << "only in a pool the token does not list";
  EXPECT_FALSE(crm->MayActFor("rep-unknown", rules));
  EXPECT_FALSE(crm->MayActFor("", rules));

  const absl::Status denied = authorizer.RequireActFor(*crm, "rep-cy", rules);
  EXPECT_EQ(denied.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(denied.message(),
            "token:crm-emea may not act for rep \"rep-cy\" (it is limited to reps rep-ada and "
            "members of pools emea)");
  EXPECT_TRUE(authorizer.RequireActFor(*crm, "rep-bo", rules).ok());

  // A hot reload moves rep-cy into emea and rep-bo out: membership follows the rules passed in.
  rules.pools[0].members = {{"rep-cy", 1}};
  EXPECT_TRUE(crm->MayActFor("rep-cy", rules));
  EXPECT_FALSE(crm->MayActFor("rep-bo", rules));
  // A pool that no longer exists grants nothing (the listed rep still counts).
  rules.pools.erase(rules.pools.begin());
  EXPECT_FALSE(crm->MayActFor("rep-cy", rules));
  EXPECT_TRUE(crm->MayActFor("rep-ada", rules));

  auto ops = authorizer.AuthenticateHeader(std::string("Bearer ") + kOpsSecret);
  ASSERT_TRUE(ops.ok());
  EXPECT_TRUE(ops->MayActFor("rep-cy", rules)) << "neither reps nor pools: every rep";
}

TEST(AuthTest, ToGrpcStatusKeepsCodeAndMessage) {
  EXPECT_TRUE(ToGrpcStatus(absl::OkStatus()).ok());
  for (int code = 1; code <= 16; ++code) {
    const grpc::Status status =
        ToGrpcStatus(absl::Status(static_cast<absl::StatusCode>(code), "reps[0]: bad"));
    EXPECT_EQ(static_cast<int>(status.error_code()), code);
    EXPECT_EQ(status.error_message(), "reps[0]: bad");
  }
  EXPECT_EQ(ToGrpcStatus(absl::PermissionDeniedError("x")).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(ToGrpcStatus(absl::UnauthenticatedError("x")).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(ToGrpcStatus(absl::Status(static_cast<absl::StatusCode>(42), "odd")).error_code(),
            grpc::StatusCode::UNKNOWN);
}

}  // namespace
}  // namespace leadrouter::api
