// A synchronous Redis Cluster client for one thread, on hiredis 0.14 (which has no cluster
// support): slot routing from the cluster's slot map, one RedisConnection per primary (made
// when first needed), and the redirections and transient errors of the Cluster protocol
// handled with bounded retries. See docs/scaling.md, "Redis Cluster protocol".
//
// Every call is bounded: each read by the command timeout, the number of redirections by
// max_redirects, the number of backoff rounds (TRYAGAIN, CLUSTERDOWN, LOADING, transport
// errors, a slot no node serves) by max_retries and call_timeout. When a bound is reached the
// call answers UNAVAILABLE naming the last problem. Error replies that are not part of the
// protocol (WRONGTYPE, a script's own error...) are replies, returned to the caller.
#ifndef ALLIANCE_STORE_CLUSTER_CLIENT_H_
#define ALLIANCE_STORE_CLUSTER_CLIENT_H_

#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "store/cluster_map.h"
#include "store/redis_connection.h"

namespace alliance {

struct ClusterOptions {
  std::vector<std::string> seeds;  // "host:port" of some nodes; the rest comes from the map
  std::string password;            // empty: no AUTH
  absl::Duration connect_timeout = absl::Seconds(1);
  absl::Duration command_timeout = absl::Seconds(2);
  // Redirections (MOVED and ASK together) one call may follow before UNAVAILABLE.
  int max_redirects = 16;
  // Backoff rounds one call may take (TRYAGAIN, CLUSTERDOWN, LOADING, transport errors, an
  // unserved slot); the n-th waits retry_backoff * 2^(n-1), at most max_backoff, and none
  // starts when it would end after call_timeout.
  int max_retries = 5;
  absl::Duration retry_backoff = absl::Milliseconds(50);
  absl::Duration max_backoff = absl::Seconds(1);
  absl::Duration call_timeout = absl::Seconds(5);
  // The slot map is read again when it is older than this (checked at the start of each call);
  // zero: only after connection errors and unserved slots.
  absl::Duration refresh_interval = absl::Seconds(30);
  // After a transport error once commands were sent, they may or may not have run: resend
  // them only when they are safe to run twice (Alliance's scripts dedupe and fence).
  bool resend_after_transport_error = true;
};

// Counters for metrics and tests, only ever increased.
struct ClusterStats {
  uint64_t moved = 0;             // MOVED replies followed
  uint64_t ask = 0;               // ASK replies followed
  uint64_t tryagain = 0;          // TRYAGAIN, CLUSTERDOWN and LOADING replies waited on
  uint64_t transport_errors = 0;  // connect, write or read failures
  uint64_t refreshes = 0;         // slot maps adopted
  uint64_t refresh_failures = 0;  // refreshes where no node gave a usable map
  uint64_t script_loads = 0;      // scripts loaded again after NOSCRIPT
  uint64_t unavailable = 0;       // calls that ended UNAVAILABLE
};

using CommandArgs = std::vector<std::string_view>;

class ClusterClient {
 public:
  // Reads the slot map from the first seed that gives a usable one (UNAVAILABLE naming each
  // seed's problem when none does). No data connection is made yet.
  static absl::StatusOr<std::unique_ptr<ClusterClient>> Connect(ClusterOptions options);

  ClusterClient(const ClusterClient&) = delete;
  ClusterClient& operator=(const ClusterClient&) = delete;

  // One command on the primary of `slot` (0..16383, see KeySlot): its reply, which is an error
  // reply when Redis answered one that is not part of the Cluster protocol.
  absl::StatusOr<RedisReplyPtr> Command(int slot, const CommandArgs& args);

  // Pipelines `commands`, all of whose keys are in `slot`, and returns one reply per command,
  // in order. Every reply is read even after error replies. A command answered by a
  // redirection or a retryable error is sent again (with the others so answered, in order);
  // commands answered otherwise keep that answer and are not sent again, so a retry can
  // reorder them relative to the ones already done.
  absl::StatusOr<std::vector<RedisReplyPtr>> Exchange(int slot,
                                                      std::span<const CommandArgs> commands);

  // Runs `fn` once on a connection to each primary of the current map (reads that span nodes:
  // SCAN, per-node fan-out). Stops at the first error and returns it; a transport error
  // refreshes the map first (the caller retries the whole walk). `fn` must read every reply it
  // pipelines: a connection left owing replies is closed.
  absl::Status ForEachPrimary(
      absl::FunctionRef<absl::Status(const NodeAddress& node, RedisConnection& connection)> fn);

  // Scripts: on NOSCRIPT for `EVALSHA <sha> ...` the client loads the registered source on
  // that node and resends the command, once per call. RegisterScript only remembers the source
  // under its SHA1 as Redis writes it (40 lowercase hex digits, the reply of SCRIPT LOAD, e.g.
  // ScriptShas::sha); LoadScript also loads it on every primary and returns that SHA1.
  void RegisterScript(std::string sha, std::string source);
  absl::StatusOr<std::string> LoadScript(std::string source);

  // Reads the slot map again from the known nodes, then the seeds: the first map serving all
  // slots is adopted, else the one serving the most. UNAVAILABLE (the old map kept) when no node
  // gives one.
  absl::Status RefreshMap();

  const ClusterMap& map() const { return map_; }
  const ClusterStats& stats() const { return stats_; }

 private:
  explicit ClusterClient(ClusterOptions options) : options_(std::move(options)) {}

  absl::Status Run(int slot, std::span<const CommandArgs> commands,
                   std::vector<RedisReplyPtr>& replies);
  // Connection to `node`, made when missing or broken.
  absl::StatusOr<RedisConnection*> ConnectionTo(const NodeAddress& node);
  void DropConnection(const NodeAddress& node);
  RedisEndpoint EndpointOf(const NodeAddress& node) const;
  void MaybeRefresh();
  // Waits before retry number `++*retries`; false when the retry budget or deadline is spent.
  bool Backoff(int* retries, absl::Time deadline);
  absl::Status Unavailable(int slot, std::string_view problem);

  ClusterOptions options_;
  ClusterMap map_;
  absl::Time map_time_ = absl::InfinitePast();
  std::map<std::string, std::unique_ptr<RedisConnection>> connections_;  // by "host:port"
  std::map<std::string, std::string, std::less<>> scripts_;              // sha -> source
  ClusterStats stats_;
};

}  // namespace alliance

#endif  // ALLIANCE_STORE_CLUSTER_CLIENT_H_
