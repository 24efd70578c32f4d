// One start-up and shutdown for the gRPC services (alliance-intake, alliance-insights): the
// main port with the transport options of common/server_transport.h, handshake timeout and
// TLS/mTLS credentials with reload (common/security.h), the health service
// (common/health_publisher.h) on the main port and on the plaintext health port
// (common/health_only_server.h), reflection only with --enable_reflection
// (common/reflection.h), and the drain on SIGTERM: health NOT_SERVING, stop accepting calls,
// calls in flight get a bounded grace, then the server shuts down; the whole shutdown is bounded
// by --shutdown_timeout (exit codes: common/process.h). Each main parses its flags, builds its
// service and hands both to this.
#ifndef ALLIANCE_COMMON_GRPC_SERVER_BOOTSTRAP_H_
#define ALLIANCE_COMMON_GRPC_SERVER_BOOTSTRAP_H_

#include <grpcpp/grpcpp.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "absl/flags/declare.h"
#include "absl/status/status.h"
#include "absl/time/time.h"
#include "common/health_only_server.h"
#include "common/health_publisher.h"

ABSL_DECLARE_FLAG(std::string, listen_host);
ABSL_DECLARE_FLAG(int32_t, grpc_port);
ABSL_DECLARE_FLAG(absl::Duration, shutdown_timeout);

namespace alliance {

// Defaults of the shared server flags that differ per binary. Unset fields keep the flag's own
// default (common/server_transport.cc).
struct GrpcServerDefaults {
  int32_t grpc_port = 0;
  absl::Duration shutdown_timeout = absl::Seconds(15);
  std::optional<int32_t> keepalive_time_ms;
  std::optional<int32_t> max_connection_age_ms;
  std::optional<int32_t> max_connection_age_grace_ms;
  std::optional<int32_t> max_concurrent_streams;
};

// Makes `defaults` the binary's defaults: call in main before ParseFlagsWithEnv (the
// environment and the command line still win, and --help shows these values).
void SetGrpcServerFlagDefaults(const GrpcServerDefaults& defaults);

// Checks --listen_host, --grpc_port, --health_port, --shutdown_timeout, --handshake_timeout_ms
// and the transport flags; INVALID_ARGUMENT naming the flag.
absl::Status ValidateGrpcServerFlags();

// What a binary's server is: the health name of its service and its largest request.
struct GrpcServerOptions {
  // grpc.health.v1 name of the service, e.g. "alliance.v1.FeedbackIntake".
  std::string service_name;
  // gRPC's receive limit: the bound of the service's largest method.
  size_t max_request_bytes = 4 << 20;
};

class GrpcServerBootstrap {
 public:
  explicit GrpcServerBootstrap(GrpcServerOptions options);
  // Shuts the servers down at once if they still run (an error path of main).
  ~GrpcServerBootstrap();
  GrpcServerBootstrap(const GrpcServerBootstrap&) = delete;
  GrpcServerBootstrap& operator=(const GrpcServerBootstrap&) = delete;

  // Validates the flags (ValidateGrpcServerFlags) and builds the main port's credentials from
  // them: configuration errors, before the binary connects to anything.
  absl::Status Configure();

  // Health of "", "liveness" and the service name; the binary reports Redis through it.
  HealthPublisher& health() { return health_; }

  // Starts `service` on --listen_host:--grpc_port (TLS when configured; port 0 picks a free
  // one) and the health-only server on --health_port (if not 0). UNAVAILABLE naming the
  // address when a port cannot be bound. Configure first.
  absl::Status Start(grpc::Service* service);
  int grpc_port() const { return grpc_port_; }
  int health_port() const { return health_server_.port(); }

  // Blocks until SIGTERM or SIGINT, logs "shutdown_started", and from then on bounds the
  // process' life by --shutdown_timeout (exit 1 beyond it). Returns when the signal came.
  absl::Time WaitForShutdownSignal();

  // The grace of calls in flight for a shutdown started at `started`: 80 % of
  // --shutdown_timeout, the rest is for the binary's own teardown after Drain.
  static absl::Time DrainDeadline(absl::Time started);

  // Health NOT_SERVING on both ports, then `before_stop` (e.g. end watch streams with their
  // cursors), then stops accepting calls and waits for the calls in flight until
  // `grace_deadline`, cancelling those still open; last, the health port stops.
  void Drain(absl::Time grace_deadline, const std::function<void()>& before_stop = {});

 private:
  const GrpcServerOptions options_;
  HealthPublisher health_;
  std::shared_ptr<grpc::ServerCredentials> credentials_;
  std::unique_ptr<grpc::Server> server_;
  HealthOnlyServer health_server_;
  int grpc_port_ = 0;
};

}  // namespace alliance

#endif  // ALLIANCE_COMMON_GRPC_SERVER_BOOTSTRAP_H_
