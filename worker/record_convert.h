// Conversions between the analytics library's structs and the stored / API protos: stored
// ratings <-> analytics ratings, the analysis -> alliance.v1.Dyad, alert events ->
// alliance.v1.Alert, and the alert stream's field values.
#ifndef ALLIANCE_WORKER_RECORD_CONVERT_H_
#define ALLIANCE_WORKER_RECORD_CONVERT_H_

#include <string>
#include <string_view>

#include "alliance/internal/v1/records.pb.h"
#include "alliance/v1/common.pb.h"
#include "analytics/dyad_analysis.h"

namespace alliance::worker {

analytics::Rating RatingFromStored(const internal::v1::StoredRating& stored);
internal::v1::StoredRating StoredFromRating(const analytics::Rating& rating,
                                            std::string_view session_id,
                                            std::string_view idempotency_id);

// The rolling picture (updated_at is left for the caller to set).
alliance::v1::Dyad DyadFromAnalysis(const analytics::DyadKey& key,
                                    const analytics::DyadAnalysis& analysis);

// One alert event (detected_at and workflow status are left for the caller).
alliance::v1::Alert AlertFromEvent(const analytics::DyadKey& key,
                                   const analytics::AlertEvent& event);

// Alert stream field values: "rupture" / "repaired" / "unrepaired" and
// "info" / "warning" / "high" / "critical".
std::string_view AlertKindName(alliance::v1::AlertKind kind);
std::string_view SeverityName(alliance::v1::Severity severity);

// alliance.v1.Alert as proto3 JSON (the alert stream's "alert" field).
std::string AlertJson(const alliance::v1::Alert& alert);

}  // namespace alliance::worker

#endif  // ALLIANCE_WORKER_RECORD_CONVERT_H_
