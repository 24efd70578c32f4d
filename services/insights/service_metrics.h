// Prometheus metrics of the insights service: requests by method and code, latency, and the
// health of the live alert fan-out (watchers, buffered messages, slow watchers dropped, streams
// refused by a limit).
#ifndef ALLIANCE_SERVICES_INSIGHTS_SERVICE_METRICS_H_
#define ALLIANCE_SERVICES_INSIGHTS_SERVICE_METRICS_H_

#include <grpcpp/support/status.h>

#include <optional>
#include <string_view>

#include "absl/time/time.h"
#include "common/metrics.h"

namespace alliance::insights {

class ServiceMetrics {
 public:
  explicit ServiceMetrics(MetricsRegistry* registry);

  // One finished call. Latency is recorded for unary calls only (streams live for hours).
  void RecordCall(std::string_view method, grpc::StatusCode code,
                  std::optional<absl::Duration> latency);
  // One WatchAlerts stream refused by a limit: "per_key", "per_tenant" or "per_process".
  void RecordWatchRefused(std::string_view reason);

  Gauge* watchers;           // open WatchAlerts streams
  Gauge* buffered;           // messages waiting in watcher buffers, all watchers together
  Counter* dropped_slow;     // watchers ended with RESOURCE_EXHAUSTED
  Counter* watchers_reset;   // ended streams reset because their client did not take the end
  Counter* alerts_sent;      // alerts written to watchers
  Counter* heartbeats_sent;  // heartbeats written to watchers
  Counter* entries_read;     // alert stream entries read by the fan-out reader

 private:
  MetricsRegistry* registry_;
};

}  // namespace alliance::insights

#endif  // ALLIANCE_SERVICES_INSIGHTS_SERVICE_METRICS_H_
