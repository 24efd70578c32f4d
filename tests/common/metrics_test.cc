// Metrics registry renders valid Prometheus text (prometheus-cpp's exposition: labels in name
// order), refuses bad names and reused names without crashing, and the endpoint serves it over
// HTTP.
#include "common/metrics.h"

#include <httplib.h>

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
