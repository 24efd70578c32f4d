// Reading a dyad's stored record. The worker keeps it in two keys of the dyad's partition:
// - the head (KeyLayout::DyadState): every DyadRecord field except ratings and alerts, the
//   version first; rewritten by every write, and small;
// - the log (KeyLayout::DyadLog): the ratings and alerts (DyadRecord fields 5 and 7 in wire
//   format), to which each write appends only what is new.
// Concatenated, their bytes are one DyadRecord in protobuf wire format (repeated fields
// accumulate, the head's singular fields appear once), so a rating costs its own bytes instead
// of the whole history's. A record written in one key, before the log existed, is the head
// alone; readers take both forms.
#ifndef ALLIANCE_STORE_DYAD_RECORD_IO_H_
#define ALLIANCE_STORE_DYAD_RECORD_IO_H_

#include <optional>
#include <string_view>

#include "absl/status/statusor.h"
#include "alliance/internal/v1/records.pb.h"
#include "store/keys.h"
#include "store/redis_connection.h"

namespace alliance {

struct StoredDyad {
  internal::v1::DyadRecord record;
  // The log key exists: its bytes hold the record's ratings and alerts (else they are all in
  // the head, or there are none).
  bool has_log = false;
};

// Queues the read of a dyad's head and log (one MGET: the keys share the partition's hash
// tag). Read the reply with GetReply and decode it with ParseStoredDyad.
void AppendStoredDyadRead(RedisConnection& redis, const KeyLayout& layout, int partition,
                          std::string_view tenant, std::string_view therapist,
                          std::string_view client);

// The dyad of an AppendStoredDyadRead reply: nullopt when it has no head (never written, or
// erased); DATA_LOSS when the bytes are not a DyadRecord; an error reply as its status.
absl::StatusOr<std::optional<StoredDyad>> ParseStoredDyad(const redisReply& reply);

// Both in one round trip.
absl::StatusOr<std::optional<StoredDyad>> ReadStoredDyad(RedisConnection& redis,
                                                         const KeyLayout& layout, int partition,
                                                         std::string_view tenant,
                                                         std::string_view therapist,
                                                         std::string_view client);

}  // namespace alliance

#endif  // ALLIANCE_STORE_DYAD_RECORD_IO_H_
