// What the alert delivery benchmarks (watch_bench.cc over gRPC, sse_bench.cc over Server-Sent
// Events) share: the clock and percentile they report with, and the alert they append, entry `i`
// of a run, to its partition's alert stream in the documented format (docs/redis-layout.md), as
// the worker writes it, so that both measure the same path from Redis to the caller.
#ifndef ALLIANCE_TESTS_SERVICES_INSIGHTS_BENCH_ALERTS_H_
#define ALLIANCE_TESTS_SERVICES_INSIGHTS_BENCH_ALERTS_H_

#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "store/keys.h"
#include "store/redis_connection.h"

namespace alliance::bench {

int64_t NowMicros();

// The q-quantile (0..1) of `v` (reordered); `v` must not be empty.
double Percentile(std::vector<double>& v, double q);

// Appends run entry `i`: tenant "bench", alert id "bench-<i>", a high-severity rupture of dyad
// t<i % 13> / c<i % 97>, detected now.
absl::Status AppendBenchAlert(RedisConnection& redis, const KeyLayout& layout, int i);

}  // namespace alliance::bench

#endif  // ALLIANCE_TESTS_SERVICES_INSIGHTS_BENCH_ALERTS_H_
