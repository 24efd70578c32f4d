// The feedback entry, both ways: an entry of a partition's feedback stream holds the fields
// v (kEntryVersion), tenant, accepted_id and entry, the last being the submission as an
// alliance.internal.v1.FeedbackEntry (binary); docs/redis-layout.md. Intake writes it (through
// store/lua/append_feedback.lua), the worker decodes it.
//
// The payload is written straight from the validated request: the bytes are exactly what
// FeedbackEntry's serializer produces, without copying the Feedback message into a
// FeedbackEntry first (a deep copy of every string and answer per call).
#ifndef ALLIANCE_STORE_FEEDBACK_ENTRY_H_
#define ALLIANCE_STORE_FEEDBACK_ENTRY_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "alliance/v1/intake.pb.h"
#include "analytics/dyad_analysis.h"
#include "analytics/registry.h"
#include "store/stream_entry.h"

namespace alliance {

// Serialized FeedbackEntry{feedback, accepted_id, accepted_at}, appended to `out` (cleared first).
void EncodeFeedbackEntry(const alliance::v1::Feedback& feedback, std::string_view accepted_id,
                         absl::Time accepted_at, std::string* out);

// A feedback entry ready to apply.
struct DecodedFeedback {
  std::string stream_id;
  analytics::DyadKey dyad;
  analytics::Rating rating;
  std::string session_id;
  std::string idempotency_id;
};

// Decodes and validates a feedback stream entry (docs/redis-layout.md). INVALID_ARGUMENT with
// the reason when the entry can never be applied: unsupported version, missing or undecodable
// fields, unknown instrument, answers that do not fit the instrument.
absl::StatusOr<DecodedFeedback> DecodeFeedback(const StreamEntry& entry,
                                               const analytics::InstrumentRegistry& registry);

}  // namespace alliance

#endif  // ALLIANCE_STORE_FEEDBACK_ENTRY_H_
