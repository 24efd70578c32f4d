// Synthetic, valid SRS submissions for load generation: every field is derived from one
// number, so the same number always yields the same content (retries are true duplicates).
#ifndef ALLIANCE_TOOLS_LOADGEN_SAMPLE_FEEDBACK_H_
#define ALLIANCE_TOOLS_LOADGEN_SAMPLE_FEEDBACK_H_

#include <cstdint>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "alliance/v1/intake.pb.h"

namespace alliance::loadgen {

// Fills `feedback` with submission number `k` of run `run_id` for one of `dyads` dyads.
// `base_time_s` anchors session times (a little in the past, so they are never "future").
inline void FillSampleFeedback(uint64_t k, const std::string& run_id, const std::string& tenant,
                               uint64_t dyads, int64_t base_time_s,
                               alliance::v1::Feedback* feedback) {
  uint64_t dyad = k % dyads;
  uint64_t session = k / dyads + 1;
  feedback->set_tenant_id(tenant);
  feedback->set_idempotency_id(absl::StrCat(run_id, "-", k));
  feedback->set_therapist_id(absl::StrCat("t", dyad % 97));
  feedback->set_client_id(absl::StrCat("c", dyad));
  feedback->set_session_id(absl::StrCat("s", dyad, "-", session));
  feedback->set_session_number(static_cast<int32_t>(session % 100000 + 1));
  feedback->mutable_session_time()->set_seconds(base_time_s - static_cast<int64_t>(k % 86400));
  feedback->set_rater(alliance::v1::RATER_CLIENT);
  feedback->set_instrument_id("srs");
  feedback->clear_answers();
  // SRS: four lines 0..10 in 0.1 steps; values kept exact in binary (multiples of 0.5).
  static constexpr double kValues[] = {10.0, 9.5, 9.0, 8.5, 7.0, 9.5, 10.0};
  for (int item = 1; item <= 4; ++item) {
    auto* answer = feedback->add_answers();
    answer->set_item(item);
    answer->set_value(kValues[(k + static_cast<uint64_t>(item)) % 7]);
  }
}

}  // namespace alliance::loadgen

#endif  // ALLIANCE_TOOLS_LOADGEN_SAMPLE_FEEDBACK_H_
