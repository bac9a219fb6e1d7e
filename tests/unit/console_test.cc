// The console's pure parts: how API errors become HTTP statuses and JSON bodies.
#include "leadrouter/console/console.h"

#include <gtest/gtest.h>

namespace leadrouter::console {
namespace {

TEST(ConsoleErrorsTest, StatusCodesMapToHttpStatuses) {
  EXPECT_EQ(HttpStatusOf(absl::StatusCode::kInvalidArgument), 400);
  EXPECT_EQ(HttpStatusOf(absl::StatusCode::kOutOfRange), 400);
  EXPECT_EQ(HttpStatusOf(absl::StatusCode::kUnauthenticated), 401);
  EXPECT_EQ(HttpStatusOf(absl::StatusCode::kPermissionDenied), 403);
  EXPECT_EQ(HttpStatusOf(absl::StatusCode::kNotFound), 404);
  EXPECT_EQ(HttpStatusOf(absl::StatusCode::kFailedPrecondition), 409);
  EXPECT_EQ(HttpStatusOf(absl::StatusCode::kAborted), 409);
  EXPECT_EQ(HttpStatusOf(absl::StatusCode::kResourceExhausted), 429);
  EXPECT_EQ(HttpStatusOf(absl::StatusCode::kUnavailable), 503);
  EXPECT_EQ(HttpStatusOf(absl::StatusCode::kInternal), 500);
}

TEST(ConsoleErrorsTest, TheFieldIsWhatTheMessageNamesBeforeItsColon) {
  EXPECT_EQ(FieldOfError("rep_id: required"), "rep_id");
  EXPECT_EQ(FieldOfError("rep_ids[2]: is empty"), "rep_ids[2]");
  EXPECT_EQ(FieldOfError("Content-Type: must be application/json"), "Content-Type");
  EXPECT_EQ(FieldOfError("nothing to change: set max_open_leads"), "");
  EXPECT_EQ(FieldOfError("token:admin may not see lead \"x\""), "");
  EXPECT_EQ(FieldOfError(": odd"), "");
  EXPECT_EQ(FieldOfError("no colon at all"), "");
}

TEST(ConsoleErrorsTest, ErrorBodiesAreJsonWithCodeFieldAndEscapedMessage) {
  EXPECT_EQ(ErrorJson(absl::InvalidArgumentError("note: has a \"quote\"")),
            "{\"error\":{\"code\":\"INVALID_ARGUMENT\",\"field\":\"note\",\"message\":\"note: "
            "has a \\\"quote\\\"\"}}\n");
  EXPECT_EQ(ErrorJson(absl::NotFoundError("lead not found")),
            "{\"error\":{\"code\":\"NOT_FOUND\",\"message\":\"lead not found\"}}\n");
  EXPECT_EQ(
      ErrorBody("METHOD_NOT_ALLOWED", "method: GET only"),
      "{\"error\":{\"code\":\"METHOD_NOT_ALLOWED\",\"field\":\"method\",\"message\":\"method: "
      "GET only\"}}\n");
}

}  // namespace
}  // namespace leadrouter::console
