// The disengagement timer of alliance-worker against a real redis-server, time moved by the
// test through --test_now_file: a dyad with an open rupture and no rating is watched with the
// due time of the no-rating trigger; one second before D days it is not raised (while another
// dyad, due earlier, is, in the same round), at D days it is, exactly once across a restart of
// the worker; the next rating raises one reengaged event and watches the dyad again; the
// erasure of the client removes it from the watch.
#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "store/client_erasure.h"
#include "store/disengagement_watch.h"
#include "store/redis_executor.h"
#include "tests/support/child_process.h"
#include "tests/support/redis_server.h"
#include "tests/support/redis_test.h"
#include "tests/worker/worker_fixture.h"

namespace alliance::testing {
namespace {

constexpr int kPartitions = 2;
constexpr int64_t kDayMs = 86'400'000;
// The fixture's session times: 2024-01-01 plus one week per session number.
constexpr int64_t SessionMs(int session) {
  return (int64_t{1704067200} + int64_t{session} * 7 * 24 * 3600) * 1000;
}

Submission Srs(const std::string& client, int session, double item) {
  Submission s;
  s.tenant = "clinic-d";
  s.therapist = "th-1";
  s.client = client;
  s.accepted_id = absl::StrCat(client, "-", session);
  s.instrument_id = "srs";
  s.session_number = session;
  s.rater = 1;
  s.answers = {item, item, item, item};
  return s;
}

// SRS 40 at sessions 1 .. last-1, then 20 at `last`: a rupture opens at `last` (20 < 36).
std::vector<Submission> RuptureAt(const std::string& client, int last) {
  std::vector<Submission> out;
  for (int s = 1; s < last; ++s) out.push_back(Srs(client, s, 10));
  out.push_back(Srs(client, last, 5));
  return out;
}

class DisengagementTimerTest : public RedisTest {
 protected:
  void SetUp() override {
    RedisTest::SetUp();
    if (HasFatalFailure()) return;
    now_file_ = absl::StrCat(::testing::TempDir(), "/disengagement-now-", getpid());
    SetNow(SessionMs(4) + kDayMs);
  }

  void StartTheWorker(const std::string& id) {
    std::vector<std::string> args = WorkerArgs(server_.port(), kPartitions, id);
    args.push_back("--block_ms=50");
    args.push_back("--maintenance_ms=20");
    args.push_back(absl::StrCat("--test_now_file=", now_file_));
    ASSERT_TRUE(StartWorker(worker_, args, id).ok());
  }

  void SetNow(int64_t ms) {
    const std::string tmp = now_file_ + ".tmp";
    std::ofstream(tmp) << ms << "\n";
    ASSERT_EQ(std::rename(tmp.c_str(), now_file_.c_str()), 0);  // never read half-written
  }

  void Send(const std::vector<Submission>& subs) {
    ASSERT_TRUE(Feed(*redis_, layout_, subs).ok());
    absl::Status s = WaitForDrained(server_.endpoint(), layout_, absl::Seconds(60));
    ASSERT_TRUE(s.ok()) << s << "\n" << worker_.ReadLog();
  }

  // Alert stream entries of `client` of `kind`, over every partition.
  std::vector<std::map<std::string, std::string>> Alerts(const std::string& client,
                                                         const std::string& kind) {
    std::vector<std::map<std::string, std::string>> out;
    for (int p = 0; p < kPartitions; ++p) {
      auto stream = ReadStream(*redis_, layout_.AlertStream(p));
      EXPECT_TRUE(stream.ok());
      if (!stream.ok()) return out;
      for (auto& e : *stream) {
        if (e["client"] == client && e["kind"] == kind) out.push_back(e);
      }
    }
    return out;
  }

  // Polls (no timed assertion: the bound only ends a hung test) until `client` has an alert of
  // `kind`.
  bool WaitForAlert(const std::string& client, const std::string& kind) {
    const absl::Time deadline = absl::Now() + absl::Seconds(60);
    while (absl::Now() < deadline) {
      if (!Alerts(client, kind).empty()) return true;
      absl::SleepFor(absl::Milliseconds(20));
    }
    return false;
  }

  // The watch score of `client` (th-1 of clinic-d), or -1 when it is not watched.
  int64_t Watched(const std::string& client) {
    const int p = layout_.PartitionOf("clinic-d", "th-1", client);
    auto reply = redis_->Command({"ZSCORE", layout_.DisengagementWatch(p),
                                  DisengagementWatchMember("clinic-d", "th-1", client)});
    EXPECT_TRUE(reply.ok());
    if (!reply.ok() || (*reply)->type != REDIS_REPLY_STRING) return -1;
    return std::stoll(std::string(ReplyString(**reply)));
  }

  KeyLayout layout_{kPartitions};
  ChildProcess worker_;
  std::string now_file_;
};

TEST_F(DisengagementTimerTest, RaisedAtDDaysOnceAcrossRestartsThenReengaged) {
  StartTheWorker("w-diseng-1");
  // "a": rupture at session 4; "b": at session 3, a week earlier; "c": at session 5, a week
  // later.
  Send(RuptureAt("a", 4));
  Send(RuptureAt("b", 3));
  Send(RuptureAt("c", 5));
  const int64_t due_a = SessionMs(4) + 14 * kDayMs;
  EXPECT_EQ(Watched("a"), due_a);
  EXPECT_EQ(Watched("b"), SessionMs(3) + 14 * kDayMs);
  EXPECT_TRUE(Alerts("a", "disengagement").empty());  // a day after session 4: not due

  // One second before a's due time: b is due (and raised), a is not.
  SetNow(due_a - 1000);
  ASSERT_TRUE(WaitForAlert("b", "disengagement")) << worker_.ReadLog();
  EXPECT_TRUE(Alerts("a", "disengagement").empty());
  EXPECT_EQ(Watched("a"), due_a);
  EXPECT_EQ(Watched("b"), -1);  // an episode is open: no longer watched

  // At D days: a is raised.
  SetNow(due_a);
  ASSERT_TRUE(WaitForAlert("a", "disengagement")) << worker_.ReadLog();
  std::vector<std::map<std::string, std::string>> raised = Alerts("a", "disengagement");
  ASSERT_EQ(raised.size(), 1u);
  EXPECT_EQ(raised[0]["severity"], "high");
  EXPECT_NE(raised[0]["alert"].find("REASON_NO_RATING_DURING_RUPTURE"), std::string::npos);
  EXPECT_EQ(Watched("a"), -1);

  // A restarted worker (new id, clock later) evaluates again from the stored records: c, never
  // raised, comes first; a and b are not raised again.
  worker_.Kill();
  SetNow(due_a + 10 * kDayMs);
  ASSERT_TRUE(
      redis_
          ->Command({"ZADD",
                     layout_.DisengagementWatch(layout_.PartitionOf("clinic-d", "th-1", "a")), "0",
                     DisengagementWatchMember("clinic-d", "th-1", "a")})
          .ok());  // as if the round's removal had been lost
  StartTheWorker("w-diseng-2");
  ASSERT_TRUE(WaitForAlert("c", "disengagement")) << worker_.ReadLog();
  // a's member (score 0) is due before c's: evaluated in that round or an earlier one.
  const absl::Time deadline = absl::Now() + absl::Seconds(60);
  while (Watched("a") != -1 && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(20));
  EXPECT_EQ(Watched("a"), -1);
  EXPECT_EQ(Alerts("a", "disengagement").size(), 1u);
  EXPECT_EQ(Alerts("b", "disengagement").size(), 1u);

  // a rates again (session 6, still 20): one reengaged of that episode, watched again. Session
  // 6, not 5: the clock stands 24 days after session 4, so session 5 (due 21 days after session
  // 4) would already be due and its next episode could be raised before the check below.
  Send({Srs("a", 6, 5)});
  std::vector<std::map<std::string, std::string>> back = Alerts("a", "reengaged");
  ASSERT_EQ(back.size(), 1u);
  EXPECT_NE(back[0]["alert"].find(raised[0]["alert_id"]), std::string::npos);  // episode id
  EXPECT_EQ(Watched("a"), SessionMs(6) + 14 * kDayMs);
  Send({Srs("a", 6, 5)});  // a redelivery changes nothing
  EXPECT_EQ(Alerts("a", "reengaged").size(), 1u);

  // Erasure removes the client from the watch.
  ConnectionExecutor executor(*redis_);
  ASSERT_TRUE(EraseClientData(executor, layout_, "clinic-d", "a").ok());
  EXPECT_EQ(Watched("a"), -1);
}

}  // namespace
}  // namespace alliance::testing
