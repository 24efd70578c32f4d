// One rater's series on one instrument within a dyad, processed session by session: the
// rolling statistics, the rupture rules, repair and escalation. Internal to
// alliance_analytics; DyadAnalyzer owns one tracker per series.
//
// Appending a session in order costs O(recent_window + decline_max_sessions); a late or
// replaced session rebuilds the series from its entries, which gives exactly the state an
// in-order run would have (the same steps in the same order), so results never depend on
// arrival order.
#ifndef ALLIANCE_ANALYTICS_SERIES_TRACKER_H_
#define ALLIANCE_ANALYTICS_SERIES_TRACKER_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "analytics/dyad_analysis.h"
#include "analytics/factors.h"

namespace alliance::analytics::internal {

struct SeriesEntry {
  int session_number = 0;
  int64_t session_time_ms = 0;
  std::string rating_id;
  Score score;
};

class SeriesTracker {
 public:
  // The pointers must outlive the tracker.
  SeriesTracker(const Instrument* instrument, const RuleConfig* rules, DyadKey dyad,
                const FactorTable* factors, Rater rater);

  // Appends a session later than every session so far; appends its events to `events`.
  void Append(SeriesEntry entry, std::vector<AlertEvent>* events);
  // Replaces the entries (sorted by session, one per session) and replays them from scratch.
  void Rebuild(std::vector<SeriesEntry> entries);

  const std::vector<SeriesEntry>& entries() const { return entries_; }
  // Every event of the series so far, in session order.
  const std::vector<AlertEvent>& events() const { return events_; }
  SeriesPicture Picture() const;
  // Overwrites `*picture` with the current picture, reusing its storage.
  void FillPicture(SeriesPicture* picture) const;
  Rater rater() const { return rater_; }
  const Instrument& instrument() const { return *instrument_; }

 private:
  struct Episode {
    OpenRupture open;
    bool needs_out_of_cutoff = false;  // the below-cutoff rule fired at onset
    std::string subscale;
    double subscale_drop = 0;
    const FactorEntry* factors = nullptr;
  };

  // Processes entries_[i] given the state after entries_[0..i-1]; events go to events_.
  void Step(size_t i);
  void DetectRupture(size_t i, std::vector<AlertEvent>* events);
  void FollowUp(size_t i, std::vector<AlertEvent>* events);
  void Reset();

  // Mean of entries_[from, to) totals.
  double MeanTotal(size_t from, size_t to) const;
  // Standard error of a difference between two scores (Jacobson-Truax).
  double SeDifference() const;
  // Measurement error of one score, SD * sqrt(1 - r).
  double MeasurementError() const;
  bool IsConcern(double total) const;
  AlertEvent NewEvent(size_t i, AlertKind kind) const;

  const Instrument* instrument_;
  const RuleConfig* rules_;
  DyadKey dyad_;
  const FactorTable* factors_;
  Rater rater_;

  std::vector<SeriesEntry> entries_;
  std::vector<AlertEvent> events_;
  // Welford running mean and sum of squared deviations of the totals processed so far.
  double mean_ = 0;
  double m2_ = 0;
  double ewma_ = 0;
  std::optional<Episode> episode_;
  size_t decline_start_ = 0;  // first entry a decline window may use (after the last repair)
  int rupture_count_ = 0;
  int repaired_count_ = 0;
};

}  // namespace alliance::analytics::internal

#endif  // ALLIANCE_ANALYTICS_SERIES_TRACKER_H_
