// Security configuration shared by the gRPC services: API-key authorization and TLS/mTLS
// server credentials from flags. Certificates and keys are files (Kubernetes Secrets) watched
// for changes, so rotation needs no restart.
#ifndef ALLIANCE_COMMON_SECURITY_H_
#define ALLIANCE_COMMON_SECURITY_H_

#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server_builder.h>

#include <memory>
#include <string>

#include "absl/flags/declare.h"
#include "absl/status/statusor.h"
#include "common/auth.h"

ABSL_DECLARE_FLAG(std::string, api_keys_file);
ABSL_DECLARE_FLAG(bool, auth_disabled);
ABSL_DECLARE_FLAG(int32_t, api_keys_reload_s);
ABSL_DECLARE_FLAG(std::string, tls_cert_file);
ABSL_DECLARE_FLAG(std::string, tls_key_file);
ABSL_DECLARE_FLAG(std::string, tls_client_ca_file);
ABSL_DECLARE_FLAG(int32_t, tls_reload_s);
ABSL_DECLARE_FLAG(int32_t, handshake_timeout_ms);

namespace alliance {

// Auth is on unless --auth_disabled; then --api_keys_file is required. Disabling logs a
// warning at start-up.
absl::StatusOr<std::unique_ptr<Authorizer>> AuthorizerFromFlags();

// TLS when --tls_cert_file and --tls_key_file are set (mTLS when --tls_client_ca_file is
// too: clients must present a certificate signed by that CA); plaintext otherwise.
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> ServerCredentialsFromFlags();

// Bounds how long a new connection of the main port may take to finish its TLS handshake and
// HTTP/2 preface (--handshake_timeout_ms): a client that connects and then stalls is
// disconnected instead of holding a socket and handshake state. ServerCredentialsFromFlags
// validates the flag.
void ApplyHandshakeTimeoutFromFlags(grpc::ServerBuilder& builder);

}  // namespace alliance

#endif  // ALLIANCE_COMMON_SECURITY_H_
