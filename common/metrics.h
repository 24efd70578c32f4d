// The services' Prometheus metrics: counters, gauges and histograms with labels, kept by
// prometheus-cpp (Debian's prometheus-cpp-dev) and served at /metrics by a small cpp-httplib
// endpoint (prometheus-cpp's own exposer would bring civetweb for one URL). The wrappers below
// give the services one small interface and keep prometheus-cpp's exceptions (bad names,
// unsorted buckets, a name reused with another type) inside this module: such a mistake is
// logged and the metric is not exported, never a crash.
#ifndef ALLIANCE_COMMON_METRICS_H_
#define ALLIANCE_COMMON_METRICS_H_

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/node_hash_map.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"

namespace httplib {
class Server;
}
namespace prometheus {
class Counter;
class Gauge;
class Histogram;
class Registry;
}  // namespace prometheus

namespace alliance {

// A monotonically increasing count, one per label-value combination.
class Counter {
 public:
  explicit Counter(prometheus::Counter* counter) : counter_(counter) {}
  void Increment(double by = 1);
  double Value() const;

 private:
  prometheus::Counter* counter_;
};

// A value that goes up and down.
class Gauge {
 public:
  explicit Gauge(prometheus::Gauge* gauge) : gauge_(gauge) {}
  void Set(double v);
  void Add(double by);
  double Value() const;

 private:
  prometheus::Gauge* gauge_;
};

// Cumulative histogram with fixed upper bounds.
class Histogram {
 public:
  explicit Histogram(prometheus::Histogram* histogram) : histogram_(histogram) {}
  void Observe(double v);

 private:
  prometheus::Histogram* histogram_;
};

// Named metric families. Lookups take a lock; hot paths keep the returned pointer, which stays
// valid for the registry's lifetime.
class MetricsRegistry {
 public:
  // Every registry starts with alliance_build_info (common/build_info.h) and the process_*
  // metrics (common/process_metrics.h).
  MetricsRegistry();
  ~MetricsRegistry();

  Counter* GetCounter(std::string_view name, std::string_view help,
                      const std::vector<std::pair<std::string, std::string>>& labels = {});
  Gauge* GetGauge(std::string_view name, std::string_view help,
                  const std::vector<std::pair<std::string, std::string>>& labels = {});
  Histogram* GetHistogram(std::string_view name, std::string_view help,
                          const std::vector<double>& bounds,
                          const std::vector<std::pair<std::string, std::string>>& labels = {});
  // Called before every render, e.g. to refresh gauges that are read from elsewhere.
  void AddCollector(std::function<void()> collector);

  // Prometheus text exposition format 0.0.4 (labels in name order).
  std::string Render() const;

  // Latency buckets in seconds, 0.5 ms to 10 s.
  static std::vector<double> LatencyBuckets();

 private:
  using Labels = std::vector<std::pair<std::string, std::string>>;
  // One family per name: its type and the wrapper of each label set handed out (so the same
  // labels give the same pointer). A name reused with another type, or anything prometheus-cpp
  // refuses, is logged and answered with an orphan: a metric of no registry, never exported.
  struct Family {
    std::string type;
    void* family = nullptr;  // prometheus::Family<T>*, T as `type` says
    absl::flat_hash_map<std::string, std::unique_ptr<Counter>> counters;
    absl::flat_hash_map<std::string, std::unique_ptr<Gauge>> gauges;
    absl::flat_hash_map<std::string, std::unique_ptr<Histogram>> histograms;
  };
  // The family `name` of `type`, registered on first use; nullptr (logged) when prometheus-cpp
  // refuses it or the name is taken by another type.
  void* FamilyFor(const std::string& name, const std::string& help, const char* type)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  std::shared_ptr<prometheus::Registry> registry_;
  mutable absl::Mutex mu_;
  absl::node_hash_map<std::string, Family> families_ ABSL_GUARDED_BY(mu_);
  // Orphans (see Family) and their wrappers, alive for the registry's lifetime.
  std::vector<std::shared_ptr<void>> orphan_metrics_ ABSL_GUARDED_BY(mu_);
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
