// A counted HTTP call; see metered_http_call.h.
#include "services/insights/metered_http_call.h"

#include <utility>

#include "absl/time/clock.h"
#include "common/log.h"
#include "common/strings.h"

namespace alliance::insights {

MeteredHttpCall::MeteredHttpCall(ServiceMetrics* metrics, std::string_view method,
                                 http::Responder respond, ErrorRenderer render_error)
    : metrics_(metrics),
      method_(method),
      start_(absl::Now()),
      respond_(std::move(respond)),
      render_error_(render_error) {}

void MeteredHttpCall::Finish(const absl::Status& status, http::Response response) {
  metrics_->RecordCall(method_, static_cast<grpc::StatusCode>(status.code()), absl::Now() - start_);
  std::move(respond_)(std::move(response));
}

void MeteredHttpCall::Fail(const absl::Status& status) {
  if (status.code() == absl::StatusCode::kInternal ||
      status.code() == absl::StatusCode::kUnavailable ||
      status.code() == absl::StatusCode::kDataLoss) {
    LogWarning("query_failed", {{"method", std::string_view(method_)},
                                {"code", static_cast<int64_t>(status.code())},
                                {"error", Std(status.message())}});
  }
  Finish(status, render_error_(status));
}

}  // namespace alliance::insights
