// The worker on Redis Cluster, against a real local cluster (three primaries, three replicas)
// and real alliance-worker processes started with --redis_cluster_nodes: feedback entries fed
// into the partitions' streams as intake writes them (each partition's entries in one exchange
// with its primary, acknowledged once WAIT confirms a replica has them) converge to the offline
// oracle; then the primary serving one partition is killed while entries keep coming, its
// replica takes over, the old primary comes back as a replica, and every dyad still holds each
// submitted rating exactly once, with every alert in the alert streams exactly once. And with
// a single Redis that has no replica, --redis_wait_replicas=1 makes every batch unconfirmed:
// the worker re-reads and still applies each rating once.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <map>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "store/cluster_client.h"
#include "store/cluster_slot.h"
#include "tests/support/child_process.h"
#include "tests/support/redis_cluster.h"
#include "tests/support/redis_server.h"
#include "tests/worker/worker_fixture.h"

namespace alliance::testing {
namespace {

constexpr int kPartitions = 8;
constexpr int kWorkers = 2;
constexpr int kDyads = 240;
constexpr int kSessions = 16;  // 3,840 ratings

// Ratings ordered session by session, with a few duplicates as intake retries would produce.
std::vector<Submission> Workload(uint32_t seed) {
  return alliance::testing::Workload(
      seed, WorkloadShape{kDyads, kSessions, /*tenants=*/3, /*therapists=*/41, /*duplicates=*/100});
}

class WorkerClusterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::Status started = cluster_.Start();
    ASSERT_TRUE(started.ok()) << started;
    ClusterOptions options;
    options.seeds = cluster_.Seeds();
    options.command_timeout = absl::Milliseconds(500);
    auto client = ClusterClient::Connect(options);
    ASSERT_TRUE(client.ok()) << client.status();
    client_ = *std::move(client);
    for (int i = 0; i < kWorkers; ++i) {
      std::vector<std::string> args =
          WorkerArgs(cluster_.port(0), kPartitions, absl::StrCat("cw", i));
      for (std::string a :
           {absl::StrCat("--redis_cluster_nodes=", absl::StrJoin(cluster_.Seeds(), ",")),
            std::string("--lease_ms=900"), std::string("--block_ms=50"),
            std::string("--claim_idle_ms=300"), std::string("--batch_size=200"),
            std::string("--redis_timeout_ms=500"), std::string("--redis_wait_timeout_ms=500"),
            std::string("--log_level=warning"), std::string("--retain_ms=0"),
            std::string("--maintenance_ms=200")}) {
        args.push_back(a);
      }
      ASSERT_TRUE(StartWorker(workers_[i], args, absl::StrCat("cluster-w", i)).ok());
    }
  }

  // Appends `work` to the feedback streams: per partition, the XADDs and WAIT 1 in one
  // exchange with the partition's primary, sent again (duplicates, as a client retry makes)
  // until a replica confirms them, as intake acknowledges only then. Bounded.
  absl::Status Feed(const std::vector<Submission>& work) {
    std::map<int, std::vector<const Submission*>> by_partition;
    for (const Submission& s : work) {
      by_partition[layout_.PartitionOf(s.tenant, s.therapist, s.client)].push_back(&s);
    }
    for (const auto& [p, subs] : by_partition) {
      const std::string stream = layout_.FeedbackStream(p);
      std::vector<std::string> entries;
      for (const Submission* s : subs) entries.push_back(EncodeEntry(*s));
      std::vector<CommandArgs> commands;
      for (size_t i = 0; i < subs.size(); ++i) {
        commands.push_back({"XADD", stream, "*", "v", "1", "tenant", subs[i]->tenant, "accepted_id",
                            subs[i]->accepted_id, "entry", entries[i]});
      }
      commands.push_back({"WAIT", "1", "500"});
      absl::Time deadline = absl::Now() + absl::Seconds(30);
      while (true) {
        ++waits_sent_;
        auto replies = client_->Exchange(KeySlot(stream), commands);
        bool ok = replies.ok();
        for (size_t i = 0; ok && i < replies->size(); ++i) {
          ok = ReplyStatus(*(*replies)[i]).ok();
        }
        if (ok && replies->back()->integer >= 1) break;
        ++resent_;
        if (absl::Now() > deadline) {
          return absl::DeadlineExceededError(absl::StrCat("partition ", p, " not confirmed"));
        }
        absl::SleepFor(absl::Milliseconds(100));
      }
    }
    return absl::OkStatus();
  }

  // Feeds `work` in chunks of `chunk` at about `per_second`.
  void Produce(const std::vector<Submission>& work, size_t chunk, int per_second) {
    absl::Duration pause = absl::Seconds(static_cast<double>(chunk) / per_second);
    for (size_t i = 0; i < work.size(); i += chunk) {
      std::vector<Submission> part(work.begin() + i,
                                   work.begin() + std::min(work.size(), i + chunk));
      absl::Status fed = Feed(part);
      ASSERT_TRUE(fed.ok()) << fed;
      produced_.store(i + part.size());
      absl::SleepFor(pause);
    }
  }

  void ExpectConverged(const std::vector<Submission>& submitted) {
    absl::Status drained = WaitForDrained(OnCluster(*client_), layout_, absl::Seconds(40));
    ASSERT_TRUE(drained.ok()) << drained << "\n" << workers_[0].ReadLog() << workers_[1].ReadLog();
    for (int p = 0; p < kPartitions; ++p) {
      const std::string dead = layout_.DeadLetterStream(p);
      auto len = client_->Command(KeySlot(dead), {"XLEN", dead});
      ASSERT_TRUE(len.ok()) << len.status();
      EXPECT_EQ((*len)->integer, 0) << "dead letters in partition " << p;
    }
    ExpectMatchesOracle(OnCluster(*client_), layout_, submitted);
  }

  RedisCluster cluster_;
  std::unique_ptr<ClusterClient> client_;
  KeyLayout layout_{kPartitions};
  ChildProcess workers_[kWorkers];
  std::atomic<size_t> produced_{0};
  std::atomic<int> resent_{0};
  std::atomic<int64_t> waits_sent_{0};
};

// WAIT calls every node has served (INFO commandstats).
int64_t WaitCalls(RedisCluster& cluster) {
  int64_t calls = 0;
  for (int node = 0; node < cluster.size(); ++node) {
    if (!cluster.running(node)) continue;
    auto info = cluster.Command(node, {"INFO", "commandstats"});
    if (!info.ok()) continue;
    std::string_view text = ReplyString(**info);
    size_t at = text.find("cmdstat_wait:calls=");
    if (at == std::string_view::npos) continue;
    calls += std::atoll(std::string(text.substr(at + 19, 20)).c_str());
  }
  return calls;
}

// Lines of a worker log that name `event`.
int CountEvents(const std::string& log, std::string_view event) {
  int n = 0;
  for (size_t at = log.find(event); at != std::string::npos; at = log.find(event, at + 1)) ++n;
  return n;
}

TEST_F(WorkerClusterTest, ConvergesAndAppliesEveryRatingOnceAcrossAPrimaryFailover) {
  std::vector<Submission> work = Workload(7);
  const size_t half = work.size() / 2;
  std::vector<Submission> first(work.begin(), work.begin() + half);
  std::vector<Submission> second(work.begin() + half, work.end());

  // The partitions spread over the primaries, so the workers talk to several nodes.
  std::set<int> primaries;
  for (int p = 0; p < kPartitions; ++p) {
    auto primary = cluster_.PrimaryOf(KeySlot(layout_.FeedbackStream(p)));
    ASSERT_TRUE(primary.ok()) << primary.status();
    primaries.insert(*primary);
  }
  EXPECT_GE(primaries.size(), 2u);

  // Steady state: everything fed converges to the oracle.
  Produce(first, 200, 2000);
  ExpectConverged(first);
  if (HasFailure()) return;
  // In cluster mode the worker waits for one replica after each apply (--redis_wait_replicas
  // defaults to 1 there): more WAITs were served than the feeder sent.
  EXPECT_GT(WaitCalls(cluster_), waits_sent_.load()) << "the worker issued no WAIT";

  // The primary of partition 0's slot dies while entries keep coming.
  const int victim_partition = 0;
  auto victim = cluster_.PrimaryOf(KeySlot(layout_.FeedbackStream(victim_partition)));
  ASSERT_TRUE(victim.ok());
  produced_.store(0);
  std::thread producer([&] { Produce(second, 100, 800); });
  while (produced_.load() < second.size() / 3) absl::SleepFor(absl::Milliseconds(20));
  cluster_.Kill(*victim);
  absl::Status healthy = cluster_.WaitHealthy(absl::Seconds(20));
  EXPECT_TRUE(healthy.ok()) << healthy;
  auto promoted = cluster_.PrimaryOf(KeySlot(layout_.FeedbackStream(victim_partition)));
  ASSERT_TRUE(promoted.ok());
  EXPECT_NE(*promoted, *victim) << "the replica should serve the slot now";
  // A while without a replica behind the promoted primary: WAIT confirms nothing there, the
  // feeder resends and the worker re-reads what it applied on that slot.
  absl::SleepFor(absl::Seconds(1));
  // The old primary comes back as a replica, so writes can be confirmed on that slot again.
  absl::Status back = cluster_.Restart(*victim, absl::Seconds(20));
  EXPECT_TRUE(back.ok()) << back;
  producer.join();
  std::printf("chunks resent while unconfirmed: %d; worker applies unconfirmed: %d\n",
              resent_.load(),
              CountEvents(workers_[0].ReadLog(), "replicas_unconfirmed") +
                  CountEvents(workers_[1].ReadLog(), "replicas_unconfirmed"));

  for (int i = 0; i < kWorkers; ++i) {
    EXPECT_TRUE(workers_[i].running()) << workers_[i].ReadLog();
  }
  ExpectConverged(work);
  if (HasFailure()) return;

  // Dead letters are replayed on a cluster too, partition by partition: entries parked in the
  // dead-letter streams of partitions on at least two primaries go back to their feedback
  // streams and are applied.
  std::mt19937 rng(5);
  std::vector<Submission> parked;
  std::set<int> parked_primaries;
  for (int d = 0; d < 20 && parked_primaries.size() < 2; ++d) {
    for (Submission& s :
         ClientSeries("tenant-0", "th-parked", absl::StrCat("parked-", d), "srs", 3, rng)) {
      const int p = layout_.PartitionOf(s.tenant, s.therapist, s.client);
      auto primary = cluster_.PrimaryOf(KeySlot(layout_.FeedbackStream(p)));
      ASSERT_TRUE(primary.ok());
      parked_primaries.insert(*primary);
      const std::string dead = layout_.DeadLetterStream(p);
      const std::string entry = EncodeEntry(s);
      auto added = client_->Command(
          KeySlot(dead), {"XADD", dead, "*", "v", "1", "tenant", s.tenant, "accepted_id",
                          s.accepted_id, "entry", entry, "reason", "parked by the test"});
      ASSERT_TRUE(added.ok() && ReplyStatus(**added).ok());
      parked.push_back(std::move(s));
    }
  }
  ASSERT_EQ(parked_primaries.size(), 2u);
  ChildProcess replay;
  std::vector<std::string> args = WorkerArgs(cluster_.port(0), kPartitions, "replayer");
  args.push_back(absl::StrCat("--redis_cluster_nodes=", absl::StrJoin(cluster_.Seeds(), ",")));
  args.push_back("--replay_dead_letters");
  ASSERT_TRUE(StartWorker(replay, args, "cluster-replay").ok());
  ASSERT_EQ(replay.Wait(absl::Seconds(30)), 0) << replay.ReadLog();
  EXPECT_NE(replay.ReadLog().find(absl::StrCat("\n", parked.size(), "\n")), std::string::npos)
      << replay.ReadLog();
  std::vector<Submission> all = work;
  all.insert(all.end(), parked.begin(), parked.end());
  ExpectConverged(all);

  for (ChildProcess& w : workers_) {
    w.Signal(SIGTERM);
    EXPECT_EQ(w.Wait(absl::Seconds(15)), 0) << w.ReadLog();
  }
}

TEST(WorkerWaitTest, UnconfirmedWritesOnASingleRedisAreReReadAndAppliedOnce) {
  RedisServer server;
  ASSERT_TRUE(server.Start().ok());
  KeyLayout layout(kPartitions);
  auto redis = RedisConnection::Connect(server.endpoint());
  ASSERT_TRUE(redis.ok()) << redis.status();
  std::vector<Submission> work = Workload(11);
  ASSERT_TRUE(Feed(**redis, layout, work).ok());
  ChildProcess worker;
  std::vector<std::string> args = WorkerArgs(server.port(), kPartitions, "wait-w");
  for (const char* a : {"--redis_wait_replicas=1", "--redis_wait_timeout_ms=20",
                        "--log_level=warning", "--block_ms=50", "--lease_ms=900"}) {
    args.push_back(a);
  }
  ASSERT_TRUE(StartWorker(worker, args, "wait-w").ok());
  absl::Status drained = WaitForDrained(server.endpoint(), layout, absl::Seconds(40));
  ASSERT_TRUE(drained.ok()) << drained << "\n" << worker.ReadLog();
  ExpectMatchesOracle(**redis, layout, work);
  // No replica ever confirms: every batch was reported unconfirmed and re-read.
  EXPECT_GT(CountEvents(worker.ReadLog(), "replicas_unconfirmed"), 0) << worker.ReadLog();
  worker.Signal(SIGTERM);
  EXPECT_EQ(worker.Wait(absl::Seconds(15)), 0) << worker.ReadLog();
}

}  // namespace
}  // namespace alliance::testing
