// Caller resolution (API key, scope, tenant) and identifier validation.
#include "services/insights/tenant.h"

#include "absl/strings/str_cat.h"
#include "common/strings.h"

namespace alliance::insights {

absl::StatusOr<Caller> CallerOf(absl::StatusOr<Principal> principal) {
  if (!principal.ok()) return principal.status();
  absl::Status valid = CheckId("tenant_id", principal->tenant_id, /*optional=*/false);
  if (!valid.ok()) return valid;
  return Caller{principal->tenant_id, principal->key_id};
}

absl::StatusOr<Caller> ResolveCaller(const Authorizer& authorizer,
                                     const grpc::CallbackServerContext& context, Scope scope,
                                     std::string_view requested_tenant) {
  return CallerOf(authorizer.Authorize(context, scope, requested_tenant));
}

absl::StatusOr<Caller> ResolveCaller(const Authorizer& authorizer, std::string_view presented_key,
                                     Scope scope, std::string_view requested_tenant) {
  return CallerOf(authorizer.Authorize(presented_key, scope, requested_tenant));
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
