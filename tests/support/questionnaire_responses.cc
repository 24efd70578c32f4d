// Builder of test QuestionnaireResponses; see questionnaire_responses.h.
#include "tests/support/questionnaire_responses.h"

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"

namespace alliance::testing {
namespace {

constexpr char kBase[] = "https://alliance.health/fhir";

nlohmann::json ByIdentifier(const std::string& system, const std::string& value) {
  return {{"identifier", {{"system", absl::StrCat(kBase, "/sid/", system)}, {"value", value}}}};
}

}  // namespace

std::string QuestionnaireResponseJson(const QuestionnaireResponseSpec& spec) {
  nlohmann::json qr = {
      {"resourceType", "QuestionnaireResponse"},
      {"identifier",
       {{"system", absl::StrCat(kBase, "/sid/submission")}, {"value", spec.identifier}}},
      {"status", "completed"},
      {"questionnaire", absl::StrCat(kBase, "/Questionnaire/", spec.instrument_id)},
      {"subject", ByIdentifier("client", spec.client_id)},
      {"encounter", ByIdentifier("session", absl::StrCat("s-", spec.session_number))},
      {"authored", absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", spec.authored, absl::UTCTimeZone())},
  };
  nlohmann::json extensions = nlohmann::json::array();
  extensions.push_back({{"url", absl::StrCat(kBase, "/StructureDefinition/session-number")},
                        {"valuePositiveInt", spec.session_number}});
  if (spec.rater == "therapist") {
    qr["author"] = ByIdentifier("therapist", spec.therapist_id);
  } else {
    qr["author"] = spec.rater == "client" ? ByIdentifier("client", spec.client_id)
                                          : ByIdentifier("observer", spec.observer_id);
    extensions.push_back({{"url", absl::StrCat(kBase, "/StructureDefinition/therapist")},
                          {"valueReference", ByIdentifier("therapist", spec.therapist_id)}});
  }
  qr["extension"] = extensions;
  nlohmann::json items = nlohmann::json::array();
  for (size_t i = 0; i < spec.answers.size(); ++i) {
    nlohmann::json answer;
    if (spec.decimal) {
      answer["valueDecimal"] = spec.answers[i];
    } else {
      answer["valueInteger"] = static_cast<int>(spec.answers[i]);
    }
    items.push_back({{"linkId", std::to_string(i + 1)}, {"answer", {answer}}});
  }
  qr["item"] = items;
  return qr.dump();
}

}  // namespace alliance::testing
