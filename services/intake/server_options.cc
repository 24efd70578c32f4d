// Transport flags of the gRPC servers and how they map to gRPC channel arguments.
#include "services/intake/server_options.h"

#include <grpc/grpc.h>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"

// Loopback unless asked, so a binary started by hand exposes nothing; containers set 0.0.0.0.
ABSL_FLAG(std::string, listen_host, "127.0.0.1",
          "Address the gRPC, health and metrics ports bind to; 0.0.0.0 for every interface.");
ABSL_FLAG(int32_t, grpc_port, 50051, "gRPC port.");
ABSL_FLAG(int32_t, max_message_bytes, 1 << 20,
          "Largest request message the server accepts, in bytes; larger ones are refused with "
          "RESOURCE_EXHAUSTED before they are parsed.");
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
          "spreads over new pods; 0 for no limit.");
ABSL_FLAG(int32_t, max_connection_age_grace_ms, 30000,
          "Time calls in flight get to finish after a connection reached its maximum age.");
ABSL_FLAG(int32_t, max_connection_idle_ms, 0,
          "Connections idle for this long are closed; 0 for no limit.");
ABSL_FLAG(int32_t, max_concurrent_streams, 0,
          "Concurrent calls per connection; 0 for the gRPC default.");

namespace alliance::intake {

absl::Status ValidateServerOptionFlags() {
  auto check = [](const char* name, int32_t value, int32_t min) -> absl::Status {
    if (value < min) {
      return absl::InvalidArgumentError(absl::StrCat("--", name, " must be at least ", min));
    }
    return absl::OkStatus();
  };
  for (absl::Status s : {
           check("max_message_bytes", absl::GetFlag(FLAGS_max_message_bytes), 1024),
           check("keepalive_time_ms", absl::GetFlag(FLAGS_keepalive_time_ms), 1000),
           check("keepalive_timeout_ms", absl::GetFlag(FLAGS_keepalive_timeout_ms), 100),
           check("min_ping_interval_ms", absl::GetFlag(FLAGS_min_ping_interval_ms), 0),
           check("max_connection_age_ms", absl::GetFlag(FLAGS_max_connection_age_ms), 0),
           check("max_connection_age_grace_ms", absl::GetFlag(FLAGS_max_connection_age_grace_ms),
                 0),
           check("max_connection_idle_ms", absl::GetFlag(FLAGS_max_connection_idle_ms), 0),
           check("max_concurrent_streams", absl::GetFlag(FLAGS_max_concurrent_streams), 0),
       }) {
    if (!s.ok()) return s;
  }
  int port = absl::GetFlag(FLAGS_grpc_port);
  if (port < 0 || port > 65535) return absl::InvalidArgumentError("--grpc_port must be 0..65535");
  return absl::OkStatus();
}

void ApplyServerOptionsFromFlags(grpc::ServerBuilder& builder) {
  builder.SetMaxReceiveMessageSize(absl::GetFlag(FLAGS_max_message_bytes));
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
  if (int streams = absl::GetFlag(FLAGS_max_concurrent_streams); streams > 0) {
    builder.AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS, streams);
  }
}

std::string ListenAddress(const std::string& host, int port) {
  if (host.find(':') != std::string::npos && host.front() != '[') {
    return absl::StrCat("[", host, "]:", port);
  }
  return absl::StrCat(host, ":", port);
}

}  // namespace alliance::intake
