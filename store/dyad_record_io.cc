// Reading a dyad's head and log and decoding them as one DyadRecord (see dyad_record_io.h).
#include "store/dyad_record_io.h"

#include <google/protobuf/io/coded_stream.h>

namespace alliance {

void AppendStoredDyadRead(RedisConnection& redis, const KeyLayout& layout, int partition,
                          std::string_view tenant, std::string_view therapist,
                          std::string_view client) {
  redis.Append({"MGET", layout.DyadState(partition, tenant, therapist, client),
                layout.DyadLog(partition, tenant, therapist, client)});
}

absl::StatusOr<std::optional<StoredDyad>> ParseStoredDyad(const redisReply& reply) {
  if (absl::Status s = ReplyStatus(reply); !s.ok()) return s;
  if (reply.type != REDIS_REPLY_ARRAY || reply.elements != 2) {
    return absl::InternalError("unexpected MGET reply for a dyad");
  }
  const redisReply& head = *reply.element[0];
  const redisReply& log = *reply.element[1];
  if (head.type != REDIS_REPLY_STRING) return std::nullopt;
  StoredDyad stored;
  stored.has_log = log.type == REDIS_REPLY_STRING;
  // Parsing the log after the head is parsing their concatenation: the log only adds
  // elements to the repeated fields.
  bool ok = stored.record.ParseFromArray(head.str, static_cast<int>(head.len));
  if (ok && stored.has_log && log.len > 0) {
    google::protobuf::io::CodedInputStream in(reinterpret_cast<const uint8_t*>(log.str),
                                              static_cast<int>(log.len));
    ok = stored.record.MergeFromCodedStream(&in) && in.ConsumedEntireMessage();
  }
  if (!ok) return absl::DataLossError("dyad state is not a readable DyadRecord");
  return stored;
}

absl::StatusOr<std::optional<StoredDyad>> ReadStoredDyad(RedisConnection& redis,
                                                         const KeyLayout& layout, int partition,
                                                         std::string_view tenant,
                                                         std::string_view therapist,
                                                         std::string_view client) {
  AppendStoredDyadRead(redis, layout, partition, tenant, therapist, client);
  absl::StatusOr<RedisReplyPtr> reply = redis.GetReply();
  if (!reply.ok()) return reply.status();
  return ParseStoredDyad(**reply);
}

}  // namespace alliance
