// Which tenant a call may see. Every query and watch goes through ResolveTenant, so the day
// authentication supplies the tenant (from a token or a client certificate) only this
// function changes.
#ifndef ALLIANCE_SERVICES_INSIGHTS_TENANT_H_
#define ALLIANCE_SERVICES_INSIGHTS_TENANT_H_

#include <grpcpp/server_context.h>

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace alliance::insights {

// The tenant the caller acts for. Today: the request's tenant_id, validated.
absl::StatusOr<std::string> ResolveTenant(const grpc::CallbackServerContext& context,
                                          std::string_view requested_tenant);

// Identifiers are 1-128 characters of [A-Za-z0-9._-] (docs/redis-layout.md).
bool IsValidId(std::string_view id);

// INVALID_ARGUMENT naming `field` unless `id` is valid (or empty and `optional`).
absl::Status CheckId(std::string_view field, std::string_view id, bool optional);

}  // namespace alliance::insights

#endif  // ALLIANCE_SERVICES_INSIGHTS_TENANT_H_
