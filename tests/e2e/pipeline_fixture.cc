// Starts Redis and the three deployables for end-to-end tests.
#include "tests/e2e/pipeline_fixture.h"

#include <google/protobuf/util/time_util.h>
#include <signal.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "store/cluster_slot.h"
#include "store/keys.h"

namespace alliance::testing {

void PipelineTest::SetUp() {
  std::vector<std::string> common = {absl::StrCat("--partitions=", kPartitions)};
  if (GetParam() == RedisMode::kCluster) {
    cluster_ = std::make_unique<RedisCluster>();
    ASSERT_TRUE(cluster_->Start().ok());
    ClusterOptions options;
    options.seeds = cluster_->Seeds();
    auto client = ClusterClient::Connect(options);
    ASSERT_TRUE(client.ok()) << client.status();
    cluster_client_ = *std::move(client);
    common.push_back(absl::StrCat("--redis_cluster_nodes=", absl::StrJoin(options.seeds, ",")));
    char dir[] = "/tmp/alliance-e2e-XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    log_dir_ = dir;
  } else {
    ASSERT_TRUE(redis_.Start().ok());
    log_dir_ = redis_.dir();
    common.push_back(absl::StrCat("--redis_port=", redis_.port()));
  }
  int intake_port = FreePort(), insights_port = FreePort();
  intake_http_port_ = FreePort();
  insights_http_port_ = FreePort();
  // Authentication has its own tests (tests/services/security); the worker has no such flag.
  const std::string no_auth = "--auth_disabled";
  auto with = [&](std::vector<std::string> extra) {
    extra.insert(extra.end(), common.begin(), common.end());
    return extra;
  };
  ASSERT_TRUE(intake_
                  .Start(BinaryPath("alliance-intake"),
                         with({absl::StrCat("--grpc_port=", intake_port),
                               absl::StrCat("--http_port=", intake_http_port_), no_auth}),
                         log_dir_ + "/intake.log")
                  .ok());
  ASSERT_TRUE(worker_
                  .Start(BinaryPath("alliance-worker"), with({"--worker_id=e2e-worker"}),
                         log_dir_ + "/worker.log")
                  .ok());
  ASSERT_TRUE(insights_
                  .Start(BinaryPath("alliance-insights"),
                         with({absl::StrCat("--grpc_port=", insights_port),
                               absl::StrCat("--http_port=", insights_http_port_), no_auth}),
                         log_dir_ + "/insights.log")
                  .ok());
  ASSERT_TRUE(WaitForPort(intake_port, absl::Seconds(20)).ok()) << intake_.ReadLog();
  ASSERT_TRUE(WaitForPort(insights_port, absl::Seconds(20)).ok()) << insights_.ReadLog();
  ASSERT_TRUE(WaitForPort(intake_http_port_, absl::Seconds(20)).ok()) << intake_.ReadLog();
  ASSERT_TRUE(WaitForPort(insights_http_port_, absl::Seconds(20)).ok()) << insights_.ReadLog();
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
  // The single redis-server removes its folder (the logs' too); the cluster's logs are ours.
  if (cluster_ != nullptr) std::filesystem::remove_all(log_dir_);
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
  KeyLayout layout(kPartitions);
  long long total = 0;
  for (int p = 0; p < kPartitions; ++p) {
    const std::string stream = layout.FeedbackStream(p);
    auto reply = RedisCommand(stream, {"XLEN", stream});
    if (!reply.ok() || (*reply)->type != REDIS_REPLY_INTEGER) return -1;
    total += (*reply)->integer;
  }
  return total;
}

absl::StatusOr<RedisReplyPtr> PipelineTest::RedisCommand(
    std::string_view key, const std::vector<std::string_view>& args) {
  if (cluster_client_ != nullptr) return cluster_client_->Command(KeySlot(key), args);
  auto conn = RedisConnection::Connect(redis_.endpoint());
  if (!conn.ok()) return conn.status();
  return (*conn)->Command(args);
}

void PipelineTest::KillRedis() {
  if (cluster_ != nullptr) {
    for (int node = 0; node < cluster_->size(); ++node) cluster_->Kill(node);
  } else {
    redis_.Kill();
  }
}

v1::Feedback UniformRating(const std::string& tenant, const std::string& therapist,
                           const std::string& client, int session, int last_session,
                           v1::Rater rater) {
  v1::Feedback f;
  f.set_tenant_id(tenant);
  f.set_therapist_id(therapist);
  f.set_client_id(client);
  f.set_idempotency_id(absl::StrCat(client, "-", session, "-", v1::Rater_Name(rater)));
  f.set_session_id(absl::StrCat("s", session));
  f.set_session_number(session);
  *f.mutable_session_time() = google::protobuf::util::TimeUtil::SecondsToTimestamp(
      absl::ToUnixSeconds(absl::Now()) - int64_t{last_session - session} * 7 * 86400);
  f.set_rater(rater);
  const bool client_form = rater == v1::RATER_CLIENT;
  f.set_instrument_id(client_form ? "srs" : "wai-sr-t");
  for (int item = 1; item <= (client_form ? 4 : 12); ++item) {
    v1::ItemAnswer* a = f.add_answers();
    a->set_item(item);
    a->set_value(client_form ? 10 : 4);
  }
  return f;
}

void PipelineTest::SubmitOrFail(const v1::Feedback& feedback) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  v1::SubmitFeedbackRequest request;
  *request.mutable_feedback() = feedback;
  v1::SubmitFeedbackResponse response;
  grpc::Status status = intake_stub_->SubmitFeedback(&context, request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
}

}  // namespace alliance::testing
