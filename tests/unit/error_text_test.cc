#include "leadrouter/api/error_text.h"

#include <gtest/gtest.h>

#include <string>

#include "absl/status/status.h"
#include "leadrouter/api/grpc_status.h"

namespace leadrouter::api {
namespace {

TEST(QuoteForErrorTest, ShortValuesAreQuotedWhole) {
  EXPECT_EQ(QuoteForError("rep-ada"), "\"rep-ada\"");
  EXPECT_EQ(QuoteForError(""), "\"\"");
  EXPECT_EQ(QuoteForError("caf\xC3\xA9"), "\"caf\xC3\xA9\"") << "UTF-8 is kept";
}

TEST(QuoteForErrorTest, QuotesBackslashesAndControlBytesAreEscaped) {
  EXPECT_EQ(QuoteForError("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(QuoteForError(std::string("a\nb\0c\x7F", 6)), "\"a\\x0Ab\\x00c\\x7F\"");
  // Invalid UTF-8: a lone continuation byte, a truncated sequence, an overlong '/', a surrogate.
  EXPECT_EQ(QuoteForError("\x80x\xC3"), "\"\\x80x\\xC3\"");
  EXPECT_EQ(QuoteForError("\xC0\xAF"), "\"\\xC0\\xAF\"");
  EXPECT_EQ(QuoteForError("\xED\xA0\x80"), "\"\\xED\\xA0\\x80\"");
}

TEST(QuoteForErrorTest, LongValuesAreCutWithTheirSize) {
  const std::string huge(100 * 1024, 'x');
  EXPECT_EQ(QuoteForError(huge), "\"" + std::string(64, 'x') + "…\" (102400 bytes)");
  EXPECT_EQ(QuoteForError(huge, 3), "\"xxx…\" (102400 bytes)");
  // Never inside a character: 63 bytes and then a 2-byte é would be 65 bytes.
  const std::string accents = std::string(63, 'a') + "\xC3\xA9" + "zz";
  EXPECT_EQ(QuoteForError(accents), "\"" + std::string(63, 'a') + "…\" (67 bytes)");
  // Exactly max bytes is shown whole.
  EXPECT_EQ(QuoteForError(std::string(64, 'y')), "\"" + std::string(64, 'y') + "\"");
}

TEST(BoundErrorMessageTest, LongMessagesAreCutWithinTheBound) {
  EXPECT_EQ(BoundErrorMessage("lead x is unknown"), "lead x is unknown");
  const std::string message = "lead " + std::string(100000, 'z') + " is unknown";
  const std::string bounded = BoundErrorMessage(message);
  EXPECT_LE(bounded.size(), kMaxErrorMessageBytes);
  EXPECT_EQ(bounded.rfind("lead zzz", 0), 0u);
  EXPECT_NE(bounded.find("… (100016 bytes)"), std::string::npos) << bounded;
  // Cut at a character boundary.
  std::string accents;
  for (int i = 0; i < 200; ++i) accents += "\xC3\xA9";
  const std::string cut = BoundErrorMessage(accents, 50);
  EXPECT_LE(cut.size(), 50u);
  EXPECT_EQ(cut.find("\xC3\xA9\xE2\x80\xA6"), cut.find("…") - 2) << "the last é is whole";
}

TEST(BoundErrorMessageTest, EveryStatusSentIsBounded) {
  const grpc::Status status =
      ToGrpcStatus(absl::NotFoundError("lead " + std::string(100000, 'q') + " is unknown"));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_LE(status.error_message().size(), kMaxErrorMessageBytes);
}

}  // namespace
}  // namespace leadrouter::api
