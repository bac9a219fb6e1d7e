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

}  // namespace
}  // namespace leadrouter::core
