// API key from headers, authorization and status mapping behind http_auth.h.
#include "common/http/http_auth.h"

#include <cstdio>
#include <string>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "common/strings.h"

namespace alliance::http {
namespace {

// JSON string escaping for error messages (quotes, backslashes, control characters).
std::string JsonEscape(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (char c : in) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
          out += buf;
        } else {
          out.push_back(c);
        }
    }
  }
  return out;
}

}  // namespace

std::string_view ApiKeyFromHeaders(const Request& request) {
  std::string_view authorization = request.Header("Authorization");
  constexpr std::string_view kBearer = "Bearer ";
  if (authorization.size() > kBearer.size() &&
      absl::StartsWithIgnoreCase(Absl(authorization), Absl(kBearer))) {
    return authorization.substr(kBearer.size());
  }
  return request.Header("X-Api-Key");
}

absl::StatusOr<Principal> AuthorizeRequest(const Authorizer& authorizer, const Request& request,
                                           Scope scope, std::string_view requested_tenant) {
  return authorizer.Authorize(ApiKeyFromHeaders(request), scope, requested_tenant);
}

int HttpStatusFromStatusCode(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kOk:
      return 200;
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kOutOfRange:
    case absl::StatusCode::kFailedPrecondition:
      return 400;
    case absl::StatusCode::kUnauthenticated:
      return 401;
    case absl::StatusCode::kPermissionDenied:
      return 403;
    case absl::StatusCode::kNotFound:
      return 404;
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kAborted:
      return 409;
    case absl::StatusCode::kResourceExhausted:
      return 429;
    case absl::StatusCode::kUnimplemented:
      return 501;
    case absl::StatusCode::kUnavailable:
      return 503;
    case absl::StatusCode::kDeadlineExceeded:
      return 504;
    default:
      return 500;
  }
}

absl::Status StatusShownToCaller(const absl::Status& status) {
  if (HttpStatusFromStatusCode(status.code()) != 500) return status;
  return absl::Status(status.code(), "internal error");
}

Response ResponseForStatus(const absl::Status& status, std::string content_type, std::string body) {
  Response response;
  response.status = HttpStatusFromStatusCode(status.code());
  response.content_type = std::move(content_type);
  response.body = std::move(body);
  if (response.status == 401) response.headers.emplace_back("WWW-Authenticate", "Bearer");
  return response;
}

Response ResponseFromStatus(const absl::Status& status) {
  const absl::Status shown = StatusShownToCaller(status);
  return ResponseForStatus(shown, "application/json",
                           "{\"error\":\"" + JsonEscape(Std(shown.message())) + "\"}");
}

}  // namespace alliance::http
