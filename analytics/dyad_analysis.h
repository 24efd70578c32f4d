// The rolling picture of one dyad and its rupture/repair alert events, computed from the
// dyad's rating history alone. Deterministic: the same history in any order, with duplicates,
// gives the same result, so replays and redeliveries cannot change or duplicate anything.
#ifndef ALLIANCE_ANALYTICS_DYAD_ANALYSIS_H_
#define ALLIANCE_ANALYTICS_DYAD_ANALYSIS_H_

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "analytics/instrument.h"
#include "analytics/registry.h"
#include "analytics/rules.h"
#include "analytics/scoring.h"

namespace alliance::analytics {

struct DyadKey {
  std::string tenant_id;
  std::string therapist_id;
  std::string client_id;

  bool operator==(const DyadKey&) const = default;
};

// One rating as stored. Identity is rating_id (a redelivery repeats the same rating); for two
// ratings of one session by one rater on one instrument, the one with the later session time
// (then the greater rating_id) wins and the other is ignored.
struct Rating {
  std::string rating_id;
  int session_number = 0;
  int64_t session_time_ms = 0;  // Unix epoch milliseconds
  Rater rater = Rater::kUnspecified;
  std::string instrument_id;
  std::vector<double> answers;  // by item: answers[i] is item i+1

  bool operator==(const Rating&) const = default;
};

// Values match alliance.v1 enums so conversions are a cast.
enum class AlertKind {
  kRupture = 1,
  kRepaired = 2,
  kUnrepaired = 3,
  kDisengagement = 4,  // dyad-level, see disengagement.h
  kReengaged = 5
};
enum class Reason {
  kBelowCutoff = 1,
  kReliableDrop = 2,
  kDeflection = 3,
  kDecline = 4,
  kEpisodeFollowUp = 5,
  kClientNotRating = 6,       // disengagement.h
  kNoRatingDuringRupture = 7  // disengagement.h
};
enum class Trend { kUnknown = 0, kImproving = 1, kStable = 2, kDeclining = 3 };

struct Evidence {
  std::string rule;
  double before = 0;
  double after = 0;
  double threshold = 0;
  double statistic = 0;
  // The SD behind the threshold: the standard error of a difference (SD * sqrt(2) *
  // sqrt(1 - r)) for reliable_drop, the stricter SD for deflection and decline; else 0.
  double sd = 0;

  bool operator==(const Evidence&) const = default;
};

struct AlertEvent {
  std::string alert_id;    // deterministic, see MakeAlertId
  std::string episode_id;  // alert_id of the opening rupture
  Rater rater = Rater::kUnspecified;
  std::string instrument_id;
  AlertKind kind = AlertKind::kRupture;
  Reason reason = Reason::kBelowCutoff;
  Severity severity = Severity::kWarning;
  int session_number = 0;
  int64_t session_time_ms = 0;
  Evidence evidence;
  std::vector<Reason> rules_fired;
  std::string subscale_fell_most;  // empty if none fell
  double subscale_drop_pomp = 0;
  std::vector<std::string> factors;  // seed-article factors the subscale points to
  std::string suggested_focus;

  bool operator==(const AlertEvent&) const = default;
};

struct OpenRupture {
  std::string episode_id;
  // Rule that opened it (the primary one: reliable_drop, then deflection, decline,
  // below_cutoff).
  Reason reason = Reason::kBelowCutoff;
  int onset_session = 0;
  // Level a later session must reach for repair: the running level (mean of up to
  // recent_window earlier sessions) for reliable_drop and deflection, the baseline for decline,
  // the cutoff for below_cutoff alone. When below_cutoff fired at onset, repair also needs a
  // score outside the concern zone.
  double pre_rupture_level = 0;
  int sessions_since_onset = 0;  // sessions rated since onset (onset excluded)
  bool escalated = false;

  bool operator==(const OpenRupture&) const = default;
};

struct SeriesPicture {
  Rater rater = Rater::kUnspecified;
  std::string instrument_id;
  int session_count = 0;
  int last_session_number = 0;
  double latest = 0;
  double latest_pomp = 0;
  double ewma = 0;
  double recent_mean = 0;
  double baseline = 0;
  bool has_baseline = false;
  double slope = 0;
  double within_sd = 0;
  Trend trend = Trend::kUnknown;
  std::vector<SubscaleScore> latest_subscales;
  // Items of the latest session at or below the instrument's item_check_below (information,
  // never an alert or a reason for at_risk by itself).
  std::vector<FlaggedItem> latest_flagged_items;
  std::optional<OpenRupture> open_rupture;
  int rupture_count = 0;
  int repaired_count = 0;
  bool below_cutoff = false;

  bool operator==(const SeriesPicture&) const = default;
};

// Client-versus-therapist view in POMP over sessions rated by both (each side the mean of its
// instruments at that session). Information only: never an alert.
struct RaterGap {
  int sessions_compared = 0;
  double latest_gap_pomp = 0;  // client minus therapist
  double mean_gap_pomp = 0;

  bool operator==(const RaterGap&) const = default;
};

struct TimelinePoint {
  int session_number = 0;
  int64_t session_time_ms = 0;
  Rater rater = Rater::kUnspecified;
  std::string instrument_id;
  Score score;  // with the session's flagged items

  bool operator==(const TimelinePoint&) const = default;
};

struct DyadAnalysis {
  std::vector<SeriesPicture> series;  // ordered by rater, then instrument id
  std::optional<RaterGap> gap;
  // Ordered by session number, rater, instrument id, kind (so in session order within each
  // series). A late or corrected rating can remove an event from this list: the library never
  // retracts what a caller already emitted, it only describes the current history.
  std::vector<AlertEvent> alerts;
  std::vector<TimelinePoint> points;  // ordered by session number, rater, instrument
  int ratings_applied = 0;            // ratings in use: valid, deduplicated, one winner per session
  int open_ruptures = 0;
  bool at_risk = false;
  bool unrepaired = false;

  bool operator==(const DyadAnalysis&) const = default;
};

// Computes the picture from `history`, in any order and with duplicates. Ratings whose
// instrument is unknown to `registry`, whose rater the instrument does not allow, whose
// session number is below 1, or whose answers do not fit are skipped (intake refuses them;
// this guards old entries). Costs O(history) scoring: to analyse one new rating at a time,
// keep a DyadAnalyzer (dyad_analyzer.h), which gives the same result incrementally.
// The rules are described with their defaults in docs/analytics.md.
DyadAnalysis AnalyzeDyad(const InstrumentRegistry& registry, const RuleConfig& rules,
                         const DyadKey& dyad, std::span<const Rating> history);

// Stable id of an alert event: hex of a 128-bit hash of its identifying fields.
std::string MakeAlertId(const DyadKey& dyad, Rater rater, std::string_view instrument_id,
                        AlertKind kind, int session_number);

}  // namespace alliance::analytics

#endif  // ALLIANCE_ANALYTICS_DYAD_ANALYSIS_H_
