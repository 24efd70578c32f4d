// gRPC server reflection of both services against the real binaries (common/reflection.h): off
// by default on the main port, on there with --enable_reflection, and never on the plaintext
// health port, which serves grpc.health.v1 only. Asks with a raw ServerReflectionInfo call
// (ReflectionListServices), as grpcurl would, without a key.
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/services/intake/intake_fixture.h"
#include "tests/support/child_process.h"
#include "tests/support/redis_server.h"

namespace alliance::testing {
namespace {

using ::testing::HasSubstr;

std::shared_ptr<grpc::Channel> Channel(int port) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  return grpc::CreateCustomChannel(absl::StrCat("127.0.0.1:", port),
                                   grpc::InsecureChannelCredentials(), args);
}

// What reflection answers on `port`: the status, and on OK the raw service list.
struct Answer {
  grpc::StatusCode code;
  std::string services;
};
Answer AskReflection(int port) {
  Answer a;
  a.code = ReflectionListServices(Channel(port), &a.services).error_code();
  return a;
}

// alliance-insights on free ports (auth off: reflection needs no key either way).
struct Insights {
  ChildProcess process;
  int grpc_port = FreePort();
  int health_port = FreePort();

  void Start(const RedisServer& redis, const std::vector<std::string>& extra) {
    std::vector<std::string> args = {
        absl::StrCat("--redis_port=", redis.port()), absl::StrCat("--grpc_port=", grpc_port),
        absl::StrCat("--health_port=", health_port), "--auth_disabled"};
    args.insert(args.end(), extra.begin(), extra.end());
    ASSERT_TRUE(process
                    .Start(BinaryPath("alliance-insights"), args,
                           absl::StrCat(redis.dir(), "/insights.log"))
                    .ok());
    ASSERT_TRUE(WaitForPort(grpc_port, absl::Seconds(20)).ok()) << process.ReadLog();
    ASSERT_TRUE(WaitForPort(health_port, absl::Seconds(20)).ok()) << process.ReadLog();
  }
};

class ReflectionTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(redis_.Start().ok()); }
  RedisServer redis_;
};

TEST_F(ReflectionTest, InsightsServesNoReflectionByDefaultOnEitherPort) {
  Insights insights;
  ASSERT_NO_FATAL_FAILURE(insights.Start(redis_, {}));
  Answer main = AskReflection(insights.grpc_port);
  EXPECT_EQ(main.code, grpc::StatusCode::UNIMPLEMENTED) << main.services;
  Answer health = AskReflection(insights.health_port);
  EXPECT_EQ(health.code, grpc::StatusCode::UNIMPLEMENTED) << health.services;
}

TEST_F(ReflectionTest, InsightsWithTheFlagServesItOnTheMainPortOnly) {
  Insights insights;
  ASSERT_NO_FATAL_FAILURE(insights.Start(redis_, {"--enable_reflection"}));
  Answer main = AskReflection(insights.grpc_port);
  ASSERT_EQ(main.code, grpc::StatusCode::OK);
  EXPECT_THAT(main.services, HasSubstr("alliance.v1.AllianceInsights"));
  Answer health = AskReflection(insights.health_port);
  EXPECT_EQ(health.code, grpc::StatusCode::UNIMPLEMENTED) << health.services;
}

TEST_F(ReflectionTest, IntakeServesNoReflectionByDefaultOnEitherPort) {
  IntakeProcess intake;
  ASSERT_TRUE(intake.Start(redis_.port()).ok()) << intake.Log();
  EXPECT_EQ(AskReflection(intake.grpc_port()).code, grpc::StatusCode::UNIMPLEMENTED);
  EXPECT_EQ(AskReflection(intake.health_port()).code, grpc::StatusCode::UNIMPLEMENTED);
}

TEST_F(ReflectionTest, IntakeWithTheFlagServesItOnTheMainPortOnly) {
  IntakeProcess intake;
  ASSERT_TRUE(intake.Start(redis_.port(), {"--enable_reflection"}).ok()) << intake.Log();
  Answer main = AskReflection(intake.grpc_port());
  ASSERT_EQ(main.code, grpc::StatusCode::OK);
  EXPECT_THAT(main.services, HasSubstr("alliance.v1.FeedbackIntake"));
  EXPECT_EQ(AskReflection(intake.health_port()).code, grpc::StatusCode::UNIMPLEMENTED);
}

}  // namespace
}  // namespace alliance::testing
