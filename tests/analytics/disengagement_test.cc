// Disengagement triggers and re-engagement (analytics/disengagement.h), with hand-computed
// facts, boundaries (N - 1 / N sessions, D days minus one second / D days) and ids.
#include "analytics/disengagement.h"

#include <gtest/gtest.h>

#include "analytics/registry.h"
#include "tests/analytics/rating_builders.h"

namespace alliance::analytics {
namespace {

using testing::kDyad;
using testing::Srs;
using testing::Wai;

constexpr int64_t kWeekMs = 604'800'000;
constexpr int64_t kDayMs = 86'400'000;
// Session time of session s in the builders (weekly from this origin).
constexpr int64_t TimeOf(int s) { return 1'700'000'000'000 + int64_t{s} * kWeekMs; }

DyadAnalysis Analyze(const std::vector<Rating>& history, const RuleConfig& rules = {}) {
  return AnalyzeDyad(InstrumentRegistry::BuiltIn(), rules, kDyad, history);
}

// Client WAI-SR at sessions 1..client_last, therapist WAI-SR-T at 1..therapist_last; all 48.
std::vector<Rating> ClientThenTherapist(int client_last, int therapist_last) {
  std::vector<Rating> h;
  for (int s = 1; s <= client_last; ++s) h.push_back(Wai(s, 48));
  for (int s = 1; s <= therapist_last; ++s) h.push_back(Wai(s, 48, Rater::kTherapist));
  return h;
}

TEST(EngagementFacts, CountsTherapistSessionsAfterTheClientsLast) {
  // Client 1..3, therapist 1..5: the therapist's sessions 4 and 5 come after the client's 3
  // (session 3, rated by both, is not one of them).
  EngagementFacts f = EngagementOf(Analyze(ClientThenTherapist(3, 5)));
  EXPECT_EQ(f.last_client_session, 3);
  EXPECT_EQ(f.therapist_sessions_since_client, 2);
  EXPECT_EQ(f.last_session, 5);
  EXPECT_EQ(f.last_rating_time_ms, TimeOf(5));
  EXPECT_FALSE(f.open_rupture);
}

TEST(EngagementFacts, ClientNeverRatedAndTherapistOnly) {
  EngagementFacts f = EngagementOf(Analyze(ClientThenTherapist(0, 4)));
  EXPECT_EQ(f.last_client_session, 0);
  EXPECT_EQ(f.therapist_sessions_since_client, 4);
  EngagementFacts none = EngagementOf(Analyze({}));
  EXPECT_EQ(none, EngagementFacts{});
}

TEST(ClientNotRating, FiresAtTheNthTherapistSessionNotBefore) {
  RuleConfig rules;  // N = 2
  // N - 1: therapist session 4 only after the client's 3.
  EngagementEvaluation below = EvaluateEngagement(
      kDyad, rules, EngagementOf(Analyze(ClientThenTherapist(3, 4))), std::nullopt, TimeOf(4));
  EXPECT_TRUE(below.events.empty());
  EXPECT_FALSE(below.open.has_value());

  // N: sessions 4 and 5.
  EngagementEvaluation at = EvaluateEngagement(
      kDyad, rules, EngagementOf(Analyze(ClientThenTherapist(3, 5))), std::nullopt, TimeOf(5));
  ASSERT_EQ(at.events.size(), 1u);
  const AlertEvent& e = at.events[0];
  EXPECT_EQ(e.kind, AlertKind::kDisengagement);
  EXPECT_EQ(e.reason, Reason::kClientNotRating);
  EXPECT_EQ(e.severity, Severity::kHigh);
  EXPECT_EQ(e.rater, Rater::kClient);
  EXPECT_EQ(e.session_number, 5);
  EXPECT_EQ(e.session_time_ms, TimeOf(5));
  EXPECT_EQ(e.evidence.rule, "client_not_rating");
  EXPECT_EQ(e.evidence.before, 3);     // the client's last session
  EXPECT_EQ(e.evidence.after, 5);      // the dyad's last session
  EXPECT_EQ(e.evidence.threshold, 2);  // N
  EXPECT_EQ(e.evidence.statistic, 2);  // sessions 4 and 5
  EXPECT_EQ(e.episode_id, e.alert_id);
  EXPECT_EQ(e.alert_id, MakeAlertId(kDyad, Rater::kClient, "", AlertKind::kDisengagement, 3));
  ASSERT_TRUE(at.open.has_value());
  EXPECT_EQ(at.open->since_session, 3);
  EXPECT_EQ(at.open->episode_id, e.alert_id);
}

TEST(ClientNotRating, NeedsAClientWhoRatedOnce) {
  // A therapist-only dyad never had a client rating to stop.
  EngagementEvaluation r = EvaluateEngagement(
      kDyad, RuleConfig{}, EngagementOf(Analyze(ClientThenTherapist(0, 6))), std::nullopt, 0);
  EXPECT_TRUE(r.events.empty());
}

TEST(ClientNotRating, NIsARule) {
  RuleConfig rules;
  rules.disengagement_therapist_sessions_without_client = 3;
  EngagementFacts two_since = EngagementOf(Analyze(ClientThenTherapist(3, 5)));
  EXPECT_TRUE(EvaluateEngagement(kDyad, rules, two_since, std::nullopt, 0).events.empty());
  EngagementFacts three_since = EngagementOf(Analyze(ClientThenTherapist(3, 6)));
  EXPECT_EQ(EvaluateEngagement(kDyad, rules, three_since, std::nullopt, 0).events.size(), 1u);
  rules.disengagement_therapist_sessions_without_client = 0;  // disabled
  EXPECT_TRUE(EvaluateEngagement(kDyad, rules, three_since, std::nullopt, 0).events.empty());
}

TEST(ClientNotRating, ReengagedOnceWhenTheClientRatesAgain) {
  RuleConfig rules;
  EngagementEvaluation raised = EvaluateEngagement(
      kDyad, rules, EngagementOf(Analyze(ClientThenTherapist(3, 5))), std::nullopt, TimeOf(5));
  ASSERT_TRUE(raised.open.has_value());
  // While the client stays away, more therapist sessions raise nothing new.
  EngagementEvaluation still = EvaluateEngagement(
      kDyad, rules, EngagementOf(Analyze(ClientThenTherapist(3, 7))), raised.open, TimeOf(7));
  EXPECT_TRUE(still.events.empty());
  EXPECT_EQ(still.open, raised.open);

  // The client rates session 6: reengaged, of that episode, at info.
  std::vector<Rating> back = ClientThenTherapist(3, 6);
  back.push_back(Wai(6, 48));
  EngagementFacts facts = EngagementOf(Analyze(back));
  EXPECT_EQ(facts.last_client_session, 6);
  EXPECT_EQ(facts.therapist_sessions_since_client, 0);
  EngagementEvaluation re = EvaluateEngagement(kDyad, rules, facts, raised.open, TimeOf(6));
  ASSERT_EQ(re.events.size(), 1u);
  EXPECT_EQ(re.events[0].kind, AlertKind::kReengaged);
  EXPECT_EQ(re.events[0].severity, Severity::kInfo);
  EXPECT_EQ(re.events[0].reason, Reason::kClientNotRating);
  EXPECT_EQ(re.events[0].episode_id, raised.events[0].alert_id);
  EXPECT_EQ(re.events[0].evidence.before, 3);
  EXPECT_EQ(re.events[0].evidence.after, 6);
  EXPECT_EQ(re.events[0].alert_id,
            MakeAlertId(kDyad, Rater::kClient, "", AlertKind::kReengaged, 3));
  EXPECT_FALSE(re.open.has_value());
  // Once: with the episode closed, the same facts raise nothing.
  EXPECT_TRUE(EvaluateEngagement(kDyad, rules, facts, re.open, TimeOf(6)).events.empty());

  // Stopping again later is a new episode with a new id (keyed by session 6, not 3).
  for (int s = 7; s <= 8; ++s) back.push_back(Wai(s, 48, Rater::kTherapist));
  EngagementEvaluation again =
      EvaluateEngagement(kDyad, rules, EngagementOf(Analyze(back)), std::nullopt, TimeOf(8));
  ASSERT_EQ(again.events.size(), 1u);
  EXPECT_EQ(again.events[0].evidence.before, 6);
  EXPECT_NE(again.events[0].alert_id, raised.events[0].alert_id);
}

// Client SRS 40, 40, 40 then 25 at session 4: 25 < 36 opens a below_cutoff rupture (and 40 ->
// 25 is a reliable drop). The last rating is session 4's.
std::vector<Rating> RuptureAtFour() { return {Srs(1, 40), Srs(2, 40), Srs(3, 40), Srs(4, 25)}; }

TEST(NoRatingDuringRupture, FiresAtDDaysNotOneSecondBefore) {
  RuleConfig rules;  // D = 14 days = 1 209 600 000 ms
  EngagementFacts f = EngagementOf(Analyze(RuptureAtFour()));
  ASSERT_TRUE(f.open_rupture);
  EXPECT_EQ(f.last_rating_time_ms, TimeOf(4));
  EXPECT_EQ(StaleRuptureDueAt(rules, f), TimeOf(4) + 1'209'600'000);

  EXPECT_TRUE(EvaluateEngagement(kDyad, rules, f, std::nullopt, TimeOf(4) + 14 * kDayMs - 1000)
                  .events.empty());
  EngagementEvaluation at =
      EvaluateEngagement(kDyad, rules, f, std::nullopt, TimeOf(4) + 14 * kDayMs);
  ASSERT_EQ(at.events.size(), 1u);
  const AlertEvent& e = at.events[0];
  EXPECT_EQ(e.kind, AlertKind::kDisengagement);
  EXPECT_EQ(e.reason, Reason::kNoRatingDuringRupture);
  EXPECT_EQ(e.severity, Severity::kHigh);
  EXPECT_EQ(e.rater, Rater::kUnspecified);
  EXPECT_EQ(e.session_number, 4);
  EXPECT_EQ(e.session_time_ms, TimeOf(4));
  EXPECT_EQ(e.evidence.rule, "no_rating_during_rupture");
  EXPECT_EQ(e.evidence.threshold, 14);
  EXPECT_EQ(e.evidence.statistic, 14);  // days since the last rating
  // Deterministic: later evaluations of the same facts give the same id.
  EngagementEvaluation later =
      EvaluateEngagement(kDyad, rules, f, std::nullopt, TimeOf(4) + 20 * kDayMs);
  ASSERT_EQ(later.events.size(), 1u);
  EXPECT_EQ(later.events[0].alert_id, e.alert_id);
  EXPECT_EQ(later.events[0].evidence.statistic, 20);
}

TEST(NoRatingDuringRupture, NeedsAnOpenRupture) {
  EngagementFacts f = EngagementOf(Analyze({Srs(1, 40), Srs(2, 40), Srs(3, 40), Srs(4, 39)}));
  ASSERT_FALSE(f.open_rupture);
  EXPECT_FALSE(StaleRuptureDueAt(RuleConfig{}, f).has_value());
  EXPECT_TRUE(EvaluateEngagement(kDyad, RuleConfig{}, f, std::nullopt, TimeOf(4) + 100 * kDayMs)
                  .events.empty());
}

TEST(NoRatingDuringRupture, DIsARuleAndSoIsTheSeverity) {
  RuleConfig rules;
  rules.disengagement_days_without_rating_open_rupture = 7;
  rules.disengagement_severity = Severity::kCritical;
  EngagementFacts f = EngagementOf(Analyze(RuptureAtFour()));
  EXPECT_TRUE(EvaluateEngagement(kDyad, rules, f, std::nullopt, TimeOf(4) + 7 * kDayMs - 1000)
                  .events.empty());
  EngagementEvaluation at =
      EvaluateEngagement(kDyad, rules, f, std::nullopt, TimeOf(4) + 7 * kDayMs);
  ASSERT_EQ(at.events.size(), 1u);
  EXPECT_EQ(at.events[0].severity, Severity::kCritical);
  rules.disengagement_days_without_rating_open_rupture = 0;  // disabled
  EXPECT_TRUE(
      EvaluateEngagement(kDyad, rules, f, std::nullopt, TimeOf(4) + 100 * kDayMs).events.empty());
}

TEST(NoRatingDuringRupture, ReengagedOnceOnTheNextRating) {
  RuleConfig rules;
  std::vector<Rating> h = RuptureAtFour();
  EngagementEvaluation raised = EvaluateEngagement(kDyad, rules, EngagementOf(Analyze(h)),
                                                   std::nullopt, TimeOf(4) + 15 * kDayMs);
  ASSERT_EQ(raised.events.size(), 1u);
  ASSERT_TRUE(raised.open.has_value());
  EXPECT_EQ(raised.open->since_time_ms, TimeOf(4));
  // Session 5 (a week after session 4, as the builders place it) is any new rating.
  h.push_back(Srs(5, 26));
  EngagementFacts f = EngagementOf(Analyze(h));
  EngagementEvaluation re = EvaluateEngagement(kDyad, rules, f, raised.open, TimeOf(5));
  ASSERT_EQ(re.events.size(), 1u);
  EXPECT_EQ(re.events[0].kind, AlertKind::kReengaged);
  EXPECT_EQ(re.events[0].reason, Reason::kNoRatingDuringRupture);
  EXPECT_EQ(re.events[0].episode_id, raised.events[0].alert_id);
  EXPECT_NE(re.events[0].alert_id, raised.events[0].alert_id);
  EXPECT_FALSE(re.open.has_value());
  EXPECT_TRUE(EvaluateEngagement(kDyad, rules, f, re.open, TimeOf(5)).events.empty());
  // Fourteen days after session 5, with the rupture still open, a second episode: new id.
  EngagementEvaluation second =
      EvaluateEngagement(kDyad, rules, f, std::nullopt, TimeOf(5) + 14 * kDayMs);
  ASSERT_EQ(second.events.size(), 1u);
  EXPECT_NE(second.events[0].alert_id, raised.events[0].alert_id);
}

TEST(Engagement, OpenedByGivesTheEpisodeBackFromTheAlert) {
  EngagementEvaluation a = EvaluateEngagement(
      kDyad, RuleConfig{}, EngagementOf(Analyze(ClientThenTherapist(3, 5))), std::nullopt, 0);
  ASSERT_EQ(a.events.size(), 1u);
  EXPECT_EQ(OpenedBy(a.events[0]), *a.open);
}

}  // namespace
}  // namespace alliance::analytics
