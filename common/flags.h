// Flags every Alliance binary shares (ports, instrument and rule data, logging; the Redis flags
// are store/store_flags.h), and
// helpers that turn them into configuration. Each flag has an environment equivalent
// ALLIANCE_<NAME> (see process.h), e.g. ALLIANCE_REDIS_HOST.
#ifndef ALLIANCE_COMMON_FLAGS_H_
#define ALLIANCE_COMMON_FLAGS_H_

#include <cstdint>
#include <string>

#include "absl/flags/declare.h"
#include "absl/status/statusor.h"
#include "analytics/registry.h"
#include "analytics/rules.h"

ABSL_DECLARE_FLAG(int32_t, health_port);
ABSL_DECLARE_FLAG(int32_t, metrics_port);
ABSL_DECLARE_FLAG(std::string, instruments_dir);
ABSL_DECLARE_FLAG(std::string, rules_file);
ABSL_DECLARE_FLAG(std::string, log_level);

namespace alliance {

// Built-in instruments plus every *.json file in --instruments_dir (if set). A bad file is an
// error naming the file and the field.
absl::StatusOr<analytics::InstrumentRegistry> InstrumentRegistryFromFlags();

// Rule thresholds from --rules_file (JSON), or the documented defaults when unset.
absl::StatusOr<analytics::RuleConfig> RuleConfigFromFlags();

// Applies --log_level, names the component in every log line, and routes libprotobuf's and
// gRPC's own log output into the JSON log at a bounded rate (common/library_logs.h).
absl::Status InitLogFromFlags(std::string_view component);

}  // namespace alliance

#endif  // ALLIANCE_COMMON_FLAGS_H_
