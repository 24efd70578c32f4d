// Disengagement: the dyad-level alert that the client is drifting away, the usual end of an
// unrepaired rupture being dropout (docs/analytics.md, "Disengagement"). Two triggers:
//  - the client stopped rating while sessions go on: the therapist rated N sessions after the
//    client's last rated session (evaluated when ratings arrive);
//  - a dyad with an open rupture has had no rating at all for D days (evaluated when ratings
//    arrive and on a timer, with `now` from the caller's clock).
// A disengagement alert opens an episode; the next rating that ends it (a client rating after
// the client's last session for the first trigger, any rating after the last rating time for
// the second) raises one `reengaged` event for it. Pure: no clock, no I/O.
#ifndef ALLIANCE_ANALYTICS_DISENGAGEMENT_H_
#define ALLIANCE_ANALYTICS_DISENGAGEMENT_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "analytics/dyad_analysis.h"
#include "analytics/rules.h"

namespace alliance::analytics {

// What the triggers look at, read off a dyad's analysis (EngagementOf).
struct EngagementFacts {
  int last_client_session = 0;  // the client's last rated session (0: never rated)
  // Sessions after last_client_session rated by the therapist (distinct session numbers).
  int therapist_sessions_since_client = 0;
  int last_session = 0;             // last rated session of the dyad, any rater
  int64_t last_rating_time_ms = 0;  // latest session time of any rating (0: none)
  bool open_rupture = false;

  bool operator==(const EngagementFacts&) const = default;
};

EngagementFacts EngagementOf(const DyadAnalysis& analysis);

// A disengagement alert not yet followed by its reengaged event.
struct OpenDisengagement {
  std::string episode_id;  // the disengagement alert's id
  Reason reason = Reason::kClientNotRating;
  int since_session = 0;      // kClientNotRating: the client's last session when raised
  int64_t since_time_ms = 0;  // kNoRatingDuringRupture: the last rating time when raised

  bool operator==(const OpenDisengagement&) const = default;
};

// The episode a disengagement event opens (its session_time_ms is the last rating time and
// evidence.before the client's last session, so a stored alert gives it back).
OpenDisengagement OpenedBy(const AlertEvent& disengagement);

struct EngagementEvaluation {
  std::vector<AlertEvent> events;         // reengaged, then disengagement, in that order
  std::optional<OpenDisengagement> open;  // the episode open after the events
};

// Evaluates both triggers at `now_ms` (Unix ms). `open`: the episode already open, if any (at
// most one at a time: no new disengagement while it is open). Ids are deterministic: a
// disengagement is keyed by the client's last session (first trigger) or the last rating time
// (second), its reengaged event by the same, so an evaluation repeated on the same facts
// yields the same ids, and a later episode gets new ones.
EngagementEvaluation EvaluateEngagement(const DyadKey& dyad, const RuleConfig& rules,
                                        const EngagementFacts& facts,
                                        const std::optional<OpenDisengagement>& open,
                                        int64_t now_ms);

// The earliest time (Unix ms) at which the rupture trigger can fire for these facts, or
// nullopt when it cannot (no open rupture, trigger disabled, no rating): the worker's timer
// index is scored with it.
std::optional<int64_t> StaleRuptureDueAt(const RuleConfig& rules, const EngagementFacts& facts);

}  // namespace alliance::analytics

#endif  // ALLIANCE_ANALYTICS_DISENGAGEMENT_H_
