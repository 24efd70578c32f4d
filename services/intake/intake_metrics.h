// The Prometheus metrics of the intake service, looked up once so hot paths only touch atomics.
#ifndef ALLIANCE_SERVICES_INTAKE_INTAKE_METRICS_H_
#define ALLIANCE_SERVICES_INTAKE_INTAKE_METRICS_H_

#include <grpcpp/support/status.h>

#include <array>

#include "common/metrics.h"

namespace alliance::intake {

enum class Method {
  kSubmitFeedback = 0,
  kSubmitFeedbackBatch = 1,
  // gRPC and POST /fhir/QuestionnaireResponse alike (the code label is the gRPC code either way).
  kSubmitQuestionnaireResponse = 2,
};
inline constexpr int kMethodCount = 3;

class IntakeMetrics {
 public:
  explicit IntakeMetrics(MetricsRegistry* registry);

  // One finished call: counts it by method and code and observes its latency.
  void RecordCall(Method method, grpc::StatusCode code, double seconds);
  // One item of a batch, by code.
  void RecordBatchItem(grpc::StatusCode code);

  Counter* appended;       // entries written to a stream
  Counter* duplicates;     // retries answered from the idempotency record
  Counter* conflicts;      // ALREADY_EXISTS
  Counter* expired;        // dropped from the queue because the deadline passed
  Counter* cancelled;      // dropped from the queue because the caller went away
  Counter* rejected_full;  // RESOURCE_EXHAUSTED because the queue was full
  Counter* redis_transport_errors;
  Counter* redis_reply_errors;
  Counter* redis_connect_errors;
  Counter* redis_noscript;
  Counter* replication_unconfirmed;  // WAIT reached fewer replicas than asked in time
  Gauge* queue_depth;
  Gauge* writes_in_flight;
  Gauge* writers_connected;

 private:
  static constexpr int kCodes = 17;
  std::array<std::array<Counter*, kCodes>, kMethodCount> calls_{};
  std::array<Histogram*, kMethodCount> latency_{};
  std::array<Counter*, kCodes> batch_items_{};
};

}  // namespace alliance::intake

#endif  // ALLIANCE_SERVICES_INTAKE_INTAKE_METRICS_H_
