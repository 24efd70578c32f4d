// Metric names and labels of the insights service (listed in docs/insights.md).
#include "services/insights/service_metrics.h"

#include <string>

#include "common/strings.h"

namespace alliance::insights {

ServiceMetrics::ServiceMetrics(MetricsRegistry* registry) {
  auto register_method = [registry](const std::string& method) {
    MethodSeries series;
    for (int c = 0; c < kGrpcCodeCount; ++c) {
      series.calls[static_cast<size_t>(c)] = registry->GetCounter(
          "alliance_insights_requests_total", "Finished calls by method and code.",
          {{"method", method},
           {"code", std::string(GrpcCodeName(static_cast<grpc::StatusCode>(c)))}});
    }
    series.latency =
        registry->GetHistogram("alliance_insights_request_duration_seconds",
                               "Time from receiving a unary call to finishing it, by method.",
                               MetricsRegistry::LatencyBuckets(), {{"method", method}});
    return series;
  };
  for (std::string_view method : kMethods) {
    methods_.emplace(std::string(method), register_method(std::string(method)));
  }
  other_method_ = register_method("other");
  auto register_refusal = [registry](const std::string& reason) {
    return registry->GetCounter("alliance_insights_watchers_refused_total",
                                "WatchAlerts streams refused by a limit, by limit.",
                                {{"reason", reason}});
  };
  for (std::string_view reason : kRefusalReasons) {
    refused_.emplace(std::string(reason), register_refusal(std::string(reason)));
  }
  refused_other_ = register_refusal("other");
  watchers = registry->GetGauge("alliance_insights_watchers", "Open WatchAlerts streams.");
  buffered = registry->GetGauge("alliance_insights_watch_buffered_messages",
                                "Messages waiting in watcher buffers (all watchers).");
  dropped_slow =
      registry->GetCounter("alliance_insights_watchers_dropped_slow_total",
                           "Watchers ended with RESOURCE_EXHAUSTED because their buffer was full.");
  watchers_reset = registry->GetCounter(
      "alliance_insights_watchers_reset_total",
      "Ended watch streams reset because the client did not read their end in time.");
  alerts_sent = registry->GetCounter("alliance_insights_watch_alerts_sent_total",
                                     "Alerts written to WatchAlerts streams.");
  heartbeats_sent = registry->GetCounter("alliance_insights_watch_heartbeats_sent_total",
                                         "Heartbeats written to idle WatchAlerts streams.");
  entries_read = registry->GetCounter("alliance_insights_alert_entries_read_total",
                                      "Alert stream entries read by the fan-out reader.");
}

ServiceMetrics::MethodSeries& ServiceMetrics::SeriesOf(std::string_view method) {
  auto it = methods_.find(Absl(method));
  return it == methods_.end() ? other_method_ : it->second;
}

void ServiceMetrics::RecordWatchRefused(std::string_view reason) {
  auto it = refused_.find(Absl(reason));
  (it == refused_.end() ? refused_other_ : it->second)->Increment();
}

void ServiceMetrics::RecordCall(std::string_view method, grpc::StatusCode code,
                                std::optional<absl::Duration> latency) {
  MethodSeries& series = SeriesOf(method);
  int c = static_cast<int>(code);
  if (c < 0 || c >= kGrpcCodeCount) c = grpc::UNKNOWN;
  series.calls[static_cast<size_t>(c)]->Increment();
  if (latency) series.latency->Observe(absl::ToDoubleSeconds(*latency));
}

}  // namespace alliance::insights
