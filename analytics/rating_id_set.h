// RatingIdSet: the exact set of rating ids a dyad has seen (deduplication of redelivered
// ratings). Each slot keeps its id's hash next to the id, so growing the set (a rehash) reads
// only the set's own array: hashing every id again would read each id's bytes from wherever
// the heap put them, one cache miss per id, for every dyad whose history crosses a growth step.
#ifndef ALLIANCE_ANALYTICS_RATING_ID_SET_H_
#define ALLIANCE_ANALYTICS_RATING_ID_SET_H_

#include <cstddef>
#include <string>
#include <string_view>

#include "absl/container/flat_hash_set.h"

namespace alliance::analytics {

class RatingIdSet {
 public:
  // Adds `id`; false when it was already in the set.
  bool Insert(std::string_view id);
  bool Contains(std::string_view id) const;
  size_t size() const { return slots_.size(); }
  bool empty() const { return slots_.empty(); }

 private:
  struct Slot {
    std::string id;
    size_t hash;
  };
  // What lookups probe with: no copy of the id.
  struct Probe {
    std::string_view id;
    size_t hash;
  };
  struct SlotHash {
    using is_transparent = void;
    size_t operator()(const Slot& s) const { return s.hash; }
    size_t operator()(const Probe& p) const { return p.hash; }
  };
  struct SlotEq {
    using is_transparent = void;
    bool operator()(const Slot& a, const Slot& b) const { return a.id == b.id; }
    bool operator()(const Slot& a, const Probe& b) const { return a.id == b.id; }
    bool operator()(const Probe& a, const Slot& b) const { return a.id == b.id; }
  };
  static Probe ProbeOf(std::string_view id);

  absl::flat_hash_set<Slot, SlotHash, SlotEq> slots_;
};

}  // namespace alliance::analytics

#endif  // ALLIANCE_ANALYTICS_RATING_ID_SET_H_
