// alliance-worker-bench: measures one alliance-worker against a local redis-server it starts.
// 1. Throughput: the feedback streams are pre-filled with --ratings ratings over --dyads dyads
//    (week by week: every dyad's next session; dyads at different stages, see --stagger), then
//    one worker is started; ratings applied per second = ratings /
//    time from the first delivery to the streams being drained.
// 2. Latency: entries are appended at --latency_rate per second (default: half the measured
//    throughput) for --latency_seconds; the latency of an entry is the time from its XADD
//    reply to the moment its dyad state is written (its acknowledgement, which the apply
//    script makes atomically with the write), observed by polling the group every 2 ms.
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "common/strings.h"
#include "tests/support/child_process.h"
#include "tests/support/redis_server.h"
#include "tests/worker/worker_fixture.h"

ABSL_FLAG(int32_t, ratings, 100000, "Ratings pre-filled for the throughput run.");
ABSL_FLAG(int32_t, dyads, 5000, "Dyads the ratings are spread over.");
ABSL_FLAG(int32_t, partitions, 8, "Feedback partitions.");
ABSL_FLAG(int32_t, batch_size, 256, "Worker --batch_size.");
ABSL_FLAG(std::string, order, "session",
          "Order of the pre-filled ratings: 'session' (week by week: every dyad's session 1, then "
          "session 2...; one rating per dyad per batch, the worst case) or 'dyad' (each dyad's "
          "sessions together, as a bulk import or a backlog after an outage).");
ABSL_FLAG(bool, stagger, true,
          "Dyads at different stages: each dyad's pre-filled sessions are drawn from 1 to twice "
          "the average minus 1, as on a platform whose clients are at every stage of therapy. "
          "false: every dyad has the same number (lockstep), so during the latency run all of "
          "them reach each session together, and every per-dyad container that grows at a "
          "given size grows for all dyads within the same quarter second.");
ABSL_FLAG(int32_t, latency_rate, 0,
          "Append rate of the latency run; 0: half the measured throughput. Live traffic is "
          "always session by session, so pair it with the session-order throughput.");
ABSL_FLAG(int32_t, latency_seconds, 10, "Duration of the latency run.");
ABSL_FLAG(bool, latency_timeline, false,
          "Also print, per 500 ms of the latency run (by append time), the count, p99 and max "
          "latency: shows whether the tail is steady or comes in bursts.");
ABSL_FLAG(bool, commandstats, false,
          "Also print where Redis spent its time during the latency run (INFO commandstats: "
          "commands called from scripts are counted inside EVALSHA too).");
ABSL_FLAG(std::string, worker_wrapper, "",
          "Executable started instead of the worker, with the worker's path and arguments as its "
          "own (e.g. a script running it under a profiler). The worker CPU figure is then the "
          "wrapper's.");

namespace alliance::testing {
namespace {

using Id = std::pair<uint64_t, uint64_t>;

Id ParseId(std::string_view s) {
  std::vector<absl::string_view> parts = absl::StrSplit(absl::string_view(s.data(), s.size()), '-');
  Id id{0, 0};
  if (parts.size() == 2) {
    (void)absl::SimpleAtoi(parts[0], &id.first);
    (void)absl::SimpleAtoi(parts[1], &id.second);
  }
  return id;
}

// Per partition: every id strictly below this is applied and acknowledged.
std::vector<Id> AppliedBelow(RedisConnection& redis, const KeyLayout& layout) {
  for (int p = 0; p < layout.partitions(); ++p) {
    redis.Append({"XINFO", "GROUPS", layout.FeedbackStream(p)});
    redis.Append({"XPENDING", layout.FeedbackStream(p), "alliance-worker"});
  }
  std::vector<Id> out(layout.partitions(), Id{0, 0});
  for (int p = 0; p < layout.partitions(); ++p) {
    auto groups = redis.GetReply();
    auto pending = redis.GetReply();
    if (!groups.ok() || !pending.ok()) continue;
    Id last{0, 0};
    const redisReply& g = **groups;
    for (size_t i = 0; g.type == REDIS_REPLY_ARRAY && i < g.elements; ++i) {
      const redisReply* group = g.element[i];
      for (size_t j = 0; j + 1 < group->elements; j += 2) {
        if (ReplyString(*group->element[j]) == "last-delivered-id") {
          last = ParseId(ReplyString(*group->element[j + 1]));
        }
      }
    }
    last.second += 1;  // everything at or below last-delivered...
    const redisReply& pe = **pending;
    if (pe.type == REDIS_REPLY_ARRAY && pe.elements >= 2 && pe.element[0]->integer > 0) {
      last = std::min(last, ParseId(ReplyString(*pe.element[1])));  // ...except what is pending
    }
    out[p] = last;
  }
  return out;
}

// Every dyad's series (stable, V-shaped rupture and repair, decline, ceiling: see
// ClientSeries), split into the pre-filled sessions (`filled_sessions` on average; see
// --stagger) and `live_sessions` more, each part week by week: every dyad's next session, then
// the one after.
void Workload(int dyads, int filled_sessions, int live_sessions, bool stagger, std::mt19937& rng,
              std::vector<Submission>* filled, std::vector<Submission>* live) {
  std::vector<std::vector<Submission>> series;
  std::vector<int> filled_of;
  std::uniform_int_distribution<int> stage(1, 2 * filled_sessions - 1);
  for (int d = 0; d < dyads; ++d) {
    filled_of.push_back(stagger ? stage(rng) : filled_sessions);
    series.push_back(ClientSeries("bench", absl::StrCat("th-", d % 211), absl::StrCat("cl-", d),
                                  "srs", filled_of[d] + live_sessions, rng));
  }
  for (int week = 0; week < 2 * filled_sessions; ++week) {
    for (int d = 0; d < dyads; ++d) {
      if (week < filled_of[d]) filled->push_back(series[d][week]);
    }
  }
  for (int week = 0; week < live_sessions; ++week) {
    for (int d = 0; d < dyads; ++d) live->push_back(series[d][filled_of[d] + week]);
  }
}

// CPU seconds (user + system) a process has used so far.
double CpuSeconds(pid_t pid) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/stat"));
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  size_t close = text.rfind(')');
  if (close == std::string::npos) return 0;
  std::vector<std::string> fields = absl::StrSplit(text.substr(close + 2), ' ');
  if (fields.size() < 13) return 0;
  double ticks = std::stod(fields[11]) + std::stod(fields[12]);  // utime, stime
  return ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
}

pid_t RedisPid(RedisConnection& redis) {
  auto info = redis.Command({"INFO", "server"});
  if (!info.ok()) return 0;
  std::string_view text = ReplyString(**info);
  size_t at = text.find("process_id:");
  if (at == std::string_view::npos) return 0;
  return static_cast<pid_t>(std::atoi(std::string(text.substr(at + 11, 12)).c_str()));
}

// An entry seen applied: when it was appended, and how long after that.
struct Applied {
  absl::Time appended;
  double latency_ms;
};

// Per window of `width` seconds of append time since `start`: count, p99 and max latency.
void PrintTimeline(const std::vector<Applied>& applied, absl::Time start, double width) {
  std::map<int, std::vector<double>> windows;
  for (const Applied& a : applied) {
    windows[static_cast<int>(absl::ToDoubleSeconds(a.appended - start) / width)].push_back(
        a.latency_ms);
  }
  for (auto& [w, list] : windows) {
    std::sort(list.begin(), list.end());
    std::printf("  %6.1f s: %6zu ratings, p99 %6.1f ms, max %6.1f ms\n", w * width, list.size(),
                list[static_cast<size_t>(0.99 * (list.size() - 1))], list.back());
  }
}

// Redis's time per command since the last CONFIG RESETSTAT, largest first.
void PrintCommandStats(RedisConnection& redis) {
  auto info = redis.Command({"INFO", "commandstats"});
  if (!info.ok()) return;
  std::vector<std::pair<int64_t, std::string>> rows;  // (usec, line)
  for (absl::string_view line : absl::StrSplit(Absl(ReplyString(**info)), "\r\n")) {
    if (!absl::ConsumePrefix(&line, "cmdstat_")) continue;
    std::vector<absl::string_view> parts = absl::StrSplit(line, absl::ByAnyChar(":,="));
    // name, "calls", N, "usec", U, "usec_per_call", P, ...
    int64_t calls = 0, usec = 0;
    if (parts.size() < 7 || !absl::SimpleAtoi(parts[2], &calls) ||
        !absl::SimpleAtoi(parts[4], &usec)) {
      continue;
    }
    rows.push_back(
        {usec, absl::StrFormat("  %-22s %9d calls %9.3f s %8.2f us/call", parts[0], calls,
                               usec / 1e6, usec * 1.0 / std::max<int64_t>(1, calls))});
  }
  std::sort(rows.rbegin(), rows.rend());
  std::printf("redis time by command during the latency run:\n");
  for (const auto& [usec, text] : rows) std::printf("%s\n", text.c_str());
}

int Run() {
  const int ratings = absl::GetFlag(FLAGS_ratings);
  const int dyads = absl::GetFlag(FLAGS_dyads);
  KeyLayout layout(absl::GetFlag(FLAGS_partitions));
  RedisServer server;
  if (!server.Start().ok()) return 1;
  auto redis = RedisConnection::Connect(server.endpoint());
  if (!redis.ok()) return 1;
  std::mt19937 rng(1);
  const int sessions = std::max(1, ratings / dyads);
  // Live sessions for the latency run: enough for --latency_seconds at up to 25,000 per second
  // (more than half the target throughput).
  std::vector<Submission> fill, live;
  const bool stagger = absl::GetFlag(FLAGS_stagger);
  Workload(dyads, sessions, absl::GetFlag(FLAGS_latency_seconds) * 25000 / dyads + 1, stagger, rng,
           &fill, &live);
  if (absl::GetFlag(FLAGS_order) == "dyad") {
    std::stable_sort(fill.begin(), fill.end(),
                     [](const Submission& a, const Submission& b) { return a.client < b.client; });
  }
  for (size_t i = 0; i < fill.size(); i += 1000) {
    std::vector<Submission> chunk(fill.begin() + i, fill.begin() + std::min(fill.size(), i + 1000));
    if (!Feed(**redis, layout, chunk).ok()) return 1;
  }
  std::printf(
      "pre-filled %zu ratings over %d dyads (%s, %s order), %d partitions\n", fill.size(), dyads,
      (stagger ? absl::StrCat(sessions, " sessions each on average, 1 to ", 2 * sessions - 1)
               : absl::StrCat(sessions, " sessions each"))
          .c_str(),
      absl::GetFlag(FLAGS_order).c_str(), layout.partitions());

  ChildProcess worker;
  std::vector<std::string> args = WorkerArgs(server.port(), layout.partitions(), "bench-worker");
  args.push_back(absl::StrCat("--batch_size=", absl::GetFlag(FLAGS_batch_size)));
  args.push_back("--log_level=warning");
  absl::Time started = absl::Now();
  const std::string wrapper = absl::GetFlag(FLAGS_worker_wrapper);
  if (wrapper.empty()) {
    if (!StartWorker(worker, args, "bench-worker").ok()) return 1;
  } else {
    args.insert(args.begin(), BinaryPath("alliance-worker"));
    std::string dir = std::getenv("TEST_TMPDIR") ? std::getenv("TEST_TMPDIR") : "/tmp";
    if (!worker.Start(wrapper, args, absl::StrCat(dir, "/bench-worker-", getpid(), ".log")).ok()) {
      return 1;
    }
  }
  pid_t redis_pid = RedisPid(**redis);
  double redis_cpu0 = CpuSeconds(redis_pid);
  // First delivery, then drained.
  absl::Time first = absl::InfinitePast();
  while (absl::Now() - started < absl::Seconds(60)) {
    std::vector<Id> below = AppliedBelow(**redis, layout);
    if (std::any_of(below.begin(), below.end(), [](Id id) { return id > Id{0, 1}; })) {
      first = absl::Now();
      break;
    }
    absl::SleepFor(absl::Milliseconds(1));
  }
  absl::Status drained = WaitForDrained(server.endpoint(), layout, absl::Seconds(600));
  absl::Time done = absl::Now();
  if (!drained.ok()) {
    std::fprintf(stderr, "%s\n", std::string(drained.message()).c_str());
    return 1;
  }
  double worker_cpu = CpuSeconds(worker.pid());
  double redis_cpu = CpuSeconds(redis_pid) - redis_cpu0;
  double seconds = absl::ToDoubleSeconds(done - first);
  double rate = fill.size() / seconds;
  std::printf("throughput: %.0f ratings/s (%zu ratings in %.2f s; %.2f s including start-up)\n",
              rate, fill.size(), seconds, absl::ToDoubleSeconds(done - started));
  std::printf(
      "cpu per rating: worker %.1f us, redis %.1f us (%.0f ratings per worker cpu-second, %.0f "
      "per redis cpu-second)\n",
      1e6 * worker_cpu / fill.size(), 1e6 * redis_cpu / fill.size(), fill.size() / worker_cpu,
      fill.size() / redis_cpu);

  // Latency at a fixed rate.
  int latency_rate = absl::GetFlag(FLAGS_latency_rate);
  if (latency_rate == 0) latency_rate = static_cast<int>(rate / 2);
  int duration = absl::GetFlag(FLAGS_latency_seconds);
  int total = latency_rate * duration;
  total = std::min<int>(total, static_cast<int>(live.size()));
  live.resize(total);
  std::vector<std::string> streams, entries;
  for (const Submission& s : live) {
    streams.push_back(layout.FeedbackStream(layout.PartitionOf(s.tenant, s.therapist, s.client)));
    entries.push_back(EncodeEntry(s));
  }
  struct Sent {
    int partition;
    Id id;
    absl::Time at;
  };
  std::mutex mu;
  std::vector<Sent> sent;
  sent.reserve(total);
  std::atomic<bool> producing{true};
  std::vector<Applied> applied;
  std::thread poller([&] {
    auto conn = RedisConnection::Connect(server.endpoint());
    if (!conn.ok()) return;
    size_t next = 0;
    std::vector<size_t> open;  // indexes of sent entries not yet applied
    while (true) {
      std::vector<Id> below = AppliedBelow(**conn, layout);
      absl::Time now = absl::Now();
      {
        std::lock_guard<std::mutex> lock(mu);
        for (; next < sent.size(); ++next) open.push_back(next);
        std::vector<size_t> still;
        for (size_t i : open) {
          if (sent[i].id < below[sent[i].partition]) {
            applied.push_back({sent[i].at, absl::ToDoubleMilliseconds(now - sent[i].at)});
          } else {
            still.push_back(i);
          }
        }
        open.swap(still);
      }
      if (!producing.load() && open.empty()) break;
      // Polling costs Redis time too; every 2 ms bounds the error at 2 ms (conservative: an
      // entry is counted when first seen applied).
      absl::SleepFor(absl::Milliseconds(2));
    }
  });
  auto producer = RedisConnection::Connect(server.endpoint());
  if (!producer.ok()) return 1;
  const double worker_cpu_at_run = CpuSeconds(worker.pid()),
               redis_cpu_at_run = CpuSeconds(redis_pid), bench_cpu_at_run = CpuSeconds(getpid());
  (void)(*producer)->Command({"CONFIG", "RESETSTAT"});  // commandstats of this run only
  absl::Time t0 = absl::Now();
  int per_tick = std::max(1, latency_rate / 1000);
  absl::Duration tick = absl::Seconds(static_cast<double>(per_tick) / latency_rate);
  for (int i = 0; i < total;) {
    int n = std::min(per_tick, total - i);
    for (int k = 0; k < n; ++k) {
      const Submission& s = live[i + k];
      (*producer)->Append({"XADD", streams[i + k], "*", "v", "1", "tenant", s.tenant, "accepted_id",
                           s.accepted_id, "entry", entries[i + k]});
    }
    for (int k = 0; k < n; ++k) {
      auto reply = (*producer)->GetReply();
      if (!reply.ok()) return 1;
      absl::Time at = absl::Now();
      const Submission& s = live[i + k];
      std::lock_guard<std::mutex> lock(mu);
      sent.push_back(
          {layout.PartitionOf(s.tenant, s.therapist, s.client), ParseId(ReplyString(**reply)), at});
    }
    i += n;
    absl::Time due = t0 + tick * (i / per_tick);
    if (due > absl::Now()) absl::SleepFor(due - absl::Now());
  }
  const double run_seconds = absl::ToDoubleSeconds(absl::Now() - t0);
  double achieved = total / run_seconds;
  producing.store(false);
  poller.join();
  // Shares of one core while appending: the load generator and the poller compete with the
  // worker and Redis for this machine's cores.
  std::printf("cpu during the latency run: worker %.0f%%, redis %.0f%%, load generator %.0f%%\n",
              100 * (CpuSeconds(worker.pid()) - worker_cpu_at_run) / run_seconds,
              100 * (CpuSeconds(redis_pid) - redis_cpu_at_run) / run_seconds,
              100 * (CpuSeconds(getpid()) - bench_cpu_at_run) / run_seconds);
  if (absl::GetFlag(FLAGS_commandstats)) PrintCommandStats(**producer);
  std::vector<double> latencies_ms;
  for (const Applied& a : applied) latencies_ms.push_back(a.latency_ms);
  std::sort(latencies_ms.begin(), latencies_ms.end());
  auto pct = [&](double q) {
    return latencies_ms.empty() ? 0.0
                                : latencies_ms[static_cast<size_t>(q * (latencies_ms.size() - 1))];
  };
  std::printf(
      "latency at %.0f ratings/s (target %d) over %d s, append to dyad state written: "
      "p50 %.1f ms, p99 %.1f ms, max %.1f ms (%zu ratings)\n",
      achieved, latency_rate, duration, pct(0.5), pct(0.99), pct(1.0), latencies_ms.size());
  if (absl::GetFlag(FLAGS_latency_timeline)) PrintTimeline(applied, t0, 0.5);
  worker.Signal(SIGTERM);
  worker.Wait(absl::Seconds(10));
  return 0;
}

}  // namespace
}  // namespace alliance::testing

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return alliance::testing::Run();
}
