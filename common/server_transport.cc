// Transport flags of the gRPC servers and how they map to gRPC channel arguments.
#include "common/server_transport.h"

#include <grpc/grpc.h>
#include <grpcpp/resource_quota.h>

#include <limits>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"

ABSL_FLAG(int32_t, grpc_memory_quota_mib, 256,
          "Memory gRPC's transport may hold for connections and the requests they are "
          "receiving, in MiB (a gRPC resource quota). Near it gRPC shrinks reads and windows; "
          "beyond it, it closes idle connections and cancels calls in flight "
          "(RESOURCE_EXHAUSTED), so the process sheds load instead of growing.");
ABSL_FLAG(int32_t, max_concurrent_streams, 100,
          "Concurrent calls per connection the server allows (HTTP/2 "
          "SETTINGS_MAX_CONCURRENT_STREAMS); clients queue calls beyond it.");
ABSL_FLAG(int32_t, keepalive_time_ms, 30000,
          "Interval of server keepalive pings on idle connections, in ms.");
ABSL_FLAG(int32_t, keepalive_timeout_ms, 10000,
          "How long the server waits for a keepalive ping's answer before closing, in ms.");
ABSL_FLAG(bool, keepalive_permit_without_calls, true,
          "Accept client keepalive pings on connections without calls in flight.");
ABSL_FLAG(int32_t, min_ping_interval_ms, 10000,
          "Shortest interval between client pings the server tolerates, in ms.");
ABSL_FLAG(int32_t, max_connection_age_ms, 300000,
          "Connections are closed (GOAWAY) after about this age, so clients reconnect and load "
          "spreads over new pods; 0 for no limit. Watch streams cut this way resume from their "
          "cursor.");
ABSL_FLAG(int32_t, max_connection_age_grace_ms, 30000,
          "Time calls in flight get to finish after a connection reached its maximum age.");
ABSL_FLAG(int32_t, max_connection_idle_ms, 0,
          "Connections idle for this long are closed; 0 for no limit.");

namespace alliance {

absl::Status ValidateServerTransportFlags() {
  auto check = [](const char* name, int32_t value, int32_t min) -> absl::Status {
    if (value < min) {
      return absl::InvalidArgumentError(absl::StrCat("--", name, " must be at least ", min));
    }
    return absl::OkStatus();
  };
  for (absl::Status s : {
           check("grpc_memory_quota_mib", absl::GetFlag(FLAGS_grpc_memory_quota_mib), 8),
           check("max_concurrent_streams", absl::GetFlag(FLAGS_max_concurrent_streams), 1),
           check("keepalive_time_ms", absl::GetFlag(FLAGS_keepalive_time_ms), 1000),
           check("keepalive_timeout_ms", absl::GetFlag(FLAGS_keepalive_timeout_ms), 100),
           check("min_ping_interval_ms", absl::GetFlag(FLAGS_min_ping_interval_ms), 0),
           check("max_connection_age_ms", absl::GetFlag(FLAGS_max_connection_age_ms), 0),
           check("max_connection_age_grace_ms", absl::GetFlag(FLAGS_max_connection_age_grace_ms),
                 0),
           check("max_connection_idle_ms", absl::GetFlag(FLAGS_max_connection_idle_ms), 0),
       }) {
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

void ApplyServerTransportFromFlags(grpc::ServerBuilder& builder, size_t max_request_bytes) {
  // Requests are parsed only once whole, so this and the stream cap bound what one connection
  // can make the server hold; the quota bounds all connections together.
  builder.SetMaxReceiveMessageSize(static_cast<int>(
      std::min(max_request_bytes, static_cast<size_t>(std::numeric_limits<int>::max()))));
  builder.AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS,
                             absl::GetFlag(FLAGS_max_concurrent_streams));
  grpc::ResourceQuota quota("alliance-grpc-server");
  quota.Resize(static_cast<size_t>(absl::GetFlag(FLAGS_grpc_memory_quota_mib)) << 20);
  builder.SetResourceQuota(quota);  // the builder keeps its own reference
  // gRPC binds with SO_REUSEPORT by default: a second process on the same port would start
  // "successfully" and silently take half the connections. Fail at start-up instead.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS, absl::GetFlag(FLAGS_keepalive_time_ms));
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS,
                             absl::GetFlag(FLAGS_keepalive_timeout_ms));
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS,
                             absl::GetFlag(FLAGS_keepalive_permit_without_calls) ? 1 : 0);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS,
                             absl::GetFlag(FLAGS_min_ping_interval_ms));
  // Pings without data are how clients keep idle connections alive; do not punish them.
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MAX_PING_STRIKES, 0);
  if (int age = absl::GetFlag(FLAGS_max_connection_age_ms); age > 0) {
    builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_AGE_MS, age);
    builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_AGE_GRACE_MS,
                               absl::GetFlag(FLAGS_max_connection_age_grace_ms));
  }
  if (int idle = absl::GetFlag(FLAGS_max_connection_idle_ms); idle > 0) {
    builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_IDLE_MS, idle);
  }
}

}  // namespace alliance
