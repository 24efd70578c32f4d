// Renders the registry's FHIR resources once; see fhir_definitions.h.
#include "services/insights/fhir_definitions.h"

#include "absl/strings/str_cat.h"
#include "common/fhir/questionnaire.h"
#include "common/strings.h"

namespace alliance::insights {

FhirDefinitions::FhirDefinitions(const analytics::InstrumentRegistry& registry)
    : code_system_(fhir::CodeSystemJson(registry)) {
  bundle_.set_resource_type("Bundle");
  bundle_.set_json(fhir::QuestionnaireBundleJson(registry));
  for (const std::string& id : registry.Ids()) {
    alliance::v1::FhirResource& resource = questionnaires_[id];
    resource.set_resource_type("Questionnaire");
    resource.set_json(fhir::QuestionnaireJson(*registry.Find(id)));
  }
}

absl::StatusOr<alliance::v1::FhirResource> FhirDefinitions::Questionnaire(
    std::string_view instrument_id) const {
  if (instrument_id.empty()) return bundle_;
  auto it = questionnaires_.find(Absl(instrument_id));
  if (it == questionnaires_.end()) {
    return absl::NotFoundError(
        absl::StrCat("instrument_id: no instrument \"", Absl(instrument_id), "\""));
  }
  return it->second;
}

}  // namespace alliance::insights
