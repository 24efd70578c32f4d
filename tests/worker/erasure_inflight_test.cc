// Erasure while entries are in flight, at the level of the Redis protocol the worker and
// DeleteClientData share: the worker reads entries together with the partition's erasure
// counter, DeleteClientData deletes a client's entries and increments the counter in the same
// transaction, and the apply script then refuses to re-create the erased client's dyad while
// still applying the other dyads of the batch. Deterministic: the test itself plays the worker
// (same scripts, same commands), so the erasure lands exactly between read and apply.
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "common/keys.h"
#include "services/insights/erasure.h"
#include "tests/support/redis_server.h"
#include "tests/worker/worker_fixture.h"
#include "worker/lua_scripts.h"

namespace alliance::testing {
namespace {

constexpr char kTenant[] = "clinic-e";
constexpr char kTherapist[] = "th-1";
constexpr char kMe[] = "worker-e";

class ErasureInFlightTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(server_.Start().ok());
    auto conn = RedisConnection::Connect(server_.endpoint());
    ASSERT_TRUE(conn.ok()) << conn.status();
    redis_ = *std::move(conn);
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

  // The apply script for one new record per client, with the entries read for it.
  std::vector<int64_t> ApplyAsWorker(const Read& read, const std::vector<std::string>& clients) {
    std::vector<std::string> keys = {layout_.Lease(0), layout_.AlertStream(0),
                                     layout_.FeedbackStream(0), layout_.ErasureCount(0)};
    std::vector<std::string> args = {kMe, std::string(kWorkerGroup), std::to_string(clients.size()),
                                     read.erasures};
    for (const std::string& client : clients) {
      keys.push_back(DyadKey(client));
      keys.push_back(layout_.DyadIndex(0, kTenant));
      internal::v1::DyadRecord record;
      record.set_version(1);
      record.set_tenant_id(kTenant);
      record.set_therapist_id(kTherapist);
      record.set_client_id(client);
      args.push_back("0");
      args.push_back(record.SerializeAsString());
      args.push_back(absl::StrCat(kTherapist, ":", client));
      args.push_back("0");  // no alerts
      const std::vector<std::string>& ids =
          read.ids_by_accepted.at(absl::StrCat("acc-", client, "-1"));
      args.push_back(std::to_string(ids.size()));
      args.insert(args.end(), ids.begin(), ids.end());
    }
    args.push_back("0");  // no deleted entries
    args.push_back("0");  // no retention
    std::vector<std::string_view> key_views(keys.begin(), keys.end());
    std::vector<std::string_view> arg_views(args.begin(), args.end());
    scripts_.Append(*redis_, worker::Script::kApplyBatch, key_views, arg_views);
    auto reply = redis_->GetReply();
    std::vector<int64_t> out;
    EXPECT_TRUE(reply.ok());
    if (!reply.ok()) return out;
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

  int64_t Pending() {
    auto reply = redis_->Command({"XPENDING", layout_.FeedbackStream(0), kWorkerGroup});
    return reply.ok() ? (*reply)->element[0]->integer : -1;
  }

  RedisServer server_;
  KeyLayout layout_{1};
  std::unique_ptr<RedisConnection> redis_;
  worker::ScriptShas scripts_;
};

TEST_F(ErasureInFlightTest, EntriesErasedBetweenReadAndApplyAreNotApplied) {
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
  EXPECT_TRUE(Exists(DyadKey("cl-kept")));
  EXPECT_EQ(Pending(), 0);
  auto member = redis_->Command(
      {"ZSCORE", layout_.DyadIndex(0, kTenant), absl::StrCat(kTherapist, ":cl-erased")});
  ASSERT_TRUE(member.ok());
  EXPECT_EQ((*member)->type, REDIS_REPLY_NIL);
}

TEST_F(ErasureInFlightTest, AnotherClientsErasureLeavesTheBatchApplied) {
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

TEST_F(ErasureInFlightTest, ErasureBeforeTheReadIsSeenByTheRead) {
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
