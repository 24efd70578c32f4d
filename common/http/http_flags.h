// Flags of the HTTP port (FHIR endpoints, dashboard API) and the ServerOptions built from them.
// The port speaks TLS with the gRPC port's certificate flags (common/security.h) when they are
// set. Each service's main sets its own --http_port default with SetHttpServerFlagDefaults.
#ifndef ALLIANCE_COMMON_HTTP_HTTP_FLAGS_H_
#define ALLIANCE_COMMON_HTTP_HTTP_FLAGS_H_

#include <cstdint>

#include "absl/flags/declare.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/http/http_server.h"

ABSL_DECLARE_FLAG(int32_t, http_port);
ABSL_DECLARE_FLAG(int64_t, http_max_body_bytes);
ABSL_DECLARE_FLAG(absl::Duration, http_idle_timeout);
ABSL_DECLARE_FLAG(absl::Duration, http_read_timeout);
ABSL_DECLARE_FLAG(int32_t, http_max_connections);
ABSL_DECLARE_FLAG(int32_t, http_threads);

namespace alliance::http {

struct HttpServerDefaults {
  int32_t http_port = 0;  // 0: no HTTP port
};

// Makes `defaults` the binary's defaults: call in main before parsing flags (the environment
// and the command line still win).
void SetHttpServerFlagDefaults(const HttpServerDefaults& defaults);

// ServerOptions from the flags: host from --listen_host, TLS from --tls_cert_file,
// --tls_key_file, --tls_client_ca_file and --tls_reload_s. INVALID_ARGUMENT naming the flag.
// A zero port here means "no HTTP port": callers check options.port before Server::Start.
absl::StatusOr<ServerOptions> HttpServerOptionsFromFlags();

}  // namespace alliance::http

#endif  // ALLIANCE_COMMON_HTTP_HTTP_FLAGS_H_
