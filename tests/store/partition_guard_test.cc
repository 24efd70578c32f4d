// The partition count guard against a real redis-server, and the three deployables started
// with a count other than the one their Redis was created with: each refuses to start, saying
// which count to use.
#include "store/partition_guard.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/support/child_process.h"
#include "tests/support/redis_test.h"

namespace alliance {
namespace {

using PartitionGuardTest = testing::RedisTest;

TEST_F(PartitionGuardTest, TheFirstCountIsRecordedAndAnotherIsRefused) {
  ASSERT_TRUE(CheckPartitionCount(*redis_, KeyLayout(8)).ok());
  EXPECT_TRUE(CheckPartitionCount(*redis_, KeyLayout(8)).ok());
  absl::Status other = CheckPartitionCount(*redis_, KeyLayout(16));
  EXPECT_EQ(other.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(absl::StrContains(other.message(), "created with 8 partitions")) << other;
  EXPECT_TRUE(absl::StrContains(other.message(), "--partitions=16")) << other;
  EXPECT_EQ(redis_->pending_replies(), 0u);
  // The recorded count did not move.
  auto value = redis_->Command({"GET", KeyLayout(8).PartitionCount()});
  ASSERT_TRUE(value.ok());
  EXPECT_EQ(ReplyString(**value), "8");
}

TEST_F(PartitionGuardTest, SomethingElseUnderTheKeyIsAnErrorNotACount) {
  const std::string key = KeyLayout(8).PartitionCount();
  ASSERT_TRUE(redis_->Command({"SET", key, "eight"}).ok());
  EXPECT_EQ(CheckPartitionCount(*redis_, KeyLayout(8)).code(), absl::StatusCode::kInternal);
  ASSERT_TRUE(redis_->Command({"DEL", key}).ok());
  ASSERT_TRUE(redis_->Command({"LPUSH", key, "8"}).ok());  // SET NX and GET answer errors
  EXPECT_FALSE(CheckPartitionCount(*redis_, KeyLayout(8)).ok());
  EXPECT_EQ(redis_->pending_replies(), 0u);  // both replies read despite the errors
}

TEST_F(PartitionGuardTest, AnUnreachableRedisDoesNotStopAStart) {
  RedisTarget nowhere;
  nowhere.single = server_.endpoint();
  nowhere.single.port = testing::FreePort();
  nowhere.single.connect_timeout = absl::Milliseconds(200);
  EXPECT_TRUE(CheckPartitionCountAtStart(nowhere, KeyLayout(4)).ok());
}

TEST_F(PartitionGuardTest, EveryDeployableRefusesToStartWithAnotherCount) {
  ASSERT_TRUE(CheckPartitionCount(*redis_, KeyLayout(8)).ok());
  for (std::string binary : {"alliance-intake", "alliance-worker", "alliance-insights"}) {
    testing::ChildProcess process;
    const std::string log = absl::StrCat(server_.dir(), "/", binary, ".log");
    std::vector<std::string> args = {absl::StrCat("--redis_port=", server_.port()),
                                     "--partitions=4", "--health_port=0", "--metrics_port=0"};
    if (binary != "alliance-worker") args.push_back("--grpc_port=0");
    ASSERT_TRUE(process.Start(testing::BinaryPath(binary), args, log).ok());
    std::optional<int> code = process.Wait(absl::Seconds(20));
    ASSERT_TRUE(code.has_value()) << binary << " did not exit: " << process.ReadLog();
    EXPECT_NE(*code, 0) << binary;
    const std::string output = process.ReadLog();
    EXPECT_TRUE(absl::StrContains(output, "created with 8 partitions")) << binary << output;
    EXPECT_TRUE(absl::StrContains(output, "--partitions=8")) << binary << output;
  }
}

}  // namespace
}  // namespace alliance
