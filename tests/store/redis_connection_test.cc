// RedisConnection against a real redis-server: commands, pipelining, error replies, and
// UNAVAILABLE (not a hang) when the server is gone.
#include "store/redis_connection.h"

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

TEST_F(RedisConnectionTest, GetRepliesReadsEveryReplyPastAnErrorReply) {
  auto conn = RedisConnection::Connect(redis_.endpoint());
  ASSERT_TRUE(conn.ok());
  ASSERT_TRUE((*conn)->Command({"SET", "text", "x"}).ok());
  (*conn)->Append({"INCR", "n"});
  (*conn)->Append({"XRANGE", "text", "-", "+"});  // WRONGTYPE in the middle of the pipeline
  (*conn)->Append({"INCR", "n"});
  EXPECT_EQ((*conn)->pending_replies(), 3u);
  auto replies = (*conn)->GetReplies(3);
  ASSERT_TRUE(replies.ok()) << replies.status();
  ASSERT_EQ(replies->size(), 3u);
  EXPECT_EQ((*replies)[0]->integer, 1);
  EXPECT_EQ(ReplyStatus(*(*replies)[1]).code(), absl::StatusCode::kInternal);
  EXPECT_EQ((*replies)[2]->integer, 2);
  EXPECT_EQ((*conn)->pending_replies(), 0u);
  // Asking for more replies than were queued reads nothing instead of waiting for a stray one.
  EXPECT_EQ((*conn)->GetReplies(1).status().code(), absl::StatusCode::kInternal);
  EXPECT_EQ((*conn)->GetReply().status().code(), absl::StatusCode::kInternal);
  EXPECT_FALSE((*conn)->broken());
}

TEST_F(RedisConnectionTest, UnreadRepliesAreNeverTakenForTheNextCommands) {
  auto conn = RedisConnection::Connect(redis_.endpoint());
  ASSERT_TRUE(conn.ok());
  ASSERT_TRUE((*conn)->Command({"SET", "mine", "other tenant's value"}).ok());
  ASSERT_TRUE((*conn)->Command({"SET", "yours", "your value"}).ok());
  // A caller stops after the first of three replies (as if it met an error reply).
  (*conn)->Append({"GET", "nosuchkey"});
  (*conn)->Append({"GET", "mine"});
  (*conn)->Append({"GET", "mine"});
  ASSERT_TRUE((*conn)->GetReply().ok());
  // A plain command now would read "other tenant's value": it is refused unsent instead.
  auto refused = (*conn)->Command({"GET", "yours"});
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInternal);
  EXPECT_EQ((*conn)->pending_replies(), 2u);
  auto dropped = (*conn)->DiscardPendingReplies();
  ASSERT_TRUE(dropped.ok());
  EXPECT_EQ(*dropped, 2u);
  auto reply = (*conn)->Command({"GET", "yours"});
  ASSERT_TRUE(reply.ok());
  EXPECT_EQ(ReplyString(**reply), "your value");
  EXPECT_EQ((*conn)->pending_replies(), 0u);
}

TEST_F(RedisConnectionTest, EncodedAndFormattedCommandsAreCountedToo) {
  auto conn = RedisConnection::Connect(redis_.endpoint());
  ASSERT_TRUE(conn.ok());
  (*conn)->AppendFormatted("*1\r\n$4\r\nPING\r\n");
  (*conn)->AppendEncoded("*2\r\n$4\r\nECHO\r\n$2\r\nhi\r\n");
  EXPECT_EQ((*conn)->pending_replies(), 2u);
  auto replies = (*conn)->GetReplies(2);
  ASSERT_TRUE(replies.ok());
  EXPECT_EQ(ReplyString(*(*replies)[0]), "PONG");
  EXPECT_EQ(ReplyString(*(*replies)[1]), "hi");
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
