// FeedbackIntake.SubmitQuestionnaireResponse: a FHIR R4 QuestionnaireResponse over gRPC,
// answered exactly as SubmitFeedback (see questionnaire_response_intake.h).
#include <chrono>

#include "common/grpc_status.h"
#include "services/intake/intake_service.h"
#include "services/intake/questionnaire_response_intake.h"

namespace alliance::intake {

grpc::ServerUnaryReactor* IntakeService::SubmitQuestionnaireResponse(
    grpc::CallbackServerContext* context,
    const alliance::v1::SubmitQuestionnaireResponseRequest* request,
    alliance::v1::SubmitFeedbackResponse* response) {
  const auto start = std::chrono::steady_clock::now();
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  IntakeMetrics* metrics = metrics_;
  auto finish = [reactor, metrics, start](const absl::Status& status) {
    reactor->Finish(ToGrpcStatus(status));
    metrics->RecordCall(
        Method::kSubmitQuestionnaireResponse, static_cast<grpc::StatusCode>(status.code()),
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  };
  // Authorized before the resource is read: an unknown caller learns nothing.
  absl::StatusOr<Principal> caller =
      authorizer_->Authorize(*context, Scope::kSubmit, request->tenant_id());
  if (!caller.ok()) {
    finish(caller.status());
    return reactor;
  }
  intake::SubmitQuestionnaireResponse(
      *this, *caller, request->tenant_id(), request->questionnaire_response_json(),
      context->deadline(), context,
      [finish, response](absl::StatusOr<alliance::v1::SubmitFeedbackResponse> ack) {
        if (!ack.ok()) {
          finish(ack.status());
          return;
        }
        *response = std::move(*ack);
        finish(absl::OkStatus());
      });
  return reactor;
}

}  // namespace alliance::intake
