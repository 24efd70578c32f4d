// Dashboard sign-in and request authorization; see dashboard_session.h.
#include "services/insights/dashboard_session.h"

#include <google/protobuf/util/time_util.h>
#include <openssl/crypto.h>

#include <memory>
#include <utility>

#include "absl/flags/flag.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "common/http/http_auth.h"
#include "common/log.h"
#include "common/strings.h"
#include "nlohmann/json.hpp"
#include "services/insights/dashboard_json.h"
#include "store/dashboard_sessions.h"

ABSL_FLAG(absl::Duration, session_ttl, absl::Hours(8),
          "Dashboard sign-in: how long a session lasts from sign-in (absolute, never extended); "
          "1s to 168h.");

namespace alliance::insights {
namespace {

using Shared = std::shared_ptr<http::Responder>;

void Answer(const Shared& respond, http::Response response) {
  std::move (*respond)(std::move(response));
}

// An unknown, expired or signed-out session is an authentication failure like an unknown key.
absl::Status SessionStatus(const absl::Status& status) {
  if (status.code() == absl::StatusCode::kNotFound) {
    return absl::UnauthenticatedError("no session, or it has expired or ended; sign in again");
  }
  return status;
}

absl::Status CheckCsrf(std::string_view presented, const DashboardSession& session) {
  if (presented.empty() || !ConstantTimeEquals(presented, session.csrf_token)) {
    return absl::PermissionDeniedError(
        "X-CSRF-Token: a request that changes something needs the session's CSRF token");
  }
  return absl::OkStatus();
}

// The body of POST and GET /api/v1/session: the key's current id, tenant and scopes.
std::string SessionJson(const Principal& principal, const DashboardSession& session) {
  nlohmann::json scopes = nlohmann::json::array();
  for (Scope scope : {Scope::kSubmit, Scope::kRead, Scope::kWatch, Scope::kAdmin}) {
    if (principal.Has(scope)) scopes.push_back(std::string(ScopeName(scope)));
  }
  const google::protobuf::Timestamp expires =
      google::protobuf::util::TimeUtil::MillisecondsToTimestamp(
          absl::ToUnixMillis(session.expires));
  return nlohmann::json{{"keyId", principal.key_id},
                        {"tenantId", principal.tenant_id},
                        {"scopes", scopes},
                        {"csrfToken", session.csrf_token},
                        {"expiresAt", google::protobuf::util::TimeUtil::ToString(expires)}}
      .dump();
}

absl::Status NeedsAuth(const Authorizer& authorizer) {
  if (authorizer.enabled()) return absl::OkStatus();
  return absl::FailedPreconditionError(
      "sign-in needs API keys; this server runs without authentication (--auth_disabled)");
}

}  // namespace

absl::StatusOr<SessionOptions> SessionOptionsFromFlags(bool secure_cookie) {
  SessionOptions options;
  options.ttl = absl::GetFlag(FLAGS_session_ttl);
  if (options.ttl < kMinSessionTtl || options.ttl > kMaxSessionTtl) {
    return absl::InvalidArgumentError(absl::StrCat("--session_ttl: must be from ",
                                                   absl::FormatDuration(kMinSessionTtl), " to ",
                                                   absl::FormatDuration(kMaxSessionTtl)));
  }
  options.secure_cookie = secure_cookie;
  return options;
}

std::string_view CookieValue(const http::Request& request, std::string_view name) {
  // One Cookie header of "a=1; b=2" pairs (RFC 6265 5.4); a name given twice: the first wins.
  for (const auto& [header, value] : request.headers) {
    if (!absl::EqualsIgnoreCase(Absl(header), "Cookie")) continue;
    std::string_view rest = value;
    while (!rest.empty()) {
      const size_t end = std::min(rest.find(';'), rest.size());
      std::string_view pair = Std(absl::StripAsciiWhitespace(Absl(rest.substr(0, end))));
      rest = rest.substr(std::min(end + 1, rest.size()));
      const size_t eq = pair.find('=');
      if (eq != std::string_view::npos && pair.substr(0, eq) == name) return pair.substr(eq + 1);
    }
  }
  return {};
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

void RequestAuthenticator::Authorize(const http::Request& request, Scope scope,
                                     std::string requested_tenant, Done done) const {
  const std::string_view key = http::ApiKeyFromHeaders(request);
  const std::string_view cookie =
      authorizer_->enabled() ? CookieValue(request, kSessionCookie) : std::string_view();
  // A key in the headers wins; with neither, Authorize refuses (and logs) the missing key.
  if (!key.empty() || cookie.empty()) {
    return done(authorizer_->Authorize(key, scope, requested_tenant));
  }
  // Only reads are safe without the CSRF token: SameSite=Strict keeps other sites' requests
  // from carrying the cookie, and the token is a second fence.
  const bool needs_csrf = request.method != "GET" && request.method != "HEAD";
  const bool queued = pool_->Submit([this, token = std::string(cookie),
                                     csrf = std::string(request.Header(kCsrfHeader)), needs_csrf,
                                     scope, tenant = std::move(requested_tenant),
                                     done](absl::StatusOr<RedisExecutor*> redis) {
    if (!redis.ok()) return done(redis.status());
    absl::StatusOr<DashboardSession> session =
        ReadDashboardSession(**redis, *layout_, token, absl::Now());
    if (!session.ok()) return done(SessionStatus(session.status()));
    // Who first (a revoked key: 401), then the CSRF token, then scope and tenant.
    absl::StatusOr<Principal> principal =
        authorizer_->AuthorizeKeyHash(session->key_sha256, scope, tenant);
    if (!principal.ok() && principal.status().code() == absl::StatusCode::kUnauthenticated) {
      return done(principal.status());
    }
    if (needs_csrf) {
      if (absl::Status s = CheckCsrf(csrf, *session); !s.ok()) return done(s);
    }
    done(std::move(principal));
  });
  if (!queued) done(absl::ResourceExhaustedError("too many queries queued; retry later"));
}

std::string RequestAuthenticator::SetCookie(std::string_view value, absl::Duration max_age) const {
  return absl::StrCat(Absl(kSessionCookie), "=", Absl(value),
                      "; Path=/; Max-Age=", absl::ToInt64Seconds(max_age),
                      "; HttpOnly; SameSite=Strict", options_.secure_cookie ? "; Secure" : "");
}

std::string RequestAuthenticator::SetHintCookie(std::string_view value,
                                                absl::Duration max_age) const {
  return absl::StrCat(Absl(kSignedInCookie), "=", Absl(value),
                      "; Path=/; Max-Age=", absl::ToInt64Seconds(max_age), "; SameSite=Strict",
                      options_.secure_cookie ? "; Secure" : "");
}

void RequestAuthenticator::SignIn(const http::Request& request, http::Responder respond) const {
  if (absl::Status s = NeedsAuth(*authorizer_); !s.ok())
    return std::move(respond)(ErrorResponse(s));
  const nlohmann::json body = nlohmann::json::parse(request.body, nullptr, false);
  if (!body.is_object() || !body.contains("apiKey") || !body["apiKey"].is_string()) {
    return std::move(respond)(
        ErrorResponse(absl::InvalidArgumentError("body: {\"apiKey\": \"<API key>\"} expected")));
  }
  const std::string key = body["apiKey"].get<std::string>();
  // The dashboard reads: a key without the read scope cannot use it (403).
  absl::StatusOr<Principal> principal = authorizer_->Authorize(key, Scope::kRead, "");
  if (!principal.ok()) return std::move(respond)(ErrorResponse(principal.status()));
  absl::StatusOr<std::string> token = NewSessionToken();
  absl::StatusOr<std::string> csrf = NewSessionToken();
  if (!token.ok() || !csrf.ok()) {
    return std::move(respond)(ErrorResponse(token.ok() ? csrf.status() : token.status()));
  }
  DashboardSession session;
  session.key_sha256 = HashApiKey(key);
  session.key_id = principal->key_id;
  session.tenant = principal->tenant_id;
  session.csrf_token = *std::move(csrf);
  session.created = absl::Now();
  session.expires = session.created + options_.ttl;
  auto shared = std::make_shared<http::Responder>(std::move(respond));
  const bool queued =
      pool_->Submit([this, shared, token = *std::move(token), session,
                     principal = *std::move(principal)](absl::StatusOr<RedisExecutor*> redis) {
        absl::Status written =
            redis.ok() ? WriteDashboardSession(**redis, *layout_, token, session) : redis.status();
        if (!written.ok()) return Answer(shared, ErrorResponse(written));
        LogInfo("dashboard_signed_in", {{"key_id", std::string_view(session.key_id)},
                                        {"tenant", std::string_view(session.tenant)}});
        http::Response response = JsonResponse(SessionJson(principal, session));
        response.headers.emplace_back("Set-Cookie", SetCookie(token, options_.ttl));
        response.headers.emplace_back("Set-Cookie", SetHintCookie("1", options_.ttl));
        Answer(shared, std::move(response));
      });
  if (!queued) {
    Answer(shared,
           ErrorResponse(absl::ResourceExhaustedError("too many queries queued; retry later")));
  }
}

void RequestAuthenticator::WithSession(const http::Request& request, http::Responder respond,
                                       SessionStep step) const {
  if (absl::Status s = NeedsAuth(*authorizer_); !s.ok())
    return std::move(respond)(ErrorResponse(s));
  const std::string token(CookieValue(request, kSessionCookie));
  if (token.empty())
    return std::move(respond)(ErrorResponse(SessionStatus(absl::NotFoundError(""))));
  auto shared = std::make_shared<http::Responder>(std::move(respond));
  const bool queued = pool_->Submit(
      [this, shared, token, step = std::move(step)](absl::StatusOr<RedisExecutor*> redis) {
        if (!redis.ok()) return Answer(shared, ErrorResponse(redis.status()));
        absl::StatusOr<DashboardSession> session =
            ReadDashboardSession(**redis, *layout_, token, absl::Now());
        if (!session.ok()) return Answer(shared, ErrorResponse(SessionStatus(session.status())));
        Answer(shared, step(**redis, *session));
      });
  if (!queued) {
    Answer(shared,
           ErrorResponse(absl::ResourceExhaustedError("too many queries queued; retry later")));
  }
}

void RequestAuthenticator::GetSession(const http::Request& request, http::Responder respond) const {
  WithSession(request, std::move(respond),
              [this](RedisExecutor&, const DashboardSession& session) -> http::Response {
                // The key file decides now: the key's current id, tenant and scopes, or 401 if
                // it is gone.
                absl::StatusOr<Principal> principal =
                    authorizer_->AuthorizeKeyHash(session.key_sha256, Scope::kRead, "");
                if (!principal.ok()) return ErrorResponse(principal.status());
                return JsonResponse(SessionJson(*principal, session));
              });
}

void RequestAuthenticator::SignOut(const http::Request& request, http::Responder respond) const {
  WithSession(request, std::move(respond),
              [this, token = std::string(CookieValue(request, kSessionCookie)),
               csrf = std::string(request.Header(kCsrfHeader))](
                  RedisExecutor& redis, const DashboardSession& session) -> http::Response {
                if (absl::Status s = CheckCsrf(csrf, session); !s.ok()) return ErrorResponse(s);
                absl::StatusOr<bool> deleted = DeleteDashboardSession(redis, *layout_, token);
                if (!deleted.ok()) return ErrorResponse(deleted.status());
                LogInfo("dashboard_signed_out", {{"key_id", std::string_view(session.key_id)},
                                                 {"tenant", std::string_view(session.tenant)}});
                http::Response response;
                response.status = 204;
                response.headers.emplace_back("Set-Cookie", SetCookie("", absl::ZeroDuration()));
                response.headers.emplace_back("Set-Cookie",
                                              SetHintCookie("", absl::ZeroDuration()));
                return response;
              });
}

void RequestAuthenticator::AddRoutes(http::Router& router) const {
  router.Handle("POST", "/api/v1/session", [this](http::Request request, http::Responder r) {
    SignIn(request, std::move(r));
  });
  router.Handle("GET", "/api/v1/session", [this](http::Request request, http::Responder r) {
    GetSession(request, std::move(r));
  });
  router.Handle("DELETE", "/api/v1/session", [this](http::Request request, http::Responder r) {
    SignOut(request, std::move(r));
  });
}

}  // namespace alliance::insights
