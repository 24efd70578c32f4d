// Starts Redis and the three deployables for end-to-end tests.
#include "tests/e2e/pipeline_fixture.h"

#include <signal.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "store/keys.h"

namespace alliance::testing {

void PipelineTest::SetUp() {
  ASSERT_TRUE(redis_.Start().ok());
  log_dir_ = redis_.dir();
  int intake_port = FreePort(), insights_port = FreePort();
  std::vector<std::string> common = {absl::StrCat("--redis_port=", redis_.port()),
                                     absl::StrCat("--partitions=", kPartitions)};
  // Authentication has its own tests (tests/services/security); the worker has no such flag.
  const std::string no_auth = "--auth_disabled";
  auto with = [&](std::vector<std::string> extra) {
    extra.insert(extra.end(), common.begin(), common.end());
    return extra;
  };
  ASSERT_TRUE(intake_
                  .Start(BinaryPath("alliance-intake"),
                         with({absl::StrCat("--grpc_port=", intake_port), no_auth}),
                         log_dir_ + "/intake.log")
                  .ok());
  ASSERT_TRUE(worker_
                  .Start(BinaryPath("alliance-worker"), with({"--worker_id=e2e-worker"}),
                         log_dir_ + "/worker.log")
                  .ok());
  ASSERT_TRUE(insights_
                  .Start(BinaryPath("alliance-insights"),
                         with({absl::StrCat("--grpc_port=", insights_port), no_auth}),
                         log_dir_ + "/insights.log")
                  .ok());
  ASSERT_TRUE(WaitForPort(intake_port, absl::Seconds(20)).ok()) << intake_.ReadLog();
  ASSERT_TRUE(WaitForPort(insights_port, absl::Seconds(20)).ok()) << insights_.ReadLog();
  intake_stub_ = v1::FeedbackIntake::NewStub(grpc::CreateChannel(
      absl::StrCat("127.0.0.1:", intake_port), grpc::InsecureChannelCredentials()));
  insights_stub_ = v1::AllianceInsights::NewStub(grpc::CreateChannel(
      absl::StrCat("127.0.0.1:", insights_port), grpc::InsecureChannelCredentials()));
}

void PipelineTest::TearDown() {
  // Connected clients keep draining servers waiting until their shutdown deadlines.
  intake_stub_.reset();
  insights_stub_.reset();
  for (ChildProcess* p : {&intake_, &worker_, &insights_}) p->Signal(SIGTERM);
  for (ChildProcess* p : {&intake_, &worker_, &insights_}) {
    if (!p->Wait(absl::Seconds(15)).has_value()) p->Kill();
  }
  if (HasFailure()) {
    for (ChildProcess* p : {&intake_, &worker_, &insights_}) {
      std::cerr << "---- " << p->log_path() << "\n" << p->ReadLog() << "\n";
    }
  }
}

absl::StatusOr<v1::Dyad> PipelineTest::WaitForDyad(const std::string& tenant,
                                                   const std::string& therapist,
                                                   const std::string& client, int ratings) {
  v1::GetDyadRequest request;
  request.set_tenant_id(tenant);
  request.set_therapist_id(therapist);
  request.set_client_id(client);
  absl::Time deadline = absl::Now() + absl::Seconds(30);
  v1::GetDyadResponse last;
  while (absl::Now() < deadline) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    v1::GetDyadResponse response;
    grpc::Status status = insights_stub_->GetDyad(&context, request, &response);
    if (status.ok()) {
      last = response;
      if (response.dyad().ratings_applied() >= ratings) return response.dyad();
    }
    absl::SleepFor(absl::Milliseconds(50));
  }
  return absl::DeadlineExceededError(absl::StrCat("dyad has ", last.dyad().ratings_applied(),
                                                  " ratings applied, waited for ", ratings));
}

long long PipelineTest::FeedbackStreamLength() {
  auto conn = RedisConnection::Connect(redis_.endpoint());
  if (!conn.ok()) return -1;
  KeyLayout layout(kPartitions);
  long long total = 0;
  for (int p = 0; p < kPartitions; ++p) {
    auto reply = (*conn)->Command({"XLEN", layout.FeedbackStream(p)});
    if (!reply.ok()) return -1;
    total += (*reply)->integer;
  }
  return total;
}

}  // namespace alliance::testing
