// Clinical thresholds of the rolling picture and the rupture/repair rules, as data with
// documented defaults (see docs/analytics.md). Loaded from JSON so operators can tune them.
#ifndef ALLIANCE_ANALYTICS_RULES_H_
#define ALLIANCE_ANALYTICS_RULES_H_

#include <string_view>

#include "absl/status/statusor.h"
#include "analytics/summary_rules.h"

namespace alliance::analytics {

// Values match alliance.v1.Severity.
enum class Severity { kInfo = 1, kWarning = 2, kHigh = 3, kCritical = 4 };

struct RuleConfig {
  // Rolling picture.
  double ewma_alpha = 0.3;    // weight of the newest session
  int recent_window = 5;      // k for recent mean and slope
  int baseline_sessions = 3;  // sessions that form the baseline
  // |slope| per session above this fraction of the reliable-change threshold is a trend.
  double trend_fraction_of_rc = 0.13;

  // below_cutoff: uses the instrument's cutoff; applies from session 1.
  bool below_cutoff_enabled = true;

  // reliable_drop: Jacobson-Truax RC = (x2 - x1) / (SD * sqrt(2) * sqrt(1 - r)) from the
  // previous session. The test is repeated at every session, so its z is stricter than the
  // 1.96 of a single pre-post comparison (docs/analytics.md, "Operating characteristics").
  bool reliable_drop_enabled = true;
  double reliable_change_z = 3.7;  // drop is reliable when RC < -z

  // deflection: a drop below the running level (mean of the last `recent_window` earlier
  // sessions), once a baseline exists, that is both clinically meaningful (at least k * SD,
  // SD the stricter (larger) of the within-dyad SD, floored, and the population SD) and a
  // reliable change against that mean: drop / (SD_pop * sqrt(1 - r) * sqrt(1 + 1/m)) >= z,
  // m the sessions in the running level (the error of a mean in the formula). z = 0 leaves
  // the size criterion alone.
  bool deflection_enabled = true;
  double deflection_k = 1.0;
  double deflection_z = 3.4;
  double within_sd_floor_fraction = 0.05;  // floor = fraction * (total max - total min)

  // decline: one-sided CUSUM on (baseline - x) / SD (SD as for deflection), slack per
  // session, alarm at limit, summed afresh over the last `decline_max_sessions` sessions after
  // the baseline (and after the last repaired episode). Slack 0.5 SD is Page's choice for a
  // 1-SD shift; it also keeps SRS scores wandering 36-40 (at most 0.8 SD) from ever alarming.
  bool decline_enabled = true;
  double cusum_slack = 0.5;
  double cusum_limit = 3.0;
  int decline_max_sessions = 6;  // a decline is judged over at most this many sessions

  // decline from the baseline (slow decline, a withdrawal rupture): the fall from the
  // baseline mean to the current session is a reliable change, Jacobson-Truax with the
  // baseline in place of x1 and the error of a mean of `baseline_sessions` scores:
  // (x - baseline) / (SD_pop * sqrt(1 - r) * sqrt(1 + 1/b)) < -z. Raised as a `decline`
  // rupture at the very session the fall becomes reliable, whatever the CUSUM says.
  bool decline_from_baseline_enabled = true;
  double decline_from_baseline_z = 3.4;

  // Repair: back to at least the pre-rupture level within this many sessions, else escalate.
  int repair_window_sessions = 3;

  // Disengagement (disengagement.h): the client stopped rating while the therapist goes on
  // (N sessions rated by the therapist after the client's last rating), or a dyad with an
  // open rupture has had no rating at all for D days. Severity of those alerts (reengaged
  // events are info). 0 disables a trigger.
  int disengagement_therapist_sessions_without_client = 2;
  double disengagement_days_without_rating_open_rupture = 14;
  Severity disengagement_severity = Severity::kHigh;

  // Therapist summaries (summary_rules.h): keys therapist_active_days, therapist_prior_*.
  SummaryRules summaries;

  bool operator==(const RuleConfig&) const = default;
};

// Parses a JSON object whose keys are the field names above; absent keys keep defaults.
// Unknown keys and out-of-range values are INVALID_ARGUMENT naming the key. A "$comment" key
// (any value) is ignored, so operators can annotate their copy of analytics/rules.default.json.
absl::StatusOr<RuleConfig> ParseRuleConfigJson(std::string_view json, std::string_view source);

}  // namespace alliance::analytics

#endif  // ALLIANCE_ANALYTICS_RULES_H_
