// RedisConnection against a real redis-server: commands, pipelining, error replies, and
// UNAVAILABLE (not a hang) when the server is gone.
#include "common/redis_connection.h"

#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/support/redis_server.h"

namespace alliance {
namespace {

class RedisConnectionTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(redis_.Start().ok()); }
  testing::RedisServer redis_;
};

TEST_F(RedisConnectionTest, CommandAndPipeline) {
  auto conn = RedisConnection::Connect(redis_.endpoint());
  ASSERT_TRUE(conn.ok()) << conn.status();
  auto set = (*conn)->Command({"SET", "k", std::string_view("a\0b", 3)});
  ASSERT_TRUE(set.ok());
  EXPECT_EQ(ReplyString(**set), "OK");

  for (int i = 0; i < 100; ++i) (*conn)->Append({"INCR", "counter"});
  long long last = 0;
  for (int i = 0; i < 100; ++i) {
    auto reply = (*conn)->GetReply();
    ASSERT_TRUE(reply.ok());
    last = (*reply)->integer;
  }
  EXPECT_EQ(last, 100);

  auto get = (*conn)->Command({"GET", "k"});
  ASSERT_TRUE(get.ok());
  EXPECT_EQ(ReplyString(**get), std::string_view("a\0b", 3));
}

TEST_F(RedisConnectionTest, ErrorReplyIsAReplyNotABrokenConnection) {
  auto conn = RedisConnection::Connect(redis_.endpoint());
  ASSERT_TRUE(conn.ok());
  auto reply = (*conn)->Command({"NOSUCHCOMMAND"});
  ASSERT_TRUE(reply.ok());
  EXPECT_EQ(ReplyStatus(**reply).code(), absl::StatusCode::kInternal);
  EXPECT_FALSE((*conn)->broken());
}

TEST_F(RedisConnectionTest, ServerGoneIsUnavailableQuickly) {
  RedisEndpoint endpoint = redis_.endpoint();
  endpoint.command_timeout = absl::Milliseconds(500);
  auto conn = RedisConnection::Connect(endpoint);
  ASSERT_TRUE(conn.ok());
  redis_.Kill();
  auto reply = (*conn)->Command({"PING"});
  EXPECT_EQ(reply.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE((*conn)->broken());
  auto again = RedisConnection::Connect(endpoint);
  EXPECT_EQ(again.status().code(), absl::StatusCode::kUnavailable);
}

TEST_F(RedisConnectionTest, AuthFailureIsUnauthenticated) {
  auto conn = RedisConnection::Connect(redis_.endpoint());
  ASSERT_TRUE(conn.ok());
  ASSERT_TRUE((*conn)->Command({"CONFIG", "SET", "requirepass", "s3cret"}).ok());
  RedisEndpoint wrong = redis_.endpoint();
  wrong.password = "nope";
  EXPECT_EQ(RedisConnection::Connect(wrong).status().code(), absl::StatusCode::kUnauthenticated);
  RedisEndpoint right = redis_.endpoint();
  right.password = "s3cret";
  auto ok = RedisConnection::Connect(right);
  ASSERT_TRUE(ok.ok()) << ok.status();
  auto ping = (*ok)->Command({"PING"});
  ASSERT_TRUE(ping.ok());
  EXPECT_EQ(ReplyString(**ping), "PONG");
}

}  // namespace
}  // namespace alliance
