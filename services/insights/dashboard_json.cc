// JSON bodies of the dashboard API; see dashboard_json.h.
#include "services/insights/dashboard_json.h"

#include <google/protobuf/util/json_util.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/http/http_auth.h"
#include "common/log.h"
#include "common/strings.h"
#include "nlohmann/json.hpp"

namespace alliance::insights {

std::string ProtoJson(const google::protobuf::Message& message) {
  std::string out;
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = false;  // lowerCamelCase, as proto3 JSON names them
  // Serializing a valid in-memory message cannot fail; an empty object is the safe fallback.
  if (!google::protobuf::util::MessageToJsonString(message, &out, options).ok()) return "{}";
  return out;
}

std::string ErrorJson(const absl::Status& status) {
  const int http_status = http::HttpStatusFromStatusCode(status.code());
  const bool internal = http_status >= 500 && status.code() != absl::StatusCode::kUnavailable &&
                        status.code() != absl::StatusCode::kDeadlineExceeded &&
                        status.code() != absl::StatusCode::kUnimplemented;
  const std::string message = internal ? "internal error" : std::string(Std(status.message()));
  nlohmann::json body = {
      {"error", {{"code", absl::StatusCodeToString(status.code())}, {"message", message}}}};
  return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

http::Response JsonResponse(std::string body) {
  http::Response response;
  response.body = std::move(body);
  return response;
}

http::Response ErrorResponse(const absl::Status& status) {
  http::Response response;
  response.status = http::HttpStatusFromStatusCode(status.code());
  response.body = ErrorJson(status);
  if (status.code() == absl::StatusCode::kUnauthenticated) {
    response.headers.emplace_back("WWW-Authenticate", "Bearer");
  }
  if (response.status >= 500) {
    LogWarning("dashboard_request_failed",
               {{"code", static_cast<int64_t>(status.code())}, {"error", Std(status.message())}});
  }
  return response;
}

}  // namespace alliance::insights
