// Flags and builders behind security.h.
#include "common/security.h"

#include <grpcpp/security/tls_certificate_provider.h>
#include <grpcpp/security/tls_credentials_options.h>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "common/log.h"

ABSL_FLAG(std::string, api_keys_file, "",
          "JSON file of hashed API keys (id, sha256, tenant, scopes); reloaded when it changes.");
ABSL_FLAG(bool, auth_disabled, false,
          "Turn API-key authentication off (development only; every caller may name any "
          "tenant). Logged as a warning.");
ABSL_FLAG(int32_t, api_keys_reload_s, 10, "How often to check the API key file for changes.");
ABSL_FLAG(std::string, tls_cert_file, "",
          "PEM certificate chain of the gRPC port; empty: plaintext.");
ABSL_FLAG(std::string, tls_key_file, "", "PEM private key of the gRPC port.");
ABSL_FLAG(std::string, tls_client_ca_file, "",
          "PEM CA bundle; when set, clients must present a certificate it signed (mTLS).");
ABSL_FLAG(int32_t, tls_reload_s, 60, "How often to check certificate files for rotation.");
ABSL_FLAG(int32_t, handshake_timeout_ms, 10000,
          "A new connection of the gRPC port that has not finished its TLS handshake and HTTP/2 "
          "preface within this many ms is closed (gRPC's own default is 120000).");

namespace alliance {

absl::StatusOr<std::unique_ptr<Authorizer>> AuthorizerFromFlags() {
  if (absl::GetFlag(FLAGS_auth_disabled)) {
    LogWarning("auth_disabled",
               {{"detail", "API-key authentication is OFF: any caller may read any tenant"}});
    return std::make_unique<Authorizer>();
  }
  std::string file = absl::GetFlag(FLAGS_api_keys_file);
  if (file.empty()) {
    return absl::InvalidArgumentError(
        "--api_keys_file is required (or --auth_disabled for development)");
  }
  int reload_s = absl::GetFlag(FLAGS_api_keys_reload_s);
  if (reload_s < 1) return absl::InvalidArgumentError("--api_keys_reload_s must be >= 1");
  return Authorizer::FromKeyFile(file, absl::Seconds(reload_s));
}

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> ServerCredentialsFromFlags() {
  std::string cert = absl::GetFlag(FLAGS_tls_cert_file);
  std::string key = absl::GetFlag(FLAGS_tls_key_file);
  std::string client_ca = absl::GetFlag(FLAGS_tls_client_ca_file);
  if (absl::GetFlag(FLAGS_handshake_timeout_ms) < 100) {
    return absl::InvalidArgumentError("--handshake_timeout_ms must be at least 100");
  }
  if (cert.empty() && key.empty()) {
    if (!client_ca.empty()) {
      return absl::InvalidArgumentError(
          "--tls_client_ca_file needs --tls_cert_file/--tls_key_file");
    }
    return grpc::InsecureServerCredentials();
  }
  if (cert.empty() || key.empty()) {
    return absl::InvalidArgumentError("--tls_cert_file and --tls_key_file go together");
  }
  int reload_s = absl::GetFlag(FLAGS_tls_reload_s);
  if (reload_s < 1) return absl::InvalidArgumentError("--tls_reload_s must be >= 1");
  auto provider = client_ca.empty()
                      ? std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
                            key, cert, reload_s)
                      : std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
                            key, cert, client_ca, reload_s);
  grpc::experimental::TlsServerCredentialsOptions options(provider);
  options.watch_identity_key_cert_pairs();
  if (!client_ca.empty()) {
    options.watch_root_certs();
    options.set_cert_request_type(GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  } else {
    options.set_cert_request_type(GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  }
  auto credentials = grpc::experimental::TlsServerCredentials(options);
  if (credentials == nullptr) return absl::InvalidArgumentError("cannot build TLS credentials");
  LogInfo("tls_enabled", {{"mtls", !client_ca.empty()}});
  return credentials;
}

void ApplyHandshakeTimeoutFromFlags(grpc::ServerBuilder& builder) {
  builder.AddChannelArgument(GRPC_ARG_SERVER_HANDSHAKE_TIMEOUT_MS,
                             absl::GetFlag(FLAGS_handshake_timeout_ms));
}

}  // namespace alliance
