// Slots moved between primaries under load, end to end: a local Redis Cluster (three primaries,
// three replicas) with the real intake, worker and insights in cluster mode. While submissions
// run through intake and a WatchAlerts stream is open, the slots of every partition held by one
// primary move to another, step by step (IMPORTING/MIGRATING, the partition's keys in several
// MIGRATE calls, then SETSLOT NODE), so the deployables meet ASK (keys already moved) and MOVED
// (after the move) on live traffic. Checked: intake answers only OK, or UNAVAILABLE that a retry
// with the same idempotency id turns into OK; every acknowledged rating is applied exactly once
// (each dyad equals the offline oracle of tests/worker/worker_fixture.h, every alert is in the
// alert streams once); the watch stream delivers every alert once, in each partition's order.
#include <google/protobuf/util/time_util.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "alliance/v1/insights.grpc.pb.h"
#include "alliance/v1/intake.grpc.pb.h"
#include "store/cluster_client.h"
#include "store/cluster_slot.h"
#include "store/keys.h"
#include "tests/support/child_process.h"
#include "tests/support/redis_cluster.h"
#include "tests/support/redis_server.h"
#include "tests/worker/worker_fixture.h"

namespace alliance::testing {
namespace {

using Reader = grpc::ClientReader<v1::WatchAlertsResponse>;

constexpr int kPartitions = 8;
constexpr int kDyads = 72;
constexpr int kSessions = 10;  // 720 ratings
constexpr int kSubmitters = 3;
constexpr char kTenant[] = "tenant-0";  // Workload's first (here only) tenant

// The session time the oracle assumes (tests/worker/worker_fixture.cc, SessionSeconds).
int64_t SessionSeconds(int session_number) {
  return 1704067200 + int64_t{session_number} * 7 * 24 * 3600;
}

v1::Feedback ToFeedback(const Submission& s) {
  v1::Feedback f;
  f.set_tenant_id(s.tenant);
  f.set_idempotency_id(absl::StrCat("reshard-", s.client, "-", s.session_number));
  f.set_therapist_id(s.therapist);
  f.set_client_id(s.client);
  f.set_session_id(absl::StrCat("session-", s.session_number));
  f.set_session_number(s.session_number);
  f.mutable_session_time()->set_seconds(SessionSeconds(s.session_number));
  f.set_rater(static_cast<v1::Rater>(s.rater));
  f.set_instrument_id(s.instrument_id);
  for (size_t i = 0; i < s.answers.size(); ++i) {
    v1::ItemAnswer* a = f.add_answers();
    a->set_item(static_cast<int>(i) + 1);
    a->set_value(s.answers[i]);
  }
  return f;
}

// Sum over the running nodes of one INFO counter: `errorstat_<kind>:count=N` of INFO errorstats
// (error replies a node sent: MOVED, ASK, TRYAGAIN...) or `cmdstat_<command>:calls=N`.
int64_t InfoCount(RedisCluster& cluster, std::string_view section, std::string_view prefix) {
  int64_t total = 0;
  for (int node = 0; node < cluster.size(); ++node) {
    if (!cluster.running(node)) continue;
    absl::StatusOr<RedisReplyPtr> info = cluster.Command(node, {"INFO", section});
    if (!info.ok()) continue;
    const std::string_view text = ReplyString(**info);
    const size_t at = text.find(prefix);
    if (at == std::string_view::npos) continue;
    total += std::atoll(std::string(text.substr(at + prefix.size(), 20)).c_str());
  }
  return total;
}

class ReshardTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::Status started = cluster_.Start();
    ASSERT_TRUE(started.ok()) << started;
    const std::vector<std::string> common = {
        absl::StrCat("--redis_cluster_nodes=", absl::StrJoin(cluster_.Seeds(), ",")),
        absl::StrCat("--partitions=", kPartitions), "--log_level=warning"};
    auto with = [&](std::vector<std::string> args) {
      args.insert(args.end(), common.begin(), common.end());
      return args;
    };
    const int intake_port = FreePort(), insights_port = FreePort();
    ASSERT_TRUE(intake_
                    .Start(BinaryPath("alliance-intake"),
                           with({absl::StrCat("--grpc_port=", intake_port), "--auth_disabled"}),
                           cluster_.dir() + "/intake.log")
                    .ok());
    ASSERT_TRUE(worker_
                    .Start(BinaryPath("alliance-worker"),
                           with({"--worker_id=reshard-w", "--block_ms=50", "--batch_size=200"}),
                           cluster_.dir() + "/worker.log")
                    .ok());
    ASSERT_TRUE(insights_
                    .Start(BinaryPath("alliance-insights"),
                           with({absl::StrCat("--grpc_port=", insights_port), "--auth_disabled",
                                 "--heartbeat_ms=1000"}),
                           cluster_.dir() + "/insights.log")
                    .ok());
    ASSERT_TRUE(WaitForPort(intake_port, absl::Seconds(20)).ok()) << intake_.ReadLog();
    ASSERT_TRUE(WaitForPort(insights_port, absl::Seconds(20)).ok()) << insights_.ReadLog();
    intake_stub_ = v1::FeedbackIntake::NewStub(grpc::CreateChannel(
        absl::StrCat("127.0.0.1:", intake_port), grpc::InsecureChannelCredentials()));
    insights_stub_ = v1::AllianceInsights::NewStub(grpc::CreateChannel(
        absl::StrCat("127.0.0.1:", insights_port), grpc::InsecureChannelCredentials()));
  }

  void TearDown() override {
    intake_stub_.reset();
    insights_stub_.reset();
    for (ChildProcess* p : {&intake_, &worker_, &insights_}) p->Signal(SIGTERM);
    for (ChildProcess* p : {&intake_, &worker_, &insights_}) {
      if (!p->Wait(absl::Seconds(15)).has_value()) p->Kill();
    }
    if (HasFailure()) {
      for (ChildProcess* p : {&intake_, &worker_, &insights_}) {
        std::cerr << "---- " << p->log_path() << "\n" << p->ReadLog() << "\n";
      }
    }
  }

  // Opens a watch stream of kTenant once the alert reader has reached the cluster (until then
  // watches are refused with UNAVAILABLE). Bounded: 200 tries 100 ms apart.
  std::unique_ptr<Reader> OpenWatch(grpc::ClientContext* context) {
    for (int i = 0; i < 200; ++i) {
      auto attempt = std::make_unique<grpc::ClientContext>();
      v1::WatchAlertsRequest request;
      request.set_tenant_id(kTenant);
      std::unique_ptr<Reader> probe = insights_stub_->WatchAlerts(attempt.get(), request);
      v1::WatchAlertsResponse first;
      if (probe->Read(&first)) {
        attempt->TryCancel();
        (void)probe->Finish();
        context->set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(90)));
        std::unique_ptr<Reader> reader = insights_stub_->WatchAlerts(context, request);
        EXPECT_TRUE(reader->Read(&first) && first.heartbeat());  // the starting cursor
        return reader;
      }
      EXPECT_EQ(probe->Finish().error_code(), grpc::UNAVAILABLE);
      absl::SleepFor(absl::Milliseconds(100));
    }
    ADD_FAILURE() << "the alert reader never reached the cluster\n" << insights_.ReadLog();
    return nullptr;
  }

  // Submits `mine` in order, each until acknowledged: UNAVAILABLE is retried with the same
  // idempotency id (bounded: 30 s per submission); any other answer is recorded as a failure.
  // Every 8th submission is sent once more after its acknowledgement and must get the same
  // stream id (the idempotency record moved with the partition). Sets accepted_id.
  void SubmitAll(const std::vector<Submission*>& mine) {
    int n = 0;
    for (Submission* s : mine) {
      const v1::Feedback feedback = ToFeedback(*s);
      std::string first_stream_id;
      for (int copy = 0; copy < (++n % 8 == 0 ? 2 : 1); ++copy) {
        const absl::Time deadline = absl::Now() + absl::Seconds(30);
        bool acknowledged = false;
        while (!acknowledged && absl::Now() < deadline) {
          grpc::ClientContext context;
          context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
          v1::SubmitFeedbackRequest request;
          *request.mutable_feedback() = feedback;
          v1::SubmitFeedbackResponse response;
          grpc::Status status = intake_stub_->SubmitFeedback(&context, request, &response);
          if (status.ok()) {
            acknowledged = true;
            s->accepted_id = response.accepted_id();
            if (copy == 0) first_stream_id = response.stream_id();
            if (copy == 1 && response.stream_id() != first_stream_id) {
              Fail(absl::StrCat(feedback.idempotency_id(), ": sent again, stored again as ",
                                response.stream_id(), " (first ", first_stream_id, ")"));
            }
          } else if (status.error_code() == grpc::UNAVAILABLE) {
            ++unavailable_;
            absl::SleepFor(absl::Milliseconds(50));
          } else {
            Fail(absl::StrCat(feedback.idempotency_id(), ": code ", status.error_code(), " ",
                              status.error_message()));
            return;
          }
        }
        if (!acknowledged) {
          Fail(absl::StrCat(feedback.idempotency_id(), ": not acknowledged within 30 s"));
          return;
        }
      }
      ++acknowledged_;
      absl::SleepFor(absl::Milliseconds(20));  // a steady load (~40/s per submitter), not a flood
    }
  }

  void Fail(std::string what) {
    std::lock_guard<std::mutex> lock(mu_);
    failures_.push_back(std::move(what));
  }

  // Moves the partition's slot from primary `from` to `to` in several MIGRATE steps, pausing
  // between them so that the load meets each state: the alert stream first (the watch's reads
  // are answered ASK), then the feedback stream (intake's and the worker's scripts, whose keys
  // are now split between the nodes, are answered ASK or TRYAGAIN) for `split`, then the rest,
  // then the slot's new owner (MOVED for every client with the old map).
  absl::Status MoveStepByStep(int partition, int from, int to, absl::Duration split) {
    const int slot = KeySlot(layout_.FeedbackStream(partition));
    if (absl::Status s = cluster_.BeginMigration(slot, from, to); !s.ok()) return s;
    absl::SleepFor(absl::Milliseconds(200));
    if (absl::Status s = cluster_.MigrateKeys(slot, from, to, {layout_.AlertStream(partition)});
        !s.ok()) {
      return s;
    }
    absl::SleepFor(absl::Milliseconds(300));
    if (absl::Status s = cluster_.MigrateKeys(slot, from, to, {layout_.FeedbackStream(partition)});
        !s.ok()) {
      return s;
    }
    absl::SleepFor(split);
    if (absl::Status s = cluster_.MigrateKeys(slot, from, to); !s.ok()) return s;
    return cluster_.FinishMigration(slot, from, to);
  }

  RedisCluster cluster_;
  KeyLayout layout_{kPartitions};
  ChildProcess intake_, worker_, insights_;
  std::unique_ptr<v1::FeedbackIntake::Stub> intake_stub_;
  std::unique_ptr<v1::AllianceInsights::Stub> insights_stub_;
  std::atomic<int> unavailable_{0};
  std::atomic<int> acknowledged_{0};
  std::mutex mu_;
  std::vector<std::string> failures_;
};

TEST_F(ReshardTest, SlotsMovedUnderLoadLoseAndRepeatNothing) {
  // Partitions of one primary, and another primary to take them.
  std::map<int, std::vector<int>> partitions_of;  // primary -> partitions
  for (int p = 0; p < kPartitions; ++p) {
    absl::StatusOr<int> primary = cluster_.PrimaryOf(KeySlot(layout_.FeedbackStream(p)));
    ASSERT_TRUE(primary.ok()) << primary.status();
    partitions_of[*primary].push_back(p);
  }
  ASSERT_GE(partitions_of.size(), 2u);
  auto most = std::max_element(
      partitions_of.begin(), partitions_of.end(),
      [](const auto& a, const auto& b) { return a.second.size() < b.second.size(); });
  const int from = most->first;
  // Three of them at most (the test cluster gives one primary four of the eight): enough to
  // see each state several times, and the test stays short.
  const std::vector<int> moving(most->second.begin(),
                                most->second.begin() + std::min<size_t>(3, most->second.size()));
  const int to = partitions_of.begin()->first != from ? partitions_of.begin()->first
                                                      : std::next(partitions_of.begin())->first;

  // The watch stream, open before the first submission: every alert is new to it.
  grpc::ClientContext watch_context;
  std::unique_ptr<Reader> reader = OpenWatch(&watch_context);
  ASSERT_NE(reader, nullptr);
  std::mutex watch_mu;
  std::vector<v1::Alert> watched;
  std::thread watcher([&] {
    v1::WatchAlertsResponse message;
    while (reader->Read(&message)) {
      if (message.heartbeat()) continue;
      std::lock_guard<std::mutex> lock(watch_mu);
      watched.push_back(message.alert());
    }
  });

  // Ratings session by session, each dyad's in order on one submitter.
  std::vector<Submission> work =
      Workload(23, WorkloadShape{kDyads, kSessions, /*tenants=*/1, /*therapists=*/11,
                                 /*duplicates=*/0});
  std::vector<std::vector<Submission*>> share(kSubmitters);
  for (Submission& s : work) {
    share[std::hash<std::string>{}(s.client) % kSubmitters].push_back(&s);
  }
  std::vector<std::thread> submitters;
  for (auto& mine : share) submitters.emplace_back([this, &mine] { SubmitAll(mine); });

  // Once a third of the ratings are in (ruptures begin from the fourth session), the slots
  // move while the rest keep coming.
  const absl::Time wait_until = absl::Now() + absl::Seconds(30);
  while (acknowledged_.load() < static_cast<int>(work.size()) / 3 && absl::Now() < wait_until) {
    absl::SleepFor(absl::Milliseconds(20));
  }
  const int before_move = acknowledged_.load();
  // The first partition stays split for longer than intake's cluster client retries TRYAGAIN
  // (5 backoff rounds, 1.55 s in all), so intake answers UNAVAILABLE there and the submitters'
  // retries with the same idempotency ids are what gets those ratings in.
  for (int p : moving) {
    absl::Status moved = MoveStepByStep(
        p, from, to, p == moving.front() ? absl::Milliseconds(2500) : absl::Milliseconds(300));
    EXPECT_TRUE(moved.ok()) << "partition " << p << ": " << moved;
  }
  const int after_move = acknowledged_.load();
  for (std::thread& t : submitters) t.join();
  EXPECT_LT(after_move, static_cast<int>(work.size())) << "the load ended before the move did";
  EXPECT_GT(after_move, before_move) << "nothing was acknowledged while the slots moved";
  EXPECT_GT(unavailable_.load(), 0) << "intake never gave up on the split partition";
  for (int p : moving) {
    absl::StatusOr<int> owner = cluster_.PrimaryOf(KeySlot(layout_.FeedbackStream(p)));
    ASSERT_TRUE(owner.ok());
    EXPECT_EQ(*owner, to) << "partition " << p << " did not move";
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    EXPECT_TRUE(failures_.empty()) << absl::StrJoin(failures_, "\n");
  }

  // The deployables were redirected both ways (nothing else has talked to the moving slots'
  // keys through the cluster protocol yet): ASK with ASKING, and MOVED.
  const int64_t ask = InfoCount(cluster_, "errorstats", "errorstat_ASK:count=");
  const int64_t asking = InfoCount(cluster_, "commandstats", "cmdstat_asking:calls=");
  const int64_t moved = InfoCount(cluster_, "errorstats", "errorstat_MOVED:count=");
  const int64_t tryagain = InfoCount(cluster_, "errorstats", "errorstat_TRYAGAIN:count=");
  EXPECT_GT(ask, 0);
  EXPECT_GT(asking, 0);
  EXPECT_GT(moved, 0);
  std::printf(
      "moved %zu partitions from node %d to node %d; acknowledged %d ratings before, %d during "
      "the move; intake UNAVAILABLE %d times (retried); nodes answered ASK %lld (ASKING %lld), "
      "MOVED %lld, TRYAGAIN %lld\n",
      moving.size(), from, to, before_move, after_move - before_move, unavailable_.load(),
      static_cast<long long>(ask), static_cast<long long>(asking), static_cast<long long>(moved),
      static_cast<long long>(tryagain));

  // Exactly once: every dyad equals the oracle, every alert is in the streams once.
  ClusterOptions options;
  options.seeds = cluster_.Seeds();
  auto client = ClusterClient::Connect(options);
  ASSERT_TRUE(client.ok()) << client.status();
  absl::Status drained = WaitForDrained(OnCluster(**client), layout_, absl::Seconds(40));
  ASSERT_TRUE(drained.ok()) << drained;
  for (int p = 0; p < kPartitions; ++p) {
    const std::string dead = layout_.DeadLetterStream(p);
    auto len = (*client)->Command(KeySlot(dead), {"XLEN", dead});
    ASSERT_TRUE(len.ok()) << len.status();
    EXPECT_EQ((*len)->integer, 0) << "dead letters in partition " << p;
  }
  ExpectMatchesOracle(OnCluster(**client), layout_, work);
  // The worker's timer raises alerts that depend on the clock (disengagement of dyads with an
  // open rupture and sessions long past) whenever it runs: stop the worker, so the streams read
  // below hold every alert the watch stream will deliver.
  worker_.Signal(SIGTERM);
  ASSERT_TRUE(worker_.Wait(absl::Seconds(30)).has_value()) << worker_.ReadLog();

  // The watch stream: every alert of the streams once, in each partition's order.
  std::map<int, std::vector<std::string>> stored;  // partition -> alert ids in stream order
  size_t total = 0;
  for (int p = 0; p < kPartitions; ++p) {
    auto stream = ReadStream(OnCluster(**client), layout_.AlertStream(p));
    ASSERT_TRUE(stream.ok()) << stream.status();
    for (auto& entry : *stream) stored[p].push_back(entry["alert_id"]);
    total += stream->size();
  }
  ASSERT_GT(total, 0u);
  const absl::Time watch_deadline = absl::Now() + absl::Seconds(20);
  while (absl::Now() < watch_deadline) {
    {
      std::lock_guard<std::mutex> lock(watch_mu);
      if (watched.size() >= total) break;
    }
    absl::SleepFor(absl::Milliseconds(50));
  }
  absl::SleepFor(absl::Milliseconds(300));  // anything repeated after the last one arrives too
  watch_context.TryCancel();
  watcher.join();
  (void)reader->Finish();
  std::map<int, std::vector<std::string>> delivered;
  std::map<std::string, int> times;
  for (const v1::Alert& a : watched) {
    delivered[layout_.PartitionOf(a.tenant_id(), a.therapist_id(), a.client_id())].push_back(
        a.alert_id());
    ++times[a.alert_id()];
  }
  int repeated = 0;
  for (const auto& [id, n] : times) repeated += n > 1 ? 1 : 0;
  EXPECT_EQ(repeated, 0) << "alerts delivered more than once on the watch stream";
  EXPECT_EQ(watched.size(), total) << "alerts on the watch stream vs in the alert streams";
  for (const auto& [p, ids] : stored) {
    EXPECT_EQ(delivered[p], ids) << "partition " << p << ": watch order differs from the stream"
                                 << (std::count(moving.begin(), moving.end(), p) ? " (moved)" : "");
  }
}

}  // namespace
}  // namespace alliance::testing
