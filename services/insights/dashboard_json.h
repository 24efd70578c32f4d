// JSON of the dashboard API (docs/dashboard.md): messages as proto3 JSON (lowerCamelCase field
// names, enums by name) and errors as {"error": {"code": "INVALID_ARGUMENT", "message": "..."}}
// with the HTTP status of their code (common/http/http_auth.h).
#ifndef ALLIANCE_SERVICES_INSIGHTS_DASHBOARD_JSON_H_
#define ALLIANCE_SERVICES_INSIGHTS_DASHBOARD_JSON_H_

#include <google/protobuf/message.h>

#include <string>

#include "absl/status/status.h"
#include "common/http/http_server.h"

namespace alliance::insights {

// proto3 JSON of `message` on one line, fields at their default values left out.
std::string ProtoJson(const google::protobuf::Message& message);

// The error body. 500s say "internal error" only (their messages may name internals).
std::string ErrorJson(const absl::Status& status);

// A 200 with `body`, or the error response of `status` ("WWW-Authenticate: Bearer" on 401).
http::Response JsonResponse(std::string body);
http::Response ErrorResponse(const absl::Status& status);

}  // namespace alliance::insights

#endif  // ALLIANCE_SERVICES_INSIGHTS_DASHBOARD_JSON_H_
