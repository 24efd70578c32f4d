// The idempotency record of one submission: "<content hash>|<stream id>|<accepted id>", kept
// under KeyLayout::Idempotency for the idempotency window. store/lua/append_feedback.lua writes
// it and answers retries from it; erasure reads it to find a client's records.
#ifndef ALLIANCE_STORE_IDEMPOTENCY_RECORD_H_
#define ALLIANCE_STORE_IDEMPOTENCY_RECORD_H_

#include <optional>
#include <string>
#include <string_view>

namespace alliance {

struct IdempotencyRecord {
  std::string content_hash;  // hex of the submission's content hash (no '|')
  std::string stream_id;     // the feedback entry's id
  std::string accepted_id;   // the id intake answered with (no '|')

  bool operator==(const IdempotencyRecord&) const = default;

  std::string Encode() const;
  // nullopt unless the value has exactly three '|'-separated parts, none of them empty.
  static std::optional<IdempotencyRecord> Parse(std::string_view value);
};

}  // namespace alliance

#endif  // ALLIANCE_STORE_IDEMPOTENCY_RECORD_H_
