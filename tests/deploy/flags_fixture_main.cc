// Test fixture for the manifest/flag consistency check: a binary that defines the agreed
// conventions (shared flags, --listen_host, --grpc_port, --http_port, --shutdown_timeout,
// --max_connection_age_ms) and parses them the way the services do (flags with ALLIANCE_*
// environment equivalents), then exits.
// Built twice: as a gRPC service and, with ALLIANCE_FIXTURE_WORKER, as the worker.
// It lets the checker's pass and fail paths be tested before and besides the real binaries.
#include <cstdint>
#include <cstdio>
#include <string>

#include "absl/flags/flag.h"
#include "absl/time/time.h"
#include "common/process.h"

ABSL_FLAG(std::string, redis_host, "127.0.0.1", "Redis host.");
ABSL_FLAG(int32_t, redis_port, 6379, "Redis port.");
ABSL_FLAG(std::string, redis_password_file, "", "Redis password file.");
ABSL_FLAG(int32_t, redis_timeout_ms, 2000, "Redis timeout in ms.");
ABSL_FLAG(int32_t, partitions, 8, "Feedback partitions.");
ABSL_FLAG(std::string, redis_cluster_nodes, "", "Redis Cluster seed nodes.");
ABSL_FLAG(int32_t, redis_wait_replicas, -1, "Replicas a write must reach.");
ABSL_FLAG(int32_t, redis_wait_timeout_ms, 1000, "Longest WAIT in ms.");
ABSL_FLAG(int32_t, health_port, 0, "Plaintext gRPC health port.");
ABSL_FLAG(int32_t, metrics_port, 0, "Prometheus port.");
ABSL_FLAG(std::string, instruments_dir, "", "Extra instruments.");
ABSL_FLAG(std::string, rules_file, "", "Rule thresholds.");
ABSL_FLAG(std::string, log_level, "info", "Log level.");
ABSL_FLAG(std::string, listen_host, "127.0.0.1", "Address every port binds.");
#ifndef ALLIANCE_FIXTURE_WORKER  // the worker serves no gRPC API, only health
ABSL_FLAG(absl::Duration, shutdown_timeout, absl::Seconds(20), "Drain time on SIGTERM.");
ABSL_FLAG(int32_t, grpc_port, 50051, "gRPC port.");
ABSL_FLAG(int32_t, max_connection_age_ms, 300000, "gRPC connection age in ms.");
ABSL_FLAG(std::string, api_keys_file, "", "Hashed API keys.");
ABSL_FLAG(int32_t, http_port, 0, "HTTP (FHIR) port.");
ABSL_FLAG(std::string, web_root, "", "Dashboard page folder (insights).");
#endif

int main(int argc, char** argv) {
  alliance::ParseFlagsWithEnv(argc, argv, "flag fixture for the deploy checks");
  std::printf("health_port=%d\n", absl::GetFlag(FLAGS_health_port));
  return 0;
}
