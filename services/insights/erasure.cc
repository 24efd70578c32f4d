// DeleteClientData: the store's erasure counts to the response; see erasure.h.
#include "services/insights/erasure.h"

namespace alliance::insights {

absl::StatusOr<alliance::v1::DeleteClientDataResponse> EraseClient(RedisExecutor& redis,
                                                                   const KeyLayout& layout,
                                                                   const std::string& tenant,
                                                                   const std::string& client,
                                                                   ErasureLimits limits) {
  absl::StatusOr<ErasedClientData> erased = EraseClientData(redis, layout, tenant, client, limits);
  if (!erased.ok()) return erased.status();
  alliance::v1::DeleteClientDataResponse removed;
  removed.set_dyad_states(erased->dyad_states);
  removed.set_dyad_index_entries(erased->dyad_index_entries);
  removed.set_alert_entries(erased->alert_entries);
  removed.set_alert_statuses(erased->alert_statuses);
  removed.set_feedback_entries(erased->feedback_entries);
  removed.set_dead_letters(erased->dead_letters);
  removed.set_idempotency_records(erased->idempotency_records);
  return removed;
}

absl::StatusOr<alliance::v1::DeleteClientDataResponse> EraseClient(RedisConnection& redis,
                                                                   const KeyLayout& layout,
                                                                   const std::string& tenant,
                                                                   const std::string& client,
                                                                   ErasureLimits limits) {
  ConnectionExecutor executor(redis);
  return EraseClient(executor, layout, tenant, client, limits);
}

}  // namespace alliance::insights
