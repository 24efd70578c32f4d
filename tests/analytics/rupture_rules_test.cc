// Each rupture rule at and around its threshold, with the expected numbers worked out by hand
// in the comments. Other rules are switched off where they would also fire, so each test
// shows one rule alone.
#include <cmath>

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

DyadAnalysis Analyze(const std::vector<Rating>& history, const RuleConfig& rules = {},
                     const InstrumentRegistry& registry = InstrumentRegistry::BuiltIn()) {
  return AnalyzeDyad(registry, rules, kDyad, history);
}

RuleConfig Only(Reason reason) {
  RuleConfig r;
  r.below_cutoff_enabled = reason == Reason::kBelowCutoff;
  r.reliable_drop_enabled = reason == Reason::kReliableDrop;
  r.deflection_enabled = reason == Reason::kDeflection;
  r.decline_enabled = reason == Reason::kDecline;  // the CUSUM; the fall from the baseline
  r.decline_from_baseline_enabled = false;         // has its own tests
  return r;
}

// --- below cutoff (SRS total < 36) -------------------------------------------------------

TEST(BelowCutoffTest, AppliesFromSessionOneJustBelowTheCutoff) {
  // 35.9 < 36: an episode opens at session 1; the level to return to is the cutoff itself.
  DyadAnalysis a = Analyze(SrsSeries({35.9}));
  ASSERT_EQ(a.alerts.size(), 1u);
  const AlertEvent& e = a.alerts[0];
  EXPECT_EQ(e.kind, AlertKind::kRupture);
  EXPECT_EQ(e.reason, Reason::kBelowCutoff);
  EXPECT_EQ(e.severity, Severity::kWarning);
  EXPECT_THAT(e.rules_fired, ElementsAre(Reason::kBelowCutoff));
  EXPECT_EQ(e.evidence.rule, "below_cutoff");
  EXPECT_EQ(e.evidence.after, 35.9);
  EXPECT_EQ(e.evidence.threshold, 36);
  EXPECT_NEAR(e.evidence.statistic, -0.1, 1e-9);
  EXPECT_EQ(e.alert_id, e.episode_id);
  ASSERT_TRUE(a.series[0].open_rupture.has_value());
  EXPECT_EQ(a.series[0].open_rupture->pre_rupture_level, 36);
  EXPECT_TRUE(a.series[0].below_cutoff);
  EXPECT_TRUE(a.at_risk);
}

TEST(BelowCutoffTest, ExactlyAtTheCutoffIsNotBelow) {
  DyadAnalysis a = Analyze(SrsSeries({36.0}));
  EXPECT_TRUE(a.alerts.empty());
  EXPECT_FALSE(a.series[0].below_cutoff);
  EXPECT_FALSE(a.at_risk);
}

TEST(BelowCutoffTest, AtOrBelowDirectionIsConfigurableByDefinition) {
  // An operator replaces the SRS definition with the vendor's "<= 36" rule.
  absl::StatusOr<InstrumentRegistry> reg = InstrumentRegistry::WithExtra({{"srs.json", R"json({
    "id": "srs", "name": "SRS", "raters": ["client"], "item_count": 4, "item_min": 0,
    "item_max": 10, "step": 0.1, "total_cutoff": {"value": 36, "direction": "at_or_below"},
    "subscales": [{"name": "relationship", "items": [1], "factor": "bond"}],
    "population_sd": 5, "reliability": 0.88})json"}});
  ASSERT_TRUE(reg.ok()) << reg.status();
  EXPECT_EQ(Analyze(SrsSeries({36.0}), {}, *reg).alerts.size(), 1u);
  EXPECT_TRUE(Analyze(SrsSeries({36.1}), {}, *reg).alerts.empty());
}

TEST(BelowCutoffTest, CanBeSwitchedOff) {
  RuleConfig rules;
  rules.below_cutoff_enabled = false;
  EXPECT_TRUE(Analyze(SrsSeries({30}), rules).alerts.empty());
}

// --- reliable drop (Jacobson-Truax) ------------------------------------------------------

TEST(ReliableDropTest, SrsAroundTheThreshold) {
  // S_diff = 5 * sqrt(2) * sqrt(1 - .88) = 2.449490; the default bound -3.7 (repeated at
  // every session, see docs/analytics.md) is a drop of 9.063.
  // 39.0 -> 30.0 (drop 9.0): RC = -9.0 / 2.449490 = -3.6742, not reliable.
  // 39.0 -> 29.9 (drop 9.1): RC = -9.1 / 2.449490 = -3.7151, reliable.
  RuleConfig rules = Only(Reason::kReliableDrop);
  EXPECT_TRUE(Analyze(SrsSeries({39.0, 30.0}), rules).alerts.empty());
  DyadAnalysis a = Analyze(SrsSeries({39.0, 29.9}), rules);
  ASSERT_EQ(a.alerts.size(), 1u);
  const AlertEvent& e = a.alerts[0];
  EXPECT_EQ(e.reason, Reason::kReliableDrop);
  EXPECT_EQ(e.severity, Severity::kHigh);
  EXPECT_EQ(e.session_number, 2);
  EXPECT_EQ(e.evidence.rule, "reliable_drop");
  EXPECT_EQ(e.evidence.before, 39.0);
  EXPECT_EQ(e.evidence.after, 29.9);
  EXPECT_EQ(e.evidence.threshold, -3.7);
  EXPECT_NEAR(e.evidence.statistic, -3.71506, 1e-5);
  EXPECT_NEAR(e.evidence.sd, 2.449490, 1e-6);
}

TEST(ReliableDropTest, WaiSrAroundTheThreshold) {
  // S_diff = 8 * sqrt(2) * sqrt(1 - .91) = 3.394113; bound = drop of 12.56.
  // 50 -> 38: RC = -3.5355 (no). 50 -> 37: RC = -13 / 3.394113 = -3.8302 (yes).
  EXPECT_TRUE(Analyze(WaiSeries({50, 38})).alerts.empty());
  DyadAnalysis a = Analyze(WaiSeries({50, 37}));
  ASSERT_EQ(a.alerts.size(), 1u);
  EXPECT_NEAR(a.alerts[0].evidence.statistic, -3.830162, 1e-6);
  EXPECT_THAT(a.alerts[0].rules_fired, ElementsAre(Reason::kReliableDrop));
}

TEST(ReliableDropTest, ZIsConfigurable) {
  // With Jacobson and Truax's single-comparison z = 1.96, a drop of 7 on WAI-SR
  // (RC -2.0624) is reliable and a drop of 6 (RC -1.7678) is not.
  RuleConfig rules;
  rules.reliable_change_z = 1.96;
  EXPECT_EQ(Analyze(WaiSeries({50, 43}), rules).alerts.size(), 1u);
  EXPECT_TRUE(Analyze(WaiSeries({50, 44}), rules).alerts.empty());
}

// --- deflection (k * SD below the running level, after a baseline) -----------------------

TEST(DeflectionTest, WaiSrAtAndAroundKTimesSdWhenZIsZero) {
  // Baseline 50, 50, 50; running level 50; SD = max(max(0, floor 2.4), population 8) = 8.
  // With the reliability half off (z = 0), k = 1: 42 is a drop of exactly 8 = k*SD (fires,
  // 1.0 SD); 43 is a drop of 7 (no).
  RuleConfig rules = Only(Reason::kDeflection);
  rules.deflection_z = 0;
  EXPECT_TRUE(Analyze(WaiSeries({50, 50, 50, 43}), rules).alerts.empty());
  DyadAnalysis a = Analyze(WaiSeries({50, 50, 50, 42}), rules);
  ASSERT_EQ(a.alerts.size(), 1u);
  const AlertEvent& e = a.alerts[0];
  EXPECT_EQ(e.reason, Reason::kDeflection);
  EXPECT_EQ(e.evidence.before, 50);
  EXPECT_EQ(e.evidence.after, 42);
  EXPECT_EQ(e.evidence.threshold, 8);
  EXPECT_EQ(e.evidence.statistic, 1.0);
  EXPECT_EQ(e.evidence.sd, 8);
  EXPECT_EQ(a.series[0].open_rupture->pre_rupture_level, 50);
}

TEST(DeflectionTest, ReliableAgainstTheRunningLevelWithTheErrorOfAMean) {
  // Defaults: k = 1 and z = 3.4. Against a running level of m = 3 sessions the reliable
  // drop is 3.4 * 8 * sqrt(.09) * sqrt(1 + 1/3) = 9.4224 > k*SD = 8, so it decides: 41 (drop
  // 9) does not fire, 40 (drop 10) does, with the threshold in the evidence.
  RuleConfig rules = Only(Reason::kDeflection);
  EXPECT_TRUE(Analyze(WaiSeries({50, 50, 50, 41}), rules).alerts.empty());
  DyadAnalysis a = Analyze(WaiSeries({50, 50, 50, 40}), rules);
  ASSERT_EQ(a.alerts.size(), 1u);
  EXPECT_NEAR(a.alerts[0].evidence.threshold, 9.422356, 1e-6);
  EXPECT_EQ(a.alerts[0].evidence.statistic, 1.25);
  // Against m = 5 sessions the mean is surer: 3.4 * 2.4 * sqrt(1.2) = 8.9388, so 41 (drop 9)
  // fires and 42 (drop 8 = k*SD, not reliable) does not.
  EXPECT_EQ(Analyze(WaiSeries({50, 50, 50, 50, 50, 41}), rules).alerts.size(), 1u);
  EXPECT_TRUE(Analyze(WaiSeries({50, 50, 50, 50, 50, 42}), rules).alerts.empty());
}

TEST(DeflectionTest, EveryDropOfOneAndAHalfPopulationSdFiresOnEveryBuiltInInstrument) {
  // The largest threshold (m = 3) in population SD: sqrt(1 - r) * sqrt(4/3) * 3.4 = SRS
  // 1.36, WAI-SR 1.18, HAq-II 1.24, SAI 1.42: all below 1.5. SRS 39 -> 31.5 (7.5 points),
  // WAI-SR 50 -> 38 (12) by client and therapist.
  RuleConfig rules = Only(Reason::kDeflection);
  EXPECT_EQ(Analyze(SrsSeries({39, 39, 39, 31.5}), rules).alerts.size(), 1u);
  EXPECT_EQ(Analyze(WaiSeries({50, 50, 50, 38}), rules).alerts.size(), 1u);
  EXPECT_EQ(Analyze(WaiSeries({50, 50, 50, 38}, Rater::kTherapist), rules).alerts.size(), 1u);
}

TEST(DeflectionTest, NeverBeforeTheBaseline) {
  // Session 3 has only two earlier sessions (< 3 baseline sessions): a 10-point dip there is
  // not judged by the k*SD rule. The same dip at session 4 is (drop 10 >= 8).
  RuleConfig rules = Only(Reason::kDeflection);
  EXPECT_TRUE(Analyze(WaiSeries({50, 50, 40}), rules).alerts.empty());
  EXPECT_EQ(Analyze(WaiSeries({50, 50, 50, 40}), rules).alerts.size(), 1u);
}

TEST(DeflectionTest, KIsConfigurable) {
  // Stiles et al. 2004 used 2 SD: a drop of 8 no longer fires, a drop of 16 does.
  RuleConfig rules = Only(Reason::kDeflection);
  rules.deflection_k = 2;
  EXPECT_TRUE(Analyze(WaiSeries({50, 50, 50, 42}), rules).alerts.empty());
  EXPECT_EQ(Analyze(WaiSeries({50, 50, 50, 34}), rules).alerts.size(), 1u);
}

// A test instrument with a tiny population SD, so the within-dyad SD and its floor decide.
const InstrumentRegistry& TinySdRegistry() {
  static const InstrumentRegistry* reg = [] {
    auto r = InstrumentRegistry::WithExtra({{"mini.json", R"json({
      "id": "mini", "name": "Mini", "raters": ["client"], "item_count": 4, "item_min": 0,
      "item_max": 10, "step": 1, "population_sd": 1, "reliability": 0.5})json"}});
    return new InstrumentRegistry(*std::move(r));
  }();
  return *reg;
}

std::vector<Rating> MiniSeries(const std::vector<int>& totals) {
  std::vector<Rating> out;
  for (size_t i = 0; i < totals.size(); ++i) {
    int t = totals[i];
    std::vector<double> items = {double(t / 4), double(t / 4), double(t / 4),
                                 double(t - 3 * (t / 4))};
    out.push_back(MakeRating(static_cast<int>(i) + 1, Rater::kClient, "mini", items));
  }
  return out;
}

TEST(DeflectionTest, FloorUnderAFlatWithinSd) {
  // 20, 20, 20: within SD 0, floor 0.05 * 40 = 2 > population SD 1, so SD = 2.
  // 19 (drop 1 = one population SD) does not fire; 18 (drop 2) does (size criterion alone).
  RuleConfig rules = Only(Reason::kDeflection);
  rules.deflection_z = 0;
  EXPECT_TRUE(Analyze(MiniSeries({20, 20, 20, 19}), rules, TinySdRegistry()).alerts.empty());
  DyadAnalysis a = Analyze(MiniSeries({20, 20, 20, 18}), rules, TinySdRegistry());
  ASSERT_EQ(a.alerts.size(), 1u);
  EXPECT_EQ(a.alerts[0].evidence.sd, 2);
}

TEST(DeflectionTest, StricterWithinSdWins) {
  // 10, 30, 10, 30: mean 20, sample SD sqrt(4 * 100 / 3) = 11.547 > floor 2 > population 1.
  // Running level 20: 9 is a drop of 11 (< 11.547, no); 8 is a drop of 12 (fires).
  RuleConfig rules = Only(Reason::kDeflection);
  EXPECT_TRUE(Analyze(MiniSeries({10, 30, 10, 30, 9}), rules, TinySdRegistry()).alerts.empty());
  DyadAnalysis a = Analyze(MiniSeries({10, 30, 10, 30, 8}), rules, TinySdRegistry());
  ASSERT_EQ(a.alerts.size(), 1u);
  EXPECT_NEAR(a.alerts[0].evidence.sd, std::sqrt(400.0 / 3.0), 1e-9);
  EXPECT_NEAR(a.alerts[0].evidence.statistic, 12 / std::sqrt(400.0 / 3.0), 1e-9);
}

// --- decline (CUSUM over up to six sessions) ---------------------------------------------

TEST(DeclineTest, CusumAtAndAroundTheLimit) {
  // Baseline 55 (SD 8). At 47 each session contributes (55 - 47) / 8 - 0.5 = 0.5:
  // five sessions sum to 2.5 (< 3), the sixth to exactly 3.0 (fires at session 9).
  // At 48 each contributes 0.375: six sessions 2.25, never 3 within the six-session window.
  RuleConfig rules = Only(Reason::kDecline);
  DyadAnalysis a = Analyze(WaiSeries({55, 55, 55, 47, 47, 47, 47, 47, 47}), rules);
  ASSERT_EQ(a.alerts.size(), 1u);
  EXPECT_EQ(a.alerts[0].session_number, 9);
  EXPECT_EQ(a.alerts[0].reason, Reason::kDecline);
  EXPECT_EQ(a.alerts[0].evidence.statistic, 3.0);
  EXPECT_EQ(a.alerts[0].evidence.threshold, 3.0);
  EXPECT_EQ(a.alerts[0].evidence.before, 55);
  EXPECT_TRUE(Analyze(WaiSeries({55, 55, 55, 47, 47, 47, 47, 47}), rules).alerts.empty());
  EXPECT_TRUE(
      Analyze(WaiSeries({55, 55, 55, 48, 48, 48, 48, 48, 48, 48, 48, 48}), rules).alerts.empty());
}

TEST(DeclineTest, WindowIsAtMostDecline_max_sessions) {
  // With the window cut to 4 sessions, 47 x 4 sums to 2.0 forever: no alert.
  RuleConfig rules = Only(Reason::kDecline);
  rules.decline_max_sessions = 4;
  EXPECT_TRUE(Analyze(WaiSeries({55, 55, 55, 47, 47, 47, 47, 47, 47, 47}), rules).alerts.empty());
}

// --- noise -------------------------------------------------------------------------------

TEST(NoiseTest, SrsWanderingBetween36And40NeverAlerts) {
  // Worst case inside the band: baseline 40 then 36 for ten sessions. RC = -4 / 2.449 =
  // -1.63 (> -1.96); deflection 4 < 1 * 5; CUSUM per session (40 - 36) / 5 - 0.5 = 0.3, six
  // sessions 1.8 < 3; 36 is not below 36.
  EXPECT_TRUE(
      Analyze(SrsSeries({40, 40, 40, 36, 36, 36, 36, 36, 36, 36, 36, 36, 36})).alerts.empty());
  // And any walk inside the band (fixed pseudo-random sequence).
  uint32_t state = 12345;
  for (int run = 0; run < 50; ++run) {
    std::vector<double> totals;
    for (int s = 0; s < 20; ++s) {
      state = state * 1664525u + 1013904223u;
      totals.push_back(36.0 + static_cast<double>((state >> 8) % 41) / 10.0);
    }
    DyadAnalysis a = Analyze(SrsSeries(totals));
    EXPECT_TRUE(a.alerts.empty()) << "run " << run;
  }
}

TEST(NoiseTest, OnePointSrsChangesNeverAlert) {
  EXPECT_TRUE(Analyze(SrsSeries({40, 39, 40, 39, 38, 37, 38, 37, 36, 37, 38, 39})).alerts.empty());
  EXPECT_TRUE(Analyze(SrsSeries({38, 38, 38, 37, 38, 37})).alerts.empty());
}

TEST(NoiseTest, CrossingTheCutoffIsTheLevelRuleNotTheChange) {
  // 36 -> 35 is a 1-point change (no change rule fires), but 35 is below the cutoff: only
  // below_cutoff fires, at warning severity.
  DyadAnalysis a = Analyze(SrsSeries({36, 36, 36, 35}));
  ASSERT_EQ(a.alerts.size(), 1u);
  EXPECT_THAT(a.alerts[0].rules_fired, ElementsAre(Reason::kBelowCutoff));
  EXPECT_EQ(a.alerts[0].severity, Severity::kWarning);
}

}  // namespace
}  // namespace alliance::analytics
