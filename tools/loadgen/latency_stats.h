// Collects call latencies and result codes of a load run and summarises them as QPS and
// percentiles.
#ifndef ALLIANCE_TOOLS_LOADGEN_LATENCY_STATS_H_
#define ALLIANCE_TOOLS_LOADGEN_LATENCY_STATS_H_

#include <grpcpp/support/status.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <mutex>
#include <vector>

namespace alliance::loadgen {

class LatencyStats {
 public:
  void Record(grpc::StatusCode code, int64_t latency_ns) {
    std::lock_guard lock(mu_);
    if (code == grpc::StatusCode::OK) {
      latencies_ns_.push_back(latency_ns);
    }
    ++codes_[code];
  }

  struct Summary {
    uint64_t calls = 0;
    uint64_t ok = 0;
    double p50_ms = 0, p90_ms = 0, p99_ms = 0, max_ms = 0;
    std::map<grpc::StatusCode, uint64_t> errors;
  };

  // Latency percentiles are over successful calls (errors are often fast refusals).
  Summary Summarise() {
    std::lock_guard lock(mu_);
    Summary s;
    for (auto [code, count] : codes_) {
      s.calls += count;
      if (code == grpc::StatusCode::OK) {
        s.ok = count;
      } else {
        s.errors[code] = count;
      }
    }
    std::sort(latencies_ns_.begin(), latencies_ns_.end());
    auto at = [&](double q) {
      if (latencies_ns_.empty()) return 0.0;
      size_t i = std::min(latencies_ns_.size() - 1,
                          static_cast<size_t>(q * static_cast<double>(latencies_ns_.size())));
      return static_cast<double>(latencies_ns_[i]) / 1e6;
    };
    s.p50_ms = at(0.50);
    s.p90_ms = at(0.90);
    s.p99_ms = at(0.99);
    s.max_ms = latencies_ns_.empty() ? 0 : static_cast<double>(latencies_ns_.back()) / 1e6;
    return s;
  }

 private:
  std::mutex mu_;
  std::vector<int64_t> latencies_ns_;
  std::map<grpc::StatusCode, uint64_t> codes_;
};

}  // namespace alliance::loadgen

#endif  // ALLIANCE_TOOLS_LOADGEN_LATENCY_STATS_H_
