#include <gtest/gtest.h>

#include <random>
#include <type_traits>
#include <unordered_set>

#include "leadrouter/core/backoff.h"
#include "leadrouter/core/clock.h"
#include "leadrouter/core/hash.h"
#include "leadrouter/core/ids.h"

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

TEST(HashTest, PreparedHmacKeyMatchesTheOneShotHmac) {
  // RFC 4231 test cases 2 and 6 (a 131-byte key, longer than SHA-256's block, is hashed first).
  EXPECT_EQ(HmacSha256Key("Jefe").Hex("what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  EXPECT_EQ(HmacSha256Key(std::string(131, '\xaa'))
                .Hex("Test Using Larger Than Block-Size Key - Hash Key First"),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
  std::mt19937 rng(11);
  auto random_text = [&](size_t max) {
    std::string s(rng() % (max + 1), '\0');
    for (char& c : s) c = static_cast<char>(rng());
    return s;
  };
  for (int i = 0; i < 300; ++i) {
    const std::string key = random_text(150);  // around the 64-byte block, empty included
    const HmacSha256Key prepared(key);
    const HmacSha256Key copy = prepared;
    for (int j = 0; j < 5; ++j) {
      const std::string data = random_text(300);
      const size_t digits = 1 + rng() % 64;
      ASSERT_EQ(prepared.Hex(data, digits), HmacSha256Hex(key, data, digits)) << i;
      ASSERT_EQ(copy.Hex(data), HmacSha256Hex(key, data));
    }
  }
}

// An id of one kind is never taken for another, nor made from a plain string by accident.
static_assert(!std::is_convertible_v<std::string, LeadId>);
static_assert(!std::is_convertible_v<LeadId, EventId>);
static_assert(!std::is_convertible_v<RepId, PoolName>);
static_assert(!std::is_constructible_v<EventId, LeadId>);

TEST(NamedTypeTest, ComparesAndHashesAsItsValue) {
  const LeadId a("ld_a"), b("ld_b");
  EXPECT_EQ(a, LeadId("ld_a"));
  EXPECT_LT(a, b);
  EXPECT_EQ(a.value(), "ld_a");
  EXPECT_TRUE(LeadId().empty());
  const std::unordered_set<LeadId> set = {a, b, LeadId("ld_a")};
  EXPECT_EQ(set.size(), 2u);
}

}  // namespace
}  // namespace leadrouter::core
