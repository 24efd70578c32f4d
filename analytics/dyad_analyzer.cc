// Incremental dyad analysis (dyad_analyzer.h): per-series trackers, the client-therapist gap,
// and the cached DyadAnalysis kept in the canonical order AnalyzeDyad defines.
#include "analytics/dyad_analyzer.h"

#include <algorithm>
#include <tuple>
#include <unordered_set>

#include "analytics/series_tracker.h"

namespace alliance::analytics {
namespace {

using internal::SeriesEntry;
using internal::SeriesTracker;

auto AlertOrder(const AlertEvent& a) {
  return std::tie(a.session_number, a.rater, a.instrument_id, a.kind);
}
auto PointOrder(const TimelinePoint& p) {
  return std::tie(p.session_number, p.rater, p.instrument_id);
}

void InsertAlert(std::vector<AlertEvent>& alerts, AlertEvent event) {
  auto pos = std::upper_bound(
      alerts.begin(), alerts.end(), event,
      [](const AlertEvent& a, const AlertEvent& b) { return AlertOrder(a) < AlertOrder(b); });
  alerts.insert(pos, std::move(event));
}

// The rating that wins a session: the later session time, then the greater rating id.
bool Wins(int64_t time, const std::string& id, const SeriesEntry& current) {
  return std::tie(time, id) > std::tie(current.session_time_ms, current.rating_id);
}

}  // namespace

DyadAnalyzer::DyadAnalyzer(const InstrumentRegistry& registry, const RuleConfig& rules,
                           DyadKey dyad)
    : registry_(&registry),
      rules_(std::make_unique<const RuleConfig>(rules)),
      dyad_(std::move(dyad)) {}
DyadAnalyzer::~DyadAnalyzer() = default;
DyadAnalyzer::DyadAnalyzer(DyadAnalyzer&&) noexcept = default;
DyadAnalyzer& DyadAnalyzer::operator=(DyadAnalyzer&&) noexcept = default;

void DyadAnalyzer::AddAll(std::span<const Rating> history) {
  if (seen_ids_.empty()) {
    BulkLoad(history);
    return;
  }
  // In session order (the winner of a session last) nearly every rating takes the fast path.
  std::vector<const Rating*> ordered;
  ordered.reserve(history.size());
  for (const Rating& rating : history) ordered.push_back(&rating);
  std::sort(ordered.begin(), ordered.end(), [](const Rating* a, const Rating* b) {
    return std::tie(a->session_number, a->rater, a->instrument_id, a->session_time_ms,
                    a->rating_id) < std::tie(b->session_number, b->rater, b->instrument_id,
                                             b->session_time_ms, b->rating_id);
  });
  for (const Rating* rating : ordered) Add(*rating);
}

void DyadAnalyzer::BulkLoad(std::span<const Rating> history) {
  struct Scored {
    const Rating* rating;
    Score score;
  };
  std::vector<Scored> valid;
  valid.reserve(history.size());
  for (const Rating& r : history) {
    if (seen_ids_.Contains(r.rating_id)) continue;  // a redelivery repeats the same rating
    const Instrument* ins = registry_->Find(r.instrument_id);
    if (ins == nullptr || r.session_number < 1 || !ins->AllowsRater(r.rater)) continue;
    absl::StatusOr<Score> score = ScoreAnswers(*ins, r.answers);
    if (!score.ok()) continue;
    seen_ids_.Insert(r.rating_id);
    valid.push_back({&r, *std::move(score)});
  }
  // Series by series, sessions in order; within a session the winner comes last.
  auto order = [](const Scored& s) {
    const Rating& r = *s.rating;
    return std::tie(r.rater, r.instrument_id, r.session_number, r.session_time_ms, r.rating_id);
  };
  std::sort(valid.begin(), valid.end(),
            [&order](const Scored& a, const Scored& b) { return order(a) < order(b); });

  size_t i = 0;
  while (i < valid.size()) {
    const Rating& first = *valid[i].rating;
    SeriesKey key{first.rater, first.instrument_id};
    std::vector<SeriesEntry> entries;
    for (; i < valid.size() && valid[i].rating->rater == key.first &&
           valid[i].rating->instrument_id == key.second;
         ++i) {
      const Rating& r = *valid[i].rating;
      if (i + 1 < valid.size()) {
        const Rating& next = *valid[i + 1].rating;
        if (next.rater == r.rater && next.instrument_id == r.instrument_id &&
            next.session_number == r.session_number) {
          continue;  // superseded by a later rating of the same session
        }
      }
      analysis_.points.push_back(
          {r.session_number, r.session_time_ms, r.rater, r.instrument_id, valid[i].score});
      if (r.rater == Rater::kClient || r.rater == Rater::kTherapist) {
        GapCell& cell = gap_cells_[r.session_number];
        (r.rater == Rater::kClient ? cell.client : cell.therapist)
            .insert_or_assign(r.instrument_id, valid[i].score.pomp);
      }
      entries.push_back(
          {r.session_number, r.session_time_ms, r.rating_id, std::move(valid[i].score)});
    }
    analysis_.ratings_applied += static_cast<int>(entries.size());
    auto tracker = std::make_unique<SeriesTracker>(registry_->Find(key.second), rules_.get(), dyad_,
                                                   &FactorTable::BuiltIn(), key.first);
    tracker->Rebuild(std::move(entries));
    analysis_.alerts.insert(analysis_.alerts.end(), tracker->events().begin(),
                            tracker->events().end());
    series_.emplace(std::move(key), std::move(tracker));
  }
  // The same canonical orders the incremental path keeps.
  for (const auto& [key, tracker] : series_) analysis_.series.push_back(tracker->Picture());
  std::sort(analysis_.alerts.begin(), analysis_.alerts.end(),
            [](const AlertEvent& a, const AlertEvent& b) { return AlertOrder(a) < AlertOrder(b); });
  std::sort(
      analysis_.points.begin(), analysis_.points.end(),
      [](const TimelinePoint& a, const TimelinePoint& b) { return PointOrder(a) < PointOrder(b); });
  RecomputeGap();
  UpdateSummary();
}

DyadAnalyzer::AddResult DyadAnalyzer::Add(const Rating& rating) {
  AddResult result;
  if (seen_ids_.Contains(rating.rating_id)) {
    result.outcome = Outcome::kDuplicate;
    return result;
  }
  const Instrument* ins = registry_->Find(rating.instrument_id);
  if (ins == nullptr || rating.session_number < 1 || !ins->AllowsRater(rating.rater)) {
    return result;  // kInvalid
  }
  absl::StatusOr<Score> score = ScoreAnswers(*ins, rating.answers);
  if (!score.ok()) return result;  // kInvalid
  seen_ids_.Insert(rating.rating_id);
  return Apply(rating, *std::move(score));
}

DyadAnalyzer::AddResult DyadAnalyzer::Apply(const Rating& rating, Score score) {
  AddResult result;
  const Instrument* ins = registry_->Find(rating.instrument_id);
  SeriesKey key{rating.rater, rating.instrument_id};
  auto it = series_.find(key);
  if (it == series_.end()) {
    it = series_
             .emplace(key, std::make_unique<SeriesTracker>(ins, rules_.get(), dyad_,
                                                           &FactorTable::BuiltIn(), rating.rater))
             .first;
  }
  SeriesTracker& tracker = *it->second;
  const std::vector<SeriesEntry>& entries = tracker.entries();
  double pomp = score.pomp;
  TimelinePoint point{rating.session_number, rating.session_time_ms, rating.rater,
                      rating.instrument_id, score};
  SeriesEntry entry{rating.session_number, rating.session_time_ms, rating.rating_id,
                    std::move(score)};

  if (entries.empty() || rating.session_number > entries.back().session_number) {
    // Fast path: the next session of the series.
    std::vector<AlertEvent> fresh;
    tracker.Append(std::move(entry), &fresh);
    for (const AlertEvent& e : fresh) InsertAlert(analysis_.alerts, e);
    result.new_alerts = std::move(fresh);
    ++analysis_.ratings_applied;
  } else {
    // Late or replacing rating: rebuild the series from its entries.
    auto pos = std::lower_bound(
        entries.begin(), entries.end(), rating.session_number,
        [](const SeriesEntry& e, int session) { return e.session_number < session; });
    std::vector<SeriesEntry> rebuilt = entries;
    size_t index = static_cast<size_t>(pos - entries.begin());
    if (pos != entries.end() && pos->session_number == rating.session_number) {
      if (!Wins(rating.session_time_ms, rating.rating_id, *pos)) {
        result.outcome = Outcome::kSuperseded;
        return result;
      }
      rebuilt[index] = std::move(entry);
    } else {
      rebuilt.insert(rebuilt.begin() + static_cast<ptrdiff_t>(index), std::move(entry));
      ++analysis_.ratings_applied;
    }
    std::unordered_set<std::string> before;
    for (const AlertEvent& e : tracker.events()) before.insert(e.alert_id);
    tracker.Rebuild(std::move(rebuilt));
    std::erase_if(analysis_.alerts, [&key](const AlertEvent& a) {
      return a.rater == key.first && a.instrument_id == key.second;
    });
    for (const AlertEvent& e : tracker.events()) {
      InsertAlert(analysis_.alerts, e);
      if (!before.contains(e.alert_id)) result.new_alerts.push_back(e);
    }
    result.replayed = true;
  }
  result.outcome = Outcome::kApplied;

  // The series picture, kept sorted by rater then instrument, updated in place.
  auto series_pos =
      std::lower_bound(analysis_.series.begin(), analysis_.series.end(), key,
                       [](const SeriesPicture& a, const SeriesKey& k) {
                         return std::tie(a.rater, a.instrument_id) < std::tie(k.first, k.second);
                       });
  if (series_pos == analysis_.series.end() || series_pos->rater != key.first ||
      series_pos->instrument_id != key.second) {
    series_pos = analysis_.series.insert(series_pos, SeriesPicture{});
  }
  tracker.FillPicture(&*series_pos);

  // The timeline point, replacing the session's previous point of this series if any.
  auto point_pos = std::lower_bound(
      analysis_.points.begin(), analysis_.points.end(), point,
      [](const TimelinePoint& a, const TimelinePoint& b) { return PointOrder(a) < PointOrder(b); });
  if (point_pos != analysis_.points.end() && PointOrder(*point_pos) == PointOrder(point)) {
    *point_pos = std::move(point);
  } else {
    analysis_.points.insert(point_pos, std::move(point));
  }

  if (rating.rater == Rater::kClient || rating.rater == Rater::kTherapist) {
    UpdateGap(rating.rater, rating.instrument_id, rating.session_number, pomp);
  }
  UpdateSummary();
  return result;
}

void DyadAnalyzer::UpdateGap(Rater rater, const std::string& instrument_id, int session,
                             double pomp) {
  GapCell& cell = gap_cells_[session];
  (rater == Rater::kClient ? cell.client : cell.therapist).insert_or_assign(instrument_id, pomp);
  if (cell.client.empty() || cell.therapist.empty()) return;  // no new comparison
  RecomputeGap();
}

void DyadAnalyzer::RecomputeGap() {
  auto mean = [](const std::map<std::string, double, std::less<>>& values) {
    double sum = 0;
    for (const auto& [id, v] : values) sum += v;
    return sum / static_cast<double>(values.size());
  };
  RaterGap gap;
  double sum = 0;
  for (const auto& [session, cell] : gap_cells_) {
    if (cell.client.empty() || cell.therapist.empty()) continue;
    double d = mean(cell.client) - mean(cell.therapist);
    ++gap.sessions_compared;
    sum += d;
    gap.latest_gap_pomp = d;
  }
  if (gap.sessions_compared == 0) {
    analysis_.gap.reset();
    return;
  }
  gap.mean_gap_pomp = sum / gap.sessions_compared;
  analysis_.gap = gap;
}

void DyadAnalyzer::UpdateSummary() {
  analysis_.open_ruptures = 0;
  analysis_.at_risk = false;
  analysis_.unrepaired = false;
  for (const SeriesPicture& s : analysis_.series) {
    if (s.open_rupture.has_value()) {
      ++analysis_.open_ruptures;
      analysis_.at_risk = true;
      if (s.open_rupture->escalated) analysis_.unrepaired = true;
    }
    if (s.below_cutoff) analysis_.at_risk = true;
  }
}

}  // namespace alliance::analytics
