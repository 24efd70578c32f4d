// Incremental analysis of one dyad: the same result as AnalyzeDyad over every rating added so
// far, updated in about a microsecond per rating. The worker keeps one analyzer per active
// dyad (built once from the stored history), and calls Add for each new rating.
//
// Fast path: a rating for a session later than every session of its series (the usual case)
// is scored and run through the rules once. Slow path: a late rating for an earlier session,
// or one that replaces the rating of a session, rebuilds that series from its entries; the
// result is still exactly AnalyzeDyad's.
#ifndef ALLIANCE_ANALYTICS_DYAD_ANALYZER_H_
#define ALLIANCE_ANALYTICS_DYAD_ANALYZER_H_

#include <map>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "analytics/dyad_analysis.h"
#include "analytics/factors.h"
#include "analytics/rating_id_set.h"

namespace alliance::analytics {
namespace internal {
class SeriesTracker;
}

class DyadAnalyzer {
 public:
  enum class Outcome {
    kApplied,     // the rating changed the analysis
    kDuplicate,   // its rating_id was seen before
    kSuperseded,  // its session already has a winning rating from this rater and instrument
    kInvalid,     // unknown instrument, rater not allowed, session < 1, answers off the scale
  };

  struct AddResult {
    Outcome outcome = Outcome::kInvalid;
    bool replayed = false;  // a series was rebuilt (late or replacing rating)
    // Events that are in the analysis now and were not before this call, in analysis order.
    std::vector<AlertEvent> new_alerts;
  };

  // `registry` must outlive the analyzer (it is the process's registry); `rules` is copied.
  DyadAnalyzer(const InstrumentRegistry& registry, const RuleConfig& rules, DyadKey dyad);
  ~DyadAnalyzer();
  DyadAnalyzer(DyadAnalyzer&&) noexcept;
  DyadAnalyzer& operator=(DyadAnalyzer&&) noexcept;

  // Adds every rating of `history` (any order, duplicates allowed), sorted by session first
  // so that loading a stored history is one pass. Use Add for ratings as they arrive.
  void AddAll(std::span<const Rating> history);
  AddResult Add(const Rating& rating);

  // The analysis of every rating added so far; equals AnalyzeDyad over them.
  const DyadAnalysis& analysis() const { return analysis_; }
  const DyadKey& dyad() const { return dyad_; }

 private:
  using SeriesKey = std::pair<Rater, std::string>;
  struct GapCell {
    // POMP of each rater's instruments at one session, keyed by instrument id (sorted, so sums
    // are taken in one order whatever the arrival order).
    std::map<std::string, double, std::less<>> client;
    std::map<std::string, double, std::less<>> therapist;
  };

  AddResult Apply(const Rating& rating, Score score);
  // Loads `history` into an empty analyzer in one pass per series: the same state as adding
  // the ratings one by one, without refreshing the picture after every rating.
  void BulkLoad(std::span<const Rating> history);
  void UpdateGap(Rater rater, const std::string& instrument_id, int session, double pomp);
  void RecomputeGap();
  void UpdateSummary();

  const InstrumentRegistry* registry_;
  // On the heap so trackers can point at it across moves of the analyzer.
  std::unique_ptr<const RuleConfig> rules_;
  DyadKey dyad_;
  RatingIdSet seen_ids_;
  std::map<SeriesKey, std::unique_ptr<internal::SeriesTracker>> series_;
  std::map<int, GapCell> gap_cells_;
  DyadAnalysis analysis_;

  friend DyadAnalysis AnalyzeDyad(const InstrumentRegistry&, const RuleConfig&, const DyadKey&,
                                  std::span<const Rating>);
};

}  // namespace alliance::analytics

#endif  // ALLIANCE_ANALYTICS_DYAD_ANALYZER_H_
