// Timeline building from a DyadRecord. Answers stay inside this function: only scores leave
// (and, for items at or below the instrument's item_check_below, item numbers and scores).
#include "services/insights/timeline.h"

#include <algorithm>
#include <span>

#include "analytics/scoring.h"

namespace alliance::insights {

alliance::v1::GetDyadTimelineResponse BuildTimeline(
    const alliance::internal::v1::DyadRecord& record,
    const analytics::InstrumentRegistry& registry) {
  std::vector<const alliance::internal::v1::StoredRating*> ratings;
  for (const auto& rating : record.ratings()) ratings.push_back(&rating);
  std::stable_sort(ratings.begin(), ratings.end(), [](const auto* a, const auto* b) {
    if (a->session_number() != b->session_number()) {
      return a->session_number() < b->session_number();
    }
    return a->rater() < b->rater();
  });
  alliance::v1::GetDyadTimelineResponse response;
  for (const auto* rating : ratings) {
    alliance::v1::TimelinePoint* point = response.add_points();
    point->set_session_number(rating->session_number());
    *point->mutable_session_time() = rating->session_time();
    point->set_rater(rating->rater());
    point->set_instrument_id(rating->instrument_id());
    point->set_session_id(rating->session_id());
    point->set_idempotency_id(rating->idempotency_id());
    if (const analytics::Instrument* instrument = registry.Find(rating->instrument_id())) {
      std::span<const double> answers(rating->answers().data(), rating->answers().size());
      absl::StatusOr<analytics::Score> score = analytics::ScoreAnswers(*instrument, answers);
      if (score.ok()) {
        point->set_total(score->total);
        point->set_pomp(score->pomp);
        for (const analytics::SubscaleScore& sub : score->subscales) {
          alliance::v1::SubscaleScore* out = point->add_subscales();
          out->set_name(sub.name);
          out->set_score(sub.score);
          out->set_pomp(sub.pomp);
        }
        // Item numbers and scores only: the check-in flags, never an alert by themselves.
        for (const analytics::FlaggedItem& flag : score->flagged_items) {
          alliance::v1::FlaggedItem* out = point->add_flagged_items();
          out->set_item(flag.item);
          out->set_value(flag.value);
          out->set_check_value(flag.check_value);
        }
      }
    }
    for (const alliance::v1::Alert& alert : record.alerts()) {
      if (alert.session_number() == rating->session_number() && alert.rater() == rating->rater() &&
          alert.instrument_id() == rating->instrument_id()) {
        *point->add_alerts() = alert;
      }
    }
  }
  return response;
}

}  // namespace alliance::insights
