// Transport settings of the gRPC servers (alliance-intake, alliance-insights and the bare
// benchmark server), from one set of flags: what bounds a server's memory against many large
// or concurrent requests (a gRPC resource quota, a cap on concurrent streams per connection,
// the largest request message), keepalive, and connection ageing.
#ifndef ALLIANCE_COMMON_SERVER_TRANSPORT_H_
#define ALLIANCE_COMMON_SERVER_TRANSPORT_H_

#include <grpcpp/server_builder.h>

#include <cstddef>
#include <cstdint>

#include "absl/flags/declare.h"
#include "absl/status/status.h"

ABSL_DECLARE_FLAG(int32_t, grpc_memory_quota_mib);
ABSL_DECLARE_FLAG(int32_t, max_concurrent_streams);
ABSL_DECLARE_FLAG(int32_t, keepalive_time_ms);
ABSL_DECLARE_FLAG(int32_t, keepalive_timeout_ms);
ABSL_DECLARE_FLAG(bool, keepalive_permit_without_calls);
ABSL_DECLARE_FLAG(int32_t, min_ping_interval_ms);
ABSL_DECLARE_FLAG(int32_t, max_connection_age_ms);
ABSL_DECLARE_FLAG(int32_t, max_connection_age_grace_ms);
ABSL_DECLARE_FLAG(int32_t, max_connection_idle_ms);

namespace alliance {

// Checks the ranges of the flags above; INVALID_ARGUMENT naming the flag.
absl::Status ValidateServerTransportFlags();

// Applies the flags above to `builder`, with `max_request_bytes` as the largest request
// message the server accepts: gRPC has one receive limit per server, so it is the bound of the
// server's largest method, and methods with a smaller bound check their own (larger requests
// are refused with RESOURCE_EXHAUSTED before they reach a handler). Listening ports are the
// caller's.
void ApplyServerTransportFromFlags(grpc::ServerBuilder& builder, size_t max_request_bytes);

}  // namespace alliance

#endif  // ALLIANCE_COMMON_SERVER_TRANSPORT_H_
