// Flags behind http_flags.h.
#include "common/http/http_flags.h"

#include <string>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "common/grpc_server_bootstrap.h"
#include "common/security.h"

ABSL_FLAG(int32_t, http_port, 0,
          "HTTP port (FHIR endpoints); 0: none. HTTPS when --tls_cert_file is set.");
ABSL_FLAG(int64_t, http_max_body_bytes, 1 << 20,
          "Largest HTTP request body; larger ones are answered 413 without being read.");
ABSL_FLAG(absl::Duration, http_idle_timeout, absl::Seconds(60),
          "A keep-alive HTTP connection with no new request for this long is closed.");
ABSL_FLAG(absl::Duration, http_read_timeout, absl::Seconds(10),
          "Bound on an HTTP connection's TLS handshake and on reading one request.");
ABSL_FLAG(int32_t, http_max_connections, 2048,
          "HTTP connections beyond this many are closed as soon as they are accepted.");
ABSL_FLAG(int32_t, http_threads, 1,
          "Threads of the HTTP server (asynchronous: one serves many connections).");

namespace alliance::http {

void SetHttpServerFlagDefaults(const HttpServerDefaults& defaults) {
  absl::SetFlag(&FLAGS_http_port, defaults.http_port);
}

absl::StatusOr<ServerOptions> HttpServerOptionsFromFlags() {
  ServerOptions options;
  options.host = absl::GetFlag(FLAGS_listen_host);
  int32_t port = absl::GetFlag(FLAGS_http_port);
  if (port < 0 || port > 65535) {
    return absl::InvalidArgumentError("--http_port must be 0 (none) to 65535");
  }
  options.port = port;
  int64_t max_body = absl::GetFlag(FLAGS_http_max_body_bytes);
  if (max_body < 1 || max_body > (int64_t{1} << 30)) {
    return absl::InvalidArgumentError("--http_max_body_bytes must be 1 to 1073741824");
  }
  options.max_body_bytes = static_cast<size_t>(max_body);
  auto duration = [](absl::Duration d, const char* flag) -> absl::Status {
    if (d < absl::Milliseconds(100) || d > absl::Hours(24)) {
      return absl::InvalidArgumentError(absl::StrCat("--", flag, " must be 100ms to 24h"));
    }
    return absl::OkStatus();
  };
  options.idle_timeout = absl::GetFlag(FLAGS_http_idle_timeout);
  if (absl::Status s = duration(options.idle_timeout, "http_idle_timeout"); !s.ok()) return s;
  options.read_timeout = absl::GetFlag(FLAGS_http_read_timeout);
  if (absl::Status s = duration(options.read_timeout, "http_read_timeout"); !s.ok()) return s;
  options.max_connections = absl::GetFlag(FLAGS_http_max_connections);
  if (options.max_connections < 1 || options.max_connections > 1000000) {
    return absl::InvalidArgumentError("--http_max_connections must be 1 to 1000000");
  }
  options.threads = absl::GetFlag(FLAGS_http_threads);
  if (options.threads < 1 || options.threads > 64) {
    return absl::InvalidArgumentError("--http_threads must be 1 to 64");
  }
  options.tls.cert_file = absl::GetFlag(FLAGS_tls_cert_file);
  options.tls.key_file = absl::GetFlag(FLAGS_tls_key_file);
  options.tls.client_ca_file = absl::GetFlag(FLAGS_tls_client_ca_file);
  if (options.tls.cert_file.empty() != options.tls.key_file.empty()) {
    return absl::InvalidArgumentError("--tls_cert_file and --tls_key_file go together");
  }
  if (!options.tls.enabled() && !options.tls.client_ca_file.empty()) {
    return absl::InvalidArgumentError("--tls_client_ca_file needs --tls_cert_file/--tls_key_file");
  }
  int32_t reload_s = absl::GetFlag(FLAGS_tls_reload_s);
  if (reload_s < 1) return absl::InvalidArgumentError("--tls_reload_s must be >= 1");
  options.tls.reload_interval = absl::Seconds(reload_s);
  return options;
}

}  // namespace alliance::http
