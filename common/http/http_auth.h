// API keys and errors at the HTTP edge: the key a request presents (the same two headers as the
// gRPC metadata: "Authorization: Bearer <key>" or "X-Api-Key: <key>"), the Authorizer check on
// it, and absl::Status -> HTTP status (the table is in docs/http.md).
#ifndef ALLIANCE_COMMON_HTTP_HTTP_AUTH_H_
#define ALLIANCE_COMMON_HTTP_HTTP_AUTH_H_

#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/auth.h"
#include "common/http/http_server.h"

namespace alliance::http {

// The presented API key: the Bearer token of Authorization, else X-Api-Key; empty when none.
std::string_view ApiKeyFromHeaders(const Request& request);

// Authorizer::Authorize with the request's key (same errors, same auth_failed log).
absl::StatusOr<Principal> AuthorizeRequest(const Authorizer& authorizer, const Request& request,
                                           Scope scope, std::string_view requested_tenant);

// INVALID_ARGUMENT and OUT_OF_RANGE 400, FAILED_PRECONDITION 400, UNAUTHENTICATED 401,
// PERMISSION_DENIED 403, NOT_FOUND 404, ALREADY_EXISTS and ABORTED 409, RESOURCE_EXHAUSTED 429,
// UNIMPLEMENTED 501, UNAVAILABLE 503, DEADLINE_EXCEEDED 504, OK 200, anything else 500.
int HttpStatusFromStatusCode(absl::StatusCode code);

// The status as a caller may see it: the message of one that maps to 500 is replaced by
// "internal error" (it may name internals); the caller logs the original.
absl::Status StatusShownToCaller(const absl::Status& status);

// A response with HttpStatusFromStatusCode's status, "WWW-Authenticate: Bearer" on 401, and
// `body` (rendered by the caller from StatusShownToCaller(status), e.g. a FHIR
// OperationOutcome).
Response ResponseForStatus(const absl::Status& status, std::string content_type, std::string body);

// A JSON error response {"error": "<message>"} of StatusShownToCaller(status), as
// ResponseForStatus.
Response ResponseFromStatus(const absl::Status& status);

}  // namespace alliance::http

#endif  // ALLIANCE_COMMON_HTTP_HTTP_AUTH_H_
