// Merging ratings into a dyad record and recomputing it (see dyad_update.h).
#include "worker/dyad_update.h"

#include <algorithm>
#include <tuple>

#include "worker/engagement.h"
#include "worker/record_convert.h"

namespace alliance::worker {

std::vector<analytics::Rating> RatingsOf(const internal::v1::DyadRecord& record) {
  std::vector<analytics::Rating> out;
  out.reserve(record.ratings_size());
  for (const internal::v1::StoredRating& r : record.ratings()) out.push_back(RatingFromStored(r));
  return out;
}

void SortRatings(internal::v1::DyadRecord* record) {
  auto* ratings = record->mutable_ratings();
  std::sort(ratings->begin(), ratings->end(),
            [](const internal::v1::StoredRating& a, const internal::v1::StoredRating& b) {
              return std::forward_as_tuple(a.session_number(), a.rater(), a.instrument_id(),
                                           a.rating_id()) <
                     std::forward_as_tuple(b.session_number(), b.rater(), b.instrument_id(),
                                           b.rating_id());
            });
}

DyadUpdate UpdateDyad(const analytics::InstrumentRegistry& registry,
                      const analytics::RuleConfig& rules, const analytics::DyadKey& dyad,
                      internal::v1::DyadRecord old, std::span<const DecodedFeedback> incoming,
                      const google::protobuf::Timestamp& now) {
  DyadUpdate update;
  const int64_t old_version = old.version();
  const int old_alerts = old.alerts_size();
  update.record = std::move(old);
  // Linear scans: a batch brings one or a few ratings per dyad, so building hash sets of the
  // whole history would cost more than it saves.
  for (const DecodedFeedback& f : incoming) {
    const auto& stored = update.record.ratings();
    bool known = std::any_of(stored.begin(), stored.end(),
                             [&](const auto& r) { return r.rating_id() == f.rating.rating_id; });
    if (known) {
      ++update.duplicates;
      continue;
    }
    *update.record.add_ratings() = StoredFromRating(f.rating, f.session_id, f.idempotency_id);
    ++update.ratings_added;
  }
  if (update.ratings_added == 0) {
    update.record.Clear();
    return update;
  }
  update.changed = true;
  SortRatings(&update.record);
  update.record.set_version(old_version + 1);
  update.record.set_tenant_id(dyad.tenant_id);
  update.record.set_therapist_id(dyad.therapist_id);
  update.record.set_client_id(dyad.client_id);

  std::vector<analytics::Rating> history = RatingsOf(update.record);
  analytics::DyadAnalysis analysis = analytics::AnalyzeDyad(registry, rules, dyad, history);
  alliance::v1::Dyad picture = DyadFromAnalysis(dyad, analysis);
  update.record.mutable_picture()->Swap(&picture);
  *update.record.mutable_picture()->mutable_updated_at() = now;

  // Alerts already raised stay in the record even if a late rating changes the analysis:
  // an emitted event is history, never retracted.
  for (const analytics::AlertEvent& event : analysis.alerts) {
    const auto& raised = update.record.alerts();
    bool known = std::any_of(raised.begin(), raised.begin() + old_alerts,
                             [&](const auto& a) { return a.alert_id() == event.alert_id; });
    if (known) continue;
    alliance::v1::Alert alert = AlertFromEvent(dyad, event);
    *alert.mutable_detected_at() = now;
    *update.record.add_alerts() = alert;
    update.new_alerts.push_back(std::move(alert));
  }
  // Disengagement (analytics/disengagement.h), from the episode the record's alerts left open.
  std::optional<analytics::OpenDisengagement> open;
  for (int i = 0; i < old_alerts; ++i) FollowEngagement(update.record.alerts(i), &open);
  // As DyadState::Apply: the no-rating trigger is the timer's (never due at time 0).
  analytics::EngagementEvaluation engagement =
      analytics::EvaluateEngagement(dyad, rules, analytics::EngagementOf(analysis), open, 0);
  for (const analytics::AlertEvent& event : engagement.events) {
    const auto& raised = update.record.alerts();
    if (std::any_of(raised.begin(), raised.end(),
                    [&](const auto& a) { return a.alert_id() == event.alert_id; })) {
      continue;
    }
    alliance::v1::Alert alert = AlertFromEvent(dyad, event);
    *alert.mutable_detected_at() = now;
    *update.record.add_alerts() = alert;
    update.new_alerts.push_back(std::move(alert));
  }
  return update;
}

}  // namespace alliance::worker
