// TLS on the real binaries, with certificates made by openssl during the test: with
// --tls_cert_file/--tls_key_file the main gRPC port refuses plaintext clients and serves TLS
// ones, mTLS (--tls_client_ca_file) refuses clients without a certificate, and the plaintext
// health port still answers probes (and serves nothing but health). Also: the services reach
// a redis-server that requires a password, given with --redis_password_file.
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include <cstdlib>
#include <fstream>
#include <future>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "alliance/v1/insights.grpc.pb.h"
#include "common/process.h"
#include "gtest/gtest.h"
#include "tests/services/intake/intake_fixture.h"
#include "tests/support/api_keys.h"
#include "tests/support/child_process.h"
#include "tests/support/redis_server.h"
#include "tests/support/test_certificates.h"

namespace alliance::testing {
namespace {

// grpc.health.v1.Health/Check by hand (the health proto is not installed with gRPC). Returns
// the call's code; `serving` says whether the status was SERVING.
grpc::StatusCode HealthCheck(std::shared_ptr<grpc::Channel> channel, bool* serving) {
  std::string request_bytes = "\x0a";
  request_bytes.push_back(0);  // service "" (overall)
  grpc::Slice slice(request_bytes);
  grpc::ByteBuffer request(&slice, 1);
  grpc::ByteBuffer response;
  grpc::GenericStub stub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  std::promise<grpc::Status> done;
  stub.UnaryCall(&context, "/grpc.health.v1.Health/Check", grpc::StubOptions(), &request, &response,
                 [&done](grpc::Status s) { done.set_value(s); });
  grpc::Status status = done.get_future().get();
  std::vector<grpc::Slice> slices;
  std::string bytes;
  if (status.ok() && response.Dump(&slices).ok()) {
    for (const auto& s : slices) bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
  }
  *serving = bytes.size() == 2 && bytes[0] == 0x08 && bytes[1] == 1;
  return status.error_code();
}

class ServiceTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(redis_.Start().ok());
    dir_ = redis_.dir();
    MakeCa("ca");
    MakeCa("clientca");
    MakeLeaf("server", "ca", "localhost");
    MakeLeaf("client", "clientca", "client");
  }
  void TearDown() override {
    if (service_.running()) {
      service_.Signal(SIGTERM);
      if (!service_.Wait(absl::Seconds(20)).has_value()) service_.Kill();
    }
    if (HasFailure()) std::cerr << service_.ReadLog();
  }

  std::string Path(const std::string& name) const { return dir_ + "/" + name; }
  void MakeCa(const std::string& name) {
    ASSERT_TRUE(testing::MakeTestCa(dir_, name).ok()) << name;
  }
  void MakeLeaf(const std::string& name, const std::string& ca, const std::string& cn) {
    ASSERT_TRUE(testing::MakeTestLeaf(dir_, name, ca, cn).ok()) << name;
  }
  std::string Read(const std::string& name) { return *ReadFileToString(Path(name)); }

  // Starts `binary` with TLS on its main port (mTLS when asked) and waits for both ports.
  void Start(const std::string& binary, bool mtls, std::vector<std::string> extra = {}) {
    grpc_port_ = FreePort();
    health_port_ = FreePort();
    std::vector<std::string> args = {
        "--listen_host=127.0.0.1",
        absl::StrCat("--grpc_port=", grpc_port_),
        absl::StrCat("--health_port=", health_port_),
        absl::StrCat("--redis_port=", redis_.port()),
        absl::StrCat("--tls_cert_file=", Path("server.pem")),
        absl::StrCat("--tls_key_file=", Path("server.key")),
    };
    if (mtls) args.push_back(absl::StrCat("--tls_client_ca_file=", Path("clientca.pem")));
    args.insert(args.end(), extra.begin(), extra.end());
    ASSERT_TRUE(service_.Start(BinaryPath(binary), args, Path(binary + ".log")).ok());
    ASSERT_TRUE(WaitForPort(grpc_port_, absl::Seconds(20)).ok()) << service_.ReadLog();
    ASSERT_TRUE(WaitForPort(health_port_, absl::Seconds(20)).ok()) << service_.ReadLog();
  }

  std::shared_ptr<grpc::Channel> Plaintext(int port) {
    return grpc::CreateChannel(absl::StrCat("127.0.0.1:", port),
                               grpc::InsecureChannelCredentials());
  }
  std::shared_ptr<grpc::Channel> Tls(bool with_client_cert) {
    grpc::SslCredentialsOptions options;
    options.pem_root_certs = Read("ca.pem");
    if (with_client_cert) {
      options.pem_private_key = Read("client.key");
      options.pem_cert_chain = Read("client.pem");
    }
    grpc::ChannelArguments args;
    args.SetSslTargetNameOverride("localhost");
    return grpc::CreateCustomChannel(absl::StrCat("127.0.0.1:", grpc_port_),
                                     grpc::SslCredentials(options), args);
  }

  // The health port answers plaintext probes, SERVING once Redis is connected (bounded wait),
  // and does not serve the product's API.
  void ExpectPlaintextHealthPortServesOnlyHealth(const std::string& api_method) {
    bool serving = false;
    for (int attempt = 0; attempt < 200 && !serving; ++attempt) {
      ASSERT_EQ(HealthCheck(Plaintext(health_port_), &serving), grpc::OK);
      if (!serving) absl::SleepFor(absl::Milliseconds(50));
    }
    EXPECT_TRUE(serving);
    grpc::GenericStub stub(Plaintext(health_port_));
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    grpc::ByteBuffer request, response;
    grpc::Slice empty("");
    request = grpc::ByteBuffer(&empty, 1);
    std::promise<grpc::Status> done;
    stub.UnaryCall(&context, api_method, grpc::StubOptions(), &request, &response,
                   [&done](grpc::Status s) { done.set_value(s); });
    EXPECT_EQ(done.get_future().get().error_code(), grpc::UNIMPLEMENTED)
        << api_method << " is reachable in plaintext on the health port";
  }

  RedisServer redis_;
  std::string dir_;
  ChildProcess service_;
  int grpc_port_ = 0;
  int health_port_ = 0;
};

grpc::StatusCode SubmitOn(std::shared_ptr<grpc::Channel> channel, const std::string& id) {
  auto stub = v1::FeedbackIntake::NewStub(channel);
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  v1::SubmitFeedbackRequest request;
  *request.mutable_feedback() = ValidFeedback(id);
  v1::SubmitFeedbackResponse response;
  return stub->SubmitFeedback(&context, request, &response).error_code();
}

TEST_F(ServiceTlsTest, IntakeRefusesPlaintextOnItsMainPortAndServesTls) {
  Start("alliance-intake", /*mtls=*/false, {"--auth_disabled"});
  ExpectPlaintextHealthPortServesOnlyHealth("/alliance.v1.FeedbackIntake/SubmitFeedback");
  EXPECT_EQ(SubmitOn(Plaintext(grpc_port_), "plain-1"), grpc::UNAVAILABLE);
  EXPECT_EQ(SubmitOn(Tls(false), "tls-1"), grpc::OK);
}

TEST_F(ServiceTlsTest, IntakeWithMutualTlsNeedsAClientCertificate) {
  Start("alliance-intake", /*mtls=*/true, {"--auth_disabled"});
  ExpectPlaintextHealthPortServesOnlyHealth("/alliance.v1.FeedbackIntake/SubmitFeedback");
  EXPECT_EQ(SubmitOn(Plaintext(grpc_port_), "plain-1"), grpc::UNAVAILABLE);
  EXPECT_EQ(SubmitOn(Tls(/*with_client_cert=*/false), "tls-1"), grpc::UNAVAILABLE);
  EXPECT_EQ(SubmitOn(Tls(/*with_client_cert=*/true), "tls-2"), grpc::OK);
}

TEST_F(ServiceTlsTest, InsightsRefusesPlaintextAndAlliancectlConnectsWithTlsAndAKey) {
  const std::string key = "dashboard-key-clinic-a-77";
  ASSERT_TRUE(
      WriteApiKeyFile(Path("keys.json"), {{"dash", key, "clinic-a", {"read", "watch"}}}).ok());
  std::ofstream(Path("dash.key")) << key << "\n";
  Start("alliance-insights", /*mtls=*/true, {absl::StrCat("--api_keys_file=", Path("keys.json"))});
  ExpectPlaintextHealthPortServesOnlyHealth("/alliance.v1.AllianceInsights/ListDyads");

  auto list = [&](std::shared_ptr<grpc::Channel> channel) {
    auto stub = v1::AllianceInsights::NewStub(channel);
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    UseKey(context, key);
    v1::ListDyadsRequest request;
    v1::ListDyadsResponse response;
    return stub->ListDyads(&context, request, &response).error_code();
  };
  EXPECT_EQ(list(Plaintext(grpc_port_)), grpc::UNAVAILABLE);
  EXPECT_EQ(list(Tls(false)), grpc::UNAVAILABLE);
  EXPECT_EQ(list(Tls(true)), grpc::OK);

  // alliancectl with its TLS flags and key file (the server's name is "localhost").
  auto ctl = [&](std::vector<std::string> extra) {
    std::vector<std::string> args = {absl::StrCat("--insights=localhost:", grpc_port_),
                                     absl::StrCat("--tls_ca_file=", Path("ca.pem")),
                                     absl::StrCat("--api_key_file=", Path("dash.key")), "--json",
                                     "--timeout_ms=10000"};
    args.insert(args.end(), extra.begin(), extra.end());
    args.push_back("dyads");
    ChildProcess process;
    static int runs = 0;
    EXPECT_TRUE(
        process.Start(BinaryPath("alliancectl"), args, Path(absl::StrCat("ctl-", runs++, ".log")))
            .ok());
    std::optional<int> code = process.Wait(absl::Seconds(60));
    return code.value_or(-1);
  };
  EXPECT_EQ(ctl({}), 1) << "no client certificate";
  EXPECT_EQ(ctl({absl::StrCat("--tls_cert_file=", Path("client.pem")),
                 absl::StrCat("--tls_key_file=", Path("client.key"))}),
            0);
}

// --redis_password_file: the service authenticates to a redis-server with requirepass.
TEST(RedisAuthTest, ServicesConnectToARedisThatRequiresAPassword) {
  const std::string password = "s3cret-redis-pass";
  RedisServer redis;
  redis.RequirePassword(password);
  ASSERT_TRUE(redis.Start().ok());
  std::string password_file = redis.dir() + "/redis-password";
  std::ofstream(password_file) << password << "\n";
  // Redis refuses every command before AUTH (NOAUTH), so a stored submission proves the
  // service authenticated.
  IntakeProcess intake;
  ASSERT_TRUE(intake.Start(redis.port(), {"--redis_password_file=" + password_file}).ok())
      << intake.Log();
  v1::SubmitFeedbackResponse response;
  ASSERT_TRUE(Submit(intake.stub(), ValidFeedback("auth-1"), &response).ok());
  auto conn = RedisConnection::Connect(redis.endpoint());
  ASSERT_TRUE(conn.ok()) << conn.status();
  KeyLayout layout(8);
  EXPECT_EQ(TotalFeedbackEntries(**conn, layout), 1);
}

}  // namespace
}  // namespace alliance::testing
