// The store's typed operations for intake and the worker (store/feedback_append.h,
// partition_lease.h, feedback_reads.h, batch_apply.h, fenced_writes.h, dead_letters.h,
// dyad_record_batch.h, stream_maintenance.h, windowed_pipeline.h) against a real redis-server:
// replies decoded into domain values, an error reply in the middle of a pipeline leaving the
// connection in step, and replies of the wrong type giving a clear error.
#include <optional>
#include <string>
#include <vector>

#include "alliance/internal/v1/records.pb.h"
#include "gtest/gtest.h"
#include "store/batch_apply.h"
#include "store/dead_letters.h"
#include "store/dyad_record_batch.h"
#include "store/feedback_append.h"
#include "store/feedback_reads.h"
#include "store/fenced_writes.h"
#include "store/partition_lease.h"
#include "store/stream_maintenance.h"
#include "store/windowed_pipeline.h"
#include "tests/support/redis_test.h"

namespace alliance {
namespace {

class OperationsTest : public testing::RedisTest {
 protected:
  void SetUp() override {
    RedisTest::SetUp();
    if (HasFatalFailure()) return;
    executor_.emplace(*redis_);
    ASSERT_TRUE(scripts_.Load(*redis_).ok());
  }

  FeedbackSubmission Submission(int partition, std::string id, std::string hash) const {
    FeedbackSubmission s;
    s.idempotency_key = layout_.Idempotency(partition, "t1", id);
    s.stream_key = layout_.FeedbackStream(partition);
    s.content_hash = std::move(hash);
    s.accepted_id = "acc-" + id;
    s.tenant_id = "t1";
    s.entry = "bytes-" + id;
    return s;
  }

  // The connection answers the next command with its own reply: nothing was left unread.
  void ExpectInStep() {
    EXPECT_EQ(redis_->pending_replies(), 0u);
    absl::StatusOr<RedisReplyPtr> pong = redis_->Command({"PING"});
    ASSERT_TRUE(pong.ok()) << pong.status();
    EXPECT_EQ(ReplyString(**pong), "PONG");
  }

  // Takes partition `p`'s lease for `worker`.
  void Own(int p, std::string_view worker) {
    absl::StatusOr<LeaseKeep> kept =
        KeepLease(*executor_, scripts_, layout_, {worker, absl::Seconds(30)}, p);
    ASSERT_TRUE(kept.ok()) << kept.status();
    ASSERT_NE(*kept, LeaseKeep::kHeldByAnother);
  }

  // Appends `n` submissions to partition `p` and returns their stream ids.
  std::vector<std::string> Append(int p, int n) {
    FeedbackAppender appender(absl::Hours(1), 0, absl::Seconds(1));
    EXPECT_TRUE(appender.LoadScript(*redis_).ok());
    std::vector<FeedbackSubmission> subs;
    for (int i = 0; i < n; ++i) subs.push_back(Submission(p, "id" + std::to_string(i), "h"));
    std::vector<const FeedbackSubmission*> ptrs;
    for (const FeedbackSubmission& s : subs) ptrs.push_back(&s);
    std::vector<std::span<const FeedbackSubmission* const>> groups = {ptrs};
    AppendRound round = appender.AppendPipelined(*redis_, groups);
    EXPECT_TRUE(round.transport.ok());
    std::vector<std::string> ids;
    for (const AppendResult& r : round.calls.at(0).results) ids.push_back(r.stream_id);
    return ids;
  }

  KeyLayout layout_{4};
  std::optional<ConnectionExecutor> executor_;
  ScriptShas scripts_;
};

TEST_F(OperationsTest, AppendDecodesOutcomesPerSubmissionAndPartition) {
  FeedbackAppender appender(absl::Hours(1), 0, absl::Seconds(1));
  ASSERT_TRUE(appender.LoadScript(*redis_).ok());
  FeedbackSubmission a = Submission(0, "a", "h1"), b = Submission(0, "b", "h2"),
                     c = Submission(1, "c", "h3");
  std::vector<const FeedbackSubmission*> p0 = {&a, &b}, p1 = {&c};
  std::vector<std::span<const FeedbackSubmission* const>> groups = {p0, p1};
  AppendRound first = appender.AppendPipelined(*redis_, groups);
  ASSERT_TRUE(first.transport.ok()) << first.transport;
  ASSERT_EQ(first.answered, 2u);
  ASSERT_EQ(first.calls[0].kind, AppendCallReply::Kind::kAnswered);
  ASSERT_EQ(first.calls[0].results.size(), 2u);
  EXPECT_EQ(first.calls[0].results[0].outcome, AppendOutcome::kAppended);
  EXPECT_EQ(first.calls[1].results[0].outcome, AppendOutcome::kAppended);
  EXPECT_FALSE(first.wait.asked);

  // The same content again is a duplicate answered with the first id; other content under the
  // same idempotency id is a conflict.
  FeedbackSubmission changed = Submission(0, "b", "other");
  std::vector<const FeedbackSubmission*> again = {&a, &changed};
  std::vector<std::span<const FeedbackSubmission* const>> retry = {again};
  AppendRound second = appender.AppendPipelined(*redis_, retry);
  ASSERT_EQ(second.calls.size(), 1u);
  EXPECT_EQ(second.calls[0].results[0].outcome, AppendOutcome::kDuplicate);
  EXPECT_EQ(second.calls[0].results[0].stream_id, first.calls[0].results[0].stream_id);
  EXPECT_EQ(second.calls[0].results[1].outcome, AppendOutcome::kConflict);
  ExpectInStep();
}

TEST_F(OperationsTest, AppendErrorReplyMidPipelineKeepsTheConnectionInStep) {
  FeedbackAppender appender(absl::Hours(1), 1, absl::Milliseconds(10));
  ASSERT_TRUE(appender.LoadScript(*redis_).ok());
  // Partition 1's stream key holds a string: its XADD fails inside the script.
  ASSERT_TRUE(redis_->Command({"SET", layout_.FeedbackStream(1), "not a stream"}).ok());
  FeedbackSubmission a = Submission(0, "a", "h"), b = Submission(1, "b", "h"),
                     c = Submission(2, "c", "h");
  std::vector<const FeedbackSubmission*> p0 = {&a}, p1 = {&b}, p2 = {&c};
  std::vector<std::span<const FeedbackSubmission* const>> groups = {p0, p1, p2};
  AppendRound round = appender.AppendPipelined(*redis_, groups);
  ASSERT_TRUE(round.transport.ok());
  ASSERT_EQ(round.calls.size(), 3u);
  EXPECT_EQ(round.calls[0].kind, AppendCallReply::Kind::kAnswered);
  EXPECT_EQ(round.calls[1].kind, AppendCallReply::Kind::kErrorReply);
  EXPECT_NE(round.calls[1].error.find("WRONGTYPE"), std::string::npos) << round.calls[1].error;
  EXPECT_EQ(round.calls[2].kind, AppendCallReply::Kind::kAnswered);
  // WAIT was read too: no replica here, so nothing is confirmed.
  ASSERT_TRUE(round.wait.asked);
  ASSERT_TRUE(round.wait.replicas.has_value());
  EXPECT_EQ(*round.wait.replicas, 0);
  EXPECT_FALSE(round.wait.confirmed(1));
  ExpectInStep();

  // A server that lost the script answers NOSCRIPT for every call; nothing ran.
  ASSERT_TRUE(redis_->Command({"SCRIPT", "FLUSH"}).ok());
  AppendRound lost = appender.AppendPipelined(*redis_, groups);
  ASSERT_EQ(lost.calls.size(), 3u);
  for (const AppendCallReply& call : lost.calls) {
    EXPECT_EQ(call.kind, AppendCallReply::Kind::kNoScript);
  }
  ExpectInStep();
}

TEST_F(OperationsTest, WrongReplyTypesGiveAClearError) {
  absl::StatusOr<RedisReplyPtr> text = redis_->Command({"EVAL", "return 'x'", "0"});
  ASSERT_TRUE(text.ok());
  AppendCallReply append = DecodeAppendReply(**text, 1);
  EXPECT_EQ(append.kind, AppendCallReply::Kind::kMalformed);
  EXPECT_NE(append.error.find("unexpected reply of the append script"), std::string::npos);

  FencedWrite apply;
  apply.script = Script::kApplyBatch;
  apply.dyads = 3;
  absl::StatusOr<FencedWriteReply> decoded = DecodeFencedWrite(apply, **text);
  EXPECT_EQ(decoded.status().code(), absl::StatusCode::kInternal);
  EXPECT_NE(decoded.status().message().find("unexpected apply reply"), std::string::npos);
  absl::StatusOr<RedisReplyPtr> short_array = redis_->Command({"EVAL", "return {1, 1}", "0"});
  ASSERT_TRUE(short_array.ok());
  EXPECT_FALSE(DecodeFencedWrite(apply, **short_array).ok());

  FencedWrite park;
  park.script = Script::kDeadLetter;
  absl::StatusOr<RedisReplyPtr> seven = redis_->Command({"EVAL", "return 7", "0"});
  ASSERT_TRUE(seven.ok());
  EXPECT_EQ(DecodeFencedWrite(park, **seven).status().code(), absl::StatusCode::kInternal);

  // A lease key holding a hash: EXISTS still answers, the lease script fails with an error
  // status naming Redis's message.
  ASSERT_TRUE(redis_->Command({"HSET", layout_.Lease(2), "f", "v"}).ok());
  absl::StatusOr<LeaseKeep> kept =
      KeepLease(*executor_, scripts_, layout_, {"w1", absl::Seconds(30)}, 2);
  EXPECT_FALSE(kept.ok());
  // A feedback stream that is not a stream: the probes fail, every reply is still read.
  ASSERT_TRUE(redis_->Command({"SET", layout_.FeedbackStream(3), "x"}).ok());
  std::vector<int> partitions = {0, 3};
  absl::StatusOr<std::vector<FeedbackStreamStats>> stats =
      ProbeFeedbackStreams(*executor_, layout_, partitions);
  EXPECT_FALSE(stats.ok());
  ExpectInStep();
}

TEST_F(OperationsTest, LeasesAreTakenRenewedRefusedAndReleased) {
  const LeaseHolder a{"worker-a", absl::Seconds(30)}, b{"worker-b", absl::Seconds(30)};
  absl::StatusOr<LeaseKeep> kept = KeepLease(*executor_, scripts_, layout_, a, 0);
  ASSERT_TRUE(kept.ok()) << kept.status();
  EXPECT_EQ(*kept, LeaseKeep::kTaken);
  std::vector<int> zero = {0};
  absl::StatusOr<LeaseRenewals> renewed = RenewLeases(*executor_, scripts_, layout_, a, zero);
  ASSERT_TRUE(renewed.ok()) << renewed.status();
  EXPECT_EQ(renewed->live_workers, 1);
  EXPECT_EQ(renewed->leases, std::vector<LeaseKeep>{LeaseKeep::kRenewed});
  renewed = RenewLeases(*executor_, scripts_, layout_, b, zero);
  ASSERT_TRUE(renewed.ok());
  EXPECT_EQ(renewed->live_workers, 2);
  EXPECT_EQ(renewed->leases, std::vector<LeaseKeep>{LeaseKeep::kHeldByAnother});

  std::vector<int> both = {0, 1};
  absl::StatusOr<std::vector<bool>> free = FreeLeases(*executor_, layout_, both);
  ASSERT_TRUE(free.ok());
  EXPECT_EQ(*free, (std::vector<bool>{false, true}));

  absl::StatusOr<bool> released = ReleaseLease(*executor_, scripts_, layout_, b, 0);
  ASSERT_TRUE(released.ok());
  EXPECT_FALSE(*released);
  released = ReleaseLease(*executor_, scripts_, layout_, a, 0);
  ASSERT_TRUE(released.ok());
  EXPECT_TRUE(*released);

  Own(1, "worker-a");
  std::vector<int> one = {1};
  ASSERT_TRUE(ReleaseAllAndLeave(*executor_, scripts_, layout_, a, one).ok());
  free = FreeLeases(*executor_, layout_, both);
  ASSERT_TRUE(free.ok());
  EXPECT_EQ(*free, (std::vector<bool>{true, true}));
  renewed = RenewLeases(*executor_, scripts_, layout_, b, {});
  ASSERT_TRUE(renewed.ok());
  EXPECT_EQ(renewed->live_workers, 1);  // worker-a left
}

TEST_F(OperationsTest, FencedReadsDeliverDecodedEntriesOnlyToTheLeaseHolder) {
  ASSERT_TRUE(CreateWorkerGroups(*executor_, layout_).ok());
  ASSERT_TRUE(CreateWorkerGroups(*executor_, layout_).ok());  // the group exists: fine
  std::vector<std::string> ids = Append(0, 3);
  ASSERT_EQ(ids.size(), 3u);
  Own(0, "worker-a");
  const FeedbackReader a{"worker-a", 10}, b{"worker-b", 10};
  std::vector<FeedbackReadRequest> fresh = {{0, ">"}};

  absl::StatusOr<std::vector<FencedFeedbackRead>> refused =
      ReadFencedByScript(*executor_, scripts_, layout_, b, fresh);
  ASSERT_TRUE(refused.ok()) << refused.status();
  EXPECT_EQ((*refused)[0].outcome, FencedFeedbackRead::Outcome::kLeaseLost);

  absl::StatusOr<std::vector<FencedFeedbackRead>> read =
      ReadFencedByScript(*executor_, scripts_, layout_, a, fresh);
  ASSERT_TRUE(read.ok()) << read.status();
  ASSERT_EQ((*read)[0].outcome, FencedFeedbackRead::Outcome::kRead);
  ASSERT_EQ((*read)[0].entries.size(), 3u);
  EXPECT_EQ((*read)[0].entries[0].id, ids[0]);
  ASSERT_NE((*read)[0].entries[0].Field("entry"), nullptr);
  EXPECT_EQ(*(*read)[0].entries[0].Field("entry"), "bytes-id0");
  EXPECT_EQ((*read)[0].erasures, "0");

  // Nothing new: the stream's last id, where the blocking wait starts.
  read = ReadFencedByScript(*executor_, scripts_, layout_, a, fresh);
  ASSERT_TRUE(read.ok());
  EXPECT_TRUE((*read)[0].entries.empty());
  EXPECT_EQ((*read)[0].last_id, ids[2]);

  // The same by transaction: pending entries from the start, then the lease holder check.
  std::vector<FeedbackReadRequest> pending = {{0, "0"}, {1, ">"}};
  absl::StatusOr<std::vector<FencedFeedbackRead>> tx =
      ReadFencedByTransaction(*redis_, layout_, a, pending);
  ASSERT_TRUE(tx.ok()) << tx.status();
  ASSERT_EQ(tx->size(), 2u);
  EXPECT_EQ((*tx)[0].entries.size(), 3u);
  EXPECT_EQ((*tx)[1].outcome, FencedFeedbackRead::Outcome::kLeaseLost);  // nobody holds 1
  ExpectInStep();

  std::vector<PendingEntryRef> refs = {{0, ids[1]}, {0, "1-1"}};
  absl::StatusOr<std::vector<int64_t>> counts = DeliveryCounts(*executor_, layout_, refs);
  ASSERT_TRUE(counts.ok()) << counts.status();
  EXPECT_EQ((*counts)[0], 2);  // the read, then the pending read
  EXPECT_EQ((*counts)[1], 0);  // not pending

  absl::StatusOr<ClaimResult> claim =
      ClaimPendingEntries(*executor_, scripts_, layout_, "worker-a", 0, absl::ZeroDuration());
  ASSERT_TRUE(claim.ok()) << claim.status();
  EXPECT_FALSE(claim->lease_lost);
  EXPECT_TRUE(claim->claimed_any);
  claim = ClaimPendingEntries(*executor_, scripts_, layout_, "worker-b", 0, absl::ZeroDuration());
  ASSERT_TRUE(claim.ok());
  EXPECT_TRUE(claim->lease_lost);
}

TEST_F(OperationsTest, ApplyBatchWritesChecksVersionsAndParksDeadLetters) {
  ASSERT_TRUE(CreateWorkerGroups(*executor_, layout_).ok());
  std::vector<std::string> ids = Append(0, 2);
  Own(0, "worker-a");
  const FeedbackReader reader{"worker-a", 10};
  std::vector<FeedbackReadRequest> fresh = {{0, ">"}};
  absl::StatusOr<std::vector<FencedFeedbackRead>> read =
      ReadFencedByScript(*executor_, scripts_, layout_, reader, fresh);
  ASSERT_TRUE(read.ok());
  ASSERT_EQ((*read)[0].entries.size(), 2u);

  std::vector<FencedWriteReply> replies;
  FencedWriter writer(*redis_, scripts_, 128, [&](const FencedWrite&, const FencedWriteReply& r) {
    replies.push_back(r);
    return absl::OkStatus();
  });
  internal::v1::DyadRecord head;
  head.set_version(1);
  const std::string head_key = layout_.DyadState(0, "t1", "th", "cl");
  auto dyad = [&](int64_t expected) {
    DyadWrite w;
    w.tenant = "t1";
    w.therapist = "th";
    w.client = "cl";
    w.expected_version = expected;
    w.head = head.SerializeAsString();
    w.log = "";
    w.index_member = "th:cl";
    w.alerts.push_back({"alert-1", "RUPTURE", "HIGH", "{}"});
    w.entry_ids = {ids[0]};
    return w;
  };
  ApplyBatchCall call(layout_, 0, "worker-a", (*read)[0].erasures);
  call.AddDyad(head_key, dyad(0));
  ASSERT_TRUE(writer.Send(std::move(call).Finish({}, absl::ZeroDuration(), 0)).ok());
  // The same dyad expecting version 0 again: the head is at 1 now, nothing is written.
  ApplyBatchCall stale(layout_, 0, "worker-a", "0");
  stale.AddDyad(head_key, dyad(0));
  ASSERT_TRUE(writer.Send(std::move(stale).Finish({}, absl::ZeroDuration(), 1)).ok());
  // The poison entry parked, twice: the second finds it no longer pending.
  ASSERT_TRUE(
      writer.Send(ParkDeadLetter(layout_, 0, "worker-a", (*read)[0].entries[1], "bad", 5, 2)).ok());
  ASSERT_TRUE(
      writer.Send(ParkDeadLetter(layout_, 0, "worker-a", (*read)[0].entries[1], "bad", 5, 3)).ok());
  // Another worker's write is refused by the fence.
  ApplyBatchCall foreign(layout_, 0, "worker-b", "0");
  foreign.AddDyad(head_key, dyad(1));
  ASSERT_TRUE(writer.Send(std::move(foreign).Finish({}, absl::ZeroDuration(), 4)).ok());
  ASSERT_TRUE(writer.Finish().ok());
  ASSERT_EQ(replies.size(), 5u);
  EXPECT_EQ(replies[0].applied, std::vector<bool>{true});
  EXPECT_EQ(replies[1].applied, std::vector<bool>{false});
  EXPECT_TRUE(replies[2].parked);
  EXPECT_FALSE(replies[3].parked);
  EXPECT_TRUE(replies[4].lease_lost);
  ExpectInStep();

  // The record reads back; a missing dyad is nullopt and undecodable bytes DATA_LOSS, in one call.
  ASSERT_TRUE(redis_->Command({"SET", layout_.DyadState(0, "t1", "th", "bad"), "\xff\xff"}).ok());
  std::vector<DyadAddress> addresses = {
      {0, "t1", "th", "cl"}, {0, "t1", "th", "none"}, {0, "t1", "th", "bad"}};
  auto stored = ReadStoredDyads(*executor_, layout_, addresses);
  ASSERT_TRUE(stored.ok()) << stored.status();
  ASSERT_EQ(stored->size(), 3u);
  ASSERT_TRUE((*stored)[0].ok());
  ASSERT_TRUE((*stored)[0]->has_value());
  EXPECT_EQ((*(*stored)[0])->record.version(), 1);
  ASSERT_TRUE((*stored)[1].ok());
  EXPECT_FALSE((*stored)[1]->has_value());
  EXPECT_EQ((*stored)[2].status().code(), absl::StatusCode::kDataLoss);

  absl::StatusOr<std::vector<DeadLetter>> letters = ListDeadLetters(*executor_, layout_, 0, 10);
  ASSERT_TRUE(letters.ok()) << letters.status();
  ASSERT_EQ(letters->size(), 1u);
  EXPECT_EQ((*letters)[0].source_id, ids[1]);
  EXPECT_EQ((*letters)[0].reason, "bad");
  EXPECT_EQ((*letters)[0].attempts, 5);
  absl::StatusOr<int64_t> moved = ReplayDeadLetters(*executor_, scripts_, layout_, -1);
  ASSERT_TRUE(moved.ok()) << moved.status();
  EXPECT_EQ(*moved, 1);
  letters = ListDeadLetters(*executor_, layout_, 0, 10);
  ASSERT_TRUE(letters.ok());
  EXPECT_TRUE(letters->empty());
}

TEST_F(OperationsTest, AFailedWriteMidWindowStillReadsEveryReply) {
  ASSERT_TRUE(CreateWorkerGroups(*executor_, layout_).ok());
  Own(0, "worker-a");
  // The alert stream holds a string: a call with an alert fails inside the script.
  ASSERT_TRUE(redis_->Command({"SET", layout_.AlertStream(0), "x"}).ok());
  int handed = 0;
  FencedWriter writer(*redis_, scripts_, 1000, [&](const FencedWrite&, const FencedWriteReply&) {
    ++handed;
    return absl::OkStatus();
  });
  // DyadWrite holds views: the client ids outlive the calls.
  const std::vector<std::string> clients = {"c0", "c1", "c2"};
  for (int i = 0; i < 3; ++i) {
    ApplyBatchCall call(layout_, 0, "worker-a", "0");
    DyadWrite w;
    w.tenant = "t1";
    w.therapist = "th";
    w.client = clients[static_cast<size_t>(i)];
    if (i == 1) w.alerts.push_back({"alert", "RUPTURE", "HIGH", "{}"});
    call.AddDyad(layout_.DyadState(0, "t1", "th", w.client), std::move(w));
    ASSERT_TRUE(writer.Send(std::move(call).Finish({}, absl::ZeroDuration(), i)).ok());
  }
  absl::Status finished = writer.Finish();
  EXPECT_FALSE(finished.ok());
  EXPECT_EQ(handed, 1);  // the first; the failure stops the batch
  ExpectInStep();

  // The same for plain commands in a window smaller than the pipeline.
  ASSERT_TRUE(redis_->Command({"SET", "s", "v"}).ok());
  std::vector<std::vector<std::string>> commands = {
      {"GET", "s"}, {"HGET", "s", "f"}, {"GET", "s"}, {"GET", "s"}};
  int replies = 0;
  absl::Status s = RunWindowed(
      *executor_, commands.size(), 2,
      [&](size_t i, KeyedCommand& c) {
        c.key = "s";
        c.args = commands[i];
      },
      [&](size_t, const redisReply& r) {
        ++replies;
        return ReplyStatus(r);
      });
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("WRONGTYPE"), std::string_view::npos) << s;
  EXPECT_EQ(replies, 2);
  ExpectInStep();
}

TEST_F(OperationsTest, MaintenanceProbesTrimsAndRetires) {
  ASSERT_TRUE(CreateWorkerGroups(*executor_, layout_).ok());
  std::vector<std::string> ids = Append(0, 3);
  Own(0, "worker-a");
  std::vector<FeedbackReadRequest> fresh = {{0, ">"}};
  ASSERT_TRUE(ReadFencedByScript(*executor_, scripts_, layout_, {"worker-a", 1}, fresh).ok());
  std::vector<int> zero = {0};
  absl::StatusOr<std::vector<FeedbackStreamStats>> stats =
      ProbeFeedbackStreams(*executor_, layout_, zero);
  ASSERT_TRUE(stats.ok()) << stats.status();
  const FeedbackStreamStats& s = (*stats)[0];
  EXPECT_TRUE(s.group_found);
  EXPECT_EQ(s.pending, 1);
  EXPECT_EQ(s.oldest_pending, ids[0]);
  EXPECT_EQ(s.last_delivered, ids[0]);
  EXPECT_EQ(s.length, 3);
  EXPECT_EQ(s.dead_letter_length, 0);

  std::vector<StreamTrim> trims = {{0, ids[2]}};
  absl::StatusOr<std::vector<bool>> trimmed = TrimFeedbackStreams(*executor_, layout_, trims);
  ASSERT_TRUE(trimmed.ok()) << trimmed.status();
  ASSERT_EQ(trimmed->size(), 1u);
  ASSERT_TRUE(TrimDerivedStreams(*executor_, layout_, zero, "0-1").ok());
  absl::StatusOr<std::vector<int64_t>> retired = RetireIdleConsumers(
      *executor_, scripts_, layout_, "worker-a", absl::ZeroDuration(), 10, zero);
  ASSERT_TRUE(retired.ok()) << retired.status();
  EXPECT_EQ((*retired)[0], 0);  // only worker-a's consumer, which is never retired
  retired = RetireIdleConsumers(*executor_, scripts_, layout_, "worker-b", absl::ZeroDuration(), 10,
                                zero);
  ASSERT_TRUE(retired.ok());
  EXPECT_EQ((*retired)[0], -1);  // not worker-b's lease
}

}  // namespace
}  // namespace alliance
