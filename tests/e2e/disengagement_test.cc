// Disengagement end to end: intake -> worker -> insights. A client who stops rating while the
// therapist goes on raises a `disengagement` alert that ListAlerts finds by its kind, and the
// client's next rating a `reengaged` one. Runs on one Redis and on a Redis Cluster (the
// PipelineTest instantiation in pipeline_test.cc).
#include <chrono>

#include "tests/e2e/pipeline_fixture.h"

namespace alliance::testing {
namespace {

TEST_P(PipelineTest, ClientWhoStopsRatingRaisesDisengagementListedByKind) {
  auto list = [&](v1::AlertKind kind) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    v1::ListAlertsRequest request;
    request.set_tenant_id("clinic-a");
    request.set_therapist_id("th-1");
    request.set_client_id("cl-9");
    request.add_kinds(kind);
    v1::ListAlertsResponse response;
    grpc::Status status = insights_stub_->ListAlerts(&context, request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response;
  };
  // Both rate sessions 1 and 2; the therapist alone rates 3 and 4 (N = 2 by default).
  for (int s = 1; s <= 2; ++s) {
    SubmitOrFail(UniformRating("clinic-a", "th-1", "cl-9", s, 10, v1::RATER_CLIENT));
    SubmitOrFail(UniformRating("clinic-a", "th-1", "cl-9", s, 10, v1::RATER_THERAPIST));
  }
  SubmitOrFail(UniformRating("clinic-a", "th-1", "cl-9", 3, 10, v1::RATER_THERAPIST));
  SubmitOrFail(UniformRating("clinic-a", "th-1", "cl-9", 4, 10, v1::RATER_THERAPIST));
  // The record is written with its alerts in one step.
  ASSERT_TRUE(WaitForDyad("clinic-a", "th-1", "cl-9", 6).ok());

  v1::ListAlertsResponse disengaged = list(v1::ALERT_KIND_DISENGAGEMENT);
  ASSERT_EQ(disengaged.alerts_size(), 1);
  const v1::Alert& d = disengaged.alerts(0);
  EXPECT_EQ(d.reason(), v1::REASON_CLIENT_NOT_RATING);
  EXPECT_EQ(d.severity(), v1::SEVERITY_HIGH);
  EXPECT_EQ(d.session_number(), 4);
  EXPECT_EQ(d.evidence().before(), 2);
  EXPECT_EQ(list(v1::ALERT_KIND_RUPTURE).alerts_size(), 0);
  EXPECT_EQ(list(v1::ALERT_KIND_REENGAGED).alerts_size(), 0);

  // The client rates session 5: one reengaged event of that episode.
  SubmitOrFail(UniformRating("clinic-a", "th-1", "cl-9", 5, 10, v1::RATER_CLIENT));
  ASSERT_TRUE(WaitForDyad("clinic-a", "th-1", "cl-9", 7).ok());
  v1::ListAlertsResponse back = list(v1::ALERT_KIND_REENGAGED);
  ASSERT_EQ(back.alerts_size(), 1);
  EXPECT_EQ(back.alerts(0).episode_id(), d.alert_id());
  EXPECT_EQ(list(v1::ALERT_KIND_DISENGAGEMENT).alerts_size(), 1);
}

}  // namespace
}  // namespace alliance::testing
