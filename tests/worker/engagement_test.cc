// Disengagement in the worker's dyad state (worker/dyad_state.h, worker/engagement.h): the
// client trigger raised once on ratings and followed by one reengaged event, the same alerts
// as the reference update (UpdateDyad), the open episode read back from a stored record, and
// the timer's evaluation (DyadState::EvaluateEngagement) at controlled times: nothing one
// second before D days, the alert at D days, never twice, reengaged on the next rating.
#include "worker/engagement.h"

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "analytics/registry.h"
#include "google/protobuf/util/time_util.h"
#include "worker/dyad_state.h"
#include "worker/dyad_update.h"

namespace alliance::worker {
namespace {

using google::protobuf::util::TimeUtil;
namespace pb = alliance::v1;

const analytics::DyadKey kDyad{"t", "th", "cl"};
constexpr int64_t kWeekMs = 604800000;
constexpr int64_t kDayMs = 86400000;
constexpr int64_t kStartMs = 1704067200000;
constexpr int64_t TimeOf(int session) { return kStartMs + session * kWeekMs; }

DecodedFeedback Rating(int session, analytics::Rater rater, const std::string& instrument,
                       std::vector<double> answers) {
  DecodedFeedback f;
  f.dyad = kDyad;
  f.rating.rating_id = absl::StrCat(instrument, "-", session);
  f.stream_id = absl::StrCat("1-", f.rating.rating_id);
  f.rating.session_number = session;
  f.rating.session_time_ms = TimeOf(session);
  f.rating.rater = rater;
  f.rating.instrument_id = instrument;
  f.rating.answers = std::move(answers);
  return f;
}
// Client SRS with every item at `item` (total 4 * item); therapist WAI-SR-T at 4 (total 48).
DecodedFeedback Client(int session, double item = 10) {
  return Rating(session, analytics::Rater::kClient, "srs", {item, item, item, item});
}
DecodedFeedback Therapist(int session) {
  return Rating(session, analytics::Rater::kTherapist, "wai-sr-t", std::vector<double>(12, 4));
}
google::protobuf::Timestamp At(int64_t ms) { return TimeUtil::MillisecondsToTimestamp(ms); }

std::vector<pb::AlertKind> Kinds(const std::vector<pb::Alert>& alerts) {
  std::vector<pb::AlertKind> out;
  for (const pb::Alert& a : alerts) out.push_back(a.kind());
  return out;
}

TEST(WorkerEngagement, ClientStopsRatingThenComesBackSameAsReference) {
  const analytics::RuleConfig rules;  // N = 2
  DyadState state(analytics::InstrumentRegistry::BuiltIn(), rules, kDyad, {}, false);
  internal::v1::DyadRecord reference;
  auto apply = [&](std::vector<DecodedFeedback> batch, int64_t now_ms) {
    DyadState::Update u = state.Apply(batch, At(now_ms));
    DyadUpdate r = UpdateDyad(analytics::InstrumentRegistry::BuiltIn(), rules, kDyad, reference,
                              batch, At(now_ms));
    if (r.changed) reference = r.record;
    EXPECT_EQ(Kinds(u.new_alerts), Kinds(r.new_alerts));
    for (size_t i = 0; i < u.new_alerts.size() && i < r.new_alerts.size(); ++i) {
      EXPECT_EQ(u.new_alerts[i].alert_id(), r.new_alerts[i].alert_id());
    }
    return u;
  };
  // Sessions 1-3 rated by both (SRS 40: no rupture).
  for (int s = 1; s <= 3; ++s) {
    EXPECT_TRUE(apply({Client(s), Therapist(s)}, TimeOf(s)).new_alerts.empty());
  }
  // Session 4: the therapist alone (1 < N).
  EXPECT_TRUE(apply({Therapist(4)}, TimeOf(4)).new_alerts.empty());
  // Session 5: the therapist alone again (2 = N): disengagement, keyed by session 3.
  DyadState::Update raised = apply({Therapist(5)}, TimeOf(5));
  ASSERT_EQ(Kinds(raised.new_alerts), std::vector<pb::AlertKind>{pb::ALERT_KIND_DISENGAGEMENT});
  const pb::Alert& d = raised.new_alerts[0];
  EXPECT_EQ(d.reason(), pb::REASON_CLIENT_NOT_RATING);
  EXPECT_EQ(d.severity(), pb::SEVERITY_HIGH);
  EXPECT_EQ(d.session_number(), 5);
  EXPECT_EQ(d.evidence().before(), 3);
  EXPECT_EQ(d.alert_id(), analytics::MakeAlertId(kDyad, analytics::Rater::kClient, "",
                                                 analytics::AlertKind::kDisengagement, 3));
  // Session 6: still the therapist alone: nothing new.
  EXPECT_TRUE(apply({Therapist(6)}, TimeOf(6)).new_alerts.empty());
  // A redelivery of session 5 changes nothing.
  EXPECT_FALSE(apply({Therapist(5)}, TimeOf(6)).changed);
  // Session 7: the client rates again: reengaged, once.
  DyadState::Update back = apply({Client(7), Therapist(7)}, TimeOf(7));
  ASSERT_EQ(Kinds(back.new_alerts), std::vector<pb::AlertKind>{pb::ALERT_KIND_REENGAGED});
  EXPECT_EQ(back.new_alerts[0].episode_id(), d.alert_id());
  EXPECT_EQ(back.new_alerts[0].severity(), pb::SEVERITY_INFO);
  EXPECT_TRUE(apply({Client(8), Therapist(8)}, TimeOf(8)).new_alerts.empty());

  // A state loaded from the stored record knows the episode is closed, and raises a new
  // episode (keyed by session 8) when the client stops again.
  DyadState loaded(analytics::InstrumentRegistry::BuiltIn(), rules, kDyad, reference, false);
  EXPECT_TRUE(
      loaded.Apply(std::vector<DecodedFeedback>{Therapist(9)}, At(TimeOf(9))).new_alerts.empty());
  DyadState::Update again =
      loaded.Apply(std::vector<DecodedFeedback>{Therapist(10)}, At(TimeOf(10)));
  ASSERT_EQ(Kinds(again.new_alerts), std::vector<pb::AlertKind>{pb::ALERT_KIND_DISENGAGEMENT});
  EXPECT_EQ(again.new_alerts[0].evidence().before(), 8);
  EXPECT_NE(again.new_alerts[0].alert_id(), d.alert_id());
}

TEST(WorkerEngagement, TimerRaisesTheRuptureTriggerAtDDaysOnceAndReengagedOnTheNextRating) {
  const analytics::RuleConfig rules;  // D = 14 days
  DyadState state(analytics::InstrumentRegistry::BuiltIn(), rules, kDyad, {}, false);
  // SRS 40, 40, 40, then 20 at session 4: a rupture opens (20 < 36).
  for (int s = 1; s <= 3; ++s) state.Apply(std::vector<DecodedFeedback>{Client(s)}, At(TimeOf(s)));
  DyadState::Update rupture =
      state.Apply(std::vector<DecodedFeedback>{Client(4, 5)}, At(TimeOf(4)));
  ASSERT_FALSE(rupture.new_alerts.empty());
  EXPECT_EQ(rupture.new_alerts[0].kind(), pb::ALERT_KIND_RUPTURE);
  // Rating path: the no-rating trigger is the timer's; the write carries when it is due.
  ASSERT_TRUE(rupture.disengagement_due_ms.has_value());
  EXPECT_EQ(*rupture.disengagement_due_ms, TimeOf(4) + 14 * kDayMs);

  const int64_t version = state.version();
  DyadState::Update early = state.EvaluateEngagement(At(TimeOf(4) + 14 * kDayMs - 1000));
  EXPECT_FALSE(early.changed);
  EXPECT_TRUE(early.new_alerts.empty());
  EXPECT_EQ(state.version(), version);
  EXPECT_EQ(early.disengagement_due_ms, rupture.disengagement_due_ms);

  DyadState::Update due = state.EvaluateEngagement(At(TimeOf(4) + 14 * kDayMs));
  ASSERT_TRUE(due.changed);
  ASSERT_EQ(Kinds(due.new_alerts), std::vector<pb::AlertKind>{pb::ALERT_KIND_DISENGAGEMENT});
  EXPECT_EQ(due.new_alerts[0].reason(), pb::REASON_NO_RATING_DURING_RUPTURE);
  EXPECT_EQ(TimeUtil::TimestampToMilliseconds(due.new_alerts[0].detected_at()),
            TimeOf(4) + 14 * kDayMs);
  EXPECT_EQ(due.new_alerts[0].evidence().statistic(), 14);
  EXPECT_EQ(state.version(), version + 1);
  EXPECT_FALSE(due.disengagement_due_ms.has_value());  // an episode is open: unwatched
  EXPECT_FALSE(due.head.empty());

  // Later rounds (or a restart that reloads the record) raise nothing more.
  EXPECT_FALSE(state.EvaluateEngagement(At(TimeOf(4) + 30 * kDayMs)).changed);

  // The next rating: reengaged of that episode, once.
  DyadState::Update back = state.Apply(std::vector<DecodedFeedback>{Client(7, 5)}, At(TimeOf(7)));
  std::vector<pb::Alert> reengaged;
  for (const pb::Alert& a : back.new_alerts) {
    if (a.kind() == pb::ALERT_KIND_REENGAGED) reengaged.push_back(a);
  }
  ASSERT_EQ(reengaged.size(), 1u);
  EXPECT_EQ(reengaged[0].episode_id(), due.new_alerts[0].alert_id());
  EXPECT_EQ(reengaged[0].reason(), pb::REASON_NO_RATING_DURING_RUPTURE);
  // The rupture is still open: watched again from the new last rating.
  EXPECT_EQ(back.disengagement_due_ms, TimeOf(7) + 14 * kDayMs);
}

TEST(WorkerEngagement, StoredRecordReopensTheEpisodeSoTheTimerDoesNotRaiseTwice) {
  const analytics::RuleConfig rules;
  DyadState first(analytics::InstrumentRegistry::BuiltIn(), rules, kDyad, {}, false);
  std::vector<DecodedFeedback> history;
  for (int s = 1; s <= 3; ++s) history.push_back(Client(s));
  history.push_back(Client(4, 5));
  first.Apply(history, At(TimeOf(4)));
  DyadState::Update due = first.EvaluateEngagement(At(TimeOf(4) + 15 * kDayMs));
  ASSERT_EQ(due.new_alerts.size(), 1u);
  // The record as written: rebuild it with the reference and add the alert, then reload.
  DyadUpdate r = UpdateDyad(analytics::InstrumentRegistry::BuiltIn(), rules, kDyad, {}, history,
                            At(TimeOf(4)));
  *r.record.add_alerts() = due.new_alerts[0];
  DyadState reloaded(analytics::InstrumentRegistry::BuiltIn(), rules, kDyad, r.record, false);
  EXPECT_FALSE(reloaded.EvaluateEngagement(At(TimeOf(4) + 16 * kDayMs)).changed);
}

TEST(WorkerEngagement, WatchMemberRoundTrips) {
  analytics::DyadKey odd{"te:n", "7:x", "c:l:1"};
  std::optional<analytics::DyadKey> back = ParseWatchMember(WatchMember(odd));
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(*back, odd);
  EXPECT_FALSE(ParseWatchMember("9:short").has_value());
}

}  // namespace
}  // namespace alliance::worker
