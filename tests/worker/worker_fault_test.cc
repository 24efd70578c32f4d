// Fault tests of the worker: three alliance-worker processes share the partitions while tens
// of thousands of ratings arrive; workers are SIGKILLed and restarted (first test) or Redis
// itself is restarted and killed (second test, appendonly + appendfsync always) during the
// run. Afterwards every dyad must equal the offline recomputation from all submitted ratings,
// and every alert must be in the alert streams exactly once. Retention trims acknowledged
// entries immediately throughout, so a trim of anything unprocessed would show as a missing
// rating.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <random>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "tests/support/child_process.h"
#include "tests/support/redis_server.h"
#include "tests/worker/worker_fixture.h"

namespace alliance::testing {
namespace {

constexpr int kPartitions = 8;
constexpr int kWorkers = 3;
constexpr int kDyads = 1200;
constexpr int kSessions = 25;  // 30,000 ratings

// Ratings ordered session by session, with a few duplicates as intake retries would produce.
std::vector<Submission> Workload(uint32_t seed) {
  return alliance::testing::Workload(
      seed, WorkloadShape{kDyads, kSessions, /*tenants=*/4, /*therapists=*/97, /*duplicates=*/300});
}

class FaultTest : public ::testing::Test {
 protected:
  void StartAll() {
    for (int i = 0; i < kWorkers; ++i) Restart(i);
  }
  void Restart(int i) {
    workers_[i].Kill();
    std::vector<std::string> args =
        WorkerArgs(server_->port(), kPartitions, absl::StrCat("w", i, "-", generation_++));
    for (const char* a : {"--lease_ms=900", "--block_ms=50", "--claim_idle_ms=300",
                          "--batch_size=200", "--redis_timeout_ms=500", "--log_level=warning",
                          // Trim acknowledged entries at once, racing with the faults: the
                          // oracle then shows that nothing unprocessed was ever trimmed.
                          "--retain_ms=0", "--maintenance_ms=200"}) {
      args.push_back(a);
    }
    ASSERT_TRUE(StartWorker(workers_[i], args, absl::StrCat("fault-w", i)).ok());
  }

  // Feeds `work` at roughly `per_second`, reconnecting (with duplicates possible) when Redis
  // is away. Runs on its own thread.
  void Produce(const std::vector<Submission>& work, int per_second) {
    const size_t chunk = 50;
    absl::Duration pause = absl::Seconds(static_cast<double>(chunk) / per_second);
    std::unique_ptr<RedisConnection> redis;
    for (size_t i = 0; i < work.size();) {
      if (redis == nullptr || redis->broken()) {
        auto conn = ConnectWithRetry(server_->endpoint(), absl::Seconds(30));
        ASSERT_TRUE(conn.ok()) << conn.status();
        redis = *std::move(conn);
      }
      std::vector<Submission> part(work.begin() + i,
                                   work.begin() + std::min(work.size(), i + chunk));
      if (!Feed(*redis, layout_, part).ok()) {
        redis.reset();  // resend the chunk: a rating may land twice, as with a client retry
        absl::SleepFor(absl::Milliseconds(50));
        continue;
      }
      i += part.size();
      produced_.store(i);
      absl::SleepFor(pause);
    }
  }

  void Verify(const std::vector<Submission>& work) {
    for (int i = 0; i < kWorkers; ++i) {
      if (!workers_[i].running()) Restart(i);
    }
    absl::Status drained = WaitForDrained(server_->endpoint(), layout_, absl::Seconds(120));
    ASSERT_TRUE(drained.ok()) << drained << "\n" << workers_[0].ReadLog();
    auto redis = ConnectWithRetry(server_->endpoint(), absl::Seconds(10));
    ASSERT_TRUE(redis.ok());
    for (int p = 0; p < kPartitions; ++p) {
      auto dead = (*redis)->Command({"XLEN", layout_.DeadLetterStream(p)});
      ASSERT_TRUE(dead.ok());
      EXPECT_EQ((*dead)->integer, 0) << "dead letters in partition " << p;
    }
    ExpectMatchesOracle(**redis, layout_, work);
    // Retention did run: the streams hold fewer entries than were appended.
    int64_t remaining = 0;
    for (int p = 0; p < kPartitions; ++p) {
      auto len = (*redis)->Command({"XLEN", layout_.FeedbackStream(p)});
      ASSERT_TRUE(len.ok());
      remaining += (*len)->integer;
    }
    std::printf("feedback entries left after trimming: %lld of %zu\n",
                static_cast<long long>(remaining), work.size());
    EXPECT_LT(remaining, static_cast<int64_t>(work.size()) / 2);
    for (auto& w : workers_) {
      w.Signal(SIGTERM);
      EXPECT_EQ(w.Wait(absl::Seconds(15)), 0) << w.ReadLog();
    }
  }

  std::unique_ptr<RedisServer> server_;
  KeyLayout layout_{kPartitions};
  ChildProcess workers_[kWorkers];
  int generation_ = 0;
  std::atomic<size_t> produced_{0};
};

TEST_F(FaultTest, WorkersKilledAndRestartedMatchTheOracle) {
  server_ = std::make_unique<RedisServer>();
  ASSERT_TRUE(server_->Start().ok());
  std::vector<Submission> work = Workload(2024);
  StartAll();
  std::thread producer([&] { Produce(work, 1000); });
  std::mt19937 rng(99);
  int kills = 0;
  while (produced_.load() < work.size()) {
    absl::SleepFor(absl::Milliseconds(2500));
    int victim = static_cast<int>(rng() % kWorkers);
    workers_[victim].Signal(SIGKILL);
    workers_[victim].Wait(absl::Seconds(5));
    ++kills;
    absl::SleepFor(absl::Milliseconds(300 + rng() % 700));
    Restart(victim);
  }
  producer.join();
  std::printf("workers killed: %d\n", kills);
  EXPECT_GE(kills, 5);
  Verify(work);
}

TEST_F(FaultTest, RedisRestartedMidRunMatchesTheOracle) {
  server_ = std::make_unique<RedisServer>(RedisServer::Options{.appendonly = true});
  ASSERT_TRUE(server_->Start().ok());
  std::vector<Submission> work = Workload(4048);
  StartAll();
  std::thread producer([&] { Produce(work, 1000); });
  // A clean restart a third of the way in, a SIGKILL two thirds of the way in.
  for (int round = 1; round <= 2; ++round) {
    while (produced_.load() < work.size() * round / 3) absl::SleepFor(absl::Milliseconds(50));
    if (round == 1) {
      server_->Stop();
    } else {
      server_->Kill();
    }
    absl::SleepFor(absl::Seconds(2));
    ASSERT_TRUE(server_->Start().ok());
  }
  producer.join();
  Verify(work);
}

}  // namespace
}  // namespace alliance::testing
