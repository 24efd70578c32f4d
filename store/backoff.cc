// Exponential backoff with jitter (store/backoff.h).
#include "store/backoff.h"

#include <algorithm>

#include "absl/time/clock.h"

namespace alliance {

Backoff::Backoff(BackoffPolicy policy) : policy_(policy) {
  policy_.initial = std::max(policy_.initial, absl::Milliseconds(1));
  policy_.max = std::max(policy_.max, policy_.initial);
}

absl::Duration Backoff::Next() {
  absl::Duration delay = policy_.initial;
  // Bounded: the doubling stops at the cap, so a Redis down for days cannot overflow it.
  for (int i = 0; i < failures_ && delay < policy_.max; ++i) delay *= 2;
  delay = std::min(delay, policy_.max);
  if (failures_ < 64) ++failures_;
  return delay * absl::Uniform(bitgen_, 0.5, 1.0);
}

bool Backoff::Wait(absl::FunctionRef<bool()> stop) { return Sleep(Next(), stop); }

bool Backoff::Sleep(absl::Duration delay, absl::FunctionRef<bool()> stop) {
  const absl::Time until = absl::Now() + delay;
  while (absl::Now() < until) {
    if (stop()) return false;
    absl::SleepFor(std::min(absl::Milliseconds(10), until - absl::Now()));
  }
  return !stop();
}

}  // namespace alliance
