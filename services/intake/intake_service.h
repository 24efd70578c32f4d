// The FeedbackIntake gRPC service (callback API). Handlers validate, turn a submission into a
// WriteJob and hand it to the WriterPool; they never touch Redis and never block. The call is
// finished from the writer thread once Redis replied.
#ifndef ALLIANCE_SERVICES_INTAKE_INTAKE_SERVICE_H_
#define ALLIANCE_SERVICES_INTAKE_INTAKE_SERVICE_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>

#include "alliance/v1/intake.grpc.pb.h"
#include "analytics/registry.h"
#include "common/auth.h"
#include "services/intake/intake_metrics.h"
#include "services/intake/validation.h"
#include "services/intake/writer_pool.h"
#include "store/keys.h"

namespace alliance::intake {

struct IntakeServiceOptions {
  ValidationPolicy validation;
  int max_batch_items = 500;
  // Largest SubmitFeedbackRequest and batch item (see request_limits.h); larger ones are
  // refused with RESOURCE_EXHAUSTED. gRPC's own limit is the larger batch bound.
  size_t max_submit_request_bytes = SIZE_MAX;
  size_t max_feedback_bytes = SIZE_MAX;
};

class IntakeService final : public alliance::v1::FeedbackIntake::CallbackService {
 public:
  IntakeService(IntakeServiceOptions options, const analytics::InstrumentRegistry* registry,
                KeyLayout layout, WriterPool* pool, IntakeMetrics* metrics,
                const Authorizer* authorizer);

  grpc::ServerUnaryReactor* SubmitFeedback(grpc::CallbackServerContext* context,
                                           const alliance::v1::SubmitFeedbackRequest* request,
                                           alliance::v1::SubmitFeedbackResponse* response) override;

  grpc::ServerUnaryReactor* SubmitFeedbackBatch(
      grpc::CallbackServerContext* context, const alliance::v1::SubmitFeedbackBatchRequest* request,
      alliance::v1::SubmitFeedbackBatchResponse* response) override;

  // Defined in questionnaire_response_rpc.cc.
  grpc::ServerUnaryReactor* SubmitQuestionnaireResponse(
      grpc::CallbackServerContext* context,
      const alliance::v1::SubmitQuestionnaireResponseRequest* request,
      alliance::v1::SubmitFeedbackResponse* response) override;

  using SubmitDone = std::function<void(absl::StatusOr<alliance::v1::SubmitFeedbackResponse>)>;
  // The one path of a single submission, for gRPC and HTTP alike: `caller` is already
  // authorized for the submit scope; the submission takes the caller's tenant when it names
  // none (another tenant: PERMISSION_DENIED), is validated (INVALID_ARGUMENT naming the
  // Feedback field, without a prefix) and queued for a writer. `done` runs exactly once: on
  // this thread for a refusal, on a writer thread once Redis replied. `context` (may be null)
  // lets a writer drop the job of a call that went away.
  void Submit(const Principal& caller, const alliance::v1::Feedback& feedback,
              std::chrono::system_clock::time_point deadline, grpc::CallbackServerContext* context,
              SubmitDone done) const;

  const analytics::InstrumentRegistry& registry() const { return *registry_; }
  IntakeMetrics* metrics() const { return metrics_; }
  const Authorizer& authorizer() const { return *authorizer_; }

 private:
  struct Prepared {
    std::unique_ptr<WriteJob> job;
    int partition = 0;
  };
  // Validates `feedback` and builds its write job; INVALID_ARGUMENT naming the field (without
  // a prefix) when it is not acceptable.
  absl::StatusOr<Prepared> Prepare(const alliance::v1::Feedback& feedback,
                                   std::chrono::system_clock::time_point deadline,
                                   grpc::CallbackServerContext* context, absl::Time now) const;

  const IntakeServiceOptions options_;
  const analytics::InstrumentRegistry* const registry_;
  const KeyLayout layout_;
  WriterPool* const pool_;
  IntakeMetrics* const metrics_;
  const Authorizer* const authorizer_;  // every call is authorized before it is queued
};

}  // namespace alliance::intake

#endif  // ALLIANCE_SERVICES_INTAKE_INTAKE_SERVICE_H_
