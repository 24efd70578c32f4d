// A dyad's session-by-session timeline: every stored rating scored with its instrument, its
// flagged items (information only), and the alert events raised at that session for that
// rater and instrument.
#ifndef ALLIANCE_SERVICES_INSIGHTS_TIMELINE_H_
#define ALLIANCE_SERVICES_INSIGHTS_TIMELINE_H_

#include "alliance/internal/v1/records.pb.h"
#include "alliance/v1/insights.pb.h"
#include "analytics/registry.h"

namespace alliance::insights {

// Points ordered by session number, then rater. A rating whose instrument is unknown to
// `registry` (or no longer fits it) keeps its point, without scores, so its alerts still show.
// Alerts keep whatever status they carry (callers overlay statuses first).
alliance::v1::GetDyadTimelineResponse BuildTimeline(
    const alliance::internal::v1::DyadRecord& record,
    const analytics::InstrumentRegistry& registry);

}  // namespace alliance::insights

#endif  // ALLIANCE_SERVICES_INSIGHTS_TIMELINE_H_
