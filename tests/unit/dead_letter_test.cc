// BuildDeadLetter: what a dead letter carries of its input, and that it is bounded whatever the
// input (a dead letter that cannot be published would stall its partition).
#include "leadrouter/pipeline/dead_letter.h"

#include <gtest/gtest.h>

#include <random>

#include "leadrouter/core/hash.h"

namespace leadrouter::pipeline {
namespace {

kafka::ConsumedMessage Input(std::string key, std::string value,
                             std::vector<kafka::Header> headers = {}) {
  kafka::ConsumedMessage in;
  in.topic = "leads.inbound";
  in.partition = 3;
  in.offset = 42;
  in.key = std::move(key);
  in.value = std::move(value);
  in.headers = std::move(headers);
  return in;
}

size_t Size(const kafka::OutgoingMessage& message) {
  size_t size = message.key.size() + message.value.size();
  for (const auto& header : message.headers) size += header.name.size() + header.value.size();
  return size;
}

std::optional<std::string> HeaderOf(const kafka::OutgoingMessage& message, std::string_view name) {
  for (const auto& header : message.headers) {
    if (header.name == name) return header.value;
  }
  return std::nullopt;
}

TEST(DeadLetterTest, AnInputWithinTheLimitIsCarriedWhole) {
  const auto in = Input("k", R"({"event_id":"e"})", {{"content-type", "application/json"}});
  const auto out = BuildDeadLetter(in, "leads.deadletter", "missing_field", "occurred_at: required",
                                   DeadLetterLimits{});
  EXPECT_EQ(out.topic, "leads.deadletter");
  EXPECT_EQ(out.key, "k");
  EXPECT_EQ(out.value, in.value);
  ASSERT_GE(out.headers.size(), 6u);
  EXPECT_EQ(out.headers[0].name, "content-type") << "original headers first, in order";
  EXPECT_EQ(HeaderOf(out, kHeaderErrorCode), "missing_field");
  EXPECT_EQ(HeaderOf(out, kHeaderError), "occurred_at: required");
  EXPECT_EQ(HeaderOf(out, kHeaderSourceTopic), "leads.inbound");
  EXPECT_EQ(HeaderOf(out, kHeaderSourcePartition), "3");
  EXPECT_EQ(HeaderOf(out, kHeaderSourceOffset), "42");
  EXPECT_FALSE(HeaderOf(out, kHeaderTruncated).has_value());
  EXPECT_FALSE(HeaderOf(out, kHeaderOriginalSha256).has_value());
}

// Issue 16: today a keyless input's dead letter gets the key "".
TEST(DeadLetterTest, AKeylessInputKeepsANullKeyAndAnEmptyKeyStaysEmpty) {
  kafka::ConsumedMessage keyless = Input("", R"({"event_id":"e"})", {});
  keyless.null_key = true;
  const auto out = BuildDeadLetter(keyless, "leads.deadletter", "missing_field", "x", {});
  EXPECT_TRUE(out.null_key);
  EXPECT_EQ(out.key, "");
  const auto empty = BuildDeadLetter(Input("", "{}", {}), "leads.deadletter", "x", "x", {});
  EXPECT_FALSE(empty.null_key);
}

TEST(DeadLetterTest, AnOversizedInputKeepsAPrefixItsSizeAndItsHash) {
  DeadLetterLimits limits;
  limits.max_value_bytes = 1000;
  limits.oversized_prefix_bytes = 100;
  const std::string value(1001, 'v');
  const auto out =
      BuildDeadLetter(Input("k", value), "dl", "too_large", "event is 1001 bytes", limits);
  EXPECT_EQ(out.value, value.substr(0, 100));
  EXPECT_EQ(HeaderOf(out, kHeaderOriginalSize), "1001");
  EXPECT_EQ(HeaderOf(out, kHeaderOriginalSha256), core::Sha256Hex(value));
  EXPECT_EQ(HeaderOf(out, kHeaderTruncated), "value");
}

TEST(DeadLetterTest, KeyHeadersAndDetailAreBoundedToo) {
  DeadLetterLimits limits;
  limits.max_key_bytes = 10;
  limits.max_headers_bytes = 50;
  limits.max_detail_bytes = 20;
  std::vector<kafka::Header> headers;
  for (int i = 0; i < 10; ++i) headers.push_back({"h" + std::to_string(i), std::string(10, 'x')});
  const auto out = BuildDeadLetter(Input(std::string(100, 'k'), "{}", headers), "dl",
                                   "invalid_field", std::string(500, 'd'), limits);
  EXPECT_EQ(out.key, std::string(10, 'k'));
  EXPECT_EQ(HeaderOf(out, kHeaderTruncated), "key,headers");
  EXPECT_EQ(out.headers[0].name, "h0");
  EXPECT_EQ(HeaderOf(out, "h3"), std::string(10, 'x'));
  EXPECT_FALSE(HeaderOf(out, "h4").has_value()) << "4 headers of 12 bytes fit in 50";
  EXPECT_LE(HeaderOf(out, kHeaderError)->size(), 20u);
}

TEST(DeadLetterTest, TruncateUtf8NeverSplitsACharacter) {
  const std::string text = "caf\xc3\xa9 \xe2\x82\xac\xe2\x82\xac";  // "café €€"
  for (size_t max = 0; max <= text.size() + 1; ++max) {
    const std::string cut = TruncateUtf8(text, max);
    EXPECT_LE(cut.size(), std::max(max, size_t{0})) << max;
    // Every byte sequence in the result is complete: no continuation byte without its lead.
    for (size_t i = 0; i < cut.size();) {
      const auto byte = static_cast<unsigned char>(cut[i]);
      const size_t length = byte < 0x80 ? 1 : (byte >> 5) == 6 ? 2 : (byte >> 4) == 14 ? 3 : 4;
      ASSERT_NE(byte & 0xC0, 0x80) << "split at " << max;
      ASSERT_LE(i + length, cut.size()) << "cut inside a character at " << max;
      i += length;
    }
  }
  EXPECT_EQ(TruncateUtf8(text, text.size()), text);
}

// Whatever the input's size and shape, the dead letter stays within the documented bound.
TEST(DeadLetterTest, EveryDeadLetterFitsTheBound) {
  const DeadLetterLimits limits;
  const size_t bound = limits.max_value_bytes + limits.max_key_bytes + limits.max_headers_bytes +
                       limits.max_detail_bytes + 1024;
  std::mt19937 random(7);
  for (int round = 0; round < 60; ++round) {
    std::uniform_int_distribution<size_t> value_size(0, 3 * limits.max_value_bytes);
    std::uniform_int_distribution<size_t> small(0, 3 * limits.max_key_bytes);
    std::vector<kafka::Header> headers;
    const size_t header_count = small(random) % 40;
    for (size_t i = 0; i < header_count; ++i) {
      headers.push_back({std::string(small(random) % 200, 'n'), std::string(small(random), 'v')});
    }
    const auto out = BuildDeadLetter(
        Input(std::string(small(random), 'k'), std::string(value_size(random), 'x'), headers),
        "leads.deadletter", "too_large", std::string(small(random), 'd'), limits);
    EXPECT_LE(Size(out), bound) << "round " << round;
  }
}

}  // namespace
}  // namespace leadrouter::pipeline
