#include <gtest/gtest.h>

#include "leadrouter/core/backoff.h"
#include "leadrouter/core/clock.h"
#include "leadrouter/core/hash.h"

namespace leadrouter::core {
namespace {

TEST(FakeClockTest, MovesOnlyWhenTold) {
  FakeClock clock(TimePoint(std::chrono::seconds(100)));
  EXPECT_EQ(clock.Now(), TimePoint(std::chrono::seconds(100)));
  clock.Advance(std::chrono::milliseconds(1500));
  EXPECT_EQ(clock.Now(), TimePoint(std::chrono::milliseconds(101500)));
  clock.Set(TimePoint(std::chrono::seconds(5)));
  EXPECT_EQ(clock.Now(), TimePoint(std::chrono::seconds(5)));
}

TEST(BackoffTest, GrowsToTheCapAndResets) {
  Backoff backoff(std::chrono::milliseconds(100), std::chrono::milliseconds(2000), 7);
  int64_t previous_ceiling = 0;
  for (int i = 0; i < 12; ++i) {
    const int64_t ceiling = std::min<int64_t>(2000, 100LL << i);
    const auto d = backoff.Next().count();
    EXPECT_GE(d, ceiling / 2) << "attempt " << i;
    EXPECT_LE(d, ceiling) << "attempt " << i;
    EXPECT_GE(ceiling, previous_ceiling);
    previous_ceiling = ceiling;
  }
  EXPECT_EQ(backoff.attempts(), 12);
  backoff.Reset();
  EXPECT_LE(backoff.Next().count(), 100);
}

TEST(HashTest, Sha256KnownVector) {
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Sha256Hex("abc", 8), "ba7816bf");
}

TEST(HashTest, HmacSha256Rfc4231Vector) {
  // RFC 4231 test case 2.
  EXPECT_EQ(HmacSha256Hex("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  EXPECT_EQ(HmacSha256Hex("Jefe", "what do ya want for nothing?", 32),
            "5bdcc146bf60754e6a042426089575c7");
  EXPECT_NE(HmacSha256Hex("other key", "what do ya want for nothing?"),
            HmacSha256Hex("Jefe", "what do ya want for nothing?"));
}

}  // namespace
}  // namespace leadrouter::core
