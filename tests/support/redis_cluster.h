// Test fixture support: a real Redis Cluster on loopback: primaries and replicas of Debian's
// redis-server in cluster mode on free ports, data in a temporary folder, the cluster created
// with `redis-cli --cluster create`. Tests kill and restart nodes, wait for failovers and move
// slots (the CLUSTER SETSLOT / MIGRATE sequence, stoppable halfway to show ASK). Every wait is
// bounded; every process is killed in the destructor.
#ifndef ALLIANCE_TESTS_SUPPORT_REDIS_CLUSTER_H_
#define ALLIANCE_TESTS_SUPPORT_REDIS_CLUSTER_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "store/cluster_map.h"
#include "store/redis_connection.h"
#include "tests/support/child_process.h"

namespace alliance::testing {

class RedisCluster {
 public:
  struct Options {
    int primaries = 3;
    int replicas_per_primary = 1;
    int node_timeout_ms = 1000;  // cluster-node-timeout: failure detection and failover speed
  };
  RedisCluster();
  explicit RedisCluster(Options options);
  ~RedisCluster();
  RedisCluster(const RedisCluster&) = delete;
  RedisCluster& operator=(const RedisCluster&) = delete;

  // Starts every node, creates the cluster and waits (at most `timeout`) until every node says
  // cluster_state:ok with all slots served, every node's slot map agrees, and every replica is
  // attached and in sync.
  absl::Status Start(absl::Duration timeout = absl::Seconds(60));

  int size() const { return static_cast<int>(nodes_.size()); }
  int port(int node) const { return nodes_[static_cast<size_t>(node)].port; }
  bool running(int node) const { return nodes_[static_cast<size_t>(node)].process->running(); }
  RedisEndpoint endpoint(int node) const;
  // "127.0.0.1:port" of every node, for a client's seed list.
  std::vector<std::string> Seeds() const;
  // Index of the node listening on `port`, -1 when none.
  int NodeOfPort(int port) const;

  // One command on one node, over a fresh connection.
  absl::StatusOr<RedisReplyPtr> Command(int node, const std::vector<std::string_view>& args);
  absl::StatusOr<std::string> NodeId(int node);
  // The slot map as a running node sees it (the first that answers).
  absl::StatusOr<ClusterMap> Map();
  // Index of the primary serving `slot`, per Map().
  absl::StatusOr<int> PrimaryOf(int slot);
  // A node serving as replica of primary `node` (per INFO replication of the running nodes).
  absl::StatusOr<int> ReplicaOf(int node);

  // SIGKILLs a node (its data folder and nodes.conf stay).
  void Kill(int node);
  // Starts a killed node again on its port and folder: it rejoins, as a replica when its slots
  // were failed over meanwhile. Waits (bounded) until it answers and the cluster is healthy with
  // it in sync.
  absl::Status Restart(int node, absl::Duration timeout = absl::Seconds(30));
  // A manual failover (CLUSTER FAILOVER on replica `node`, coordinated with its primary, no
  // write lost), asked again when Redis gives one up: waits (bounded) until `node` is a primary
  // and the cluster is healthy.
  absl::Status Failover(int node, absl::Duration timeout = absl::Seconds(30));
  // Waits until every running node says cluster_state:ok, all agree on one map that serves all
  // slots from running primaries, and every running replica is in sync: after Kill of a
  // primary, that is its replica promoted.
  absl::Status WaitHealthy(absl::Duration timeout = absl::Seconds(30));

  // Moving `slot` from its primary `from` to primary `to`, step by step:
  // IMPORTING on `to`, MIGRATING on `from` (commands for keys still on `from` are served
  // there, the others are answered ASK);
  absl::Status BeginMigration(int slot, int from, int to);
  // MIGRATE of those keys (all of the slot's keys when `keys` is empty);
  absl::Status MigrateKeys(int slot, int from, int to, const std::vector<std::string>& keys = {});
  // SETSLOT NODE on `to`, `from` and every other running primary, then a wait until every
  // running node's map says so (MOVED from then on, for clients with the old map).
  absl::Status FinishMigration(int slot, int from, int to,
                               absl::Duration timeout = absl::Seconds(20));
  // The three steps.
  absl::Status MoveSlot(int slot, int to);

  const std::string& dir() const { return dir_; }

 private:
  struct Node {
    int port = 0;
    int bus_port = 0;
    std::string dir;
    std::unique_ptr<ChildProcess> process;
  };
  absl::Status StartNode(int node);
  absl::Status CreateCluster(absl::Duration timeout);
  // Why the cluster is not healthy yet, or OK; `expected_replicas` < 0: not counted.
  absl::Status Health(int expected_replicas);
  absl::Status WaitFor(absl::Duration timeout, int expected_replicas);

  Options options_;
  std::string dir_;
  std::vector<Node> nodes_;
};

}  // namespace alliance::testing

#endif  // ALLIANCE_TESTS_SUPPORT_REDIS_CLUSTER_H_
