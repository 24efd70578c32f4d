// ClusterClient on a real local cluster of three primaries and three replicas
// (tests/support/redis_cluster.h): routing of every partition tag, pipelined exchanges, walks
// over the primaries, map refreshes, MOVED after a slot moved, ASK and TRYAGAIN while one
// migrates, and NOSCRIPT on a node that lost its scripts.
#include "store/cluster_client.h"

#include <set>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/strings.h"
#include "gtest/gtest.h"
#include "store/cluster_slot.h"
#include "tests/support/redis_cluster.h"

namespace alliance {
namespace {

std::string Tagged(int partition, std::string_view name) {
  return absl::StrCat("alliance:{p", partition, "}:", Absl(name));
}

class ClusterClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::Status started = cluster_.Start();
    ASSERT_TRUE(started.ok()) << started;
  }

  std::unique_ptr<ClusterClient> Client(ClusterOptions options = {}) {
    options.seeds = {cluster_.Seeds()[0]};  // one seed: the rest comes from the map
    absl::StatusOr<std::unique_ptr<ClusterClient>> client = ClusterClient::Connect(options);
    EXPECT_TRUE(client.ok()) << client.status();
    return client.ok() ? *std::move(client) : nullptr;
  }

  // The value of `key` read straight from node `node`, without any redirection: a wrong node
  // answers MOVED, which this returns as text.
  std::string ReadOn(int node, const std::string& key) {
    absl::StatusOr<RedisReplyPtr> reply = cluster_.Command(node, {"GET", key});
    return reply.ok() ? std::string(ReplyString(**reply)) : reply.status().ToString();
  }

  // A primary other than `node`.
  int OtherPrimary(int node) {
    absl::StatusOr<ClusterMap> map = cluster_.Map();
    EXPECT_TRUE(map.ok());
    for (const NodeAddress& p : map->Primaries()) {
      if (cluster_.NodeOfPort(p.port) != node) return cluster_.NodeOfPort(p.port);
    }
    return -1;
  }

  testing::RedisCluster cluster_;
};

TEST_F(ClusterClientTest, RoutesEveryPartitionTagToItsPrimary) {
  std::unique_ptr<ClusterClient> client = Client();
  ASSERT_NE(client, nullptr);
  EXPECT_EQ(client->map().covered_slots(), kClusterSlots);
  EXPECT_EQ(client->map().Primaries().size(), 3u);
  std::set<int> primaries_used;
  for (int p = 0; p < 16; ++p) {
    const std::string key = Tagged(p, "probe");
    const int slot = KeySlot(key);
    // Redis computes the same slot.
    absl::StatusOr<RedisReplyPtr> keyslot = cluster_.Command(0, {"CLUSTER", "KEYSLOT", key});
    ASSERT_TRUE(keyslot.ok());
    EXPECT_EQ((*keyslot)->integer, slot) << key;

    const std::string value = absl::StrCat("v", p);
    absl::StatusOr<RedisReplyPtr> set = client->Command(slot, {"SET", key, value});
    ASSERT_TRUE(set.ok()) << set.status();
    EXPECT_EQ(ReplyString(**set), "OK");
    absl::StatusOr<int> owner = cluster_.PrimaryOf(slot);
    ASSERT_TRUE(owner.ok());
    EXPECT_EQ(ReadOn(*owner, key), value) << key;
    primaries_used.insert(*owner);
  }
  EXPECT_EQ(client->stats().moved, 0u);  // every command went to the right node first time
  EXPECT_EQ(client->stats().ask, 0u);
  EXPECT_EQ(primaries_used.size(), 3u);  // the 16 tags spread over all three primaries

  // A walk over the primaries finds every key once, each on the node that serves it.
  std::set<std::string> found;
  std::set<int> visited;
  absl::Status walked =
      client->ForEachPrimary([&](const NodeAddress& node, RedisConnection& redis) -> absl::Status {
        visited.insert(node.port);
        std::string cursor = "0";
        do {  // bounded: SCAN returns cursor 0 after a full pass
          absl::StatusOr<RedisReplyPtr> page = redis.Command({"SCAN", cursor, "COUNT", "100"});
          if (!page.ok()) return page.status();
          if ((*page)->type != REDIS_REPLY_ARRAY || (*page)->elements != 2) {
            return absl::InternalError("SCAN reply");
          }
          cursor = std::string(ReplyString(*(*page)->element[0]));
          const redisReply& keys = *(*page)->element[1];
          for (size_t i = 0; i < keys.elements; ++i) {
            const std::string key(ReplyString(*keys.element[i]));
            EXPECT_TRUE(found.insert(key).second) << key << " on two primaries";
            const NodeAddress* owner = client->map().PrimaryOf(KeySlot(key));
            EXPECT_TRUE(owner != nullptr && owner->port == node.port) << key;
          }
        } while (cursor != "0");
        return absl::OkStatus();
      });
  ASSERT_TRUE(walked.ok()) << walked;
  EXPECT_EQ(visited.size(), 3u);
  EXPECT_EQ(found.size(), 16u);
}

TEST_F(ClusterClientTest, PipelinedExchangePerSlotReadsEveryReply) {
  std::unique_ptr<ClusterClient> client = Client();
  ASSERT_NE(client, nullptr);
  for (int p = 0; p < 16; ++p) {
    const std::string text = Tagged(p, "text");
    const std::string counter = Tagged(p, "counter");
    const std::string stream = Tagged(p, "stream");
    const std::vector<CommandArgs> commands = {
        {"SET", text, "hello"},     {"INCR", counter}, {"XADD", stream, "*", "f", "v"},
        {"XRANGE", text, "-", "+"},  // WRONGTYPE in the middle of the pipeline
        {"INCR", counter},          {"GET", text},
    };
    absl::StatusOr<std::vector<RedisReplyPtr>> replies = client->Exchange(KeySlot(text), commands);
    ASSERT_TRUE(replies.ok()) << replies.status();
    ASSERT_EQ(replies->size(), commands.size());
    EXPECT_EQ(ReplyString(*(*replies)[0]), "OK");
    EXPECT_EQ((*replies)[1]->integer, 1);
    EXPECT_EQ((*replies)[2]->type, REDIS_REPLY_STRING);
    EXPECT_EQ((*replies)[3]->type, REDIS_REPLY_ERROR);
    EXPECT_TRUE(ReplyString(*(*replies)[3]).starts_with("WRONGTYPE"));
    EXPECT_EQ((*replies)[4]->integer, 2);
    EXPECT_EQ(ReplyString(*(*replies)[5]), "hello");
  }
  // Keys of two slots in one command: Redis's own error, returned as a reply.
  absl::StatusOr<RedisReplyPtr> cross =
      client->Command(KeySlot(Tagged(0, "a")), {"MGET", Tagged(0, "a"), Tagged(1, "a")});
  ASSERT_TRUE(cross.ok()) << cross.status();
  EXPECT_TRUE(ReplyString(**cross).starts_with("CROSSSLOT")) << ReplyString(**cross);
  EXPECT_EQ(client->stats().moved, 0u);
  EXPECT_EQ(client->stats().unavailable, 0u);
}

TEST_F(ClusterClientTest, RefreshesTheMapOnceAfterAConnectionError) {
  std::unique_ptr<ClusterClient> client = Client();
  ASSERT_NE(client, nullptr);
  const std::string key = Tagged(3, "k");
  const int slot = KeySlot(key);
  ASSERT_TRUE(client->Command(slot, {"SET", key, "before"}).ok());
  const ClusterStats before = client->stats();
  absl::StatusOr<int> owner = cluster_.PrimaryOf(slot);
  ASSERT_TRUE(owner.ok());
  // The node drops every client connection: the client's next command fails on the wire.
  absl::StatusOr<RedisReplyPtr> killed =
      cluster_.Command(*owner, {"CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes"});
  ASSERT_TRUE(killed.ok());
  ASSERT_GE((*killed)->integer, 1);
  absl::StatusOr<RedisReplyPtr> get = client->Command(slot, {"GET", key});
  ASSERT_TRUE(get.ok()) << get.status();
  EXPECT_EQ(ReplyString(**get), "before");
  EXPECT_EQ(client->stats().transport_errors, before.transport_errors + 1);
  EXPECT_EQ(client->stats().refreshes, before.refreshes + 1);
  EXPECT_EQ(client->stats().unavailable, 0u);
  // No further refresh while the connection works and the map is young.
  ASSERT_TRUE(client->Command(slot, {"GET", key}).ok());
  EXPECT_EQ(client->stats().refreshes, before.refreshes + 1);
}

TEST_F(ClusterClientTest, RefreshesPeriodically) {
  ClusterOptions options;
  options.refresh_interval = absl::Milliseconds(1);
  std::unique_ptr<ClusterClient> client = Client(options);
  ASSERT_NE(client, nullptr);
  const uint64_t refreshes = client->stats().refreshes;
  for (int i = 0; i < 3; ++i) {
    absl::SleepFor(absl::Milliseconds(2));
    ASSERT_TRUE(client->Command(KeySlot("x"), {"GET", "x"}).ok());
  }
  EXPECT_EQ(client->stats().refreshes, refreshes + 3);
  ClusterOptions never;
  never.refresh_interval = absl::ZeroDuration();
  client = Client(never);
  ASSERT_NE(client, nullptr);
  absl::SleepFor(absl::Milliseconds(2));
  ASSERT_TRUE(client->Command(KeySlot("x"), {"GET", "x"}).ok());
  EXPECT_EQ(client->stats().refreshes, 1u);  // the one of Connect
}

TEST_F(ClusterClientTest, FollowsMovedAfterTheSlotMoved) {
  std::unique_ptr<ClusterClient> client = Client();
  ASSERT_NE(client, nullptr);
  const std::string key = Tagged(4, "moved");
  const int slot = KeySlot(key);
  ASSERT_TRUE(client->Command(slot, {"SET", key, "v"}).ok());
  absl::StatusOr<int> from = cluster_.PrimaryOf(slot);
  ASSERT_TRUE(from.ok());
  const int to = OtherPrimary(*from);
  absl::Status moved = cluster_.MoveSlot(slot, to);
  ASSERT_TRUE(moved.ok()) << moved;
  EXPECT_EQ(client->map().PrimaryOf(slot)->port, cluster_.port(*from));  // stale until told

  absl::StatusOr<RedisReplyPtr> get = client->Command(slot, {"GET", key});
  ASSERT_TRUE(get.ok()) << get.status();
  EXPECT_EQ(ReplyString(**get), "v");
  EXPECT_EQ(client->stats().moved, 1u);
  EXPECT_EQ(client->map().PrimaryOf(slot)->port, cluster_.port(to));  // the map entry updated
  EXPECT_EQ(client->map().PrimaryOf(slot + 1)->port, cluster_.port(*from));  // only that one
  // Pipelines go straight to the new primary from now on.
  const std::vector<CommandArgs> commands = {{"GET", key}, {"APPEND", key, "w"}, {"GET", key}};
  absl::StatusOr<std::vector<RedisReplyPtr>> replies = client->Exchange(slot, commands);
  ASSERT_TRUE(replies.ok()) << replies.status();
  EXPECT_EQ(ReplyString(*(*replies)[2]), "vw");
  EXPECT_EQ(client->stats().moved, 1u);
  EXPECT_EQ(ReadOn(to, key), "vw");
}

TEST_F(ClusterClientTest, FollowsAskWhileTheSlotMigrates) {
  std::unique_ptr<ClusterClient> client = Client();
  ASSERT_NE(client, nullptr);
  const std::string moved_key = Tagged(5, "a");
  const std::string staying_key = Tagged(5, "b");
  const std::string new_key = Tagged(5, "c");
  const int slot = KeySlot(moved_key);
  ASSERT_TRUE(client->Command(slot, {"SET", moved_key, "A"}).ok());
  ASSERT_TRUE(client->Command(slot, {"SET", staying_key, "B"}).ok());
  absl::StatusOr<int> from = cluster_.PrimaryOf(slot);
  ASSERT_TRUE(from.ok());
  const int to = OtherPrimary(*from);
  ASSERT_TRUE(cluster_.BeginMigration(slot, *from, to).ok());
  ASSERT_TRUE(cluster_.MigrateKeys(slot, *from, to, {moved_key}).ok());

  // The migrated key: ASK to the importing node, once; the map keeps the old owner.
  absl::StatusOr<RedisReplyPtr> get = client->Command(slot, {"GET", moved_key});
  ASSERT_TRUE(get.ok()) << get.status();
  EXPECT_EQ(ReplyString(**get), "A");
  EXPECT_EQ(client->stats().ask, 1u);
  EXPECT_EQ(client->map().PrimaryOf(slot)->port, cluster_.port(*from));
  // A key still on the old owner is served there, without redirection.
  get = client->Command(slot, {"GET", staying_key});
  ASSERT_TRUE(get.ok());
  EXPECT_EQ(ReplyString(**get), "B");
  EXPECT_EQ(client->stats().ask, 1u);
  // A new key is created on the importing node.
  ASSERT_TRUE(client->Command(slot, {"SET", new_key, "C"}).ok());
  EXPECT_EQ(client->stats().ask, 2u);
  // In one pipeline: the staying key answered by the old owner, the others after ASK.
  const std::vector<CommandArgs> commands = {
      {"GET", moved_key}, {"GET", staying_key}, {"GET", new_key}};
  absl::StatusOr<std::vector<RedisReplyPtr>> replies = client->Exchange(slot, commands);
  ASSERT_TRUE(replies.ok()) << replies.status();
  EXPECT_EQ(ReplyString(*(*replies)[0]), "A");
  EXPECT_EQ(ReplyString(*(*replies)[1]), "B");
  EXPECT_EQ(ReplyString(*(*replies)[2]), "C");
  EXPECT_EQ(client->stats().ask, 3u);
  // Keys split between the two nodes in one command: TRYAGAIN, retried within the bounds,
  // then UNAVAILABLE while the migration stands still.
  absl::StatusOr<RedisReplyPtr> both = client->Command(slot, {"MGET", moved_key, staying_key});
  EXPECT_EQ(both.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(both.status().message().find("TRYAGAIN"), std::string::npos) << both.status();
  EXPECT_GT(client->stats().tryagain, 0u);

  // The migration ends: MOVED once, then the new owner directly.
  ASSERT_TRUE(cluster_.MigrateKeys(slot, *from, to).ok());
  ASSERT_TRUE(cluster_.FinishMigration(slot, *from, to).ok());
  both = client->Command(slot, {"MGET", moved_key, staying_key});
  ASSERT_TRUE(both.ok()) << both.status();
  ASSERT_EQ((*both)->elements, 2u);
  EXPECT_EQ(ReplyString(*(*both)->element[1]), "B");
  EXPECT_EQ(client->stats().moved, 1u);
  EXPECT_EQ(client->map().PrimaryOf(slot)->port, cluster_.port(to));
}

TEST_F(ClusterClientTest, ReloadsAScriptOnANodeThatLostIt) {
  std::unique_ptr<ClusterClient> client = Client();
  ASSERT_NE(client, nullptr);
  const std::string source = "return redis.call('INCRBY', KEYS[1], ARGV[1])";
  absl::StatusOr<std::string> sha = client->LoadScript(source);
  ASSERT_TRUE(sha.ok()) << sha.status();
  const std::string key = Tagged(6, "n");
  const int slot = KeySlot(key);
  absl::StatusOr<RedisReplyPtr> reply = client->Command(slot, {"EVALSHA", *sha, "1", key, "2"});
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_EQ((*reply)->integer, 2);
  EXPECT_EQ(client->stats().script_loads, 0u);

  absl::StatusOr<int> owner = cluster_.PrimaryOf(slot);
  ASSERT_TRUE(owner.ok());
  ASSERT_TRUE(cluster_.Command(*owner, {"SCRIPT", "FLUSH"}).ok());
  const std::vector<CommandArgs> commands = {
      {"INCR", key}, {"EVALSHA", *sha, "1", key, "10"}, {"GET", key}};
  absl::StatusOr<std::vector<RedisReplyPtr>> replies = client->Exchange(slot, commands);
  ASSERT_TRUE(replies.ok()) << replies.status();
  EXPECT_EQ((*replies)[0]->integer, 3);
  EXPECT_EQ((*replies)[1]->integer, 13);  // run after the reload
  // The GET ran in the first round, before the script's retry: its answer stays.
  EXPECT_EQ(ReplyString(*(*replies)[2]), "3");
  EXPECT_EQ(client->stats().script_loads, 1u);

  // A script the client was never given: NOSCRIPT is the caller's reply, not a retry.
  const std::string unknown(40, 'a');
  reply = client->Command(slot, {"EVALSHA", unknown, "1", key});
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_TRUE(ReplyString(**reply).starts_with("NOSCRIPT"));
  EXPECT_EQ(client->stats().script_loads, 1u);
}

}  // namespace
}  // namespace alliance
