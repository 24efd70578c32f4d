// One call on insights' HTTP port that mirrors a gRPC method (the dashboard API, the FHIR
// routes): answered exactly once, counted in the service metrics under that method with its
// status and latency, and, as the gRPC path does (InsightsService::Run), a failure of the service
// rather than of the request (INTERNAL, UNAVAILABLE, DATA_LOSS) logged as `query_failed`.
// How an error looks (JSON, FHIR OperationOutcome) is the route family's.
#ifndef ALLIANCE_SERVICES_INSIGHTS_METERED_HTTP_CALL_H_
#define ALLIANCE_SERVICES_INSIGHTS_METERED_HTTP_CALL_H_

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "common/http/http_server.h"
#include "services/insights/service_metrics.h"

namespace alliance::insights {

class MeteredHttpCall {
 public:
  // Renders an error answer (its HTTP status from the status code).
  using ErrorRenderer = http::Response (*)(const absl::Status& status);

  MeteredHttpCall(ServiceMetrics* metrics, std::string_view method, http::Responder respond,
                  ErrorRenderer render_error);

  // Answers with `response`, counted under `status`. Call at most once (Finish or Fail).
  void Finish(const absl::Status& status, http::Response response);
  void Fail(const absl::Status& status);

 private:
  ServiceMetrics* const metrics_;
  const std::string method_;
  const absl::Time start_;
  http::Responder respond_;
  const ErrorRenderer render_error_;
};

}  // namespace alliance::insights

#endif  // ALLIANCE_SERVICES_INSIGHTS_METERED_HTTP_CALL_H_
