// Checks of a SnoozeAlert request that need no Redis: the reason (free text, whose content is
// never echoed in an error) and the time limit, `until` or `duration`, turned into the time the
// snooze ends. Pure: the caller passes the clock and the --max_snooze bound.
#ifndef ALLIANCE_SERVICES_INSIGHTS_SNOOZE_REQUEST_H_
#define ALLIANCE_SERVICES_INSIGHTS_SNOOZE_REQUEST_H_

#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "alliance/v1/insights.pb.h"

namespace alliance::insights {

inline constexpr int kMaxSnoozeReasonChars = 200;
inline constexpr absl::Duration kMinSnooze = absl::Minutes(1);

// INVALID_ARGUMENT naming "reason" unless `reason` is valid UTF-8 of 1..200 characters (code
// points), not all blank, without control characters (C0, DEL, C1, line and paragraph
// separators, bidirectional overrides).
absl::Status CheckSnoozeReason(std::string_view reason);

// When the snooze of `request` ends: its `until`, or `now` + its `duration`. INVALID_ARGUMENT
// naming the field when neither is set ("until"), the value is not a valid Timestamp or
// Duration, or the snooze would last less than kMinSnooze or more than `max` from `now`.
absl::StatusOr<absl::Time> SnoozeEnd(const alliance::v1::SnoozeAlertRequest& request,
                                     absl::Time now, absl::Duration max);

}  // namespace alliance::insights

#endif  // ALLIANCE_SERVICES_INSIGHTS_SNOOZE_REQUEST_H_
