// Health and Redis outages: "" and the service name follow Redis on both the main and the
// plaintext health port, "liveness" stays SERVING, and queries answer UNAVAILABLE (not a
// hang) while Redis is down.
#include <grpcpp/generic/generic_stub.h>

#include <future>

#include "absl/time/clock.h"
#include "tests/services/insights/insights_fixture.h"

namespace alliance::testing {
namespace {

// grpc.health.v1.Health/Check by hand (the generated health client is not packaged):
// request field 1 = service name; response field 1 = status (1 SERVING, 2 NOT_SERVING).
int HealthStatus(const std::string& address, const std::string& service) {
  auto channel = grpc::CreateChannel(address, grpc::InsecureChannelCredentials());
  grpc::GenericStub stub(channel);
  std::string request_bytes = std::string("\x0a", 1) + static_cast<char>(service.size()) + service;
  grpc::Slice slice(request_bytes);
  grpc::ByteBuffer request(&slice, 1);
  grpc::ByteBuffer response;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  std::promise<grpc::Status> done;
  stub.UnaryCall(&context, "/grpc.health.v1.Health/Check", grpc::StubOptions(), &request, &response,
                 [&done](grpc::Status status) { done.set_value(status); });
  grpc::Status status = done.get_future().get();
  if (!status.ok()) return -static_cast<int>(status.error_code());
  std::vector<grpc::Slice> slices;
  if (!response.Dump(&slices).ok()) return -100;
  std::string bytes;
  for (const grpc::Slice& s : slices)
    bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
  if (bytes.empty()) return 0;  // UNKNOWN is the default value, encoded as nothing
  return bytes.size() == 2 && bytes[0] == 0x08 ? bytes[1] : -101;
}

class HealthTest : public InsightsFixture {};

TEST_F(HealthTest, FollowsRedisWhileLivenessStaysServing) {
  const std::string health = "127.0.0.1:" + std::to_string(health_port_);
  for (const std::string& address : {address(), health}) {
    EXPECT_EQ(HealthStatus(address, ""), 1);
    EXPECT_EQ(HealthStatus(address, "alliance.v1.AllianceInsights"), 1);
    EXPECT_EQ(HealthStatus(address, "liveness"), 1);
  }
  redis_.Kill();
  // The alert reader notices within a read; poll a bounded number of times (no timing asserted).
  int status = 1;
  for (int i = 0; i < 200 && status == 1; ++i) {
    absl::SleepFor(absl::Milliseconds(100));
    status = HealthStatus(health, "");
  }
  EXPECT_EQ(status, 2);
  EXPECT_EQ(HealthStatus(address(), "alliance.v1.AllianceInsights"), 2);
  EXPECT_EQ(HealthStatus(health, "liveness"), 1);

  auto stub = NewStub();
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  alliance::v1::GetDyadRequest request;
  request.set_tenant_id("clinic-a");
  request.set_therapist_id("t1");
  request.set_client_id("c1");
  alliance::v1::GetDyadResponse response;
  EXPECT_EQ(stub->GetDyad(&context, request, &response).error_code(), grpc::UNAVAILABLE);

  ASSERT_TRUE(redis_.Restart().ok());
  for (int i = 0; i < 200 && status != 1; ++i) {
    absl::SleepFor(absl::Milliseconds(100));
    status = HealthStatus(health, "");
  }
  EXPECT_EQ(status, 1);
}

}  // namespace
}  // namespace alliance::testing
