// ClusterClient through a failover on a real local cluster: a killed primary makes calls on its
// slots answer UNAVAILABLE (within the client's bounds) until its replica is promoted, then the
// client finds the new primary by itself, reloads its script there on NOSCRIPT, carries on
// when the old primary comes back as a replica, and follows MOVED after a manual failover back.
#include <iostream>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "store/cluster_client.h"
#include "store/cluster_slot.h"
#include "tests/support/redis_cluster.h"

namespace alliance {
namespace {

TEST(ClusterFailoverTest, KilledPrimaryIsUnavailableUntilItsReplicaIsPromoted) {
  testing::RedisCluster cluster;
  absl::Status started = cluster.Start();
  ASSERT_TRUE(started.ok()) << started;
  ClusterOptions options;
  options.seeds = cluster.Seeds();
  options.max_retries = 2;
  options.retry_backoff = absl::Milliseconds(50);
  absl::StatusOr<std::unique_ptr<ClusterClient>> connected = ClusterClient::Connect(options);
  ASSERT_TRUE(connected.ok()) << connected.status();
  ClusterClient& client = **connected;

  const std::string key = "alliance:{p7}:rating";
  const int slot = KeySlot(key);
  const std::string source = "return redis.call('INCRBY', KEYS[1], ARGV[1])";
  absl::StatusOr<std::string> sha = client.LoadScript(source);
  ASSERT_TRUE(sha.ok()) << sha.status();
  ASSERT_TRUE(client.Command(slot, {"SET", key, "40"}).ok());
  // The write has reached the replica before the primary dies (WAIT answers how many have it).
  absl::StatusOr<RedisReplyPtr> waited = client.Command(slot, {"WAIT", "1", "2000"});
  ASSERT_TRUE(waited.ok()) << waited.status();
  ASSERT_EQ((*waited)->integer, 1);

  absl::StatusOr<int> killed = cluster.PrimaryOf(slot);
  ASSERT_TRUE(killed.ok());
  absl::StatusOr<int> replica = cluster.ReplicaOf(*killed);
  ASSERT_TRUE(replica.ok()) << replica.status();
  const absl::Time kill_time = absl::Now();
  cluster.Kill(*killed);

  // Too early for any failover (the node timeout is 1 s): UNAVAILABLE, naming the dead node.
  absl::StatusOr<RedisReplyPtr> reply = client.Command(slot, {"GET", key});
  ASSERT_FALSE(reply.ok());
  EXPECT_EQ(reply.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(reply.status().message().find(absl::StrCat(":", cluster.port(*killed))),
            std::string::npos)
      << reply.status();
  EXPECT_GT(client.stats().transport_errors, 0u);

  // Calls keep failing cleanly until the replica is promoted, then succeed on their own.
  int failures = 1;
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (!reply.ok() && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(50));
    reply = client.Command(slot, {"GET", key});
    if (!reply.ok()) {
      EXPECT_EQ(reply.status().code(), absl::StatusCode::kUnavailable) << reply.status();
      ++failures;
    }
  }
  ASSERT_TRUE(reply.ok()) << "no promotion within 30 s: " << reply.status();
  const absl::Duration failover = absl::Now() - kill_time;
  EXPECT_EQ(ReplyString(**reply), "40");  // the acknowledged write survived
  EXPECT_EQ(client.map().PrimaryOf(slot)->port, cluster.port(*replica));
  ::testing::Test::RecordProperty("failover_ms", absl::StrCat(absl::ToInt64Milliseconds(failover)));
  std::cout << "failover: first answer " << absl::FormatDuration(failover) << " after the kill, "
            << failures << " UNAVAILABLE calls before it\n";

  // The promoted node has not got the script (Redis 7 does not replicate SCRIPT LOAD; flushed
  // here should it have it): EVALSHA meets NOSCRIPT, and the client loads it there and retries.
  absl::StatusOr<RedisReplyPtr> exists = cluster.Command(*replica, {"SCRIPT", "EXISTS", *sha});
  ASSERT_TRUE(exists.ok());
  if ((*exists)->elements == 1 && (*exists)->element[0]->integer == 1) {
    ASSERT_TRUE(cluster.Command(*replica, {"SCRIPT", "FLUSH"}).ok());
  }
  reply = client.Command(slot, {"EVALSHA", *sha, "1", key, "2"});
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_EQ((*reply)->integer, 42);
  EXPECT_EQ(client.stats().script_loads, 1u);

  // The old primary comes back and rejoins as a replica of the new one; the client is unmoved.
  absl::Status restarted = cluster.Restart(*killed);
  ASSERT_TRUE(restarted.ok()) << restarted;
  absl::StatusOr<int> replica_of_new = cluster.ReplicaOf(*replica);
  ASSERT_TRUE(replica_of_new.ok()) << replica_of_new.status();
  EXPECT_EQ(*replica_of_new, *killed);
  const uint64_t unavailable = client.stats().unavailable;
  reply = client.Command(slot, {"GET", key});
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_EQ(ReplyString(**reply), "42");
  EXPECT_EQ(client.stats().unavailable, unavailable);

  // A manual failover back: the demoted node answers MOVED, and the client follows it with no
  // call failing.
  absl::Status failed_back = cluster.Failover(*killed);
  ASSERT_TRUE(failed_back.ok()) << failed_back;
  const uint64_t moved = client.stats().moved;
  reply = client.Command(slot, {"INCR", key});
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_EQ((*reply)->integer, 43);
  EXPECT_EQ(client.stats().moved, moved + 1);
  EXPECT_EQ(client.map().PrimaryOf(slot)->port, cluster.port(*killed));
  EXPECT_EQ(client.stats().unavailable, unavailable);
}

}  // namespace
}  // namespace alliance
