// Query parameters of the dashboard API (docs/dashboard.md): booleans ("true"/"false"/"1"/"0"),
// integers, and enums given as the proto enum name ("SEVERITY_HIGH") or its short name in any
// case ("high"); repeated enums (kinds) as repeated parameters, comma-separated, or both. Errors
// are INVALID_ARGUMENT naming the parameter, as the gRPC API names the field.
#ifndef ALLIANCE_SERVICES_INSIGHTS_DASHBOARD_PARAMS_H_
#define ALLIANCE_SERVICES_INSIGHTS_DASHBOARD_PARAMS_H_

#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/http/http_server.h"
#include "google/protobuf/repeated_field.h"

namespace alliance::insights {

// False when absent.
absl::StatusOr<bool> BoolParam(const http::Request& request, std::string_view name);
// 0 when absent.
absl::StatusOr<int> IntParam(const http::Request& request, std::string_view name);
// Severity; SEVERITY_UNSPECIFIED when absent.
absl::StatusOr<int> SeverityParam(const http::Request& request, std::string_view name);
// AlertStatus; ALERT_STATUS_UNSPECIFIED when absent.
absl::StatusOr<int> AlertStatusParam(const http::Request& request, std::string_view name);
// Every AlertKind named by the parameter's values, in order.
absl::Status AlertKindsParam(const http::Request& request, std::string_view name,
                             google::protobuf::RepeatedField<int>* out);

}  // namespace alliance::insights

#endif  // ALLIANCE_SERVICES_INSIGHTS_DASHBOARD_PARAMS_H_
