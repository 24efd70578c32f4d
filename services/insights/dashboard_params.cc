// Query parameter parsing of the dashboard API; see dashboard_params.h.
#include "services/insights/dashboard_params.h"

#include <google/protobuf/descriptor.h>

#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "alliance/v1/common.pb.h"
#include "common/strings.h"

namespace alliance::insights {
namespace {

absl::Status Invalid(std::string_view name, std::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat(Absl(name), ": ", Absl(why)));
}

// The value of `type` named by `text`: its full name ("SEVERITY_HIGH") or, in any case, the
// name without the enum's prefix ("high"). `prefix` is e.g. "SEVERITY_".
absl::StatusOr<int> EnumValue(const google::protobuf::EnumDescriptor* type, std::string_view prefix,
                              std::string_view name, std::string_view text) {
  const google::protobuf::EnumValueDescriptor* value = type->FindValueByName(std::string(text));
  if (value == nullptr) {
    value = type->FindValueByName(absl::StrCat(Absl(prefix), absl::AsciiStrToUpper(Absl(text))));
  }
  if (value == nullptr) return Invalid(name, "unknown value");
  return value->number();
}

}  // namespace

absl::StatusOr<bool> BoolParam(const http::Request& request, std::string_view name) {
  const std::string_view text = request.QueryParam(name);
  if (text.empty() || text == "false" || text == "0") return false;
  if (text == "true" || text == "1") return true;
  return Invalid(name, "must be true or false");
}

absl::StatusOr<int> IntParam(const http::Request& request, std::string_view name) {
  const std::string_view text = request.QueryParam(name);
  if (text.empty()) return 0;
  int value = 0;
  if (!absl::SimpleAtoi(Absl(text), &value)) return Invalid(name, "must be an integer");
  return value;
}

absl::StatusOr<int> SeverityParam(const http::Request& request, std::string_view name) {
  const std::string_view text = request.QueryParam(name);
  if (text.empty()) return alliance::v1::SEVERITY_UNSPECIFIED;
  return EnumValue(alliance::v1::Severity_descriptor(), "SEVERITY_", name, text);
}

absl::StatusOr<int> AlertStatusParam(const http::Request& request, std::string_view name) {
  const std::string_view text = request.QueryParam(name);
  if (text.empty()) return alliance::v1::ALERT_STATUS_UNSPECIFIED;
  return EnumValue(alliance::v1::AlertStatus_descriptor(), "ALERT_STATUS_", name, text);
}

absl::Status AlertKindsParam(const http::Request& request, std::string_view name,
                             google::protobuf::RepeatedField<int>* out) {
  for (const auto& [key, value] : request.query) {
    if (key != name) continue;
    for (absl::string_view part : absl::StrSplit(value, ',', absl::SkipEmpty())) {
      absl::StatusOr<int> kind =
          EnumValue(alliance::v1::AlertKind_descriptor(), "ALERT_KIND_", name, Std(part));
      if (!kind.ok()) return kind.status();
      out->Add(*kind);
    }
  }
  return absl::OkStatus();
}

}  // namespace alliance::insights
