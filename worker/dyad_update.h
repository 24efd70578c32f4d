// The pure part of applying ratings to a dyad: merge new ratings into the stored record
// (deduplicated by rating id), recompute the picture with the analytics library, and find the
// alert events not yet in the record. No I/O, so it is tested without Redis.
#ifndef ALLIANCE_WORKER_DYAD_UPDATE_H_
#define ALLIANCE_WORKER_DYAD_UPDATE_H_

#include <span>
#include <vector>

#include "alliance/internal/v1/records.pb.h"
#include "analytics/dyad_analysis.h"
#include "analytics/registry.h"
#include "analytics/rules.h"
#include "google/protobuf/timestamp.pb.h"
#include "store/feedback_entry.h"

namespace alliance::worker {

struct DyadUpdate {
  // False when every incoming rating was already in the record: nothing to write or emit.
  bool changed = false;
  // The new record (version = old version + 1) when changed.
  internal::v1::DyadRecord record;
  // Alert events to append to the alert stream (not in the old record).
  std::vector<alliance::v1::Alert> new_alerts;
  int ratings_added = 0;
  int duplicates = 0;
};

// `old` may be empty (a new dyad); it is taken by value so callers can move it in. `now` stamps
// picture.updated_at and new alerts' detected_at.
DyadUpdate UpdateDyad(const analytics::InstrumentRegistry& registry,
                      const analytics::RuleConfig& rules, const analytics::DyadKey& dyad,
                      internal::v1::DyadRecord old, std::span<const DecodedFeedback> incoming,
                      const google::protobuf::Timestamp& now);

// Ratings of a record in the analytics library's form.
std::vector<analytics::Rating> RatingsOf(const internal::v1::DyadRecord& record);

// Orders stored ratings by session number, rater, instrument and rating id.
void SortRatings(internal::v1::DyadRecord* record);

}  // namespace alliance::worker

#endif  // ALLIANCE_WORKER_DYAD_UPDATE_H_
