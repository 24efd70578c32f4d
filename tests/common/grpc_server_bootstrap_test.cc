// The shared gRPC server bootstrap (common/grpc_server_bootstrap.h) with a trivial service on
// loopback: health on the main and the health port (SERVING, then NOT_SERVING once a drain
// starts, "liveness" always SERVING), reflection only with --enable_reflection and never on the
// health port, and a drain that lets a call in flight finish while it refuses new ones.
#include "common/grpc_server_bootstrap.h"

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include <future>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "alliance/v1/insights.grpc.pb.h"
#include "common/flags.h"
#include "common/process.h"
#include "common/reflection.h"
#include "common/server_transport.h"
#include "gtest/gtest.h"
#include "tests/support/redis_server.h"

namespace alliance {
namespace {

constexpr char kService[] = "alliance.v1.AllianceInsights";

// ListInstruments calls wait until the test releases them; nothing blocks a gRPC thread.
class GatedService final : public v1::AllianceInsights::CallbackService {
 public:
  grpc::ServerUnaryReactor* ListInstruments(grpc::CallbackServerContext* context,
                                            const v1::ListInstrumentsRequest*,
                                            v1::ListInstrumentsResponse*) override {
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    absl::MutexLock lock(&mu_);
    pending_.push_back(reactor);
    ++started_;
    return reactor;
  }
  // True once `n` calls reached the service (bounded wait).
  bool AwaitStarted(int n) {
    absl::MutexLock lock(&mu_);
    auto reached = [this, n]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return started_ >= n; };
    return mu_.AwaitWithTimeout(absl::Condition(&reached), absl::Seconds(30));
  }
  int started() {
    absl::MutexLock lock(&mu_);
    return started_;
  }
  void ReleaseAll() {
    absl::MutexLock lock(&mu_);
    for (grpc::ServerUnaryReactor* reactor : pending_) reactor->Finish(grpc::Status::OK);
    pending_.clear();
  }

 private:
  absl::Mutex mu_;
  std::vector<grpc::ServerUnaryReactor*> pending_ ABSL_GUARDED_BY(mu_);
  int started_ ABSL_GUARDED_BY(mu_) = 0;
};

// One message to `method` and back, by hand (raw bytes): works for unary methods and for a
// bidirectional stream that answers one request (reflection). Returns the call status.
grpc::Status RawCall(const std::string& address, const std::string& method,
                     const std::string& request_bytes, std::string* response_bytes) {
  auto channel = grpc::CreateChannel(address, grpc::InsecureChannelCredentials());
  grpc::GenericStub stub(channel);
  grpc::Slice slice(request_bytes);
  grpc::ByteBuffer request(&slice, 1);
  grpc::ByteBuffer response;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  std::promise<grpc::Status> done;
  stub.UnaryCall(&context, method, grpc::StubOptions(), &request, &response,
                 [&done](grpc::Status status) { done.set_value(status); });
  grpc::Status status = done.get_future().get();
  std::vector<grpc::Slice> slices;
  if (status.ok() && response.Dump(&slices).ok() && response_bytes != nullptr) {
    for (const grpc::Slice& s : slices) {
      response_bytes->append(reinterpret_cast<const char*>(s.begin()), s.size());
    }
  }
  return status;
}

// grpc.health.v1.Health/Check: 1 SERVING, 2 NOT_SERVING, 0 UNKNOWN, minus the gRPC code when
// the call fails.
int Health(const std::string& address, const std::string& service) {
  std::string response;
  grpc::Status status =
      RawCall(address, "/grpc.health.v1.Health/Check",
              std::string("\x0a", 1) + static_cast<char>(service.size()) + service, &response);
  if (!status.ok()) return -static_cast<int>(status.error_code());
  if (response.empty()) return 0;
  return response.size() == 2 && response[0] == 0x08 ? response[1] : -100;
}

// grpc.reflection.v1alpha list_services ("*"): the call status, the answer in `services`.
grpc::Status ListServices(const std::string& address, std::string* services) {
  return RawCall(address, "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
                 "\x3a\x01*", services);
}

class GrpcServerBootstrapTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::SetFlag(&FLAGS_listen_host, "127.0.0.1");
    absl::SetFlag(&FLAGS_grpc_port, 0);
    absl::SetFlag(&FLAGS_health_port, testing::FreePort());
    absl::SetFlag(&FLAGS_enable_reflection, false);
    absl::SetFlag(&FLAGS_shutdown_timeout, absl::Seconds(15));
  }

  std::unique_ptr<GrpcServerBootstrap> StartServer() {
    auto server = std::make_unique<GrpcServerBootstrap>(GrpcServerOptions{kService, 4096});
    absl::Status configured = server->Configure();
    EXPECT_TRUE(configured.ok()) << configured;
    absl::Status started = server->Start(&service_);
    EXPECT_TRUE(started.ok()) << started;
    return server;
  }
  static std::string Address(int port) { return "127.0.0.1:" + std::to_string(port); }

  GatedService service_;
};

TEST_F(GrpcServerBootstrapTest, HealthFollowsTheBinaryOnBothPortsAndLivenessIsAlwaysServing) {
  std::unique_ptr<GrpcServerBootstrap> server = StartServer();
  const std::string main = Address(server->grpc_port());
  const std::string health = Address(server->health_port());
  for (const std::string& address : {main, health}) {
    EXPECT_EQ(Health(address, ""), 2) << "NOT_SERVING until the binary says otherwise";
    EXPECT_EQ(Health(address, kService), 2);
    EXPECT_EQ(Health(address, "liveness"), 1);
  }
  server->health().SetServing(true);  // e.g. Redis answers
  for (const std::string& address : {main, health}) {
    EXPECT_EQ(Health(address, ""), 1);
    EXPECT_EQ(Health(address, kService), 1);
  }
  server->health().SetServing(kService, false);  // one name alone
  EXPECT_EQ(Health(health, kService), 2);
  EXPECT_EQ(Health(health, ""), 1);
  // The health port serves nothing but health.
  std::string ignored;
  EXPECT_EQ(
      RawCall(health, "/alliance.v1.AllianceInsights/ListInstruments", "", &ignored).error_code(),
      grpc::StatusCode::UNIMPLEMENTED);
}

TEST_F(GrpcServerBootstrapTest, NoReflectionWithoutTheFlag) {
  std::unique_ptr<GrpcServerBootstrap> server = StartServer();
  std::string services;
  EXPECT_EQ(ListServices(Address(server->grpc_port()), &services).error_code(),
            grpc::StatusCode::UNIMPLEMENTED);
  EXPECT_EQ(ListServices(Address(server->health_port()), &services).error_code(),
            grpc::StatusCode::UNIMPLEMENTED);
}

TEST_F(GrpcServerBootstrapTest, ReflectionWithTheFlagOnTheMainPortOnly) {
  absl::SetFlag(&FLAGS_enable_reflection, true);
  std::unique_ptr<GrpcServerBootstrap> server = StartServer();
  std::string services;
  grpc::Status status = ListServices(Address(server->grpc_port()), &services);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_NE(services.find(kService), std::string::npos);
  EXPECT_EQ(ListServices(Address(server->health_port()), &services).error_code(),
            grpc::StatusCode::UNIMPLEMENTED);
}

TEST_F(GrpcServerBootstrapTest, DrainGoesNotServingRefusesNewCallsAndLetsTheCallInFlightFinish) {
  std::unique_ptr<GrpcServerBootstrap> server = StartServer();
  server->health().SetServing(true);
  const std::string main = Address(server->grpc_port());
  const std::string health = Address(server->health_port());

  // A call in flight when the drain starts.
  auto channel = grpc::CreateChannel(main, grpc::InsecureChannelCredentials());
  auto stub = v1::AllianceInsights::NewStub(channel);
  grpc::ClientContext context;
  v1::ListInstrumentsRequest request;
  v1::ListInstrumentsResponse response;
  std::promise<grpc::Status> in_flight;
  stub->async()->ListInstruments(&context, &request, &response,
                                 [&in_flight](grpc::Status s) { in_flight.set_value(s); });
  ASSERT_TRUE(service_.AwaitStarted(1));

  bool before_stop_ran = false;
  std::thread drain([&] {
    server->Drain(absl::Now() + absl::Minutes(1), [&before_stop_ran] { before_stop_ran = true; });
  });
  // Probes see NOT_SERVING while the call drains; liveness stays SERVING.
  int overall = 1;
  for (int i = 0; i < 300 && overall == 1; ++i) {
    overall = Health(health, "");
    if (overall == 1) absl::SleepFor(absl::Milliseconds(20));
  }
  EXPECT_EQ(overall, 2);
  EXPECT_EQ(Health(health, kService), 2);
  EXPECT_EQ(Health(health, "liveness"), 1);
  // New calls are refused (the port stops listening) and never reach the service.
  grpc::Status refused = grpc::Status::OK;
  for (int i = 0; i < 300 && refused.ok(); ++i) {
    std::string ignored;
    refused = RawCall(main, "/grpc.health.v1.Health/Check", "", &ignored);
    if (refused.ok()) absl::SleepFor(absl::Milliseconds(20));
  }
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::UNAVAILABLE) << refused.error_message();
  EXPECT_EQ(service_.started(), 1);
  // The call in flight still finishes, well within its grace.
  service_.ReleaseAll();
  grpc::Status finished = in_flight.get_future().get();
  EXPECT_TRUE(finished.ok()) << finished.error_message();
  drain.join();
  EXPECT_TRUE(before_stop_ran);
  EXPECT_TRUE(server->health().shutting_down());
  // Once drained, the health port is gone too.
  EXPECT_LT(Health(health, ""), 0);
}

TEST(GrpcServerFlagsTest, BadFlagsAreConfigurationErrorsWithExitCodeTwo) {
  absl::SetFlag(&FLAGS_grpc_port, 70000);
  absl::Status bad_port = ValidateGrpcServerFlags();
  absl::SetFlag(&FLAGS_grpc_port, 0);
  EXPECT_EQ(ExitCodeFor(bad_port), kExitBadConfiguration) << bad_port;
  absl::SetFlag(&FLAGS_shutdown_timeout, absl::Milliseconds(10));
  absl::Status bad_timeout = ValidateGrpcServerFlags();
  absl::SetFlag(&FLAGS_shutdown_timeout, absl::Seconds(15));
  EXPECT_EQ(ExitCodeFor(bad_timeout), kExitBadConfiguration) << bad_timeout;
  EXPECT_EQ(ExitCodeFor(absl::UnavailableError("cannot listen")), kExitRuntimeFailure);
}

TEST(GrpcServerFlagsTest, PerBinaryDefaultsBecomeTheFlagValues) {
  GrpcServerDefaults defaults;
  defaults.grpc_port = 50052;
  defaults.shutdown_timeout = absl::Seconds(5);
  defaults.keepalive_time_ms = 45000;
  SetGrpcServerFlagDefaults(defaults);
  EXPECT_EQ(absl::GetFlag(FLAGS_grpc_port), 50052);
  EXPECT_EQ(absl::GetFlag(FLAGS_shutdown_timeout), absl::Seconds(5));
  EXPECT_EQ(absl::GetFlag(FLAGS_keepalive_time_ms), 45000);
  EXPECT_EQ(absl::GetFlag(FLAGS_max_connection_age_ms), 300000) << "unset: the shared default";
  absl::SetFlag(&FLAGS_keepalive_time_ms, 30000);
  absl::SetFlag(&FLAGS_grpc_port, 0);
  absl::SetFlag(&FLAGS_shutdown_timeout, absl::Seconds(15));
}

}  // namespace
}  // namespace alliance
