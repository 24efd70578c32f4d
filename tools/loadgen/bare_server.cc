// alliance-bare-server: answers FeedbackIntake calls without Redis or validation, with the
// same server options as alliance-intake. It is the gRPC ceiling the intake is measured
// against on the same machine (scripts/bench-intake.sh).
#include <grpcpp/grpcpp.h>

#include <cstdio>
#include <memory>

#include "absl/flags/flag.h"
#include "absl/synchronization/mutex.h"
#include "alliance/v1/intake.grpc.pb.h"
#include "analytics/hash.h"
#include "common/log.h"
#include "common/process.h"
#include "common/server_transport.h"
#include "services/intake/request_limits.h"
#include "services/intake/server_options.h"

namespace alliance::loadgen {
namespace {

// Acknowledges every submission at once with the id intake would give it.
class BareIntake final : public alliance::v1::FeedbackIntake::CallbackService {
  grpc::ServerUnaryReactor* SubmitFeedback(
      grpc::CallbackServerContext* context, const alliance::v1::SubmitFeedbackRequest* request,
      alliance::v1::SubmitFeedbackResponse* response) override {
    Ack(request->feedback(), response);
    auto* reactor = context->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }

  grpc::ServerUnaryReactor* SubmitFeedbackBatch(
      grpc::CallbackServerContext* context, const alliance::v1::SubmitFeedbackBatchRequest* request,
      alliance::v1::SubmitFeedbackBatchResponse* response) override {
    for (int i = 0; i < request->feedback_size(); ++i) {
      auto* result = response->add_results();
      result->set_index(i);
      Ack(request->feedback(i), result->mutable_ack());
    }
    auto* reactor = context->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }

  static void Ack(const alliance::v1::Feedback& feedback,
                  alliance::v1::SubmitFeedbackResponse* response) {
    response->set_accepted_id(
        analytics::Hash128Hex({feedback.tenant_id(), feedback.idempotency_id()}));
    response->set_stream_id("0-0");
  }
};

int Run() {
  if (absl::Status s = intake::ValidateServerOptionFlags(); !s.ok()) {
    std::fprintf(stderr, "%s\n", std::string(s.message()).c_str());
    return 2;
  }
  BareIntake service;
  grpc::EnableDefaultHealthCheckService(true);
  grpc::ServerBuilder builder;
  // The same largest request as alliance-intake with the built-in instruments and its
  // default batch size.
  ApplyServerTransportFromFlags(
      builder, intake::ComputeRequestLimits(analytics::InstrumentRegistry::BuiltIn(),
                                            intake::kDefaultMaxBatchItems)
                   .max_request_bytes());
  int port = 0;
  std::string address =
      ListenAddress(absl::GetFlag(FLAGS_listen_host), absl::GetFlag(FLAGS_grpc_port));
  builder.AddListeningPort(address, grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || port == 0) {
    LogError("startup_failed", {{"address", address}});
    return 1;
  }
  LogInfo("listening", {{"grpc_port", int64_t{port}}});
  WaitForShutdownSignal();
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
  return 0;
}

}  // namespace
}  // namespace alliance::loadgen

int main(int argc, char** argv) {
  alliance::BlockShutdownSignals();
  // Debian's Abseil checks every Mutex acquisition for lock-order cycles (a debugging aid that
  // costs several percent of CPU in gRPC's hot paths); production binaries do not need it.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  alliance::GrpcServerDefaults defaults;
  defaults.grpc_port = 50051;  // alliance-intake's port
  alliance::SetGrpcServerFlagDefaults(defaults);
  alliance::ParseFlagsWithEnv(argc, argv,
                              "alliance-bare-server: FeedbackIntake without Redis, the gRPC "
                              "ceiling for benchmarks.");
  alliance::InitLog("bare-server");
  return alliance::loadgen::Run();
}
