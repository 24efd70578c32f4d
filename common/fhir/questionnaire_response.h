// QuestionnaireResponse (FHIR R4) in: the native submission (alliance.v1.Feedback), with errors
// that name the FHIRPath of the bad element; and OperationOutcome out for any status
// (docs/fhir.md, "QuestionnaireResponse in" and "OperationOutcome"). Pure: no I/O, no
// exception escapes.
#ifndef ALLIANCE_COMMON_FHIR_QUESTIONNAIRE_RESPONSE_H_
#define ALLIANCE_COMMON_FHIR_QUESTIONNAIRE_RESPONSE_H_

#include <cstddef>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "alliance/v1/intake.pb.h"
#include "analytics/registry.h"
#include "common/fhir/fhir.h"

namespace alliance::fhir {

// Largest QuestionnaireResponse text accepted (bytes); a 500-item form is far below it.
inline constexpr size_t kMaxQuestionnaireResponseBytes = 1 << 20;
// Most entries accepted in any one array of a QuestionnaireResponse (the item count cap of
// instrument definitions).
inline constexpr size_t kMaxArrayEntries = 500;

// A FHIR error: FHIRPath of the bad element (e.g.
// "QuestionnaireResponse.item[2].answer[0].valueInteger") and why.
struct Issue {
  std::string expression;
  std::string message;
};

// Turns a QuestionnaireResponse into the native submission. tenant_id stays empty (the
// caller's key decides it). On error: INVALID_ARGUMENT "<FHIRPath>: <why>" (see IssueFromStatus).
absl::StatusOr<alliance::v1::Feedback> FeedbackFromQuestionnaireResponse(
    std::string_view json, const analytics::InstrumentRegistry& registry);

// Splits "<FHIRPath>: <why>" back; expression empty when the message starts with no FHIRPath
// (a FHIR resource type name, optionally followed by '.' and a path, with no spaces).
Issue IssueFromStatus(const absl::Status& status);

// An OperationOutcome (JSON) for a status: one issue, severity error (information for OK), the
// issue type mapped from the code (docs/fhir.md, "OperationOutcome"), diagnostics = the whole
// status message, expression = [FHIRPath] when the message starts with one.
std::string OperationOutcomeJson(const absl::Status& status);

}  // namespace alliance::fhir

#endif  // ALLIANCE_COMMON_FHIR_QUESTIONNAIRE_RESPONSE_H_
