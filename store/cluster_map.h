// The Redis Cluster slot map (which primary, and which replicas, serve each of the 16384
// slots) as read from a CLUSTER SLOTS reply, and the MOVED / ASK redirections that correct it.
// A reply is checked before anything of it is used: a node that answers nonsense gives a clear
// error, never a crash or a map with holes it does not admit to.
#ifndef ALLIANCE_STORE_CLUSTER_MAP_H_
#define ALLIANCE_STORE_CLUSTER_MAP_H_

#include <hiredis/hiredis.h>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace alliance {

struct NodeAddress {
  std::string host;
  int port = 0;

  std::string ToString() const;  // "host:port"
  bool operator==(const NodeAddress&) const = default;
};

// Parses "host:port" (the last ':' separates the port, so IPv6 hosts work); the port must be
// 1..65535. An empty host means `default_host` (Redis names a node whose endpoint it does not
// know with an empty host: the client then uses the host it asked).
absl::StatusOr<NodeAddress> ParseNodeAddress(std::string_view text, std::string_view default_host);

// One primary and its replicas, as listed in a CLUSTER SLOTS range.
struct ClusterShard {
  NodeAddress primary;
  std::string primary_id;  // node id when the reply gave one
  std::vector<NodeAddress> replicas;
};

class ClusterMap {
 public:
  ClusterMap();  // covers no slot

  // Builds the map from a CLUSTER SLOTS reply: an array of [first, last, primary, replicas...]
  // where each node is [host, port, id?, ...]. Checked: types, slots in 0..16383 with
  // first <= last, no slot in two ranges, ports in 1..65535, at least one node per range. A
  // nil or empty host is `replying_host` (the node that sent the reply); a node whose endpoint
  // is unknown ("?") is an error as a primary and skipped as a replica. INVALID_ARGUMENT,
  // naming what is wrong, otherwise.
  static absl::StatusOr<ClusterMap> FromClusterSlots(const redisReply& reply,
                                                     std::string_view replying_host);

  // Primary serving `slot`, or nullptr when no node serves it (or the slot is out of range).
  const NodeAddress* PrimaryOf(int slot) const;
  // Replicas of that primary as the map lists them (empty when unknown).
  std::span<const NodeAddress> ReplicasOf(int slot) const;
  // After MOVED: `slot` is now served by `primary` (replicas unknown until the next refresh).
  void SetPrimary(int slot, const NodeAddress& primary);

  // Distinct primaries serving at least one slot, in the order of their first slot.
  std::vector<NodeAddress> Primaries() const;
  // Every node the map names (primaries first, then replicas), distinct.
  std::vector<NodeAddress> Nodes() const;
  // How many slots have a primary (16384 on a healthy cluster).
  int covered_slots() const;

 private:
  std::vector<ClusterShard> shards_;
  std::vector<int16_t> owner_;  // per slot: index in shards_, -1 when not served
};

enum class RedirectKind { kMoved, kAsk };

// "MOVED 3999 127.0.0.1:6381" (the slot lives on that node now) or "ASK 3999 127.0.0.1:6381"
// (this one command goes there, after ASKING, while the slot migrates).
struct Redirect {
  RedirectKind kind;
  int slot = 0;
  NodeAddress node;
};

// True when an error reply's text is a MOVED or ASK redirection (well formed or not).
bool IsRedirect(std::string_view error);
// Parses a redirection; INVALID_ARGUMENT naming the text when it is malformed (slot not in
// 0..16383, address without a valid port, extra words). An empty host is `replying_host`.
absl::StatusOr<Redirect> ParseRedirect(std::string_view error, std::string_view replying_host);

}  // namespace alliance

#endif  // ALLIANCE_STORE_CLUSTER_MAP_H_
