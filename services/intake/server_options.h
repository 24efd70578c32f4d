// Flag checks shared by alliance-intake and the bare benchmark server. The listening flags
// (--listen_host, --grpc_port) and the transport settings (limits, keepalive, connection age)
// are common/grpc_server_bootstrap.h and common/server_transport.h, the same for every gRPC
// server.
#ifndef ALLIANCE_SERVICES_INTAKE_SERVER_OPTIONS_H_
#define ALLIANCE_SERVICES_INTAKE_SERVER_OPTIONS_H_

#include "absl/status/status.h"
#include "common/grpc_server_bootstrap.h"

namespace alliance::intake {

// Checks the ranges of the listening and transport flags (ValidateGrpcServerFlags);
// INVALID_ARGUMENT naming the flag.
absl::Status ValidateServerOptionFlags();

}  // namespace alliance::intake

#endif  // ALLIANCE_SERVICES_INTAKE_SERVER_OPTIONS_H_
