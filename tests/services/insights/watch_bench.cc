// Watch latency benchmark: connects N watchers to alliance-insights, appends alert entries to
// the partitions' alert streams (the documented format, as the worker writes them) at a steady
// rate, and reports the latency from append to arrival on every watch stream (p50/p99/max).
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/time_util.h>
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "alliance/v1/insights.grpc.pb.h"
#include "common/keys.h"
#include "common/redis_connection.h"

ABSL_FLAG(std::string, insights, "127.0.0.1:50052", "AllianceInsights address.");
ABSL_FLAG(int32_t, redis_port, 6379, "Redis port (host 127.0.0.1).");
ABSL_FLAG(int32_t, partitions, 8, "Partitions (as the service was started with).");
ABSL_FLAG(int32_t, watchers, 100, "Concurrent watchers.");
ABSL_FLAG(int32_t, alerts, 1000, "Alerts to append.");
ABSL_FLAG(int32_t, rate, 200, "Alerts appended per second.");

namespace {

using google::protobuf::util::TimeUtil;

int64_t NowMicros() { return absl::ToUnixMicros(absl::Now()); }

double Percentile(std::vector<double>& v, double q) {
  size_t i = static_cast<size_t>(q * static_cast<double>(v.size() - 1));
  std::nth_element(v.begin(), v.begin() + i, v.end());
  return v[i];
}

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
  for (int i = 0; i < total; ++i) {
    alliance::v1::Alert alert;
    alert.set_alert_id(absl::StrCat("bench-", i));
    alert.set_tenant_id("bench");
    alert.set_therapist_id(absl::StrCat("t", i % 13));
    alert.set_client_id(absl::StrCat("c", i % 97));
    alert.set_kind(alliance::v1::ALERT_KIND_RUPTURE);
    alert.set_severity(alliance::v1::SEVERITY_HIGH);
    alert.set_instrument_id("srs");
    *alert.mutable_detected_at() = TimeUtil::MicrosecondsToTimestamp(NowMicros());
    std::string json;
    (void)google::protobuf::util::MessageToJsonString(alert, &json);
    int p = layout.PartitionOf("bench", alert.therapist_id(), alert.client_id());
    auto reply = (*redis)->Command({"XADD", layout.AlertStream(p), "*", "v", "1", "tenant", "bench",
                                    "therapist", alert.therapist_id(), "client", alert.client_id(),
                                    "alert_id", alert.alert_id(), "kind", "rupture", "severity",
                                    "high", "alert", json});
    if (!reply.ok()) {
      std::fprintf(stderr, "XADD: %s\n", std::string(reply.status().message()).c_str());
      return 1;
    }
    next += interval;
    absl::SleepFor(next - absl::Now());
  }
  for (auto& t : threads) t.join();
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
      "append->watch latency ms: p50=%.2f p90=%.2f p99=%.2f max=%.2f\n",
      watchers, total, absl::GetFlag(FLAGS_rate), all.size(), incomplete, Percentile(all, 0.50),
      Percentile(all, 0.90), Percentile(all, 0.99), max);
  return incomplete == 0 ? 0 : 1;
}
