// Shared helpers of the intake integration tests: a real redis-server and the real
// alliance-intake binary as a child process, a client for it, and Redis/metrics inspection.
#ifndef ALLIANCE_TESTS_SERVICES_INTAKE_INTAKE_FIXTURE_H_
#define ALLIANCE_TESTS_SERVICES_INTAKE_INTAKE_FIXTURE_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "alliance/v1/intake.grpc.pb.h"
#include "store/keys.h"
#include "store/redis_connection.h"
#include "tests/support/child_process.h"
#include "tests/support/redis_server.h"

namespace alliance::testing {

// A valid SRS submission by a client (idempotency id and dyad as given).
alliance::v1::Feedback ValidFeedback(const std::string& idempotency_id,
                                     const std::string& client_id = "client-1");

// The alliance-intake binary, started against a Redis port.
class IntakeProcess {
 public:
  // Starts the binary with free gRPC, health and metrics ports plus `extra_args`, and waits
  // until its gRPC health says SERVING (Redis connected).
  absl::Status Start(int redis_port, const std::vector<std::string>& extra_args = {});
  // Waits (bounded) until the health status of `service` is `serving`.
  absl::Status WaitForHealth(const std::string& service, bool serving,
                             absl::Duration timeout = absl::Seconds(20));
  // The health status of `service` as seen through `port` (grpc port by default).
  std::optional<bool> Serving(const std::string& service, int port = 0);
  // Value of one metric line, e.g. `alliance_intake_writes_in_flight` or
  // `alliance_intake_writes_total{outcome="appended"}`; nullopt when absent.
  std::optional<double> Metric(const std::string& series);
  // Waits (bounded) until Metric(series) equals `value`.
  absl::Status WaitForMetric(const std::string& series, double value,
                             absl::Duration timeout = absl::Seconds(20));

  alliance::v1::FeedbackIntake::Stub& stub() { return *stub_; }
  std::shared_ptr<grpc::Channel> channel() { return channel_; }
  ChildProcess& process() { return process_; }
  int grpc_port() const { return grpc_port_; }
  int health_port() const { return health_port_; }
  int http_port() const { return http_port_; }
  std::string Log() const { return process_.ReadLog(); }

 private:
  ChildProcess process_;
  int grpc_port_ = 0;
  int health_port_ = 0;
  int metrics_port_ = 0;
  int http_port_ = 0;
  std::string log_dir_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<alliance::v1::FeedbackIntake::Stub> stub_;
};

// Asks gRPC server reflection to list services (grpc.reflection.v1alpha, by hand: the
// reflection protos are not installed). Returns the call status; on OK `raw_response` holds
// the serialized ListServiceResponse, in which service names appear verbatim.
grpc::Status ReflectionListServices(std::shared_ptr<grpc::Channel> channel,
                                    std::string* raw_response);

// One SubmitFeedback call with a deadline.
grpc::Status Submit(alliance::v1::FeedbackIntake::Stub& stub, const alliance::v1::Feedback& f,
                    alliance::v1::SubmitFeedbackResponse* response,
                    absl::Duration deadline = absl::Seconds(10));

// A direct Redis connection for inspection; aborts the test on failure.
std::unique_ptr<RedisConnection> ConnectOrDie(const RedisServer& redis);
// Sum of XLEN over every feedback stream of `layout`.
int64_t TotalFeedbackEntries(RedisConnection& redis, const KeyLayout& layout);
// Number of keys in Redis but the recorded partition count (to prove nothing at all was
// written).
int64_t KeyCount(RedisConnection& redis);
// True when `stream` holds an entry with exactly `id`.
bool StreamHasEntry(RedisConnection& redis, const std::string& stream, const std::string& id);

}  // namespace alliance::testing

#endif  // ALLIANCE_TESTS_SERVICES_INTAKE_INTAKE_FIXTURE_H_
