// Synthetic sample cohort: dozens of dyads with 10-20 sessions each, client and therapist
// ratings, covering the situations the product must tell apart (stable dyads, ceiling-effect
// noise, a V-shaped rupture that is repaired, a multi-session decline that is not, a
// client-therapist gap, a slow decline with no reliable step, a client who stops or pauses
// rating while the therapist goes on, a rupture after which nobody rates, items at the
// check-in value without a rupture). Deterministic for a given seed and last session day.
#ifndef ALLIANCE_TOOLS_COHORT_COHORT_H_
#define ALLIANCE_TOOLS_COHORT_COHORT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "analytics/registry.h"

namespace alliance::cohort {

struct SampleRating {
  std::string tenant_id;
  std::string idempotency_id;
  std::string therapist_id;
  std::string client_id;
  std::string session_id;
  int session_number = 0;
  absl::Time session_time;
  std::string rater;  // "client", "therapist" or "observer"
  std::string instrument_id;
  std::vector<double> answers;  // in item order
  std::string scenario;         // which situation the dyad illustrates (not exported)
};

struct CohortOptions {
  uint64_t seed = 20261125;
  std::string tenant_id = "demo-clinic";
  int dyads = 50;
  // Every dyad's last session (a silent dyad's planned one) falls on the day before, 08:00 to
  // 18:45 UTC, the earlier sessions a week apart.
  absl::Time last_session = absl::FromCivil(absl::CivilDay(2026, 11, 20), absl::UTCTimeZone());
};

// Ratings of the whole cohort, ordered by session time then dyad.
std::vector<SampleRating> GenerateCohort(const analytics::InstrumentRegistry& registry,
                                         const CohortOptions& options);

// One CSV line per rating in the alliancectl submit format (header included).
std::string ToCsv(const std::vector<SampleRating>& ratings);

}  // namespace alliance::cohort

#endif  // ALLIANCE_TOOLS_COHORT_COHORT_H_
