// A valid QuestionnaireResponse (as nlohmann::json) for a built-in instrument, built from the
// instrument's Questionnaire as a form would fill it in, for the tests to break one element at a
// time.
#ifndef ALLIANCE_TESTS_FHIR_QR_BUILDER_H_
#define ALLIANCE_TESTS_FHIR_QR_BUILDER_H_

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "common/fhir/fhir.h"
#include "nlohmann/json.hpp"

namespace alliance::fhir::testing {

inline nlohmann::json ByIdentifier(const std::string& system, const std::string& value) {
  return {{"identifier", {{"system", system}, {"value", value}}}};
}

// Answers the Questionnaire `questionnaire` (JSON) with answer(i) for item i, keeping its
// nesting when `nested` (flat otherwise).
template <typename AnswerFn>
nlohmann::json AnswerItems(const nlohmann::json& questionnaire_items, bool nested,
                           const std::string& value_key, AnswerFn answer,
                           nlohmann::json* flat_out) {
  nlohmann::json out = nlohmann::json::array();
  for (const nlohmann::json& q : questionnaire_items) {
    if (q["type"] == "group") {
      nlohmann::json children = AnswerItems(q["item"], nested, value_key, answer, flat_out);
      if (nested) out.push_back({{"linkId", q["linkId"]}, {"item", children}});
      continue;
    }
    int item = std::stoi(q["linkId"].get<std::string>());
    nlohmann::json value = answer(item);
    // A FHIR integer has no fraction in JSON: 4, never 4.0.
    if (value_key == "valueInteger") value = static_cast<int64_t>(std::llround(answer(item)));
    nlohmann::json a = {{"linkId", q["linkId"]},
                        {"answer", nlohmann::json::array({{{value_key, value}}})}};
    if (nested) {
      out.push_back(a);
    } else {
      flat_out->push_back(a);
    }
  }
  return out;
}

// `questionnaire`: the Questionnaire JSON; `rater`: "client", "therapist" or "observer".
template <typename AnswerFn>
nlohmann::json MakeResponse(const nlohmann::json& questionnaire, const std::string& rater,
                            AnswerFn answer, bool nested = true, bool with_version = true) {
  std::string value_key = "valueInteger";
  // The first question item decides the value type.
  nlohmann::json first = questionnaire["item"][0];
  if (first["type"] == "group") first = first["item"][0];
  if (first["type"] == "decimal") value_key = "valueDecimal";

  nlohmann::json qr = {
      {"resourceType", "QuestionnaireResponse"},
      {"identifier", {{"system", kSubmissionSystem}, {"value", "sub-0001"}}},
      {"status", "completed"},
      {"questionnaire",
       questionnaire["url"].get<std::string>() +
           (with_version ? "|" + questionnaire["version"].get<std::string>() : std::string())},
      {"subject", ByIdentifier(kClientSystem, "cl-0042")},
      {"encounter", ByIdentifier(kSessionSystem, "sess-7")},
      {"authored", "2026-03-02T10:30:00+01:00"},
  };
  nlohmann::json ext = nlohmann::json::array();
  ext.push_back({{"url", kSessionNumberExtension}, {"valuePositiveInt", 7}});
  if (rater == "therapist") {
    qr["author"] = ByIdentifier(kTherapistSystem, "th-05");
  } else {
    qr["author"] = rater == "client" ? ByIdentifier(kClientSystem, "cl-0042")
                                     : ByIdentifier(kObserverSystem, "obs-1");
    nlohmann::json therapist = ByIdentifier(kTherapistSystem, "th-05");
    therapist["type"] = "Practitioner";
    ext.push_back({{"url", kTherapistExtension}, {"valueReference", therapist}});
  }
  qr["extension"] = ext;
  nlohmann::json flat = nlohmann::json::array();
  nlohmann::json nested_items =
      AnswerItems(questionnaire["item"], nested, value_key, answer, &flat);
  // A flat list in item order.
  std::sort(flat.begin(), flat.end(), [](const nlohmann::json& a, const nlohmann::json& b) {
    return std::stoi(a["linkId"].get<std::string>()) < std::stoi(b["linkId"].get<std::string>());
  });
  qr["item"] = nested ? nested_items : flat;
  return qr;
}

}  // namespace alliance::fhir::testing

#endif  // ALLIANCE_TESTS_FHIR_QR_BUILDER_H_
