// End-to-end fixture: Redis plus the three real deployables (intake, worker, insights) as child
// processes on free loopback ports, and gRPC stubs to talk to them. Every test runs twice: on
// one redis-server, and on a local Redis Cluster of three primaries and three replicas with the
// deployables in cluster mode.
#ifndef ALLIANCE_TESTS_E2E_PIPELINE_FIXTURE_H_
#define ALLIANCE_TESTS_E2E_PIPELINE_FIXTURE_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "alliance/v1/insights.grpc.pb.h"
#include "alliance/v1/intake.grpc.pb.h"
#include "gtest/gtest.h"
#include "store/cluster_client.h"
#include "tests/support/child_process.h"
#include "tests/support/redis_cluster.h"
#include "tests/support/redis_server.h"

namespace alliance::testing {

enum class RedisMode { kSingle, kCluster };

// A uniform rating of `session` in `tenant`: the client's SRS at its top (every line 10, POMP
// 100) or the therapist's WAI-SR-T at 4 of 5 on every item (POMP 75), dated
// (last_session - session) weeks before now.
v1::Feedback UniformRating(const std::string& tenant, const std::string& therapist,
                           const std::string& client, int session, int last_session,
                           v1::Rater rater);

class PipelineTest : public ::testing::TestWithParam<RedisMode> {
 protected:
  static constexpr int kPartitions = 4;

  void SetUp() override;
  void TearDown() override;

  // Polls GetDyad until it has applied `ratings` ratings (bounded: 30 s).
  absl::StatusOr<v1::Dyad> WaitForDyad(const std::string& tenant, const std::string& therapist,
                                       const std::string& client, int ratings);
  // Sum of XLEN over all feedback partitions.
  long long FeedbackStreamLength();
  // One command on the node that holds `key` (the one redis-server, or the key's primary).
  absl::StatusOr<RedisReplyPtr> RedisCommand(std::string_view key,
                                             const std::vector<std::string_view>& args);
  // Stops every Redis process.
  void KillRedis();
  // Submits `feedback` through intake; a failure is a test failure (check HasFatalFailure).
  void SubmitOrFail(const v1::Feedback& feedback);

  RedisServer redis_;                      // RedisMode::kSingle
  std::unique_ptr<RedisCluster> cluster_;  // RedisMode::kCluster
  std::unique_ptr<ClusterClient> cluster_client_;
  ChildProcess intake_, worker_, insights_;
  std::string log_dir_;
  std::unique_ptr<v1::FeedbackIntake::Stub> intake_stub_;
  std::unique_ptr<v1::AllianceInsights::Stub> insights_stub_;
  int intake_http_port_ = 0;    // POST /fhir/QuestionnaireResponse
  int insights_http_port_ = 0;  // GET /fhir/... (docs/fhir.md)
};

}  // namespace alliance::testing

#endif  // ALLIANCE_TESTS_E2E_PIPELINE_FIXTURE_H_
