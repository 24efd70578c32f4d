// Prometheus metrics of the insights service: requests by method and code, latency, and the
// health of the live alert fan-out (watchers, buffered messages, slow watchers dropped, streams
// refused by a limit). Every series a method, code or refusal reason can have is registered at
// start (at zero), so that rates and alerts see it before it first happens, and recording a
// call is a lookup in tables that never change afterwards.
#ifndef ALLIANCE_SERVICES_INSIGHTS_SERVICE_METRICS_H_
#define ALLIANCE_SERVICES_INSIGHTS_SERVICE_METRICS_H_

#include <grpcpp/support/status.h>

#include <array>
#include <optional>
#include <string>
#include <string_view>

#include "absl/container/flat_hash_map.h"
#include "absl/time/time.h"
#include "common/grpc_status.h"
#include "common/metrics.h"

namespace alliance::insights {

class ServiceMetrics {
 public:
  // The RPCs of AllianceInsights, as the `method` label names them.
  static constexpr std::array<std::string_view, 13> kMethods = {"GetDyad",
                                                                "ListDyads",
                                                                "GetDyadTimeline",
                                                                "ListAlerts",
                                                                "AcknowledgeAlert",
                                                                "ResolveAlert",
                                                                "WatchAlerts",
                                                                "DeleteClientData",
                                                                "ListInstruments",
                                                                "GetTherapistSummary",
                                                                "ListTherapistSummaries",
                                                                "GetFhirQuestionnaire",
                                                                "GetDyadFhirBundle"};
  // Why a WatchAlerts stream can be refused, as the `reason` label names it.
  static constexpr std::array<std::string_view, 3> kRefusalReasons = {"per_key", "per_tenant",
                                                                      "per_process"};

  explicit ServiceMetrics(MetricsRegistry* registry);

  // One finished call. Latency is recorded for unary calls only (streams live for hours). A
  // method not in kMethods is counted under "other".
  void RecordCall(std::string_view method, grpc::StatusCode code,
                  std::optional<absl::Duration> latency);
  // One WatchAlerts stream refused by a limit: one of kRefusalReasons ("other" otherwise).
  void RecordWatchRefused(std::string_view reason);

  Gauge* watchers;           // open WatchAlerts streams
  Gauge* buffered;           // messages waiting in watcher buffers, all watchers together
  Counter* dropped_slow;     // watchers ended with RESOURCE_EXHAUSTED
  Counter* watchers_reset;   // ended streams reset because their client did not take the end
  Counter* alerts_sent;      // alerts written to watchers
  Counter* heartbeats_sent;  // heartbeats written to watchers
  Counter* entries_read;     // alert stream entries read by the fan-out reader

 private:
  struct MethodSeries {
    std::array<Counter*, kGrpcCodeCount> calls{};
    Histogram* latency = nullptr;
  };
  MethodSeries& SeriesOf(std::string_view method);

  absl::flat_hash_map<std::string, MethodSeries> methods_;
  MethodSeries other_method_;
  absl::flat_hash_map<std::string, Counter*> refused_;
  Counter* refused_other_ = nullptr;
};

}  // namespace alliance::insights

#endif  // ALLIANCE_SERVICES_INSIGHTS_SERVICE_METRICS_H_
