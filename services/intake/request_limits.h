// The largest request of each FeedbackIntake method that can pass validation, from the
// validation limits (ids of at most kMaxIdLength characters, session numbers up to
// kMaxSessionNumber, one answer per item of the largest instrument in the registry) and the
// batch size. gRPC receives nothing larger than the largest of them (the server-wide limit);
// SubmitFeedback and each batch item are checked against their own, smaller bound.
#ifndef ALLIANCE_SERVICES_INTAKE_REQUEST_LIMITS_H_
#define ALLIANCE_SERVICES_INTAKE_REQUEST_LIMITS_H_

#include <algorithm>
#include <cstddef>

#include "analytics/registry.h"

namespace alliance::intake {

// Default of --max_batch_items (shared with the bare benchmark server).
inline constexpr int kDefaultMaxBatchItems = 500;

struct RequestLimits {
  size_t feedback_bytes = 0;        // one Feedback: a SubmitFeedback's or a batch item
  size_t submit_request_bytes = 0;  // SubmitFeedbackRequest
  size_t batch_request_bytes = 0;   // SubmitFeedbackBatchRequest of max_batch_items items
  size_t max_request_bytes() const { return std::max(submit_request_bytes, batch_request_bytes); }
};

// Bounds of requests in which every field occurs at most once (as protobuf serializers write
// them), each at its largest valid value.
RequestLimits ComputeRequestLimits(const analytics::InstrumentRegistry& registry,
                                   int max_batch_items);

}  // namespace alliance::intake

#endif  // ALLIANCE_SERVICES_INTAKE_REQUEST_LIMITS_H_
