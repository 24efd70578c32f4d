// System and file clocks (clock.h).
#include "worker/clock.h"

#include <fstream>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"

namespace alliance::worker {
namespace {

class SystemClock : public Clock {
 public:
  absl::Time Now() const override { return absl::Now(); }
};

// Test-only: reads the time on every call (a few calls per maintenance round and batch).
class FileClock : public Clock {
 public:
  explicit FileClock(std::string path) : path_(std::move(path)) {}
  absl::Time Now() const override {
    std::ifstream in(path_);
    std::stringstream text;
    text << in.rdbuf();
    int64_t ms = 0;
    if (!in || !absl::SimpleAtoi(absl::StripAsciiWhitespace(text.str()), &ms)) return absl::Now();
    return absl::FromUnixMillis(ms);
  }

 private:
  std::string path_;
};

}  // namespace

std::unique_ptr<Clock> MakeClock(const std::string& now_file) {
  if (now_file.empty()) return std::make_unique<SystemClock>();
  return std::make_unique<FileClock>(now_file);
}

}  // namespace alliance::worker
