// The consumer-retiring script against a real redis-server: it removes only other workers'
// consumers that hold no pending entry and were idle long enough (removing one drops its
// pending entries, which would then never be processed), at most `limit` per call, and nothing
// at all for a worker that lost the partition's lease.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "absl/time/clock.h"
#include "store/keys.h"
#include "store/lua_scripts.h"
#include "store/redis_connection.h"
#include "tests/support/redis_server.h"
#include "tests/worker/worker_fixture.h"

namespace alliance::worker {
namespace {

class RetireConsumersScriptTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(server_.Start().ok());
    auto redis = RedisConnection::Connect(server_.endpoint());
    ASSERT_TRUE(redis.ok()) << redis.status();
    redis_ = *std::move(redis);
    ASSERT_TRUE(scripts_.Load(*redis_).ok());
    feedback_ = layout_.FeedbackStream(0);
    lease_ = layout_.Lease(0);
    ASSERT_TRUE(redis_->Command({"SET", lease_, "me"}).ok());
    ASSERT_TRUE(
        redis_->Command({"XGROUP", "CREATE", feedback_, kWorkerGroup, "0", "MKSTREAM"}).ok());
    for (const char* name : {"me", "gone-1", "gone-2"}) Create(name);
    // gone-busy took delivery of an entry and died before acknowledging it.
    ASSERT_TRUE(redis_->Command({"XADD", feedback_, "*", "v", "1", "entry", "x"}).ok());
    auto read = redis_->Command({"XREADGROUP", "GROUP", kWorkerGroup, "gone-busy", "COUNT", "10",
                                 "STREAMS", feedback_, ">"});
    ASSERT_TRUE(read.ok());
    ASSERT_EQ(Consumers().count("gone-busy"), 1u);
    // Every consumer idle for at least a few milliseconds.
    absl::SleepFor(absl::Milliseconds(20));
  }

  void Create(const std::string& name) {
    auto created = redis_->Command({"XGROUP", "CREATECONSUMER", feedback_, kWorkerGroup, name});
    ASSERT_TRUE(created.ok()) << created.status();
    ASSERT_EQ((*created)->integer, 1) << name;
  }

  long long Retire(const std::string& me, const std::string& idle_ms, const std::string& limit) {
    scripts_.Append(*redis_, Script::kRetireConsumers, {lease_, feedback_},
                    {me, kWorkerGroup, idle_ms, limit});
    auto reply = redis_->GetReply();
    EXPECT_TRUE(reply.ok()) << reply.status();
    if (!reply.ok()) return -100;
    EXPECT_EQ((*reply)->type, REDIS_REPLY_INTEGER) << ReplyString(**reply);
    return (*reply)->integer;
  }

  std::set<std::string> Consumers() {
    absl::StatusOr<std::set<std::string>> names = testing::ConsumerNames(*redis_, feedback_);
    EXPECT_TRUE(names.ok()) << names.status();
    return names.ok() ? *names : std::set<std::string>{};
  }

  testing::RedisServer server_;
  std::unique_ptr<RedisConnection> redis_;
  KeyLayout layout_{1};
  ScriptShas scripts_;
  std::string feedback_, lease_;
};

TEST_F(RetireConsumersScriptTest, RemovesIdleConsumersThatHoldNothing) {
  EXPECT_EQ(Retire("me", "5", "100"), 2);
  EXPECT_EQ(Consumers(), (std::set<std::string>{"me", "gone-busy"}));
}

TEST_F(RetireConsumersScriptTest, KeepsAConsumerUntilItsEntriesAreTakenOver) {
  ASSERT_EQ(Retire("me", "5", "100"), 2);
  auto pending = redis_->Command({"XPENDING", feedback_, kWorkerGroup, "-", "+", "10"});
  ASSERT_TRUE(pending.ok());
  ASSERT_EQ((*pending)->elements, 1u);
  std::string id(ReplyString(*(*pending)->element[0]->element[0]));
  ASSERT_TRUE(redis_->Command({"XCLAIM", feedback_, kWorkerGroup, "me", "0", id}).ok());
  absl::SleepFor(absl::Milliseconds(10));
  EXPECT_EQ(Retire("me", "5", "100"), 1);
  EXPECT_EQ(Consumers(), (std::set<std::string>{"me"}));
  // The entry stays pending, now with "me".
  auto after = redis_->Command({"XPENDING", feedback_, kWorkerGroup});
  ASSERT_TRUE(after.ok());
  EXPECT_EQ((*after)->element[0]->integer, 1);
}

TEST_F(RetireConsumersScriptTest, KeepsConsumersIdleForLessThanTheThreshold) {
  EXPECT_EQ(Retire("me", "3600000", "100"), 0);
  EXPECT_EQ(Consumers(), (std::set<std::string>{"me", "gone-1", "gone-2", "gone-busy"}));
}

TEST_F(RetireConsumersScriptTest, RemovesAtMostTheLimitPerCall) {
  for (const char* name : {"gone-3", "gone-4", "gone-5"}) Create(name);
  absl::SleepFor(absl::Milliseconds(10));
  EXPECT_EQ(Retire("me", "5", "2"), 2);
  EXPECT_EQ(Consumers().size(), 5u);  // me, gone-busy and three of the five idle ones
  EXPECT_EQ(Retire("me", "5", "2"), 2);
  EXPECT_EQ(Retire("me", "5", "2"), 1);
  EXPECT_EQ(Consumers(), (std::set<std::string>{"me", "gone-busy"}));
}

TEST_F(RetireConsumersScriptTest, AWorkerWithoutTheLeaseRemovesNothing) {
  EXPECT_EQ(Retire("someone-else", "5", "100"), -1);
  EXPECT_EQ(Consumers().size(), 4u);
}

}  // namespace
}  // namespace alliance::worker
