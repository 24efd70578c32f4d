// alliance-insights on Redis Cluster, against a real local cluster (three primaries, three
// replicas) and the real binary started with --redis_cluster_nodes: dyads and alerts written
// into partitions served by different primaries are listed, paged and merged as on a single
// Redis; WatchAlerts delivers every partition's alerts once and resumes from a cursor;
// acknowledge and resolve work on the status hashes' own slots; DeleteClientData erases data
// on every primary (the idempotency records it finds by SCAN included); and a killed primary
// means bounded UNAVAILABLE answers until its replica takes over, with a watch stream that
// neither misses nor repeats an alert.
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/time_util.h>
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "alliance/internal/v1/records.pb.h"
#include "alliance/v1/insights.grpc.pb.h"
#include "gtest/gtest.h"
#include "store/cluster_client.h"
#include "store/cluster_slot.h"
#include "store/feedback_entry.h"
#include "store/idempotency_record.h"
#include "store/keys.h"
#include "tests/support/child_process.h"
#include "tests/support/redis_cluster.h"
#include "tests/support/redis_server.h"

namespace alliance::testing {
namespace {

using alliance::internal::v1::DyadRecord;
using alliance::v1::Alert;
using google::protobuf::util::TimeUtil;
using Reader = grpc::ClientReader<alliance::v1::WatchAlertsResponse>;

constexpr int kClusterPartitions = 8;
constexpr char kTenant[] = "clinic-c";

class InsightsClusterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::Status started = cluster_.Start();
    ASSERT_TRUE(started.ok()) << started;
    ClusterOptions options;
    options.seeds = cluster_.Seeds();
    auto client = ClusterClient::Connect(options);
    ASSERT_TRUE(client.ok()) << client.status();
    client_ = *std::move(client);
    grpc_port_ = FreePort();
    std::vector<std::string> args = {
        absl::StrCat("--redis_cluster_nodes=", absl::StrJoin(cluster_.Seeds(), ",")),
        absl::StrCat("--grpc_port=", grpc_port_),
        absl::StrCat("--metrics_port=", FreePort()),
        absl::StrCat("--health_port=", FreePort()),
        absl::StrCat("--partitions=", kClusterPartitions),
        "--heartbeat_ms=1000",
        "--auth_disabled"};
    ASSERT_TRUE(
        service_.Start(BinaryPath("alliance-insights"), args, cluster_.dir() + "/insights.log")
            .ok());
    ASSERT_TRUE(WaitForPort(grpc_port_, absl::Seconds(20)).ok()) << service_.ReadLog();
    channel_ = grpc::CreateChannel(absl::StrCat("127.0.0.1:", grpc_port_),
                                   grpc::InsecureChannelCredentials());
    stub_ = alliance::v1::AllianceInsights::NewStub(channel_);
    WaitForAlertReader();
  }

  // The alert reader reaches the cluster shortly after the port opens; until it has, watches
  // are refused with UNAVAILABLE (as on a single Redis). Bounded: 200 tries 100 ms apart.
  void WaitForAlertReader() {
    for (int i = 0; i < 200; ++i) {
      grpc::ClientContext context;
      alliance::v1::WatchAlertsRequest request;
      request.set_tenant_id(kTenant);
      std::unique_ptr<Reader> reader = stub_->WatchAlerts(&context, request);
      alliance::v1::WatchAlertsResponse first;
      if (reader->Read(&first)) {
        context.TryCancel();
        (void)reader->Finish();
        return;
      }
      grpc::Status status = reader->Finish();
      ASSERT_EQ(status.error_code(), grpc::UNAVAILABLE) << status.error_message();
      absl::SleepFor(absl::Milliseconds(100));
    }
    FAIL() << "the alert reader never reached the cluster\n" << service_.ReadLog();
  }

  void TearDown() override {
    stub_.reset();
    channel_.reset();
    if (service_.running()) {
      service_.Signal(SIGTERM);
      std::optional<int> code = service_.Wait(absl::Seconds(20));
      EXPECT_TRUE(code.has_value() && *code == 0) << service_.ReadLog();
    }
  }

  int Partition(const std::string& therapist, const std::string& client) const {
    return layout_.PartitionOf(kTenant, therapist, client);
  }
  int SlotOfPartition(int p) const { return KeySlot(layout_.AlertStream(p)); }
  int PrimaryOfPartition(int p) {
    absl::StatusOr<int> node = cluster_.PrimaryOf(SlotOfPartition(p));
    EXPECT_TRUE(node.ok()) << node.status();
    return node.value_or(-1);
  }

  // One therapist per partition (with `client`), in partition order.
  std::vector<std::string> TherapistPerPartition(const std::string& client) const {
    std::vector<std::string> therapists(kClusterPartitions);
    int found = 0;
    for (int i = 0; i < 10000 && found < kClusterPartitions; ++i) {
      std::string t = absl::StrCat("t", i);
      int p = Partition(t, client);
      if (therapists[p].empty()) {
        therapists[p] = t;
        ++found;
      }
    }
    EXPECT_EQ(found, kClusterPartitions);
    return therapists;
  }

  // Runs `commands` on the partition's slot followed by WAIT for one replica, so what the test
  // writes survives a failover (not once a primary was killed: its promoted replica has none).
  void WriteToPartition(int p, std::vector<std::vector<std::string>> commands) {
    commands.push_back({"WAIT", replicated_ ? "1" : "0", "2000"});
    std::vector<CommandArgs> args;
    for (const auto& c : commands) args.emplace_back(c.begin(), c.end());
    auto replies = client_->Exchange(SlotOfPartition(p), args);
    ASSERT_TRUE(replies.ok()) << replies.status();
    for (const RedisReplyPtr& r : *replies) ASSERT_TRUE(ReplyStatus(*r).ok()) << ReplyString(*r);
    if (replicated_) {
      EXPECT_EQ(replies->back()->integer, 1) << "not replicated";
    }
  }

  DyadRecord MakeDyad(const std::string& therapist, const std::string& client) const {
    DyadRecord record;
    record.set_version(1);
    record.set_tenant_id(kTenant);
    record.set_therapist_id(therapist);
    record.set_client_id(client);
    alliance::v1::Dyad* d = record.mutable_picture();
    d->set_tenant_id(kTenant);
    d->set_therapist_id(therapist);
    d->set_client_id(client);
    d->set_ratings_applied(1);
    return record;
  }

  void WriteDyad(const DyadRecord& r) {
    const int p = Partition(r.therapist_id(), r.client_id());
    WriteToPartition(p, {{"SET", layout_.DyadState(p, kTenant, r.therapist_id(), r.client_id()),
                          r.SerializeAsString()},
                         {"ZADD", layout_.DyadIndex(p, kTenant), "0",
                          absl::StrCat(r.therapist_id(), ":", r.client_id())}});
  }

  Alert MakeAlert(const std::string& therapist, const std::string& client,
                  const std::string& id) const {
    Alert a;
    a.set_alert_id(id);
    a.set_tenant_id(kTenant);
    a.set_therapist_id(therapist);
    a.set_client_id(client);
    a.set_rater(alliance::v1::RATER_CLIENT);
    a.set_instrument_id("srs");
    a.set_kind(alliance::v1::ALERT_KIND_RUPTURE);
    a.set_reason(alliance::v1::REASON_RELIABLE_DROP);
    a.set_severity(alliance::v1::SEVERITY_HIGH);
    a.set_session_number(2);
    a.set_episode_id(id);
    *a.mutable_detected_at() = TimeUtil::GetCurrentTime();
    return a;
  }

  // The XADD of an alert entry as the worker writes it (docs/redis-layout.md).
  std::vector<std::string> AlertXadd(const Alert& a) const {
    std::string json;
    EXPECT_TRUE(google::protobuf::util::MessageToJsonString(a, &json).ok());
    const int p = Partition(a.therapist_id(), a.client_id());
    return {"XADD",
            layout_.AlertStream(p),
            "*",
            "v",
            "1",
            "tenant",
            a.tenant_id(),
            "therapist",
            a.therapist_id(),
            "client",
            a.client_id(),
            "alert_id",
            a.alert_id(),
            "kind",
            "rupture",
            "severity",
            "high",
            "alert",
            json};
  }

  void AppendAlert(const Alert& a) {
    WriteToPartition(Partition(a.therapist_id(), a.client_id()), {AlertXadd(a)});
  }

  std::unique_ptr<Reader> Watch(grpc::ClientContext* context, const std::string& cursor) {
    alliance::v1::WatchAlertsRequest request;
    request.set_tenant_id(kTenant);
    request.set_cursor(cursor);
    context->set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(40)));
    std::unique_ptr<Reader> reader = stub_->WatchAlerts(context, request);
    alliance::v1::WatchAlertsResponse first;  // the heartbeat with the starting cursor
    EXPECT_TRUE(reader->Read(&first)) << service_.ReadLog();
    EXPECT_TRUE(first.heartbeat());
    return reader;
  }

  // Reads `n` alerts (heartbeats skipped), counting each id; `cursor` gets the last cursor.
  void ReadAlerts(Reader* reader, size_t n, std::map<std::string, int>* seen, std::string* cursor) {
    size_t got = 0;
    alliance::v1::WatchAlertsResponse message;
    while (got < n && reader->Read(&message)) {
      if (cursor != nullptr) *cursor = message.cursor();
      if (message.heartbeat()) continue;
      ++(*seen)[message.alert().alert_id()];
      ++got;
    }
    ASSERT_EQ(got, n) << "watch stream ended early\n" << service_.ReadLog();
  }

  RedisCluster cluster_;
  std::unique_ptr<ClusterClient> client_;
  KeyLayout layout_{kClusterPartitions};
  ChildProcess service_;
  int grpc_port_ = 0;
  bool replicated_ = true;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<alliance::v1::AllianceInsights::Stub> stub_;
};

grpc::Status ListDyads(alliance::v1::AllianceInsights::Stub* stub, const std::string& token,
                       int page_size, alliance::v1::ListDyadsResponse* out) {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(20)));
  alliance::v1::ListDyadsRequest request;
  request.set_tenant_id(kTenant);
  request.set_page_size(page_size);
  request.set_page_token(token);
  return stub->ListDyads(&context, request, out);
}

grpc::Status ListAlerts(alliance::v1::AllianceInsights::Stub* stub, const std::string& token,
                        int page_size, alliance::v1::ListAlertsResponse* out) {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(20)));
  alliance::v1::ListAlertsRequest request;
  request.set_tenant_id(kTenant);
  request.set_page_size(page_size);
  request.set_page_token(token);
  return stub->ListAlerts(&context, request, out);
}

TEST_F(InsightsClusterTest, DyadsAndAlertsOfEveryPrimaryAreListedPagedAndAcknowledged) {
  // Three dyads per partition, so that every page mixes partitions of different primaries.
  std::set<int> primaries;
  std::vector<std::string> expected_dyads;
  std::vector<std::string> alert_ids;  // oldest first
  for (int c = 0; c < 3; ++c) {
    const std::string client = absl::StrCat("c", c);
    for (const std::string& therapist : TherapistPerPartition(client)) {
      alert_ids.push_back(absl::StrCat("a-", therapist, "-", client));
      Alert alert = MakeAlert(therapist, client, alert_ids.back());
      DyadRecord record = MakeDyad(therapist, client);
      *record.add_alerts() = alert;  // as the worker keeps it: found with the dyad's ids
      WriteDyad(record);
      expected_dyads.push_back(absl::StrCat(therapist, ":", client));
      AppendAlert(alert);
      // Stream ids of different primaries come from their clocks: a millisecond apart, the
      // order of writing is the order of ids.
      absl::SleepFor(absl::Milliseconds(2));
      primaries.insert(PrimaryOfPartition(Partition(therapist, client)));
    }
  }
  ASSERT_GE(primaries.size(), 2u) << "the partitions should spread over the primaries";
  std::sort(expected_dyads.begin(), expected_dyads.end());

  // ListDyads: pages of 5, ordered by member, every dyad once.
  std::vector<std::string> listed;
  std::string token;
  for (int page = 0; page < 20; ++page) {
    alliance::v1::ListDyadsResponse response;
    grpc::Status status = ListDyads(stub_.get(), token, 5, &response);
    ASSERT_TRUE(status.ok()) << status.error_message() << service_.ReadLog();
    for (const auto& d : response.dyads()) {
      listed.push_back(absl::StrCat(d.therapist_id(), ":", d.client_id()));
    }
    token = response.next_page_token();
    if (token.empty()) break;
  }
  EXPECT_EQ(listed, expected_dyads);

  // GetDyad of a dyad in every partition.
  for (const std::string& therapist : TherapistPerPartition("c1")) {
    grpc::ClientContext context;
    alliance::v1::GetDyadRequest request;
    request.set_tenant_id(kTenant);
    request.set_therapist_id(therapist);
    request.set_client_id("c1");
    alliance::v1::GetDyadResponse response;
    grpc::Status status = stub_->GetDyad(&context, request, &response);
    ASSERT_TRUE(status.ok()) << therapist << ": " << status.error_message();
    EXPECT_EQ(response.dyad().therapist_id(), therapist);
  }

  // ListAlerts: newest first across partitions, pages of 4, every alert once.
  std::vector<std::string> alerts_listed;
  token.clear();
  for (int page = 0; page < 20; ++page) {
    alliance::v1::ListAlertsResponse response;
    grpc::Status status = ListAlerts(stub_.get(), token, 4, &response);
    ASSERT_TRUE(status.ok()) << status.error_message() << service_.ReadLog();
    for (const Alert& a : response.alerts()) alerts_listed.push_back(a.alert_id());
    token = response.next_page_token();
    if (token.empty()) break;
  }
  std::vector<std::string> newest_first(alert_ids.rbegin(), alert_ids.rend());
  EXPECT_EQ(alerts_listed, newest_first);

  // Acknowledge then resolve alerts of two partitions on different primaries; the status
  // hashes live outside partitions, in slots of their own.
  std::vector<std::string> therapists = TherapistPerPartition("c2");
  int other = -1;
  for (int p = 1; p < kClusterPartitions; ++p) {
    if (PrimaryOfPartition(p) != PrimaryOfPartition(0)) other = p;
  }
  ASSERT_GE(other, 0);
  for (int p : {0, other}) {
    const std::string id = absl::StrCat("a-", therapists[p], "-c2");
    grpc::ClientContext ack_context;
    alliance::v1::AcknowledgeAlertRequest ack;
    ack.set_tenant_id(kTenant);
    ack.set_alert_id(id);  // no dyad hint: found by walking the alert streams
    ack.set_actor("dr-a");
    alliance::v1::AcknowledgeAlertResponse acked;
    grpc::Status status = stub_->AcknowledgeAlert(&ack_context, ack, &acked);
    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(acked.alert().status(), alliance::v1::ALERT_STATUS_ACKNOWLEDGED);
    EXPECT_EQ(acked.alert().acknowledged_by(), "dr-a");
    // Snoozed on the hash's primary too; the resolve below ends the snooze.
    grpc::ClientContext snooze_context;
    alliance::v1::SnoozeAlertRequest snooze;
    snooze.set_tenant_id(kTenant);
    snooze.set_alert_id(id);
    snooze.set_actor("dr-c");
    snooze.set_reason("after the team meeting");
    snooze.mutable_duration()->set_seconds(3600);
    alliance::v1::SnoozeAlertResponse snoozed;
    status = stub_->SnoozeAlert(&snooze_context, snooze, &snoozed);
    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(snoozed.alert().status(), alliance::v1::ALERT_STATUS_SNOOZED);
    EXPECT_EQ(snoozed.alert().snoozed_by(), "dr-c");
    EXPECT_EQ(snoozed.alert().acknowledged_by(), "dr-a");
    grpc::ClientContext resolve_context;
    alliance::v1::ResolveAlertRequest resolve;
    resolve.set_tenant_id(kTenant);
    resolve.set_alert_id(id);
    resolve.set_actor("dr-b");
    resolve.set_therapist_id(therapists[p]);
    resolve.set_client_id("c2");
    alliance::v1::ResolveAlertResponse resolved;
    status = stub_->ResolveAlert(&resolve_context, resolve, &resolved);
    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(resolved.alert().status(), alliance::v1::ALERT_STATUS_RESOLVED);
    EXPECT_EQ(resolved.alert().acknowledged_by(), "dr-a");
    EXPECT_EQ(resolved.alert().resolved_by(), "dr-b");
  }
  // The listing overlays those statuses.
  grpc::ClientContext context;
  alliance::v1::ListAlertsRequest request;
  request.set_tenant_id(kTenant);
  request.set_status(alliance::v1::ALERT_STATUS_RESOLVED);
  alliance::v1::ListAlertsResponse resolved_list;
  ASSERT_TRUE(stub_->ListAlerts(&context, request, &resolved_list).ok());
  std::set<std::string> resolved_ids;
  for (const Alert& a : resolved_list.alerts()) resolved_ids.insert(a.alert_id());
  EXPECT_EQ(resolved_ids, (std::set<std::string>{absl::StrCat("a-", therapists[0], "-c2"),
                                                 absl::StrCat("a-", therapists[other], "-c2")}));
}

TEST_F(InsightsClusterTest, WatchDeliversEveryPartitionsAlertsOnceAndResumesFromACursor) {
  grpc::ClientContext context;
  std::unique_ptr<Reader> reader = Watch(&context, "");
  std::vector<std::string> therapists = TherapistPerPartition("cw");
  std::set<std::string> written;
  for (int round = 0; round < 2; ++round) {
    for (const std::string& t : therapists) {
      std::string id = absl::StrCat("w", round, "-", t);
      AppendAlert(MakeAlert(t, "cw", id));
      written.insert(id);
    }
  }
  std::map<std::string, int> seen;
  std::string cursor;
  ReadAlerts(reader.get(), written.size(), &seen, &cursor);
  context.TryCancel();
  (void)reader->Finish();
  for (const auto& [id, n] : seen) EXPECT_EQ(n, 1) << id;
  EXPECT_EQ(seen.size(), written.size());

  // Alerts written while nobody watches arrive once on a stream resumed from the cursor.
  std::set<std::string> later;
  for (const std::string& t : therapists) {
    std::string id = absl::StrCat("later-", t);
    AppendAlert(MakeAlert(t, "cw", id));
    later.insert(id);
  }
  grpc::ClientContext resumed_context;
  std::unique_ptr<Reader> resumed = Watch(&resumed_context, cursor);
  std::map<std::string, int> seen_after;
  ReadAlerts(resumed.get(), later.size(), &seen_after, nullptr);
  resumed_context.TryCancel();
  (void)resumed->Finish();
  std::set<std::string> ids;
  for (const auto& [id, n] : seen_after) {
    EXPECT_EQ(n, 1) << id;
    ids.insert(id);
  }
  EXPECT_EQ(ids, later);
}

TEST_F(InsightsClusterTest, DeleteClientDataErasesTheClientOnEveryPrimary) {
  const std::string gone = "c-gone";
  const std::string stays = "c-stays";
  std::vector<std::string> therapists = TherapistPerPartition(gone);
  std::set<int> primaries;
  std::vector<std::string> erased_keys;
  std::vector<std::string> kept_keys;
  for (int p = 0; p < kClusterPartitions; ++p) {
    const std::string& t = therapists[p];
    primaries.insert(PrimaryOfPartition(p));
    // A submission still in the feedback stream, with its idempotency record...
    alliance::v1::Feedback feedback;
    feedback.set_tenant_id(kTenant);
    feedback.set_therapist_id(t);
    feedback.set_client_id(gone);
    feedback.set_idempotency_id(absl::StrCat("idem-", p));
    std::string entry;
    EncodeFeedbackEntry(feedback, absl::StrCat("acc-", p), absl::Now(), &entry);
    const std::string idem = layout_.Idempotency(p, kTenant, absl::StrCat("idem-", p));
    // ...and one whose entry was trimmed long ago: only the dyad's rating names its accepted
    // id, so the record is found by SCAN on the primary that holds it.
    const std::string trimmed = layout_.Idempotency(p, kTenant, absl::StrCat("old-", p));
    DyadRecord record = MakeDyad(t, gone);
    record.add_ratings()->set_rating_id(absl::StrCat("acc-", p));
    record.add_ratings()->set_rating_id(absl::StrCat("acc-old-", p));
    *record.add_alerts() = MakeAlert(t, gone, absl::StrCat("ag-", p));
    WriteToPartition(
        p, {{"XADD", layout_.FeedbackStream(p), "*", "v", "1", "tenant", kTenant, "accepted_id",
             absl::StrCat("acc-", p), "entry", entry},
            {"SET", idem, IdempotencyRecord{"h", "1-1", absl::StrCat("acc-", p)}.Encode()},
            {"SET", trimmed, IdempotencyRecord{"h", "1-2", absl::StrCat("acc-old-", p)}.Encode()}});
    WriteDyad(record);
    AppendAlert(MakeAlert(t, gone, absl::StrCat("ag-", p)));
    erased_keys.insert(erased_keys.end(), {idem, trimmed, layout_.DyadState(p, kTenant, t, gone)});
    // Another client of the same therapist stays.
    WriteDyad(MakeDyad(t, stays));
    AppendAlert(MakeAlert(t, stays, absl::StrCat("as-", p)));
    kept_keys.push_back(layout_.DyadState(Partition(t, stays), kTenant, t, stays));
  }
  ASSERT_GE(primaries.size(), 2u);
  // A workflow status on one of the erased alerts (a key in a slot of its own).
  {
    grpc::ClientContext context;
    alliance::v1::AcknowledgeAlertRequest ack;
    ack.set_tenant_id(kTenant);
    ack.set_alert_id("ag-3");
    ack.set_actor("dr-a");
    ack.set_therapist_id(therapists[3]);
    ack.set_client_id(gone);
    alliance::v1::AcknowledgeAlertResponse acked;
    grpc::Status status = stub_->AcknowledgeAlert(&context, ack, &acked);
    ASSERT_TRUE(status.ok()) << status.error_message();
    erased_keys.push_back(layout_.AlertStatus(kTenant, "ag-3"));
  }

  grpc::ClientContext context;
  alliance::v1::DeleteClientDataRequest request;
  request.set_tenant_id(kTenant);
  request.set_client_id(gone);
  alliance::v1::DeleteClientDataResponse removed;
  grpc::Status status = stub_->DeleteClientData(&context, request, &removed);
  ASSERT_TRUE(status.ok()) << status.error_message() << service_.ReadLog();
  EXPECT_EQ(removed.feedback_entries(), kClusterPartitions);
  EXPECT_EQ(removed.dyad_states(), kClusterPartitions);
  EXPECT_EQ(removed.dyad_index_entries(), kClusterPartitions);
  EXPECT_EQ(removed.alert_entries(), kClusterPartitions);
  EXPECT_EQ(removed.alert_statuses(), 1);
  EXPECT_EQ(removed.idempotency_records(), 2 * kClusterPartitions);
  for (const std::string& key : erased_keys) {
    auto exists = client_->Command(KeySlot(key), {"EXISTS", key});
    ASSERT_TRUE(exists.ok());
    EXPECT_EQ((*exists)->integer, 0) << key;
  }
  for (const std::string& key : kept_keys) {
    auto exists = client_->Command(KeySlot(key), {"EXISTS", key});
    ASSERT_TRUE(exists.ok());
    EXPECT_EQ((*exists)->integer, 1) << key;
  }
  // The other client's alerts are all still listed; a second erasure finds nothing.
  alliance::v1::ListAlertsResponse alerts;
  ASSERT_TRUE(ListAlerts(stub_.get(), "", 100, &alerts).ok());
  EXPECT_EQ(alerts.alerts_size(), kClusterPartitions);
  for (const Alert& a : alerts.alerts()) EXPECT_EQ(a.client_id(), stays);
  grpc::ClientContext again_context;
  alliance::v1::DeleteClientDataResponse again;
  ASSERT_TRUE(stub_->DeleteClientData(&again_context, request, &again).ok());
  EXPECT_EQ(again.ByteSizeLong(), 0u) << again.DebugString();
}

TEST_F(InsightsClusterTest, AKilledPrimaryIsUnavailableBrieflyAndTheWatchMissesNothing) {
  std::vector<std::string> therapists = TherapistPerPartition("cf");
  for (const std::string& t : therapists) WriteDyad(MakeDyad(t, "cf"));
  grpc::ClientContext watch_context;
  std::unique_ptr<Reader> reader = Watch(&watch_context, "");
  std::set<std::string> written;
  auto write_round = [&](const std::string& round, const std::vector<int>& partitions) {
    for (int p : partitions) {
      std::string id = absl::StrCat(round, "-", therapists[p]);
      AppendAlert(MakeAlert(therapists[p], "cf", id));
      written.insert(id);
    }
  };
  std::vector<int> all;
  for (int p = 0; p < kClusterPartitions; ++p) all.push_back(p);
  write_round("before", all);
  std::map<std::string, int> seen;
  std::string cursor;
  ReadAlerts(reader.get(), written.size(), &seen, &cursor);

  // Kill the primary of partition 0; alerts keep coming on the other primaries meanwhile.
  const int victim = PrimaryOfPartition(0);
  std::vector<int> elsewhere;
  for (int p = 0; p < kClusterPartitions; ++p) {
    if (PrimaryOfPartition(p) != victim) elsewhere.push_back(p);
  }
  ASSERT_FALSE(elsewhere.empty());
  cluster_.Kill(victim);
  replicated_ = false;
  const absl::Time killed_at = absl::Now();
  write_round("during", elsewhere);

  // Calls that need the victim's partitions (one dyad there; the listing of every partition)
  // answer UNAVAILABLE, each within a bound, until the replica has taken over; nothing else.
  int unavailable = 0;
  bool recovered = false;
  absl::Duration longest;
  for (int i = 0; i < 200 && !recovered; ++i) {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
    alliance::v1::GetDyadRequest request;
    request.set_tenant_id(kTenant);
    request.set_therapist_id(therapists[0]);
    request.set_client_id("cf");
    alliance::v1::GetDyadResponse response;
    absl::Time start = absl::Now();
    grpc::Status status = stub_->GetDyad(&context, request, &response);
    longest = std::max(longest, absl::Now() - start);
    alliance::v1::ListDyadsResponse listed;
    start = absl::Now();
    grpc::Status list_status = ListDyads(stub_.get(), "", 50, &listed);
    longest = std::max(longest, absl::Now() - start);
    if (status.ok() && list_status.ok()) {
      recovered = true;
      EXPECT_EQ(listed.dyads_size(), kClusterPartitions);
      continue;
    }
    for (const grpc::Status& s : {status, list_status}) {
      if (s.ok()) continue;
      ASSERT_EQ(s.error_code(), grpc::UNAVAILABLE) << s.error_message();
      ++unavailable;
    }
    absl::SleepFor(absl::Milliseconds(100));
  }
  ASSERT_TRUE(recovered) << service_.ReadLog();
  // The cluster client's own bound (call timeout 5 s, retries) plus the queue: no call hangs.
  EXPECT_LT(longest, absl::Seconds(10));
  std::printf(
      "failover: GetDyad and ListDyads answered again %.2f s after the kill (%d UNAVAILABLE, "
      "longest call %.2f s)\n",
      absl::ToDoubleSeconds(absl::Now() - killed_at), unavailable, absl::ToDoubleSeconds(longest));
  ASSERT_TRUE(cluster_.WaitHealthy().ok());

  // After the failover: every partition again, the promoted replica's too.
  write_round("after", all);
  ReadAlerts(reader.get(), written.size() - seen.size(), &seen, &cursor);
  watch_context.TryCancel();
  (void)reader->Finish();
  for (const auto& [id, n] : seen) EXPECT_EQ(n, 1) << id << " repeated";
  std::set<std::string> ids;
  for (const auto& [id, n] : seen) ids.insert(id);
  EXPECT_EQ(ids, written);

  // A stream resumed from the last cursor gets only what came after it, once.
  write_round("resumed", all);
  grpc::ClientContext resumed_context;
  std::unique_ptr<Reader> resumed = Watch(&resumed_context, cursor);
  std::map<std::string, int> seen_after;
  ReadAlerts(resumed.get(), kClusterPartitions, &seen_after, nullptr);
  resumed_context.TryCancel();
  (void)resumed->Finish();
  for (const auto& [id, n] : seen_after) {
    EXPECT_EQ(n, 1) << id;
    EXPECT_EQ(id.rfind("resumed-", 0), 0u) << id;
  }
}

}  // namespace
}  // namespace alliance::testing
