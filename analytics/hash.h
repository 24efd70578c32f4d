// Stable, platform-independent hashes for partitioning and deterministic ids. Never change
// them: stored keys and alert ids depend on their values.
#ifndef ALLIANCE_ANALYTICS_HASH_H_
#define ALLIANCE_ANALYTICS_HASH_H_

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

namespace alliance::analytics {

// FNV-1a 64-bit over `parts`, each followed by a 0x1f separator so ("ab","c") != ("a","bc").
uint64_t Fnv1a64(std::initializer_list<std::string_view> parts, uint64_t seed = 0);

// 32 lowercase hex digits from two independently seeded Fnv1a64 runs.
std::string Hash128Hex(std::initializer_list<std::string_view> parts);

}  // namespace alliance::analytics

#endif  // ALLIANCE_ANALYTICS_HASH_H_
