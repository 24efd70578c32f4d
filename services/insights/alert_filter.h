// The alert filter shared by ListAlerts and WatchAlerts: which alert entries (store/alert_entry.h)
// a caller asked for, within its own tenant.
#ifndef ALLIANCE_SERVICES_INSIGHTS_ALERT_FILTER_H_
#define ALLIANCE_SERVICES_INSIGHTS_ALERT_FILTER_H_

#include <set>
#include <string>

#include "store/alert_entry.h"

namespace alliance::insights {

// Filters shared by ListAlerts and WatchAlerts.
struct AlertFilter {
  std::string tenant;     // required
  std::string therapist;  // empty: any
  std::string client;     // empty: any
  alliance::v1::Severity min_severity = alliance::v1::SEVERITY_UNSPECIFIED;
  std::set<int> kinds;  // empty: any

  // Cheap check on the header fields (tenant, therapist, client).
  bool MatchesHeader(const AlertEntry& entry) const;
  // Full check; false for entries without a parsed alert.
  bool Matches(const AlertEntry& entry) const;
};

}  // namespace alliance::insights

#endif  // ALLIANCE_SERVICES_INSIGHTS_ALERT_FILTER_H_
