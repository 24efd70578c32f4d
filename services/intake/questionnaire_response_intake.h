// FHIR R4 QuestionnaireResponse submissions (docs/fhir.md, "In"): the resource is mapped to a
// native Feedback (common/fhir/questionnaire_response.h) and then takes the one submission path
// of IntakeService::Submit, so validation, durability and idempotency are those of
// SubmitFeedback. Shared by the gRPC method and POST /fhir/QuestionnaireResponse.
#ifndef ALLIANCE_SERVICES_INTAKE_QUESTIONNAIRE_RESPONSE_INTAKE_H_
#define ALLIANCE_SERVICES_INTAKE_QUESTIONNAIRE_RESPONSE_INTAKE_H_

#include <chrono>
#include <string_view>

#include "absl/status/status.h"
#include "common/auth.h"
#include "services/intake/intake_service.h"

namespace alliance::intake {

// Largest QuestionnaireResponse accepted, in bytes of JSON: many times the largest valid one
// (a 19-item instrument with every optional element is about 6 KB).
inline constexpr size_t kMaxQuestionnaireResponseBytes = 64 * 1024;

// Maps `json` and submits it for `caller` (authorized for the submit scope) into `tenant_id`
// (empty: the caller's). Every refusal of the content is INVALID_ARGUMENT whose message starts
// with the FHIRPath of the bad element ("QuestionnaireResponse.item[2].answer[0]: ...").
// `done` runs exactly once, as for IntakeService::Submit.
void SubmitQuestionnaireResponse(const IntakeService& service, const Principal& caller,
                                 std::string_view tenant_id, std::string_view json,
                                 std::chrono::system_clock::time_point deadline,
                                 grpc::CallbackServerContext* context,
                                 IntakeService::SubmitDone done);

// A validation error or idempotency conflict of the mapped Feedback ("session_time: ...") as
// the FHIRPath of the element it came from ("QuestionnaireResponse.authored: ...
// (session_time)"); other statuses unchanged.
absl::Status FeedbackErrorAsFhirPath(const absl::Status& status);

}  // namespace alliance::intake

#endif  // ALLIANCE_SERVICES_INTAKE_QUESTIONNAIRE_RESPONSE_INTAKE_H_
