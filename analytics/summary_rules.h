// The thresholds of therapist summaries (therapist_summary.h) as data: the window that makes
// a dyad active and the prior strengths of the empirical-Bayes shrinkage. Part of RuleConfig,
// read from the same rules file (analytics/rules.default.json); sources in docs/analytics.md.
#ifndef ALLIANCE_ANALYTICS_SUMMARY_RULES_H_
#define ALLIANCE_ANALYTICS_SUMMARY_RULES_H_

#include "absl/status/status.h"

namespace alliance::analytics {

struct SummaryRules {
  // A dyad is active when its latest rated session is at most this many days before today.
  int active_days = 90;
  // Prior strength, in pseudo-dyads (pseudo-episodes for the repair share), with which a
  // therapist's dyad-level figures are shrunk toward the tenant's: a therapist with this
  // many dyads gets half their own figure and half the tenant's.
  double prior_dyads = 5;
  // The same for the rupture rate, in pseudo rated sessions.
  double prior_sessions = 50;

  bool operator==(const SummaryRules&) const = default;
};

namespace internal {
class ObjectReader;
// Reads therapist_active_days, therapist_prior_dyads and therapist_prior_sessions (each
// optional) from the rules object.
absl::Status ReadSummaryRules(ObjectReader& r, SummaryRules* out);
}  // namespace internal

}  // namespace alliance::analytics

#endif  // ALLIANCE_ANALYTICS_SUMMARY_RULES_H_
