// Therapist summaries end to end: intake -> worker -> insights. Ratings submitted through the
// intake reach GetTherapistSummary and ListTherapistSummaries as the worker's sums, and
// DeleteClientData takes the erased client's dyad out of them. Runs on one Redis and on a
// Redis Cluster (the PipelineTest instantiation in pipeline_test.cc), so the sums' keys and
// scripts are checked to stay in their partition's slot.
#include <chrono>

#include "tests/e2e/pipeline_fixture.h"

namespace alliance::testing {
namespace {

TEST_P(PipelineTest, TherapistSummariesFollowRatingsAndErasure) {
  auto get = [&](const std::string& therapist, v1::GetTherapistSummaryResponse* response) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    v1::GetTherapistSummaryRequest request;
    request.set_tenant_id("clinic-s");
    request.set_therapist_id(therapist);
    return insights_stub_->GetTherapistSummary(&context, request, response);
  };
  // th-1: cl-a rated by client and therapist, cl-b by the client only; th-2: cl-c by both.
  for (int s = 1; s <= 3; ++s) {
    SubmitOrFail(UniformRating("clinic-s", "th-1", "cl-a", s, 4, v1::RATER_CLIENT));
    SubmitOrFail(UniformRating("clinic-s", "th-1", "cl-a", s, 4, v1::RATER_THERAPIST));
    SubmitOrFail(UniformRating("clinic-s", "th-1", "cl-b", s, 4, v1::RATER_CLIENT));
    SubmitOrFail(UniformRating("clinic-s", "th-2", "cl-c", s, 4, v1::RATER_CLIENT));
    SubmitOrFail(UniformRating("clinic-s", "th-2", "cl-c", s, 4, v1::RATER_THERAPIST));
  }
  ASSERT_TRUE(WaitForDyad("clinic-s", "th-1", "cl-a", 6).ok());
  ASSERT_TRUE(WaitForDyad("clinic-s", "th-1", "cl-b", 3).ok());
  ASSERT_TRUE(WaitForDyad("clinic-s", "th-2", "cl-c", 6).ok());

  v1::GetTherapistSummaryResponse th1;
  grpc::Status status = get("th-1", &th1);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(th1.summary().dyads(), 2);
  EXPECT_EQ(th1.summary().active_dyads().n(), 2);
  EXPECT_EQ(th1.summary().at_risk_share().n(), 2);
  EXPECT_EQ(th1.summary().at_risk_share().raw(), 0);
  EXPECT_EQ(th1.summary().ruptures_per_100_sessions().n(), 9);  // 6 + 3 ratings in use
  EXPECT_EQ(th1.summary().ruptures_per_100_sessions().raw(), 0);
  EXPECT_EQ(th1.summary().median_latest_client_pomp().raw(), 100);
  EXPECT_EQ(th1.summary().mean_client_therapist_gap_pomp().n(), 1);
  EXPECT_DOUBLE_EQ(th1.summary().mean_client_therapist_gap_pomp().raw(), 25);  // 100 - 75
  EXPECT_EQ(th1.tenant().dyads(), 3);
  EXPECT_EQ(th1.tenant().mean_client_therapist_gap_pomp().n(), 2);

  {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    v1::ListTherapistSummariesRequest request;
    request.set_tenant_id("clinic-s");
    v1::ListTherapistSummariesResponse response;
    status = insights_stub_->ListTherapistSummaries(&context, request, &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
    ASSERT_EQ(response.summaries_size(), 2);
    EXPECT_EQ(response.summaries(0).therapist_id(), "th-1");
    EXPECT_EQ(response.summaries(1).therapist_id(), "th-2");
    EXPECT_EQ(response.summaries(1).dyads(), 1);
    EXPECT_EQ(response.tenant().dyads(), 3);
  }

  // Erasing cl-a takes its dyad (and th-1's only gap) out of the sums.
  {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    v1::DeleteClientDataRequest request;
    request.set_tenant_id("clinic-s");
    request.set_client_id("cl-a");
    v1::DeleteClientDataResponse response;
    status = insights_stub_->DeleteClientData(&context, request, &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
  }
  status = get("th-1", &th1);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(th1.summary().dyads(), 1);
  EXPECT_EQ(th1.summary().ruptures_per_100_sessions().n(), 3);
  EXPECT_FALSE(th1.summary().mean_client_therapist_gap_pomp().defined());
  EXPECT_EQ(th1.tenant().dyads(), 2);
  EXPECT_EQ(th1.tenant().mean_client_therapist_gap_pomp().n(), 1);
}

}  // namespace
}  // namespace alliance::testing
