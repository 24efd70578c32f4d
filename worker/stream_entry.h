// Stream entries as read from Redis replies (XREADGROUP / XRANGE), and the decoding and
// validation of a feedback entry into a rating the analytics library can apply.
#ifndef ALLIANCE_WORKER_STREAM_ENTRY_H_
#define ALLIANCE_WORKER_STREAM_ENTRY_H_

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "analytics/dyad_analysis.h"
#include "analytics/registry.h"
#include "common/redis_connection.h"

namespace alliance::worker {

struct StreamEntry {
  std::string id;
  std::vector<std::pair<std::string, std::string>> fields;
  // The id is still pending but the entry itself was deleted from the stream.
  bool deleted = false;

  // Value of a field, or nullptr.
  const std::string* Field(std::string_view name) const;
};

// Parses an array of [id, [field, value, ...]] (the entries part of a stream reply).
absl::StatusOr<std::vector<StreamEntry>> ParseEntries(const redisReply& reply);

// A feedback entry ready to apply.
struct DecodedFeedback {
  std::string stream_id;
  analytics::DyadKey dyad;
  analytics::Rating rating;
  std::string session_id;
};

// Decodes and validates a feedback stream entry (docs/redis-layout.md). INVALID_ARGUMENT with
// the reason when the entry can never be applied: unsupported version, missing or undecodable
// fields, unknown instrument, answers that do not fit the instrument.
absl::StatusOr<DecodedFeedback> DecodeFeedback(const StreamEntry& entry,
                                               const analytics::InstrumentRegistry& registry);

}  // namespace alliance::worker

#endif  // ALLIANCE_WORKER_STREAM_ENTRY_H_
