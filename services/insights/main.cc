// alliance-insights: the read side of Alliance. Serves AllianceInsights (dyads, timelines,
// alerts, alert workflow, live alert streams) from Redis over gRPC.
#include <algorithm>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>

#include "absl/flags/flag.h"
#include "absl/time/clock.h"
#include "common/flags.h"
#include "common/grpc_server_bootstrap.h"
#include "common/http/http_flags.h"
#include "common/http/http_server.h"
#include "common/http/static_files.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/process.h"
#include "common/security.h"
#include "services/insights/dashboard_api.h"
#include "services/insights/dashboard_session.h"
#include "services/insights/fhir_http.h"
#include "services/insights/insights_service.h"
#include "services/insights/redis_pool.h"
#include "services/insights/service_metrics.h"
#include "services/insights/watch_hub.h"
#include "services/insights/watch_quota.h"
#include "services/insights/watch_reactor.h"
#include "store/partition_guard.h"
#include "store/store_flags.h"

ABSL_FLAG(int32_t, redis_threads, 4, "Threads (and Redis connections) serving queries.");
ABSL_FLAG(int32_t, max_queued_queries, 10000,
          "Queries waiting for a Redis thread before RESOURCE_EXHAUSTED.");
ABSL_FLAG(int32_t, watch_buffer, 1024,
          "Messages buffered per watcher; a watcher that falls further behind is ended with "
          "RESOURCE_EXHAUSTED and a resume cursor.");
ABSL_FLAG(int32_t, heartbeat_ms, 15000, "Idle time after which a watch stream gets a heartbeat.");
ABSL_FLAG(int32_t, max_watchers, 2000, "Concurrent WatchAlerts streams per process.");
ABSL_FLAG(int32_t, max_watchers_per_key, 50,
          "Concurrent WatchAlerts streams per API key and process (none with --auth_disabled).");
ABSL_FLAG(int32_t, max_watchers_per_tenant, 200,
          "Concurrent WatchAlerts streams per tenant and process, all its keys together.");
ABSL_FLAG(std::string, web_root, "",
          "Folder of the dashboard page (<build>/web, scripts/web-tools.sh assemble), read into "
          "memory at start-up and served on the HTTP port at / ; empty: no page.");
ABSL_FLAG(int32_t, watch_end_grace_ms, 10000,
          "Time the client of an ended watch stream gets to read its last messages and status "
          "before the stream is reset, in ms.");

namespace alliance::insights {
namespace {

// Every AllianceInsights request is a few ids and filters plus at most one page token or watch
// cursor, which tokens.cc refuses beyond 64 KiB: 128 KiB bounds every valid request, and gRPC
// refuses larger ones with RESOURCE_EXHAUSTED before they are parsed.
constexpr size_t kMaxRequestBytes = 128 << 10;

constexpr char kServiceName[] = "alliance.v1.AllianceInsights";

constexpr char kUsage[] =
    "alliance-insights: AllianceInsights gRPC service (dyads, alerts, live alert streams).\n"
    "Every flag has an environment equivalent, e.g. --grpc_port / ALLIANCE_GRPC_PORT.";

// Exit code by kind (common/process.h): 2 configuration, 1 runtime.
int Fail(std::string_view event, const absl::Status& status) { return FailStartup(event, status); }

bool Positive(std::string_view name, int value) {
  if (value > 0) return true;
  LogError("invalid_flag", {{"flag", name}, {"error", std::string_view("must be positive")}});
  return false;
}

int Main(int argc, char** argv) {
  BlockShutdownSignals();
  // Watch streams cut by the connection age resume from their cursor, so insights keeps the
  // shared connection age; its calls are short reads, so a short drain.
  GrpcServerDefaults defaults;
  defaults.grpc_port = 50052;
  defaults.shutdown_timeout = absl::Seconds(5);
  SetGrpcServerFlagDefaults(defaults);
  ParseFlagsWithEnv(argc, argv, kUsage);
  if (absl::Status s = InitLogFromFlags("insights"); !s.ok()) {
    std::fprintf(stderr, "%s\n", std::string(s.message()).c_str());
    return kExitBadConfiguration;
  }
  absl::StatusOr<RedisEndpoint> endpoint = RedisEndpointFromFlags();
  if (!endpoint.ok()) return Fail("invalid_redis_flags", endpoint.status());
  absl::StatusOr<KeyLayout> layout = KeyLayoutFromFlags();
  if (!layout.ok()) return Fail("invalid_partitions", layout.status());
  absl::StatusOr<RedisTarget> target = RedisTargetFromFlags();
  if (!target.ok()) return Fail("invalid_redis_flags", target.status());
  if (absl::Status s = CheckPartitionCountAtStart(*target, *layout); !s.ok()) {
    return Fail("partition_count_mismatch", s);
  }
  absl::StatusOr<analytics::InstrumentRegistry> registry = InstrumentRegistryFromFlags();
  if (!registry.ok()) return Fail("invalid_instruments", registry.status());
  // The therapist summaries' active window and prior strengths come from the rules file.
  absl::StatusOr<analytics::RuleConfig> rules = RuleConfigFromFlags();
  if (!rules.ok()) return Fail("invalid_rules", rules.status());
  QueryLimits limits;
  limits.summaries = rules->summaries;
  if (!Positive("redis_threads", absl::GetFlag(FLAGS_redis_threads)) ||
      !Positive("max_queued_queries", absl::GetFlag(FLAGS_max_queued_queries)) ||
      !Positive("watch_buffer", absl::GetFlag(FLAGS_watch_buffer)) ||
      !Positive("heartbeat_ms", absl::GetFlag(FLAGS_heartbeat_ms)) ||
      !Positive("max_watchers", absl::GetFlag(FLAGS_max_watchers)) ||
      !Positive("max_watchers_per_key", absl::GetFlag(FLAGS_max_watchers_per_key)) ||
      !Positive("max_watchers_per_tenant", absl::GetFlag(FLAGS_max_watchers_per_tenant)) ||
      !Positive("watch_end_grace_ms", absl::GetFlag(FLAGS_watch_end_grace_ms))) {
    return kExitBadConfiguration;
  }

  absl::StatusOr<std::unique_ptr<Authorizer>> authorizer = AuthorizerFromFlags();
  if (!authorizer.ok()) return Fail("invalid_auth_flags", authorizer.status());
  // Listening, TLS, health, reflection and drain: common/grpc_server_bootstrap.h.
  GrpcServerBootstrap server({kServiceName, kMaxRequestBytes});
  if (absl::Status s = server.Configure(); !s.ok()) return Fail("invalid_flag", s);
  // The HTTP port (FHIR; docs/fhir.md) when --http_port is set.
  absl::StatusOr<http::ServerOptions> http_options = http::HttpServerOptionsFromFlags();
  if (!http_options.ok()) return Fail("invalid_flag", http_options.status());
  absl::StatusOr<SessionOptions> session_options =
      SessionOptionsFromFlags(/*secure_cookie=*/http_options->tls.enabled());
  if (!session_options.ok()) return Fail("invalid_flag", session_options.status());
  // The dashboard page (docs/dashboard.md, "The page"): read once here, so a bad folder stops
  // the start and nothing on disk is read while serving.
  std::optional<http::StaticFiles> web_files;
  if (const std::string web_root = absl::GetFlag(FLAGS_web_root); !web_root.empty()) {
    if (http_options->port == 0) {
      return Fail("invalid_flag",
                  absl::InvalidArgumentError("--web_root needs --http_port (the page's port)"));
    }
    absl::StatusOr<http::StaticFiles> loaded = http::StaticFiles::Load(web_root);
    if (!loaded.ok()) return Fail("invalid_web_root", loaded.status());
    web_files = *std::move(loaded);
    LogInfo("web_root_loaded", {{"files", static_cast<int64_t>(web_files->file_count())},
                                {"bytes", static_cast<int64_t>(web_files->total_bytes())}});
  }

  MetricsRegistry metrics_registry;
  ServiceMetrics metrics(&metrics_registry);
  MetricsServer metrics_server(&metrics_registry);
  if (absl::Status s =
          metrics_server.Start(absl::GetFlag(FLAGS_listen_host), absl::GetFlag(FLAGS_metrics_port));
      !s.ok()) {
    return Fail("metrics_server_failed", s);
  }

  // With --redis_cluster_nodes every pool thread and the alert reader hold a cluster client.
  RedisPool pool(*endpoint, absl::GetFlag(FLAGS_redis_threads),
                 static_cast<size_t>(absl::GetFlag(FLAGS_max_queued_queries)), target->cluster);
  pool.Start();
  const absl::Duration heartbeat = absl::Milliseconds(absl::GetFlag(FLAGS_heartbeat_ms));
  WatchHubOptions hub_options;
  hub_options.block = std::min(absl::Milliseconds(500), heartbeat / 2);
  hub_options.tick = std::min(absl::Milliseconds(100), heartbeat / 4);
  // One fan-out batch fills at most half of a watcher's buffer (every partition may return a
  // full batch), so only a watcher that reads slower than alerts arrive is cut off.
  hub_options.read_count =
      std::clamp(absl::GetFlag(FLAGS_watch_buffer) / (2 * layout->partitions()), 1, 1000);
  WatchHub hub(
      *endpoint, *layout, hub_options,
      // "" and AllianceInsights are NOT_SERVING while the alert reader cannot reach Redis.
      [&server](bool ok) { server.health().SetServing(ok); }, target->cluster);
  hub.Start();

  WatchQuota watch_quota(WatchLimits{absl::GetFlag(FLAGS_max_watchers_per_key),
                                     absl::GetFlag(FLAGS_max_watchers_per_tenant)});
  WatchEnvironment watch;
  watch.hub = &hub;
  watch.pool = &pool;
  watch.layout = &*layout;
  watch.metrics = &metrics;
  watch.authorizer = authorizer->get();
  watch.options.buffer = static_cast<size_t>(absl::GetFlag(FLAGS_watch_buffer));
  watch.options.heartbeat = heartbeat;
  watch.options.max_watchers = absl::GetFlag(FLAGS_max_watchers);
  watch.options.end_grace = absl::Milliseconds(absl::GetFlag(FLAGS_watch_end_grace_ms));
  watch.quota = &watch_quota;
  InsightsService service(&pool, &*layout, &*registry, &metrics, &watch, limits, authorizer->get());
  const QueryDeps query_deps{&*layout, &*registry, limits};
  const RequestAuthenticator session_auth(&pool, &*layout, authorizer->get(), *session_options);

  if (absl::Status s = server.Start(&service); !s.ok()) return Fail("grpc_listen_failed", s);
  std::unique_ptr<http::Server> http_server;
  if (http_options->port != 0) {
    http::Router router;
    AddFhirRoutes({&pool, &*layout, &*registry, authorizer->get(), &metrics}, router);
    // The dashboard API (docs/dashboard.md); its SSE streams share the watch limits and end
    // with the hub at shutdown.
    // Sign-in (docs/dashboard.md, "Sign-in"): every dashboard route takes a key or the
    // session cookie through the one authenticator.
    session_auth.AddRoutes(router);
    AddDashboardRoutes({&pool, &query_deps, authorizer->get(), &metrics, &watch, &session_auth},
                       router);
    // After the API routes: the page's files are literal paths, never under /api or /fhir.
    if (web_files) web_files->AddRoutes(router);
    absl::StatusOr<std::unique_ptr<http::Server>> http_started =
        http::Server::Start(*http_options, std::move(router));
    if (!http_started.ok()) {
      server.Drain(absl::Now(), [&hub] { hub.Stop(); });
      pool.Stop();
      return Fail("http_listen_failed", http_started.status());
    }
    http_server = *std::move(http_started);
  }
  LogInfo("started", {{"grpc_port", static_cast<int64_t>(server.grpc_port())},
                      {"health_port", static_cast<int64_t>(server.health_port())},
                      {"http_port", static_cast<int64_t>(http_server ? http_server->port() : 0)},
                      {"partitions", static_cast<int64_t>(layout->partitions())}});

  const absl::Time started = server.WaitForShutdownSignal();
  // Watch streams end first, with UNAVAILABLE and their resume cursors.
  const absl::Time drain_deadline = GrpcServerBootstrap::DrainDeadline(started);
  server.Drain(drain_deadline, [&hub] { hub.Stop(); });
  // Its queries in flight finish on the pool, which stops after it.
  if (http_server) http_server->Shutdown(drain_deadline);
  pool.Stop();
  metrics_server.Stop();
  LogInfo("shutdown_complete", {{"seconds", absl::ToDoubleSeconds(absl::Now() - started)}});
  return kExitOk;
}

}  // namespace
}  // namespace alliance::insights

int main(int argc, char** argv) { return alliance::insights::Main(argc, argv); }
