// Alliance's Lua scripts: the embedded store/lua files with their includes expanded, loading
// and EVALSHA encoding (see lua_scripts.h).
#include "store/lua_scripts.h"

#include <array>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/strings.h"
#include "store/cluster_client.h"
#include "store/resp_command.h"

namespace alliance {
namespace {

constexpr std::array<std::string_view, kScriptCount> kFileNames = {
    "fenced_read.lua",     "fenced_claim.lua",       "apply_batch.lua",
    "dead_letter.lua",     "lease_keep.lua",         "lease_release.lua",
    "heartbeat.lua",       "replay_dead_letter.lua", "retire_consumers.lua",
    "append_feedback.lua", "acknowledge_alert.lua",  "resolve_alert.lua",
    "erase_dyad.lua",      "snooze_alert.lua"};

constexpr std::string_view kIncludePrefix = "--@include ";

std::string_view LuaFile(std::string_view name) {
  for (const analytics::EmbeddedFile& file : LuaFiles()) {
    if (file.name == name) return file.text;
  }
  return {};
}

// Replaces each `--@include <file>` line by that file (one level: included pieces include
// nothing). A missing file leaves the line, which the store tests catch.
std::string Expand(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 512);
  for (absl::string_view piece : absl::StrSplit(Absl(text), '\n')) {
    std::string_view line = Std(piece);
    if (line.starts_with(kIncludePrefix)) {
      std::string_view included = LuaFile(line.substr(kIncludePrefix.size()));
      if (!included.empty()) {
        out.append(included);
        if (!included.ends_with('\n')) out.push_back('\n');
        continue;
      }
    }
    out.append(line.data(), line.size());
    out.push_back('\n');
  }
  return out;
}

const std::array<std::string, kScriptCount>& Sources() {
  static const auto* sources = [] {
    auto* out = new std::array<std::string, kScriptCount>();
    for (size_t i = 0; i < kScriptCount; ++i) (*out)[i] = Expand(LuaFile(kFileNames[i]));
    return out;
  }();
  return *sources;
}

}  // namespace

std::string_view ScriptFileName(Script script) { return kFileNames[static_cast<size_t>(script)]; }

std::string_view ScriptSource(Script script) { return Sources()[static_cast<size_t>(script)]; }

absl::Status ScriptShas::Load(RedisConnection& redis) {
  for (const std::string& source : Sources()) redis.Append({"SCRIPT", "LOAD", source});
  // Every reply is read, an error reply included, so the connection stays in step.
  absl::StatusOr<std::vector<RedisReplyPtr>> replies = redis.GetReplies(kScriptCount);
  if (!replies.ok()) return replies.status();
  std::vector<std::string> shas;
  for (const RedisReplyPtr& reply : *replies) {
    if (absl::Status s = ReplyStatus(*reply); !s.ok()) return s;
    if (reply->type != REDIS_REPLY_STRING) return absl::InternalError("redis: SCRIPT LOAD reply");
    shas.emplace_back(ReplyString(*reply));
  }
  shas_ = std::move(shas);
  return absl::OkStatus();
}

absl::Status ScriptShas::Load(ClusterClient& cluster) {
  std::vector<std::string> shas;
  for (const std::string& source : Sources()) {
    absl::StatusOr<std::string> sha = cluster.LoadScript(source);
    if (!sha.ok()) return sha.status();
    shas.push_back(*std::move(sha));
  }
  shas_ = std::move(shas);
  return absl::OkStatus();
}

namespace {

template <typename Strings>
size_t TotalBytes(const Strings& strings) {
  size_t n = 0;
  for (const auto& s : strings) n += s.size();
  return n;
}

template <typename Keys, typename Args>
void Encode(std::string& out, std::string_view sha, const Keys& keys, const Args& args) {
  const std::string key_count = std::to_string(keys.size());
  const size_t argc = 3 + keys.size() + args.size();
  out.clear();
  // Per argument: "$", up to 10 digits, and two line ends.
  out.reserve(16 + 16 * argc + TotalBytes(keys) + TotalBytes(args) + sha.size());
  RespCommand command(&out);
  command.Begin(argc);
  command.Arg("EVALSHA");
  command.Arg(sha);
  command.Arg(key_count);
  for (const auto& k : keys) command.Arg(k);
  for (const auto& a : args) command.Arg(a);
}

// Small commands join the connection's output buffer, so commands queued together go out in
// one write (each write to a socket costs a system call here and a wake-up in Redis); large
// ones are written straight away (see RedisConnection::AppendEncoded).
constexpr size_t kBufferedBelow = 64 * 1024;

void Queue(RedisConnection& redis, const std::string& command) {
  if (command.size() < kBufferedBelow) {
    redis.AppendFormatted(command);
  } else {
    redis.AppendEncoded(command);
  }
}

}  // namespace

void ScriptShas::Append(RedisConnection& redis, Script script,
                        const std::vector<std::string_view>& keys,
                        const std::vector<std::string_view>& args) const {
  Encode(command_, sha(script), keys, args);
  Queue(redis, command_);
}

void ScriptShas::AppendStrings(RedisConnection& redis, Script script,
                               const std::vector<std::string>& keys,
                               const std::vector<std::string>& args) const {
  Encode(command_, sha(script), keys, args);
  Queue(redis, command_);
}

bool IsNoScript(const redisReply& reply) {
  return reply.type == REDIS_REPLY_ERROR && absl::StartsWith(Absl(ReplyString(reply)), "NOSCRIPT");
}

}  // namespace alliance
