// A dyad's scores and open alerts as FHIR R4 Observations and Flags, in a searchset Bundle or a
// transaction Bundle that can be imported twice without creating anything new (docs/fhir.md,
// "Observation and Flag out"). Pure: no I/O.
#ifndef ALLIANCE_COMMON_FHIR_DYAD_BUNDLE_H_
#define ALLIANCE_COMMON_FHIR_DYAD_BUNDLE_H_

#include <string>
#include <string_view>
#include <vector>

#include "alliance/v1/common.pb.h"
#include "alliance/v1/insights.pb.h"
#include "analytics/registry.h"
#include "common/fhir/fhir.h"

namespace alliance::fhir {

struct DyadFhirInput {
  std::string tenant_id, therapist_id, client_id;
  alliance::v1::GetDyadTimelineResponse timeline;  // proto/alliance/v1/insights.proto
  std::vector<alliance::v1::Alert> open_alerts;    // open ruptures and unrepaired alerts
};

// Observation.identifier value of one timeline point: 32 hex digits of a stable hash of
// (tenant, therapist, client, session number, rater, instrument); `occurrence` > 0 only for a
// second or later point with the same key on one timeline.
std::string ObservationIdentifierValue(const DyadFhirInput& input,
                                       const alliance::v1::TimelinePoint& point,
                                       int occurrence = 0);

// "urn:uuid:" + a UUID derived from `system` and `value` (RFC 9562 version 8 layout): the
// fullUrl a transaction gives the resource with that identifier.
std::string DeterministicUrnUuid(std::string_view system, std::string_view value);

// searchset Bundle: one Observation per timeline point (derivedFrom the QuestionnaireResponse
// with the point's idempotency id, encounter the point's session, when the timeline has them),
// one Flag per open alert.
std::string DyadBundleJson(const DyadFhirInput& input,
                           const analytics::InstrumentRegistry& registry);

// transaction Bundle of the same resources: conditional creates (POST with ifNoneExist on the
// identifier), fullUrls urn:uuid:<deterministic uuid>, Flags referencing Observations by them.
std::string DyadTransactionJson(const DyadFhirInput& input,
                                const analytics::InstrumentRegistry& registry);

}  // namespace alliance::fhir

#endif  // ALLIANCE_COMMON_FHIR_DYAD_BUNDLE_H_
