// Noise models and true alliance patterns of the operating-characteristics benchmark: one
// simulated series (one rater on one instrument) per dyad, with the true onset of its pattern,
// turned into ratings the analytics library scores like any other. Deterministic per seed.
#ifndef ALLIANCE_TOOLS_OC_BENCHMARK_SIMULATION_H_
#define ALLIANCE_TOOLS_OC_BENCHMARK_SIMULATION_H_

#include <cstdint>
#include <string>
#include <vector>

#include "analytics/dyad_analysis.h"
#include "analytics/instrument.h"

namespace alliance::oc {

// Who rates on which instrument, and where the dyads' true levels lie (percent of maximum).
struct SeriesSpec {
  std::string instrument_id;
  analytics::Rater rater = analytics::Rater::kClient;
  double level_lo_pomp = 0;
  double level_hi_pomp = 0;
};

// The built-in instruments as the benchmark rates them: SRS near its ceiling (true levels
// 36.5-39.5 of 40, so totals pile up at 40), WAI-SR, SAI and HAq-II by clients, and the
// WAI-SR therapist form by therapists (a little lower, as therapists rate).
std::vector<SeriesSpec> BuiltInSpecs();

enum class PatternKind {
  kStable,          // no true change
  kVRepaired,       // sudden drop of `size` population SD at the onset, back the next session
  kDropUnrepaired,  // sudden drop of `size` SD at the onset that stays
  kSlowDecline,     // a fall of `size` SD per session from the onset on, no recovery
};

struct Pattern {
  PatternKind kind = PatternKind::kStable;
  double size = 0;  // depth in population SD, or slope in population SD per session
  std::string label;
};

// The patterns reported: V-shapes of 1, 1.5 and 2 SD, unrepaired drops of 1.5 and 2 SD,
// slow declines of 0.1, 0.2 and 0.4 SD per session.
std::vector<Pattern> BenchmarkPatterns();

// Within-client session noise: a Gaussian SD of `error_multiple` times the instrument's
// measurement error SD * sqrt(1 - r); each session after the first is missing (not rated)
// with probability `missing_share`.
struct NoiseModel {
  double error_multiple = 1.0;
  double missing_share = 0;
  std::string label;
};

struct SimulatedSeries {
  std::vector<analytics::Rating> ratings;  // in session order; missing sessions absent
  std::vector<double> totals;              // observed totals of those ratings
  int onset = 0;                           // session number of the onset (0 for stable)
  double level = 0;                        // true level before the onset (native units)
  Pattern pattern;                         // the true pattern simulated
};

// Session numbers 1..`sessions`; patterned series have their onset at session 6, 7 or 8
// (a baseline and a running level exist before it). Totals are the true level plus the
// pattern plus noise, kept inside the scale (so SRS totals above 40 become 40) and rounded to
// the scale's step; answers spread the total evenly over the items (reverse items mirrored).
SimulatedSeries Simulate(const analytics::Instrument& instrument, const SeriesSpec& spec,
                         const Pattern& pattern, const NoiseModel& noise, int sessions,
                         uint64_t seed);

// Measurement error of one administration: population SD * sqrt(1 - reliability).
double MeasurementError(const analytics::Instrument& instrument);

// SplitMix64 step, to derive independent seeds for every dyad from one benchmark seed.
uint64_t MixSeed(uint64_t seed, uint64_t a, uint64_t b, uint64_t c, uint64_t d);

}  // namespace alliance::oc

#endif  // ALLIANCE_TOOLS_OC_BENCHMARK_SIMULATION_H_
