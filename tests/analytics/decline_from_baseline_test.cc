// Slow declines (the withdrawal pattern): the decline rule fires at the session at which the
// fall from the baseline becomes a reliable change, on every built-in instrument and for
// declines of several slopes, even when no single step is reliable and the CUSUM has not
// reached its limit; ceiling noise and one-point wobbles still raise nothing. Thresholds are
// worked out by hand in the comments:
//   SE_b = SD * sqrt(1 - r) * sqrt(1 + 1/3)   (error of the difference from a 3-session mean)
//   SRS     5 * sqrt(.12) * 1.154701 = 2.000000, fall at z 3.4: 6.800 points
//   WAI-SR  8 * sqrt(.09) * 1.154701 = 2.771281,                 9.422 points (WAI-SR-T same)
//   HAq-II 12 * sqrt(.10) * 1.154701 = 4.381780,                14.898 points
//   SAI     5 * sqrt(.13) * 1.154701 = 2.081666,                 7.078 points
#include <algorithm>
#include <vector>

#include "analytics/dyad_analysis.h"
#include "analytics/registry.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/analytics/analysis_printer.h"
#include "tests/analytics/rating_builders.h"

namespace alliance::analytics {
namespace {

using ::testing::ElementsAre;
using namespace alliance::analytics::testing;

DyadAnalysis Analyze(const std::vector<Rating>& history, const RuleConfig& rules = {}) {
  return AnalyzeDyad(InstrumentRegistry::BuiltIn(), rules, kDyad, history);
}

RuleConfig FallOnly() {
  RuleConfig r;
  r.below_cutoff_enabled = false;
  r.reliable_drop_enabled = false;
  r.deflection_enabled = false;
  r.decline_enabled = false;
  return r;
}

// Totals on the integer-step instruments (HAq-II 19 items 1-6 with reverse items 4, 8, 11,
// 16, 19; SAI 6 items 0-6): items base or base + 1 on the scored scale, reverse items
// mirrored back to what the client ticked.
Rating IntegerTotal(int session, const std::string& instrument, int total) {
  const Instrument& ins = *InstrumentRegistry::BuiltIn().Find(instrument);
  int n = ins.item_count;
  int steps = total - static_cast<int>(ins.item_min) * n;
  std::vector<double> answers(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    double scored = ins.item_min + steps / n + (i < steps % n ? 1 : 0);
    bool reverse = std::find(ins.reverse_items.begin(), ins.reverse_items.end(), i + 1) !=
                   ins.reverse_items.end();
    answers[static_cast<size_t>(i)] = reverse ? ins.item_min + ins.item_max - scored : scored;
  }
  return MakeRating(session, Rater::kClient, instrument, answers);
}

std::vector<Rating> Series(const std::string& instrument, const std::vector<int>& totals) {
  std::vector<Rating> out;
  for (size_t i = 0; i < totals.size(); ++i) {
    out.push_back(IntegerTotal(static_cast<int>(i) + 1, instrument, totals[i]));
  }
  return out;
}

// Baseline `start` x 3, then `start - slope * j` for j = 1..sessions.
std::vector<int> Decline(int start, int slope, int sessions) {
  std::vector<int> totals = {start, start, start};
  for (int j = 1; j <= sessions; ++j) totals.push_back(start - slope * j);
  return totals;
}

AlertEvent OnlyRupture(const DyadAnalysis& a) {
  for (const AlertEvent& e : a.alerts) {
    if (e.kind == AlertKind::kRupture) return e;
  }
  ADD_FAILURE() << "no rupture";
  return {};
}

TEST(DeclineFromBaselineTest, WaiSrFiresAtTheSessionTheFallBecomesReliable) {
  // Baseline 50. Fall 9 (session 12) is RC -9 / 2.771281 = -3.2476 (> -3.4, not reliable);
  // fall 10 (session 13) is RC -3.6084: the rule fires there. The CUSUM over the last six
  // sessions (falls 5..10, contributions fall / 8 - .5) is only 2.625 < 3 at session 13, and
  // no step of 1 point is a reliable drop.
  DyadAnalysis a = Analyze(WaiSeries(Decline(50, 1, 10)), FallOnly());
  AlertEvent e = OnlyRupture(a);
  EXPECT_EQ(e.session_number, 13);
  EXPECT_EQ(e.reason, Reason::kDecline);
  EXPECT_EQ(e.severity, Severity::kHigh);
  EXPECT_THAT(e.rules_fired, ElementsAre(Reason::kDecline));
  EXPECT_EQ(e.evidence.rule, "decline_from_baseline");
  EXPECT_EQ(e.evidence.before, 50);
  EXPECT_EQ(e.evidence.after, 40);
  EXPECT_EQ(e.evidence.threshold, -3.4);
  EXPECT_NEAR(e.evidence.statistic, -3.608439, 1e-6);
  EXPECT_NEAR(e.evidence.sd, 2.771281, 1e-6);
  ASSERT_TRUE(a.series[0].open_rupture.has_value());
  EXPECT_EQ(a.series[0].open_rupture->pre_rupture_level, 50);

  // With every rule on (the defaults) the same decline is first flagged at that session too.
  EXPECT_EQ(OnlyRupture(Analyze(WaiSeries(Decline(50, 1, 10)))).session_number, 13);
}

TEST(DeclineFromBaselineTest, WaiSrSeveralSlopesAllRules) {
  // Slope 2: fall 8 at session 7 (RC -2.887), 10 at session 8 (-3.608): fires at 8. No other
  // rule is earlier: deflection at 8 is 46 - 40 = 6 below the running level (< 9.42), the
  // CUSUM is 1.5.
  EXPECT_EQ(OnlyRupture(Analyze(WaiSeries(Decline(50, 2, 6)))).session_number, 8);
  // Slope 3: fall 9 at session 6 (RC -3.248), 12 at session 7 (-4.330): fires at 7; the
  // running level there is 46.4, a drop of 5.4, below both 8 and 3.4 * 2.4 * sqrt(1.2) = 8.94.
  AlertEvent e = OnlyRupture(Analyze(WaiSeries(Decline(50, 3, 5))));
  EXPECT_EQ(e.session_number, 7);
  EXPECT_EQ(e.evidence.rule, "decline_from_baseline");
  // The therapist form has the client form's figures: the same series fires at the same
  // session.
  EXPECT_EQ(OnlyRupture(Analyze(WaiSeries(Decline(50, 2, 6), Rater::kTherapist))).session_number,
            8);
}

TEST(DeclineFromBaselineTest, HaqIiFiresAtTheSessionTheFallBecomesReliable) {
  // Baseline 90, slope 2: fall 14 at session 10 (RC -3.195), 16 at session 11 (-3.651).
  // CUSUM (SD 12) at 11: (8 + 10 + 12 + 14 + 16) / 12 - 5 * .5 + 0 = 2.5 < 3.
  DyadAnalysis a = Analyze(Series("haq-ii", Decline(90, 2, 10)));
  AlertEvent e = OnlyRupture(a);
  EXPECT_EQ(e.session_number, 11);
  EXPECT_EQ(e.evidence.rule, "decline_from_baseline");
  EXPECT_NEAR(e.evidence.statistic, -3.651484, 1e-6);
  // Slope 4: fall 12 at session 6 (-2.739), 16 at session 7: fires at 7.
  EXPECT_EQ(OnlyRupture(Analyze(Series("haq-ii", Decline(90, 4, 6)))).session_number, 7);
}

TEST(DeclineFromBaselineTest, SaiFiresAtTheSessionTheFallBecomesReliable) {
  // Baseline 30, slope 1: fall 7 at session 10 (RC -3.363), 8 at session 11 (-3.843). The
  // CUSUM (SD 5) reaches 3.6 at session 11 as well: both are the decline rule, and the
  // evidence is the fall from the baseline.
  AlertEvent e = OnlyRupture(Analyze(Series("sai", Decline(30, 1, 10))));
  EXPECT_EQ(e.session_number, 11);
  EXPECT_THAT(e.rules_fired, ElementsAre(Reason::kDecline));
  EXPECT_EQ(e.evidence.rule, "decline_from_baseline");
  EXPECT_NEAR(e.evidence.statistic, -3.843076, 1e-6);
  // Slope 2: fall 6 at session 6 (-2.882), 8 at session 7: fires at 7 (running level 27.6,
  // a drop of 5.6 < 3.4 * 1.802776 * sqrt(1.2) = 6.71: no deflection).
  EXPECT_EQ(OnlyRupture(Analyze(Series("sai", Decline(30, 2, 5)))).session_number, 7);
}

TEST(DeclineFromBaselineTest, SrsAtAndAroundTheBound) {
  // SE_b = 2 exactly, so the bound is a fall of 6.8. 39 x 3 then 0.5 per session: 32.5
  // (fall 6.5, RC -3.25) at session 16, 32.0 (fall 7.0, RC -3.5) at 17.
  std::vector<double> totals = {39, 39, 39};
  for (int j = 1; j <= 14; ++j) totals.push_back(39 - 0.5 * j);
  AlertEvent e = OnlyRupture(Analyze(SrsSeries(totals), FallOnly()));
  EXPECT_EQ(e.session_number, 17);
  EXPECT_EQ(e.evidence.rule, "decline_from_baseline");
  EXPECT_NEAR(e.evidence.statistic, -3.5, 1e-9);
  // With the change rules together (the cutoff off), the CUSUM is one session earlier: falls
  // 4.0 .. 6.5 at sessions 11-16 add .3 + .4 + .5 + .6 + .7 + .8 = 3.3 >= 3 at session 16.
  RuleConfig no_cutoff;
  no_cutoff.below_cutoff_enabled = false;
  AlertEvent cusum = OnlyRupture(Analyze(SrsSeries(totals), no_cutoff));
  EXPECT_EQ(cusum.session_number, 16);
  EXPECT_EQ(cusum.evidence.rule, "decline");
  // Exactly at the bound (a fall of 6.8 to 32.2) fires; 32.3 does not.
  EXPECT_EQ(Analyze(SrsSeries({39, 39, 39, 32.2}), FallOnly()).alerts.size(), 1u);
  EXPECT_TRUE(Analyze(SrsSeries({39, 39, 39, 32.3}), FallOnly()).alerts.empty());
  // With the cutoff on (the defaults), the level rule flags it first: 35.5 < 36 at session
  // 10. SRS's cutoff catches every reliable fall from at most 40 (40 - 6.8 < 36).
  AlertEvent level = OnlyRupture(Analyze(SrsSeries(totals)));
  EXPECT_EQ(level.session_number, 10);
  EXPECT_EQ(level.reason, Reason::kBelowCutoff);
}

TEST(DeclineFromBaselineTest, ZIsConfigurable) {
  // z = 2.4 with the error of a 3-session mean is the classic single-comparison bound
  // (2.4 * 2.771281 = 6.651 = 1.96 * S_diff on WAI-SR): a fall of 7 fires, 6 does not.
  RuleConfig rules = FallOnly();
  rules.decline_from_baseline_z = 2.4;
  EXPECT_EQ(Analyze(WaiSeries({50, 50, 50, 43}), rules).alerts.size(), 1u);
  EXPECT_TRUE(Analyze(WaiSeries({50, 50, 50, 44}), rules).alerts.empty());
  rules.decline_from_baseline_enabled = false;
  EXPECT_TRUE(Analyze(WaiSeries(Decline(50, 1, 20)), rules).alerts.empty());
}

TEST(DeclineFromBaselineTest, RepairIsAReturnToTheBaseline) {
  // Opened at session 13 (as above) with the baseline as the level to return to: 49 is not
  // back, 50 is.
  std::vector<int> totals = Decline(50, 1, 10);
  totals.push_back(49);
  totals.push_back(50);
  DyadAnalysis a = Analyze(WaiSeries(totals), FallOnly());
  ASSERT_EQ(a.alerts.size(), 2u);
  EXPECT_EQ(a.alerts[1].kind, AlertKind::kRepaired);
  EXPECT_EQ(a.alerts[1].session_number, 15);
}

TEST(DeclineFromBaselineTest, CeilingNoiseAndOnePointWobblesRaiseNothing) {
  // SRS at the ceiling: the largest fall inside 36-40 is 4 points, RC -4 / 2 = -2 (> -3.4).
  EXPECT_TRUE(
      Analyze(SrsSeries({40, 40, 40, 36, 36.5, 36, 37, 36, 36.2, 36, 36, 36})).alerts.empty());
  // One-point wobbles on every instrument: never a reliable fall.
  EXPECT_TRUE(Analyze(SrsSeries({39, 38, 39, 38, 37, 38, 37, 38, 39, 38, 37, 38})).alerts.empty());
  EXPECT_TRUE(Analyze(WaiSeries({50, 49, 50, 49, 48, 49, 48, 49, 50, 49, 48, 49})).alerts.empty());
  EXPECT_TRUE(
      Analyze(WaiSeries({50, 49, 50, 49, 48, 49, 48, 49, 50, 49, 48, 49}, Rater::kTherapist))
          .alerts.empty());
  EXPECT_TRUE(
      Analyze(Series("haq-ii", {90, 89, 90, 89, 88, 89, 88, 89, 90, 89, 88, 89})).alerts.empty());
  EXPECT_TRUE(
      Analyze(Series("sai", {30, 29, 30, 29, 28, 29, 28, 29, 30, 29, 28, 29})).alerts.empty());
}

}  // namespace
}  // namespace alliance::analytics
