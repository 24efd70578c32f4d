// gRPC server options shared by alliance-intake and the bare benchmark server, so the two are
// compared under identical transport settings: message size limit, keepalive, connection age.
#ifndef ALLIANCE_SERVICES_INTAKE_SERVER_OPTIONS_H_
#define ALLIANCE_SERVICES_INTAKE_SERVER_OPTIONS_H_

#include <grpcpp/server_builder.h>

#include <cstdint>
#include <string>

#include "absl/flags/declare.h"
#include "absl/status/status.h"

ABSL_DECLARE_FLAG(std::string, listen_host);
ABSL_DECLARE_FLAG(int32_t, grpc_port);
ABSL_DECLARE_FLAG(int32_t, max_message_bytes);
ABSL_DECLARE_FLAG(int32_t, keepalive_time_ms);
ABSL_DECLARE_FLAG(int32_t, keepalive_timeout_ms);
ABSL_DECLARE_FLAG(bool, keepalive_permit_without_calls);
ABSL_DECLARE_FLAG(int32_t, min_ping_interval_ms);
ABSL_DECLARE_FLAG(int32_t, max_connection_age_ms);
ABSL_DECLARE_FLAG(int32_t, max_connection_age_grace_ms);
ABSL_DECLARE_FLAG(int32_t, max_connection_idle_ms);
ABSL_DECLARE_FLAG(int32_t, max_concurrent_streams);

namespace alliance::intake {

// Checks the ranges of the flags above; INVALID_ARGUMENT naming the flag.
absl::Status ValidateServerOptionFlags();

// Applies the flags above to `builder` (everything except listening ports).
void ApplyServerOptionsFromFlags(grpc::ServerBuilder& builder);

// "host:port" for a listening port, with IPv6 literals bracketed.
std::string ListenAddress(const std::string& host, int port);

}  // namespace alliance::intake

#endif  // ALLIANCE_SERVICES_INTAKE_SERVER_OPTIONS_H_
