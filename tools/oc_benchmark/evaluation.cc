// Tallies of the operating-characteristics benchmark (evaluation.h).
#include "tools/oc_benchmark/evaluation.h"

#include <algorithm>
#include <cmath>

#include "analytics/dyad_analyzer.h"

namespace alliance::oc {
namespace {

using analytics::AlertEvent;
using analytics::AlertKind;
using analytics::Reason;

// Comparisons "at least" tolerate binary rounding of means, as the library's do.
constexpr double kEpsilon = 1e-9;

analytics::RuleConfig Alone(analytics::RuleConfig rules, bool reliable, bool deflection, bool cusum,
                            bool fall) {
  rules.below_cutoff_enabled = false;
  rules.reliable_drop_enabled = reliable;
  rules.deflection_enabled = deflection;
  rules.decline_enabled = cusum;
  rules.decline_from_baseline_enabled = fall;
  return rules;
}

}  // namespace

std::vector<RuleVariant> Variants(const analytics::RuleConfig& rules) {
  std::vector<RuleVariant> out = {{"all rules", rules}};
  if (rules.reliable_drop_enabled) {
    out.push_back({"reliable_drop", Alone(rules, true, false, false, false)});
  }
  if (rules.deflection_enabled) {
    out.push_back({"deflection", Alone(rules, false, true, false, false)});
  }
  if (rules.decline_enabled) {
    out.push_back({"decline (CUSUM)", Alone(rules, false, false, true, false)});
  }
  if (rules.decline_from_baseline_enabled) {
    out.push_back({"decline_from_baseline", Alone(rules, false, false, false, true)});
  }
  return out;
}

std::vector<AlertEvent> RunSeries(const analytics::InstrumentRegistry& registry,
                                  const analytics::RuleConfig& rules,
                                  const SimulatedSeries& series) {
  analytics::DyadAnalyzer analyzer(registry, rules, {"oc-bench", "th", "cl"});
  std::vector<AlertEvent> events;
  for (const analytics::Rating& rating : series.ratings) {
    analytics::DyadAnalyzer::AddResult result = analyzer.Add(rating);
    for (AlertEvent& e : result.new_alerts) events.push_back(std::move(e));
  }
  return events;
}

bool IsChangeRupture(const AlertEvent& e) {
  if (e.kind != AlertKind::kRupture) return false;
  return std::any_of(e.rules_fired.begin(), e.rules_fired.end(), [](Reason r) {
    return r == Reason::kReliableDrop || r == Reason::kDeflection || r == Reason::kDecline;
  });
}

void StableTally::Add(const std::vector<AlertEvent>& events) {
  ++dyads;
  for (const AlertEvent& e : events) {
    if (e.kind != AlertKind::kRupture) continue;
    bool change = IsChangeRupture(e);
    if (change && e.session_number <= 12) ++change_alerts_12;
    if (change && e.session_number <= 40) ++change_alerts_40;
    if (!change && e.session_number <= 12) ++level_alerts_12;
  }
}

void PatternTally::Add(const analytics::Instrument& instrument, const analytics::RuleConfig& rules,
                       const SimulatedSeries& series, const std::vector<AlertEvent>& events) {
  ++dyads;
  // The first rupture (any rule: below_cutoff is an alert too) at or after the onset, and
  // whether an episode was still open when the onset came (it holds back new ruptures).
  const AlertEvent* first = nullptr;
  bool open_at_onset = false;
  for (const AlertEvent& e : events) {
    if (e.session_number < series.onset) {
      if (IsChangeRupture(e)) ++early_alerts;
      if (e.kind == AlertKind::kRupture) open_at_onset = true;
      if (e.kind == AlertKind::kRepaired) open_at_onset = false;
    } else if (first == nullptr && e.kind == AlertKind::kRupture) {
      first = &e;
    }
  }
  // Observed totals before and at the onset: the running level the rules compare with, and
  // the session at which the fall from the baseline became a Jacobson-Truax reliable change
  // (z 1.96, the classic single-comparison bound).
  const std::vector<analytics::Rating>& ratings = series.ratings;
  size_t onset_index = 0;
  while (onset_index < ratings.size() && ratings[onset_index].session_number < series.onset) {
    ++onset_index;
  }
  size_t k = static_cast<size_t>(rules.recent_window);
  size_t from = onset_index >= k ? onset_index - k : 0;
  double level = 0;
  for (size_t j = from; j < onset_index; ++j) level += series.totals[j];
  level /= static_cast<double>(std::max<size_t>(1, onset_index - from));
  bool deep = !open_at_onset && onset_index < ratings.size() &&
              level - series.totals[onset_index] >= 1.5 * instrument.population_sd - kEpsilon;
  int jt_session = 0;
  size_t b = static_cast<size_t>(rules.baseline_sessions);
  if (ratings.size() > b) {
    double baseline = 0;
    for (size_t j = 0; j < b; ++j) baseline += series.totals[j];
    baseline /= static_cast<double>(b);
    double s_diff = instrument.population_sd * std::sqrt(2.0 * (1.0 - instrument.reliability));
    for (size_t j = std::max(onset_index, b); j < ratings.size(); ++j) {
      if ((series.totals[j] - baseline) / s_diff < -1.96) {
        jt_session = ratings[j].session_number;
        break;
      }
    }
  }
  // The same session for the true (noiseless) series: when the true fall first reaches the
  // classic bound 1.96 * S_diff.
  int true_jt_session = 0;
  if (series.pattern.kind == PatternKind::kSlowDecline) {
    double s_diff = instrument.population_sd * std::sqrt(2.0 * (1.0 - instrument.reliability));
    double per_session = series.pattern.size * instrument.population_sd;
    true_jt_session =
        series.onset + static_cast<int>(std::ceil(1.96 * s_diff / per_session - kEpsilon)) - 1;
    ++true_jt_dyads;
  }
  if (deep) ++deep_dyads;
  if (jt_session > 0) ++jt_dyads;
  if (first == nullptr) return;
  ++caught;
  delays.push_back(first->session_number - series.onset);
  if (first->session_number == series.onset) {
    ++at_onset;
    if (deep) ++deep_at_onset;
  }
  if (jt_session > 0 && first->session_number <= jt_session) ++by_jt;
  if (true_jt_session > 0 && first->session_number <= true_jt_session) ++by_true_jt;
  for (const AlertEvent& e : events) {
    if (e.episode_id != first->episode_id) continue;
    if (e.kind == AlertKind::kRepaired) ++repaired;
    if (e.kind == AlertKind::kUnrepaired) ++escalated;
  }
}

double PatternTally::MedianDelay() const {
  if (delays.empty()) return NAN;
  std::vector<int> d = delays;
  std::nth_element(d.begin(), d.begin() + static_cast<ptrdiff_t>(d.size() / 2), d.end());
  return d[d.size() / 2];
}

}  // namespace alliance::oc
