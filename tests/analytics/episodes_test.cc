// Rupture episodes end to end: a V-shaped rupture repaired in two sessions, a six-session
// decline that only the decline rules catch, escalation, one alert per episode, late and
// conflicting ratings, and order independence. Expected numbers are worked out in comments.
#include <algorithm>
#include <random>

#include "analytics/dyad_analysis.h"
#include "analytics/dyad_analyzer.h"
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

// SRS 38 x 4, then 31 with the relationship item falling most, 35, back to 38.
std::vector<Rating> VShape() {
  std::vector<Rating> h = SrsSeries({38, 38, 38, 38});
  h.push_back(MakeRating(5, Rater::kClient, "srs", {5.5, 8.5, 8.5, 8.5}));  // total 31
  h.push_back(Srs(6, 35));
  h.push_back(Srs(7, 38));
  return h;
}

TEST(EpisodeTest, VShapedRuptureRepairedInTwoSessions) {
  // Session 5 (31 after four 38s):
  //   below_cutoff: 31 < 36 and session 4 was not below -> fires;
  //   reliable_drop: RC = (31 - 38) / 2.449490 = -2.8577, not below -3.7 -> no;
  //   deflection: baseline exists, level 38 over m = 4 sessions, SD max(max(0, 2), 5) = 5;
  //     drop 7 >= max(1 * 5, 3.4 * 1.732051 * sqrt(1 + 1/4) = 6.5841) -> fires (primary);
  //   decline: CUSUM over sessions 4..5 = 0 + (7/5 - 0.5) = 0.9 < 3 -> no; the fall from the
  //     baseline 38 is RC = -7 / 2 = -3.5 <= -3.4 -> fires.
  // Subscale POMP vs sessions 1-4 (all 95): relationship 55 (-40), the others 85 (-10).
  // Session 6 (35) is below 38: still open. Session 7 (38) >= 38 and not below the cutoff:
  // repaired two sessions after onset.
  DyadAnalysis a = Analyze(VShape());
  ASSERT_EQ(a.alerts.size(), 2u);
  const AlertEvent& rupture = a.alerts[0];
  EXPECT_EQ(rupture.kind, AlertKind::kRupture);
  EXPECT_EQ(rupture.session_number, 5);
  EXPECT_EQ(rupture.reason, Reason::kDeflection);
  EXPECT_THAT(rupture.rules_fired,
              ElementsAre(Reason::kBelowCutoff, Reason::kDeflection, Reason::kDecline));
  EXPECT_EQ(rupture.severity, Severity::kHigh);
  EXPECT_EQ(rupture.evidence.rule, "deflection");
  EXPECT_EQ(rupture.evidence.before, 38);
  EXPECT_EQ(rupture.evidence.after, 31);
  EXPECT_NEAR(rupture.evidence.threshold, 6.584072, 1e-6);
  EXPECT_NEAR(rupture.evidence.statistic, 1.4, 1e-12);
  EXPECT_EQ(rupture.subscale_fell_most, "relationship");
  EXPECT_NEAR(rupture.subscale_drop_pomp, 40, 1e-9);
  EXPECT_THAT(rupture.factors, ElementsAre("empathy and validation", "safe, non-judgemental space",
                                           "mutual trust and respect"));
  EXPECT_FALSE(rupture.suggested_focus.empty());
  EXPECT_EQ(rupture.rater, Rater::kClient);
  EXPECT_EQ(rupture.instrument_id, "srs");
  EXPECT_EQ(rupture.alert_id, MakeAlertId(kDyad, Rater::kClient, "srs", AlertKind::kRupture, 5));

  const AlertEvent& repaired = a.alerts[1];
  EXPECT_EQ(repaired.kind, AlertKind::kRepaired);
  EXPECT_EQ(repaired.session_number, 7);
  EXPECT_EQ(repaired.episode_id, rupture.alert_id);
  EXPECT_EQ(repaired.reason, Reason::kEpisodeFollowUp);
  EXPECT_EQ(repaired.severity, Severity::kInfo);
  EXPECT_EQ(repaired.evidence.before, 38);
  EXPECT_EQ(repaired.evidence.after, 38);
  EXPECT_EQ(repaired.evidence.statistic, 2);  // sessions after onset
  EXPECT_THAT(repaired.factors,
              ElementsAre("feedback and adaptation", "consistency and reliability"));

  ASSERT_EQ(a.series.size(), 1u);
  EXPECT_EQ(a.series[0].rupture_count, 1);
  EXPECT_EQ(a.series[0].repaired_count, 1);
  EXPECT_FALSE(a.series[0].open_rupture.has_value());
  EXPECT_EQ(a.open_ruptures, 0);
  EXPECT_FALSE(a.at_risk);
}

TEST(EpisodeTest, OpenEpisodeBeforeRepairIsInThePicture) {
  std::vector<Rating> h = VShape();
  h.resize(6);  // up to session 6 (35)
  DyadAnalysis a = Analyze(h);
  ASSERT_EQ(a.alerts.size(), 1u);
  ASSERT_TRUE(a.series[0].open_rupture.has_value());
  const OpenRupture& open = *a.series[0].open_rupture;
  EXPECT_EQ(open.onset_session, 5);
  EXPECT_EQ(open.pre_rupture_level, 38);
  EXPECT_EQ(open.sessions_since_onset, 1);
  EXPECT_EQ(open.reason, Reason::kDeflection);
  EXPECT_FALSE(open.escalated);
  EXPECT_EQ(a.open_ruptures, 1);
  EXPECT_TRUE(a.at_risk);
  EXPECT_FALSE(a.unrepaired);
}

TEST(EpisodeTest, SixSessionDeclineCaughtOnlyByTheDeclineRule) {
  // WAI-SR 55, 55, 55 (baseline 55), then 52, 50, 47, 45, 42, 40.
  //   Largest step 3: RC = -3 / 3.394 = -0.88, never reliable.
  //   Deflection vs the mean of the previous five: drops 3, 4.25, 6.4, 6.8, 7.8, 7.2 < 8.
  //   Fall from the baseline, SE_b = 2.4 * sqrt(4/3) = 2.771281: 3, 5, 8 (RC -2.887), then
  //     10 at session 7: RC -3.6084 <= -3.4, the first session it is a reliable change.
  //   CUSUM with SD 8 (within SD 5.03 < 8), slack 0.5, over sessions 4..:
  //     (3/8-.5)->0, (5/8-.5)->.125, (8/8-.5)->.625, (10/8-.5)->1.375, (13/8-.5)->2.5,
  //     (15/8-.5)->3.875 >= 3 at session 9, the sixth declining session.
  // Subscale sums (WAI builder): at 55 task 18, bond 19, goal 18; at 45 task 14, bond 16,
  // goal 15 -> POMP drops 25, 18.75, 18.75: task fell most.
  std::vector<Rating> h = WaiSeries({55, 55, 55, 52, 50, 47, 45, 42, 40});
  DyadAnalysis a = Analyze(h);
  ASSERT_EQ(a.alerts.size(), 1u);
  const AlertEvent& e = a.alerts[0];
  EXPECT_EQ(e.session_number, 7);
  EXPECT_EQ(e.reason, Reason::kDecline);
  EXPECT_THAT(e.rules_fired, ElementsAre(Reason::kDecline));
  EXPECT_EQ(e.severity, Severity::kHigh);
  EXPECT_EQ(e.evidence.rule, "decline_from_baseline");
  EXPECT_EQ(e.evidence.before, 55);
  EXPECT_EQ(e.evidence.after, 45);
  EXPECT_NEAR(e.evidence.statistic, -3.608439, 1e-6);
  EXPECT_NEAR(e.evidence.sd, 2.771281, 1e-6);
  EXPECT_EQ(e.subscale_fell_most, "task");
  EXPECT_NEAR(e.subscale_drop_pomp, 25, 1e-9);
  EXPECT_EQ(a.series[0].open_rupture->pre_rupture_level, 55);
  EXPECT_EQ(a.series[0].trend, Trend::kDeclining);

  // The CUSUM alone catches it two sessions later, at the sixth declining session.
  RuleConfig cusum_only;
  cusum_only.decline_from_baseline_enabled = false;
  DyadAnalysis c = Analyze(h, cusum_only);
  ASSERT_EQ(c.alerts.size(), 1u);
  EXPECT_EQ(c.alerts[0].session_number, 9);
  EXPECT_EQ(c.alerts[0].evidence.rule, "decline");
  EXPECT_EQ(c.alerts[0].evidence.after, 40);
  EXPECT_NEAR(c.alerts[0].evidence.statistic, 3.875, 1e-12);
  EXPECT_EQ(c.alerts[0].evidence.sd, 8);
  EXPECT_EQ(c.alerts[0].subscale_fell_most, "bond");
  EXPECT_NEAR(c.alerts[0].subscale_drop_pomp, 37.5, 1e-9);

  // Without the decline rules the same series raises nothing: no single step reveals it.
  RuleConfig no_decline = cusum_only;
  no_decline.decline_enabled = false;
  EXPECT_TRUE(Analyze(h, no_decline).alerts.empty());
}

TEST(EpisodeTest, UnrepairedEscalatesAfterNSessionsThenLateRepairCloses) {
  // Decline opens at session 7 (the fall from the baseline); sessions 8, 9, 10 stay below 55:
  // at the third session after onset the episode escalates (critical). Session 13 returns to
  // 55: repaired.
  std::vector<Rating> h = WaiSeries({55, 55, 55, 52, 50, 47, 45, 42, 40, 40, 40, 40});
  DyadAnalysis open = Analyze(h);
  ASSERT_EQ(open.alerts.size(), 2u);
  EXPECT_EQ(open.alerts[1].kind, AlertKind::kUnrepaired);
  EXPECT_EQ(open.alerts[1].session_number, 10);
  EXPECT_EQ(open.alerts[1].severity, Severity::kCritical);
  EXPECT_EQ(open.alerts[1].episode_id, open.alerts[0].alert_id);
  EXPECT_EQ(open.alerts[1].evidence.statistic, 3);
  EXPECT_EQ(open.alerts[1].subscale_fell_most, "task");
  EXPECT_THAT(open.alerts[1].suggested_focus, ::testing::StartsWith("Not repaired after 3"));
  EXPECT_TRUE(open.unrepaired);
  EXPECT_TRUE(open.series[0].open_rupture->escalated);

  h.push_back(Wai(13, 55));
  DyadAnalysis closed = Analyze(h);
  ASSERT_EQ(closed.alerts.size(), 3u);
  EXPECT_EQ(closed.alerts[2].kind, AlertKind::kRepaired);
  EXPECT_EQ(closed.alerts[2].session_number, 13);
  EXPECT_FALSE(closed.unrepaired);
}

TEST(EpisodeTest, RepairWindowIsConfigurable) {
  RuleConfig rules;
  rules.repair_window_sessions = 2;
  // SRS rupture at 5 (30); 31 at 6 (1), 30 at 7 (2) -> unrepaired at session 7.
  DyadAnalysis a = Analyze(SrsSeries({38, 38, 38, 38, 30, 31, 30}), rules);
  ASSERT_EQ(a.alerts.size(), 2u);
  EXPECT_EQ(a.alerts[1].kind, AlertKind::kUnrepaired);
  EXPECT_EQ(a.alerts[1].session_number, 7);
}

TEST(EpisodeTest, OneAlertPerEpisode) {
  // 38 x 4 then 30, 29, 28, 27, 26: every later session is below the cutoff and below the
  // running level, but the open episode suppresses new ruptures: one rupture (session 5)
  // and one escalation (session 8, third session after onset), nothing at session 9.
  DyadAnalysis a = Analyze(SrsSeries({38, 38, 38, 38, 30, 29, 28, 27, 26}));
  ASSERT_EQ(a.alerts.size(), 2u);
  EXPECT_EQ(a.alerts[0].kind, AlertKind::kRupture);
  EXPECT_EQ(a.alerts[1].kind, AlertKind::kUnrepaired);
  EXPECT_EQ(a.alerts[1].session_number, 8);
  EXPECT_EQ(a.series[0].rupture_count, 1);
}

TEST(EpisodeTest, BelowCutoffRunIsOneEpisodeAndNeedsToLeaveTheZone) {
  // 35 at session 1 opens (level to regain: 36). 34, 35 stay below; 35 at session 4 is the
  // third after onset: escalation. 36 at session 5 leaves the zone: repaired.
  DyadAnalysis a = Analyze(SrsSeries({35, 34, 35, 35, 36}));
  ASSERT_EQ(a.alerts.size(), 3u);
  EXPECT_EQ(a.alerts[0].reason, Reason::kBelowCutoff);
  EXPECT_EQ(a.alerts[1].kind, AlertKind::kUnrepaired);
  EXPECT_EQ(a.alerts[1].session_number, 4);
  EXPECT_EQ(a.alerts[2].kind, AlertKind::kRepaired);
  EXPECT_EQ(a.alerts[2].session_number, 5);
}

TEST(EpisodeTest, ClientAndTherapistSeriesAreKeptApart) {
  // The therapist's WAI-SR-T declines (as above) while the client's SRS stays at 38: the
  // alert belongs to the therapist series only.
  std::vector<Rating> h = WaiSeries({55, 55, 55, 52, 50, 47, 45, 42, 40}, Rater::kTherapist);
  for (int s = 1; s <= 9; ++s) h.push_back(Srs(s, 38));
  DyadAnalysis a = Analyze(h);
  ASSERT_EQ(a.alerts.size(), 1u);
  EXPECT_EQ(a.alerts[0].rater, Rater::kTherapist);
  EXPECT_EQ(a.alerts[0].instrument_id, "wai-sr-t");
  ASSERT_EQ(a.series.size(), 2u);
  EXPECT_EQ(a.series[0].rater, Rater::kClient);
  EXPECT_FALSE(a.series[0].open_rupture.has_value());
  EXPECT_TRUE(a.series[1].open_rupture.has_value());
}

TEST(LateRatingTest, ARatingForAnEarlierSessionIsPlacedBySessionNumber) {
  // Sessions 1, 2, 3, 5, 6 at 38 arrive first: no alert. Session 4 (30) arrives late: the
  // series is rebuilt as 38, 38, 38, 30, 38, 38: rupture at 4 (RC -3.27, deflection 8 >= 5,
  // below 36) and repair at 5 (38 >= 38).
  std::vector<Rating> early = SrsSeries({38, 38, 38, 0, 38, 38});
  Rating late = Srs(4, 30);
  early.erase(early.begin() + 3);
  DyadAnalyzer analyzer(InstrumentRegistry::BuiltIn(), RuleConfig{}, kDyad);
  analyzer.AddAll(early);
  EXPECT_TRUE(analyzer.analysis().alerts.empty());

  DyadAnalyzer::AddResult result = analyzer.Add(late);
  EXPECT_EQ(result.outcome, DyadAnalyzer::Outcome::kApplied);
  EXPECT_TRUE(result.replayed);
  ASSERT_EQ(result.new_alerts.size(), 2u);
  EXPECT_EQ(result.new_alerts[0].kind, AlertKind::kRupture);
  EXPECT_EQ(result.new_alerts[0].session_number, 4);
  EXPECT_EQ(result.new_alerts[1].kind, AlertKind::kRepaired);
  EXPECT_EQ(result.new_alerts[1].session_number, 5);
  std::vector<Rating> all = early;
  all.push_back(late);
  EXPECT_EQ(analyzer.analysis(), Analyze(all));
  EXPECT_EQ(analyzer.analysis().series[0].latest, 38);
  EXPECT_EQ(analyzer.analysis().points[3].score.total, 30);
}

TEST(LateRatingTest, ConflictingRatingsForOneSessionResolveByTimeThenId) {
  std::vector<Rating> h = SrsSeries({38, 38, 38, 30, 38});
  Rating correction = Srs(4, 38);
  correction.rating_id = "s4-correction";
  correction.session_time_ms = h[3].session_time_ms + 1;  // later: wins
  Rating stale = Srs(4, 20);
  stale.rating_id = "s4-stale";
  stale.session_time_ms = h[3].session_time_ms - 1;  // earlier: loses

  DyadAnalyzer analyzer(InstrumentRegistry::BuiltIn(), RuleConfig{}, kDyad);
  analyzer.AddAll(h);
  EXPECT_EQ(analyzer.analysis().alerts.size(), 2u);  // rupture at 4, repaired at 5
  EXPECT_EQ(analyzer.Add(stale).outcome, DyadAnalyzer::Outcome::kSuperseded);
  DyadAnalyzer::AddResult r = analyzer.Add(correction);
  EXPECT_EQ(r.outcome, DyadAnalyzer::Outcome::kApplied);
  EXPECT_TRUE(r.new_alerts.empty());
  // The corrected series 38 x 5 has no rupture; alerts already sent are not retracted by the
  // library (the worker keeps what it emitted), but the analysis reflects the correction.
  EXPECT_TRUE(analyzer.analysis().alerts.empty());
  EXPECT_EQ(analyzer.analysis().ratings_applied, 5);
  h.push_back(correction);
  h.push_back(stale);
  EXPECT_EQ(analyzer.analysis(), Analyze(h));
  // Equal times: the greater rating id wins.
  Rating a = Srs(4, 30), b = Srs(4, 38);
  a.rating_id = "s4-a";
  b.rating_id = "s4-b";
  std::vector<Rating> tie = SrsSeries({38, 38, 38});
  tie.push_back(a);
  tie.push_back(b);
  EXPECT_EQ(Analyze(tie).series[0].latest, 38);
}

// A history with every kind of event in three series, shuffled and duplicated.
std::vector<Rating> RichHistory() {
  std::vector<Rating> h = VShape();
  std::vector<Rating> t =
      WaiSeries({55, 55, 55, 52, 50, 47, 45, 42, 40, 40, 40, 40}, Rater::kTherapist);
  std::vector<Rating> c = WaiSeries({50, 51, 50, 40, 44, 52});
  h.insert(h.end(), t.begin(), t.end());
  h.insert(h.end(), c.begin(), c.end());
  return h;
}

TEST(OrderIndependenceTest, ShuffledAndDuplicatedHistoryGivesIdenticalOutput) {
  std::vector<Rating> history = RichHistory();
  DyadAnalysis expected = Analyze(history);
  ASSERT_GE(expected.alerts.size(), 5u);
  std::mt19937 rng(20240607);
  for (int round = 0; round < 25; ++round) {
    std::vector<Rating> shuffled = history;
    for (int d = 0; d < 8; ++d) shuffled.push_back(history[rng() % history.size()]);
    std::shuffle(shuffled.begin(), shuffled.end(), rng);
    EXPECT_EQ(Analyze(shuffled), expected) << "round " << round;
    DyadAnalyzer analyzer(InstrumentRegistry::BuiltIn(), RuleConfig{}, kDyad);
    for (const Rating& r : shuffled) analyzer.Add(r);  // arrival order, late ratings replay
    EXPECT_EQ(analyzer.analysis(), expected) << "incremental, round " << round;
    DyadAnalyzer loaded(InstrumentRegistry::BuiltIn(), RuleConfig{}, kDyad);
    loaded.AddAll(shuffled);
    EXPECT_EQ(loaded.analysis(), expected) << "AddAll, round " << round;
  }
}

TEST(IncrementalTest, NewAlertsOverAllAddsAreExactlyTheFinalAlerts) {
  // Fed in session order, every event is reported once, when it happens.
  std::vector<Rating> history = RichHistory();
  std::sort(history.begin(), history.end(),
            [](const Rating& a, const Rating& b) { return a.session_number < b.session_number; });
  DyadAnalyzer analyzer(InstrumentRegistry::BuiltIn(), RuleConfig{}, kDyad);
  std::vector<std::string> reported;
  for (const Rating& r : history) {
    DyadAnalyzer::AddResult result = analyzer.Add(r);
    EXPECT_FALSE(result.replayed);
    for (const AlertEvent& e : result.new_alerts) reported.push_back(e.alert_id);
    EXPECT_EQ(analyzer.Add(r).outcome, DyadAnalyzer::Outcome::kDuplicate);
  }
  std::vector<std::string> final_ids;
  for (const AlertEvent& e : analyzer.analysis().alerts) final_ids.push_back(e.alert_id);
  std::sort(reported.begin(), reported.end());
  std::sort(final_ids.begin(), final_ids.end());
  EXPECT_EQ(reported, final_ids);
}

TEST(InvalidRatingTest, SkippedWithoutEffect) {
  std::vector<Rating> h = SrsSeries({38, 38});
  Rating unknown = Srs(3, 20);
  unknown.instrument_id = "nope";
  Rating wrong_rater = Wai(3, 20);
  wrong_rater.rater = Rater::kTherapist;  // wai-sr is the client form
  Rating off_scale = Srs(3, 20);
  off_scale.answers[0] = 11;
  Rating session_zero = Srs(0, 20);
  Rating short_answers = Srs(3, 20);
  short_answers.answers.pop_back();
  for (const Rating& bad : {unknown, wrong_rater, off_scale, session_zero, short_answers}) {
    std::vector<Rating> with_bad = h;
    with_bad.push_back(bad);
    DyadAnalysis a = Analyze(with_bad);
    EXPECT_EQ(a, Analyze(h));
    EXPECT_EQ(a.ratings_applied, 2);
    DyadAnalyzer analyzer(InstrumentRegistry::BuiltIn(), RuleConfig{}, kDyad);
    EXPECT_EQ(analyzer.Add(bad).outcome, DyadAnalyzer::Outcome::kInvalid);
  }
}

TEST(IncrementalTest, AnalyzerKeepsWorkingAfterAMove) {
  // Workers keep analyzers in containers: a moved analyzer must keep its rules and state.
  std::vector<Rating> h = VShape();
  std::vector<DyadAnalyzer> cache;
  {
    RuleConfig rules;  // goes out of scope: the analyzer keeps its own copy
    DyadAnalyzer analyzer(InstrumentRegistry::BuiltIn(), rules, kDyad);
    analyzer.AddAll(std::span<const Rating>(h).first(5));
    cache.push_back(std::move(analyzer));
  }
  for (int i = 0; i < 8; ++i) {
    cache.push_back(DyadAnalyzer(InstrumentRegistry::BuiltIn(), RuleConfig{}, kDyad));
  }
  EXPECT_TRUE(cache.front().Add(h[5]).new_alerts.empty());
  DyadAnalyzer::AddResult r7 = cache.front().Add(h[6]);
  ASSERT_EQ(r7.new_alerts.size(), 1u);
  EXPECT_EQ(r7.new_alerts[0].kind, AlertKind::kRepaired);
  EXPECT_EQ(cache.front().analysis(), Analyze(h));
}

}  // namespace
}  // namespace alliance::analytics
