// Cost of analysing one new rating of a dyad with a 50-session history: scoring plus
// detection. The worker calls DyadAnalyzer::Add once per new rating (fast path); a late or
// correcting rating replays its series; AnalyzeDyad is the full batch recompute.
// Run: build/bin/alliance_analytics_benchmark --benchmark_repetitions=5
#include <benchmark/benchmark.h>

#include <cmath>
#include <optional>
#include <vector>

#include "analytics/disengagement.h"
#include "analytics/dyad_analysis.h"
#include "analytics/dyad_analyzer.h"
#include "analytics/registry.h"
#include "analytics/therapist_summary.h"
#include "tests/analytics/rating_builders.h"

namespace alliance::analytics {
namespace {

using namespace alliance::analytics::testing;

constexpr int kHistory = 50;

// A realistic SRS series: ceiling noise, a V-shaped rupture and repair, a slow decline.
double SrsTotalAt(int session) {
  if (session >= 20 && session <= 22) return session == 20 ? 30.0 : (session == 21 ? 34.0 : 38.0);
  if (session >= 35 && session <= 41) return 38.0 - (session - 34) * 1.1;
  return 36.5 + std::fmod(session * 1.7, 3.5);
}
int WaiTotalAt(int session) { return 44 + (session * 7) % 9 - (session >= 35 ? 6 : 0); }

std::vector<Rating> History(bool two_raters) {
  std::vector<Rating> h;
  for (int s = 1; s <= kHistory; ++s) {
    h.push_back(Srs(s, SrsTotalAt(s)));
    if (two_raters) h.push_back(Wai(s, WaiTotalAt(s), Rater::kTherapist));
  }
  return h;
}

void BM_ScoreSrsRating(benchmark::State& state) {
  const Instrument& srs = *InstrumentRegistry::BuiltIn().Find("srs");
  std::vector<double> answers = {9.1, 8.7, 9.3, 9.0};
  for (auto _ : state) benchmark::DoNotOptimize(ScoreAnswers(srs, answers));
}
BENCHMARK(BM_ScoreSrsRating);

// Fast path: the next session of a dyad whose analyzer holds 50 sessions. The analyzer is
// rebuilt (outside the timing) every kBatch ratings, so the history stays within 50..50+kBatch.
void BM_AnalyzerAddNextRating(benchmark::State& state) {
  const bool two_raters = state.range(0) != 0;
  constexpr int kBatch = 32;
  RuleConfig rules;
  std::vector<Rating> history = History(two_raters);
  std::vector<Rating> next;
  for (int s = kHistory + 1; s <= kHistory + kBatch; ++s) {
    next.push_back(two_raters ? Wai(s, WaiTotalAt(s), Rater::kTherapist) : Srs(s, SrsTotalAt(s)));
  }
  auto fresh = [&] {
    DyadAnalyzer a(InstrumentRegistry::BuiltIn(), rules, kDyad);
    a.AddAll(history);
    return a;
  };
  DyadAnalyzer analyzer = fresh();
  size_t i = 0;
  for (auto _ : state) {
    if (i == next.size()) {
      state.PauseTiming();
      analyzer = fresh();
      i = 0;
      state.ResumeTiming();
    }
    benchmark::DoNotOptimize(analyzer.Add(next[i++]));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_AnalyzerAddNextRating)->Arg(0)->Arg(1)->ArgName("two_raters");

// What the worker does per rating: the fast path plus the disengagement evaluation
// (analytics/disengagement.h) over the new analysis.
void BM_AnalyzerAddNextRatingWithEngagement(benchmark::State& state) {
  const bool two_raters = state.range(0) != 0;
  constexpr int kBatch = 32;
  RuleConfig rules;
  std::vector<Rating> history = History(two_raters);
  std::vector<Rating> next;
  for (int s = kHistory + 1; s <= kHistory + kBatch; ++s) {
    next.push_back(two_raters ? Wai(s, WaiTotalAt(s), Rater::kTherapist) : Srs(s, SrsTotalAt(s)));
  }
  auto fresh = [&] {
    DyadAnalyzer a(InstrumentRegistry::BuiltIn(), rules, kDyad);
    a.AddAll(history);
    return a;
  };
  DyadAnalyzer analyzer = fresh();
  std::optional<OpenDisengagement> open;
  size_t i = 0;
  for (auto _ : state) {
    if (i == next.size()) {
      state.PauseTiming();
      analyzer = fresh();
      open.reset();
      i = 0;
      state.ResumeTiming();
    }
    benchmark::DoNotOptimize(analyzer.Add(next[i++]));
    EngagementEvaluation e =
        EvaluateEngagement(kDyad, rules, EngagementOf(analyzer.analysis()), open, 0);
    open = std::move(e.open);
    benchmark::DoNotOptimize(e);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_AnalyzerAddNextRatingWithEngagement)->Arg(0)->Arg(1)->ArgName("two_raters");

// What the worker adds per written dyad for the therapist summaries: the fast path plus the
// dyad's contribution (analytics/therapist_summary.h) in the fields it is stored as.
void BM_AnalyzerAddNextRatingWithSummary(benchmark::State& state) {
  const bool two_raters = state.range(0) != 0;
  constexpr int kBatch = 32;
  RuleConfig rules;
  std::vector<Rating> history = History(two_raters);
  std::vector<Rating> next;
  for (int s = kHistory + 1; s <= kHistory + kBatch; ++s) {
    next.push_back(two_raters ? Wai(s, WaiTotalAt(s), Rater::kTherapist) : Srs(s, SrsTotalAt(s)));
  }
  auto fresh = [&] {
    DyadAnalyzer a(InstrumentRegistry::BuiltIn(), rules, kDyad);
    a.AddAll(history);
    return a;
  };
  DyadAnalyzer analyzer = fresh();
  size_t i = 0;
  for (auto _ : state) {
    if (i == next.size()) {
      state.PauseTiming();
      analyzer = fresh();
      i = 0;
      state.ResumeTiming();
    }
    benchmark::DoNotOptimize(analyzer.Add(next[i++]));
    benchmark::DoNotOptimize(ContributionFields(ContributionOf(analyzer.analysis())));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_AnalyzerAddNextRatingWithSummary)->Arg(0)->Arg(1)->ArgName("two_raters");

// Slow path: a correcting rating for session 25 of 50 replays its series.
void BM_AnalyzerAddLateRating(benchmark::State& state) {
  RuleConfig rules;
  DyadAnalyzer analyzer(InstrumentRegistry::BuiltIn(), rules, kDyad);
  analyzer.AddAll(History(false));
  Rating late = Srs(25, 31);
  int64_t n = 0;
  for (auto _ : state) {
    late.rating_id = "late";  // same id would be a duplicate: vary the time and id instead
    late.rating_id += std::to_string(n);
    late.session_time_ms += 1;  // later than the current winner, so it replaces it
    ++n;
    benchmark::DoNotOptimize(analyzer.Add(late));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_AnalyzerAddLateRating);

// Full recompute from the stored history (what a stateless caller would do per rating).
void BM_AnalyzeDyadFullHistory(benchmark::State& state) {
  RuleConfig rules;
  std::vector<Rating> history = History(state.range(0) != 0);
  for (auto _ : state) {
    benchmark::DoNotOptimize(AnalyzeDyad(InstrumentRegistry::BuiltIn(), rules, kDyad, history));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_AnalyzeDyadFullHistory)->Arg(0)->Arg(1)->ArgName("two_raters");

}  // namespace
}  // namespace alliance::analytics

BENCHMARK_MAIN();
