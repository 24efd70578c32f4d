// Disengagement triggers and re-engagement (disengagement.h).
#include "analytics/disengagement.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"

namespace alliance::analytics {
namespace {

constexpr int64_t kDayMs = 24 * 60 * 60 * 1000;

int64_t StaleAfterMs(const RuleConfig& rules) {
  return std::llround(rules.disengagement_days_without_rating_open_rupture * kDayMs);
}

// The id of a disengagement episode's events: the client trigger is keyed by the client's
// last session, the rupture trigger by the last rating time.
std::string EpisodeEventId(const DyadKey& dyad, Reason reason, int since_session,
                           int64_t since_time_ms, AlertKind kind) {
  if (reason == Reason::kClientNotRating) {
    return MakeAlertId(dyad, Rater::kClient, "", kind, since_session);
  }
  return MakeAlertId(dyad, Rater::kUnspecified, absl::StrCat("no_rating_since:", since_time_ms),
                     kind, 0);
}

}  // namespace

EngagementFacts EngagementOf(const DyadAnalysis& analysis) {
  EngagementFacts f;
  f.open_rupture = analysis.open_ruptures > 0;
  const std::vector<TimelinePoint>& points = analysis.points;  // by session, rater, instrument
  if (points.empty()) return f;
  f.last_session = points.back().session_number;
  int counted_session = 0;
  bool client_found = false;
  for (auto it = points.rbegin(); it != points.rend(); ++it) {
    f.last_rating_time_ms = std::max(f.last_rating_time_ms, it->session_time_ms);
    if (client_found) continue;
    if (it->rater == Rater::kClient) {
      client_found = true;
      f.last_client_session = it->session_number;
      // The client sorts before the therapist within a session, so a therapist rating of this
      // very session was counted on the way down: it is not "since".
      if (counted_session == it->session_number) --f.therapist_sessions_since_client;
      continue;
    }
    if (it->rater == Rater::kTherapist && it->session_number != counted_session) {
      counted_session = it->session_number;
      ++f.therapist_sessions_since_client;
    }
  }
  return f;
}

OpenDisengagement OpenedBy(const AlertEvent& e) {
  return {e.alert_id, e.reason, static_cast<int>(e.evidence.before), e.session_time_ms};
}

std::optional<int64_t> StaleRuptureDueAt(const RuleConfig& rules, const EngagementFacts& facts) {
  if (rules.disengagement_days_without_rating_open_rupture <= 0 || !facts.open_rupture ||
      facts.last_rating_time_ms <= 0) {
    return std::nullopt;
  }
  return facts.last_rating_time_ms + StaleAfterMs(rules);
}

EngagementEvaluation EvaluateEngagement(const DyadKey& dyad, const RuleConfig& rules,
                                        const EngagementFacts& facts,
                                        const std::optional<OpenDisengagement>& open,
                                        int64_t now_ms) {
  EngagementEvaluation out;
  out.open = open;
  if (open.has_value()) {
    const bool resumed = open->reason == Reason::kClientNotRating
                             ? facts.last_client_session > open->since_session
                             : facts.last_rating_time_ms > open->since_time_ms;
    if (!resumed) return out;  // one episode at a time
    AlertEvent e;
    e.alert_id = EpisodeEventId(dyad, open->reason, open->since_session, open->since_time_ms,
                                AlertKind::kReengaged);
    e.episode_id = open->episode_id;
    e.rater = open->reason == Reason::kClientNotRating ? Rater::kClient : Rater::kUnspecified;
    e.kind = AlertKind::kReengaged;
    e.reason = open->reason;
    e.severity = Severity::kInfo;
    e.session_number = facts.last_session;
    e.session_time_ms = facts.last_rating_time_ms;
    e.evidence.rule = "reengaged";
    e.evidence.before = open->reason == Reason::kClientNotRating
                            ? open->since_session
                            : static_cast<double>(open->since_time_ms);
    e.evidence.after = open->reason == Reason::kClientNotRating
                           ? facts.last_client_session
                           : static_cast<double>(facts.last_rating_time_ms);
    out.events.push_back(std::move(e));
    out.open.reset();
  }

  const int n = rules.disengagement_therapist_sessions_without_client;
  std::optional<AlertEvent> raised;
  if (n > 0 && facts.last_client_session > 0 && facts.therapist_sessions_since_client >= n) {
    AlertEvent e;
    e.alert_id = EpisodeEventId(dyad, Reason::kClientNotRating, facts.last_client_session, 0,
                                AlertKind::kDisengagement);
    e.rater = Rater::kClient;
    e.reason = Reason::kClientNotRating;
    e.evidence.rule = "client_not_rating";
    e.evidence.before = facts.last_client_session;
    e.evidence.after = facts.last_session;
    e.evidence.threshold = n;
    e.evidence.statistic = facts.therapist_sessions_since_client;
    raised = std::move(e);
  } else if (std::optional<int64_t> due = StaleRuptureDueAt(rules, facts);
             due.has_value() && now_ms >= *due) {
    AlertEvent e;
    e.alert_id = EpisodeEventId(dyad, Reason::kNoRatingDuringRupture, 0, facts.last_rating_time_ms,
                                AlertKind::kDisengagement);
    e.rater = Rater::kUnspecified;
    e.reason = Reason::kNoRatingDuringRupture;
    e.evidence.rule = "no_rating_during_rupture";
    e.evidence.before = facts.last_client_session;
    e.evidence.threshold = rules.disengagement_days_without_rating_open_rupture;
    e.evidence.statistic = static_cast<double>(now_ms - facts.last_rating_time_ms) / kDayMs;
    raised = std::move(e);
  }
  if (raised.has_value()) {
    raised->episode_id = raised->alert_id;
    raised->kind = AlertKind::kDisengagement;
    raised->severity = rules.disengagement_severity;
    raised->session_number = facts.last_session;
    raised->session_time_ms = facts.last_rating_time_ms;
    out.open = OpenedBy(*raised);
    out.events.push_back(*std::move(raised));
  }
  return out;
}

}  // namespace alliance::analytics
