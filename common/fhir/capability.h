// The CapabilityStatement each service answers at GET /fhir/metadata (docs/fhir.md): what a
// FHIR client may do on that HTTP port. Pure: built from constants, no I/O.
#ifndef ALLIANCE_COMMON_FHIR_CAPABILITY_H_
#define ALLIANCE_COMMON_FHIR_CAPABILITY_H_

#include <string>

namespace alliance::fhir {

enum class FhirServer {
  kIntake,    // QuestionnaireResponse create
  kInsights,  // Questionnaire read/search, CodeSystem read, the dyad Bundles
};

// The CapabilityStatement (JSON) of `server`: FHIR 4.0.1, JSON only, API-key security, and the
// resources and interactions its routes serve.
std::string CapabilityStatementJson(FhirServer server);

}  // namespace alliance::fhir

#endif  // ALLIANCE_COMMON_FHIR_CAPABILITY_H_
