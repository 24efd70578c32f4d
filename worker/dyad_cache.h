// Dyad states of the partitions this worker owns, kept between batches (least recently used
// out first, at most --dyad_cache_entries). Sound because only the lease holder writes a
// partition's dyads: a cached state is used only while its version equals the stored one,
// which the apply script checks before every write; a refused write, a lost lease or a
// reconnect drops the states concerned, and the next batch reloads them from Redis.
#ifndef ALLIANCE_WORKER_DYAD_CACHE_H_
#define ALLIANCE_WORKER_DYAD_CACHE_H_

#include <cstddef>
#include <list>
#include <memory>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "worker/dyad_state.h"

namespace alliance::worker {

class DyadCache {
 public:
  explicit DyadCache(size_t max_entries) : max_entries_(max_entries) {}

  // The state of `key`, or nullptr; marks it recently used.
  DyadState* Find(const std::string& key);
  // Stores `state` for `key` (replacing any), returns it. Does not evict: states handed out
  // during a batch stay valid until Trim.
  DyadState* Insert(int partition, const std::string& key, std::unique_ptr<DyadState> state);
  void Erase(const std::string& key);
  // Drops every state of partition `p` (lease lost or released).
  void ErasePartition(int p);
  void Clear();
  // Evicts the least recently used states above the bound.
  void Trim();
  size_t size() const { return index_.size(); }

 private:
  struct Entry {
    int partition;
    std::string key;
    std::unique_ptr<DyadState> state;
  };
  size_t max_entries_;
  std::list<Entry> lru_;  // most recently used first
  absl::flat_hash_map<std::string, std::list<Entry>::iterator> index_;
};

}  // namespace alliance::worker

#endif  // ALLIANCE_WORKER_DYAD_CACHE_H_
