// Reads and renders of the FHIR endpoints; see fhir_queries.h.
#include "services/insights/fhir_queries.h"

#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "services/insights/timeline.h"
#include "store/alert_status_reads.h"
#include "store/dyad_reads.h"

namespace alliance::insights {

absl::StatusOr<fhir::DyadFhirInput> ReadDyadFhirInput(RedisExecutor& redis, const KeyLayout& layout,
                                                      const analytics::InstrumentRegistry& registry,
                                                      const std::string& tenant,
                                                      const std::string& therapist_id,
                                                      const std::string& client_id) {
  absl::StatusOr<alliance::internal::v1::DyadRecord> record =
      ReadTenantDyad(redis, layout, tenant, therapist_id, client_id);
  if (!record.ok()) return record.status();
  std::vector<alliance::v1::Alert*> alerts;
  for (alliance::v1::Alert& alert : *record->mutable_alerts()) alerts.push_back(&alert);
  if (absl::Status s = ReadAlertStatuses(redis, layout, tenant, alerts); !s.ok()) return s;

  fhir::DyadFhirInput input;
  input.tenant_id = tenant;
  input.therapist_id = therapist_id;
  input.client_id = client_id;
  input.timeline = BuildTimeline(*record, registry);
  // An episode is open while its series' picture says so; its rupture alert stays a Flag until
  // the repair, its unrepaired alert until someone resolves it.
  absl::flat_hash_set<std::string> open_episodes;
  for (const alliance::v1::SeriesPicture& series : record->picture().series()) {
    if (series.has_open_rupture()) open_episodes.insert(series.open_rupture().episode_id());
  }
  for (const alliance::v1::Alert& alert : record->alerts()) {
    if (!open_episodes.contains(alert.episode_id())) continue;
    const bool rupture = alert.kind() == alliance::v1::ALERT_KIND_RUPTURE;
    const bool unrepaired = alert.kind() == alliance::v1::ALERT_KIND_UNREPAIRED &&
                            alert.status() != alliance::v1::ALERT_STATUS_RESOLVED;
    if (rupture || unrepaired) input.open_alerts.push_back(alert);
  }
  return input;
}

alliance::v1::FhirResource DyadBundleResource(const fhir::DyadFhirInput& input,
                                              alliance::v1::FhirBundleType type,
                                              const analytics::InstrumentRegistry& registry) {
  alliance::v1::FhirResource resource;
  resource.set_resource_type("Bundle");
  resource.set_json(type == alliance::v1::FHIR_BUNDLE_TYPE_TRANSACTION
                        ? fhir::DyadTransactionJson(input, registry)
                        : fhir::DyadBundleJson(input, registry));
  return resource;
}

}  // namespace alliance::insights
