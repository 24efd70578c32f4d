// Opaque strings handed to clients: the WatchAlerts cursor and the page tokens of ListDyads,
// ListAlerts and ListTherapistSummaries. All are URL-safe base64 of a short versioned text, so
// they can be stored, logged and passed on a command line; clients must treat them as opaque.
#ifndef ALLIANCE_SERVICES_INSIGHTS_TOKENS_H_
#define ALLIANCE_SERVICES_INSIGHTS_TOKENS_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "store/stream_id.h"

namespace alliance::insights {

// Watch cursor: for each partition, a position everything up to which the watcher has been
// given (the later of its own tenant's last entry and the time floor, see watch_reactor.h).
// Text form before encoding: "w1:<id of p0>,<id of p1>,...".
std::string EncodeWatchCursor(const Positions& positions);
// INVALID_ARGUMENT when malformed (including the id <max>-<max>) or made for a different
// number of partitions.
absl::StatusOr<Positions> DecodeWatchCursor(std::string_view cursor, int partitions);

// ListDyads page token: the last "therapist:client" member already returned or skipped.
std::string EncodeDyadPageToken(std::string_view after_member);
absl::StatusOr<std::string> DecodeDyadPageToken(std::string_view token);

// ListTherapistSummaries page token: the last therapist id already returned.
std::string EncodeTherapistPageToken(std::string_view after_therapist);
absl::StatusOr<std::string> DecodeTherapistPageToken(std::string_view token);

// ListAlerts page token: per partition, where the newest-first walk stands. nullopt means the
// partition is exhausted; a StreamId (never 0-0) means "continue strictly before this id".
using AlertWalk = std::vector<std::optional<StreamId>>;
std::string EncodeAlertPageToken(const AlertWalk& walk);
absl::StatusOr<AlertWalk> DecodeAlertPageToken(std::string_view token, int partitions);

}  // namespace alliance::insights

#endif  // ALLIANCE_SERVICES_INSIGHTS_TOKENS_H_
