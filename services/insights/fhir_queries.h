// What the FHIR endpoints of insights read and render (docs/fhir.md, "Out"), shared by the gRPC
// methods (fhir_rpc.cc) and the HTTP routes (fhir_http.cc): one dyad's timeline and its open
// alerts, read under the caller's tenant, and the resources made of them by common/fhir/
// (the registry's own resources are rendered once: fhir_definitions.h).
#ifndef ALLIANCE_SERVICES_INSIGHTS_FHIR_QUERIES_H_
#define ALLIANCE_SERVICES_INSIGHTS_FHIR_QUERIES_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "alliance/v1/insights.pb.h"
#include "analytics/registry.h"
#include "common/fhir/dyad_bundle.h"
#include "store/keys.h"
#include "store/redis_executor.h"

namespace alliance::insights {

// The dyad's timeline (alert statuses overlaid) and its open alerts: the rupture alerts of
// episodes still open, and the unrepaired alerts of those episodes that are not resolved.
// NOT_FOUND when `tenant` has no such dyad.
absl::StatusOr<fhir::DyadFhirInput> ReadDyadFhirInput(RedisExecutor& redis, const KeyLayout& layout,
                                                      const analytics::InstrumentRegistry& registry,
                                                      const std::string& tenant,
                                                      const std::string& therapist_id,
                                                      const std::string& client_id);

// The dyad's searchset or transaction Bundle.
alliance::v1::FhirResource DyadBundleResource(const fhir::DyadFhirInput& input,
                                              alliance::v1::FhirBundleType type,
                                              const analytics::InstrumentRegistry& registry);

}  // namespace alliance::insights

#endif  // ALLIANCE_SERVICES_INSIGHTS_FHIR_QUERIES_H_
