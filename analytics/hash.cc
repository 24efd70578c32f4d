// Implementation of the stable hashes in hash.h.
#include "analytics/hash.h"

#include <cstdio>

namespace alliance::analytics {

uint64_t Fnv1a64(std::initializer_list<std::string_view> parts, uint64_t seed) {
  constexpr uint64_t kOffset = 14695981039346656037ULL;
  constexpr uint64_t kPrime = 1099511628211ULL;
  uint64_t h = kOffset ^ seed;
  for (std::string_view part : parts) {
    for (unsigned char c : part) {
      h ^= c;
      h *= kPrime;
    }
    h ^= 0x1f;
    h *= kPrime;
  }
  return h;
}

std::string Hash128Hex(std::initializer_list<std::string_view> parts) {
  char buf[33];
  std::snprintf(buf, sizeof buf, "%016llx%016llx",
                static_cast<unsigned long long>(Fnv1a64(parts, 0)),
                static_cast<unsigned long long>(Fnv1a64(parts, 0x9e3779b97f4a7c15ULL)));
  return std::string(buf, 32);
}

}  // namespace alliance::analytics
