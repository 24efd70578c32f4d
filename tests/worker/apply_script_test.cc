// The worker's apply script at the level of the Redis protocol, with the test itself playing
// the worker (same scripts, same commands), so every race lands exactly where the test puts it:
// - writes: a record is its head (replaced) and its log (appended to, or replaced), with the
//   retention's expiry on both or on neither; a stale version or a lost lease writes and
//   acknowledges nothing;
// - erasure in flight: the worker reads entries together with the partition's erasure
//   counter, DeleteClientData deletes a client's entries and increments the counter in the same
//   transaction, and the apply script then refuses to re-create the erased client's dyad while
//   still applying the other dyads of the batch.
#include <gtest/gtest.h>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "alliance/internal/v1/records.pb.h"
#include "services/insights/erasure.h"
#include "store/dyad_record_io.h"
#include "store/keys.h"
#include "store/lua_scripts.h"
#include "tests/support/redis_server.h"
#include "tests/support/redis_test.h"
#include "tests/worker/worker_fixture.h"

namespace alliance::testing {
namespace {

constexpr char kTenant[] = "clinic-e";
constexpr char kTherapist[] = "th-1";
constexpr char kMe[] = "worker-e";

// How the test plays the worker's write of a dyad.
struct Write {
  std::string expected_version = "0";
  char log_mode = 'r';  // 'r': replace the log, 'a': append to it
  std::string retention_ms = "0";
};

class ApplyScriptTest : public RedisTest {
 protected:
  void SetUp() override {
    RedisTest::SetUp();
    if (HasFatalFailure()) return;
    ASSERT_TRUE(scripts_.Load(*redis_).ok());
    ASSERT_TRUE(redis_
                    ->Command({"XGROUP", "CREATE", layout_.FeedbackStream(0), kWorkerGroup, "0",
                               "MKSTREAM"})
                    .ok());
    ASSERT_TRUE(redis_->Command({"SET", layout_.Lease(0), kMe}).ok());
  }

  Submission Rating(const std::string& client, int session) {
    std::mt19937 rng(static_cast<unsigned>(session));
    return {kTenant, kTherapist, client, absl::StrCat("acc-", client, "-", session),
            "srs",   session,    1,      AnswersAt("srs", 80, 0, rng)};
  }

  // What the worker's read transaction returns: the new entries' ids by client, and the
  // erasure counter at that moment.
  struct Read {
    std::map<std::string, std::vector<std::string>> ids_by_accepted;
    std::string erasures;
  };
  Read ReadAsWorker() {
    const std::string stream = layout_.FeedbackStream(0);
    redis_->Append({"MULTI"});
    redis_->Append(
        {"XREADGROUP", "GROUP", kWorkerGroup, kMe, "COUNT", "100", "STREAMS", stream, ">"});
    redis_->Append({"GET", layout_.ErasureCount(0)});
    redis_->Append({"EXEC"});
    for (int i = 0; i < 3; ++i) EXPECT_TRUE(redis_->GetReply().ok());
    auto exec = redis_->GetReply();
    Read read;
    EXPECT_TRUE(exec.ok());
    if (!exec.ok() || (*exec)->type != REDIS_REPLY_ARRAY) return read;
    const redisReply& r = **exec;
    read.erasures = r.element[1]->type == REDIS_REPLY_STRING
                        ? std::string(ReplyString(*r.element[1]))
                        : std::string("0");
    const redisReply& entries = *r.element[0]->element[0]->element[1];
    for (size_t i = 0; i < entries.elements; ++i) {
      const redisReply& fields = *entries.element[i]->element[1];
      for (size_t f = 0; f + 1 < fields.elements; f += 2) {
        if (ReplyString(*fields.element[f]) == "accepted_id") {
          read.ids_by_accepted[std::string(ReplyString(*fields.element[f + 1]))].push_back(
              std::string(ReplyString(*entries.element[i]->element[0])));
        }
      }
    }
    return read;
  }

  std::string DyadKey(const std::string& client) {
    return layout_.DyadState(0, kTenant, kTherapist, client);
  }

  // The apply script for one write per client, with the entries read for it: a head of the next
  // version, and the client's rating of session 1 as the log's bytes. Returns the per-dyad
  // results, or {-1} when the script refused the whole call (lease lost).
  std::vector<int64_t> ApplyAsWorker(const Read& read, const std::vector<std::string>& clients,
                                     const Write& write = Write()) {
    std::vector<std::string> keys = {layout_.Lease(0), layout_.AlertStream(0),
                                     layout_.FeedbackStream(0), layout_.ErasureCount(0)};
    std::vector<std::string> args = {kMe, std::string(kWorkerGroup), std::to_string(clients.size()),
                                     read.erasures};
    for (const std::string& client : clients) {
      keys.push_back(DyadKey(client));
      keys.push_back(layout_.DyadLog(0, kTenant, kTherapist, client));
      keys.push_back(layout_.DyadIndex(0, kTenant));
      internal::v1::DyadRecord head, log;
      int64_t version = 0;
      (void)absl::SimpleAtoi(write.expected_version, &version);
      head.set_version(version + 1);
      head.set_tenant_id(kTenant);
      head.set_therapist_id(kTherapist);
      head.set_client_id(client);
      log.add_ratings()->set_rating_id(absl::StrCat("acc-", client, "-", version + 1));
      args.push_back(write.expected_version);
      args.push_back(head.SerializeAsString());
      args.emplace_back(1, write.log_mode);
      args.push_back(log.SerializeAsString());  // only field 5: exactly its element
      args.push_back(absl::StrCat(kTherapist, ":", client));
      args.push_back("0");           // no alerts
      std::vector<std::string> ids;  // the client's entries in this read, any session
      for (const auto& [accepted, entry_ids] : read.ids_by_accepted) {
        if (absl::StartsWith(accepted, absl::StrCat("acc-", client, "-"))) {
          ids.insert(ids.end(), entry_ids.begin(), entry_ids.end());
        }
      }
      args.push_back(std::to_string(ids.size()));
      args.insert(args.end(), ids.begin(), ids.end());
      args.push_back("0");  // no summary contribution
      args.push_back("");   // no disengagement watch change
      args.push_back("");
    }
    keys.push_back(layout_.DisengagementWatch(0));
    args.push_back("0");  // no deleted entries
    args.push_back(write.retention_ms);
    std::vector<std::string_view> key_views(keys.begin(), keys.end());
    std::vector<std::string_view> arg_views(args.begin(), args.end());
    scripts_.Append(*redis_, Script::kApplyBatch, key_views, arg_views);
    auto reply = redis_->GetReply();
    std::vector<int64_t> out;
    EXPECT_TRUE(reply.ok());
    if (!reply.ok()) return out;
    if ((*reply)->type == REDIS_REPLY_INTEGER) return {(*reply)->integer};
    EXPECT_EQ((*reply)->type, REDIS_REPLY_ARRAY) << ReplyString(**reply);
    for (size_t i = 0; (*reply)->type == REDIS_REPLY_ARRAY && i < (*reply)->elements; ++i) {
      out.push_back((*reply)->element[i]->integer);
    }
    return out;
  }

  bool Exists(const std::string& key) {
    auto reply = redis_->Command({"EXISTS", key});
    return reply.ok() && (*reply)->integer == 1;
  }

  int64_t Ttl(const std::string& key) {
    auto reply = redis_->Command({"PTTL", key});
    return reply.ok() ? (*reply)->integer : -3;
  }

  std::optional<StoredDyad> Stored(const std::string& client) {
    auto stored = ReadStoredDyad(*redis_, layout_, 0, kTenant, kTherapist, client);
    EXPECT_TRUE(stored.ok()) << stored.status();
    return stored.ok() ? *stored : std::nullopt;
  }

  int64_t Pending() {
    auto reply = redis_->Command({"XPENDING", layout_.FeedbackStream(0), kWorkerGroup});
    return reply.ok() ? (*reply)->element[0]->integer : -1;
  }

  KeyLayout layout_{1};
  ScriptShas scripts_;
};

TEST_F(ApplyScriptTest, HeadIsReplacedAndTheLogAppendedTo) {
  ASSERT_TRUE(Feed(*redis_, layout_, {Rating("cl-a", 1)}).ok());
  EXPECT_EQ(ApplyAsWorker(ReadAsWorker(), {"cl-a"}), (std::vector<int64_t>{1}));
  ASSERT_TRUE(Feed(*redis_, layout_, {Rating("cl-a", 2)}).ok());
  Write append;
  append.expected_version = "1";
  append.log_mode = 'a';
  EXPECT_EQ(ApplyAsWorker(ReadAsWorker(), {"cl-a"}, append), (std::vector<int64_t>{1}));

  std::optional<StoredDyad> stored = Stored("cl-a");
  ASSERT_TRUE(stored.has_value());
  EXPECT_TRUE(stored->has_log);
  EXPECT_EQ(stored->record.version(), 2);
  ASSERT_EQ(stored->record.ratings_size(), 2);
  EXPECT_EQ(stored->record.ratings(0).rating_id(), "acc-cl-a-1");
  EXPECT_EQ(stored->record.ratings(1).rating_id(), "acc-cl-a-2");
  EXPECT_EQ(Ttl(DyadKey("cl-a")), -1);
  EXPECT_EQ(Ttl(layout_.DyadLog(0, kTenant, kTherapist, "cl-a")), -1);
  EXPECT_EQ(Pending(), 0);

  // Replacing the log (a late rating re-sorted it) leaves exactly the new bytes.
  ASSERT_TRUE(Feed(*redis_, layout_, {Rating("cl-a", 3)}).ok());
  Write replace;
  replace.expected_version = "2";
  EXPECT_EQ(ApplyAsWorker(ReadAsWorker(), {"cl-a"}, replace), (std::vector<int64_t>{1}));
  stored = Stored("cl-a");
  ASSERT_TRUE(stored.has_value());
  ASSERT_EQ(stored->record.ratings_size(), 1);
  EXPECT_EQ(stored->record.ratings(0).rating_id(), "acc-cl-a-3");
}

TEST_F(ApplyScriptTest, HeadAndLogExpireTogetherOrNotAtAll) {
  ASSERT_TRUE(Feed(*redis_, layout_, {Rating("cl-a", 1)}).ok());
  Write retained;
  retained.retention_ms = "86400000";
  EXPECT_EQ(ApplyAsWorker(ReadAsWorker(), {"cl-a"}, retained), (std::vector<int64_t>{1}));
  const std::string log = layout_.DyadLog(0, kTenant, kTherapist, "cl-a");
  for (const std::string& key : {DyadKey("cl-a"), log, layout_.DyadIndex(0, kTenant)}) {
    EXPECT_GT(Ttl(key), 86000000) << key;
  }
  // Retention turned off: the worker's first write after loading the record replaces the log
  // (see batch_apply.cc), so the log does not expire under a head that no longer does.
  ASSERT_TRUE(Feed(*redis_, layout_, {Rating("cl-a", 2)}).ok());
  Write kept;
  kept.expected_version = "1";
  kept.log_mode = 'r';
  EXPECT_EQ(ApplyAsWorker(ReadAsWorker(), {"cl-a"}, kept), (std::vector<int64_t>{1}));
  EXPECT_EQ(Ttl(DyadKey("cl-a")), -1);
  EXPECT_EQ(Ttl(log), -1);
}

TEST_F(ApplyScriptTest, StaleVersionWritesNothing) {
  ASSERT_TRUE(Feed(*redis_, layout_, {Rating("cl-a", 1)}).ok());
  Write stale;
  stale.expected_version = "4";  // the worker believes in a record that is not there
  EXPECT_EQ(ApplyAsWorker(ReadAsWorker(), {"cl-a"}, stale), (std::vector<int64_t>{-2}));
  EXPECT_FALSE(Exists(DyadKey("cl-a")));
  EXPECT_FALSE(Exists(layout_.DyadLog(0, kTenant, kTherapist, "cl-a")));
  EXPECT_EQ(Pending(), 1);  // not acknowledged: the worker re-reads it
}

TEST_F(ApplyScriptTest, LostLeaseWritesNothing) {
  ASSERT_TRUE(Feed(*redis_, layout_, {Rating("cl-a", 1), Rating("cl-b", 1)}).ok());
  Read read = ReadAsWorker();
  ASSERT_TRUE(redis_->Command({"SET", layout_.Lease(0), "worker-other"}).ok());
  EXPECT_EQ(ApplyAsWorker(read, {"cl-a", "cl-b"}), (std::vector<int64_t>{-1}));
  EXPECT_FALSE(Exists(DyadKey("cl-a")));
  EXPECT_FALSE(Exists(DyadKey("cl-b")));
  EXPECT_EQ(Pending(), 2);
}

TEST_F(ApplyScriptTest, EntriesErasedBetweenReadAndApplyAreNotApplied) {
  ASSERT_TRUE(Feed(*redis_, layout_, {Rating("cl-erased", 1), Rating("cl-kept", 1)}).ok());
  Read read = ReadAsWorker();
  ASSERT_EQ(read.ids_by_accepted.size(), 2u);
  EXPECT_EQ(read.erasures, "0");

  auto removed = insights::EraseClient(*redis_, layout_, kTenant, "cl-erased");
  ASSERT_TRUE(removed.ok()) << removed.status();
  EXPECT_EQ(removed->feedback_entries(), 1);

  // Both dyads are acknowledged; only the kept client's state is written.
  EXPECT_EQ(ApplyAsWorker(read, {"cl-erased", "cl-kept"}), (std::vector<int64_t>{1, 1}));
  EXPECT_FALSE(Exists(DyadKey("cl-erased")));
  EXPECT_FALSE(Exists(layout_.DyadLog(0, kTenant, kTherapist, "cl-erased")));
  EXPECT_TRUE(Exists(DyadKey("cl-kept")));
  EXPECT_EQ(Pending(), 0);
  auto member = redis_->Command(
      {"ZSCORE", layout_.DyadIndex(0, kTenant), absl::StrCat(kTherapist, ":cl-erased")});
  ASSERT_TRUE(member.ok());
  EXPECT_EQ((*member)->type, REDIS_REPLY_NIL);
}

TEST_F(ApplyScriptTest, AnotherClientsErasureLeavesTheBatchApplied) {
  ASSERT_TRUE(Feed(*redis_, layout_, {Rating("cl-a", 1), Rating("cl-b", 1)}).ok());
  Read read = ReadAsWorker();
  ASSERT_EQ(read.ids_by_accepted.size(), 2u);
  // A client with an entry that is not in this batch (already acknowledged, kept for retention).
  ASSERT_TRUE(Feed(*redis_, layout_, {Rating("cl-other", 1)}).ok());
  auto removed = insights::EraseClient(*redis_, layout_, kTenant, "cl-other");
  ASSERT_TRUE(removed.ok()) << removed.status();
  EXPECT_EQ(removed->feedback_entries(), 1);
  auto counter = redis_->Command({"GET", layout_.ErasureCount(0)});
  ASSERT_TRUE(counter.ok());
  EXPECT_EQ(ReplyString(**counter), "1");  // moved: the apply checks entry by entry

  EXPECT_EQ(ApplyAsWorker(read, {"cl-a", "cl-b"}), (std::vector<int64_t>{1, 1}));
  EXPECT_TRUE(Exists(DyadKey("cl-a")));
  EXPECT_TRUE(Exists(DyadKey("cl-b")));
  EXPECT_EQ(Pending(), 0);
}

TEST_F(ApplyScriptTest, ErasureBeforeTheReadIsSeenByTheRead) {
  ASSERT_TRUE(Feed(*redis_, layout_, {Rating("cl-gone", 1), Rating("cl-here", 1)}).ok());
  auto removed = insights::EraseClient(*redis_, layout_, kTenant, "cl-gone");
  ASSERT_TRUE(removed.ok()) << removed.status();
  Read read = ReadAsWorker();
  // The erased entry is not delivered at all; the counter read with the batch is current.
  EXPECT_EQ(read.ids_by_accepted.count("acc-cl-gone-1"), 0u);
  EXPECT_EQ(read.erasures, "1");
  EXPECT_EQ(ApplyAsWorker(read, {"cl-here"}), (std::vector<int64_t>{1}));
  EXPECT_TRUE(Exists(DyadKey("cl-here")));
  EXPECT_FALSE(Exists(DyadKey("cl-gone")));
  EXPECT_EQ(Pending(), 0);
}

}  // namespace
}  // namespace alliance::testing
