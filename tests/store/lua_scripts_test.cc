// Lua scripts: every script file has its contract header, includes expand, every fenced
// script starts with the one lease fence, and every script loads into a real redis-server
// (where the fence then refuses a worker that does not hold the lease).
#include "store/lua_scripts.h"

#include <set>

#include "gtest/gtest.h"
#include "tests/support/redis_test.h"

namespace alliance {
namespace {

bool Contains(std::string_view text, std::string_view part) {
  return text.find(part) != std::string_view::npos;
}

std::vector<Script> AllScripts() {
  std::vector<Script> out;
  for (size_t i = 0; i < kScriptCount; ++i) out.push_back(static_cast<Script>(i));
  return out;
}

std::string_view FileText(std::string_view name) {
  for (const analytics::EmbeddedFile& file : LuaFiles()) {
    if (file.name == name) return file.text;
  }
  return {};
}

TEST(LuaScriptsTest, EveryFileIsAScriptOrAnIncludedPiece) {
  std::set<std::string_view> named;
  for (Script s : AllScripts()) named.insert(ScriptFileName(s));
  EXPECT_EQ(named.size(), kScriptCount) << "two scripts share a file";
  for (const analytics::EmbeddedFile& file : LuaFiles()) {
    if (file.name == "lease_fence.lua" || file.name == "summary_delta.lua") continue;
    EXPECT_TRUE(named.contains(file.name)) << file.name << " has no Script value";
  }
}

TEST(LuaScriptsTest, EveryScriptStatesItsContractInItsHeader) {
  for (Script s : AllScripts()) {
    std::string_view text = FileText(ScriptFileName(s));
    ASSERT_FALSE(text.empty()) << ScriptFileName(s) << " is not embedded";
    EXPECT_TRUE(text.starts_with("--[[")) << ScriptFileName(s);
    std::string_view header = text.substr(0, text.find("]]"));
    EXPECT_TRUE(Contains(header, "KEYS[")) << ScriptFileName(s);
    EXPECT_TRUE(Contains(header, "ARGV[1]")) << ScriptFileName(s);
    EXPECT_TRUE(Contains(header, "Reply:")) << ScriptFileName(s);
  }
}

TEST(LuaScriptsTest, IncludesExpandAndFencedScriptsShareOneFence) {
  const std::string fence(FileText("lease_fence.lua"));
  ASSERT_TRUE(Contains(fence, "redis.call('GET', KEYS[1]) ~= ARGV[1]"));
  int fenced = 0;
  for (Script s : AllScripts()) {
    std::string_view source = ScriptSource(s);
    EXPECT_FALSE(Contains(source, "--@include")) << ScriptFileName(s);
    // The fence is written once: no script carries its own copy of the check.
    bool includes_fence = Contains(FileText(ScriptFileName(s)), "--@include lease_fence");
    if (includes_fence) {
      ++fenced;
      EXPECT_TRUE(Contains(source, fence)) << ScriptFileName(s);
    }
  }
  EXPECT_EQ(fenced, 5);  // read, claim, apply, dead letter, retire consumers
  for (Script s : {Script::kFencedRead, Script::kFencedClaim, Script::kApplyBatch,
                   Script::kDeadLetter, Script::kRetireConsumers}) {
    EXPECT_TRUE(Contains(FileText(ScriptFileName(s)), "--@include lease_fence.lua"))
        << ScriptFileName(s);
  }
}

class LuaScriptsRedisTest : public testing::RedisTest {
 protected:
};

TEST_F(LuaScriptsRedisTest, AllScriptsLoadAndTheFenceRefusesAWorkerWithoutTheLease) {
  ScriptShas shas;
  ASSERT_TRUE(shas.Load(*redis_).ok());
  for (Script s : AllScripts()) EXPECT_EQ(shas.sha(s).size(), 40u) << ScriptFileName(s);
  EXPECT_EQ(redis_->pending_replies(), 0u);

  ASSERT_TRUE(redis_->Command({"SET", "lease", "worker-a"}).ok());
  ASSERT_TRUE(redis_->Command({"XGROUP", "CREATE", "feed", "g", "$", "MKSTREAM"}).ok());
  for (const char* me : {"worker-b", "worker-a"}) {
    shas.Append(*redis_, Script::kFencedClaim, {"lease", "feed"}, {me, "g", "0", "0-0", "10"});
    auto reply = redis_->GetReply();
    ASSERT_TRUE(reply.ok()) << reply.status();
    if (std::string_view(me) == "worker-b") {
      ASSERT_EQ((*reply)->type, REDIS_REPLY_INTEGER);
      EXPECT_EQ((*reply)->integer, -1);
    } else {
      EXPECT_EQ((*reply)->type, REDIS_REPLY_ARRAY) << ReplyString(**reply);
    }
  }
}

TEST_F(LuaScriptsRedisTest, AFailedLoadLeavesTheConnectionInStep) {
  // Scripting refused for this connection's user: every SCRIPT LOAD answers an error, and the
  // loader still reads every reply.
  ASSERT_TRUE(
      redis_->Command({"ACL", "SETUSER", "noscript", "on", "nopass", "~*", "+@all", "-script"})
          .ok());
  ASSERT_TRUE(redis_->Command({"AUTH", "noscript", "x"}).ok());
  ScriptShas shas;
  EXPECT_FALSE(shas.Load(*redis_).ok());
  EXPECT_EQ(redis_->pending_replies(), 0u);
  auto pong = redis_->Command({"PING"});
  ASSERT_TRUE(pong.ok());
  EXPECT_EQ(ReplyString(**pong), "PONG");
}

}  // namespace
}  // namespace alliance
