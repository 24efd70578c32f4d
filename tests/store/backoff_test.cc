// The shared reconnect policy: doubling from the initial delay to the cap, jitter within
// [d/2, d], reset by a success, and a wait that a stop request cuts short.
#include "store/backoff.h"

#include "absl/time/clock.h"
#include "gtest/gtest.h"

namespace alliance {
namespace {

TEST(BackoffTest, DoublesFromTheInitialDelayUpToTheCapWithJitterInTheUpperHalf) {
  Backoff backoff({.initial = absl::Milliseconds(100), .max = absl::Milliseconds(1000)});
  const int64_t expected_ms[] = {100, 200, 400, 800, 1000, 1000, 1000};
  for (int64_t full : expected_ms) {
    const absl::Duration delay = backoff.Next();
    EXPECT_GE(delay, absl::Milliseconds(full) / 2) << full;
    EXPECT_LE(delay, absl::Milliseconds(full)) << full;
  }
  EXPECT_EQ(backoff.failures(), 7);
}

TEST(BackoffTest, ASuccessStartsAgainFromTheInitialDelay) {
  Backoff backoff({.initial = absl::Milliseconds(100), .max = absl::Seconds(10)});
  for (int i = 0; i < 5; ++i) backoff.Next();
  backoff.Reset();
  EXPECT_EQ(backoff.failures(), 0);
  EXPECT_LE(backoff.Next(), absl::Milliseconds(100));
}

TEST(BackoffTest, ManyFailuresStayAtTheCap) {
  Backoff backoff({.initial = absl::Milliseconds(1), .max = absl::Seconds(2)});
  absl::Duration delay;
  for (int i = 0; i < 10'000; ++i) delay = backoff.Next();
  EXPECT_GE(delay, absl::Seconds(1));
  EXPECT_LE(delay, absl::Seconds(2));
}

TEST(BackoffTest, AnInvalidPolicyIsClampedToAPositiveDelay) {
  Backoff backoff({.initial = absl::ZeroDuration(), .max = absl::ZeroDuration()});
  const absl::Duration delay = backoff.Next();
  EXPECT_GT(delay, absl::ZeroDuration());
  EXPECT_LE(delay, absl::Milliseconds(1));
}

TEST(BackoffTest, AStopRequestEndsTheWaitEarly) {
  Backoff backoff({.initial = absl::Seconds(20), .max = absl::Seconds(20)});
  const absl::Time start = absl::Now();
  int polls = 0;
  EXPECT_FALSE(backoff.Wait([&] { return ++polls > 3; }));
  // Three slices of at most 10 ms, far from the 10-20 s the delay asked for.
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
}

TEST(BackoffTest, AWaitThatIsNotStoppedLastsTheDelay) {
  Backoff backoff({.initial = absl::Milliseconds(40), .max = absl::Milliseconds(40)});
  const absl::Time start = absl::Now();
  EXPECT_TRUE(backoff.Wait([] { return false; }));
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(20));
}

}  // namespace
}  // namespace alliance
