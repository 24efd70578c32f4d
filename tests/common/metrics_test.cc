// Metrics registry renders valid Prometheus text (prometheus-cpp's exposition: labels in name
// order), refuses bad names and reused names without crashing, and the endpoint serves it over
// HTTP.
#include "common/metrics.h"

#include <httplib.h>

#include "absl/strings/str_cat.h"
#include "common/process_metrics.h"
#include "gtest/gtest.h"
#include "tests/support/redis_server.h"

namespace alliance {
namespace {

TEST(MetricsTest, RendersCountersGaugesHistograms) {
  MetricsRegistry registry;
  registry
      .GetCounter("alliance_requests_total", "Requests", {{"method", "Submit"}, {"code", "OK"}})
      ->Increment(3);
  registry.GetGauge("alliance_queue_depth", "Depth")->Set(7);
  Histogram* h = registry.GetHistogram("alliance_latency_seconds", "Latency", {0.01, 0.1});
  h->Observe(0.005);
  h->Observe(0.05);
  h->Observe(5);
  std::string text = registry.Render();
  EXPECT_NE(text.find("# TYPE alliance_requests_total counter"), std::string::npos);
  EXPECT_NE(text.find("alliance_requests_total{code=\"OK\",method=\"Submit\"} 3"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("alliance_queue_depth 7"), std::string::npos);
  EXPECT_NE(text.find("alliance_latency_seconds_bucket{le=\"0.01\"} 1"), std::string::npos);
  EXPECT_NE(text.find("alliance_latency_seconds_bucket{le=\"0.1\"} 2"), std::string::npos) << text;
  EXPECT_NE(text.find("alliance_latency_seconds_bucket{le=\"+Inf\"} 3"), std::string::npos);
  EXPECT_NE(text.find("alliance_latency_seconds_count 3"), std::string::npos);
}

TEST(MetricsTest, SameLabelsSameCounterAndCollectorsRun) {
  MetricsRegistry registry;
  Counter* a = registry.GetCounter("c_total", "c", {{"k", "v"}});
  Counter* b = registry.GetCounter("c_total", "c", {{"k", "v"}});
  EXPECT_EQ(a, b);
  Gauge* g = registry.GetGauge("g", "g");
  registry.AddCollector([g] { g->Set(42); });
  EXPECT_NE(registry.Render().find("g 42"), std::string::npos);
}

// Mistakes in metric definitions are logged and the metric is not exported; nothing throws and
// the rest of the registry still renders.
TEST(MetricsTest, RefusedDefinitionsAreNotExportedAndDoNotCrash) {
  MetricsRegistry registry;
  registry.GetCounter("alliance_shared_total", "a counter")->Increment();
  Gauge* reused = registry.GetGauge("alliance_shared_total", "now a gauge");
  reused->Set(5);
  EXPECT_EQ(reused->Value(), 5);
  registry.GetCounter("bad name with spaces", "x")->Increment();
  registry.GetCounter("alliance_bad_label_total", "x", {{"0bad", "v"}})->Increment();
  registry.GetHistogram("alliance_unsorted_seconds", "x", {1, 0.5})->Observe(0.7);
  const std::string text = registry.Render();
  EXPECT_NE(text.find("alliance_shared_total 1"), std::string::npos) << text;
  EXPECT_EQ(text.find("alliance_shared_total 5"), std::string::npos) << text;
  EXPECT_EQ(text.find("bad name"), std::string::npos) << text;
  EXPECT_EQ(text.find("0bad"), std::string::npos) << text;
  EXPECT_EQ(text.find("alliance_unsorted_seconds"), std::string::npos) << text;
}

// /proc/self/stat with a command name that holds spaces and parentheses: fields 14 and 15
// (utime, stime: 250 + 150 ticks), 20 (threads: 9), 22 (start: 1000 ticks after boot), 23
// (vsize) and 24 (rss: 300 pages).
TEST(ProcessMetricsTest, ParsesProcStatAfterTheLastParenthesis) {
  const std::string stat =
      "4242 (alliance (x) y) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 150 0 0 20 0 9 0 1000 "
      "123456789 300 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0";
  std::optional<ProcessStat> parsed = ParseProcessStat(stat, 100, 4096, 1'700'000'000);
  ASSERT_TRUE(parsed.has_value());
  EXPECT_DOUBLE_EQ(parsed->cpu_seconds, 4.0);
  EXPECT_DOUBLE_EQ(parsed->threads, 9);
  EXPECT_DOUBLE_EQ(parsed->start_time_seconds, 1'700'000'010.0);
  EXPECT_DOUBLE_EQ(parsed->virtual_bytes, 123456789);
  EXPECT_DOUBLE_EQ(parsed->resident_bytes, 300.0 * 4096);
  EXPECT_FALSE(ParseProcessStat("4242 (truncated) S 1 2", 100, 4096, 0).has_value());
  EXPECT_FALSE(ParseProcessStat("no parenthesis", 100, 4096, 0).has_value());
}

TEST(ProcessMetricsTest, EveryRegistryExportsTheProcessMetricsOfThisProcess) {
  MetricsRegistry registry;
  const std::string text = registry.Render();
  for (const char* name :
       {"process_cpu_seconds_total", "process_resident_memory_bytes", "process_open_fds",
        "process_max_fds", "process_start_time_seconds", "process_threads"}) {
    EXPECT_NE(text.find(absl::StrCat("# TYPE ", name)), std::string::npos) << name << "\n" << text;
  }
  EXPECT_EQ(text.find("process_resident_memory_bytes 0\n"), std::string::npos) << text;
  EXPECT_EQ(text.find("process_open_fds 0\n"), std::string::npos) << text;
}

TEST(MetricsTest, ServesOverHttp) {
  MetricsRegistry registry;
  registry.GetCounter("served_total", "x")->Increment();
  MetricsServer server(&registry);
  int port = testing::FreePort();
  ASSERT_TRUE(server.Start("127.0.0.1", port).ok());
  httplib::Client client("127.0.0.1", port);
  auto res = client.Get("/metrics");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_NE(res->body.find("served_total 1"), std::string::npos);
  server.Stop();
}

}  // namespace
}  // namespace alliance
