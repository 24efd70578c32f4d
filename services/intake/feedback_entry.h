// The stream entry payload of a submission (alliance.internal.v1.FeedbackEntry, binary), written
// straight from the validated request: the bytes are exactly what FeedbackEntry's serializer
// produces, without copying the Feedback message into a FeedbackEntry first (a deep copy of
// every string and answer per call).
#ifndef ALLIANCE_SERVICES_INTAKE_FEEDBACK_ENTRY_H_
#define ALLIANCE_SERVICES_INTAKE_FEEDBACK_ENTRY_H_

#include <string>
#include <string_view>

#include "absl/time/time.h"
#include "alliance/v1/intake.pb.h"

namespace alliance::intake {

// Serialized FeedbackEntry{feedback, accepted_id, accepted_at}, appended to `out` (cleared first).
void EncodeFeedbackEntry(const alliance::v1::Feedback& feedback, std::string_view accepted_id,
                         absl::Time accepted_at, std::string* out);

}  // namespace alliance::intake

#endif  // ALLIANCE_SERVICES_INTAKE_FEEDBACK_ENTRY_H_
