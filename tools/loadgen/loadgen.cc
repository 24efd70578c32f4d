// alliance-loadgen: drives FeedbackIntake (alliance-intake or the bare server) with a fixed
// number of outstanding calls over several channels, closed loop or at a fixed rate, and
// prints QPS, latency percentiles and errors by code. The last line (RESULT ...) is for
// scripts.
#include <grpcpp/grpcpp.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "alliance/v1/intake.grpc.pb.h"
#include "common/grpc_status.h"
#include "common/process.h"
#include "common/strings.h"
#include "tools/loadgen/latency_stats.h"
#include "tools/loadgen/sample_feedback.h"

ABSL_FLAG(std::string, target, "127.0.0.1:50051", "host:port of the FeedbackIntake server.");
ABSL_FLAG(int32_t, channels, 4, "gRPC channels (TCP connections) to spread calls over.");
ABSL_FLAG(int32_t, outstanding, 64, "Calls in flight at most.");
ABSL_FLAG(absl::Duration, duration, absl::Seconds(10), "Measured duration of the run.");
ABSL_FLAG(absl::Duration, warmup, absl::Seconds(1), "Unmeasured load before the run.");
ABSL_FLAG(double, rate, 0, "Calls per second to start; 0 for as many as the outstanding allow.");
ABSL_FLAG(std::string, idempotency, "unique",
          "unique: every call a new idempotency id; repeat: cycle through --repeat_ids ids "
          "with identical content (exercises the duplicate path).");
ABSL_FLAG(int32_t, repeat_ids, 1000, "Distinct submissions with --idempotency=repeat.");
ABSL_FLAG(std::string, method, "submit", "submit (SubmitFeedback) or batch (SubmitFeedbackBatch).");
ABSL_FLAG(int32_t, batch_size, 10, "Submissions per SubmitFeedbackBatch call.");
ABSL_FLAG(absl::Duration, deadline, absl::Seconds(5), "Deadline of each call.");
ABSL_FLAG(std::string, tenant, "loadgen", "Tenant id of the submissions.");
ABSL_FLAG(int32_t, dyads, 10000, "Distinct therapist-client pairs the submissions spread over.");

namespace alliance::loadgen {
namespace {

using Clock = std::chrono::steady_clock;

struct Config {
  std::string target;
  int channels;
  int outstanding;
  absl::Duration duration;
  absl::Duration warmup;
  double rate;
  bool repeat;
  uint64_t repeat_ids;
  bool batch;
  int batch_size;
  absl::Duration deadline;
  std::string tenant;
  uint64_t dyads;
};

class LoadGenerator {
 public:
  explicit LoadGenerator(Config config) : config_(std::move(config)) {
    std::random_device rd;
    run_id_ = absl::StrFormat("lg%08x", rd());
    base_time_s_ = absl::ToUnixSeconds(absl::Now()) - 3600;
    for (int i = 0; i < config_.channels; ++i) {
      grpc::ChannelArguments args;
      // A distinct argument per channel, so each gets its own TCP connection.
      args.SetInt("alliance.loadgen.channel", i);
      args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
      args.SetMaxSendMessageSize(-1);
      auto channel =
          grpc::CreateCustomChannel(config_.target, grpc::InsecureChannelCredentials(), args);
      stubs_.push_back(alliance::v1::FeedbackIntake::NewStub(channel));
    }
  }

  // Runs the warm-up and the measured period; returns false if the target is unreachable.
  bool Run() {
    start_ = Clock::now();
    measure_from_ = start_ + absl::ToChronoNanoseconds(config_.warmup);
    end_ = measure_from_ + absl::ToChronoNanoseconds(config_.duration);
    if (config_.rate <= 0) {
      // Closed loop: each completion starts the next call.
      for (int i = 0; i < config_.outstanding; ++i) {
        if (!StartCall()) break;
      }
    } else {
      Paced();
    }
    // Every call ends within its deadline; wait for the last ones (bounded).
    absl::MutexLock lock(&mu_);
    absl::Time give_up =
        absl::Now() + absl::FromChrono(end_ - Clock::now()) + config_.deadline + absl::Seconds(5);
    while (in_flight_ > 0) {
      if (done_cv_.WaitWithDeadline(&mu_, give_up)) break;
    }
    return true;
  }

  void Report() {
    LatencyStats::Summary s = stats_.Summarise();
    double seconds = absl::ToDoubleSeconds(config_.duration);
    double qps = static_cast<double>(s.calls) / seconds;
    double ok_qps = static_cast<double>(s.ok) / seconds;
    int per_call = config_.batch ? config_.batch_size : 1;
    std::printf("target=%s method=%s channels=%d outstanding=%d rate=%.0f duration=%s\n",
                config_.target.c_str(), config_.batch ? "batch" : "submit", config_.channels,
                config_.outstanding, config_.rate, absl::FormatDuration(config_.duration).c_str());
    std::printf("calls=%llu ok=%llu qps=%.1f ok_qps=%.1f submissions_per_s=%.1f\n",
                static_cast<unsigned long long>(s.calls), static_cast<unsigned long long>(s.ok),
                qps, ok_qps, ok_qps * per_call);
    std::printf("latency_ms (ok calls) p50=%.3f p90=%.3f p99=%.3f max=%.3f\n", s.p50_ms, s.p90_ms,
                s.p99_ms, s.max_ms);
    std::string errors;
    uint64_t error_count = 0;
    for (auto [code, count] : s.errors) {
      absl::StrAppend(&errors, " ", Absl(GrpcCodeName(code)), "=", count);
      error_count += count;
    }
    std::printf("errors:%s\n", errors.empty() ? " none" : errors.c_str());
    std::printf(
        "RESULT qps=%.1f ok_qps=%.1f p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f max_ms=%.3f "
        "ok=%llu errors=%llu\n",
        qps, ok_qps, s.p50_ms, s.p90_ms, s.p99_ms, s.max_ms, static_cast<unsigned long long>(s.ok),
        static_cast<unsigned long long>(error_count));
    std::fflush(stdout);
  }

 private:
  struct Call {
    grpc::ClientContext context;
    alliance::v1::SubmitFeedbackRequest request;
    alliance::v1::SubmitFeedbackResponse response;
    alliance::v1::SubmitFeedbackBatchRequest batch_request;
    alliance::v1::SubmitFeedbackBatchResponse batch_response;
    Clock::time_point sent;
  };

  uint64_t NextKey() {
    uint64_t seq = seq_.fetch_add(1, std::memory_order_relaxed);
    return config_.repeat ? seq % config_.repeat_ids : seq;
  }

  // Starts one call unless the run is over. Returns false when it did not start one.
  bool StartCall() {
    Clock::time_point now = Clock::now();
    if (now >= end_) return false;
    {
      absl::MutexLock lock(&mu_);
      ++in_flight_;
    }
    auto* call = new Call;
    call->context.set_deadline(std::chrono::system_clock::now() +
                               absl::ToChronoNanoseconds(config_.deadline));
    size_t channel = channel_rr_.fetch_add(1, std::memory_order_relaxed) % stubs_.size();
    auto done = [this, call](grpc::Status status) { Finished(call, status); };
    call->sent = Clock::now();
    if (config_.batch) {
      for (int i = 0; i < config_.batch_size; ++i) {
        FillSampleFeedback(NextKey(), run_id_, config_.tenant, config_.dyads, base_time_s_,
                           call->batch_request.add_feedback());
      }
      stubs_[channel]->async()->SubmitFeedbackBatch(&call->context, &call->batch_request,
                                                    &call->batch_response, done);
    } else {
      FillSampleFeedback(NextKey(), run_id_, config_.tenant, config_.dyads, base_time_s_,
                         call->request.mutable_feedback());
      stubs_[channel]->async()->SubmitFeedback(&call->context, &call->request, &call->response,
                                               done);
    }
    return true;
  }

  void Finished(Call* call, const grpc::Status& status) {
    Clock::time_point now = Clock::now();
    grpc::StatusCode code = status.error_code();
    if (code == grpc::StatusCode::OK && config_.batch) {
      // A batch counts as OK only if every item was accepted; else by its first item error.
      for (const auto& r : call->batch_response.results()) {
        if (r.code() != 0) {
          code = static_cast<grpc::StatusCode>(r.code());
          break;
        }
      }
    }
    if (call->sent >= measure_from_ && now <= end_) {
      stats_.Record(code,
                    std::chrono::duration_cast<std::chrono::nanoseconds>(now - call->sent).count());
    }
    delete call;
    bool started_next = config_.rate <= 0 && StartCall();
    absl::MutexLock lock(&mu_);
    --in_flight_;
    if (!started_next) done_cv_.SignalAll();
  }

  // Open loop at a fixed rate, never more than `outstanding` in flight.
  void Paced() {
    const auto interval = std::chrono::nanoseconds(static_cast<int64_t>(1e9 / config_.rate));
    Clock::time_point next = start_;
    while (true) {
      std::this_thread::sleep_until(next);
      if (Clock::now() >= end_) return;
      {
        absl::MutexLock lock(&mu_);
        absl::Time give_up = absl::Now() + absl::FromChrono(end_ - Clock::now());
        while (in_flight_ >= config_.outstanding) {
          if (done_cv_.WaitWithDeadline(&mu_, give_up)) return;
        }
      }
      StartCall();
      next += interval;
      // After a stall, do not burst to catch up: rebase on the present.
      if (Clock::now() - next > std::chrono::milliseconds(100)) next = Clock::now();
    }
  }

  const Config config_;
  std::string run_id_;
  int64_t base_time_s_ = 0;
  std::vector<std::unique_ptr<alliance::v1::FeedbackIntake::Stub>> stubs_;
  std::atomic<uint64_t> seq_{0};
  std::atomic<uint64_t> channel_rr_{0};
  Clock::time_point start_, measure_from_, end_;
  LatencyStats stats_;
  absl::Mutex mu_;
  absl::CondVar done_cv_;
  int in_flight_ ABSL_GUARDED_BY(mu_) = 0;
};

int Main() {
  Config config;
  config.target = absl::GetFlag(FLAGS_target);
  config.channels = absl::GetFlag(FLAGS_channels);
  config.outstanding = absl::GetFlag(FLAGS_outstanding);
  config.duration = absl::GetFlag(FLAGS_duration);
  config.warmup = absl::GetFlag(FLAGS_warmup);
  config.rate = absl::GetFlag(FLAGS_rate);
  std::string idempotency = absl::GetFlag(FLAGS_idempotency);
  config.repeat = idempotency == "repeat";
  config.repeat_ids = static_cast<uint64_t>(std::max(1, absl::GetFlag(FLAGS_repeat_ids)));
  std::string method = absl::GetFlag(FLAGS_method);
  config.batch = method == "batch";
  config.batch_size = absl::GetFlag(FLAGS_batch_size);
  config.deadline = absl::GetFlag(FLAGS_deadline);
  config.tenant = absl::GetFlag(FLAGS_tenant);
  config.dyads = static_cast<uint64_t>(std::max(1, absl::GetFlag(FLAGS_dyads)));
  if ((idempotency != "unique" && idempotency != "repeat") ||
      (method != "submit" && method != "batch") || config.channels < 1 || config.outstanding < 1 ||
      config.batch_size < 1 || config.duration <= absl::ZeroDuration() || config.rate < 0) {
    std::fprintf(stderr, "bad flags: see --help\n");
    return 2;
  }
  LoadGenerator generator(config);
  generator.Run();
  generator.Report();
  return 0;
}

}  // namespace
}  // namespace alliance::loadgen

int main(int argc, char** argv) {
  // Debian's Abseil checks every Mutex acquisition for lock-order cycles (a debugging aid that
  // costs several percent of CPU in gRPC's hot paths); production binaries do not need it.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  alliance::ParseFlagsWithEnv(argc, argv,
                              "alliance-loadgen: load generator for FeedbackIntake servers.");
  return alliance::loadgen::Main();
}
