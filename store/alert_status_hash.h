// The codec of an alert's workflow status hash (KeyLayout::AlertStatus, docs/redis-layout.md):
// fields status ("acknowledged" | "resolved"), by and at of the latest change, and
// acknowledged_by/_at, resolved_by/_at so that both steps keep their who and when (RFC 3339
// UTC); snoozed_by/_at/_until and snooze_reason of the latest snooze, and snooze_ended_at once
// an acknowledge or resolve ended it. A snooze never changes `status`: whether the alert is
// SNOOZED is decided here, at read time. Read by store/alert_status_reads.h, returned by the
// scripts of store/alert_writes.h.
#ifndef ALLIANCE_STORE_ALERT_STATUS_HASH_H_
#define ALLIANCE_STORE_ALERT_STATUS_HASH_H_

#include "absl/status/status.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "alliance/v1/common.pb.h"
#include "store/redis_connection.h"

namespace alliance {

// Sets status, who and when on `alert` from a hash as HGETALL returns it ([field, value, ...];
// empty when there is no hash: OPEN). The status is the effective one at `now`: SNOOZED while
// a snooze that no acknowledge or resolve ended lasts (now < snoozed_until) on an alert that is
// not resolved; otherwise the stored status (OPEN without one). The snooze's fields are set
// whether it still lasts or not (history). INTERNAL, leaving `alert` unchanged, for an error
// reply or a reply that is not an array of strings; an unknown status value or field is
// ignored.
absl::Status ApplyAlertStatusHash(const redisReply& reply, alliance::v1::Alert* alert,
                                  absl::Time now = absl::Now());

}  // namespace alliance

#endif  // ALLIANCE_STORE_ALERT_STATUS_HASH_H_
