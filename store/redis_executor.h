// Runs Alliance's commands on either Redis mode with one interface: a single Redis (one
// RedisConnection) or a Redis Cluster (a ClusterClient). Readers that span partitions (insights'
// listings, watch reads, erasure) say which slot each command's keys are in and get the replies
// back in order; on a single Redis every slot is the one connection, on a cluster each slot goes
// to its primary. Every reply asked for is read, error replies included (the pipelining contract
// of store/redis_connection.h), so a job cannot leave a connection out of step through it.
#ifndef ALLIANCE_STORE_REDIS_EXECUTOR_H_
#define ALLIANCE_STORE_REDIS_EXECUTOR_H_

#include <span>
#include <string_view>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "store/cluster_client.h"
#include "store/redis_connection.h"

namespace alliance {

// One command and the slot of its keys (RedisExecutor::SlotOf).
struct SlotCommand {
  int slot = 0;
  CommandArgs args;
};

class RedisExecutor {
 public:
  virtual ~RedisExecutor() = default;

  virtual bool cluster() const = 0;
  // Routing slot of a key: its Cluster key slot on a cluster, 0 on a single Redis (where every
  // key is on the one connection, so commands grouped by slot stay one group).
  virtual int SlotOf(std::string_view key) const = 0;

  // `commands`, whose keys are all in `slot`, pipelined; one reply per command, in order,
  // error replies included. On a cluster a MULTI ... EXEC among them runs on the slot's primary
  // (see ClusterClient::Exchange for what a redirection in the middle does).
  virtual absl::StatusOr<std::vector<RedisReplyPtr>> Exchange(
      int slot, std::span<const CommandArgs> commands) = 0;
  absl::StatusOr<RedisReplyPtr> Command(int slot, const CommandArgs& args);

  // Commands of several slots: one reply per command in the order given. A single Redis gets
  // them as one pipeline (one round trip); a cluster gets one exchange per slot, so commands of
  // different slots may run in another order; each command is sent again only as
  // ClusterClient::Exchange does (redirections, retryable errors, and transport errors when
  // ClusterOptions::resend_after_transport_error allows).
  virtual absl::StatusOr<std::vector<RedisReplyPtr>> Pipeline(
      std::span<const SlotCommand> commands) = 0;
  // The same for reads and idempotent writes only, with fewer round trips on a cluster: one
  // pipeline per primary of the current map, and a command answered there with an error reply
  // (a redirection, say) or not answered (a node unreachable, a connection lost) is sent again
  // in an exchange of its slot; so a command may run twice. A single Redis: Pipeline.
  virtual absl::StatusOr<std::vector<RedisReplyPtr>> ReadPipeline(
      std::span<const SlotCommand> commands) {
    return Pipeline(commands);
  }

  // Redirections followed and transport errors met so far (a cluster's MOVED, ASK and lost
  // connections; always 0 on a single Redis). A command without keys (WAIT) sent in an
  // exchange during which this changed may have been answered by another node than the one
  // that ran the exchange's keyed commands, so its answer says nothing about their writes.
  virtual uint64_t reroutes() const { return 0; }

  // Runs `fn` on a connection to every primary (SCAN and other per-node walks): once on the
  // single Redis, once per primary on a cluster. `fn` must read every reply it pipelines.
  virtual absl::Status ForEachPrimary(absl::FunctionRef<absl::Status(RedisConnection&)> fn) = 0;
};

// A single Redis: everything on one connection.
class ConnectionExecutor final : public RedisExecutor {
 public:
  explicit ConnectionExecutor(RedisConnection& redis) : redis_(redis) {}
  bool cluster() const override { return false; }
  int SlotOf(std::string_view) const override { return 0; }
  absl::StatusOr<std::vector<RedisReplyPtr>> Exchange(
      int slot, std::span<const CommandArgs> commands) override;
  absl::StatusOr<std::vector<RedisReplyPtr>> Pipeline(
      std::span<const SlotCommand> commands) override;
  absl::Status ForEachPrimary(absl::FunctionRef<absl::Status(RedisConnection&)> fn) override;

  RedisConnection& connection() { return redis_; }

 private:
  RedisConnection& redis_;
};

// A Redis Cluster through one thread's ClusterClient.
class ClusterExecutor final : public RedisExecutor {
 public:
  explicit ClusterExecutor(ClusterClient& cluster) : cluster_(cluster) {}
  bool cluster() const override { return true; }
  int SlotOf(std::string_view key) const override;
  absl::StatusOr<std::vector<RedisReplyPtr>> Exchange(
      int slot, std::span<const CommandArgs> commands) override;
  absl::StatusOr<std::vector<RedisReplyPtr>> Pipeline(
      std::span<const SlotCommand> commands) override;
  absl::StatusOr<std::vector<RedisReplyPtr>> ReadPipeline(
      std::span<const SlotCommand> commands) override;
  absl::Status ForEachPrimary(absl::FunctionRef<absl::Status(RedisConnection&)> fn) override;

  uint64_t reroutes() const override;
  ClusterClient& client() { return cluster_; }

 private:
  ClusterClient& cluster_;
};

}  // namespace alliance

#endif  // ALLIANCE_STORE_REDIS_EXECUTOR_H_
