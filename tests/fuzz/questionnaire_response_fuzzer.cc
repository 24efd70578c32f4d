// libFuzzer target: arbitrary text as a FHIR QuestionnaireResponse (common/fhir). The parser must
// never crash or throw; what it accepts is a complete, in-range rating of a built-in instrument,
// and every refusal is INVALID_ARGUMENT naming a FHIRPath inside the QuestionnaireResponse, which
// the OperationOutcome carries.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "analytics/registry.h"
#include "common/fhir/questionnaire_response.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace alliance;
  const analytics::InstrumentRegistry& registry = analytics::InstrumentRegistry::BuiltIn();
  std::string_view text(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<v1::Feedback> feedback = fhir::FeedbackFromQuestionnaireResponse(text, registry);
  if (feedback.ok()) {
    const analytics::Instrument* instrument = registry.Find(feedback->instrument_id());
    if (instrument == nullptr || feedback->answers_size() != instrument->item_count) {
      __builtin_trap();
    }
    for (int i = 0; i < feedback->answers_size(); ++i) {
      double v = feedback->answers(i).value();
      if (feedback->answers(i).item() != i + 1 || v < instrument->item_min - 1e-6 ||
          v > instrument->item_max + 1e-6) {
        __builtin_trap();
      }
    }
    return 0;
  }
  if (feedback.status().code() != absl::StatusCode::kInvalidArgument) __builtin_trap();
  fhir::Issue issue = fhir::IssueFromStatus(feedback.status());
  if (issue.expression.rfind("QuestionnaireResponse", 0) != 0) __builtin_trap();
  if (fhir::OperationOutcomeJson(feedback.status()).find(issue.expression) == std::string::npos) {
    __builtin_trap();
  }
  return 0;
}
