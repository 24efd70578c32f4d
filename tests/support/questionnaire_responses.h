// FHIR R4 QuestionnaireResponse resources for the integration tests, built the way a platform
// would send them (docs/fhir.md, "QuestionnaireResponse in"): identifier, subject, author,
// encounter, session-number extension, authored, questionnaire and one flat item per answer.
#ifndef ALLIANCE_TESTS_SUPPORT_QUESTIONNAIRE_RESPONSES_H_
#define ALLIANCE_TESTS_SUPPORT_QUESTIONNAIRE_RESPONSES_H_

#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace alliance::testing {

struct QuestionnaireResponseSpec {
  std::string identifier;  // the idempotency id
  std::string instrument_id = "srs";
  std::string therapist_id = "therapist-7";
  std::string client_id = "client-1";
  std::string rater = "client";  // "client", "therapist" or "observer"
  std::string observer_id = "observer-1";
  int session_number = 1;
  absl::Time authored = absl::Now() - absl::Hours(2);
  std::vector<double> answers;  // item 1..n
  bool decimal = false;         // valueDecimal instead of valueInteger
};

// The resource as JSON text.
std::string QuestionnaireResponseJson(const QuestionnaireResponseSpec& spec);

}  // namespace alliance::testing

#endif  // ALLIANCE_TESTS_SUPPORT_QUESTIONNAIRE_RESPONSES_H_
