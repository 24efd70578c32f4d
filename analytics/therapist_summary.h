// Therapist summaries for supervision (not ranking): what one dyad contributes to its
// therapist's and its tenant's figures, those contributions summed, and the figures with their
// n, an interval and empirical-Bayes shrinkage toward the tenant. Pure: the worker stores each
// dyad's contribution and adds the difference to the aggregates in the write of the record
// (store/lua/apply_batch.lua); insights sums the partitions' aggregates and calls Summarize.
// The definitions and formulas, with sources, are in docs/analytics.md ("Therapist summaries").
#ifndef ALLIANCE_ANALYTICS_THERAPIST_SUMMARY_H_
#define ALLIANCE_ANALYTICS_THERAPIST_SUMMARY_H_

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "analytics/dyad_analysis.h"
#include "analytics/summary_rules.h"

namespace alliance::analytics {

// POMP histogram resolution: bin b holds latest client POMP in [b, b + 1), bin 100 holds 100.
inline constexpr int kPompBins = 101;

// What one dyad adds to its therapist's figures.
struct DyadContribution {
  // UTC day (days since 1970-01-01) of the latest rated session: the highest session number,
  // the latest of its session times.
  int64_t latest_day = -1;
  bool at_risk = false;
  int64_t rated_sessions = 0;      // ratings in use: one rater, instrument and session each
  int64_t ruptures = 0;            // rupture episodes opened, every series
  int64_t repaired_in_window = 0;  // episodes repaired with no escalation before
  int64_t repair_decided = 0;      // episodes repaired in the window or escalated
  bool has_client_pomp = false;
  double latest_client_pomp = 0;  // client series rated last (mean if several at that session)
  bool has_gap = false;
  double mean_gap_pomp = 0;  // RaterGap::mean_gap_pomp
};

DyadContribution ContributionOf(const DyadAnalysis& analysis);

// The contribution as integer hash fields (only the non-zero ones), the form stored per dyad
// and added to the aggregates with HINCRBY: integers, so adding and subtracting is exact.
// POMP figures are in thousandths ("gap_sum"), squares in millionths ("gap_sq").
std::vector<std::pair<std::string, int64_t>> ContributionFields(const DyadContribution& c);

// Sum of contributions, from aggregate hash fields (added up over partitions).
struct SummaryCounts {
  int64_t dyads = 0;
  std::map<int64_t, int64_t> dyads_by_day;    // latest rated day -> dyads
  std::map<int64_t, int64_t> at_risk_by_day;  // the same for dyads at risk
  int64_t rated_sessions = 0, ruptures = 0, repaired_in_window = 0, repair_decided = 0;
  std::array<int64_t, kPompBins> pomp_bins{};
  int64_t gap_n = 0, gap_sum_milli = 0, gap_sq_micro = 0;

  // Adds one field of a hash; INVALID_ARGUMENT for an unknown field or a non-integer.
  absl::Status AddField(std::string_view field, std::string_view value);
  void Add(const SummaryCounts& other);
  bool operator==(const SummaryCounts&) const = default;
};

// One figure: n behind it, the raw value, the value shrunk toward the tenant's (the raw one
// for the tenant itself), and a 95% interval. `defined` is false when n is 0.
struct Figure {
  int64_t n = 0;
  double raw = 0;
  double shrunken = 0;
  double low = 0;
  double high = 0;
  bool defined = false;
  bool operator==(const Figure&) const = default;
};

struct SummaryFigures {
  int64_t dyads = 0;          // every dyad stored
  Figure active_dyads;        // a count: raw = shrunken = low = high = n
  Figure at_risk_share;       // of active dyads, 0-1
  Figure ruptures_per_100;    // per 100 rated sessions
  Figure repaired_share;      // of decided episodes, 0-1
  Figure median_client_pomp;  // of latest client POMP, 0-100
  Figure mean_gap_pomp;       // client minus therapist, POMP
};

// The figures of `own` as of UTC day `today`. `tenant` is the tenant's sum to shrink toward,
// or nullptr for the tenant's own figures (no shrinkage).
SummaryFigures Summarize(const SummaryCounts& own, const SummaryCounts* tenant,
                         const SummaryRules& rules, int64_t today);

// Building blocks, exposed for their tests.
// Regularized incomplete beta I_x(a, b) and its inverse (a, b > 0).
double RegularizedBeta(double x, double a, double b);
double BetaQuantile(double p, double a, double b);
// Two-sided 95% Student t quantile (t_{.975}) for df >= 1.
double T975(int64_t df);
// Proportion x of n shrunk toward p0 with prior strength m: the posterior mean of
// Beta(m p0, m (1 - p0)), and the equal-tailed 95% posterior interval (each shape at least .5).
Figure ShrunkProportion(int64_t x, int64_t n, double p0, double m);
// Mean of n values (sum, sum of squares) shrunk toward mu0 with prior strength k
// (normal-normal, k = sigma^2 / tau^2): mean +- t * s / sqrt(n + k); s_fallback when n < 2.
Figure ShrunkMean(int64_t n, double sum, double sum_sq, double mu0, double k, double s_fallback);
// Median of a POMP histogram and its distribution-free 95% interval (order statistics).
Figure HistogramMedian(const std::array<int64_t, kPompBins>& bins);

}  // namespace alliance::analytics

#endif  // ALLIANCE_ANALYTICS_THERAPIST_SUMMARY_H_
