// alliance-attack-memory: a bounded memory attack on one gRPC service, for
// scripts/attack-memory.sh. Over N connections it keeps M calls each in flight, every call one
// large request message (default 1 MiB) without an API key, until the duration is over; then
// it waits for the calls in flight (bounded by their deadline). Meanwhile a well-behaved client
// with a valid key calls the same service on its own connection. It reports the attack's
// result codes, the well-behaved client's successes and latency, and the service's resident
// memory (VmHWM, VmRSS from /proc/PID/status): peak during the attack and after it. The last
// line (RESULT ...) is for scripts. Traffic goes only to --target; use loopback.
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "alliance/v1/insights.grpc.pb.h"
#include "alliance/v1/intake.grpc.pb.h"
#include "common/process.h"
#include "tools/loadgen/latency_stats.h"
#include "tools/loadgen/sample_feedback.h"

ABSL_FLAG(std::string, target, "127.0.0.1:50051", "host:port of the attacked service.");
ABSL_FLAG(std::string, service, "intake",
          "intake or insights: the RPC the attack sends (SubmitFeedback or ListAlerts) and the "
          "one the well-behaved client calls (SubmitFeedback or ListDyads).");
ABSL_FLAG(int32_t, connections, 2, "Attack connections (1..64).");
ABSL_FLAG(int32_t, streams, 250,
          "Attack calls in flight per connection (1..1000). gRPC's client stack itself waits "
          "for a free stream when the server announces a lower cap.");
ABSL_FLAG(int32_t, message_bytes, 1 << 20, "Size of each attack request (1 KiB..64 MiB).");
ABSL_FLAG(absl::Duration, duration, absl::Seconds(20), "How long new attack calls are started.");
ABSL_FLAG(absl::Duration, deadline, absl::Seconds(10), "Deadline of each attack call.");
ABSL_FLAG(int32_t, server_pid, 0, "Process whose memory is read from /proc; 0 for none.");
ABSL_FLAG(absl::Duration, settle, absl::Seconds(5),
          "Pause after the last attack call before the after-attack memory is read.");
ABSL_FLAG(std::string, key_file, "",
          "File holding the well-behaved client's API key (first line); empty for no "
          "well-behaved client.");
ABSL_FLAG(std::string, tenant, "attack-check", "Tenant of the well-behaved client's key.");
ABSL_FLAG(int32_t, good_outstanding, 2, "Well-behaved calls in flight (1..64).");
ABSL_FLAG(absl::Duration, good_deadline, absl::Seconds(5), "Deadline of a well-behaved call.");

namespace alliance::loadgen {
namespace {

using Clock = std::chrono::steady_clock;

struct Memory {
  long rss_kib = -1;
  long hwm_kib = -1;
};

// VmRSS and VmHWM of `pid`; -1 each when unreadable.
Memory ReadMemory(int pid) {
  Memory m;
  if (pid <= 0) return m;
  std::ifstream in(absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(in, line)) {
    std::sscanf(line.c_str(), "VmRSS: %ld", &m.rss_kib);
    std::sscanf(line.c_str(), "VmHWM: %ld", &m.hwm_kib);
  }
  return m;
}

// A request of `bytes` bytes that parses as any message: one length-delimited field with a
// number no message of the API uses, so it is an unknown field everywhere.
grpc::Slice AttackPayload(size_t bytes) {
  std::string out;
  auto varint = [&out](uint64_t v) {
    while (v >= 0x80) {
      out.push_back(static_cast<char>(v | 0x80));
      v >>= 7;
    }
    out.push_back(static_cast<char>(v));
  };
  varint((uint64_t{1000} << 3) | 2);
  const size_t body = bytes > 16 ? bytes - 16 : 1;
  varint(body);
  out.append(body, 'x');
  return grpc::Slice(out);
}

std::shared_ptr<grpc::Channel> OwnConnection(const std::string& target, int id) {
  grpc::ChannelArguments args;
  // A distinct argument per channel, so each gets its own TCP connection.
  args.SetInt("alliance.attack.connection", id);
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  args.SetMaxSendMessageSize(-1);
  return grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args);
}

// Keeps `streams` unauthenticated large calls in flight on each of its connections until
// Stop(); counts their result codes.
class Attack {
 public:
  Attack(const std::string& target, std::string method, int connections, int streams,
         size_t message_bytes, absl::Duration deadline)
      : method_(std::move(method)),
        streams_(streams),
        deadline_(deadline),
        payload_(AttackPayload(message_bytes)) {
    for (int i = 0; i < connections; ++i) {
      stubs_.push_back(std::make_unique<grpc::GenericStub>(OwnConnection(target, 1000 + i)));
    }
  }

  void Start() {
    for (size_t c = 0; c < stubs_.size(); ++c) {
      for (int s = 0; s < streams_; ++s) Launch(c);
    }
  }

  // No new calls after this; waits (bounded by one deadline and a margin) for those in flight.
  void Stop() {
    stopping_.store(true);
    absl::MutexLock lock(&mu_);
    mu_.AwaitWithTimeout(absl::Condition(
                             +[](int* n) { return *n == 0; }, &in_flight_),
                         deadline_ + absl::Seconds(5));
  }

  std::map<grpc::StatusCode, uint64_t> codes() {
    absl::MutexLock lock(&mu_);
    return codes_;
  }
  uint64_t calls() {
    absl::MutexLock lock(&mu_);
    uint64_t n = 0;
    for (auto& [code, count] : codes_) n += count;
    return n;
  }

 private:
  struct Call {
    grpc::ClientContext context;
    grpc::ByteBuffer request;
    grpc::ByteBuffer response;
  };

  void Launch(size_t connection) {
    {
      absl::MutexLock lock(&mu_);
      ++in_flight_;
    }
    auto* call = new Call;
    call->context.set_deadline(absl::ToChronoTime(absl::Now() + deadline_));
    call->request = grpc::ByteBuffer(&payload_, 1);  // shares the payload's bytes
    stubs_[connection]->UnaryCall(&call->context, method_, grpc::StubOptions(), &call->request,
                                  &call->response, [this, call, connection](grpc::Status s) {
                                    delete call;
                                    Done(connection, s.error_code());
                                  });
  }

  void Done(size_t connection, grpc::StatusCode code) {
    {
      absl::MutexLock lock(&mu_);
      ++codes_[code];
      --in_flight_;
    }
    if (!stopping_.load()) Launch(connection);
  }

  const std::string method_;
  const int streams_;
  const absl::Duration deadline_;
  grpc::Slice payload_;
  std::vector<std::unique_ptr<grpc::GenericStub>> stubs_;
  std::atomic<bool> stopping_{false};
  absl::Mutex mu_;
  int in_flight_ ABSL_GUARDED_BY(mu_) = 0;
  std::map<grpc::StatusCode, uint64_t> codes_ ABSL_GUARDED_BY(mu_);
};

// A client that does what a real one does, with a valid key, closed loop on its own connection.
class WellBehavedClient {
 public:
  WellBehavedClient(const std::string& target, bool intake, std::string key, std::string tenant,
                    absl::Duration deadline)
      : intake_(intake), key_(std::move(key)), tenant_(std::move(tenant)), deadline_(deadline) {
    auto channel = OwnConnection(target, 0);
    intake_stub_ = alliance::v1::FeedbackIntake::NewStub(channel);
    insights_stub_ = alliance::v1::AllianceInsights::NewStub(channel);
  }

  // Runs `outstanding` closed loops until `stop` is set.
  void Run(int outstanding, const std::atomic<bool>& stop) {
    std::vector<std::thread> loops;
    for (int i = 0; i < outstanding; ++i) {
      loops.emplace_back([this, &stop] {
        while (!stop.load()) Once();
      });
    }
    for (auto& t : loops) t.join();
  }

  LatencyStats& stats() { return stats_; }

 private:
  void Once() {
    grpc::ClientContext context;
    context.AddMetadata("authorization", "Bearer " + key_);
    context.set_deadline(absl::ToChronoTime(absl::Now() + deadline_));
    Clock::time_point start = Clock::now();
    grpc::Status status;
    if (intake_) {
      alliance::v1::SubmitFeedbackRequest request;
      FillSampleFeedback(next_.fetch_add(1), "attack-check", tenant_, 100, base_time_s_,
                         request.mutable_feedback());
      alliance::v1::SubmitFeedbackResponse response;
      status = intake_stub_->SubmitFeedback(&context, request, &response);
    } else {
      alliance::v1::ListDyadsRequest request;
      request.set_tenant_id(tenant_);
      request.set_page_size(10);
      alliance::v1::ListDyadsResponse response;
      status = insights_stub_->ListDyads(&context, request, &response);
    }
    stats_.Record(
        status.error_code(),
        std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - start).count());
  }

  const bool intake_;
  const std::string key_;
  const std::string tenant_;
  const absl::Duration deadline_;
  const int64_t base_time_s_ = absl::ToUnixSeconds(absl::Now()) - 3600;
  std::atomic<uint64_t> next_{0};
  std::unique_ptr<alliance::v1::FeedbackIntake::Stub> intake_stub_;
  std::unique_ptr<alliance::v1::AllianceInsights::Stub> insights_stub_;
  LatencyStats stats_;
};

std::string CodeList(const std::map<grpc::StatusCode, uint64_t>& codes) {
  std::string out;
  for (auto& [code, count] : codes) absl::StrAppend(&out, out.empty() ? "" : " ", code, ":", count);
  return out.empty() ? "none" : out;
}

double Mib(long kib) { return kib < 0 ? -1 : static_cast<double>(kib) / 1024.0; }

int Run() {
  const std::string service = absl::GetFlag(FLAGS_service);
  if (service != "intake" && service != "insights") {
    std::fprintf(stderr, "--service must be intake or insights\n");
    return 2;
  }
  const int connections = absl::GetFlag(FLAGS_connections);
  const int streams = absl::GetFlag(FLAGS_streams);
  const int message_bytes = absl::GetFlag(FLAGS_message_bytes);
  const int good_outstanding = absl::GetFlag(FLAGS_good_outstanding);
  const absl::Duration duration = absl::GetFlag(FLAGS_duration);
  if (connections < 1 || connections > 64 || streams < 1 || streams > 1000 ||
      message_bytes < 1024 || message_bytes > (64 << 20) || good_outstanding < 1 ||
      good_outstanding > 64 || duration <= absl::ZeroDuration() || duration > absl::Minutes(10)) {
    std::fprintf(stderr, "flag out of range (see --help)\n");
    return 2;
  }
  std::string key;
  if (const std::string file = absl::GetFlag(FLAGS_key_file); !file.empty()) {
    std::ifstream in(file);
    if (!std::getline(in, key) || key.empty()) {
      std::fprintf(stderr, "cannot read a key from %s\n", file.c_str());
      return 2;
    }
  }
  const int pid = absl::GetFlag(FLAGS_server_pid);
  const std::string target = absl::GetFlag(FLAGS_target);
  const bool intake = service == "intake";
  const std::string method = intake ? "/alliance.v1.FeedbackIntake/SubmitFeedback"
                                    : "/alliance.v1.AllianceInsights/ListAlerts";

  const Memory before = ReadMemory(pid);
  std::atomic<bool> stop_good{false};
  std::unique_ptr<WellBehavedClient> good;
  std::thread good_thread;
  if (!key.empty()) {
    good = std::make_unique<WellBehavedClient>(target, intake, key, absl::GetFlag(FLAGS_tenant),
                                               absl::GetFlag(FLAGS_good_deadline));
    good_thread = std::thread([&] { good->Run(good_outstanding, stop_good); });
  }

  Attack attack(target, method, connections, streams, static_cast<size_t>(message_bytes),
                absl::GetFlag(FLAGS_deadline));
  std::fprintf(stderr, "attack: %s %s, %d connections x %d calls of %d bytes, for %s\n",
               target.c_str(), method.c_str(), connections, streams, message_bytes,
               absl::FormatDuration(duration).c_str());
  attack.Start();
  long peak_rss_kib = before.rss_kib;
  const absl::Time end = absl::Now() + duration;
  while (absl::Now() < end) {  // bounded by --duration
    absl::SleepFor(absl::Milliseconds(200));
    peak_rss_kib = std::max(peak_rss_kib, ReadMemory(pid).rss_kib);
  }
  attack.Stop();
  stop_good.store(true);
  if (good_thread.joinable()) good_thread.join();
  const Memory during = ReadMemory(pid);
  absl::SleepFor(absl::GetFlag(FLAGS_settle));
  const Memory after = ReadMemory(pid);

  LatencyStats::Summary g;
  if (good) g = good->stats().Summarise();
  const uint64_t good_failed = g.calls - g.ok;
  std::printf("attack calls=%llu codes: %s\n", static_cast<unsigned long long>(attack.calls()),
              CodeList(attack.codes()).c_str());
  if (good) {
    std::printf(
        "well-behaved calls=%llu ok=%llu failed=%llu (%s) p50=%.1fms p99=%.1fms "
        "max=%.1fms\n",
        static_cast<unsigned long long>(g.calls), static_cast<unsigned long long>(g.ok),
        static_cast<unsigned long long>(good_failed), CodeList(g.errors).c_str(), g.p50_ms,
        g.p99_ms, g.max_ms);
  }
  std::printf("memory before=%.1fMiB peak(VmHWM)=%.1fMiB sampled_peak=%.1fMiB after=%.1fMiB\n",
              Mib(before.rss_kib), Mib(during.hwm_kib), Mib(peak_rss_kib), Mib(after.rss_kib));
  std::printf(
      "RESULT service=%s attack_calls=%llu good_ok=%llu good_failed=%llu "
      "good_p50_ms=%.1f good_p99_ms=%.1f before_mib=%.1f hwm_mib=%.1f after_mib=%.1f\n",
      service.c_str(), static_cast<unsigned long long>(attack.calls()),
      static_cast<unsigned long long>(g.ok), static_cast<unsigned long long>(good_failed), g.p50_ms,
      g.p99_ms, Mib(before.rss_kib), Mib(during.hwm_kib), Mib(after.rss_kib));
  return 0;
}

}  // namespace
}  // namespace alliance::loadgen

int main(int argc, char** argv) {
  alliance::ParseFlagsWithEnv(argc, argv,
                              "alliance-attack-memory: bounded memory attack on one service "
                              "(loopback only), with a well-behaved client alongside.");
  return alliance::loadgen::Run();
}
