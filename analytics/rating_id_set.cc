// Implementation of RatingIdSet (rating_id_set.h).
#include "analytics/rating_id_set.h"

#include "absl/hash/hash.h"

namespace alliance::analytics {

RatingIdSet::Probe RatingIdSet::ProbeOf(std::string_view id) {
  return Probe{id, absl::Hash<std::string_view>{}(id)};
}

bool RatingIdSet::Insert(std::string_view id) {
  Probe probe = ProbeOf(id);
  if (slots_.contains(probe)) return false;
  slots_.insert(Slot{std::string(id), probe.hash});
  return true;
}

bool RatingIdSet::Contains(std::string_view id) const { return slots_.contains(ProbeOf(id)); }

}  // namespace alliance::analytics
