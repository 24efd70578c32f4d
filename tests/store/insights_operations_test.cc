// The typed operations insights runs on Redis (store/dyad_reads.h, store/alert_reads.h,
// store/alert_status_reads.h, store/alert_writes.h, store/alert_watch_reads.h,
// store/client_erasure.h) against a real redis-server: what each returns, paging and merge
// order across partitions, and an error reply in the middle of a pipeline (the call fails with
// it and the connection stays in step). Replies of a type Redis would not send come from a
// fake node (tests/store/fake_redis_node.h): each operation reports them as INTERNAL errors.
#include <google/protobuf/util/json_util.h>

#include <span>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "store/alert_reads.h"
#include "store/alert_status_reads.h"
#include "store/alert_watch_reads.h"
#include "store/alert_writes.h"
#include "store/client_erasure.h"
#include "store/dyad_reads.h"
#include "store/feedback_entry.h"
#include "store/redis_executor.h"
#include "tests/store/fake_redis_node.h"
#include "tests/support/redis_test.h"

namespace alliance {
namespace {

using alliance::internal::v1::DyadRecord;

constexpr int kPartitions = 4;

DyadListing Listing(const std::string& tenant, int page_size = 50) {
  DyadListing listing;
  listing.tenant = tenant;
  listing.page_size = page_size;
  return listing;
}

class StoreOperationsTest : public testing::RedisTest {
 protected:
  void Run(const CommandArgs& args) {
    absl::StatusOr<RedisReplyPtr> reply = redis_->Command(args);
    ASSERT_TRUE(reply.ok()) << reply.status();
    ASSERT_TRUE(ReplyStatus(**reply).ok()) << ReplyString(**reply);
  }

  // A dyad of `tenant` written as the worker does: head, and the member in its partition's
  // index of `index_tenant` (the tenant itself unless a test says otherwise).
  void PutDyad(const std::string& tenant, const std::string& therapist, const std::string& client,
               bool at_risk = false) {
    const int p = layout_.PartitionOf(tenant, therapist, client);
    DyadRecord head;
    head.set_version(1);
    head.set_tenant_id(tenant);
    head.mutable_picture()->set_therapist_id(therapist);
    head.mutable_picture()->set_client_id(client);
    head.mutable_picture()->set_at_risk(at_risk);
    Run({"SET", layout_.DyadState(p, tenant, therapist, client), head.SerializeAsString()});
    Run({"ZADD", layout_.DyadIndex(p, tenant), "0", therapist + ":" + client});
  }

  // An alert entry (docs/redis-layout.md) with an explicit stream id.
  void PutAlert(int partition, const std::string& id, const std::string& alert_id,
                const std::string& client = "cl", const std::string& tenant = "ten") {
    alliance::v1::Alert alert;
    alert.set_alert_id(alert_id);
    alert.set_tenant_id(tenant);
    alert.set_therapist_id("th");
    alert.set_client_id(client);
    std::string json;
    ASSERT_TRUE(google::protobuf::util::MessageToJsonString(alert, &json).ok());
    Run({"XADD", layout_.AlertStream(partition), id, "v", "1", "tenant", tenant, "therapist", "th",
         "client", client, "alert_id", alert_id, "kind", "rupture", "severity", "warning", "alert",
         json});
  }

  // The connection answers the next command with its own reply: nothing was left unread.
  void ExpectInStep() {
    EXPECT_EQ(redis_->pending_replies(), 0u);
    absl::StatusOr<RedisReplyPtr> pong = redis_->Command({"PING"});
    ASSERT_TRUE(pong.ok()) << pong.status();
    EXPECT_EQ(ReplyString(**pong), "PONG");
  }

  KeyLayout layout_{kPartitions};
  ConnectionExecutor executor() { return ConnectionExecutor(*redis_); }
};

TEST_F(StoreOperationsTest, DyadListingPagesInMemberOrderAcrossPartitions) {
  std::vector<std::string> members;
  for (int t = 0; t < 3; ++t) {
    for (int c = 0; c < 4; ++c) {
      const std::string therapist = "th" + std::to_string(t);
      const std::string client = "cl" + std::to_string(c);
      PutDyad("ten", therapist, client, /*at_risk=*/c % 2 == 1);
      members.push_back(therapist + ":" + client);
    }
  }
  PutDyad("other", "th0", "cl9");
  // Indexed but without a head (the worker's write not there yet): skipped.
  Run({"ZADD", layout_.DyadIndex(0, "ten"), "0", "th1:zz"});
  ConnectionExecutor redis = executor();

  std::vector<std::string> listed;
  DyadListing listing = Listing("ten", 5);
  for (int page = 0; page < 10; ++page) {
    absl::StatusOr<DyadPage> got = ListTenantDyads(redis, layout_, listing);
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_LE(got->dyads.size(), 5u);
    for (const alliance::v1::Dyad& d : got->dyads) {
      listed.push_back(d.therapist_id() + ":" + d.client_id());
    }
    if (!got->resume_after) break;
    listing.after = *got->resume_after;
  }
  EXPECT_EQ(listed, members);  // inserted in sorted order, every tenant dyad once

  DyadListing at_risk = Listing("ten");
  at_risk.therapist = "th2";
  at_risk.at_risk_only = true;
  absl::StatusOr<DyadPage> risky = ListTenantDyads(redis, layout_, at_risk);
  ASSERT_TRUE(risky.ok()) << risky.status();
  ASSERT_EQ(risky->dyads.size(), 2u);
  EXPECT_EQ(risky->dyads[0].client_id(), "cl1");
  EXPECT_EQ(risky->dyads[1].client_id(), "cl3");
  EXPECT_FALSE(risky->resume_after.has_value());
}

TEST_F(StoreOperationsTest, TenantDyadIsNotFoundForAnotherTenant) {
  PutDyad("ten", "th", "cl");
  ConnectionExecutor redis = executor();
  absl::StatusOr<DyadRecord> mine = ReadTenantDyad(redis, layout_, "ten", "th", "cl");
  ASSERT_TRUE(mine.ok()) << mine.status();
  EXPECT_EQ(mine->picture().client_id(), "cl");
  EXPECT_EQ(ReadTenantDyad(redis, layout_, "ten", "th", "nobody").status().code(),
            absl::StatusCode::kNotFound);
  // The same ids under another tenant hash elsewhere; a record naming another tenant under
  // this tenant's key is not served either.
  const int p = layout_.PartitionOf("t2", "th", "cl");
  DyadRecord foreign;
  foreign.set_tenant_id("ten");
  Run({"SET", layout_.DyadState(p, "t2", "th", "cl"), foreign.SerializeAsString()});
  EXPECT_EQ(ReadTenantDyad(redis, layout_, "t2", "th", "cl").status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(StoreOperationsTest, AlertsComeNewestFirstAcrossPartitionsAndResumeFromTheWalk) {
  PutAlert(0, "1000-0", "a");
  PutAlert(1, "1500-0", "b");
  PutAlert(0, "2000-0", "c");
  PutAlert(3, "2500-0", "d");
  PutAlert(1, "3000-0", "e");
  ConnectionExecutor redis = executor();

  NewestAlertsFirst first(redis, layout_, {}, /*parse_bodies=*/true);
  std::vector<std::string> ids;
  for (int i = 0; i < 2; ++i) {
    absl::StatusOr<std::unique_ptr<AlertEntry>> next = first.Next();
    ASSERT_TRUE(next.ok()) << next.status();
    ASSERT_NE(*next, nullptr);
    ASSERT_NE((*next)->alert, nullptr);
    ids.push_back((*next)->alert->alert_id());
  }
  NewestAlertsFirst rest(redis, layout_, first.walk(), /*parse_bodies=*/false);
  while (true) {
    absl::StatusOr<std::unique_ptr<AlertEntry>> next = rest.Next();
    ASSERT_TRUE(next.ok()) << next.status();
    if (*next == nullptr) break;
    EXPECT_EQ((*next)->alert, nullptr);  // bodies left for ParseAlertBody
    ids.push_back((*next)->alert_id);
  }
  EXPECT_EQ(ids, (std::vector<std::string>{"e", "d", "c", "b", "a"}));
  // Resuming from the end finds nothing more.
  NewestAlertsFirst after_end(redis, layout_, rest.walk(), /*parse_bodies=*/false);
  absl::StatusOr<std::unique_ptr<AlertEntry>> none = after_end.Next();
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_EQ(*none, nullptr);
}

TEST_F(StoreOperationsTest, AlertRangesComeOldestFirstAndSayWhichPartitionsFinished) {
  PutAlert(0, "1000-0", "a");
  PutAlert(0, "2000-0", "b");
  PutAlert(0, "3000-0", "c");
  PutAlert(2, "1500-0", "x");
  ConnectionExecutor redis = executor();
  const AlertRange ranges[] = {{0, StreamId{1000, 0}, StreamId{9000, 0}},
                               {2, StreamId{0, 0}, StreamId{9000, 0}}};
  absl::StatusOr<AlertRangeEntries> read = ReadAlertRanges(redis, layout_, ranges, 2);
  ASSERT_TRUE(read.ok()) << read.status();
  std::vector<std::string> ids;
  for (const auto& entry : read->entries) ids.push_back(entry->alert_id);
  EXPECT_EQ(ids, (std::vector<std::string>{"x", "b", "c"}));  // by stream id
  EXPECT_EQ(read->finished, (std::vector<int>{2}));           // partition 0 had two: maybe more
}

TEST_F(StoreOperationsTest, AcknowledgeThenResolveKeepsBothStepsAndIsIdempotent) {
  ConnectionExecutor redis = executor();
  alliance::v1::Alert alert;
  alert.set_alert_id("a1");
  std::vector<alliance::v1::Alert*> one = {&alert};
  ASSERT_TRUE(ReadAlertStatuses(redis, layout_, "ten", one).ok());
  EXPECT_EQ(alert.status(), alliance::v1::ALERT_STATUS_OPEN);

  ASSERT_TRUE(
      ChangeAlertStatus(redis, layout_, "ten", "ann", AlertStatusChange::kAcknowledge, &alert)
          .ok());
  EXPECT_EQ(alert.status(), alliance::v1::ALERT_STATUS_ACKNOWLEDGED);
  EXPECT_EQ(alert.acknowledged_by(), "ann");
  ASSERT_TRUE(
      ChangeAlertStatus(redis, layout_, "ten", "bob", AlertStatusChange::kAcknowledge, &alert)
          .ok());
  EXPECT_EQ(alert.acknowledged_by(), "ann");  // the first call's who stays
  ASSERT_TRUE(
      ChangeAlertStatus(redis, layout_, "ten", "cat", AlertStatusChange::kResolve, &alert).ok());

  alliance::v1::Alert reread;
  reread.set_alert_id("a1");
  std::vector<alliance::v1::Alert*> again = {&reread};
  ASSERT_TRUE(ReadAlertStatuses(redis, layout_, "ten", again).ok());
  EXPECT_EQ(reread.status(), alliance::v1::ALERT_STATUS_RESOLVED);
  EXPECT_EQ(reread.acknowledged_by(), "ann");
  EXPECT_EQ(reread.resolved_by(), "cat");
  EXPECT_GT(reread.resolved_at().seconds(), 0);
  // Another tenant's alert of the same id has no status.
  alliance::v1::Alert foreign;
  foreign.set_alert_id("a1");
  std::vector<alliance::v1::Alert*> other = {&foreign};
  ASSERT_TRUE(ReadAlertStatuses(redis, layout_, "t2", other).ok());
  EXPECT_EQ(foreign.status(), alliance::v1::ALERT_STATUS_OPEN);
}

TEST_F(StoreOperationsTest, WatchReadsStartAtTheEndsAndReturnWhatCameAfter) {
  PutAlert(1, "1000-0", "old");
  ConnectionExecutor redis = executor();
  absl::StatusOr<AlertStreamEnds> ends = ReadAlertStreamEnds(redis, layout_);
  ASSERT_TRUE(ends.ok()) << ends.status();
  EXPECT_EQ(ends->newest, (Positions{{}, StreamId{1000, 0}, {}, {}}));
  EXPECT_GT(ends->clock.ms, 0u);

  // Nothing new: the (short) block ends with no entry, and the clock reading covers it.
  const NewAlertsOptions options{.count = 10, .block = absl::Milliseconds(10)};
  absl::StatusOr<NewAlerts> idle = ReadNewAlerts(redis, layout_, ends->newest, options);
  ASSERT_TRUE(idle.ok()) << idle.status();
  EXPECT_TRUE(idle->entries.empty());
  ASSERT_TRUE(idle->covered.has_value());
  EXPECT_GE(idle->covered->ms, ends->clock.ms);

  PutAlert(3, "5000-0", "new3");
  PutAlert(1, "6000-0", "new1");
  absl::StatusOr<NewAlerts> fresh = ReadNewAlerts(redis, layout_, ends->newest, options);
  ASSERT_TRUE(fresh.ok()) << fresh.status();
  ASSERT_EQ(fresh->entries.size(), 2u);
  EXPECT_EQ(fresh->entries[0]->alert_id, "new3");  // ordered by stream id
  EXPECT_EQ(fresh->entries[1]->alert_id, "new1");
  ASSERT_NE(fresh->entries[1]->alert, nullptr);  // bodies parsed for the fan-out
  EXPECT_EQ(fresh->entries[1]->partition, 1);
  EXPECT_TRUE(fresh->partial_failure.ok());

  // COUNT reached: more may wait, so the read does not cover the clock.
  const NewAlertsOptions one{.count = 1, .block = absl::Milliseconds(10)};
  absl::StatusOr<NewAlerts> capped = ReadNewAlerts(redis, layout_, ends->newest, one);
  ASSERT_TRUE(capped.ok()) << capped.status();
  EXPECT_FALSE(capped->covered.has_value());
}

// The cluster mode's reads without a cluster client's map: one exchange per partition (what a
// partition the per-primary pipeline could not read gets). Here over one real Redis that says
// it is a cluster.
class ExchangeOnlyCluster final : public RedisExecutor {
 public:
  explicit ExchangeOnlyCluster(RedisConnection& redis) : inner_(redis) {}
  bool cluster() const override { return true; }
  int SlotOf(std::string_view) const override { return 0; }
  absl::StatusOr<std::vector<RedisReplyPtr>> Exchange(
      int slot, std::span<const CommandArgs> commands) override {
    return inner_.Exchange(slot, commands);
  }
  absl::StatusOr<std::vector<RedisReplyPtr>> Pipeline(
      std::span<const SlotCommand> commands) override {
    return inner_.Pipeline(commands);
  }
  absl::Status ForEachPrimary(absl::FunctionRef<absl::Status(RedisConnection&)> fn) override {
    return inner_.ForEachPrimary(fn);
  }

 private:
  ConnectionExecutor inner_;
};

TEST_F(StoreOperationsTest, ClusterWatchReadsGoOnPastAPartitionThatFails) {
  PutAlert(0, "1000-0", "p0-old");
  ExchangeOnlyCluster redis(*redis_);
  absl::StatusOr<AlertStreamEnds> ends = ReadAlertStreamEnds(redis, layout_);
  ASSERT_TRUE(ends.ok()) << ends.status();
  EXPECT_EQ(ends->newest[0], (StreamId{1000, 0}));
  EXPECT_GT(ends->clock.ms, 0u);

  PutAlert(0, "2000-0", "p0-new");
  PutAlert(3, "3000-0", "p3-new");
  Run({"SET", layout_.AlertStream(2), "not a stream"});
  absl::StatusOr<NewAlerts> read = ReadNewAlerts(redis, layout_, ends->newest, {});
  ASSERT_TRUE(read.ok()) << read.status();
  ASSERT_EQ(read->entries.size(), 2u);  // the partitions that answered
  EXPECT_EQ(read->entries[0]->alert_id, "p0-new");
  EXPECT_EQ(read->entries[1]->alert_id, "p3-new");
  EXPECT_EQ(read->partial_failure.code(), absl::StatusCode::kInternal);
  EXPECT_NE(read->partial_failure.message().find("WRONGTYPE"), absl::string_view::npos);
  EXPECT_FALSE(read->covered.has_value());  // partition 2 was not read
  ExpectInStep();

  Run({"DEL", layout_.AlertStream(2)});
  absl::StatusOr<NewAlerts> whole = ReadNewAlerts(redis, layout_, ends->newest, {});
  ASSERT_TRUE(whole.ok()) << whole.status();
  EXPECT_TRUE(whole->partial_failure.ok());
  EXPECT_TRUE(whole->covered.has_value());
}

TEST_F(StoreOperationsTest, ErasureRemovesOneClientEverywhereAndThenNothing) {
  const int p = layout_.PartitionOf("ten", "th", "gone");
  alliance::v1::Feedback feedback;
  feedback.set_tenant_id("ten");
  feedback.set_idempotency_id("idem-1");
  feedback.set_therapist_id("th");
  feedback.set_client_id("gone");
  std::string entry;
  EncodeFeedbackEntry(feedback, "acc-1", absl::Now(), &entry);
  Run({"XADD", layout_.FeedbackStream(p), "*", "v", "1", "tenant", "ten", "accepted_id", "acc-1",
       "entry", entry});
  Run({"SET", layout_.Idempotency(p, "ten", "idem-1"), "hash|1-0|acc-1"});
  PutDyad("ten", "th", "gone");
  PutDyad("ten", "th", "stays");
  PutAlert(p, "*", "alert-gone", "gone");
  PutAlert(p, "*", "alert-stays", "stays");
  Run({"HSET", layout_.AlertStatus("ten", "alert-gone"), "status", "acknowledged"});
  ConnectionExecutor redis = executor();

  absl::StatusOr<ErasedClientData> erased = EraseClientData(redis, layout_, "ten", "gone");
  ASSERT_TRUE(erased.ok()) << erased.status();
  EXPECT_EQ(erased->feedback_entries, 1);
  EXPECT_EQ(erased->dead_letters, 0);
  EXPECT_EQ(erased->dyad_states, 1);
  EXPECT_EQ(erased->dyad_index_entries, 1);
  EXPECT_EQ(erased->alert_entries, 1);
  EXPECT_EQ(erased->alert_statuses, 1);
  EXPECT_EQ(erased->idempotency_records, 1);
  EXPECT_EQ(ReadTenantDyad(redis, layout_, "ten", "th", "gone").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_TRUE(ReadTenantDyad(redis, layout_, "ten", "th", "stays").ok());
  NewestAlertsFirst alerts(redis, layout_, {}, /*parse_bodies=*/false);
  absl::StatusOr<std::unique_ptr<AlertEntry>> left = alerts.Next();
  ASSERT_TRUE(left.ok() && *left != nullptr);
  EXPECT_EQ((*left)->alert_id, "alert-stays");

  absl::StatusOr<ErasedClientData> again = EraseClientData(redis, layout_, "ten", "gone");
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->feedback_entries + again->dyad_states + again->dyad_index_entries +
                again->alert_entries + again->alert_statuses + again->idempotency_records,
            0);
  ExpectInStep();
}

// A key of the wrong type in one partition makes Redis answer that partition's command with an
// error reply while the others succeed: the operation returns that error, having read every
// reply, so the next command on the connection gets its own reply.
TEST_F(StoreOperationsTest, AnErrorReplyMidPipelineFailsTheCallAndLeavesTheConnectionInStep) {
  PutAlert(0, "1000-0", "a");
  PutAlert(3, "2000-0", "b");
  Run({"SET", layout_.AlertStream(1), "not a stream"});
  Run({"SET", layout_.DyadIndex(2, "ten"), "not a sorted set"});
  Run({"SET", layout_.AlertStatus("ten", "middle"), "not a hash"});
  ConnectionExecutor redis = executor();

  NewestAlertsFirst alerts(redis, layout_, {}, /*parse_bodies=*/true);
  absl::StatusOr<std::unique_ptr<AlertEntry>> next = alerts.Next();
  EXPECT_EQ(next.status().code(), absl::StatusCode::kInternal);
  EXPECT_NE(next.status().message().find("WRONGTYPE"), absl::string_view::npos) << next.status();
  ExpectInStep();

  const AlertRange ranges[] = {{0, StreamId{}, StreamId{9000, 0}},
                               {1, StreamId{}, StreamId{9000, 0}},
                               {3, StreamId{}, StreamId{9000, 0}}};
  EXPECT_EQ(ReadAlertRanges(redis, layout_, ranges, 10).status().code(),
            absl::StatusCode::kInternal);
  ExpectInStep();

  EXPECT_EQ(ReadAlertStreamEnds(redis, layout_).status().code(), absl::StatusCode::kInternal);
  ExpectInStep();

  EXPECT_EQ(ListTenantDyads(redis, layout_, Listing("ten")).status().code(),
            absl::StatusCode::kInternal);
  ExpectInStep();

  alliance::v1::Alert first, middle, last;
  first.set_alert_id("first");
  middle.set_alert_id("middle");
  last.set_alert_id("last");
  std::vector<alliance::v1::Alert*> three = {&first, &middle, &last};
  absl::Status overlay = ReadAlertStatuses(redis, layout_, "ten", three);
  EXPECT_EQ(overlay.code(), absl::StatusCode::kInternal);
  EXPECT_EQ(first.status(), alliance::v1::ALERT_STATUS_UNSPECIFIED);  // nothing half-applied
  ExpectInStep();
}

// Replies Redis itself would not send (a fake node answers them): each operation says which
// reply it did not expect instead of reading past the end of one, and reads every reply.
TEST(StoreOperationsWrongTypes, RepliesOfAnUnexpectedTypeAreInternalErrors) {
  testing::FakeRedisNode node([](const std::vector<std::string>& args) -> std::string {
    const std::string& command = args[0];
    if (command == "PING") return "+PONG\r\n";
    if (command == "TIME") return ":12\r\n";         // not [seconds, microseconds]
    if (command == "ZRANGE") return "*1\r\n:7\r\n";  // a member that is not a string
    if (command == "HGETALL") return "+OK\r\n";      // not a hash
    if (command == "EVAL") return ":1\r\n";          // not the hash after the change
    if (command == "XRANGE") return ":1\r\n";        // not a list of entries
    if (command == "XREVRANGE") return "$3\r\nabc\r\n";
    if (command == "XREAD") return "+OK\r\n";
    if (command == "MGET") return ":2\r\n";
    return "-ERR unexpected command\r\n";
  });
  RedisEndpoint endpoint;
  endpoint.port = node.port();
  absl::StatusOr<std::unique_ptr<RedisConnection>> connection = RedisConnection::Connect(endpoint);
  ASSERT_TRUE(connection.ok()) << connection.status();
  ConnectionExecutor redis(**connection);
  const KeyLayout layout(kPartitions);
  auto expect_internal = [&](const absl::Status& status, const char* says) {
    EXPECT_EQ(status.code(), absl::StatusCode::kInternal) << status;
    EXPECT_NE(status.message().find(says), absl::string_view::npos) << status;
    EXPECT_EQ((*connection)->pending_replies(), 0u);
    absl::StatusOr<RedisReplyPtr> pong = (*connection)->Command({"PING"});
    ASSERT_TRUE(pong.ok()) << pong.status();
    EXPECT_EQ(ReplyString(**pong), "PONG");
  };

  expect_internal(ListTenantDyads(redis, layout, Listing("ten")).status(), "ZRANGE member");
  expect_internal(ReadDyad(redis, layout, 0, "ten", "th", "cl").status(), "MGET");
  NewestAlertsFirst alerts(redis, layout, {}, /*parse_bodies=*/true);
  expect_internal(alerts.Next().status(), "XREVRANGE");
  const AlertRange range[] = {{0, StreamId{}, StreamId{9, 0}}};
  expect_internal(ReadAlertRanges(redis, layout, range, 5).status(), "XRANGE");
  alliance::v1::Alert alert;
  alert.set_alert_id("a1");
  std::vector<alliance::v1::Alert*> one = {&alert};
  expect_internal(ReadAlertStatuses(redis, layout, "ten", one), "not a hash");
  expect_internal(
      ChangeAlertStatus(redis, layout, "ten", "ann", AlertStatusChange::kResolve, &alert),
      "not a hash");
  expect_internal(ReadAlertStreamEnds(redis, layout).status(), "TIME");
  expect_internal(ReadNewAlerts(redis, layout, Positions(kPartitions)).status(), "XREAD");
  expect_internal(EraseClientData(redis, layout, "ten", "cl").status(), "XRANGE");
}

}  // namespace
}  // namespace alliance
