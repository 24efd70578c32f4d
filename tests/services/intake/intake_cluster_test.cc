// Intake on Redis Cluster and with replica confirmation (WAIT), against real redis-server
// processes and the real alliance-intake binary: submissions land in their partition's slot on
// whichever primary serves it and are acknowledged only once a replica has them; a killed
// primary means UNAVAILABLE until its replica takes over, with nothing acknowledged lost; and
// with a single Redis that has no replica to confirm, nothing is acknowledged until one does.
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "store/cluster_client.h"
#include "store/cluster_slot.h"
#include "tests/services/intake/intake_fixture.h"
#include "tests/support/redis_cluster.h"

namespace alliance::testing {
namespace {

constexpr int kPartitions = 8;

class IntakeClusterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(cluster_.Start().ok());
    ClusterOptions options;
    options.seeds = cluster_.Seeds();
    auto client = ClusterClient::Connect(options);
    ASSERT_TRUE(client.ok()) << client.status();
    client_ = *std::move(client);
    ASSERT_TRUE(intake_
                    .Start(cluster_.port(0), {absl::StrCat("--redis_cluster_nodes=",
                                                           absl::StrJoin(cluster_.Seeds(), ",")),
                                              absl::StrCat("--partitions=", kPartitions)})
                    .ok())
        << intake_.Log();
  }

  // The feedback entry `id` of the dyad's partition, read from the cluster.
  bool Stored(const alliance::v1::Feedback& f, const std::string& id) {
    const std::string stream =
        layout_.FeedbackStream(layout_.PartitionOf(f.tenant_id(), f.therapist_id(), f.client_id()));
    auto reply = client_->Command(KeySlot(stream), {"XRANGE", stream, id, id});
    return reply.ok() && (*reply)->type == REDIS_REPLY_ARRAY && (*reply)->elements == 1;
  }

  RedisCluster cluster_;
  std::unique_ptr<ClusterClient> client_;
  IntakeProcess intake_;
  KeyLayout layout_{kPartitions};
};

TEST_F(IntakeClusterTest, SubmissionsLandInTheirPartitionsSlotAndRetriesAreAnsweredOnce) {
  std::set<int> primaries;
  for (int i = 0; i < 24; ++i) {
    alliance::v1::Feedback f = ValidFeedback(absl::StrCat("idem-", i), absl::StrCat("client-", i));
    alliance::v1::SubmitFeedbackResponse response;
    grpc::Status status = Submit(intake_.stub(), f, &response);
    ASSERT_TRUE(status.ok()) << status.error_message() << intake_.Log();
    EXPECT_TRUE(Stored(f, response.stream_id())) << i;
    // A retry is answered from the idempotency record, on the same primary: nothing new.
    alliance::v1::SubmitFeedbackResponse again;
    ASSERT_TRUE(Submit(intake_.stub(), f, &again).ok());
    EXPECT_EQ(again.stream_id(), response.stream_id());
    const int p = layout_.PartitionOf(f.tenant_id(), f.therapist_id(), f.client_id());
    auto primary = cluster_.PrimaryOf(KeySlot(layout_.FeedbackStream(p)));
    ASSERT_TRUE(primary.ok());
    primaries.insert(*primary);
  }
  EXPECT_GE(primaries.size(), 2u) << "the partitions should spread over the primaries";
  // Cluster mode waits for one replica by default, and every write reached it.
  EXPECT_EQ(intake_.Metric("alliance_intake_redis_errors_total{kind=\"replicas_unconfirmed\"}"), 0);
  int64_t total = 0;
  for (int p = 0; p < kPartitions; ++p) {
    const std::string stream = layout_.FeedbackStream(p);
    auto len = client_->Command(KeySlot(stream), {"XLEN", stream});
    ASSERT_TRUE(len.ok());
    total += (*len)->integer;
  }
  EXPECT_EQ(total, 24);
}

TEST_F(IntakeClusterTest, AKilledPrimaryIsUnavailableUntilItsReplicaTakesOverAndLosesNothing) {
  // A dyad whose partition lives on the primary about to be killed.
  alliance::v1::Feedback probe = ValidFeedback("probe", "client-probe");
  const int p = layout_.PartitionOf(probe.tenant_id(), probe.therapist_id(), probe.client_id());
  auto victim = cluster_.PrimaryOf(KeySlot(layout_.FeedbackStream(p)));
  ASSERT_TRUE(victim.ok());

  std::vector<std::pair<alliance::v1::Feedback, std::string>> acknowledged;
  int unavailable = 0;
  bool restarted = false;
  absl::Time killed_at = absl::InfinitePast();
  absl::Time recovered_at = absl::InfinitePast();
  // Bounded: at most 300 submissions of the probe dyad, one every 25 ms (plus their calls).
  for (int i = 0; i < 300; ++i) {
    if (i == 20) {
      cluster_.Kill(*victim);
      killed_at = absl::Now();
    }
    // With one replica per primary and WAIT for one, the promoted replica has no replica of
    // its own until the old primary comes back (as a replica): until then nothing on its
    // slots can be confirmed, so it is UNAVAILABLE rather than acknowledged unprotected.
    if (!restarted && killed_at != absl::InfinitePast() &&
        absl::Now() - killed_at > absl::Seconds(3)) {
      ASSERT_TRUE(cluster_.Restart(*victim).ok());
      restarted = true;
    }
    alliance::v1::Feedback f = ValidFeedback(absl::StrCat("k-", i), "client-probe");
    alliance::v1::SubmitFeedbackResponse response;
    grpc::Status status = Submit(intake_.stub(), f, &response, absl::Seconds(8));
    if (status.ok()) {
      acknowledged.emplace_back(f, response.stream_id());
      if (unavailable > 0 && recovered_at == absl::InfinitePast()) recovered_at = absl::Now();
      if (recovered_at != absl::InfinitePast() && acknowledged.size() >= 40) break;
    } else {
      EXPECT_EQ(status.error_code(), grpc::UNAVAILABLE) << status.error_message();
      ++unavailable;
    }
    absl::SleepFor(absl::Milliseconds(25));
  }
  ASSERT_GT(unavailable, 0) << "the kill went unnoticed";
  ASSERT_NE(recovered_at, absl::InfinitePast())
      << "no acknowledged submission after the failover; " << unavailable << " unavailable";
  std::printf("failover: first acknowledged submission %.2f s after the kill (%d UNAVAILABLE)\n",
              absl::ToDoubleSeconds(recovered_at - killed_at), unavailable);
  ASSERT_TRUE(client_->RefreshMap().ok());
  for (const auto& [f, id] : acknowledged) {
    EXPECT_TRUE(Stored(f, id)) << "acknowledged " << f.idempotency_id() << " lost";
  }
}

// WAIT has no key, so when the append is redirected (its slot moved to another primary) WAIT
// is answered by the node first asked, which says nothing about the new primary's replicas.
// Here the slot moves to a primary whose replica is down: the redirected append must not be
// acknowledged; once the replica is back, the client's retry is, with the stream id written.
TEST_F(IntakeClusterTest, AnAppendRedirectedToAnUnreplicatedPrimaryIsNotAcknowledged) {
  alliance::v1::Feedback first = ValidFeedback("moved-0", "client-moved");
  alliance::v1::SubmitFeedbackResponse response;
  ASSERT_TRUE(Submit(intake_.stub(), first, &response).ok()) << intake_.Log();  // map learned
  const int p = layout_.PartitionOf(first.tenant_id(), first.therapist_id(), first.client_id());
  const int slot = KeySlot(layout_.FeedbackStream(p));
  auto from = cluster_.PrimaryOf(slot);
  ASSERT_TRUE(from.ok());
  auto map = cluster_.Map();
  ASSERT_TRUE(map.ok());
  int to = -1;
  for (const NodeAddress& primary : map->Primaries()) {
    if (primary.port != cluster_.port(*from)) to = cluster_.NodeOfPort(primary.port);
  }
  ASSERT_GE(to, 0);
  auto replica = cluster_.ReplicaOf(to);
  ASSERT_TRUE(replica.ok()) << replica.status();
  cluster_.Kill(*replica);
  ASSERT_TRUE(cluster_.MoveSlot(slot, to).ok());

  const double unconfirmed_before =
      intake_.Metric("alliance_intake_redis_errors_total{kind=\"replicas_unconfirmed\"}")
          .value_or(-1);
  alliance::v1::Feedback moved = ValidFeedback("moved-1", "client-moved");
  grpc::Status status = Submit(intake_.stub(), moved, &response, absl::Seconds(8));
  EXPECT_EQ(status.error_code(), grpc::UNAVAILABLE)
      << "acknowledged with no replica of the primary that holds it";
  EXPECT_GT(intake_.Metric("alliance_intake_redis_errors_total{kind=\"replicas_unconfirmed\"}")
                .value_or(-1),
            unconfirmed_before);

  ASSERT_TRUE(cluster_.Restart(*replica).ok());
  grpc::Status retried;
  for (int i = 0; i < 40; ++i) {  // bounded: the replica resyncs within seconds
    retried = Submit(intake_.stub(), moved, &response, absl::Seconds(8));
    if (retried.ok()) break;
    absl::SleepFor(absl::Milliseconds(250));
  }
  ASSERT_TRUE(retried.ok()) << retried.error_message();
  ASSERT_TRUE(client_->RefreshMap().ok());
  EXPECT_TRUE(Stored(moved, response.stream_id()));
}

// A single Redis with --redis_wait_replicas=1: without a replica nothing is acknowledged;
// once one is attached, the client's retry with the same idempotency id is.
TEST(IntakeWaitTest, NothingIsAcknowledgedUntilAReplicaHasIt) {
  RedisServer primary;
  ASSERT_TRUE(primary.Start().ok());
  IntakeProcess intake;
  ASSERT_TRUE(
      intake.Start(primary.port(), {"--redis_wait_replicas=1", "--redis_wait_timeout_ms=200"}).ok())
      << intake.Log();
  alliance::v1::Feedback f = ValidFeedback("wait-1");
  alliance::v1::SubmitFeedbackResponse response;
  grpc::Status status = Submit(intake.stub(), f, &response);
  EXPECT_EQ(status.error_code(), grpc::UNAVAILABLE);
  EXPECT_NE(status.error_message().find("confirmed by replicas"), std::string::npos)
      << status.error_message();
  EXPECT_EQ(intake.Metric("alliance_intake_redis_errors_total{kind=\"replicas_unconfirmed\"}"), 1);

  RedisServer replica;
  ASSERT_TRUE(replica.Start().ok());
  auto replica_conn = ConnectOrDie(replica);
  ASSERT_TRUE(
      replica_conn->Command({"REPLICAOF", "127.0.0.1", std::to_string(primary.port())}).ok());
  // Bounded wait until the replica is in sync.
  for (int i = 0; i < 100; ++i) {
    auto info = replica_conn->Command({"INFO", "replication"});
    if (info.ok() && ReplyString(**info).find("master_link_status:up") != std::string_view::npos) {
      break;
    }
    absl::SleepFor(absl::Milliseconds(100));
  }
  status = Submit(intake.stub(), f, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  auto primary_conn = ConnectOrDie(primary);
  EXPECT_EQ(TotalFeedbackEntries(*primary_conn, KeyLayout(8)), 1) << "written once";
}

}  // namespace
}  // namespace alliance::testing
