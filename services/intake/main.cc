// alliance-intake: accepts session feedback over gRPC and makes it durable in Redis Streams.
// Start-up wires flags, metrics, writers, health and the gRPC server; SIGTERM drains it.
#include <cstdio>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "common/flags.h"
#include "common/grpc_server_bootstrap.h"
#include "common/http/http_flags.h"
#include "common/http/http_server.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/process.h"
#include "common/security.h"
#include "services/intake/fhir_http.h"
#include "services/intake/intake_metrics.h"
#include "services/intake/intake_service.h"
#include "services/intake/request_limits.h"
#include "services/intake/server_options.h"
#include "services/intake/writer_pool.h"
#include "store/partition_guard.h"
#include "store/store_flags.h"

ABSL_FLAG(int32_t, writer_threads, 2, "Writer threads, each with its own Redis connection.");
ABSL_FLAG(int32_t, queue_capacity, 4096,
          "Submissions that may wait for a writer; beyond it calls get RESOURCE_EXHAUSTED.");
ABSL_FLAG(int32_t, max_pipeline, 128, "Submissions one writer pipelines to Redis at once.");
ABSL_FLAG(absl::Duration, idempotency_window, absl::Hours(24),
          "How long an idempotency id is remembered: a retry within it returns the original "
          "acknowledgement.");
ABSL_FLAG(absl::Duration, max_clock_skew, absl::Minutes(5),
          "How far in the future a session_time may lie before it is refused.");
ABSL_FLAG(int32_t, max_batch_items, alliance::intake::kDefaultMaxBatchItems,
          "Most submissions in one SubmitFeedbackBatch call; also sets the largest request "
          "gRPC accepts (this many of the largest valid submission).");

namespace alliance::intake {
namespace {

inline constexpr char kIntakeServiceName[] = "alliance.v1.FeedbackIntake";

// Exit code by kind (common/process.h): 2 configuration, 1 runtime.
int Fail(const absl::Status& status) { return FailStartup("startup_failed", status); }

absl::Status ValidateIntakeFlags() {
  if (absl::Status s = ValidateServerOptionFlags(); !s.ok()) return s;
  if (absl::GetFlag(FLAGS_writer_threads) < 1 || absl::GetFlag(FLAGS_writer_threads) > 64) {
    return absl::InvalidArgumentError("--writer_threads must be 1..64");
  }
  if (absl::GetFlag(FLAGS_queue_capacity) < 1) {
    return absl::InvalidArgumentError("--queue_capacity must be at least 1");
  }
  if (absl::GetFlag(FLAGS_max_pipeline) < 1) {
    return absl::InvalidArgumentError("--max_pipeline must be at least 1");
  }
  if (absl::GetFlag(FLAGS_idempotency_window) < absl::Seconds(1)) {
    return absl::InvalidArgumentError("--idempotency_window must be at least 1s");
  }
  if (absl::GetFlag(FLAGS_max_clock_skew) < absl::ZeroDuration()) {
    return absl::InvalidArgumentError("--max_clock_skew must not be negative");
  }
  if (absl::GetFlag(FLAGS_max_batch_items) < 1) {
    return absl::InvalidArgumentError("--max_batch_items must be at least 1");
  }
  return absl::OkStatus();
}

int Run() {
  if (absl::Status s = ValidateIntakeFlags(); !s.ok()) return Fail(s);
  auto endpoint = RedisEndpointFromFlags();
  if (!endpoint.ok()) return Fail(endpoint.status());
  auto layout = KeyLayoutFromFlags();
  if (!layout.ok()) return Fail(layout.status());
  auto target = RedisTargetFromFlags();
  if (!target.ok()) return Fail(target.status());
  if (absl::Status s = CheckPartitionCountAtStart(*target, *layout); !s.ok()) return Fail(s);
  auto registry = InstrumentRegistryFromFlags();
  if (!registry.ok()) return Fail(registry.status());

  auto authorizer = AuthorizerFromFlags();
  if (!authorizer.ok()) return Fail(authorizer.status());
  IntakeServiceOptions service_options;
  service_options.validation.max_clock_skew = absl::GetFlag(FLAGS_max_clock_skew);
  service_options.max_batch_items = absl::GetFlag(FLAGS_max_batch_items);
  const RequestLimits limits = ComputeRequestLimits(*registry, service_options.max_batch_items);
  service_options.max_submit_request_bytes = limits.submit_request_bytes;
  service_options.max_feedback_bytes = limits.feedback_bytes;
  // Listening, TLS, health, reflection and drain: common/grpc_server_bootstrap.h.
  GrpcServerBootstrap server({kIntakeServiceName, limits.max_request_bytes()});
  if (absl::Status s = server.Configure(); !s.ok()) return Fail(s);
  // The HTTP port (FHIR; docs/fhir.md) when --http_port is set.
  absl::StatusOr<http::ServerOptions> http_options = http::HttpServerOptionsFromFlags();
  if (!http_options.ok()) return Fail(http_options.status());

  MetricsRegistry metrics_registry;
  IntakeMetrics metrics(&metrics_registry);
  MetricsServer metrics_server(&metrics_registry);
  const std::string host = absl::GetFlag(FLAGS_listen_host);
  if (absl::Status s = metrics_server.Start(host, absl::GetFlag(FLAGS_metrics_port)); !s.ok()) {
    return Fail(s);
  }

  WriterPoolOptions pool_options;
  pool_options.endpoint = *endpoint;
  pool_options.layout = *layout;
  pool_options.cluster = target->cluster;
  pool_options.wait_replicas = target->wait_replicas;
  pool_options.wait_timeout = target->wait_timeout;
  if (pool_options.wait_replicas > 0) {
    // A round's replies end with WAIT's, which may take the whole WAIT timeout.
    pool_options.endpoint.command_timeout += pool_options.wait_timeout;
    if (pool_options.cluster) pool_options.cluster->command_timeout += pool_options.wait_timeout;
  }
  pool_options.threads = absl::GetFlag(FLAGS_writer_threads);
  pool_options.queue_capacity = static_cast<size_t>(absl::GetFlag(FLAGS_queue_capacity));
  pool_options.max_pipeline = static_cast<size_t>(absl::GetFlag(FLAGS_max_pipeline));
  pool_options.idempotency_window = absl::GetFlag(FLAGS_idempotency_window);
  // "" and FeedbackIntake are NOT_SERVING while no writer reaches Redis.
  WriterPool pool(pool_options, &metrics, [&server](bool up) { server.health().SetServing(up); });
  pool.Start();

  IntakeService service(service_options, &*registry, *layout, &pool, &metrics, authorizer->get());

  if (absl::Status s = server.Start(&service); !s.ok()) {
    pool.Shutdown(absl::Now());
    return Fail(s);
  }
  std::unique_ptr<http::Server> http_server;
  if (http_options->port != 0) {
    http::Router router;
    AddFhirRoutes(&service, router);
    absl::StatusOr<std::unique_ptr<http::Server>> started =
        http::Server::Start(*http_options, std::move(router));
    if (!started.ok()) {
      server.Drain(absl::Now());
      pool.Shutdown(absl::Now());
      return Fail(started.status());
    }
    http_server = *std::move(started);
  }
  LogInfo("listening",
          {{"grpc_port", int64_t{server.grpc_port()}},
           {"health_port", int64_t{server.health_port()}},
           {"http_port", int64_t{http_server ? http_server->port() : 0}},
           {"metrics_port", int64_t{absl::GetFlag(FLAGS_metrics_port)}},
           {"writer_threads", int64_t{pool_options.threads}},
           {"queue_capacity", static_cast<int64_t>(pool_options.queue_capacity)},
           {"max_request_bytes", static_cast<int64_t>(limits.max_request_bytes())},
           {"max_submit_request_bytes", static_cast<int64_t>(limits.submit_request_bytes)},
           {"partitions", int64_t{layout->partitions()}}});

  const absl::Time started = server.WaitForShutdownSignal();
  LogInfo("draining", {{"queued", static_cast<int64_t>(pool.queue_depth())}});
  // Calls in flight get most of the budget; after it they are failed UNAVAILABLE unwritten.
  const absl::Time drain_deadline = GrpcServerBootstrap::DrainDeadline(started);
  // Stop accepting calls, and wait for the ones in flight: the writers complete them.
  server.Drain(drain_deadline);
  if (http_server) http_server->Shutdown(drain_deadline);
  pool.Shutdown(drain_deadline);
  metrics_server.Stop();
  LogInfo("shutdown_complete", {{"seconds", absl::ToDoubleSeconds(absl::Now() - started)}});
  return 0;
}

}  // namespace
}  // namespace alliance::intake

int main(int argc, char** argv) {
  alliance::BlockShutdownSignals();
  alliance::GrpcServerDefaults defaults;  // alliance-intake's own; the rest are shared
  defaults.grpc_port = 50051;
  defaults.shutdown_timeout = absl::Seconds(15);  // time for the writers' queue to empty
  alliance::SetGrpcServerFlagDefaults(defaults);
  // Debian's Abseil checks every Mutex acquisition for lock-order cycles (a debugging aid that
  // costs several percent of CPU in gRPC's hot paths); production binaries do not need it.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  alliance::ParseFlagsWithEnv(argc, argv,
                              "alliance-intake: accepts session feedback over gRPC and appends "
                              "it to Redis Streams.\nEvery flag --name may be set as "
                              "ALLIANCE_NAME in the environment.");
  if (absl::Status s = alliance::InitLogFromFlags("intake"); !s.ok()) {
    std::fprintf(stderr, "%s\n", std::string(s.message()).c_str());
    return alliance::kExitBadConfiguration;
  }
  return alliance::intake::Run();
}
