// Merging ratings into a dyad record and recomputing it (see dyad_update.h).
#include "worker/dyad_update.h"

#include <algorithm>
#include <tuple>

#include "absl/container/flat_hash_set.h"
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
                      const internal::v1::DyadRecord& old,
                      std::span<const DecodedFeedback> incoming,
                      const google::protobuf::Timestamp& now) {
  DyadUpdate update;
  absl::flat_hash_set<std::string> known;
  for (const internal::v1::StoredRating& r : old.ratings()) known.insert(r.rating_id());
  update.record = old;
  for (const DecodedFeedback& f : incoming) {
    if (!known.insert(f.rating.rating_id).second) {
      ++update.duplicates;
      continue;
    }
    *update.record.add_ratings() = StoredFromRating(f.rating, f.session_id);
    ++update.ratings_added;
  }
  if (update.ratings_added == 0) {
    update.record.Clear();
    return update;
  }
  update.changed = true;
  SortRatings(&update.record);
  update.record.set_version(old.version() + 1);
  update.record.set_tenant_id(dyad.tenant_id);
  update.record.set_therapist_id(dyad.therapist_id);
  update.record.set_client_id(dyad.client_id);

  std::vector<analytics::Rating> history = RatingsOf(update.record);
  analytics::DyadAnalysis analysis = analytics::AnalyzeDyad(registry, rules, dyad, history);
  *update.record.mutable_picture() = DyadFromAnalysis(dyad, analysis);
  *update.record.mutable_picture()->mutable_updated_at() = now;

  // Alerts already raised stay in the record even if a late rating changes the analysis:
  // an emitted event is history, never retracted.
  absl::flat_hash_set<std::string> raised;
  for (const alliance::v1::Alert& a : old.alerts()) raised.insert(a.alert_id());
  for (const analytics::AlertEvent& event : analysis.alerts) {
    if (!raised.insert(event.alert_id).second) continue;
    alliance::v1::Alert alert = AlertFromEvent(dyad, event);
    *alert.mutable_detected_at() = now;
    *update.record.add_alerts() = alert;
    update.new_alerts.push_back(std::move(alert));
  }
  return update;
}

}  // namespace alliance::worker
