// The insights' FHIR routes on its HTTP port (docs/fhir.md, "Endpoints"), with the API keys,
// scopes and tenant rules of the gRPC API (key in "Authorization: Bearer" or "X-Api-Key"; the
// tenant is the key's, or the `tenant` query parameter when it is the key's too):
//   GET /fhir/metadata                           the CapabilityStatement (no key needed)
//   GET /fhir/Questionnaire                      every instrument, a searchset Bundle (read)
//   GET /fhir/Questionnaire/{instrument_id}      one instrument's Questionnaire (read)
//   GET /fhir/CodeSystem/alliance                the Alliance CodeSystem (read)
//   GET /fhir/dyads/{therapist_id}/{client_id}          Observations and Flags (read)
//   GET /fhir/dyads/{therapist_id}/{client_id}/$export  the same as a transaction Bundle (read)
// Errors are OperationOutcomes with the HTTP status of their code (common/http/http_auth.h).
#ifndef ALLIANCE_SERVICES_INSIGHTS_FHIR_HTTP_H_
#define ALLIANCE_SERVICES_INSIGHTS_FHIR_HTTP_H_

#include "analytics/registry.h"
#include "common/auth.h"
#include "common/http/http_server.h"
#include "services/insights/redis_pool.h"
#include "services/insights/service_metrics.h"
#include "store/keys.h"

namespace alliance::insights {

// What the routes use; everything must outlive the HTTP server.
struct FhirRouteDeps {
  RedisPool* pool = nullptr;
  const KeyLayout* layout = nullptr;
  const analytics::InstrumentRegistry* registry = nullptr;
  const Authorizer* authorizer = nullptr;
  ServiceMetrics* metrics = nullptr;
};

void AddFhirRoutes(const FhirRouteDeps& deps, http::Router& router);

}  // namespace alliance::insights

#endif  // ALLIANCE_SERVICES_INSIGHTS_FHIR_HTTP_H_
