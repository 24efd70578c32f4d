// ListDyads: the store's page of dyads to the response, its resume position to a page token.
#include "services/insights/dyad_queries.h"

#include <utility>

#include "services/insights/tokens.h"

namespace alliance::insights {

absl::Status ListDyadsPage(RedisExecutor& redis, const KeyLayout& layout,
                           const DyadListQuery& query, alliance::v1::ListDyadsResponse* response) {
  absl::StatusOr<DyadPage> page = ListTenantDyads(redis, layout, query);
  if (!page.ok()) return page.status();
  for (alliance::v1::Dyad& dyad : page->dyads) *response->add_dyads() = std::move(dyad);
  if (page->resume_after) {
    response->set_next_page_token(EncodeDyadPageToken(*page->resume_after));
  }
  return absl::OkStatus();
}

}  // namespace alliance::insights
