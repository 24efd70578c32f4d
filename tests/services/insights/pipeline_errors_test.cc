// An error reply in the middle of a pipelined Redis exchange must not leave the connection out
// of step: with one Redis thread (every call shares one connection), one tenant's call that
// meets an error reply (injected as a key of the wrong type) is followed by another tenant's
// calls, whose answers must equal those given before the error. Also the pool's backstop for a
// job that stops reading early, and the crafted page token that made Redis answer an error.
#include <functional>
#include <map>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/notification.h"
#include "services/insights/redis_pool.h"
#include "tests/services/insights/insights_fixture.h"

namespace alliance::testing {
namespace {

using alliance::v1::Alert;

constexpr char kVictim[] = "clinic-b";
constexpr char kAttacker[] = "clinic-a";
// Every dyad of the victim lives in this partition; errors are injected in lower partitions,
// so that replies of the higher ones (the victim's among them) follow the error reply.
constexpr int kVictimPartition = kPartitions - 1;

class PipelineErrorsTest : public InsightsFixture {
 protected:
  std::vector<std::string> ExtraFlags() const override { return {"--redis_threads=1"}; }

  // A therapist id whose dyad with `client` of `tenant` lands in `partition`.
  std::string TherapistIn(const std::string& tenant, const std::string& client, int partition,
                          int skip = 0) const {
    for (int i = 0; i < 10000; ++i) {
      std::string therapist = absl::StrCat("t", i);
      if (layout_.PartitionOf(tenant, therapist, client) == partition && skip-- == 0) {
        return therapist;
      }
    }
    ADD_FAILURE() << "no therapist id for partition " << partition;
    return "";
  }

  void SeedVictim() {
    for (int i = 0; i < 3; ++i) {
      std::string therapist = TherapistIn(kVictim, "c1", kVictimPartition, i);
      victim_therapists_.push_back(therapist);
      auto record = MakeDyad(kVictim, therapist, "c1");
      Alert alert = MakeAlert(kVictim, therapist, "c1", i);
      *record.add_alerts() = alert;
      WriteDyad(record);
      AppendAlerts({alert});
    }
    // One alert acknowledged, so the status overlay has something to say.
    Command({"HSET",
             layout_.AlertStatus(kVictim,
                                 MakeAlert(kVictim, victim_therapists_[0], "c1", 0).alert_id()),
             "status", "acknowledged", "acknowledged_by", "nurse-1"});
  }

  void Command(const std::vector<std::string_view>& args) {
    auto reply = conn_->Command(args);
    ASSERT_TRUE(reply.ok()) << reply.status();
    ASSERT_TRUE(ReplyStatus(**reply).ok()) << ReplyString(**reply);
  }

  // The victim's answers to every read, serialized; the status code when a call fails.
  std::map<std::string, std::string> VictimAnswers() {
    auto stub = NewStub();
    std::map<std::string, std::string> out;
    auto record = [&out](const std::string& name, const grpc::Status& status,
                         const google::protobuf::Message& response) {
      out[name] =
          status.ok() ? response.SerializeAsString() : absl::StrCat("error ", status.error_code());
    };
    for (const std::string& therapist : victim_therapists_) {
      grpc::ClientContext context;
      alliance::v1::GetDyadRequest request;
      request.set_tenant_id(kVictim);
      request.set_therapist_id(therapist);
      request.set_client_id("c1");
      alliance::v1::GetDyadResponse response;
      record("GetDyad " + therapist, stub->GetDyad(&context, request, &response), response);
    }
    {
      grpc::ClientContext context;
      alliance::v1::ListDyadsRequest request;
      request.set_tenant_id(kVictim);
      alliance::v1::ListDyadsResponse response;
      record("ListDyads", stub->ListDyads(&context, request, &response), response);
    }
    {
      grpc::ClientContext context;
      alliance::v1::ListAlertsRequest request;
      request.set_tenant_id(kVictim);
      alliance::v1::ListAlertsResponse response;
      record("ListAlerts", stub->ListAlerts(&context, request, &response), response);
    }
    {
      grpc::ClientContext context;
      alliance::v1::GetDyadTimelineRequest request;
      request.set_tenant_id(kVictim);
      request.set_therapist_id(victim_therapists_[0]);
      request.set_client_id("c1");
      alliance::v1::GetDyadTimelineResponse response;
      record("Timeline", stub->GetDyadTimeline(&context, request, &response), response);
    }
    return out;
  }

  // Runs the attacker's call (expected to fail with `code`) with `bad_key` of the wrong type,
  // then removes the key and checks the victim is answered as before, twice over.
  void ExpectVictimUnharmed(const std::string& what, const std::string& bad_key,
                            const std::function<grpc::StatusCode()>& attack,
                            grpc::StatusCode code = grpc::INTERNAL) {
    SCOPED_TRACE(what);
    Command({"DEL", bad_key});
    Command({"RPUSH", bad_key, "not", "what", "the", "reader", "expects"});
    EXPECT_EQ(attack(), code);
    Command({"DEL", bad_key});
    EXPECT_EQ(VictimAnswers(), baseline_);
    EXPECT_EQ(VictimAnswers(), baseline_);
  }

  std::vector<std::string> victim_therapists_;
  std::map<std::string, std::string> baseline_;
};

TEST_F(PipelineErrorsTest, AnErrorReplyMidPipelineNeverReachesTheNextCaller) {
  SeedVictim();
  // The attacker's own data: dyads and alerts in several partitions.
  std::vector<Alert> attacker_alerts;
  std::vector<alliance::internal::v1::DyadRecord> attacker_dyads;
  for (int p = 0; p < kPartitions; ++p) {
    for (int i = 0; i < 2; ++i) {
      std::string therapist = TherapistIn(kAttacker, "c9", p, i);
      attacker_dyads.push_back(MakeDyad(kAttacker, therapist, "c9"));
      attacker_alerts.push_back(MakeAlert(kAttacker, therapist, "c9", 100 + p * 10 + i));
    }
  }
  WriteDyads(attacker_dyads);
  AppendAlerts(attacker_alerts);
  baseline_ = VictimAnswers();
  ASSERT_EQ(baseline_.size(), 6u);
  for (const auto& [name, answer] : baseline_) {
    EXPECT_FALSE(answer.starts_with("error")) << name << ": " << answer;
  }
  auto stub = NewStub();

  auto list_alerts = [&] {
    grpc::ClientContext context;
    alliance::v1::ListAlertsRequest request;
    request.set_tenant_id(kAttacker);
    alliance::v1::ListAlertsResponse response;
    return stub->ListAlerts(&context, request, &response).error_code();
  };
  auto list_dyads = [&] {
    grpc::ClientContext context;
    alliance::v1::ListDyadsRequest request;
    request.set_tenant_id(kAttacker);
    alliance::v1::ListDyadsResponse response;
    return stub->ListDyads(&context, request, &response).error_code();
  };
  // The merge over every partition's alert stream (XREVRANGE per partition).
  ExpectVictimUnharmed("alert stream", layout_.AlertStream(0), list_alerts);
  // The dyad listing's index reads (ZRANGE per partition) and its head reads (GET per member).
  ExpectVictimUnharmed("dyad index", layout_.DyadIndex(0, kAttacker), list_dyads);
  // (Partition 1: the case before removed the attacker's index of partition 0.)
  const auto& in_p1 = attacker_dyads[2];
  ExpectVictimUnharmed("dyad head",
                       layout_.DyadState(1, kAttacker, in_p1.therapist_id(), in_p1.client_id()),
                       list_dyads);
  // The status overlay (HGETALL per alert) of the alert listing.
  ExpectVictimUnharmed("alert status",
                       layout_.AlertStatus(kAttacker, attacker_alerts.back().alert_id()),
                       list_alerts);
  // The overlay of a timeline (one dyad's alerts).
  auto with_alerts = MakeDyad(kAttacker, "t-x", "c-x");
  Alert x1 = MakeAlert(kAttacker, "t-x", "c-x", 1), x2 = MakeAlert(kAttacker, "t-x", "c-x", 2);
  *with_alerts.add_alerts() = x1;
  *with_alerts.add_alerts() = x2;
  WriteDyad(with_alerts);
  ExpectVictimUnharmed("timeline status", layout_.AlertStatus(kAttacker, x1.alert_id()), [&] {
    grpc::ClientContext context;
    alliance::v1::GetDyadTimelineRequest request;
    request.set_tenant_id(kAttacker);
    request.set_therapist_id("t-x");
    request.set_client_id("c-x");
    alliance::v1::GetDyadTimelineResponse response;
    return stub->GetDyadTimeline(&context, request, &response).error_code();
  });
  // Erasure's stream walk; afterwards the victim's own erasure still counts right.
  ExpectVictimUnharmed("erasure", layout_.DeadLetterStream(0), [&] {
    grpc::ClientContext context;
    alliance::v1::DeleteClientDataRequest request;
    request.set_tenant_id(kAttacker);
    request.set_client_id("c9");
    alliance::v1::DeleteClientDataResponse response;
    return stub->DeleteClientData(&context, request, &response).error_code();
  });
  grpc::ClientContext context;
  alliance::v1::DeleteClientDataRequest request;
  request.set_tenant_id(kVictim);
  request.set_client_id("c1");
  alliance::v1::DeleteClientDataResponse removed;
  grpc::Status status = stub->DeleteClientData(&context, request, &removed);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(removed.dyad_states(), 3);
  EXPECT_EQ(removed.dyad_index_entries(), 3);
  EXPECT_EQ(removed.alert_entries(), 3);
  EXPECT_EQ(removed.alert_statuses(), 1);
}

TEST_F(PipelineErrorsTest, CraftedAlertPageTokenIsRefusedAndHarmsNoOne) {
  SeedVictim();
  baseline_ = VictimAnswers();
  // "Continue before 0-0" in every partition: Redis refuses such a range.
  std::vector<std::string> zeros(kPartitions, "0-0");
  std::string token;
  absl::WebSafeBase64Escape(absl::StrCat("a1:", absl::StrJoin(zeros, ",")), &token);
  auto stub = NewStub();
  for (int i = 0; i < 3; ++i) {
    grpc::ClientContext context;
    alliance::v1::ListAlertsRequest request;
    request.set_tenant_id(kAttacker);
    request.set_page_token(token);
    alliance::v1::ListAlertsResponse response;
    EXPECT_EQ(stub->ListAlerts(&context, request, &response).error_code(), grpc::INVALID_ARGUMENT);
  }
  EXPECT_EQ(VictimAnswers(), baseline_);
}

// The pool's backstop: a job that stops reading its pipeline early does not hand its replies
// to the next job.
TEST_F(PipelineErrorsTest, PoolResyncsAConnectionAJobLeftOutOfStep) {
  Command({"SET", "theirs", "their value"});
  Command({"SET", "yours", "your value"});
  insights::RedisPool pool(redis_.endpoint(), /*threads=*/1, /*max_queued=*/10);
  pool.Start();
  // The executor reads every reply it asks for; a job that uses the raw connection (as the
  // per-node walks do) can still stop early.
  ASSERT_TRUE(pool.Submit([&](absl::StatusOr<RedisExecutor*> redis) {
    ASSERT_TRUE(redis.ok());
    (void)(*redis)->ForEachPrimary([](RedisConnection& connection) {
      for (int i = 0; i < 5; ++i) connection.Append({"GET", "theirs"});
      EXPECT_TRUE(connection.GetReply().ok());  // reads one of five and leaves
      return absl::OkStatus();
    });
  }));
  absl::Notification second_done;
  std::string seen;
  ASSERT_TRUE(pool.Submit([&](absl::StatusOr<RedisExecutor*> redis) {
    ASSERT_TRUE(redis.ok());
    (void)(*redis)->ForEachPrimary([](RedisConnection& connection) {
      EXPECT_EQ(connection.pending_replies(), 0u);
      return absl::OkStatus();
    });
    auto reply = (*redis)->Command(0, {"GET", "yours"});
    if (reply.ok()) seen = std::string(ReplyString(**reply));
    second_done.Notify();
  }));
  ASSERT_TRUE(second_done.WaitForNotificationWithTimeout(absl::Seconds(10)));
  EXPECT_EQ(seen, "your value");
  pool.Stop();
}

}  // namespace
}  // namespace alliance::testing
