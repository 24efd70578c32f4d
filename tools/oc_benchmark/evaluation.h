// Runs simulated series through the analytics library exactly as the worker does (one
// DyadAnalyzer per dyad, ratings added one by one) and tallies what the operating
// characteristics are made of: false change alerts of stable dyads, and for true patterns
// whether and when a change rule caught them, and what became of the episode.
#ifndef ALLIANCE_TOOLS_OC_BENCHMARK_EVALUATION_H_
#define ALLIANCE_TOOLS_OC_BENCHMARK_EVALUATION_H_

#include <string>
#include <vector>

#include "analytics/dyad_analysis.h"
#include "analytics/registry.h"
#include "analytics/rules.h"
#include "tools/oc_benchmark/simulation.h"

namespace alliance::oc {

// A rule set under test: the configuration as loaded, or one change rule alone.
struct RuleVariant {
  std::string label;
  analytics::RuleConfig rules;
};

// "all rules" (the configuration itself), then each change rule alone (every other rule,
// below_cutoff included, switched off): reliable_drop, deflection, decline by CUSUM only,
// decline by the fall from the baseline only. A rule the configuration disables is left out.
std::vector<RuleVariant> Variants(const analytics::RuleConfig& rules);

// Every alert event the analyzer emitted for one series (AddResult::new_alerts, in order).
std::vector<analytics::AlertEvent> RunSeries(const analytics::InstrumentRegistry& registry,
                                             const analytics::RuleConfig& rules,
                                             const SimulatedSeries& series);

// True for a rupture event that a change rule (reliable_drop, deflection, decline) opened or
// joined; below_cutoff alone is the level rule and is counted apart.
bool IsChangeRupture(const analytics::AlertEvent& e);

struct StableTally {
  int dyads = 0;
  int change_alerts_12 = 0;  // change ruptures at sessions 1..12
  int change_alerts_40 = 0;  // at sessions 1..40
  int level_alerts_12 = 0;   // below_cutoff-only ruptures at sessions 1..12
  void Add(const std::vector<analytics::AlertEvent>& events);
};

struct PatternTally {
  int dyads = 0;
  int early_alerts = 0;     // change ruptures before the onset (false alarms)
  int at_onset = 0;         // a rupture (any rule) at the onset session
  int caught = 0;           // a rupture (any rule) at or after the onset
  std::vector<int> delays;  // sessions from onset to the first rupture, when caught
  int jt_dyads = 0;         // declines whose observed fall from the baseline became reliable
  int by_jt = 0;            // ... and were flagged no later than that session
  int true_jt_dyads = 0;    // declines (the true fall reaches 1.96 S_diff at a known session)
  int by_true_jt = 0;       // ... flagged no later than that session
  int repaired = 0;         // the caught episode was later reported repaired
  int escalated = 0;        // the caught episode was escalated as unrepaired
  // No episode open at the onset, and the observed drop below the running level there is at
  // least 1.5 population SD.
  int deep_dyads = 0;
  int deep_at_onset = 0;  // ... caught at the onset
  void Add(const analytics::Instrument& instrument, const analytics::RuleConfig& rules,
           const SimulatedSeries& series, const std::vector<analytics::AlertEvent>& events);
  double MedianDelay() const;
};

}  // namespace alliance::oc

#endif  // ALLIANCE_TOOLS_OC_BENCHMARK_EVALUATION_H_
