// Helpers of the intake integration tests; see intake_fixture.h.
#include "tests/services/intake/intake_fixture.h"

#include <grpcpp/generic/generic_stub.h>
#include <stdlib.h>

#include <algorithm>
#include <future>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "httplib.h"

namespace alliance::testing {

alliance::v1::Feedback ValidFeedback(const std::string& idempotency_id,
                                     const std::string& client_id) {
  alliance::v1::Feedback f;
  f.set_tenant_id("clinic-a");
  f.set_idempotency_id(idempotency_id);
  f.set_therapist_id("therapist-7");
  f.set_client_id(client_id);
  f.set_session_id("session-" + idempotency_id);
  f.set_session_number(3);
  f.mutable_session_time()->set_seconds(absl::ToUnixSeconds(absl::Now() - absl::Hours(2)));
  f.set_rater(alliance::v1::RATER_CLIENT);
  f.set_instrument_id("srs");
  for (int item = 1; item <= 4; ++item) {
    auto* a = f.add_answers();
    a->set_item(item);
    a->set_value(item == 2 ? 8.5 : 9.0);
  }
  return f;
}

absl::Status IntakeProcess::Start(int redis_port, const std::vector<std::string>& extra_args) {
  grpc_port_ = FreePort();
  health_port_ = FreePort();
  metrics_port_ = FreePort();
  http_port_ = FreePort();
  char tmpl[] = "/tmp/alliance-intake-test-XXXXXX";
  log_dir_ = mkdtemp(tmpl);
  std::vector<std::string> args = {
      "--listen_host=127.0.0.1",
      absl::StrCat("--grpc_port=", grpc_port_),
      absl::StrCat("--health_port=", health_port_),
      absl::StrCat("--metrics_port=", metrics_port_),
      absl::StrCat("--http_port=", http_port_),
      absl::StrCat("--redis_port=", redis_port),
      "--redis_timeout_ms=1000",
      "--shutdown_timeout=20s",
  };
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  // Tests that are not about authentication run without it; the security tests pass a key
  // file (tests/services/security).
  bool has_keys = std::any_of(extra_args.begin(), extra_args.end(), [](const std::string& a) {
    return a.rfind("--api_keys_file=", 0) == 0;
  });
  if (!has_keys) args.push_back("--auth_disabled");
  if (absl::Status s =
          process_.Start(BinaryPath("alliance-intake"), args, log_dir_ + "/intake.log");
      !s.ok()) {
    return s;
  }
  if (absl::Status s = WaitForPort(grpc_port_, absl::Seconds(20)); !s.ok()) return s;
  // The HTTP port opens just after the gRPC one.
  if (absl::Status s = WaitForPort(http_port_, absl::Seconds(20)); !s.ok()) return s;
  channel_ = grpc::CreateChannel(absl::StrCat("127.0.0.1:", grpc_port_),
                                 grpc::InsecureChannelCredentials());
  stub_ = alliance::v1::FeedbackIntake::NewStub(channel_);
  return WaitForHealth("", true);
}

std::optional<bool> IntakeProcess::Serving(const std::string& service, int port) {
  auto channel = port == 0 ? channel_
                           : grpc::CreateChannel(absl::StrCat("127.0.0.1:", port),
                                                 grpc::InsecureChannelCredentials());
  // grpc.health.v1.Health/Check by hand (the health proto is not installed with gRPC):
  // HealthCheckRequest{string service = 1}, HealthCheckResponse{ServingStatus status = 1}.
  std::string request_bytes;
  request_bytes.push_back(0x0a);
  request_bytes.push_back(static_cast<char>(service.size()));
  request_bytes += service;
  grpc::Slice slice(request_bytes);
  grpc::ByteBuffer request(&slice, 1);
  grpc::ByteBuffer response;
  grpc::GenericStub stub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
  std::promise<grpc::Status> done;
  stub.UnaryCall(&context, "/grpc.health.v1.Health/Check", grpc::StubOptions(), &request, &response,
                 [&done](grpc::Status s) { done.set_value(s); });
  grpc::Status status = done.get_future().get();
  if (!status.ok()) return std::nullopt;
  std::vector<grpc::Slice> slices;
  if (!response.Dump(&slices).ok()) return std::nullopt;
  std::string bytes;
  for (const auto& s : slices) bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
  // SERVING = 1; an absent field is UNKNOWN (0).
  return bytes.size() == 2 && bytes[0] == 0x08 && bytes[1] == 1;
}

absl::Status IntakeProcess::WaitForHealth(const std::string& service, bool serving,
                                          absl::Duration timeout) {
  absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    if (Serving(service) == serving) return absl::OkStatus();
    absl::SleepFor(absl::Milliseconds(20));
  }
  return absl::DeadlineExceededError(
      absl::StrCat("health of '", service, "' never became ", serving ? "SERVING" : "NOT_SERVING"));
}

std::optional<double> IntakeProcess::Metric(const std::string& series) {
  httplib::Client client("127.0.0.1", metrics_port_);
  client.set_connection_timeout(2);
  client.set_read_timeout(2);
  auto result = client.Get("/metrics");
  if (!result || result->status != 200) return std::nullopt;
  std::istringstream lines(result->body);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.size() > series.size() && line.compare(0, series.size(), series) == 0 &&
        line[series.size()] == ' ') {
      return std::stod(line.substr(series.size() + 1));
    }
  }
  return std::nullopt;
}

absl::Status IntakeProcess::WaitForMetric(const std::string& series, double value,
                                          absl::Duration timeout) {
  absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    if (Metric(series) == value) return absl::OkStatus();
    absl::SleepFor(absl::Milliseconds(20));
  }
  return absl::DeadlineExceededError(absl::StrCat(series, " never reached ", value));
}

grpc::Status ReflectionListServices(std::shared_ptr<grpc::Channel> channel,
                                    std::string* raw_response) {
  grpc::GenericStub stub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  grpc::CompletionQueue cq;
  void* tag = nullptr;
  bool ok = false;
  auto next = [&] { return cq.Next(&tag, &ok) && ok; };
  auto call = stub.Call(&context, "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
                        &cq, reinterpret_cast<void*>(1));
  grpc::Status status;
  if (next()) {
    // ServerReflectionRequest{list_services = "*"}: field 7, length-delimited.
    std::string request_bytes = "\x3a\x01*";
    grpc::Slice slice(request_bytes);
    grpc::ByteBuffer request(&slice, 1);
    call->Write(request, reinterpret_cast<void*>(2));
    if (next()) {
      call->WritesDone(reinterpret_cast<void*>(3));
      next();
      grpc::ByteBuffer response;
      call->Read(&response, reinterpret_cast<void*>(4));
      if (next()) {
        std::vector<grpc::Slice> slices;
        if (response.Dump(&slices).ok()) {
          for (const auto& s : slices) {
            raw_response->append(reinterpret_cast<const char*>(s.begin()), s.size());
          }
        }
      }
    }
  }
  call->Finish(&status, reinterpret_cast<void*>(5));
  // Drain every outstanding event (bounded by the call deadline).
  while (cq.Next(&tag, &ok)) {
    if (tag == reinterpret_cast<void*>(5)) break;
  }
  cq.Shutdown();
  while (cq.Next(&tag, &ok)) {
  }
  return status;
}

grpc::Status Submit(alliance::v1::FeedbackIntake::Stub& stub, const alliance::v1::Feedback& f,
                    alliance::v1::SubmitFeedbackResponse* response, absl::Duration deadline) {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + deadline));
  alliance::v1::SubmitFeedbackRequest request;
  *request.mutable_feedback() = f;
  return stub.SubmitFeedback(&context, request, response);
}

std::unique_ptr<RedisConnection> ConnectOrDie(const RedisServer& redis) {
  auto connection = RedisConnection::Connect(redis.endpoint());
  if (!connection.ok()) {
    ADD_FAILURE() << connection.status();
    std::abort();
  }
  return *std::move(connection);
}

int64_t TotalFeedbackEntries(RedisConnection& redis, const KeyLayout& layout) {
  int64_t total = 0;
  for (int p = 0; p < layout.partitions(); ++p) {
    auto reply = redis.Command({"XLEN", layout.FeedbackStream(p)});
    EXPECT_TRUE(reply.ok());
    if (reply.ok()) total += (*reply)->integer;
  }
  return total;
}

int64_t KeyCount(RedisConnection& redis) {
  auto reply = redis.Command({"DBSIZE"});
  EXPECT_TRUE(reply.ok());
  if (!reply.ok()) return -1;
  // The partition count every process records at start (store/partition_guard.h) is not a
  // submission.
  auto guard = redis.Command({"EXISTS", KeyLayout(1).PartitionCount()});
  EXPECT_TRUE(guard.ok());
  return (*reply)->integer - (guard.ok() ? (*guard)->integer : 0);
}

bool StreamHasEntry(RedisConnection& redis, const std::string& stream, const std::string& id) {
  auto reply = redis.Command({"XRANGE", stream, id, id});
  return reply.ok() && (*reply)->type == REDIS_REPLY_ARRAY && (*reply)->elements == 1;
}

}  // namespace alliance::testing
