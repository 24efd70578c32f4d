// ClusterClient against nodes that answer nonsense (tests/store/fake_redis_node.h): redirection
// loops, malformed redirections, garbage slot maps, endless TRYAGAIN and silence all end in a
// clear UNAVAILABLE within the client's bounds, never a crash or a hang.
#include <atomic>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "store/cluster_client.h"
#include "tests/store/fake_redis_node.h"

namespace alliance {
namespace {

using testing::FakeRedisNode;

bool IsClusterSlots(const std::vector<std::string>& args) {
  return args.size() == 2 && args[0] == "CLUSTER" && args[1] == "SLOTS";
}

ClusterOptions OptionsFor(int port) {
  ClusterOptions options;
  options.seeds = {absl::StrCat("127.0.0.1:", port)};
  options.command_timeout = absl::Milliseconds(300);
  options.retry_backoff = absl::Milliseconds(5);
  options.max_backoff = absl::Milliseconds(20);
  return options;
}

TEST(ClusterBoundsTest, RedirectionLoopEndsAtTheRedirectLimit) {
  std::atomic<int> port{0};  // set once the node listens, read by its thread
  FakeRedisNode node([&](const std::vector<std::string>& args) -> std::string {
    if (IsClusterSlots(args)) return FakeRedisNode::WholeMapReply(port);
    return absl::StrCat("-MOVED 1 127.0.0.1:", port.load(), "\r\n");  // always itself
  });
  port = node.port();
  ClusterOptions options = OptionsFor(port);
  options.max_redirects = 7;
  absl::StatusOr<std::unique_ptr<ClusterClient>> client = ClusterClient::Connect(options);
  ASSERT_TRUE(client.ok()) << client.status();
  absl::StatusOr<RedisReplyPtr> reply = (*client)->Command(1, {"GET", "k"});
  ASSERT_FALSE(reply.ok());
  EXPECT_EQ(reply.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(reply.status().message().find("more than 7 redirections"), std::string::npos)
      << reply.status();
  EXPECT_NE(reply.status().message().find("MOVED 1 127.0.0.1:"), std::string::npos);
  EXPECT_EQ((*client)->stats().moved, 7u);
  EXPECT_EQ((*client)->stats().unavailable, 1u);
  // The pipelined form too, and the client still answers afterwards (in step).
  std::vector<CommandArgs> commands = {{"GET", "a"}, {"GET", "b"}, {"GET", "c"}};
  absl::StatusOr<std::vector<RedisReplyPtr>> replies = (*client)->Exchange(1, commands);
  EXPECT_EQ(replies.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ((*client)->stats().moved, 14u);
}

TEST(ClusterBoundsTest, AskLoopEndsAtTheRedirectLimit) {
  std::atomic<int> port{0};  // set once the node listens, read by its thread
  FakeRedisNode node([&](const std::vector<std::string>& args) -> std::string {
    if (IsClusterSlots(args)) return FakeRedisNode::WholeMapReply(port);
    if (args[0] == "ASKING") return "+OK\r\n";
    return absl::StrCat("-ASK 5 127.0.0.1:", port.load(), "\r\n");
  });
  port = node.port();
  absl::StatusOr<std::unique_ptr<ClusterClient>> client = ClusterClient::Connect(OptionsFor(port));
  ASSERT_TRUE(client.ok()) << client.status();
  absl::StatusOr<RedisReplyPtr> reply = (*client)->Command(5, {"GET", "k"});
  EXPECT_EQ(reply.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(reply.status().message().find("redirections"), std::string::npos) << reply.status();
  EXPECT_EQ((*client)->stats().ask, 16u);  // the default max_redirects
}

TEST(ClusterBoundsTest, MalformedRedirectionIsAClearError) {
  std::atomic<int> port{0};  // set once the node listens, read by its thread
  FakeRedisNode node([&](const std::vector<std::string>& args) -> std::string {
    if (IsClusterSlots(args)) return FakeRedisNode::WholeMapReply(port);
    if (args[0] == "GET") return "-MOVED banana\r\n";
    return "-MOVED 3999 127.0.0.1:0\r\n";
  });
  port = node.port();
  absl::StatusOr<std::unique_ptr<ClusterClient>> client = ClusterClient::Connect(OptionsFor(port));
  ASSERT_TRUE(client.ok()) << client.status();
  absl::StatusOr<RedisReplyPtr> reply = (*client)->Command(3999, {"GET", "k"});
  EXPECT_EQ(reply.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(reply.status().message().find("malformed redirection 'MOVED banana'"),
            std::string::npos)
      << reply.status();
  reply = (*client)->Command(3999, {"SET", "k", "v"});
  EXPECT_EQ(reply.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(reply.status().message().find("1..65535"), std::string::npos) << reply.status();
  EXPECT_EQ((*client)->stats().moved, 0u);  // nothing was followed
}

TEST(ClusterBoundsTest, GarbageSlotMapsAreRefusedWithTheReason) {
  const struct {
    std::string reply;
    std::string reason;
  } cases[] = {
      {"*1\r\n*3\r\n:0\r\n:99999\r\n*2\r\n$9\r\n127.0.0.1\r\n:7000\r\n", "0..16383"},
      {"*1\r\n*2\r\n:0\r\n:16383\r\n", "at least one node"},
      {"*1\r\n*3\r\n:0\r\n:16383\r\n*2\r\n$9\r\n127.0.0.1\r\n:70000\r\n", "1..65535"},
      {"*1\r\n*3\r\n:0\r\n:16383\r\n*2\r\n:1\r\n:7000\r\n", "host is not a string"},
      {"+OK\r\n", "not an array"},
      {"-ERR This instance has cluster support disabled\r\n", "cluster support disabled"},
      {"*0\r\n", "serves no slot"},
  };
  std::atomic<size_t> which{0};
  FakeRedisNode node([&](const std::vector<std::string>&) { return cases[which].reply; });
  for (const auto& c : cases) {
    absl::StatusOr<std::unique_ptr<ClusterClient>> client =
        ClusterClient::Connect(OptionsFor(node.port()));
    ASSERT_FALSE(client.ok()) << c.reply;
    EXPECT_EQ(client.status().code(), absl::StatusCode::kUnavailable);
    EXPECT_NE(client.status().message().find(c.reason), std::string::npos) << client.status();
    EXPECT_NE(client.status().message().find(absl::StrCat("127.0.0.1:", node.port())),
              std::string::npos)
        << client.status();
    ++which;
  }
}

TEST(ClusterBoundsTest, EndlessTryAgainEndsAfterTheRetries) {
  std::atomic<int> port{0};  // set once the node listens, read by its thread
  FakeRedisNode node([&](const std::vector<std::string>& args) -> std::string {
    if (IsClusterSlots(args)) return FakeRedisNode::WholeMapReply(port);
    return "-TRYAGAIN Multiple keys request during rehashing of slot\r\n";
  });
  port = node.port();
  ClusterOptions options = OptionsFor(port);
  options.max_retries = 3;
  absl::StatusOr<std::unique_ptr<ClusterClient>> client = ClusterClient::Connect(options);
  ASSERT_TRUE(client.ok()) << client.status();
  const int before = node.commands();
  absl::StatusOr<RedisReplyPtr> reply = (*client)->Command(7, {"MGET", "a", "b"});
  EXPECT_EQ(reply.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(reply.status().message().find("TRYAGAIN"), std::string::npos) << reply.status();
  EXPECT_EQ((*client)->stats().tryagain, 4u);  // the first answer and three retries
  EXPECT_EQ(node.commands() - before, 4);
}

TEST(ClusterBoundsTest, SilentNodeEndsInUnavailableAfterTimeoutsAndRefreshes) {
  std::atomic<int> port{0};  // set once the node listens, read by its thread
  FakeRedisNode node([&](const std::vector<std::string>& args) -> std::string {
    if (IsClusterSlots(args)) return FakeRedisNode::WholeMapReply(port);
    return "";  // never answers
  });
  port = node.port();
  ClusterOptions options = OptionsFor(port);
  options.max_retries = 2;
  absl::StatusOr<std::unique_ptr<ClusterClient>> client = ClusterClient::Connect(options);
  ASSERT_TRUE(client.ok()) << client.status();
  const uint64_t refreshes = (*client)->stats().refreshes;
  absl::StatusOr<RedisReplyPtr> reply = (*client)->Command(9, {"GET", "k"});
  EXPECT_EQ(reply.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ((*client)->stats().transport_errors, 3u);  // the first read and two retries
  EXPECT_EQ((*client)->stats().refreshes, refreshes + 3);
}

TEST(ClusterBoundsTest, NoResendAfterATransportErrorWhenAskedSo) {
  std::atomic<int> port{0};  // set once the node listens, read by its thread
  FakeRedisNode node([&](const std::vector<std::string>& args) -> std::string {
    if (IsClusterSlots(args)) return FakeRedisNode::WholeMapReply(port);
    return "";
  });
  port = node.port();
  ClusterOptions options = OptionsFor(port);
  options.resend_after_transport_error = false;
  absl::StatusOr<std::unique_ptr<ClusterClient>> client = ClusterClient::Connect(options);
  ASSERT_TRUE(client.ok()) << client.status();
  const int before = node.commands();
  absl::StatusOr<RedisReplyPtr> reply = (*client)->Command(9, {"INCR", "k"});
  EXPECT_EQ(reply.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(reply.status().message().find("may have run"), std::string::npos) << reply.status();
  EXPECT_EQ(node.commands() - before, 2);  // INCR once, then CLUSTER SLOTS of the refresh
}

TEST(ClusterBoundsTest, NoSeedAnswersIsUnavailable) {
  ClusterOptions options;
  int closed_port = 0;
  {
    FakeRedisNode gone([](const std::vector<std::string>&) { return std::string(); });
    closed_port = gone.port();
  }
  options.seeds = {absl::StrCat("127.0.0.1:", closed_port)};
  absl::StatusOr<std::unique_ptr<ClusterClient>> client = ClusterClient::Connect(options);
  EXPECT_EQ(client.status().code(), absl::StatusCode::kUnavailable);
  options.seeds = {"no-port"};
  EXPECT_EQ(ClusterClient::Connect(options).status().code(), absl::StatusCode::kInvalidArgument);
  options.seeds = {};
  EXPECT_EQ(ClusterClient::Connect(options).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace alliance
