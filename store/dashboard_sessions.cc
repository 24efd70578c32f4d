// Dashboard sessions in Redis; see dashboard_sessions.h.
#include "store/dashboard_sessions.h"

#include <openssl/rand.h>

#include <charconv>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/auth.h"
#include "common/strings.h"

namespace alliance {
namespace {

constexpr size_t kTokenBytes = 32;

// The hash's fields (docs/redis-layout.md, "Dashboard sessions").
constexpr std::string_view kKeySha256 = "key_sha256";
constexpr std::string_view kKeyId = "key_id";
constexpr std::string_view kTenant = "tenant";
constexpr std::string_view kCsrf = "csrf";
constexpr std::string_view kCreatedMs = "created_ms";
constexpr std::string_view kExpiresMs = "expires_ms";

bool ParseMs(std::string_view text, int64_t* out) {
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, *out);
  return ec == std::errc() && ptr == end && !text.empty();
}

std::string SessionKey(const KeyLayout& layout, std::string_view token) {
  return layout.DashboardSession(HashApiKey(token));  // SHA-256, lowercase hex
}

}  // namespace

absl::StatusOr<std::string> NewSessionToken() {
  unsigned char bytes[kTokenBytes];
  if (RAND_bytes(bytes, sizeof bytes) != 1) {
    return absl::InternalError("session token: the random generator failed");
  }
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(bytes), sizeof bytes));
}

bool IsSessionTokenForm(std::string_view token) {
  if (token.size() != 2 * kTokenBytes) return false;
  for (char c : token) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

absl::Status WriteDashboardSession(RedisExecutor& redis, const KeyLayout& layout,
                                   std::string_view token, const DashboardSession& session) {
  if (!IsSessionTokenForm(token)) {
    return absl::InvalidArgumentError("session: the token is not 64 hex digits");
  }
  const int64_t created_ms = absl::ToUnixMillis(session.created);
  const int64_t expires_ms = absl::ToUnixMillis(session.expires);
  if (expires_ms <= created_ms) {
    return absl::InvalidArgumentError("session: it must expire after its creation");
  }
  const std::string key = SessionKey(layout, token);
  const std::string created = absl::StrCat(created_ms);
  const std::string expires = absl::StrCat(expires_ms);
  const std::string ttl = absl::StrCat(expires_ms - created_ms);
  const CommandArgs transaction[] = {
      {"MULTI"},
      {"HSET", key, kKeySha256, session.key_sha256, kKeyId, session.key_id, kTenant, session.tenant,
       kCsrf, session.csrf_token, kCreatedMs, created, kExpiresMs, expires},
      {"PEXPIRE", key, ttl},
      {"EXEC"}};
  // Every reply is read before any is judged: MULTI's OK, a QUEUED per command, EXEC's.
  absl::StatusOr<std::vector<RedisReplyPtr>> replies =
      redis.Exchange(redis.SlotOf(key), transaction);
  if (!replies.ok()) return replies.status();
  const redisReply& exec = *replies->back();
  if (redis.cluster() && exec.type == REDIS_REPLY_ERROR) {
    // EXECABORT, or EXEC without MULTI after a redirection or a lost connection halfway (the
    // commands were then resent on their own, so a key may remain: it holds the expiry time,
    // which reads check, and no token anyone was given).
    return absl::UnavailableError(absl::StrCat("session: the slot moved during the write (",
                                               Absl(ReplyString(exec)), "); retry"));
  }
  for (const RedisReplyPtr& reply : *replies) {
    if (absl::Status s = ReplyStatus(*reply); !s.ok()) return s;
  }
  if (exec.type != REDIS_REPLY_ARRAY || exec.elements != 2 ||
      exec.element[0]->type != REDIS_REPLY_INTEGER ||
      exec.element[1]->type != REDIS_REPLY_INTEGER) {
    return absl::InternalError("session: unexpected transaction reply");
  }
  if (exec.element[1]->integer != 1) {
    return absl::InternalError("session: PEXPIRE found no key");
  }
  return absl::OkStatus();
}

absl::StatusOr<DashboardSession> ReadDashboardSession(RedisExecutor& redis, const KeyLayout& layout,
                                                      std::string_view token, absl::Time now) {
  if (!IsSessionTokenForm(token)) return absl::NotFoundError("no such session");
  const std::string key = SessionKey(layout, token);
  absl::StatusOr<RedisReplyPtr> reply = redis.Command(redis.SlotOf(key), {"HGETALL", key});
  if (!reply.ok()) return reply.status();
  const redisReply& r = **reply;
  if (absl::Status s = ReplyStatus(r); !s.ok()) return s;
  if (r.type != REDIS_REPLY_ARRAY || r.elements % 2 != 0) {
    return absl::InternalError("session: the reply is not a hash");
  }
  if (r.elements == 0) return absl::NotFoundError("no such session");
  DashboardSession session;
  int64_t created_ms = -1;
  int64_t expires_ms = -1;
  for (size_t i = 0; i + 1 < r.elements; i += 2) {
    if (r.element[i]->type != REDIS_REPLY_STRING || r.element[i + 1]->type != REDIS_REPLY_STRING) {
      return absl::InternalError("session: a hash field or value is not a string");
    }
    const std::string_view field = ReplyString(*r.element[i]);
    const std::string_view value = ReplyString(*r.element[i + 1]);
    if (field == kKeySha256) {
      session.key_sha256 = std::string(value);
    } else if (field == kKeyId) {
      session.key_id = std::string(value);
    } else if (field == kTenant) {
      session.tenant = std::string(value);
    } else if (field == kCsrf) {
      session.csrf_token = std::string(value);
    } else if (field == kCreatedMs) {
      if (!ParseMs(value, &created_ms)) return absl::InternalError("session: bad created_ms");
    } else if (field == kExpiresMs) {
      if (!ParseMs(value, &expires_ms)) return absl::InternalError("session: bad expires_ms");
    }
  }
  if (session.key_sha256.empty() || session.key_id.empty() || session.csrf_token.empty() ||
      created_ms < 0 || expires_ms < 0) {
    return absl::InternalError("session: a field is missing");
  }
  session.created = absl::FromUnixMillis(created_ms);
  session.expires = absl::FromUnixMillis(expires_ms);
  // Redis expires the key on its own clock; this clock decides too, so that a session never
  // outlives its expiry time by a clock skew or a key left without its TTL.
  if (session.expires <= now) return absl::NotFoundError("no such session");
  return session;
}

absl::StatusOr<bool> DeleteDashboardSession(RedisExecutor& redis, const KeyLayout& layout,
                                            std::string_view token) {
  if (!IsSessionTokenForm(token)) return false;
  const std::string key = SessionKey(layout, token);
  absl::StatusOr<RedisReplyPtr> reply = redis.Command(redis.SlotOf(key), {"DEL", key});
  if (!reply.ok()) return reply.status();
  if (absl::Status s = ReplyStatus(**reply); !s.ok()) return s;
  if ((*reply)->type != REDIS_REPLY_INTEGER) {
    return absl::InternalError("session: DEL did not answer an integer");
  }
  return (*reply)->integer > 0;
}

}  // namespace alliance
