// The shared start-up and drain of the gRPC services; see grpc_server_bootstrap.h.
#include "common/grpc_server_bootstrap.h"

#include <grpcpp/health_check_service_interface.h>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/flags.h"
#include "common/log.h"
#include "common/process.h"
#include "common/reflection.h"
#include "common/security.h"
#include "common/server_transport.h"

// Loopback unless asked, so a binary started by hand exposes nothing; containers set 0.0.0.0.
ABSL_FLAG(std::string, listen_host, "127.0.0.1",
          "Address the gRPC, health and metrics ports bind to; 0.0.0.0 for every interface.");
// The default is each binary's (50051 intake, 50052 insights): SetGrpcServerFlagDefaults.
ABSL_FLAG(int32_t, grpc_port, 0, "Port of the service's gRPC API; 0 picks a free one.");
ABSL_FLAG(absl::Duration, shutdown_timeout, absl::Seconds(15),
          "Upper bound of a graceful shutdown after SIGTERM: calls in flight get 80% of it to "
          "finish, the process exits 1 if it still runs after all of it.");

namespace alliance {
namespace {

// A health check request is a service name: a few hundred bytes at most.
constexpr size_t kMaxHealthRequestBytes = 4096;

}  // namespace

void SetGrpcServerFlagDefaults(const GrpcServerDefaults& defaults) {
  absl::SetFlag(&FLAGS_grpc_port, defaults.grpc_port);
  absl::SetFlag(&FLAGS_shutdown_timeout, defaults.shutdown_timeout);
  if (defaults.keepalive_time_ms) {
    absl::SetFlag(&FLAGS_keepalive_time_ms, *defaults.keepalive_time_ms);
  }
  if (defaults.max_connection_age_ms) {
    absl::SetFlag(&FLAGS_max_connection_age_ms, *defaults.max_connection_age_ms);
  }
  if (defaults.max_connection_age_grace_ms) {
    absl::SetFlag(&FLAGS_max_connection_age_grace_ms, *defaults.max_connection_age_grace_ms);
  }
  if (defaults.max_concurrent_streams) {
    absl::SetFlag(&FLAGS_max_concurrent_streams, *defaults.max_concurrent_streams);
  }
}

absl::Status ValidateGrpcServerFlags() {
  if (absl::Status s = ValidateServerTransportFlags(); !s.ok()) return s;
  if (absl::GetFlag(FLAGS_listen_host).empty()) {
    return absl::InvalidArgumentError("--listen_host must not be empty");
  }
  const int grpc_port = absl::GetFlag(FLAGS_grpc_port);
  if (grpc_port < 0 || grpc_port > 65535) {
    return absl::InvalidArgumentError("--grpc_port must be 0..65535");
  }
  const int health_port = absl::GetFlag(FLAGS_health_port);
  if (health_port < 0 || health_port > 65535) {
    return absl::InvalidArgumentError("--health_port must be 0..65535");
  }
  if (absl::GetFlag(FLAGS_shutdown_timeout) < absl::Seconds(1)) {
    return absl::InvalidArgumentError("--shutdown_timeout must be at least 1s");
  }
  if (absl::GetFlag(FLAGS_handshake_timeout_ms) < 100) {
    return absl::InvalidArgumentError("--handshake_timeout_ms must be at least 100");
  }
  return absl::OkStatus();
}

GrpcServerBootstrap::GrpcServerBootstrap(GrpcServerOptions options)
    : options_(std::move(options)), health_({options_.service_name}) {}

GrpcServerBootstrap::~GrpcServerBootstrap() {
  const absl::Time now = absl::Now();
  if (server_ != nullptr) server_->Shutdown(absl::ToChronoTime(now));
  health_server_.Shutdown(now);
}

absl::Status GrpcServerBootstrap::Configure() {
  if (absl::Status s = ValidateGrpcServerFlags(); !s.ok()) return s;
  absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> credentials =
      ServerCredentialsFromFlags();
  if (!credentials.ok()) return credentials.status();
  credentials_ = *std::move(credentials);
  return absl::OkStatus();
}

absl::Status GrpcServerBootstrap::Start(grpc::Service* service) {
  if (credentials_ == nullptr) return absl::FailedPreconditionError("Configure before Start");
  const std::string host = absl::GetFlag(FLAGS_listen_host);
  // The health service is gRPC's default one, on every server of the process.
  grpc::EnableDefaultHealthCheckService(true);
  grpc::ServerBuilder builder;
  ApplyServerTransportFromFlags(builder, options_.max_request_bytes);
  ApplyHandshakeTimeoutFromFlags(builder);
  ApplyReflectionFromFlags(builder);
  const std::string address = ListenAddress(host, absl::GetFlag(FLAGS_grpc_port));
  // The main port speaks TLS when configured.
  builder.AddListeningPort(address, credentials_, &grpc_port_);
  builder.RegisterService(service);
  server_ = builder.BuildAndStart();
  if (server_ == nullptr || grpc_port_ == 0) {
    server_.reset();
    return absl::UnavailableError(absl::StrCat("cannot listen on ", address));
  }
  health_.Attach(server_->GetHealthCheckService());
  // Probes get their own plaintext server that serves grpc.health.v1 only: the API is never
  // reachable without TLS when TLS is on. Same transport limits, never reflection.
  if (const int health_port = absl::GetFlag(FLAGS_health_port); health_port > 0) {
    absl::Status started =
        health_server_.Start(ListenAddress(host, health_port), [](grpc::ServerBuilder& b) {
          ApplyServerTransportFromFlags(b, kMaxHealthRequestBytes);
          ServeReflection(b, false);
        });
    if (!started.ok()) return started;
    health_.Attach(health_server_.health());
  }
  return absl::OkStatus();
}

absl::Time GrpcServerBootstrap::WaitForShutdownSignal() {
  ::alliance::WaitForShutdownSignal();
  const absl::Time started = absl::Now();
  LogInfo("shutdown_started",
          {{"shutdown_timeout_s", absl::ToDoubleSeconds(absl::GetFlag(FLAGS_shutdown_timeout))}});
  ArmShutdownWatchdog(absl::GetFlag(FLAGS_shutdown_timeout));
  return started;
}

absl::Time GrpcServerBootstrap::DrainDeadline(absl::Time started) {
  return started + absl::GetFlag(FLAGS_shutdown_timeout) * 0.8;
}

void GrpcServerBootstrap::Drain(absl::Time grace_deadline,
                                const std::function<void()>& before_stop) {
  health_.SetShuttingDown();
  if (before_stop) before_stop();
  // Stops listening at once, refuses new calls, and waits for those in flight until the
  // deadline; gRPC cancels the rest then.
  if (server_ != nullptr) server_->Shutdown(absl::ToChronoTime(grace_deadline));
  // Kept to the end so that probes see NOT_SERVING while calls drain.
  health_server_.Shutdown(absl::Now());
  LogInfo("drained");
}

}  // namespace alliance
