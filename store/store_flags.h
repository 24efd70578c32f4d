// The flags that say where Alliance's Redis is and how its data is laid out (--redis_*,
// --partitions), shared by every deployable, and the configuration built from them. Each flag
// has an environment equivalent ALLIANCE_<NAME> (see common/process.h).
#ifndef ALLIANCE_STORE_STORE_FLAGS_H_
#define ALLIANCE_STORE_STORE_FLAGS_H_

#include <cstdint>
#include <string>

#include "absl/flags/declare.h"
#include "absl/status/statusor.h"
#include "store/keys.h"
#include "store/redis_connection.h"

ABSL_DECLARE_FLAG(std::string, redis_host);
ABSL_DECLARE_FLAG(int32_t, redis_port);
ABSL_DECLARE_FLAG(std::string, redis_password_file);
ABSL_DECLARE_FLAG(int32_t, redis_timeout_ms);
ABSL_DECLARE_FLAG(int32_t, partitions);

namespace alliance {

// Redis endpoint from --redis_host, --redis_port, --redis_password_file, --redis_timeout_ms.
absl::StatusOr<RedisEndpoint> RedisEndpointFromFlags();

// Key layout from --partitions (1..1024).
absl::StatusOr<KeyLayout> KeyLayoutFromFlags();

}  // namespace alliance

#endif  // ALLIANCE_STORE_STORE_FLAGS_H_
