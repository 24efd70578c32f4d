// Metric names and labels of the insights service (listed in docs/insights.md).
#include "services/insights/service_metrics.h"

#include <string>

namespace alliance::insights {
namespace {

std::string_view CodeName(grpc::StatusCode code) {
  switch (code) {
    case grpc::OK:
      return "OK";
    case grpc::CANCELLED:
      return "CANCELLED";
    case grpc::INVALID_ARGUMENT:
      return "INVALID_ARGUMENT";
    case grpc::DEADLINE_EXCEEDED:
      return "DEADLINE_EXCEEDED";
    case grpc::NOT_FOUND:
      return "NOT_FOUND";
    case grpc::RESOURCE_EXHAUSTED:
      return "RESOURCE_EXHAUSTED";
    case grpc::FAILED_PRECONDITION:
      return "FAILED_PRECONDITION";
    case grpc::UNAVAILABLE:
      return "UNAVAILABLE";
    case grpc::DATA_LOSS:
      return "DATA_LOSS";
    case grpc::INTERNAL:
      return "INTERNAL";
    default:
      return "OTHER";
  }
}

}  // namespace

ServiceMetrics::ServiceMetrics(MetricsRegistry* registry) : registry_(registry) {
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

void ServiceMetrics::RecordWatchRefused(std::string_view reason) {
  registry_
      ->GetCounter("alliance_insights_watchers_refused_total",
                   "WatchAlerts streams refused by a limit, by limit.",
                   {{"reason", std::string(reason)}})
      ->Increment();
}

void ServiceMetrics::RecordCall(std::string_view method, grpc::StatusCode code,
                                std::optional<absl::Duration> latency) {
  registry_
      ->GetCounter("alliance_insights_requests_total", "Finished calls by method and code.",
                   {{"method", std::string(method)}, {"code", std::string(CodeName(code))}})
      ->Increment();
  if (latency) {
    registry_
        ->GetHistogram("alliance_insights_request_seconds", "Latency of unary calls.",
                       MetricsRegistry::LatencyBuckets(), {{"method", std::string(method)}})
        ->Observe(absl::ToDoubleSeconds(*latency));
  }
}

}  // namespace alliance::insights
