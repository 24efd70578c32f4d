// Stream entries as read from Redis replies (XREADGROUP / XRANGE / XAUTOCLAIM): an id and its
// field/value pairs, checked for shape. The entry formats themselves are the codecs of
// feedback_entry.h, alert_entry.h and dead_letter.h.
#ifndef ALLIANCE_STORE_STREAM_ENTRY_H_
#define ALLIANCE_STORE_STREAM_ENTRY_H_

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "store/redis_connection.h"

namespace alliance {

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

}  // namespace alliance

#endif  // ALLIANCE_STORE_STREAM_ENTRY_H_
