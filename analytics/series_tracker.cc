// Rolling statistics, rupture rules, repair and escalation of one series (series_tracker.h).
// The rules and their defaults are described, with the literature behind them, in
// docs/analytics.md.
#include "analytics/series_tracker.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"

namespace alliance::analytics::internal {
namespace {

// Comparisons "at least a threshold" tolerate binary rounding of means (e.g. a mean of three
// 0.1-step scores), so a drop of exactly k*SD counts as reaching it.
constexpr double kEpsilon = 1e-9;

}  // namespace

SeriesTracker::SeriesTracker(const Instrument* instrument, const RuleConfig* rules, DyadKey dyad,
                             const FactorTable* factors, Rater rater)
    : instrument_(instrument),
      rules_(rules),
      dyad_(std::move(dyad)),
      factors_(factors),
      rater_(rater) {}

void SeriesTracker::Reset() {
  events_.clear();
  mean_ = 0;
  m2_ = 0;
  ewma_ = 0;
  episode_.reset();
  decline_start_ = 0;
  rupture_count_ = 0;
  repaired_count_ = 0;
}

void SeriesTracker::Append(SeriesEntry entry, std::vector<AlertEvent>* events) {
  entries_.push_back(std::move(entry));
  size_t before = events_.size();
  Step(entries_.size() - 1);
  if (events != nullptr) {
    events->insert(events->end(), events_.begin() + static_cast<ptrdiff_t>(before), events_.end());
  }
}

void SeriesTracker::Rebuild(std::vector<SeriesEntry> entries) {
  entries_ = std::move(entries);
  Reset();
  for (size_t i = 0; i < entries_.size(); ++i) Step(i);
}

double SeriesTracker::MeanTotal(size_t from, size_t to) const {
  if (to <= from) return 0;
  double sum = 0;
  for (size_t j = from; j < to; ++j) sum += entries_[j].score.total;
  return sum / static_cast<double>(to - from);
}

double SeriesTracker::SeDifference() const {
  return instrument_->population_sd * std::sqrt(2.0) * std::sqrt(1.0 - instrument_->reliability);
}

double SeriesTracker::MeasurementError() const {
  return instrument_->population_sd * std::sqrt(1.0 - instrument_->reliability);
}

bool SeriesTracker::IsConcern(double total) const {
  return instrument_->total_cutoff.has_value() && instrument_->total_cutoff->IsConcern(total);
}

AlertEvent SeriesTracker::NewEvent(size_t i, AlertKind kind) const {
  AlertEvent e;
  e.alert_id = MakeAlertId(dyad_, rater_, instrument_->id, kind, entries_[i].session_number);
  e.rater = rater_;
  e.instrument_id = instrument_->id;
  e.kind = kind;
  e.session_number = entries_[i].session_number;
  e.session_time_ms = entries_[i].session_time_ms;
  return e;
}

void SeriesTracker::Step(size_t i) {
  if (episode_.has_value()) {
    FollowUp(i, &events_);
  } else {
    DetectRupture(i, &events_);
  }
  // Fold the session into the running statistics after the rules saw the earlier ones.
  double x = entries_[i].score.total;
  double n = static_cast<double>(i + 1);
  double delta = x - mean_;
  mean_ += delta / n;
  m2_ += delta * (x - mean_);
  ewma_ = i == 0 ? x : rules_->ewma_alpha * x + (1.0 - rules_->ewma_alpha) * ewma_;
}

void SeriesTracker::FollowUp(size_t i, std::vector<AlertEvent>* events) {
  Episode& ep = *episode_;
  double x = entries_[i].score.total;
  ++ep.open.sessions_since_onset;
  bool back =
      x >= ep.open.pre_rupture_level - kEpsilon && !(ep.needs_out_of_cutoff && IsConcern(x));
  if (back) {
    AlertEvent e = NewEvent(i, AlertKind::kRepaired);
    e.episode_id = ep.open.episode_id;
    e.reason = Reason::kEpisodeFollowUp;
    e.severity = Severity::kInfo;
    e.evidence = {.rule = "repair",
                  .before = ep.open.pre_rupture_level,
                  .after = x,
                  .threshold = ep.open.pre_rupture_level,
                  .statistic = static_cast<double>(ep.open.sessions_since_onset),
                  .sd = 0};
    e.rules_fired = {Reason::kEpisodeFollowUp};
    e.subscale_fell_most = ep.subscale;
    e.subscale_drop_pomp = ep.subscale_drop;
    const FactorEntry& repaired = factors_->Find(FactorTable::kRepaired);
    e.factors = repaired.factors;
    e.suggested_focus = repaired.focus;
    events->push_back(std::move(e));
    ++repaired_count_;
    episode_.reset();
    decline_start_ = i + 1;
    return;
  }
  if (!ep.open.escalated && ep.open.sessions_since_onset >= rules_->repair_window_sessions) {
    ep.open.escalated = true;
    AlertEvent e = NewEvent(i, AlertKind::kUnrepaired);
    e.episode_id = ep.open.episode_id;
    e.reason = Reason::kEpisodeFollowUp;
    e.severity = Severity::kCritical;
    e.evidence = {.rule = "unrepaired",
                  .before = ep.open.pre_rupture_level,
                  .after = x,
                  .threshold = static_cast<double>(rules_->repair_window_sessions),
                  .statistic = static_cast<double>(ep.open.sessions_since_onset),
                  .sd = 0};
    e.rules_fired = {Reason::kEpisodeFollowUp};
    e.subscale_fell_most = ep.subscale;
    e.subscale_drop_pomp = ep.subscale_drop;
    e.factors = ep.factors->factors;
    e.suggested_focus = absl::StrCat("Not repaired after ", ep.open.sessions_since_onset,
                                     " sessions: ", ep.factors->focus);
    events->push_back(std::move(e));
  }
}

void SeriesTracker::DetectRupture(size_t i, std::vector<AlertEvent>* events) {
  const RuleConfig& r = *rules_;
  const Instrument& ins = *instrument_;
  double x = entries_[i].score.total;
  size_t window_start =
      i >= static_cast<size_t>(r.recent_window) ? i - static_cast<size_t>(r.recent_window) : 0;
  double running_level = MeanTotal(window_start, i);  // mean of up to k earlier sessions
  bool has_baseline = i >= static_cast<size_t>(r.baseline_sessions);
  double baseline = has_baseline ? MeanTotal(0, static_cast<size_t>(r.baseline_sessions)) : 0;
  // The stricter (larger) of the floored within-dyad SD of earlier sessions and the
  // population SD (Gumz et al. 2012).
  double within_sd = i >= 2 ? std::sqrt(m2_ / static_cast<double>(i - 1)) : 0;
  double floor = r.within_sd_floor_fraction * (ins.TotalMax() - ins.TotalMin());
  double sd = std::max(std::max(within_sd, floor), ins.population_sd);

  bool below = false;
  if (r.below_cutoff_enabled && IsConcern(x)) {
    // Entering the concern zone opens an episode; a run of sessions below it is one episode.
    below = i == 0 || !IsConcern(entries_[i - 1].score.total);
  }
  bool reliable = false;
  double rc = 0;
  double se_diff = SeDifference();
  if (r.reliable_drop_enabled && i >= 1) {
    rc = (x - entries_[i - 1].score.total) / se_diff;
    reliable = rc < -r.reliable_change_z;
  }
  // Measurement error of one session; a mean of m sessions has m times less variance.
  double error_sd = MeasurementError();
  bool deflection = false;
  double deflection_drop = running_level - x;
  double deflection_threshold = 0;
  if (r.deflection_enabled && has_baseline) {
    // Clinically meaningful (k SD) and reliable against the running level, both.
    double m = static_cast<double>(i - window_start);
    deflection_threshold =
        std::max(r.deflection_k * sd, r.deflection_z * error_sd * std::sqrt(1.0 + 1.0 / m));
    deflection = deflection_drop >= deflection_threshold - kEpsilon;
  }
  bool decline = false;
  double cusum = 0;
  if (r.decline_enabled && has_baseline) {
    size_t from = std::max(decline_start_, static_cast<size_t>(r.baseline_sessions));
    size_t max_len = static_cast<size_t>(r.decline_max_sessions);
    if (i + 1 > max_len) from = std::max(from, i + 1 - max_len);
    for (size_t j = from; j <= i; ++j) {
      cusum = std::max(0.0, cusum + (baseline - entries_[j].score.total) / sd - r.cusum_slack);
    }
    decline = from <= i && cusum >= r.cusum_limit - kEpsilon;
  }
  // Jacobson-Truax from the baseline mean to this session (the error of a mean of b sessions).
  bool fall = false;
  double fall_rc = 0;
  double fall_se = 0;
  if (r.decline_from_baseline_enabled && has_baseline) {
    fall_se = error_sd * std::sqrt(1.0 + 1.0 / static_cast<double>(r.baseline_sessions));
    fall_rc = (x - baseline) / fall_se;
    fall = fall_rc <= -r.decline_from_baseline_z + kEpsilon;
  }
  if (!below && !reliable && !deflection && !decline && !fall) return;

  AlertEvent e = NewEvent(i, AlertKind::kRupture);
  e.episode_id = e.alert_id;
  if (below) e.rules_fired.push_back(Reason::kBelowCutoff);
  if (reliable) e.rules_fired.push_back(Reason::kReliableDrop);
  if (deflection) e.rules_fired.push_back(Reason::kDeflection);
  if (decline || fall) e.rules_fired.push_back(Reason::kDecline);
  e.severity = (reliable || deflection || decline || fall) ? Severity::kHigh : Severity::kWarning;

  // Level to return to, and the sessions the subscales are compared against.
  double pre_level = 0;
  size_t ref_from = window_start;
  size_t ref_to = i;
  if (reliable) {
    e.reason = Reason::kReliableDrop;
    e.evidence = {.rule = "reliable_drop",
                  .before = entries_[i - 1].score.total,
                  .after = x,
                  .threshold = -r.reliable_change_z,
                  .statistic = rc,
                  .sd = se_diff};
    pre_level = running_level;
  } else if (deflection) {
    e.reason = Reason::kDeflection;
    e.evidence = {.rule = "deflection",
                  .before = running_level,
                  .after = x,
                  .threshold = deflection_threshold,
                  .statistic = deflection_drop / sd,
                  .sd = sd};
    pre_level = running_level;
  } else if (fall) {
    // The withdrawal pattern: the fall from the baseline is itself a reliable change.
    e.reason = Reason::kDecline;
    e.evidence = {.rule = "decline_from_baseline",
                  .before = baseline,
                  .after = x,
                  .threshold = -r.decline_from_baseline_z,
                  .statistic = fall_rc,
                  .sd = fall_se};
    pre_level = baseline;
    ref_from = 0;
    ref_to = static_cast<size_t>(r.baseline_sessions);
  } else if (decline) {
    e.reason = Reason::kDecline;
    e.evidence = {.rule = "decline",
                  .before = baseline,
                  .after = x,
                  .threshold = r.cusum_limit,
                  .statistic = cusum,
                  .sd = sd};
    pre_level = baseline;
    ref_from = 0;
    ref_to = static_cast<size_t>(r.baseline_sessions);
  } else {
    e.reason = Reason::kBelowCutoff;
    e.evidence = {.rule = "below_cutoff",
                  .before = i >= 1 ? running_level : x,
                  .after = x,
                  .threshold = ins.total_cutoff->value,
                  .statistic = x - ins.total_cutoff->value,
                  .sd = 0};
    pre_level = ins.total_cutoff->value;
  }

  // The subscale whose POMP fell most against the reference sessions.
  const std::vector<SubscaleScore>& now = entries_[i].score.subscales;
  double best_drop = 0;
  const Subscale* best = nullptr;
  if (ref_to > ref_from) {
    for (size_t s = 0; s < now.size() && s < ins.subscales.size(); ++s) {
      double ref = 0;
      for (size_t j = ref_from; j < ref_to; ++j) ref += entries_[j].score.subscales[s].pomp;
      ref /= static_cast<double>(ref_to - ref_from);
      double drop = ref - now[s].pomp;
      if (drop > best_drop + kEpsilon) {
        best_drop = drop;
        best = &ins.subscales[s];
      }
    }
  }
  const FactorEntry& factors =
      factors_->Find(best ? std::string_view(best->factor) : FactorTable::kOverall);
  if (best != nullptr) {
    e.subscale_fell_most = best->name;
    e.subscale_drop_pomp = best_drop;
  }
  e.factors = factors.factors;
  e.suggested_focus = factors.focus;

  Episode ep;
  ep.open.episode_id = e.alert_id;
  ep.open.reason = e.reason;
  ep.open.onset_session = entries_[i].session_number;
  ep.open.pre_rupture_level = pre_level;
  ep.needs_out_of_cutoff = below;
  ep.subscale = e.subscale_fell_most;
  ep.subscale_drop = e.subscale_drop_pomp;
  ep.factors = &factors;
  episode_ = std::move(ep);
  ++rupture_count_;
  events->push_back(std::move(e));
}

SeriesPicture SeriesTracker::Picture() const {
  SeriesPicture p;
  FillPicture(&p);
  return p;
}

void SeriesTracker::FillPicture(SeriesPicture* out) const {
  const RuleConfig& r = *rules_;
  SeriesPicture& p = *out;
  p.rater = rater_;
  p.instrument_id = instrument_->id;
  size_t n = entries_.size();
  p.session_count = static_cast<int>(n);
  p.rupture_count = rupture_count_;
  p.repaired_count = repaired_count_;
  p.open_rupture.reset();
  if (episode_.has_value()) p.open_rupture = episode_->open;
  p.last_session_number = 0;
  p.latest = p.latest_pomp = p.ewma = p.recent_mean = p.baseline = p.slope = p.within_sd = 0;
  p.has_baseline = false;
  p.below_cutoff = false;
  p.trend = Trend::kUnknown;
  p.latest_subscales.clear();
  p.latest_flagged_items.clear();
  if (n == 0) return;
  const SeriesEntry& last = entries_.back();
  p.last_session_number = last.session_number;
  p.latest = last.score.total;
  p.latest_pomp = last.score.pomp;
  p.latest_subscales = last.score.subscales;
  p.latest_flagged_items = last.score.flagged_items;
  p.below_cutoff = IsConcern(p.latest);
  p.ewma = ewma_;
  size_t k = std::min(n, static_cast<size_t>(r.recent_window));
  p.recent_mean = MeanTotal(n - k, n);
  size_t b = std::min(n, static_cast<size_t>(r.baseline_sessions));
  p.baseline = MeanTotal(0, b);
  p.has_baseline = n >= static_cast<size_t>(r.baseline_sessions);
  p.within_sd = n >= 2 ? std::sqrt(std::max(0.0, m2_) / static_cast<double>(n - 1)) : 0;
  if (k >= 2) {
    // Least-squares slope per session number over the last k sessions.
    double mx = 0;
    for (size_t j = n - k; j < n; ++j) mx += entries_[j].session_number;
    mx /= static_cast<double>(k);
    double sxy = 0;
    double sxx = 0;
    for (size_t j = n - k; j < n; ++j) {
      double dx = entries_[j].session_number - mx;
      sxy += dx * (entries_[j].score.total - p.recent_mean);
      sxx += dx * dx;
    }
    p.slope = sxx > 0 ? sxy / sxx : 0;
  }
  if (n >= 3) {
    double threshold = r.trend_fraction_of_rc * r.reliable_change_z * SeDifference();
    p.trend = p.slope > threshold    ? Trend::kImproving
              : p.slope < -threshold ? Trend::kDeclining
                                     : Trend::kStable;
  }
}

}  // namespace alliance::analytics::internal
