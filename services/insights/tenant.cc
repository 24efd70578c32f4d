// Tenant resolution and identifier validation.
#include "services/insights/tenant.h"

#include "absl/strings/str_cat.h"
#include "common/strings.h"

namespace alliance::insights {

absl::StatusOr<std::string> ResolveTenant(const grpc::CallbackServerContext& /*context*/,
                                          std::string_view requested_tenant) {
  absl::Status valid = CheckId("tenant_id", requested_tenant, /*optional=*/false);
  if (!valid.ok()) return valid;
  return std::string(requested_tenant);
}

bool IsValidId(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

absl::Status CheckId(std::string_view field, std::string_view id, bool optional) {
  if (optional && id.empty()) return absl::OkStatus();
  if (IsValidId(id)) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat(Absl(field), ": must be 1-128 characters of [A-Za-z0-9._-]"));
}

}  // namespace alliance::insights
