// Dashboard sign-in sessions in Redis (docs/dashboard.md, "Sign-in"). A session is one hash,
// alone in its key (so it works unchanged on Redis Cluster), named by the SHA-256 of its
// cookie token: Redis never holds the token a browser presents, nor the API key it signed in
// with (only the key's SHA-256, which the service re-checks against the current key file on
// every request). The key expires with the session (absolute: PEXPIRE at creation, never
// extended), and a read also refuses a session whose own expiry time has passed.
#ifndef ALLIANCE_STORE_DASHBOARD_SESSIONS_H_
#define ALLIANCE_STORE_DASHBOARD_SESSIONS_H_

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "store/keys.h"
#include "store/redis_executor.h"

namespace alliance {

struct DashboardSession {
  std::string key_sha256;  // lowercase hex SHA-256 of the API key signed in with
  std::string key_id;      // the key's id when it signed in (safe to log)
  std::string tenant;      // the key's tenant when it signed in
  std::string csrf_token;  // 64 hex digits; the browser echoes it in X-CSRF-Token
  absl::Time created;
  absl::Time expires;
};

// A new random token (32 bytes of the operating system's CSPRNG, as 64 lowercase hex digits):
// the cookie value and, separately, the CSRF token. INTERNAL when the CSPRNG fails.
absl::StatusOr<std::string> NewSessionToken();

// True for text of the token's form (64 lowercase hex digits).
bool IsSessionTokenForm(std::string_view token);

// Writes `session` under the hash of `token`, expiring after `expires - created` (MULTI: HSET,
// PEXPIRE, EXEC in one exchange). INVALID_ARGUMENT for a token not of the token's form or an
// expiry not after creation; UNAVAILABLE when the transaction did not run whole (on a cluster,
// a slot that moved meanwhile): the caller may retry.
absl::Status WriteDashboardSession(RedisExecutor& redis, const KeyLayout& layout,
                                   std::string_view token, const DashboardSession& session);

// The session of `token` at `now`. NOT_FOUND for a token not of the token's form, an unknown
// (or Redis-expired) session, or one whose expiry time is not after `now`; INTERNAL for a
// reply that is not a hash of the fields above (every field and value must be a string).
absl::StatusOr<DashboardSession> ReadDashboardSession(RedisExecutor& redis, const KeyLayout& layout,
                                                      std::string_view token, absl::Time now);

// Deletes the session of `token`; true when there was one.
absl::StatusOr<bool> DeleteDashboardSession(RedisExecutor& redis, const KeyLayout& layout,
                                            std::string_view token);

}  // namespace alliance

#endif  // ALLIANCE_STORE_DASHBOARD_SESSIONS_H_
