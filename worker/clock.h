// The worker's clock: where `now` comes from for detected_at stamps and the disengagement timer
// (analytics/disengagement.h). The system clock in production; with the test-only flag
// --test_now_file, the Unix time in ms written in that file, so tests move time forward
// without waiting (docs/worker.md, "Disengagement timer").
#ifndef ALLIANCE_WORKER_CLOCK_H_
#define ALLIANCE_WORKER_CLOCK_H_

#include <memory>
#include <string>

#include "absl/time/time.h"

namespace alliance::worker {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual absl::Time Now() const = 0;
};

// `now_file` empty: the system clock; else a clock read from that file (a decimal Unix time in
// ms; the system clock while the file is missing or unreadable).
std::unique_ptr<Clock> MakeClock(const std::string& now_file);

}  // namespace alliance::worker

#endif  // ALLIANCE_WORKER_CLOCK_H_
