// Validation of one submission before anything is written: identifiers, session, rater and
// instrument, and the answers against the instrument's definition. Errors are INVALID_ARGUMENT
// naming the field (relative to the Feedback message) and the rule that failed.
#ifndef ALLIANCE_SERVICES_INTAKE_VALIDATION_H_
#define ALLIANCE_SERVICES_INTAKE_VALIDATION_H_

#include <string_view>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "alliance/v1/intake.pb.h"
#include "analytics/registry.h"

namespace alliance::intake {

// Longest identifier accepted (tenant, idempotency, therapist, client, session ids).
inline constexpr size_t kMaxIdLength = 128;
// Highest session number accepted; anything above is a caller bug, not a long treatment.
inline constexpr int kMaxSessionNumber = 100000;

// True for 1..128 characters of [A-Za-z0-9._-].
bool IsValidId(std::string_view id);

struct ValidationPolicy {
  // How far in the future a session time may lie (clocks of callers drift).
  absl::Duration max_clock_skew = absl::Minutes(5);
};

// OK, or INVALID_ARGUMENT such as "client_id: must be 1..128 characters of [A-Za-z0-9._-]" or
// "answers[2].value: 7 is outside 1..5 for item 3". A field this server does not know (in
// Feedback, its session_time or an answer) is refused first: only known fields are stored.
// Then checks run in field order; the first failure is returned.
absl::Status ValidateFeedback(const alliance::v1::Feedback& feedback,
                              const analytics::InstrumentRegistry& registry,
                              const ValidationPolicy& policy, absl::Time now);

// The same status with `prefix` in front of its message, e.g. "feedback." or "feedback[3].".
absl::Status PrefixFieldPath(const absl::Status& status, std::string_view prefix);

}  // namespace alliance::intake

#endif  // ALLIANCE_SERVICES_INTAKE_VALIDATION_H_
