// Mapping and submission of QuestionnaireResponse resources; see questionnaire_response_intake.h.
#include "services/intake/questionnaire_response_intake.h"

#include <array>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/fhir/questionnaire_response.h"
#include "common/strings.h"

namespace alliance::intake {
namespace {

struct FieldPath {
  std::string_view field;  // Feedback field as validation.h names it
  std::string_view path;   // the element of the resource it was mapped from
};

constexpr std::array<FieldPath, 9> kFieldPaths = {{
    {"idempotency_id", "QuestionnaireResponse.identifier"},
    {"therapist_id", "QuestionnaireResponse.author"},
    {"client_id", "QuestionnaireResponse.subject"},
    {"session_id", "QuestionnaireResponse.encounter"},
    {"session_number", "QuestionnaireResponse.extension"},
    {"session_time", "QuestionnaireResponse.authored"},
    {"rater", "QuestionnaireResponse.author"},
    {"instrument_id", "QuestionnaireResponse.questionnaire"},
    {"answers", "QuestionnaireResponse.item"},
}};

}  // namespace

absl::Status FeedbackErrorAsFhirPath(const absl::Status& status) {
  if (status.code() != absl::StatusCode::kInvalidArgument &&
      status.code() != absl::StatusCode::kAlreadyExists) {
    return status;
  }
  const std::string_view message = Std(status.message());
  const size_t colon = message.find(": ");
  if (colon == std::string_view::npos) return status;
  const std::string_view location = message.substr(0, colon);
  const std::string_view field = location.substr(0, location.find_first_of(".["));
  for (const FieldPath& entry : kFieldPaths) {
    if (entry.field == field) {
      return absl::Status(
          status.code(), absl::StrCat(Absl(entry.path), ": ", Absl(message.substr(colon + 2)), " (",
                                      Absl(location), ")"));
    }
  }
  return status;  // e.g. tenant_id: a field of the request, not of the resource
}

void SubmitQuestionnaireResponse(const IntakeService& service, const Principal& caller,
                                 std::string_view tenant_id, std::string_view json,
                                 std::chrono::system_clock::time_point deadline,
                                 grpc::CallbackServerContext* context,
                                 IntakeService::SubmitDone done) {
  if (json.size() > kMaxQuestionnaireResponseBytes) {
    done(absl::ResourceExhaustedError(
        absl::StrCat("QuestionnaireResponse: ", json.size(), " bytes; at most ",
                     kMaxQuestionnaireResponseBytes, " are accepted")));
    return;
  }
  absl::StatusOr<alliance::v1::Feedback> feedback =
      fhir::FeedbackFromQuestionnaireResponse(json, service.registry());
  if (!feedback.ok()) {
    done(feedback.status());
    return;
  }
  feedback->set_tenant_id(std::string(tenant_id));
  service.Submit(
      caller, *feedback, deadline, context,
      [done = std::move(done)](absl::StatusOr<alliance::v1::SubmitFeedbackResponse> ack) {
        if (!ack.ok()) {
          done(FeedbackErrorAsFhirPath(ack.status()));
          return;
        }
        done(std::move(ack));
      });
}

}  // namespace alliance::intake
