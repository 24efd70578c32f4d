// Cost of the metrics on the services' hot paths (a counter increment, a latency observation,
// from one and two threads) and of a scrape of a realistic registry (about 400 series), through
// common/metrics.h and, for comparison, through prometheus-cpp's own types directly.
// Run: build/bin/alliance_metrics_benchmark (figures in docs/operations.md, Reading the metrics).
#include <benchmark/benchmark.h>
#include <prometheus/counter.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <string>

#include "common/metrics.h"

namespace alliance {
namespace {

MetricsRegistry& Registry() {
  static MetricsRegistry* registry = new MetricsRegistry();
  return *registry;
}

prometheus::Registry& PrometheusRegistry() {
  static prometheus::Registry* registry = new prometheus::Registry();
  return *registry;
}

void BM_CounterIncrement(benchmark::State& state) {
  static Counter* counter = Registry().GetCounter("bench_total", "help", {{"code", "OK"}});
  for (auto _ : state) counter->Increment();
}
BENCHMARK(BM_CounterIncrement)->Threads(1)->Threads(2);

void BM_PrometheusCppCounterIncrement(benchmark::State& state) {
  static prometheus::Counter* counter = &prometheus::BuildCounter()
                                             .Name("bench_total")
                                             .Help("help")
                                             .Register(PrometheusRegistry())
                                             .Add({{"code", "OK"}});
  for (auto _ : state) counter->Increment();
}
BENCHMARK(BM_PrometheusCppCounterIncrement)->Threads(1)->Threads(2);

void BM_HistogramObserve(benchmark::State& state) {
  static Histogram* histogram = Registry().GetHistogram(
      "bench_seconds", "help", MetricsRegistry::LatencyBuckets(), {{"method", "Submit"}});
  double v = 0.0001;
  for (auto _ : state) {
    histogram->Observe(v);
    v = v < 5 ? v * 1.7 : 0.0001;
  }
}
BENCHMARK(BM_HistogramObserve)->Threads(1)->Threads(2);

void BM_PrometheusCppHistogramObserve(benchmark::State& state) {
  static const std::vector<double> bounds = MetricsRegistry::LatencyBuckets();
  static prometheus::Histogram* histogram =
      &prometheus::BuildHistogram()
           .Name("bench_seconds")
           .Help("help")
           .Register(PrometheusRegistry())
           .Add({{"method", "Submit"}}, prometheus::Histogram::BucketBoundaries(bounds));
  double v = 0.0001;
  for (auto _ : state) {
    histogram->Observe(v);
    v = v < 5 ? v * 1.7 : 0.0001;
  }
}
BENCHMARK(BM_PrometheusCppHistogramObserve)->Threads(1)->Threads(2);

// A registry shaped like intake's: 2 methods x 17 codes of counters, 2 latency histograms,
// 8 partitions x 6 gauges, a few more.
void BM_Render(benchmark::State& state) {
  MetricsRegistry registry;
  for (const char* method : {"SubmitFeedback", "SubmitFeedbackBatch"}) {
    for (int code = 0; code < 17; ++code) {
      registry
          .GetCounter("alliance_bench_requests_total", "help",
                      {{"method", method}, {"code", std::to_string(code)}})
          ->Increment(code);
    }
    registry
        .GetHistogram("alliance_bench_seconds", "help", MetricsRegistry::LatencyBuckets(),
                      {{"method", method}})
        ->Observe(0.01);
  }
  for (int p = 0; p < 8; ++p) {
    for (const char* g : {"a", "b", "c", "d", "e", "f"}) {
      registry
          .GetGauge(std::string("alliance_bench_") + g, "help", {{"partition", std::to_string(p)}})
          ->Set(p);
    }
  }
  size_t bytes = 0;
  for (auto _ : state) bytes = registry.Render().size();
  state.counters["bytes"] = static_cast<double>(bytes);
}
BENCHMARK(BM_Render);

}  // namespace
}  // namespace alliance

BENCHMARK_MAIN();
