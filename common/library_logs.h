// Routes what libprotobuf and gRPC core write about themselves into the JSON logger, at a
// bounded rate. Left alone, both write plain-text lines to stderr: a caller sending invalid
// UTF-8 in a string field (or failing TLS handshakes) would add one non-JSON line per request,
// which breaks log parsing and lets anyone flood the log.
#ifndef ALLIANCE_COMMON_LIBRARY_LOGS_H_
#define ALLIANCE_COMMON_LIBRARY_LOGS_H_

#include <cstdint>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace alliance {

// `burst` lines at once, then one every `interval` (a token bucket, kept as the time the bucket
// would be full again, so no rounding creeps in). Thread-safe.
class LogRateLimiter {
 public:
  LogRateLimiter(int burst, absl::Duration interval) : burst_(burst), interval_(interval) {}

  // True when a line may be written at `now`; then `*suppressed` is how many were refused
  // since the last line allowed (and that count starts again from zero).
  bool Allow(absl::Time now, int64_t* suppressed);

 private:
  const int burst_;
  const absl::Duration interval_;
  absl::Mutex mu_;
  // When the bucket is full again: each line allowed moves it one interval later.
  absl::Time full_at_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  int64_t suppressed_ ABSL_GUARDED_BY(mu_) = 0;
};

// Installs the handlers (once per process; later calls do nothing). Each library gets its own
// budget: 20 lines at once, then one per second; a line after a pause says how many were
// dropped ("suppressed"). Messages are cut to 512 bytes.
void RouteLibraryLogs();

}  // namespace alliance

#endif  // ALLIANCE_COMMON_LIBRARY_LOGS_H_
