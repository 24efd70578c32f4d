// Simulated series of the operating-characteristics benchmark (simulation.h). A mt19937_64
// stream with our own Box-Muller keeps the output identical on every platform for a seed.
#include "tools/oc_benchmark/simulation.h"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <random>

#include "absl/strings/str_cat.h"
#include "analytics/scoring.h"

namespace alliance::oc {
namespace {

using analytics::Instrument;
using analytics::Rater;
using analytics::Rating;

class Rng {
 public:
  explicit Rng(uint64_t seed) : engine_(seed) {}
  double Uniform() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }
  double Gaussian() {
    double u1 = std::max(Uniform(), 1e-12);
    double u2 = Uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
  }
  int Between(int lo, int hi) { return lo + static_cast<int>(engine_() % (hi - lo + 1)); }

 private:
  std::mt19937_64 engine_;
};

// Answers (by item) whose scored total is `steps` steps above the minimum total: every item
// gets steps / n, the first steps % n items one more; reverse items are mirrored back.
std::vector<double> SpreadTotal(const Instrument& ins, int steps) {
  const int n = ins.item_count;
  std::vector<double> answers(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    int units = steps / n + (i < steps % n ? 1 : 0);
    double scored = ins.item_min + units * ins.step;
    bool reverse = std::find(ins.reverse_items.begin(), ins.reverse_items.end(), i + 1) !=
                   ins.reverse_items.end();
    double answer = reverse ? ins.item_min + ins.item_max - scored : scored;
    answers[static_cast<size_t>(i)] = std::round(answer * 1e6) / 1e6;
  }
  return answers;
}

// True shift from the level at session `n`, in native units.
double PatternShift(const Pattern& p, int n, int onset, double sd) {
  switch (p.kind) {
    case PatternKind::kStable:
      return 0;
    case PatternKind::kVRepaired:
      return n == onset ? -p.size * sd : 0;
    case PatternKind::kDropUnrepaired:
      return n >= onset ? -p.size * sd : 0;
    case PatternKind::kSlowDecline:
      return n >= onset ? -p.size * sd * (n - onset + 1) : 0;
  }
  return 0;
}

}  // namespace

std::vector<SeriesSpec> BuiltInSpecs() {
  return {
      {"srs", Rater::kClient, 91.25, 98.75},  // 36.5-39.5 of 40
      {"wai-sr", Rater::kClient, 60, 85},    {"wai-sr-t", Rater::kTherapist, 50, 75},
      {"haq-ii", Rater::kClient, 60, 85},    {"sai", Rater::kClient, 60, 85},
  };
}

std::vector<Pattern> BenchmarkPatterns() {
  return {
      {PatternKind::kVRepaired, 1.0, "V 1.0 SD, repaired"},
      {PatternKind::kVRepaired, 1.5, "V 1.5 SD, repaired"},
      {PatternKind::kVRepaired, 2.0, "V 2.0 SD, repaired"},
      {PatternKind::kDropUnrepaired, 1.5, "drop 1.5 SD, unrepaired"},
      {PatternKind::kDropUnrepaired, 2.0, "drop 2.0 SD, unrepaired"},
      {PatternKind::kSlowDecline, 0.1, "decline 0.1 SD/session"},
      {PatternKind::kSlowDecline, 0.2, "decline 0.2 SD/session"},
      {PatternKind::kSlowDecline, 0.4, "decline 0.4 SD/session"},
  };
}

double MeasurementError(const Instrument& instrument) {
  return instrument.population_sd * std::sqrt(1.0 - instrument.reliability);
}

uint64_t MixSeed(uint64_t seed, uint64_t a, uint64_t b, uint64_t c, uint64_t d) {
  uint64_t x = seed;
  for (uint64_t v : {a, b, c, d}) {
    x += 0x9e3779b97f4a7c15ULL + v;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    x ^= x >> 31;
  }
  return x;
}

SimulatedSeries Simulate(const Instrument& ins, const SeriesSpec& spec, const Pattern& pattern,
                         const NoiseModel& noise, int sessions, uint64_t seed) {
  Rng rng(seed);
  SimulatedSeries out;
  const double range = ins.TotalMax() - ins.TotalMin();
  const double pomp =
      spec.level_lo_pomp + rng.Uniform() * (spec.level_hi_pomp - spec.level_lo_pomp);
  out.level = ins.TotalMin() + pomp / 100.0 * range;
  out.pattern = pattern;
  out.onset = pattern.kind == PatternKind::kStable ? 0 : rng.Between(6, 8);
  const double noise_sd = noise.error_multiple * MeasurementError(ins);
  const int max_steps = static_cast<int>(std::lround(range / ins.step));
  for (int n = 1; n <= sessions; ++n) {
    // Draw the noise and the missing coin for every session, so a series with missing
    // sessions sees the same noise at the sessions it keeps.
    double e = rng.Gaussian() * noise_sd;
    bool missing = rng.Uniform() < noise.missing_share;
    if (missing && n > 1 && n != out.onset) continue;
    double total = out.level + PatternShift(pattern, n, out.onset, ins.population_sd) + e;
    int steps = static_cast<int>(std::lround((total - ins.TotalMin()) / ins.step));
    steps = std::clamp(steps, 0, max_steps);
    Rating r;
    r.rating_id = absl::StrCat("s", n);
    r.session_number = n;
    r.session_time_ms = 1'700'000'000'000 + int64_t{n} * 604'800'000;  // weekly
    r.rater = spec.rater;
    r.instrument_id = ins.id;
    r.answers = SpreadTotal(ins, steps);
    out.totals.push_back(ins.TotalMin() + steps * ins.step);
    out.ratings.push_back(std::move(r));
  }
  return out;
}

}  // namespace alliance::oc
