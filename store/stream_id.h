// Redis stream entry ids ("<ms>-<seq>") as comparable values, and the per-partition positions
// that watch cursors and alert page tokens are made of.
#ifndef ALLIANCE_STORE_STREAM_ID_H_
#define ALLIANCE_STORE_STREAM_ID_H_

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace alliance {

struct StreamId {
  uint64_t ms = 0;
  uint64_t seq = 0;

  auto operator<=>(const StreamId&) const = default;
  // "1700000000000-3"
  std::string ToString() const;
  // Parses "<ms>-<seq>"; nullopt for anything else.
  static std::optional<StreamId> Parse(std::string_view text);
};

// One position per partition: everything at or before positions[p] in partition p's alert
// stream has been seen.
using Positions = std::vector<StreamId>;

// True when every partition of `a` is at or after the same partition of `b`.
bool AtOrAfter(const Positions& a, const Positions& b);

}  // namespace alliance

#endif  // ALLIANCE_STORE_STREAM_ID_H_
