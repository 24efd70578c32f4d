// A small Prometheus registry (counters, gauges, histograms with labels) and an HTTP endpoint
// serving it at /metrics. prometheus-cpp is not packaged in Debian 12, hence this.
#ifndef ALLIANCE_COMMON_METRICS_H_
#define ALLIANCE_COMMON_METRICS_H_

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"

namespace httplib {
class Server;
}

namespace alliance {

// A monotonically increasing count, one per label-value combination.
class Counter {
 public:
  void Increment(double by = 1);
  double Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

// A value that goes up and down.
class Gauge {
 public:
  void Set(double v) { value_.store(v, std::memory_order_relaxed); }
  void Add(double by);
  double Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

// Cumulative histogram with fixed upper bounds.
class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds);
  void Observe(double v);
  // Snapshot: cumulative counts per bound (plus +Inf), sum and count.
  void Snapshot(std::vector<uint64_t>* cumulative, double* sum, uint64_t* count) const;
  const std::vector<double>& bounds() const { return bounds_; }

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> buckets_;
  std::atomic<double> sum_{0};
  std::atomic<uint64_t> count_{0};
};

// Named metric families. Lookups take a lock; hot paths keep the returned pointer, which stays
// valid for the registry's lifetime.
class MetricsRegistry {
 public:
  // Every registry starts with alliance_build_info (common/build_info.h).
  MetricsRegistry();

  Counter* GetCounter(std::string_view name, std::string_view help,
                      const std::vector<std::pair<std::string, std::string>>& labels = {});
  Gauge* GetGauge(std::string_view name, std::string_view help,
                  const std::vector<std::pair<std::string, std::string>>& labels = {});
  Histogram* GetHistogram(std::string_view name, std::string_view help,
                          const std::vector<double>& bounds,
                          const std::vector<std::pair<std::string, std::string>>& labels = {});
  // Called before every render, e.g. to refresh gauges that are read from elsewhere.
  void AddCollector(std::function<void()> collector);

  // Prometheus text exposition format 0.0.4.
  std::string Render() const;

  // Latency buckets in seconds, 0.5 ms to 10 s.
  static std::vector<double> LatencyBuckets();

 private:
  struct Family {
    std::string type;
    std::string help;
    absl::flat_hash_map<std::string, std::unique_ptr<Counter>> counters;
    absl::flat_hash_map<std::string, std::unique_ptr<Gauge>> gauges;
    absl::flat_hash_map<std::string, std::unique_ptr<Histogram>> histograms;
  };
  Family& FamilyFor(std::string_view name, std::string_view type, std::string_view help)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  mutable absl::Mutex mu_;
  std::vector<std::pair<std::string, std::unique_ptr<Family>>> families_ ABSL_GUARDED_BY(mu_);
  std::vector<std::function<void()>> collectors_ ABSL_GUARDED_BY(mu_);
};

// Serves GET /metrics from a registry on its own thread.
class MetricsServer {
 public:
  explicit MetricsServer(const MetricsRegistry* registry);
  ~MetricsServer();
  // Binds host:port (port 0: skip serving) and starts the thread.
  absl::Status Start(const std::string& host, int port);
  void Stop();

 private:
  const MetricsRegistry* registry_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
};

}  // namespace alliance

#endif  // ALLIANCE_COMMON_METRICS_H_
