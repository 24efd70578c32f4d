// What each binary's listeners really bind, read from the kernel's socket tables: every port
// (gRPC, plaintext health, metrics) follows --listen_host, the default is loopback, and the
// worker's older --metrics_host still moves its metrics port alone.
#include <ostream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/child_process.h"
#include "tests/support/listening_sockets.h"
#include "tests/support/redis_server.h"

namespace alliance::testing {
namespace {

using ::testing::ElementsAre;

struct Binary {
  std::string name;
  bool serves_grpc;  // the worker has health and metrics only
};
void PrintTo(const Binary& binary, std::ostream* out) { *out << binary.name; }

class ListenersTest : public ::testing::TestWithParam<Binary> {
 protected:
  void SetUp() override { ASSERT_TRUE(redis_.Start().ok()); }
  void TearDown() override {
    if (service_.running()) {
      service_.Signal(SIGTERM);
      if (!service_.Wait(absl::Seconds(20)).has_value()) service_.Kill();
    }
    if (HasFailure()) std::cerr << service_.ReadLog();
  }

  // Starts the binary with its ports on free port numbers and `extra` flags; with
  // `default_host` its environment loses ALLIANCE_LISTEN_HOST, so the built-in default applies.
  // Returns once every port listens (bounded wait).
  void Start(std::vector<std::string> extra, bool default_host) {
    ports_ = {FreePort(), FreePort()};
    std::vector<std::string> args = {absl::StrCat("--redis_port=", redis_.port()),
                                     absl::StrCat("--health_port=", ports_[0]),
                                     absl::StrCat("--metrics_port=", ports_[1])};
    if (GetParam().serves_grpc) {
      ports_.push_back(FreePort());
      args.push_back(absl::StrCat("--grpc_port=", ports_[2]));
      args.push_back("--auth_disabled");
    }
    args.insert(args.end(), extra.begin(), extra.end());
    std::string binary = BinaryPath(GetParam().name);
    if (default_host) {
      args.insert(args.begin(), {"-u", "ALLIANCE_LISTEN_HOST", binary});
      binary = "/usr/bin/env";
    }
    ASSERT_TRUE(service_.Start(binary, args, redis_.dir() + "/service.log").ok());
    const absl::Time deadline = absl::Now() + absl::Seconds(20);
    auto all_listening = [&] {
      for (int port : ports_) {
        if (ListeningAddresses(port).empty()) return false;
      }
      return true;
    };
    while (!all_listening() && service_.running() && absl::Now() < deadline) {
      if (service_.Wait(absl::Milliseconds(50)).has_value()) break;  // exited: a bad flag
    }
    ASSERT_TRUE(all_listening()) << GetParam().name << " did not open every port";
  }

  int health_port() const { return ports_[0]; }
  int metrics_port() const { return ports_[1]; }

  RedisServer redis_;
  ChildProcess service_;
  std::vector<int> ports_;
};

TEST_P(ListenersTest, EveryPortBindsLoopbackOnlyByDefault) {
  Start({}, /*default_host=*/true);
  for (int port : ports_) {
    EXPECT_THAT(ListeningAddresses(port), ElementsAre("127.0.0.1")) << "port " << port;
  }
}

// 127.0.0.2 is loopback too (127/8), but no default: the address must come from the flag.
TEST_P(ListenersTest, EveryPortBindsTheListenHost) {
  Start({"--listen_host=127.0.0.2"}, /*default_host=*/false);
  for (int port : ports_) {
    EXPECT_THAT(ListeningAddresses(port), ElementsAre("127.0.0.2")) << "port " << port;
  }
}

INSTANTIATE_TEST_SUITE_P(Binaries, ListenersTest,
                         ::testing::Values(Binary{"alliance-intake", true},
                                           Binary{"alliance-insights", true},
                                           Binary{"alliance-worker", false}),
                         [](const auto& info) {
                           return info.param.name == "alliance-intake"     ? std::string("Intake")
                                  : info.param.name == "alliance-insights" ? std::string("Insights")
                                                                           : std::string("Worker");
                         });

// Deployments that set the worker's --metrics_host keep their metrics address.
class WorkerMetricsHostTest : public ListenersTest {};

TEST_P(WorkerMetricsHostTest, MetricsHostMovesOnlyTheMetricsPort) {
  Start({"--listen_host=127.0.0.1", "--metrics_host=127.0.0.2"}, /*default_host=*/false);
  EXPECT_THAT(ListeningAddresses(health_port()), ElementsAre("127.0.0.1"));
  EXPECT_THAT(ListeningAddresses(metrics_port()), ElementsAre("127.0.0.2"));
}

INSTANTIATE_TEST_SUITE_P(Worker, WorkerMetricsHostTest,
                         ::testing::Values(Binary{"alliance-worker", false}));

}  // namespace
}  // namespace alliance::testing
