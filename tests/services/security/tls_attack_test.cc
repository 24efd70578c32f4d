// TLS of the real services under hostile or broken clients, with mTLS on and certificates made
// by openssl during the test: a client certificate from another CA, an expired client
// certificate, an expired server certificate, plaintext on the TLS port, and a burst of
// connections on loopback that never finish their handshake. Each gets UNAVAILABLE at the
// client (or a closed connection), the service keeps running and serving well-behaved clients
// meanwhile, its memory stays bounded, and the stalled connections are closed once
// --handshake_timeout_ms has passed.
#include <arpa/inet.h>
#include <grpcpp/grpcpp.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "alliance/v1/insights.grpc.pb.h"
#include "alliance/v1/intake.grpc.pb.h"
#include "common/process.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/services/intake/intake_fixture.h"
#include "tests/support/child_process.h"
#include "tests/support/redis_server.h"
#include "tests/support/test_certificates.h"

namespace alliance::testing {
namespace {

using ::testing::HasSubstr;

constexpr int kStalledConnections = 200;
// Generous: the burst costs a few MiB; this only catches per-connection growth gone wrong.
constexpr int64_t kMaxBurstGrowthKib = 100 * 1024;

// A TCP connection to 127.0.0.1:port, or -1.
int ConnectLoopback(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

// Waits (at most `timeout` overall) until the server has closed every socket in `fds`, reading
// and dropping whatever it sends before that. Returns how many were closed.
int AwaitServerClose(const std::vector<int>& fds, absl::Duration timeout) {
  std::vector<bool> closed(fds.size(), false);
  int count = 0;
  const absl::Time deadline = absl::Now() + timeout;
  while (count < static_cast<int>(fds.size()) && absl::Now() < deadline) {
    std::vector<pollfd> polled;
    std::vector<size_t> index;
    for (size_t i = 0; i < fds.size(); ++i) {
      if (!closed[i]) {
        polled.push_back({fds[i], POLLIN | POLLRDHUP, 0});
        index.push_back(i);
      }
    }
    if (poll(polled.data(), polled.size(), 200) <= 0) continue;
    for (size_t k = 0; k < polled.size(); ++k) {
      if (polled[k].revents == 0) continue;
      char buffer[4096];
      ssize_t n = recv(polled[k].fd, buffer, sizeof buffer, MSG_DONTWAIT);
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
        closed[index[k]] = true;
        ++count;
      }
    }
  }
  return count;
}

// Whether the server still holds the connection open (no EOF or reset pending), without
// waiting.
bool StillOpen(int fd) {
  char buffer[4096];
  while (true) {
    ssize_t n = recv(fd, buffer, sizeof buffer, MSG_DONTWAIT);
    if (n > 0) continue;  // handshake bytes from the server
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
  }
}

// Resident memory of a process in KiB (VmRSS), or -1.
int64_t ResidentKib(pid_t pid) {
  std::ifstream status(absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) != 0) continue;
    int64_t kib = 0;
    std::string digits;
    for (char c : line) {
      if (c >= '0' && c <= '9') digits.push_back(c);
    }
    return absl::SimpleAtoi(digits, &kib) ? kib : -1;
  }
  return -1;
}

// Stalled handshakes of three kinds, a third each: a connection that sends nothing, one that
// sends the first bytes of a ClientHello and stops, and one whose ClientHello is complete (the
// server answers and waits for the client's certificate and Finished, which never come).
class StalledHandshakes {
 public:
  explicit StalledHandshakes(int port) : port_(port), ctx_(SSL_CTX_new(TLS_client_method())) {
    SSL_CTX_set_verify(ctx_, SSL_VERIFY_NONE, nullptr);
  }
  ~StalledHandshakes() {
    for (SSL* ssl : ssls_) SSL_free(ssl);
    for (int fd : fds_) close(fd);
    SSL_CTX_free(ctx_);
  }
  StalledHandshakes(const StalledHandshakes&) = delete;
  StalledHandshakes& operator=(const StalledHandshakes&) = delete;

  // Opens `count` connections; returns how many connected.
  int Open(int count) {
    // A TLS record header announcing 512 bytes, then the start of a ClientHello.
    static constexpr unsigned char kPartialHello[] = {0x16, 0x03, 0x01, 0x02, 0x00, 0x01,
                                                      0x00, 0x01, 0xfc, 0x03, 0x03, 0x5a};
    for (int i = 0; i < count; ++i) {
      int fd = ConnectLoopback(port_);
      if (fd < 0) continue;
      fds_.push_back(fd);
      if (i % 3 == 1) {
        (void)send(fd, kPartialHello, sizeof kPartialHello, MSG_NOSIGNAL);
      } else if (i % 3 == 2) {
        // Blocking socket, but the handshake needs the server's answer: send the ClientHello
        // through a memory BIO pair instead of letting SSL_connect wait for a reply.
        SSL* ssl = SSL_new(ctx_);
        BIO* internal = nullptr;
        BIO* network = nullptr;
        BIO_new_bio_pair(&internal, 0, &network, 0);
        SSL_set_bio(ssl, internal, internal);
        SSL_set_tlsext_host_name(ssl, "localhost");
        (void)SSL_connect(ssl);  // writes the ClientHello into the pair, wants to read
        char hello[4096];
        int n = BIO_read(network, hello, sizeof hello);
        if (n > 0) (void)send(fd, hello, static_cast<size_t>(n), MSG_NOSIGNAL);
        BIO_free(network);
        ssls_.push_back(ssl);
      }
    }
    return static_cast<int>(fds_.size());
  }
  const std::vector<int>& fds() const { return fds_; }

 private:
  int port_;
  SSL_CTX* ctx_;
  std::vector<int> fds_;
  std::vector<SSL*> ssls_;
};

class TlsAttackTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    ASSERT_TRUE(redis_.Start().ok());
    dir_ = redis_.dir();
    for (const char* ca : {"ca", "clientca", "otherca"}) {
      ASSERT_TRUE(MakeTestCa(dir_, ca).ok()) << ca;
    }
    ASSERT_TRUE(MakeTestLeaf(dir_, "server", "ca", "localhost").ok());
    ASSERT_TRUE(MakeExpiredTestLeaf(dir_, "expired-server", "ca", "localhost").ok());
    ASSERT_TRUE(MakeTestLeaf(dir_, "client", "clientca", "client").ok());
    ASSERT_TRUE(MakeTestLeaf(dir_, "other-client", "otherca", "client").ok());
    ASSERT_TRUE(MakeExpiredTestLeaf(dir_, "expired-client", "clientca", "client").ok());
  }
  void TearDown() override {
    if (service_.running()) {
      service_.Signal(SIGTERM);
      if (!service_.Wait(absl::Seconds(20)).has_value()) service_.Kill();
    }
    if (HasFailure()) std::cerr << service_.ReadLog();
  }

  std::string Path(const std::string& name) const { return dir_ + "/" + name; }

  // Starts the service with mTLS on its main port (clients need a certificate from clientca)
  // and `server_cert` as its identity.
  void Start(const std::string& server_cert, std::vector<std::string> extra = {}) {
    grpc_port_ = FreePort();
    std::vector<std::string> args = {
        "--listen_host=127.0.0.1",
        absl::StrCat("--grpc_port=", grpc_port_),
        absl::StrCat("--redis_port=", redis_.port()),
        absl::StrCat("--tls_cert_file=", Path(server_cert + ".pem")),
        absl::StrCat("--tls_key_file=", Path(server_cert + ".key")),
        absl::StrCat("--tls_client_ca_file=", Path("clientca.pem")),
        "--auth_disabled",
    };
    args.insert(args.end(), extra.begin(), extra.end());
    ASSERT_TRUE(service_.Start(BinaryPath(GetParam()), args, Path("service.log")).ok());
    ASSERT_TRUE(WaitForPort(grpc_port_, absl::Seconds(20)).ok()) << service_.ReadLog();
  }

  // A TLS channel that trusts `ca` and presents `client_cert` (none when empty). Each channel
  // gets its own subchannels, so one refused handshake cannot be reused by another test step.
  std::shared_ptr<grpc::Channel> Tls(const std::string& client_cert, const std::string& ca = "ca") {
    grpc::SslCredentialsOptions options;
    options.pem_root_certs = *ReadFileToString(Path(ca + ".pem"));
    if (!client_cert.empty()) {
      options.pem_private_key = *ReadFileToString(Path(client_cert + ".key"));
      options.pem_cert_chain = *ReadFileToString(Path(client_cert + ".pem"));
    }
    grpc::ChannelArguments args;
    args.SetSslTargetNameOverride("localhost");
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    return grpc::CreateCustomChannel(absl::StrCat("127.0.0.1:", grpc_port_),
                                     grpc::SslCredentials(options), args);
  }
  std::shared_ptr<grpc::Channel> Plaintext() {
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    return grpc::CreateCustomChannel(absl::StrCat("127.0.0.1:", grpc_port_),
                                     grpc::InsecureChannelCredentials(), args);
  }

  // One call of the service's own API on `channel`.
  grpc::Status Call(std::shared_ptr<grpc::Channel> channel) {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    if (GetParam() == "alliance-intake") {
      v1::SubmitFeedbackRequest request;
      *request.mutable_feedback() = ValidFeedback(absl::StrCat("tls-attack-", ++calls_));
      v1::SubmitFeedbackResponse response;
      return v1::FeedbackIntake::NewStub(channel)->SubmitFeedback(&context, request, &response);
    }
    v1::ListDyadsRequest request;
    request.set_tenant_id("clinic-a");
    v1::ListDyadsResponse response;
    return v1::AllianceInsights::NewStub(channel)->ListDyads(&context, request, &response);
  }

  // The refusal a client sees when the TLS handshake fails: UNAVAILABLE for the connection
  // (gRPC 1.51: "failed to connect to all addresses; last error: ..." ending in `detail`), and
  // the service is still running.
  void ExpectRefused(const grpc::Status& status, const std::string& what,
                     const std::string& detail) {
    std::cout << what << ": " << status.error_code() << " " << status.error_message() << "\n";
    EXPECT_EQ(status.error_code(), grpc::UNAVAILABLE) << what << ": " << status.error_message();
    EXPECT_THAT(status.error_message(), HasSubstr("failed to connect")) << what;
    EXPECT_THAT(status.error_message(), HasSubstr(detail)) << what;
    EXPECT_FALSE(service_.Wait(absl::ZeroDuration()).has_value()) << "service exited: " << what;
  }
  // A well-behaved client (certificate from clientca) is served.
  void ExpectServed(const std::string& when) {
    grpc::Status status = Call(Tls("client"));
    EXPECT_TRUE(status.ok()) << when << ": " << status.error_code() << " "
                             << status.error_message();
  }

  RedisServer redis_;
  std::string dir_;
  ChildProcess service_;
  int grpc_port_ = 0;
  int calls_ = 0;
};

TEST_P(TlsAttackTest, RefusesAClientCertificateSignedByAnotherCa) {
  Start("server");
  // TLS 1.3: the client has sent its certificate and finished; the server's verification fails
  // and it closes the connection.
  ExpectRefused(Call(Tls("other-client")), "client certificate of another CA", "Socket closed");
  ExpectServed("after a foreign client certificate");
}

TEST_P(TlsAttackTest, RefusesAnExpiredClientCertificate) {
  Start("server");
  ExpectRefused(Call(Tls("expired-client")), "expired client certificate", "Socket closed");
  ExpectServed("after an expired client certificate");
}

TEST_P(TlsAttackTest, ClientsRefuseAnExpiredServerCertificate) {
  Start("expired-server");
  // This time the client's verification fails ("certificate verify failed" follows).
  ExpectRefused(Call(Tls("client")), "expired server certificate", "Ssl handshake failed");
  // Only a new certificate helps (rotation reloads it); until then every client is refused the
  // same way and the process keeps running.
  ExpectRefused(Call(Tls("client")), "expired server certificate, again",
                "certificate verify failed");
}

TEST_P(TlsAttackTest, RefusesPlaintextOnTheTlsPort) {
  Start("server");
  ExpectRefused(Call(Plaintext()), "plaintext gRPC on the TLS port", "Socket closed");
  // Plaintext HTTP/1.1 and HTTP/2 prefaces on a raw socket: the server closes the connection.
  for (std::string bytes : {std::string("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"),
                            std::string("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")}) {
    int fd = ConnectLoopback(grpc_port_);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(bytes.size()));
    EXPECT_EQ(AwaitServerClose({fd}, absl::Seconds(30)), 1) << bytes;
    close(fd);
  }
  ExpectServed("after plaintext clients");
}

// 200 connections that never finish their handshake: while they are held, a well-behaved
// client is served and memory stays bounded; the server closes all of them once
// --handshake_timeout_ms has passed (checked with a generous wait, not a timing bound).
TEST_P(TlsAttackTest, StalledHandshakesAreBoundedAndClosed) {
  Start("server", {"--handshake_timeout_ms=5000"});
  ExpectServed("before the burst");
  const int64_t rss_before = ResidentKib(service_.pid());
  StalledHandshakes stalled(grpc_port_);
  ASSERT_EQ(stalled.Open(kStalledConnections), kStalledConnections);

  ExpectServed("while the stalled handshakes are held");
  int held = 0;
  for (int fd : stalled.fds()) held += StillOpen(fd) ? 1 : 0;
  const int64_t rss_during = ResidentKib(service_.pid());
  ASSERT_GT(rss_before, 0);
  ASSERT_GT(rss_during, 0);
  std::cout << "stalled handshakes: " << held << " of " << kStalledConnections
            << " held when the good call returned; VmRSS " << rss_before << " KiB before, "
            << rss_during << " KiB during (+" << (rss_during - rss_before) << " KiB)\n";
  EXPECT_LT(rss_during - rss_before, kMaxBurstGrowthKib);

  EXPECT_EQ(AwaitServerClose(stalled.fds(), absl::Seconds(60)), kStalledConnections)
      << "the server still holds unfinished handshakes";
  EXPECT_FALSE(service_.Wait(absl::ZeroDuration()).has_value()) << "service exited";
  ExpectServed("after the burst");
}

INSTANTIATE_TEST_SUITE_P(Services, TlsAttackTest,
                         ::testing::Values("alliance-intake", "alliance-insights"),
                         [](const auto& info) {
                           return info.param == "alliance-intake" ? std::string("Intake")
                                                                  : std::string("Insights");
                         });

}  // namespace
}  // namespace alliance::testing
