// The bounded least-recently-used map of dyad states (see dyad_cache.h).
#include "worker/dyad_cache.h"

namespace alliance::worker {

DyadState* DyadCache::Find(const std::string& key) {
  auto it = index_.find(key);
  if (it == index_.end()) return nullptr;
  lru_.splice(lru_.begin(), lru_, it->second);
  return it->second->state.get();
}

DyadState* DyadCache::Insert(int partition, const std::string& key,
                             std::unique_ptr<DyadState> state) {
  Erase(key);
  // Even with a bound of 0 the state lives until the end of the batch (Trim).
  lru_.push_front({partition, key, std::move(state)});
  index_[key] = lru_.begin();
  return lru_.front().state.get();
}

void DyadCache::Erase(const std::string& key) {
  auto it = index_.find(key);
  if (it == index_.end()) return;
  lru_.erase(it->second);
  index_.erase(it);
}

void DyadCache::ErasePartition(int p) {
  for (auto it = lru_.begin(); it != lru_.end();) {
    if (it->partition == p) {
      index_.erase(it->key);
      it = lru_.erase(it);
    } else {
      ++it;
    }
  }
}

void DyadCache::Clear() {
  index_.clear();
  lru_.clear();
}

void DyadCache::Trim() {
  while (lru_.size() > max_entries_) {
    index_.erase(lru_.back().key);
    lru_.pop_back();
  }
}

}  // namespace alliance::worker
