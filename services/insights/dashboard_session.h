// Dashboard sign-in (docs/dashboard.md, "Sign-in"): the session routes and the one way every
// /api/v1 route learns who is calling.
//   POST   /api/v1/session  {"apiKey": "..."} -> the session and Set-Cookie alliance_session
//   GET    /api/v1/session  the session of the cookie (401 without a valid one)
//   DELETE /api/v1/session  signs out (X-CSRF-Token required) -> 204 and a cookie that expires
// A browser signs in once with an API key; the key stays out of the page's JavaScript and
// storage afterwards: the HttpOnly cookie carries a random token, Redis keeps the session under
// the token's hash (store/dashboard_sessions.h), and every request re-checks the key's hash
// against the current key file. A request presenting a key in its headers is authorized by the
// key (it wins over a cookie); else by the cookie, whose session is read on the Redis pool (the
// HTTP thread never waits on Redis); a POST or DELETE authorized by the cookie also needs the
// session's CSRF token in X-CSRF-Token (403 otherwise). Tokens, cookies and keys are never
// logged.
#ifndef ALLIANCE_SERVICES_INSIGHTS_DASHBOARD_SESSION_H_
#define ALLIANCE_SERVICES_INSIGHTS_DASHBOARD_SESSION_H_

#include <functional>
#include <string>
#include <string_view>

#include "absl/flags/declare.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/auth.h"
#include "common/http/http_server.h"
#include "services/insights/redis_pool.h"
#include "store/dashboard_sessions.h"
#include "store/keys.h"

ABSL_DECLARE_FLAG(absl::Duration, session_ttl);

namespace alliance::insights {

inline constexpr std::string_view kSessionCookie = "alliance_session";
// A hint for the page, set and cleared with the session cookie: "1", no secret, readable by
// scripts (not HttpOnly), so that a page opened without a sign-in does not ask GET
// /api/v1/session only to be told 401. The session cookie alone authorizes.
inline constexpr std::string_view kSignedInCookie = "alliance_signed_in";
inline constexpr std::string_view kCsrfHeader = "X-CSRF-Token";
inline constexpr absl::Duration kMinSessionTtl = absl::Seconds(1);
inline constexpr absl::Duration kMaxSessionTtl = absl::Hours(24 * 7);

struct SessionOptions {
  absl::Duration ttl = absl::Hours(8);  // absolute: a session ends this long after sign-in
  bool secure_cookie = false;           // the HTTP port serves TLS: the cookie says Secure
};

// --session_ttl, checked against its bounds (INVALID_ARGUMENT naming the flag), and
// `secure_cookie`.
absl::StatusOr<SessionOptions> SessionOptionsFromFlags(bool secure_cookie);

// The value of cookie `name` in the request's Cookie header; empty when absent.
std::string_view CookieValue(const http::Request& request, std::string_view name);

// Equal strings, compared in time that depends on their lengths only.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

class RequestAuthenticator {
 public:
  // Everything must outlive the HTTP server.
  RequestAuthenticator(RedisPool* pool, const KeyLayout* layout, const Authorizer* authorizer,
                       SessionOptions options)
      : pool_(pool), layout_(layout), authorizer_(authorizer), options_(options) {}

  using Done = std::function<void(absl::StatusOr<Principal>)>;
  // Authorizes `request` for `scope` on `requested_tenant` (empty: the caller's own) and calls
  // `done` exactly once: inline for a key in the headers (Authorizer::Authorize), on a Redis
  // pool thread for the session cookie (Authorizer::AuthorizeKeyHash with the session's key
  // hash). UNAUTHENTICATED: no key and no cookie, an unknown key, or a cookie whose session is
  // unknown, expired or signed out; PERMISSION_DENIED: as Authorize, or a POST/DELETE by cookie
  // without the session's X-CSRF-Token; UNAVAILABLE/RESOURCE_EXHAUSTED: Redis or the pool.
  // Without auth (--auth_disabled) cookies are ignored, as keys are.
  void Authorize(const http::Request& request, Scope scope, std::string requested_tenant,
                 Done done) const;

  void AddRoutes(http::Router& router) const;

 private:
  void SignIn(const http::Request& request, http::Responder respond) const;
  void GetSession(const http::Request& request, http::Responder respond) const;
  void SignOut(const http::Request& request, http::Responder respond) const;
  // GET and DELETE /api/v1/session: reads the cookie's session on the Redis pool and answers
  // with what `step` makes of it; answers the errors before (no auth 400, no cookie or no
  // valid session 401, Redis 503, a full pool 429) itself.
  using SessionStep =
      std::function<http::Response(RedisExecutor& redis, const DashboardSession& session)>;
  void WithSession(const http::Request& request, http::Responder respond, SessionStep step) const;
  // The Set-Cookie values of the session cookie (HttpOnly) and of the hint cookie (same Path,
  // SameSite, Secure and Max-Age; readable by scripts).
  std::string SetCookie(std::string_view value, absl::Duration max_age) const;
  std::string SetHintCookie(std::string_view value, absl::Duration max_age) const;

  RedisPool* const pool_;
  const KeyLayout* const layout_;
  const Authorizer* const authorizer_;
  const SessionOptions options_;
};

}  // namespace alliance::insights

#endif  // ALLIANCE_SERVICES_INSIGHTS_DASHBOARD_SESSION_H_
