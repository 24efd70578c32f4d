// The rolling picture of a series (latest, EWMA, recent mean, baseline, slope, within SD,
// trend), the client-therapist gap, the timeline, and deterministic alert ids, against
// hand-computed values.
#include "analytics/dyad_analysis.h"
#include "analytics/registry.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/analytics/analysis_printer.h"
#include "tests/analytics/rating_builders.h"

namespace alliance::analytics {
namespace {

using namespace alliance::analytics::testing;

DyadAnalysis Analyze(const std::vector<Rating>& history, const RuleConfig& rules = {}) {
  return AnalyzeDyad(InstrumentRegistry::BuiltIn(), rules, kDyad, history);
}

TEST(PictureTest, RollingStatisticsOfAWaiSrSeries) {
  // Totals 40, 44, 42, 46, 48 (sessions 1-5), alpha .3, k = 5, baseline 3 sessions:
  //   EWMA: 40 -> 41.2 -> 41.44 -> 42.808 -> 44.3656
  //   recent mean (last 5) = 220 / 5 = 44; baseline = (40 + 44 + 42) / 3 = 42
  //   slope: x = 1..5 (mean 3), y - 44 = -4, 0, -2, 2, 4: sum dx*dy = 18, sum dx^2 = 10 -> 1.8
  //   trend threshold = .25 * 1.96 * 3.394113 = 1.6631 < 1.8 -> improving
  //   within SD = sqrt((16 + 0 + 4 + 4 + 16) / 4) = sqrt(10) = 3.1623
  //   latest POMP = (48 - 12) / 48 = 75
  DyadAnalysis a = Analyze(WaiSeries({40, 44, 42, 46, 48}));
  EXPECT_TRUE(a.alerts.empty());
  ASSERT_EQ(a.series.size(), 1u);
  const SeriesPicture& p = a.series[0];
  EXPECT_EQ(p.rater, Rater::kClient);
  EXPECT_EQ(p.instrument_id, "wai-sr");
  EXPECT_EQ(p.session_count, 5);
  EXPECT_EQ(p.last_session_number, 5);
  EXPECT_EQ(p.latest, 48);
  EXPECT_DOUBLE_EQ(p.latest_pomp, 75);
  EXPECT_NEAR(p.ewma, 44.3656, 1e-9);
  EXPECT_DOUBLE_EQ(p.recent_mean, 44);
  EXPECT_DOUBLE_EQ(p.baseline, 42);
  EXPECT_TRUE(p.has_baseline);
  EXPECT_NEAR(p.slope, 1.8, 1e-12);
  EXPECT_NEAR(p.within_sd, std::sqrt(10.0), 1e-12);
  EXPECT_EQ(p.trend, Trend::kImproving);
  ASSERT_EQ(p.latest_subscales.size(), 3u);
  EXPECT_EQ(p.latest_subscales[0].name, "task");
  EXPECT_EQ(p.rupture_count, 0);
  EXPECT_FALSE(p.below_cutoff);
  EXPECT_EQ(a.ratings_applied, 5);
  ASSERT_EQ(a.points.size(), 5u);
  EXPECT_EQ(a.points[2].session_number, 3);
  EXPECT_EQ(a.points[2].score.total, 42);
}

TEST(PictureTest, SlopeUsesSessionNumbersAndTheLastKSessions) {
  // k = 3: sessions 2, 4, 8 with totals 40, 40, 46: x mean 14/3, y mean 42;
  // dx = -8/3, -2/3, 10/3; dy = -2, -2, 4: sum dx*dy = 16/3 + 4/3 + 40/3 = 20;
  // sum dx^2 = (64 + 4 + 100) / 9 = 168 / 9 -> slope = 20 * 9 / 168 = 1.0714.
  RuleConfig rules;
  rules.recent_window = 3;
  std::vector<Rating> h = {Wai(1, 30), Wai(2, 40), Wai(4, 40), Wai(8, 46)};
  DyadAnalysis a = Analyze(h, rules);
  EXPECT_NEAR(a.series[0].slope, 180.0 / 168.0, 1e-12);
  EXPECT_DOUBLE_EQ(a.series[0].recent_mean, 42);
}

TEST(PictureTest, NoBaselineOrTrendWithFewSessions) {
  DyadAnalysis a = Analyze(SrsSeries({38, 37}));
  EXPECT_FALSE(a.series[0].has_baseline);
  EXPECT_DOUBLE_EQ(a.series[0].baseline, 37.5);  // mean of what exists, for display
  EXPECT_EQ(a.series[0].trend, Trend::kUnknown);
  EXPECT_NEAR(a.series[0].ewma, 0.3 * 37 + 0.7 * 38, 1e-12);
}

TEST(GapTest, ClientMinusTherapistOnSessionsBothRated) {
  // Client SRS: s1 36 (POMP 90), s2 38 (95). Therapist WAI-SR-T: s1 36 (POMP 24/48 = 50),
  // s2 42 (62.5), s3 48 (75). Both rated s1 and s2: gaps 40 and 32.5; mean 36.25.
  std::vector<Rating> h = {Srs(1, 36), Srs(2, 38), Wai(1, 36, Rater::kTherapist),
                           Wai(2, 42, Rater::kTherapist), Wai(3, 48, Rater::kTherapist)};
  DyadAnalysis a = Analyze(h);
  ASSERT_TRUE(a.gap.has_value());
  EXPECT_EQ(a.gap->sessions_compared, 2);
  EXPECT_DOUBLE_EQ(a.gap->latest_gap_pomp, 32.5);
  EXPECT_DOUBLE_EQ(a.gap->mean_gap_pomp, 36.25);
  EXPECT_TRUE(a.alerts.empty());  // a large gap is information, never an alert
}

TEST(GapTest, MeanOverARatersInstrumentsInOneSession) {
  // Client s1: SRS 36 (90) and WAI-SR 60 (100) -> 95. Therapist WAI-SR-T 36 (50). Gap 45.
  DyadAnalysis a = Analyze({Srs(1, 36), Wai(1, 60), Wai(1, 36, Rater::kTherapist)});
  ASSERT_TRUE(a.gap.has_value());
  EXPECT_DOUBLE_EQ(a.gap->latest_gap_pomp, 45);
}

TEST(GapTest, AbsentWithoutASessionRatedByBoth) {
  EXPECT_FALSE(Analyze({Srs(1, 36), Wai(2, 36, Rater::kTherapist)}).gap.has_value());
}

TEST(MakeAlertIdTest, DeterministicAndSensitiveToEveryField) {
  std::string id = MakeAlertId(kDyad, Rater::kClient, "srs", AlertKind::kRupture, 5);
  EXPECT_EQ(id.size(), 32u);
  EXPECT_EQ(id.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_EQ(id, MakeAlertId(kDyad, Rater::kClient, "srs", AlertKind::kRupture, 5));
  DyadKey other_tenant{"tenant-b", kDyad.therapist_id, kDyad.client_id};
  DyadKey other_therapist{kDyad.tenant_id, "therapist-2", kDyad.client_id};
  DyadKey other_client{kDyad.tenant_id, kDyad.therapist_id, "client-2"};
  for (const std::string& other :
       {MakeAlertId(other_tenant, Rater::kClient, "srs", AlertKind::kRupture, 5),
        MakeAlertId(other_therapist, Rater::kClient, "srs", AlertKind::kRupture, 5),
        MakeAlertId(other_client, Rater::kClient, "srs", AlertKind::kRupture, 5),
        MakeAlertId(kDyad, Rater::kTherapist, "srs", AlertKind::kRupture, 5),
        MakeAlertId(kDyad, Rater::kClient, "wai-sr", AlertKind::kRupture, 5),
        MakeAlertId(kDyad, Rater::kClient, "srs", AlertKind::kRepaired, 5),
        MakeAlertId(kDyad, Rater::kClient, "srs", AlertKind::kRupture, 6)}) {
    EXPECT_NE(other, id);
  }
}

}  // namespace
}  // namespace alliance::analytics
