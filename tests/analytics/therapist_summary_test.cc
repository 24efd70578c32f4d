// Therapist summaries (analytics/therapist_summary.h) with hand-computed values: a dyad's
// contribution from its analysis, the fields it is stored as, the sums read back, the
// shrinkage toward the tenant and the intervals, small n included.
#include "analytics/therapist_summary.h"

#include <gtest/gtest.h>

#include <cmath>

#include "analytics/rules.h"

namespace alliance::analytics {
namespace {

constexpr int64_t kDay = 86'400'000;

SeriesPicture Series(Rater rater, const std::string& instrument, int last_session, double pomp,
                     int ruptures) {
  SeriesPicture s;
  s.rater = rater;
  s.instrument_id = instrument;
  s.session_count = last_session;
  s.last_session_number = last_session;
  s.latest_pomp = pomp;
  s.rupture_count = ruptures;
  return s;
}

AlertEvent Event(AlertKind kind, const std::string& episode) {
  AlertEvent e;
  e.kind = kind;
  e.episode_id = episode;
  return e;
}

TEST(ContributionTest, CountsOneDyadByHand) {
  DyadAnalysis a;
  // Client SRS rated to session 6 (latest 70 POMP), client WAI-SR to session 4 (ignored: not
  // the latest client session), therapist WAI-SR-T to session 6.
  a.series = {Series(Rater::kClient, "srs", 6, 70.0, 2), Series(Rater::kClient, "wai-sr", 4, 90, 0),
              Series(Rater::kTherapist, "wai-sr-t", 6, 50, 1)};
  // 16 ratings in use, in session order as the analysis keeps them: three at sessions 1-4,
  // two at 5 and 6. The latest session (6) was rated on days 20006 and 20040: day 20040.
  for (int session = 1; session <= 6; ++session) {
    for (int k = 0; k < (session <= 4 ? 3 : 2); ++k) {
      a.points.push_back({session, (20000 + session) * kDay + 5, {}, "", {}});
    }
  }
  a.points.back().session_time_ms = 20040 * kDay + 1;
  // Episode e1 repaired in the window; e2 escalated then repaired (not in the window); e3
  // still open (undecided).
  a.alerts = {Event(AlertKind::kRupture, "e1"),  Event(AlertKind::kRepaired, "e1"),
              Event(AlertKind::kRupture, "e2"),  Event(AlertKind::kUnrepaired, "e2"),
              Event(AlertKind::kRepaired, "e2"), Event(AlertKind::kRupture, "e3")};
  a.gap = RaterGap{3, -5, 12.5};
  a.at_risk = true;

  DyadContribution c = ContributionOf(a);
  EXPECT_EQ(c.latest_day, 20040);
  EXPECT_TRUE(c.at_risk);
  EXPECT_EQ(c.rated_sessions, 16);
  EXPECT_EQ(c.ruptures, 3);
  EXPECT_EQ(c.repaired_in_window, 1);
  EXPECT_EQ(c.repair_decided, 2);
  EXPECT_TRUE(c.has_client_pomp);
  EXPECT_DOUBLE_EQ(c.latest_client_pomp, 70.0);
  EXPECT_TRUE(c.has_gap);
  EXPECT_DOUBLE_EQ(c.mean_gap_pomp, 12.5);

  std::vector<std::pair<std::string, int64_t>> expected = {
      {"dyads", 1},    {"day:20040", 1},   {"risk:20040", 1},    {"sessions", 16},
      {"ruptures", 3}, {"repaired", 1},    {"decided", 2},       {"pomp:70", 1},
      {"gap_n", 1},    {"gap_sum", 12500}, {"gap_sq", 156250000}};
  EXPECT_EQ(ContributionFields(c), expected);
}

TEST(ContributionTest, TwoClientInstrumentsAtTheLatestSessionAreAveraged) {
  DyadAnalysis a;
  a.series = {Series(Rater::kClient, "srs", 5, 80, 0), Series(Rater::kClient, "wai-sr", 5, 61, 0)};
  a.points.push_back({5, -1, {}, "", {}});  // before the epoch: day -1 (floor)
  DyadContribution c = ContributionOf(a);
  EXPECT_DOUBLE_EQ(c.latest_client_pomp, 70.5);
  EXPECT_EQ(c.latest_day, -1);
  // No day field for a negative day; POMP 70.5 falls in bin 70.
  std::vector<std::pair<std::string, int64_t>> expected = {
      {"dyads", 1}, {"sessions", 1}, {"pomp:70", 1}};
  EXPECT_EQ(ContributionFields(c), expected);
}

TEST(ContributionTest, EmptyDyadCountsOnlyItself) {
  DyadContribution c = ContributionOf(DyadAnalysis{});
  std::vector<std::pair<std::string, int64_t>> expected = {{"dyads", 1}};
  EXPECT_EQ(ContributionFields(c), expected);
}

TEST(SummaryCountsTest, ReadsFieldsAndRefusesUnknownOnes) {
  SummaryCounts s;
  ASSERT_TRUE(s.AddField("dyads", "3").ok());
  ASSERT_TRUE(s.AddField("day:100", "2").ok());
  ASSERT_TRUE(s.AddField("risk:100", "1").ok());
  ASSERT_TRUE(s.AddField("pomp:100", "4").ok());
  ASSERT_TRUE(s.AddField("gap_sum", "-1500").ok());
  EXPECT_EQ(s.dyads, 3);
  EXPECT_EQ(s.dyads_by_day.at(100), 2);
  EXPECT_EQ(s.at_risk_by_day.at(100), 1);
  EXPECT_EQ(s.pomp_bins[100], 4);
  EXPECT_EQ(s.gap_sum_milli, -1500);
  EXPECT_FALSE(s.AddField("pomp:101", "1").ok());
  EXPECT_FALSE(s.AddField("colour", "1").ok());
  EXPECT_FALSE(s.AddField("dyads", "x").ok());
}

TEST(IntervalMathTest, BetaAndTQuantilesByHand) {
  // Beta(1, 1) is uniform; Beta(2, 1) has CDF x^2; Beta(1, 5) has CDF 1 - (1 - x)^5.
  EXPECT_NEAR(RegularizedBeta(0.3, 1, 1), 0.3, 1e-12);
  EXPECT_NEAR(RegularizedBeta(0.3, 2, 1), 0.09, 1e-12);
  EXPECT_NEAR(BetaQuantile(0.25, 2, 1), 0.5, 1e-12);
  EXPECT_NEAR(BetaQuantile(0.975, 1, 5), 1 - std::pow(0.025, 0.2), 1e-12);  // 0.52182
  EXPECT_NEAR(T975(1), 12.7062, 1e-4);
  EXPECT_NEAR(T975(10), 2.2281, 1e-4);
  EXPECT_NEAR(T975(30), 2.0423, 1e-4);
  EXPECT_NEAR(T975(60), 2.0003, 2e-4);    // tables: 2.0003
  EXPECT_NEAR(T975(1000), 1.9623, 2e-4);  // tables: 1.9623
}

TEST(ShrinkageTest, ProportionTowardTheTenant) {
  // 0 of 2 at risk, tenant 25%, prior strength 4: (0 + 4 * .25) / (2 + 4) = 1/6; posterior
  // Beta(1, 2 + 3) = Beta(1, 5), whose quantiles are 1 - (1 - p)^(1/5).
  Figure f = ShrunkProportion(0, 2, 0.25, 4);
  EXPECT_EQ(f.n, 2);
  EXPECT_TRUE(f.defined);
  EXPECT_DOUBLE_EQ(f.raw, 0);
  EXPECT_NEAR(f.shrunken, 1.0 / 6, 1e-12);
  EXPECT_NEAR(f.low, 1 - std::pow(0.975, 0.2), 1e-9);   // 0.00505
  EXPECT_NEAR(f.high, 1 - std::pow(0.025, 0.2), 1e-9);  // 0.52182
  // A large caseload barely moves: 40 of 100 toward .25 with 4: 41 / 104.
  EXPECT_NEAR(ShrunkProportion(40, 100, 0.25, 4).shrunken, 41.0 / 104, 1e-12);
  // No data: undefined, the prior's mean.
  Figure none = ShrunkProportion(0, 0, 0.25, 4);
  EXPECT_FALSE(none.defined);
  EXPECT_NEAR(none.shrunken, 0.25, 1e-12);
}

TEST(ShrinkageTest, MeanTowardTheTenant) {
  // Values 10, 20, 30: mean 20, s = 10; k = 2, tenant 5: w = 3/5, 0.6*20 + 0.4*5 = 14;
  // half width t(2) * 10 / sqrt(5) = 4.3027 * 4.47214 = 19.2423.
  Figure f = ShrunkMean(3, 60, 100 + 400 + 900, 5, 2, 99);
  EXPECT_DOUBLE_EQ(f.raw, 20);
  EXPECT_NEAR(f.shrunken, 14, 1e-12);
  EXPECT_NEAR(f.high - f.shrunken, 4.3027 * 10 / std::sqrt(5.0), 1e-9);
  // One value: its SD is the fallback (the tenant's), t with 1 df: 7 * 12.7062 / sqrt(1 + 2).
  Figure one = ShrunkMean(1, 8, 64, 5, 2, 7);
  EXPECT_NEAR(one.shrunken, (8 + 2 * 5) / 3.0, 1e-12);
  EXPECT_NEAR(one.high - one.shrunken, 12.7062 * 7 / std::sqrt(3.0), 1e-9);
  EXPECT_FALSE(ShrunkMean(0, 0, 0, 5, 2, 7).defined);
}

TEST(MedianTest, HistogramMedianAndOrderStatisticInterval) {
  std::array<int64_t, kPompBins> bins{};
  bins[40] = 3;
  bins[60] = 1;
  bins[70] = 1;
  // n = 5: rank 3 is in bin 40 (value 40.5); ranks floor(2.5 - .98 * sqrt 5 = .309) -> 1 and
  // ceil(3.5 + 2.191) = 6 -> 5: 40.5 and 70.5.
  Figure f = HistogramMedian(bins);
  EXPECT_EQ(f.n, 5);
  EXPECT_DOUBLE_EQ(f.raw, 40.5);
  EXPECT_DOUBLE_EQ(f.low, 40.5);
  EXPECT_DOUBLE_EQ(f.high, 70.5);
  bins[100] = 1;  // n = 6: ranks 3 and 4, (40.5 + 60.5) / 2; bin 100 is the value 100
  EXPECT_DOUBLE_EQ(HistogramMedian(bins).raw, 50.5);
  EXPECT_DOUBLE_EQ(HistogramMedian(bins).high, 100);
}

TEST(SummarizeTest, TherapistShrunkTowardTenantWithActiveWindow) {
  SummaryRules rules;  // 90 days, 5 pseudo-dyads, 50 pseudo-sessions
  const int64_t today = 1000;
  SummaryCounts own;
  own.dyads = 3;
  own.dyads_by_day = {{800, 1}, {950, 1}, {1000, 1}};  // day 800 is outside the 90-day window
  own.at_risk_by_day = {{1000, 1}};
  own.rated_sessions = 50;
  own.ruptures = 5;
  own.repaired_in_window = 1;
  own.repair_decided = 2;
  own.pomp_bins[60] = 2;
  own.pomp_bins[80] = 1;
  SummaryCounts tenant = own;
  tenant.dyads = 20;
  tenant.dyads_by_day = {{950, 20}};
  tenant.at_risk_by_day = {{950, 2}};
  tenant.rated_sessions = 450;
  tenant.ruptures = 9;
  tenant.repaired_in_window = 6;
  tenant.repair_decided = 8;
  tenant.pomp_bins = {};
  tenant.pomp_bins[70] = 20;

  SummaryFigures t = Summarize(tenant, nullptr, rules, today);
  EXPECT_EQ(t.active_dyads.n, 20);
  EXPECT_DOUBLE_EQ(t.at_risk_share.shrunken, 0.1);
  EXPECT_DOUBLE_EQ(t.ruptures_per_100.raw, 2);
  EXPECT_DOUBLE_EQ(t.repaired_share.raw, 0.75);

  SummaryFigures s = Summarize(own, &tenant, rules, today);
  EXPECT_EQ(s.dyads, 3);
  EXPECT_EQ(s.active_dyads.n, 2);
  // At risk 1 of 2 toward .1 with 5: (1 + .5) / 7.
  EXPECT_DOUBLE_EQ(s.at_risk_share.raw, 0.5);
  EXPECT_NEAR(s.at_risk_share.shrunken, 1.5 / 7, 1e-12);
  // Ruptures 5 of 50 toward .02 with 50: (5 + 1) / 100 = 6 per 100.
  EXPECT_DOUBLE_EQ(s.ruptures_per_100.raw, 10);
  EXPECT_NEAR(s.ruptures_per_100.shrunken, 6, 1e-12);
  // Repaired 1 of 2 toward .75 with 5: (1 + 3.75) / 7.
  EXPECT_NEAR(s.repaired_share.shrunken, 4.75 / 7, 1e-12);
  // Median of 60.5, 60.5, 80.5 = 60.5; toward 70.5 with w = 3 / 8: 66.75.
  EXPECT_DOUBLE_EQ(s.median_client_pomp.raw, 60.5);
  EXPECT_NEAR(s.median_client_pomp.shrunken, 66.75, 1e-12);
  EXPECT_FALSE(s.mean_gap_pomp.defined);
}

TEST(SummaryRulesTest, DefaultsFromTheRulesFileAndRanges) {
  auto c = ParseRuleConfigJson(
      R"({"therapist_active_days": 30, "therapist_prior_dyads": 0,
          "therapist_prior_sessions": 10})",
      "r.json");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->summaries.active_days, 30);
  EXPECT_EQ(c->summaries.prior_dyads, 0);
  EXPECT_EQ(c->summaries.prior_sessions, 10);
  EXPECT_FALSE(ParseRuleConfigJson(R"({"therapist_active_days": 0})", "r.json").ok());
  EXPECT_FALSE(ParseRuleConfigJson(R"({"therapist_prior_dyads": -1})", "r.json").ok());
}

}  // namespace
}  // namespace alliance::analytics
