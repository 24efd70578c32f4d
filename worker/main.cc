// alliance-worker: the analytics worker (see docs/worker.md). Also replays dead letters with
// --replay_dead_letters.
#include <malloc.h>

#include <atomic>
#include <cstdio>
#include <thread>

#include "absl/flags/flag.h"
#include "common/flags.h"
#include "common/health_only_server.h"
#include "common/health_publisher.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/process.h"
#include "common/strings.h"
#include "store/partition_guard.h"
#include "store/store_flags.h"
#include "worker/dead_letter_replay.h"
#include "worker/worker.h"
#include "worker/worker_config.h"
#include "worker/worker_metrics.h"
#include "worker/worker_redis.h"

ABSL_FLAG(bool, replay_dead_letters, false,
          "Move every dead letter back to its feedback stream, print the count and exit.");
ABSL_FLAG(int32_t, replay_partition, -1, "With --replay_dead_letters: only this partition.");

namespace {

// Exit code by kind, the same in every binary (common/process.h): 2 configuration, 1 runtime.
int Fail(std::string_view event, const absl::Status& status) {
  return alliance::FailStartup(event, status);
}

}  // namespace

int main(int argc, char** argv) {
  // Every batch builds and frees command buffers of a few megabytes (dyad records in the apply
  // scripts). With glibc's defaults they are mapped and unmapped, or trimmed from the heap,
  // each time, and every page of them faults again; keep them in the heap instead.
  mallopt(M_MMAP_THRESHOLD, 64 << 20);
  mallopt(M_TRIM_THRESHOLD, 256 << 20);
  using namespace alliance;
  BlockShutdownSignals();
  ParseFlagsWithEnv(argc, argv, "alliance-worker: applies feedback to dyad state and alerts");
  if (absl::Status s = InitLogFromFlags("worker"); !s.ok()) {
    std::fprintf(stderr, "%s\n", std::string(s.message()).c_str());
    return kExitBadConfiguration;
  }
  absl::StatusOr<KeyLayout> layout = KeyLayoutFromFlags();
  if (!layout.ok()) return Fail("bad_flags", layout.status());
  absl::StatusOr<RedisTarget> target = RedisTargetFromFlags();
  if (!target.ok()) return Fail("bad_flags", target.status());
  if (absl::Status s = CheckPartitionCountAtStart(*target, *layout); !s.ok()) {
    return Fail("partition_count_mismatch", s);
  }

  if (absl::GetFlag(FLAGS_replay_dead_letters)) {
    absl::StatusOr<std::unique_ptr<worker::WorkerRedis>> redis =
        worker::WorkerRedis::Connect(*target, *layout, absl::ZeroDuration());
    if (!redis.ok()) return Fail("redis_unavailable", redis.status());
    absl::StatusOr<int64_t> moved =
        worker::ReplayDeadLetters(**redis, *layout, absl::GetFlag(FLAGS_replay_partition));
    if (!moved.ok()) return Fail("replay_failed", moved.status());
    LogInfo("dead_letters_replayed", {{"entries", *moved}});
    std::printf("%lld\n", static_cast<long long>(*moved));
    return 0;
  }

  absl::StatusOr<analytics::InstrumentRegistry> registry = InstrumentRegistryFromFlags();
  if (!registry.ok()) return Fail("bad_instruments", registry.status());
  absl::StatusOr<analytics::RuleConfig> rules = RuleConfigFromFlags();
  if (!rules.ok()) return Fail("bad_rules", rules.status());
  absl::StatusOr<worker::WorkerConfig> config = worker::WorkerConfigFromFlags();
  if (!config.ok()) return Fail("bad_flags", config.status());

  MetricsRegistry metrics_registry;
  worker::WorkerMetrics metrics(&metrics_registry, layout->partitions());
  MetricsServer metrics_server(&metrics_registry);
  if (absl::Status s = metrics_server.Start(config->metrics_host, config->metrics_port); !s.ok()) {
    return Fail("metrics_unavailable", s);
  }
  // The health port serves grpc.health.v1 only (the worker has no gRPC API): "" follows Redis,
  // "liveness" is SERVING while the process runs (common/health_publisher.h).
  HealthPublisher health;
  HealthOnlyServer health_server;
  if (config->health_port > 0) {
    absl::Status s = health_server.Start(ListenAddress(config->listen_host, config->health_port));
    if (!s.ok()) return Fail("health_unavailable", s);
    health.Attach(health_server.health());
  }

  LogInfo("starting", {{"worker_id", config->worker_id},
                       {"partitions", int64_t{layout->partitions()}},
                       {"batch_size", int64_t{config->batch_size}},
                       {"lease_ms", absl::ToInt64Milliseconds(config->lease)}});
  std::atomic<bool> stop{false};
  worker::Worker worker(*config, *layout, *target, &*registry, *rules, &metrics,
                        [&health](bool up) { health.SetServing(up); });
  std::thread loop([&] { worker.Run(stop); });
  WaitForShutdownSignal();
  LogInfo("stopping", {});
  health.SetShuttingDown();
  stop.store(true);
  loop.join();
  health_server.Shutdown(absl::Now() + absl::Seconds(2));
  metrics_server.Stop();
  LogInfo("stopped", {});
  return kExitOk;
}
