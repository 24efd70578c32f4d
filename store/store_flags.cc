// Definitions of the Redis and partition flags and the configuration built from them.
#include "store/store_flags.h"

#include "absl/flags/flag.h"
#include "absl/strings/ascii.h"
#include "common/process.h"

ABSL_FLAG(std::string, redis_host, "127.0.0.1", "Redis host name or address.");
ABSL_FLAG(int32_t, redis_port, 6379, "Redis port.");
ABSL_FLAG(std::string, redis_password_file, "",
          "File holding the Redis password (AUTH); empty for none.");
ABSL_FLAG(int32_t, redis_timeout_ms, 2000, "Timeout of Redis connects and commands, in ms.");
ABSL_FLAG(int32_t, partitions, 8,
          "Number of feedback partitions (streams). Intake, worker and insights must agree.");
namespace alliance {

absl::StatusOr<RedisEndpoint> RedisEndpointFromFlags() {
  RedisEndpoint endpoint;
  endpoint.host = absl::GetFlag(FLAGS_redis_host);
  endpoint.port = absl::GetFlag(FLAGS_redis_port);
  int timeout_ms = absl::GetFlag(FLAGS_redis_timeout_ms);
  if (endpoint.port <= 0 || endpoint.port > 65535) {
    return absl::InvalidArgumentError("--redis_port must be 1..65535");
  }
  if (timeout_ms <= 0) return absl::InvalidArgumentError("--redis_timeout_ms must be positive");
  endpoint.connect_timeout = absl::Milliseconds(timeout_ms);
  endpoint.command_timeout = absl::Milliseconds(timeout_ms);
  std::string password_file = absl::GetFlag(FLAGS_redis_password_file);
  if (!password_file.empty()) {
    absl::StatusOr<std::string> password = ReadFileToString(password_file);
    if (!password.ok()) return password.status();
    endpoint.password = std::string(absl::StripTrailingAsciiWhitespace(*password));
  }
  return endpoint;
}

absl::StatusOr<KeyLayout> KeyLayoutFromFlags() {
  int partitions = absl::GetFlag(FLAGS_partitions);
  if (partitions < 1 || partitions > 1024) {
    return absl::InvalidArgumentError("--partitions must be 1..1024");
  }
  return KeyLayout(partitions);
}

}  // namespace alliance
