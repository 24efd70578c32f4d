// The dead-letter script against a real redis-server: it parks an entry only while the entry
// is still pending, so an entry in hand twice (a redelivery while a slow first attempt was
// still failing) is never parked twice, and a worker that lost its lease writes nothing.
#include <gtest/gtest.h>

#include <string>

#include "store/keys.h"
#include "store/lua_scripts.h"
#include "store/redis_connection.h"
#include "tests/support/redis_server.h"

namespace alliance::worker {
namespace {

class DeadLetterScriptTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(server_.Start().ok());
    auto redis = RedisConnection::Connect(server_.endpoint());
    ASSERT_TRUE(redis.ok()) << redis.status();
    redis_ = *std::move(redis);
    ASSERT_TRUE(scripts_.Load(*redis_).ok());
    feedback_ = layout_.FeedbackStream(0);
    dead_ = layout_.DeadLetterStream(0);
    lease_ = layout_.Lease(0);
    ASSERT_TRUE(redis_->Command({"SET", lease_, "me"}).ok());
    ASSERT_TRUE(
        redis_->Command({"XGROUP", "CREATE", feedback_, kWorkerGroup, "0", "MKSTREAM"}).ok());
    auto added = redis_->Command({"XADD", feedback_, "*", "v", "1", "entry", "poison"});
    ASSERT_TRUE(added.ok());
    id_ = std::string(ReplyString(**added));
    // Delivered to this consumer: pending until acknowledged.
    ASSERT_TRUE(redis_
                    ->Command({"XREADGROUP", "GROUP", kWorkerGroup, "me", "COUNT", "10", "STREAMS",
                               feedback_, ">"})
                    .ok());
  }

  long long Park(const std::string& owner) {
    scripts_.Append(*redis_, Script::kDeadLetter, {lease_, dead_, feedback_},
                    {owner, kWorkerGroup, id_, "unknown instrument", "3", "entry", "poison"});
    auto reply = redis_->GetReply();
    EXPECT_TRUE(reply.ok()) << reply.status();
    if (!reply.ok()) return -100;
    EXPECT_EQ((*reply)->type, REDIS_REPLY_INTEGER) << ReplyString(**reply);
    return (*reply)->integer;
  }

  long long Count(const std::string& command, const std::string& key) {
    auto reply = redis_->Command({command, key});
    return reply.ok() ? (*reply)->integer : -1;
  }

  testing::RedisServer server_;
  std::unique_ptr<RedisConnection> redis_;
  KeyLayout layout_{1};
  ScriptShas scripts_;
  std::string feedback_, dead_, lease_, id_;
};

TEST_F(DeadLetterScriptTest, ParksAPendingEntryOnceAndAcknowledgesIt) {
  EXPECT_EQ(Park("me"), 1);
  EXPECT_EQ(Count("XLEN", dead_), 1);
  auto pending = redis_->Command({"XPENDING", feedback_, kWorkerGroup});
  ASSERT_TRUE(pending.ok());
  EXPECT_EQ((*pending)->element[0]->integer, 0);

  // The same entry again, as after a redelivery: nothing more is parked.
  EXPECT_EQ(Park("me"), 0);
  EXPECT_EQ(Count("XLEN", dead_), 1);
}

TEST_F(DeadLetterScriptTest, AWorkerWithoutTheLeaseWritesNothing) {
  EXPECT_EQ(Park("someone-else"), -1);
  EXPECT_EQ(Count("XLEN", dead_), 0);
  auto pending = redis_->Command({"XPENDING", feedback_, kWorkerGroup});
  ASSERT_TRUE(pending.ok());
  EXPECT_EQ((*pending)->element[0]->integer, 1);
}

}  // namespace
}  // namespace alliance::worker
