// Listening flags shared by alliance-intake and the bare benchmark server. Their transport
// settings (limits, keepalive, connection age) are common/server_transport.h, the same for
// every gRPC server.
#ifndef ALLIANCE_SERVICES_INTAKE_SERVER_OPTIONS_H_
#define ALLIANCE_SERVICES_INTAKE_SERVER_OPTIONS_H_

#include <cstdint>
#include <string>

#include "absl/flags/declare.h"
#include "absl/status/status.h"

ABSL_DECLARE_FLAG(std::string, listen_host);
ABSL_DECLARE_FLAG(int32_t, grpc_port);

namespace alliance::intake {

// Checks the ranges of the flags above and of the transport flags; INVALID_ARGUMENT naming
// the flag.
absl::Status ValidateServerOptionFlags();

// "host:port" for a listening port, with IPv6 literals bracketed.
std::string ListenAddress(const std::string& host, int port);

}  // namespace alliance::intake

#endif  // ALLIANCE_SERVICES_INTAKE_SERVER_OPTIONS_H_
