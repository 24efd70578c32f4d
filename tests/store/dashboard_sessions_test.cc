// Dashboard sessions in Redis (store/dashboard_sessions.h) against a real redis-server and a
// real Redis Cluster: the written hash and its absolute TTL, reads (unknown, expired by either
// clock, of the wrong type or shape), deletes, and tokens from the CSPRNG.
#include "store/dashboard_sessions.h"

#include <set>
#include <string>

#include "absl/time/clock.h"
#include "common/auth.h"
#include "gtest/gtest.h"
#include "store/cluster_client.h"
#include "store/redis_executor.h"
#include "tests/support/redis_cluster.h"
#include "tests/support/redis_test.h"

namespace alliance::testing {
namespace {

DashboardSession Session(absl::Time now, absl::Duration ttl) {
  DashboardSession s;
  s.key_sha256 = HashApiKey("the-api-key");
  s.key_id = "k1";
  s.tenant = "clinic-a";
  s.csrf_token = std::string(64, 'c');
  s.created = now;
  s.expires = now + ttl;
  return s;
}

class DashboardSessionsTest : public RedisTest {
 protected:
  KeyLayout layout_{4};
};

TEST_F(DashboardSessionsTest, TokensAreRandomHexOfTheirForm) {
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    absl::StatusOr<std::string> token = NewSessionToken();
    ASSERT_TRUE(token.ok());
    EXPECT_TRUE(IsSessionTokenForm(*token)) << *token;
    seen.insert(*token);
  }
  EXPECT_EQ(seen.size(), 100u);
  EXPECT_FALSE(IsSessionTokenForm(std::string(63, 'a')));
  EXPECT_FALSE(IsSessionTokenForm(std::string(64, 'A')));
  EXPECT_FALSE(IsSessionTokenForm(std::string(64, 'g')));
}

TEST_F(DashboardSessionsTest, WrittenUnderTheTokensHashWithAnAbsoluteTtlAndReadBack) {
  ConnectionExecutor redis(*redis_);
  const std::string token = *NewSessionToken();
  const absl::Time now = absl::FromUnixMillis(absl::ToUnixMillis(absl::Now()));
  ASSERT_TRUE(WriteDashboardSession(redis, layout_, token, Session(now, absl::Hours(8))).ok());
  const std::string key = "alliance:session:" + HashApiKey(token);
  EXPECT_EQ(layout_.DashboardSession(HashApiKey(token)), key);
  auto ttl = redis_->Command({"PTTL", key});
  ASSERT_TRUE(ttl.ok());
  EXPECT_GT((*ttl)->integer, 7 * 3600 * 1000);
  EXPECT_LE((*ttl)->integer, 8 * 3600 * 1000);
  auto token_key = redis_->Command({"EXISTS", "alliance:session:" + token});
  EXPECT_EQ((*token_key)->integer, 0);

  absl::StatusOr<DashboardSession> read = ReadDashboardSession(redis, layout_, token, now);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->key_sha256, HashApiKey("the-api-key"));
  EXPECT_EQ(read->key_id, "k1");
  EXPECT_EQ(read->tenant, "clinic-a");
  EXPECT_EQ(read->csrf_token, std::string(64, 'c'));
  EXPECT_EQ(read->created, now);
  EXPECT_EQ(read->expires, now + absl::Hours(8));
  // Past its expiry time by this clock: gone, whatever Redis's TTL says.
  EXPECT_EQ(ReadDashboardSession(redis, layout_, token, now + absl::Hours(8)).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(ReadDashboardSession(redis, layout_, *NewSessionToken(), now).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(ReadDashboardSession(redis, layout_, "not-a-token", now).status().code(),
            absl::StatusCode::kNotFound);

  absl::StatusOr<bool> deleted = DeleteDashboardSession(redis, layout_, token);
  ASSERT_TRUE(deleted.ok());
  EXPECT_TRUE(*deleted);
  EXPECT_FALSE(*DeleteDashboardSession(redis, layout_, token));
  EXPECT_EQ(ReadDashboardSession(redis, layout_, token, now).status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(DashboardSessionsTest, RedisExpiresTheKey) {
  ConnectionExecutor redis(*redis_);
  const std::string token = *NewSessionToken();
  ASSERT_TRUE(
      WriteDashboardSession(redis, layout_, token, Session(absl::Now(), absl::Milliseconds(50)))
          .ok());
  const std::string key = layout_.DashboardSession(HashApiKey(token));
  int64_t exists = 1;
  for (int i = 0; i < 200 && exists != 0; ++i) {
    absl::SleepFor(absl::Milliseconds(10));
    exists = (*redis_->Command({"EXISTS", key}))->integer;
  }
  EXPECT_EQ(exists, 0);
}

TEST_F(DashboardSessionsTest, BadWritesAndBadHashesAreErrors) {
  ConnectionExecutor redis(*redis_);
  const absl::Time now = absl::Now();
  EXPECT_EQ(WriteDashboardSession(redis, layout_, "short", Session(now, absl::Hours(1))).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      WriteDashboardSession(redis, layout_, *NewSessionToken(), Session(now, absl::ZeroDuration()))
          .code(),
      absl::StatusCode::kInvalidArgument);
  // A key of another type, a hash lacking fields, a time that is not a number: INTERNAL.
  const std::string wrong_type = *NewSessionToken();
  ASSERT_TRUE(redis_->Command({"SET", layout_.DashboardSession(HashApiKey(wrong_type)), "x"}).ok());
  EXPECT_EQ(ReadDashboardSession(redis, layout_, wrong_type, now).status().code(),
            absl::StatusCode::kInternal);
  const std::string partial = *NewSessionToken();
  ASSERT_TRUE(
      redis_->Command({"HSET", layout_.DashboardSession(HashApiKey(partial)), "key_id", "k"}).ok());
  EXPECT_EQ(ReadDashboardSession(redis, layout_, partial, now).status().code(),
            absl::StatusCode::kInternal);
  const std::string bad_time = *NewSessionToken();
  ASSERT_TRUE(WriteDashboardSession(redis, layout_, bad_time, Session(now, absl::Hours(1))).ok());
  ASSERT_TRUE(
      redis_
          ->Command({"HSET", layout_.DashboardSession(HashApiKey(bad_time)), "expires_ms", "soon"})
          .ok());
  EXPECT_EQ(ReadDashboardSession(redis, layout_, bad_time, now).status().code(),
            absl::StatusCode::kInternal);
  // Deleting a token not of the token's form deletes nothing.
  EXPECT_EQ(DeleteDashboardSession(redis, layout_, "short").value_or(true), false);
}

// On a Redis Cluster each session is one key in its own slot: sessions land on several
// primaries and are written, read and deleted there.
TEST(DashboardSessionsClusterTest, SessionsOnEveryPrimary) {
  RedisCluster cluster({.primaries = 3, .replicas_per_primary = 0, .node_timeout_ms = 1000});
  absl::Status started = cluster.Start();
  ASSERT_TRUE(started.ok()) << started;
  ClusterOptions options;
  options.seeds = cluster.Seeds();
  auto client = ClusterClient::Connect(options);
  ASSERT_TRUE(client.ok()) << client.status();
  ClusterExecutor redis(**client);
  KeyLayout layout(4);
  const absl::Time now = absl::Now();
  std::set<int> primaries;
  std::vector<std::string> tokens;
  for (int i = 0; i < 12; ++i) {
    tokens.push_back(*NewSessionToken());
    const std::string key = layout.DashboardSession(HashApiKey(tokens.back()));
    absl::StatusOr<int> primary = cluster.PrimaryOf(redis.SlotOf(key));
    ASSERT_TRUE(primary.ok());
    primaries.insert(*primary);
    absl::Status written =
        WriteDashboardSession(redis, layout, tokens.back(), Session(now, absl::Hours(1)));
    ASSERT_TRUE(written.ok()) << written;
  }
  EXPECT_GE(primaries.size(), 2u);
  for (const std::string& token : tokens) {
    absl::StatusOr<DashboardSession> read = ReadDashboardSession(redis, layout, token, now);
    ASSERT_TRUE(read.ok()) << read.status();
    EXPECT_EQ(read->tenant, "clinic-a");
    absl::StatusOr<bool> deleted = DeleteDashboardSession(redis, layout, token);
    ASSERT_TRUE(deleted.ok());
    EXPECT_TRUE(*deleted);
    EXPECT_EQ(ReadDashboardSession(redis, layout, token, now).status().code(),
              absl::StatusCode::kNotFound);
  }
}

}  // namespace
}  // namespace alliance::testing
