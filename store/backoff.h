// The one retry policy for reaching Redis: exponential backoff with jitter between an initial
// and a maximum delay, reset by a success. Intake's writers, the worker, and insights' pools and
// watch reader wait by it when Redis cannot be reached, so every deployable reconnects alike.
#ifndef ALLIANCE_STORE_BACKOFF_H_
#define ALLIANCE_STORE_BACKOFF_H_

#include "absl/functional/function_ref.h"
#include "absl/random/random.h"
#include "absl/time/time.h"

namespace alliance {

struct BackoffPolicy {
  absl::Duration initial = absl::Milliseconds(50);
  absl::Duration max = absl::Seconds(2);
};

// Not thread-safe: one per thread that retries.
class Backoff {
 public:
  explicit Backoff(BackoffPolicy policy = {});

  // The delay before the next attempt after a failure: initial·2^(failures so far), capped at
  // max, then drawn from [d/2, d] so that many processes that lost one Redis at the same moment
  // do not all come back at the same moment.
  absl::Duration Next();
  // After a success: the next failure waits about `initial` again.
  void Reset() { failures_ = 0; }
  int failures() const { return failures_; }

  // Waits Next() in slices of at most 10 ms and returns true, or returns false as soon as
  // `stop()` says so (SIGTERM must not wait out a two-second backoff).
  bool Wait(absl::FunctionRef<bool()> stop);
  // The same wait for a delay the caller drew with Next() (to log it first, say).
  static bool Sleep(absl::Duration delay, absl::FunctionRef<bool()> stop);

 private:
  BackoffPolicy policy_;
  int failures_ = 0;
  absl::BitGen bitgen_;
};

}  // namespace alliance

#endif  // ALLIANCE_STORE_BACKOFF_H_
