// The intake's HTTP routes (docs/fhir.md, "Endpoints"): POST /fhir/QuestionnaireResponse takes
// a FHIR R4 QuestionnaireResponse with the same API key, scope and tenant rules as gRPC and
// answers an OperationOutcome: 201 when stored, 200 for a retry of a stored one, otherwise the
// HTTP status of the error with the FHIRPath of the bad element as its expression. GET
// /fhir/metadata answers the CapabilityStatement (no key needed).
#ifndef ALLIANCE_SERVICES_INTAKE_FHIR_HTTP_H_
#define ALLIANCE_SERVICES_INTAKE_FHIR_HTTP_H_

#include "absl/time/time.h"
#include "common/http/http_server.h"
#include "services/intake/intake_service.h"

namespace alliance::intake {

// How long an HTTP submission may wait for Redis before it is answered 504 unwritten.
inline constexpr absl::Duration kHttpSubmitDeadline = absl::Seconds(10);

// Adds the routes to `router`; `service` must outlive the server.
void AddFhirRoutes(const IntakeService* service, http::Router& router);

}  // namespace alliance::intake

#endif  // ALLIANCE_SERVICES_INTAKE_FHIR_HTTP_H_
