// Integration tests of alliance-worker against a real redis-server: a rating reaches dyad
// state and a rupture reaches the alert stream; redelivered and replayed entries change
// nothing; a record stored in one key is continued as head and log; poison entries end in the
// dead-letter stream and can be replayed; a dead worker's consumer is removed once its entries
// are taken over; SIGTERM releases the leases and exits 0.
#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>

#include <set>
#include <string>

#include "absl/strings/str_cat.h"
#include "tests/support/child_process.h"
#include "tests/support/redis_server.h"
#include "tests/support/redis_test.h"
#include "tests/worker/worker_fixture.h"

namespace alliance::testing {
namespace {

constexpr char kSrs[] = "srs";
constexpr int kPartitions = 4;

class WorkerTest : public RedisTest {
 protected:
  void SetUp() override {
    RedisTest::SetUp();
    if (HasFatalFailure()) return;
  }

  std::vector<std::string> Args(const std::string& id) {
    std::vector<std::string> args = WorkerArgs(server_.port(), kPartitions, id);
    args.push_back("--lease_ms=1000");
    args.push_back("--block_ms=50");
    args.push_back("--max_attempts=3");
    return args;
  }

  void Drain() {
    absl::Status s = WaitForDrained(server_.endpoint(), layout_, absl::Seconds(60));
    ASSERT_TRUE(s.ok()) << s << "\n" << worker_.ReadLog();
  }

  // All dyad records, by key, as the bytes of head and log.
  std::map<std::string, std::string> Records(const std::vector<Submission>& subs) {
    std::map<std::string, std::string> out;
    for (const Submission& s : subs) {
      int p = layout_.PartitionOf(s.tenant, s.therapist, s.client);
      std::string key = layout_.DyadState(p, s.tenant, s.therapist, s.client);
      auto reply =
          redis_->Command({"MGET", key, layout_.DyadLog(p, s.tenant, s.therapist, s.client)});
      if (reply.ok() && (*reply)->elements == 2) {
        out[key] = std::string(ReplyString(*(*reply)->element[0])) + "|" +
                   std::string(ReplyString(*(*reply)->element[1]));
      }
    }
    return out;
  }

  int64_t AlertCount() {
    int64_t n = 0;
    for (int p = 0; p < kPartitions; ++p) {
      auto reply = redis_->Command({"XLEN", layout_.AlertStream(p)});
      if (reply.ok()) n += (*reply)->integer;
    }
    return n;
  }

  KeyLayout layout_{kPartitions};
  ChildProcess worker_;
};

std::vector<Submission> RuptureSeries() {
  std::vector<Submission> subs;
  double levels[] = {92, 93, 91, 60, 92};  // session 4 falls below the SRS cutoff of 36/40
  std::mt19937 rng(7);
  for (int s = 1; s <= 5; ++s) {
    Submission sub{"clinic-a", "th-1", "cl-1", absl::StrCat("acc-", s),
                   kSrs,       s,      1,      AnswersAt(kSrs, levels[s - 1], 0, rng)};
    subs.push_back(sub);
  }
  return subs;
}

TEST_F(WorkerTest, AppliesRatingsAndEmitsRuptureAlert) {
  std::vector<Submission> subs = RuptureSeries();
  ASSERT_TRUE(Feed(*redis_, layout_, subs).ok());
  ASSERT_TRUE(StartWorker(worker_, Args("w-basic"), "basic").ok());
  Drain();

  auto record = ReadRecord(*redis_, layout_, "clinic-a", "th-1", "cl-1");
  ASSERT_TRUE(record.ok()) << record.status();
  EXPECT_EQ(record->ratings_size(), 5);
  EXPECT_EQ(record->picture().ratings_applied(), 5);
  ASSERT_GE(record->picture().series_size(), 1);
  EXPECT_EQ(record->picture().series(0).instrument_id(), kSrs);
  EXPECT_GE(record->version(), 1);

  int p = layout_.PartitionOf("clinic-a", "th-1", "cl-1");
  auto index = redis_->Command({"ZRANGE", layout_.DyadIndex(p, "clinic-a"), "0", "-1"});
  ASSERT_TRUE(index.ok());
  ASSERT_EQ((*index)->elements, 1u);
  EXPECT_EQ(ReplyString(*(*index)->element[0]), "th-1:cl-1");

  auto alerts = ReadStream(*redis_, layout_.AlertStream(p));
  ASSERT_TRUE(alerts.ok());
  ASSERT_FALSE(alerts->empty());
  bool rupture = false;
  for (auto& a : *alerts) {
    EXPECT_EQ(a["v"], "1");
    EXPECT_EQ(a["tenant"], "clinic-a");
    EXPECT_EQ(a["therapist"], "th-1");
    EXPECT_EQ(a["client"], "cl-1");
    alliance::v1::Alert alert;
    ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(a["alert"], &alert).ok());
    EXPECT_EQ(alert.alert_id(), a["alert_id"]);
    if (a["kind"] == "rupture" && alert.session_number() == 4) rupture = true;
  }
  EXPECT_TRUE(rupture) << "no rupture alert at session 4";
  ExpectMatchesOracle(*redis_, layout_, subs);
}

TEST_F(WorkerTest, RedeliveryAndReplayChangeNothing) {
  std::mt19937 rng(11);
  std::vector<Submission> subs;
  for (int d = 0; d < 20; ++d) {
    auto series =
        ClientSeries("clinic-b", absl::StrCat("th-", d % 3), absl::StrCat("cl-", d), kSrs, 12, rng);
    subs.insert(subs.end(), series.begin(), series.end());
  }
  // Two halves, so every dyad is recomputed with alerts already in its record.
  std::vector<Submission> early, late;
  for (const Submission& s : subs) (s.session_number <= 6 ? early : late).push_back(s);
  ASSERT_TRUE(StartWorker(worker_, Args("w-redeliver"), "redeliver").ok());
  ASSERT_TRUE(Feed(*redis_, layout_, early).ok());
  Drain();
  ASSERT_TRUE(Feed(*redis_, layout_, late).ok());
  Drain();
  ExpectMatchesOracle(*redis_, layout_, subs);
  auto before = Records(subs);
  int64_t alerts_before = AlertCount();
  ASSERT_EQ(before.size(), 20u);

  // Replay: the same submissions appended again.
  ASSERT_TRUE(Feed(*redis_, layout_, subs).ok());
  Drain();
  EXPECT_EQ(Records(subs), before);
  EXPECT_EQ(AlertCount(), alerts_before);

  // Redelivery: rewind the group so every entry is delivered again.
  for (int p = 0; p < kPartitions; ++p) {
    auto r =
        redis_->Command({"XGROUP", "SETID", layout_.FeedbackStream(p), "alliance-worker", "0"});
    ASSERT_TRUE(r.ok());
    ASSERT_TRUE(ReplyStatus(**r).ok()) << ReplyString(**r);
  }
  Drain();
  EXPECT_EQ(Records(subs), before);
  EXPECT_EQ(AlertCount(), alerts_before);
  ExpectMatchesOracle(*redis_, layout_, subs);
}

// A record stored whole in one key (before head and log existed) is read, and its first write
// turns it into head and log.
TEST_F(WorkerTest, ARecordStoredInOneKeyIsContinued) {
  // Stable, then a rupture and its repair after the record was rewritten in one key.
  const double levels[] = {92, 93, 91, 92, 90, 91, 60, 58, 91, 92};
  std::mt19937 rng(5);
  std::vector<Submission> subs;
  for (int s = 1; s <= 10; ++s) {
    subs.push_back({"clinic-c", "th-1", "cl-1", absl::StrCat("acc-c", s), kSrs, s, 1,
                    AnswersAt(kSrs, levels[s - 1], 0, rng)});
  }
  std::vector<Submission> early(subs.begin(), subs.begin() + 6), late(subs.begin() + 6, subs.end());
  ASSERT_TRUE(Feed(*redis_, layout_, early).ok());
  ASSERT_TRUE(StartWorker(worker_, Args("w-legacy"), "legacy").ok());
  Drain();
  worker_.Signal(SIGTERM);
  ASSERT_EQ(worker_.Wait(absl::Seconds(10)), 0);

  const int p = layout_.PartitionOf("clinic-c", "th-1", "cl-1");
  const std::string head = layout_.DyadState(p, "clinic-c", "th-1", "cl-1");
  const std::string log = layout_.DyadLog(p, "clinic-c", "th-1", "cl-1");
  auto whole = ReadRecord(*redis_, layout_, "clinic-c", "th-1", "cl-1");
  ASSERT_TRUE(whole.ok()) << whole.status();
  ASSERT_EQ(whole->ratings_size(), 6);
  ASSERT_TRUE(redis_->Command({"SET", head, whole->SerializeAsString()}).ok());
  ASSERT_TRUE(redis_->Command({"DEL", log}).ok());

  ASSERT_TRUE(Feed(*redis_, layout_, late).ok());
  ASSERT_TRUE(StartWorker(worker_, Args("w-legacy-2"), "legacy-2").ok());
  Drain();
  ExpectMatchesOracle(*redis_, layout_, subs);
  auto head_bytes = redis_->Command({"GET", head});
  ASSERT_TRUE(head_bytes.ok());
  internal::v1::DyadRecord head_only;
  ASSERT_TRUE(head_only.ParseFromArray((*head_bytes)->str, static_cast<int>((*head_bytes)->len)));
  EXPECT_EQ(head_only.ratings_size(), 0);  // moved to the log
  auto record = ReadRecord(*redis_, layout_, "clinic-c", "th-1", "cl-1");
  ASSERT_TRUE(record.ok()) << record.status();
  EXPECT_EQ(record->ratings_size(), 10);
}

TEST_F(WorkerTest, PoisonEntriesGoToDeadLettersAndReplay) {
  std::vector<Submission> good = RuptureSeries();
  ASSERT_TRUE(Feed(*redis_, layout_, good).ok());
  Submission unknown = good[0];
  unknown.instrument_id = "no-such-instrument";
  unknown.accepted_id = "acc-unknown";
  int p = layout_.PartitionOf(unknown.tenant, unknown.therapist, unknown.client);
  ASSERT_TRUE(FeedRaw(*redis_, layout_, p,
                      {{"v", "1"},
                       {"tenant", "clinic-a"},
                       {"accepted_id", "acc-garbage"},
                       {"entry", "\x01\x02not a protobuf"}})
                  .ok());
  ASSERT_TRUE(FeedRaw(*redis_, layout_, p,
                      {{"v", "1"},
                       {"tenant", unknown.tenant},
                       {"accepted_id", "acc-unknown"},
                       {"entry", EncodeEntry(unknown)}})
                  .ok());
  ASSERT_TRUE(FeedRaw(*redis_, layout_, p, {{"v", "99"}, {"tenant", "clinic-a"}}).ok());

  ASSERT_TRUE(StartWorker(worker_, Args("w-poison"), "poison").ok());
  Drain();
  auto dead = ReadStream(*redis_, layout_.DeadLetterStream(p));
  ASSERT_TRUE(dead.ok());
  ASSERT_EQ(dead->size(), 3u) << worker_.ReadLog();
  for (auto& d : *dead) {
    EXPECT_EQ(d["v"], "1");
    EXPECT_FALSE(d["reason"].empty());
    EXPECT_EQ(d["attempts"], "3");
    EXPECT_FALSE(d["source_id"].empty());
  }
  EXPECT_NE((*dead)[1]["reason"].find("unknown instrument"), std::string::npos);
  EXPECT_EQ((*dead)[1]["entry"], EncodeEntry(unknown));
  // The good ratings were applied regardless.
  auto record = ReadRecord(*redis_, layout_, "clinic-a", "th-1", "cl-1");
  ASSERT_TRUE(record.ok());
  EXPECT_EQ(record->ratings_size(), 5);

  // Replay moves them back to the feedback stream; still poison, they are parked again.
  ChildProcess replay;
  std::vector<std::string> args = WorkerArgs(server_.port(), kPartitions, "replayer");
  args.push_back("--replay_dead_letters");
  ASSERT_TRUE(StartWorker(replay, args, "replay").ok());
  ASSERT_EQ(replay.Wait(absl::Seconds(30)), 0) << replay.ReadLog();
  EXPECT_NE(replay.ReadLog().find("\n3\n"), std::string::npos) << replay.ReadLog();
  Drain();
  auto again = ReadStream(*redis_, layout_.DeadLetterStream(p));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->size(), 3u);
  EXPECT_EQ(ReadRecord(*redis_, layout_, "clinic-a", "th-1", "cl-1")->SerializeAsString(),
            record->SerializeAsString());
}

TEST_F(WorkerTest, MetricsReportAppliedRatingsLagAndDeadLetters) {
  int metrics_port = FreePort(), health_port = FreePort();
  std::vector<std::string> args = Args("w-metrics");
  args.push_back(absl::StrCat("--metrics_port=", metrics_port));
  args.push_back(absl::StrCat("--health_port=", health_port));
  ASSERT_TRUE(Feed(*redis_, layout_, RuptureSeries()).ok());
  int p = layout_.PartitionOf("clinic-a", "th-1", "cl-1");
  ASSERT_TRUE(FeedRaw(*redis_, layout_, p, {{"v", "1"}, {"tenant", "clinic-a"}}).ok());
  ASSERT_TRUE(StartWorker(worker_, args, "metrics").ok());
  ASSERT_TRUE(WaitForPort(health_port, absl::Seconds(10)).ok()) << worker_.ReadLog();
  Drain();
  // Gauges refresh every --maintenance_ms; wait (bounded) until they show the drained state.
  httplib::Client client("127.0.0.1", metrics_port);
  std::string body;
  std::string dead = absl::StrCat("alliance_worker_dead_letters_total{partition=\"", p, "\"} 1");
  for (int i = 0; i < 100; ++i) {
    auto res = client.Get("/metrics");
    if (res && res->status == 200) body = res->body;
    if (body.find(dead) != std::string::npos &&
        body.find(absl::StrCat("alliance_worker_pending{partition=\"", p, "\"} 0")) !=
            std::string::npos &&
        body.find(absl::StrCat("alliance_worker_lag{partition=\"", p, "\"} 0")) !=
            std::string::npos) {
      break;
    }
    absl::SleepFor(absl::Milliseconds(100));
  }
  EXPECT_NE(body.find("alliance_worker_ratings_applied_total 5"), std::string::npos) << body;
  EXPECT_NE(body.find(dead), std::string::npos) << body;
  EXPECT_NE(body.find(absl::StrCat("alliance_worker_lag{partition=\"", p, "\"} 0")),
            std::string::npos)
      << body;
  EXPECT_NE(body.find("alliance_worker_batch_seconds_count"), std::string::npos);
  EXPECT_NE(body.find("alliance_worker_redis_reconnects_total 0"), std::string::npos);
  EXPECT_NE(body.find("alliance_worker_partitions_owned 4"), std::string::npos);
}

TEST_F(WorkerTest, RetentionTrimsOnlyAcknowledgedEntries) {
  std::mt19937 rng(5);
  std::vector<Submission> subs;
  for (int d = 0; d < 60; ++d) {
    auto series = ClientSeries("clinic-r", "th-r", absl::StrCat("cl-", d), kSrs, 20, rng);
    subs.insert(subs.end(), series.begin(), series.end());
  }
  ASSERT_TRUE(Feed(*redis_, layout_, subs).ok());
  // A consumer that died after taking delivery of everything: all entries are delivered (the
  // group's last-delivered id is the newest) but none is acknowledged.
  ASSERT_TRUE(DeliverAllToDeadConsumer(*redis_, layout_, "ghost").ok());
  std::vector<std::string> args = Args("w-retention");
  args.push_back("--retain_ms=0");
  args.push_back("--maintenance_ms=20");
  ASSERT_TRUE(StartWorker(worker_, args, "retention").ok());
  Drain();
  ExpectMatchesOracle(*redis_, layout_, subs);
  // Once everything is acknowledged, retention trims (bounded wait for its next round).
  int64_t left = 0;
  for (int i = 0; i < 100; ++i) {
    left = 0;
    for (int p = 0; p < kPartitions; ++p) {
      auto len = redis_->Command({"XLEN", layout_.FeedbackStream(p)});
      ASSERT_TRUE(len.ok());
      left += (*len)->integer;
    }
    if (left < static_cast<int64_t>(subs.size()) / 2) break;
    absl::SleepFor(absl::Milliseconds(50));
  }
  EXPECT_LT(left, static_cast<int64_t>(subs.size()) / 2);
}

// A worker restarted under a new id leaves its old consumer in every group: once the entries it
// held are taken over, the owner removes it. Nothing it held may be lost on the way.
TEST_F(WorkerTest, ADeadWorkersConsumerIsRemovedOnceItsEntriesAreTakenOver) {
  std::mt19937 rng(9);
  std::vector<Submission> subs;
  for (int d = 0; d < 20; ++d) {
    auto series = ClientSeries("clinic-c", "th-c", absl::StrCat("cl-", d), kSrs, 10, rng);
    subs.insert(subs.end(), series.begin(), series.end());
  }
  ASSERT_TRUE(Feed(*redis_, layout_, subs).ok());
  ASSERT_TRUE(DeliverAllToDeadConsumer(*redis_, layout_, "ghost").ok());
  auto consumers = [&](int p) {
    absl::StatusOr<std::set<std::string>> names = ConsumerNames(*redis_, layout_.FeedbackStream(p));
    EXPECT_TRUE(names.ok()) << names.status();
    return names.ok() ? *names : std::set<std::string>{};
  };
  std::vector<std::string> args = Args("w-retire");
  args.push_back("--consumer_retire_ms=1");
  args.push_back("--maintenance_ms=20");
  ASSERT_TRUE(StartWorker(worker_, args, "retire").ok());
  Drain();
  ExpectMatchesOracle(*redis_, layout_, subs);
  bool ghost_left = true;
  for (int i = 0; i < 100 && ghost_left; ++i) {  // bounded wait for the next sweeps
    ghost_left = false;
    for (int p = 0; p < kPartitions; ++p) ghost_left |= consumers(p).count("ghost") > 0;
    if (ghost_left) absl::SleepFor(absl::Milliseconds(50));
  }
  EXPECT_FALSE(ghost_left) << worker_.ReadLog();
  for (int p = 0; p < kPartitions; ++p) {
    EXPECT_EQ(consumers(p), std::set<std::string>{"w-retire"}) << "partition " << p;
  }
}

TEST_F(WorkerTest, SigtermReleasesLeasesAndExitsZero) {
  ASSERT_TRUE(StartWorker(worker_, Args("w-term"), "term").ok());
  // Bounded wait until the worker owns every partition.
  bool owns_all = false;
  for (int i = 0; i < 300 && !owns_all; ++i) {
    owns_all = true;
    for (int p = 0; p < kPartitions; ++p) {
      auto r = redis_->Command({"GET", layout_.Lease(p)});
      owns_all = owns_all && r.ok() && ReplyString(**r) == "w-term";
    }
    if (!owns_all) absl::SleepFor(absl::Milliseconds(50));
  }
  ASSERT_TRUE(owns_all) << worker_.ReadLog();
  ASSERT_TRUE(Feed(*redis_, layout_, RuptureSeries()).ok());
  Drain();
  worker_.Signal(SIGTERM);
  EXPECT_EQ(worker_.Wait(absl::Seconds(10)), 0) << worker_.ReadLog();
  for (int p = 0; p < kPartitions; ++p) {
    auto r = redis_->Command({"EXISTS", layout_.Lease(p)});
    ASSERT_TRUE(r.ok());
    EXPECT_EQ((*r)->integer, 0) << "lease of partition " << p << " still held";
  }
}

}  // namespace
}  // namespace alliance::testing
