// Alert filters; see alert_filter.h.
#include "services/insights/alert_filter.h"

namespace alliance::insights {

bool AlertFilter::MatchesHeader(const AlertEntry& entry) const {
  if (entry.tenant != tenant) return false;
  if (!therapist.empty() && entry.therapist != therapist) return false;
  if (!client.empty() && entry.client != client) return false;
  return true;
}

bool AlertFilter::Matches(const AlertEntry& entry) const {
  if (entry.alert == nullptr || !MatchesHeader(entry)) return false;
  if (entry.alert->severity() < min_severity) return false;
  if (!kinds.empty() && !kinds.contains(entry.alert->kind())) return false;
  return true;
}

}  // namespace alliance::insights
