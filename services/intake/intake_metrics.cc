// Registration of the intake metrics; see intake_metrics.h.
#include "services/intake/intake_metrics.h"

#include <string>

#include "common/grpc_status.h"

namespace alliance::intake {
namespace {

std::string CodeName(int code) {
  return std::string(GrpcCodeName(static_cast<grpc::StatusCode>(code)));
}
constexpr const char* kMethodNames[kMethodCount] = {"SubmitFeedback", "SubmitFeedbackBatch",
                                                    "SubmitQuestionnaireResponse"};

}  // namespace

IntakeMetrics::IntakeMetrics(MetricsRegistry* r) {
  const char* kRequests = "alliance_intake_requests_total";
  const char* kRequestsHelp = "gRPC calls finished, by method and status code.";
  for (int m = 0; m < kMethodCount; ++m) {
    for (int c = 0; c < kCodes; ++c) {
      calls_[m][c] = r->GetCounter(kRequests, kRequestsHelp,
                                   {{"method", kMethodNames[m]}, {"code", CodeName(c)}});
    }
    latency_[m] = r->GetHistogram("alliance_intake_request_duration_seconds",
                                  "Time from receiving a call to finishing it, by method.",
                                  MetricsRegistry::LatencyBuckets(), {{"method", kMethodNames[m]}});
  }
  for (int c = 0; c < kCodes; ++c) {
    batch_items_[c] = r->GetCounter("alliance_intake_batch_items_total",
                                    "Items of SubmitFeedbackBatch calls, by result code.",
                                    {{"code", CodeName(c)}});
  }
  const char* kOutcomes = "alliance_intake_writes_total";
  const char* kOutcomesHelp = "Submissions the writers handled, by outcome.";
  appended = r->GetCounter(kOutcomes, kOutcomesHelp, {{"outcome", "appended"}});
  duplicates = r->GetCounter(kOutcomes, kOutcomesHelp, {{"outcome", "duplicate"}});
  conflicts = r->GetCounter(kOutcomes, kOutcomesHelp, {{"outcome", "conflict"}});
  expired = r->GetCounter(kOutcomes, kOutcomesHelp, {{"outcome", "deadline_expired"}});
  cancelled = r->GetCounter(kOutcomes, kOutcomesHelp, {{"outcome", "cancelled"}});
  rejected_full = r->GetCounter(kOutcomes, kOutcomesHelp, {{"outcome", "queue_full"}});
  const char* kErrors = "alliance_intake_redis_errors_total";
  const char* kErrorsHelp = "Redis failures seen by the writers, by kind.";
  redis_transport_errors = r->GetCounter(kErrors, kErrorsHelp, {{"kind", "transport"}});
  redis_reply_errors = r->GetCounter(kErrors, kErrorsHelp, {{"kind", "error_reply"}});
  redis_connect_errors = r->GetCounter(kErrors, kErrorsHelp, {{"kind", "connect"}});
  redis_noscript = r->GetCounter(kErrors, kErrorsHelp, {{"kind", "noscript"}});
  replication_unconfirmed = r->GetCounter(kErrors, kErrorsHelp, {{"kind", "replicas_unconfirmed"}});
  queue_depth =
      r->GetGauge("alliance_intake_queue_depth", "Submissions waiting in the writer queue.");
  writes_in_flight = r->GetGauge("alliance_intake_writes_in_flight",
                                 "Submissions sent to Redis whose reply has not arrived yet.");
  writers_connected = r->GetGauge("alliance_intake_writers_connected",
                                  "Writer threads with a working Redis connection.");
}

void IntakeMetrics::RecordCall(Method method, grpc::StatusCode code, double seconds) {
  int c = static_cast<int>(code);
  if (c < 0 || c >= kCodes) c = 2;  // UNKNOWN
  int m = static_cast<int>(method);
  calls_[m][c]->Increment();
  latency_[m]->Observe(seconds);
}

void IntakeMetrics::RecordBatchItem(grpc::StatusCode code) {
  int c = static_cast<int>(code);
  if (c < 0 || c >= kCodes) c = 2;
  batch_items_[c]->Increment();
}

}  // namespace alliance::intake
