// ListAlerts and the alert lookup of AcknowledgeAlert / ResolveAlert on the store's reads: the
// merged newest-first walk of the alert streams (store/alert_reads.h), the status overlay
// (store/alert_status_reads.h) and the dyad read (store/dyad_reads.h). Filters, paging and page
// tokens are decided here.
#include "services/insights/alert_queries.h"

#include <memory>
#include <vector>

#include "store/alert_reads.h"
#include "store/alert_status_reads.h"
#include "store/dyad_reads.h"

namespace alliance::insights {
namespace {

struct Candidate {
  alliance::v1::Alert alert;
  AlertWalk walk_after;
};

// Applies statuses to `pending`, moves those passing the status filter into the page, and
// sets the page token when the page filled up before the last candidate.
absl::Status Flush(RedisExecutor& redis, const KeyLayout& layout, const AlertListQuery& query,
                   std::vector<Candidate>* pending, alliance::v1::ListAlertsResponse* response,
                   bool* full) {
  std::vector<alliance::v1::Alert*> alerts;
  for (Candidate& c : *pending) alerts.push_back(&c.alert);
  if (absl::Status s = ReadAlertStatuses(redis, layout, query.filter.tenant, alerts); !s.ok()) {
    return s;
  }
  for (Candidate& c : *pending) {
    if (query.status != alliance::v1::ALERT_STATUS_UNSPECIFIED &&
        c.alert.status() != query.status) {
      continue;
    }
    *response->add_alerts() = std::move(c.alert);
    if (response->alerts_size() == query.page_size) {
      response->set_next_page_token(EncodeAlertPageToken(c.walk_after));
      *full = true;
      break;
    }
  }
  pending->clear();
  return absl::OkStatus();
}

}  // namespace

absl::Status ListAlertsPage(RedisExecutor& redis, const KeyLayout& layout,
                            const AlertListQuery& query,
                            alliance::v1::ListAlertsResponse* response) {
  NewestAlertsFirst merger(redis, layout, query.walk, /*parse_bodies=*/false);
  std::vector<Candidate> pending;
  bool full = false;
  int examined = 0;
  while (!full && examined < query.max_examined) {
    absl::StatusOr<std::unique_ptr<AlertEntry>> next = merger.Next();
    if (!next.ok()) return next.status();
    if (*next == nullptr) break;
    ++examined;
    AlertEntry& entry = **next;
    if (!query.filter.MatchesHeader(entry)) continue;
    // Parsed only now: other tenants' alerts are never decoded.
    ParseAlertBody(&entry);
    if (!query.filter.Matches(entry)) continue;
    pending.push_back({*entry.alert, merger.walk()});
    if (static_cast<int>(pending.size()) + response->alerts_size() >= query.page_size) {
      if (absl::Status s = Flush(redis, layout, query, &pending, response, &full); !s.ok()) {
        return s;
      }
    }
  }
  if (!full && !pending.empty()) {
    if (absl::Status s = Flush(redis, layout, query, &pending, response, &full); !s.ok()) return s;
  }
  if (!full && examined >= query.max_examined && !merger.exhausted()) {
    response->set_next_page_token(EncodeAlertPageToken(merger.walk()));
  }
  return absl::OkStatus();
}

absl::StatusOr<alliance::v1::Alert> FindAlert(RedisExecutor& redis, const KeyLayout& layout,
                                              std::string_view tenant, std::string_view alert_id,
                                              std::string_view therapist, std::string_view client,
                                              int max_examined) {
  alliance::v1::Alert found;
  bool have = false;
  if (!therapist.empty() && !client.empty()) {
    absl::StatusOr<alliance::internal::v1::DyadRecord> record =
        ReadTenantDyad(redis, layout, tenant, therapist, client);
    if (!record.ok() && record.status().code() != absl::StatusCode::kNotFound) {
      return record.status();
    }
    if (record.ok()) {
      for (const alliance::v1::Alert& alert : record->alerts()) {
        if (alert.alert_id() == alert_id) {
          found = alert;
          have = true;
          break;
        }
      }
    }
  } else {
    NewestAlertsFirst merger(redis, layout, {}, /*parse_bodies=*/false);
    for (int examined = 0; examined < max_examined && !have; ++examined) {
      absl::StatusOr<std::unique_ptr<AlertEntry>> next = merger.Next();
      if (!next.ok()) return next.status();
      if (*next == nullptr) break;
      if ((*next)->alert_id != alert_id || (*next)->tenant != tenant) continue;
      ParseAlertBody(next->get());
      if ((*next)->alert == nullptr) continue;
      found = *(*next)->alert;
      have = true;
    }
  }
  if (!have || found.tenant_id() != tenant) return absl::NotFoundError("alert not found");
  std::vector<alliance::v1::Alert*> one = {&found};
  if (absl::Status s = ReadAlertStatuses(redis, layout, tenant, one); !s.ok()) return s;
  return found;
}

}  // namespace alliance::insights
