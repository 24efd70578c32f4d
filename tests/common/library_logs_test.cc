// The rate limit of library log lines: a burst, then one line per interval, and the count of
// what was dropped handed to the next line allowed.
#include "common/library_logs.h"

#include "gtest/gtest.h"

namespace alliance {
namespace {

TEST(LogRateLimiterTest, BurstThenOnePerIntervalWithTheDroppedCount) {
  LogRateLimiter limiter(3, absl::Seconds(1));
  const absl::Time t0 = absl::FromUnixSeconds(1'800'000'000);
  int64_t suppressed = -1;
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(limiter.Allow(t0, &suppressed));
    EXPECT_EQ(suppressed, 0);
  }
  for (int i = 0; i < 100; ++i)
    EXPECT_FALSE(limiter.Allow(t0 + absl::Milliseconds(i), &suppressed));
  ASSERT_TRUE(limiter.Allow(t0 + absl::Seconds(1), &suppressed));
  EXPECT_EQ(suppressed, 100);
  EXPECT_FALSE(limiter.Allow(t0 + absl::Milliseconds(1500), &suppressed));
  // A long pause refills the bucket to its burst, not beyond.
  const absl::Time later = t0 + absl::Hours(1);
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(limiter.Allow(later, &suppressed));
  EXPECT_FALSE(limiter.Allow(later, &suppressed));
  // A clock that steps back takes nothing away and gives nothing.
  EXPECT_FALSE(limiter.Allow(t0, &suppressed));
}

}  // namespace
}  // namespace alliance
