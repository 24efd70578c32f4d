// Who is calling and which tenant the call may see. Every query, watch and admin call goes
// through ResolveCaller: it authenticates the API key, checks the scope, and takes the tenant
// from the key (a request naming another tenant is refused; an empty one means the key's).
#ifndef ALLIANCE_SERVICES_INSIGHTS_TENANT_H_
#define ALLIANCE_SERVICES_INSIGHTS_TENANT_H_

#include <grpcpp/server_context.h>

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/auth.h"

namespace alliance::insights {

struct Caller {
  std::string tenant;  // validated; the only tenant this call touches
  std::string key_id;  // who, for the access log ("auth-disabled" without auth)
};

// UNAUTHENTICATED without a known key; PERMISSION_DENIED for a missing scope or another
// tenant; INVALID_ARGUMENT when no valid tenant results (auth disabled and none named).
absl::StatusOr<Caller> ResolveCaller(const Authorizer& authorizer,
                                     const grpc::CallbackServerContext& context, Scope scope,
                                     std::string_view requested_tenant);

// The same for a key taken from an HTTP request (common/http/http_auth.h); empty: none.
absl::StatusOr<Caller> ResolveCaller(const Authorizer& authorizer, std::string_view presented_key,
                                     Scope scope, std::string_view requested_tenant);

// The caller of an authorized principal (the HTTP routes authorize a key or a session first:
// dashboard_session.h); INVALID_ARGUMENT when its tenant is not a valid id.
absl::StatusOr<Caller> CallerOf(absl::StatusOr<Principal> principal);

// Identifiers are 1-128 characters of [A-Za-z0-9._-] (docs/redis-layout.md).
bool IsValidId(std::string_view id);

// INVALID_ARGUMENT naming `field` unless `id` is valid (or empty and `optional`).
absl::Status CheckId(std::string_view field, std::string_view id, bool optional);

}  // namespace alliance::insights

#endif  // ALLIANCE_SERVICES_INSIGHTS_TENANT_H_
