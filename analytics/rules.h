// Clinical thresholds of the rolling picture and the rupture/repair rules, as data with
// documented defaults (see docs/analytics.md). Loaded from JSON so operators can tune them.
#ifndef ALLIANCE_ANALYTICS_RULES_H_
#define ALLIANCE_ANALYTICS_RULES_H_

#include <string_view>

#include "absl/status/statusor.h"

namespace alliance::analytics {

struct RuleConfig {
  // Rolling picture.
  double ewma_alpha = 0.3;    // weight of the newest session
  int recent_window = 5;      // k for recent mean and slope
  int baseline_sessions = 3;  // sessions that form the baseline
  // |slope| per session above this fraction of the reliable-change threshold is a trend.
  double trend_fraction_of_rc = 0.25;

  // below_cutoff: uses the instrument's cutoff; applies from session 1.
  bool below_cutoff_enabled = true;

  // reliable_drop: Jacobson-Truax RC = (x2 - x1) / (SD * sqrt(2) * sqrt(1 - r)).
  bool reliable_drop_enabled = true;
  double reliable_change_z = 1.96;  // drop is reliable when RC < -z

  // deflection: drop of at least k * SD below the running level (mean of the last
  // `recent_window` earlier sessions), once a baseline exists. SD is the stricter (larger) of
  // the within-dyad SD, floored, and the population SD.
  bool deflection_enabled = true;
  double deflection_k = 1.0;
  double within_sd_floor_fraction = 0.05;  // floor = fraction * (total max - total min)

  // decline: one-sided CUSUM on (baseline - x) / SD (SD as for deflection), slack per
  // session, alarm at limit, summed afresh over the last `decline_max_sessions` sessions after
  // the baseline (and after the last repaired episode). Slack 0.5 SD is Page's choice for a
  // 1-SD shift; it also keeps SRS scores wandering 36-40 (at most 0.8 SD) from ever alarming.
  bool decline_enabled = true;
  double cusum_slack = 0.5;
  double cusum_limit = 3.0;
  int decline_max_sessions = 6;  // a decline is judged over at most this many sessions

  // Repair: back to at least the pre-rupture level within this many sessions, else escalate.
  int repair_window_sessions = 3;

  bool operator==(const RuleConfig&) const = default;
};

// Parses a JSON object whose keys are the field names above; absent keys keep defaults.
// Unknown keys and out-of-range values are INVALID_ARGUMENT naming the key. A "$comment" key
// (any value) is ignored, so operators can annotate their copy of analytics/rules.default.json.
absl::StatusOr<RuleConfig> ParseRuleConfigJson(std::string_view json, std::string_view source);

}  // namespace alliance::analytics

#endif  // ALLIANCE_ANALYTICS_RULES_H_
