// End-to-end fixture: a real redis-server plus the three real deployables (intake, worker,
// insights) as child processes on free loopback ports, and gRPC stubs to talk to them.
#ifndef ALLIANCE_TESTS_E2E_PIPELINE_FIXTURE_H_
#define ALLIANCE_TESTS_E2E_PIPELINE_FIXTURE_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "alliance/v1/insights.grpc.pb.h"
#include "alliance/v1/intake.grpc.pb.h"
#include "gtest/gtest.h"
#include "tests/support/child_process.h"
#include "tests/support/redis_server.h"

namespace alliance::testing {

class PipelineTest : public ::testing::Test {
 protected:
  static constexpr int kPartitions = 4;

  void SetUp() override;
  void TearDown() override;

  // Polls GetDyad until it has applied `ratings` ratings (bounded: 30 s).
  absl::StatusOr<v1::Dyad> WaitForDyad(const std::string& tenant, const std::string& therapist,
                                       const std::string& client, int ratings);
  // Sum of XLEN over all feedback partitions.
  long long FeedbackStreamLength();

  RedisServer redis_;
  ChildProcess intake_, worker_, insights_;
  std::string log_dir_;
  std::unique_ptr<v1::FeedbackIntake::Stub> intake_stub_;
  std::unique_ptr<v1::AllianceInsights::Stub> insights_stub_;
};

}  // namespace alliance::testing

#endif  // ALLIANCE_TESTS_E2E_PIPELINE_FIXTURE_H_
