// Watch latency benchmark: connects N watchers to alliance-insights and reports the latency to
// arrival on every watch stream (p50/p99/max) of alerts produced at a steady rate, either
//  - appended directly to the partitions' alert streams (the documented format, as the worker
//    writes them): latency from the append, or
//  - with --intake, raised by the real pipeline: one SRS rating below the cutoff (a rupture at
//    session 1) per new dyad is submitted to FeedbackIntake; latency from the submit
//    acknowledgement to arrival (intake -> Redis -> worker -> alert stream -> insights).
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/time_util.h>
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <thread>

#include "absl/container/flat_hash_map.h"
#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "alliance/v1/insights.grpc.pb.h"
#include "alliance/v1/intake.grpc.pb.h"
#include "store/keys.h"
#include "store/redis_connection.h"
#include "tests/services/insights/bench_alerts.h"

ABSL_FLAG(std::string, insights, "127.0.0.1:50052", "AllianceInsights address.");
ABSL_FLAG(int32_t, redis_port, 6379, "Redis port (host 127.0.0.1).");
ABSL_FLAG(int32_t, partitions, 8, "Partitions (as the service was started with).");
ABSL_FLAG(int32_t, watchers, 100, "Concurrent watchers.");
ABSL_FLAG(int32_t, alerts, 1000, "Alerts to append.");
ABSL_FLAG(int32_t, rate, 200, "Alerts appended per second.");
ABSL_FLAG(std::string, intake, "",
          "FeedbackIntake address: raise alerts through the pipeline instead of appending them.");

namespace {

using google::protobuf::util::TimeUtil;

using alliance::bench::NowMicros;
using alliance::bench::Percentile;

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  const int watchers = absl::GetFlag(FLAGS_watchers);
  const int total = absl::GetFlag(FLAGS_alerts);
  alliance::KeyLayout layout(absl::GetFlag(FLAGS_partitions));
  alliance::RedisEndpoint endpoint;
  endpoint.port = absl::GetFlag(FLAGS_redis_port);
  auto redis = alliance::RedisConnection::Connect(endpoint);
  if (!redis.ok()) {
    std::fprintf(stderr, "redis: %s\n", std::string(redis.status().message()).c_str());
    return 1;
  }
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  for (int c = 0; c < 10; ++c) {
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    args.SetInt("alliance.bench.connection", c);
    channels.push_back(grpc::CreateCustomChannel(absl::GetFlag(FLAGS_insights),
                                                 grpc::InsecureChannelCredentials(), args));
  }
  const bool pipeline = !absl::GetFlag(FLAGS_intake).empty();
  std::vector<std::vector<std::pair<std::string, int64_t>>> arrivals(watchers);
  absl::Mutex acks_mu;
  absl::flat_hash_map<std::string, int64_t> acked_at;  // client id -> submit ack time (us)
  std::atomic<int> ready{0};
  std::vector<std::vector<double>> latencies_ms(watchers);
  std::vector<std::unique_ptr<grpc::ClientContext>> contexts(watchers);
  std::vector<std::thread> threads;
  for (int w = 0; w < watchers; ++w) {
    contexts[w] = std::make_unique<grpc::ClientContext>();
    // Generous bound so a lost alert ends the run instead of hanging it.
    contexts[w]->set_deadline(
        std::chrono::system_clock::now() +
        std::chrono::seconds(60 + 2 * total / std::max(1, absl::GetFlag(FLAGS_rate))));
    threads.emplace_back([&, w] {
      auto stub = alliance::v1::AllianceInsights::NewStub(channels[w % channels.size()]);
      alliance::v1::WatchAlertsRequest request;
      request.set_tenant_id("bench");
      auto reader = stub->WatchAlerts(contexts[w].get(), request);
      alliance::v1::WatchAlertsResponse message;
      bool first = true;
      while (static_cast<int>(latencies_ms[w].size()) < total && reader->Read(&message)) {
        if (first) {
          ready.fetch_add(1);
          first = false;
        }
        if (message.heartbeat()) continue;
        if (pipeline) {
          // Latency is computed at the end against the acknowledgement time of the submission.
          arrivals[w].emplace_back(message.alert().client_id(), NowMicros());
          latencies_ms[w].push_back(0);
          continue;
        }
        int64_t sent = TimeUtil::TimestampToMicroseconds(message.alert().detected_at());
        latencies_ms[w].push_back(static_cast<double>(NowMicros() - sent) / 1000.0);
      }
      contexts[w]->TryCancel();
      reader->Finish();
    });
  }
  // Bounded wait for every watcher's first message (the stream is then registered).
  for (int i = 0; i < 600 && ready.load() < watchers; ++i) absl::SleepFor(absl::Milliseconds(50));
  if (ready.load() < watchers) {
    std::fprintf(stderr, "only %d of %d watchers connected\n", ready.load(), watchers);
  }
  const absl::Duration interval = absl::Seconds(1) / std::max(1, absl::GetFlag(FLAGS_rate));
  absl::Time next = absl::Now();
  std::unique_ptr<alliance::v1::FeedbackIntake::Stub> intake;
  if (pipeline) {
    intake = alliance::v1::FeedbackIntake::NewStub(
        grpc::CreateChannel(absl::GetFlag(FLAGS_intake), grpc::InsecureChannelCredentials()));
  }
  const std::string run = std::to_string(NowMicros());
  for (int i = 0; i < total && pipeline; ++i) {
    alliance::v1::SubmitFeedbackRequest request;
    alliance::v1::Feedback* f = request.mutable_feedback();
    f->set_tenant_id("bench");
    f->set_idempotency_id(absl::StrCat("bench-", run, "-", i));
    f->set_therapist_id(absl::StrCat("t", i % 13));
    f->set_client_id(absl::StrCat("c", run, "-", i));  // a new dyad: its first session
    f->set_session_id(absl::StrCat("s", i));
    f->set_session_number(1);
    *f->mutable_session_time() = TimeUtil::MicrosecondsToTimestamp(NowMicros() - 3600000000LL);
    f->set_rater(alliance::v1::RATER_CLIENT);
    f->set_instrument_id("srs");
    for (int item = 1; item <= 4; ++item) {  // total 32: below the SRS cutoff of 36
      alliance::v1::ItemAnswer* a = f->add_answers();
      a->set_item(item);
      a->set_value(8);
    }
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    alliance::v1::SubmitFeedbackResponse response;
    grpc::Status status = intake->SubmitFeedback(&context, request, &response);
    if (!status.ok()) {
      std::fprintf(stderr, "submit: %s\n", status.error_message().c_str());
      return 1;
    }
    {
      absl::MutexLock lock(&acks_mu);
      acked_at[f->client_id()] = NowMicros();
    }
    next += interval;
    absl::SleepFor(next - absl::Now());
  }
  for (int i = 0; i < total && !pipeline; ++i) {
    absl::Status appended = alliance::bench::AppendBenchAlert(**redis, layout, i);
    if (!appended.ok()) {
      std::fprintf(stderr, "XADD: %s\n", std::string(appended.message()).c_str());
      return 1;
    }
    next += interval;
    absl::SleepFor(next - absl::Now());
  }
  for (auto& t : threads) t.join();
  if (pipeline) {
    absl::MutexLock lock(&acks_mu);
    for (int w = 0; w < watchers; ++w) {
      latencies_ms[w].clear();
      for (const auto& [client, at] : arrivals[w]) {
        auto it = acked_at.find(client);
        if (it == acked_at.end()) continue;
        // An alert can beat the acknowledgement back to the client: count that as 0.
        latencies_ms[w].push_back(std::max<int64_t>(0, at - it->second) / 1000.0);
      }
    }
  }
  std::vector<double> all;
  size_t incomplete = 0;
  for (auto& v : latencies_ms) {
    if (static_cast<int>(v.size()) < total) ++incomplete;
    all.insert(all.end(), v.begin(), v.end());
  }
  if (all.empty()) {
    std::fprintf(stderr, "no alert arrived\n");
    return 1;
  }
  double max = *std::max_element(all.begin(), all.end());
  std::printf(
      "watchers=%d alerts=%d rate=%d/s deliveries=%zu incomplete_watchers=%zu\n"
      "%s latency ms: p50=%.2f p90=%.2f p99=%.2f max=%.2f\n",
      watchers, total, absl::GetFlag(FLAGS_rate), all.size(), incomplete,
      pipeline ? "submit ack->watch" : "append->watch", Percentile(all, 0.50),
      Percentile(all, 0.90), Percentile(all, 0.99), max);
  return incomplete == 0 ? 0 : 1;
}
