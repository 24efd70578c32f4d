// One submission on its way to Redis: the script arguments, the caller's deadline, and the
// callback that completes the gRPC call once Redis replied (or the write was given up).
#ifndef ALLIANCE_SERVICES_INTAKE_WRITE_JOB_H_
#define ALLIANCE_SERVICES_INTAKE_WRITE_JOB_H_

#include <grpcpp/server_context.h>

#include <chrono>
#include <functional>
#include <string>

#include "absl/status/status.h"
#include "store/feedback_append.h"

namespace alliance::intake {

struct WriteResult {
  absl::Status status;     // OK, ALREADY_EXISTS, UNAVAILABLE, DEADLINE_EXCEEDED, CANCELLED...
  std::string stream_id;   // set when status is OK
  bool duplicate = false;  // a retry answered from the idempotency record
};

// The submission's script arguments are the FeedbackSubmission fields (idempotency_key,
// stream_key, content_hash, accepted_id, tenant_id, entry).
struct WriteJob : FeedbackSubmission {
  // After this point the caller has given up: the job is dropped instead of written.
  std::chrono::system_clock::time_point deadline = std::chrono::system_clock::time_point::max();
  // The call, to notice a caller that went away; may be null.
  grpc::CallbackServerContext* context = nullptr;
  // Called exactly once with the outcome, from a writer thread.
  std::function<void(WriteResult)> done;
};

}  // namespace alliance::intake

#endif  // ALLIANCE_SERVICES_INTAKE_WRITE_JOB_H_
