// The FHIR resources that depend only on the instrument registry (each instrument's
// Questionnaire, the Bundle of all, the Alliance CodeSystem), rendered once when insights starts
// instead of on every request: the registry does not change while the process runs.
#ifndef ALLIANCE_SERVICES_INSIGHTS_FHIR_DEFINITIONS_H_
#define ALLIANCE_SERVICES_INSIGHTS_FHIR_DEFINITIONS_H_

#include <string>
#include <string_view>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "alliance/v1/insights.pb.h"
#include "analytics/registry.h"

namespace alliance::insights {

class FhirDefinitions {
 public:
  explicit FhirDefinitions(const analytics::InstrumentRegistry& registry);

  // One instrument's Questionnaire, or (empty id) the searchset Bundle of all; NOT_FOUND
  // naming the id.
  absl::StatusOr<alliance::v1::FhirResource> Questionnaire(std::string_view instrument_id) const;
  // The Alliance CodeSystem (JSON).
  const std::string& code_system() const { return code_system_; }

 private:
  absl::flat_hash_map<std::string, alliance::v1::FhirResource> questionnaires_;
  alliance::v1::FhirResource bundle_;
  std::string code_system_;
};

}  // namespace alliance::insights

#endif  // ALLIANCE_SERVICES_INSIGHTS_FHIR_DEFINITIONS_H_
