// The dead-letter procedure of docs/operations.md, end to end with the real worker and the
// documented script: a rating for an instrument the worker does not know yet (intake was
// updated first) is parked; the cause is fixed (the worker gets the instrument); the replay
// script moves it back; the rating is applied exactly once, and a second replay changes nothing.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "common/process.h"
#include "tests/support/child_process.h"
#include "tests/support/redis_server.h"
#include "tests/support/redis_test.h"
#include "tests/worker/worker_fixture.h"

namespace alliance::testing {
namespace {

constexpr int kPartitions = 4;

class DeadLetterRunbookTest : public RedisTest {
 protected:
  void SetUp() override {
    RedisTest::SetUp();
    if (HasFatalFailure()) return;
    dir_ = absl::StrCat(::testing::TempDir(), "/dead-letter-runbook-", getpid());
    std::filesystem::create_directories(dir_ + "/instruments");
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::vector<std::string> Args(const std::string& id) {
    std::vector<std::string> args = WorkerArgs(server_.port(), kPartitions, id);
    args.push_back("--lease_ms=1000");
    args.push_back("--block_ms=50");
    args.push_back("--max_attempts=2");
    return args;
  }

  // A clinic's own copy of SRS under another id: the instrument the worker lacks at first.
  void WriteClinicInstrument() {
    absl::StatusOr<std::string> srs =
        ReadFileToString(SourcePath("analytics/instruments/srs.json"));
    ASSERT_TRUE(srs.ok()) << srs.status();
    std::ofstream(dir_ + "/instruments/srs-clinic.json")
        << absl::StrReplaceAll(*srs, {{"\"id\": \"srs\"", "\"id\": \"srs-clinic\""}});
  }

  void Drain(ChildProcess& worker) {
    absl::Status s = WaitForDrained(server_.endpoint(), layout_, absl::Seconds(60));
    ASSERT_TRUE(s.ok()) << s << "\n" << worker.ReadLog();
  }

  // Runs scripts/replay-dead-letters.sh with the built worker; returns what it printed.
  std::string Replay() {
    ChildProcess script;
    std::vector<std::string> args = {SourcePath("scripts/replay-dead-letters.sh"),
                                     absl::StrCat("--redis_port=", server_.port()),
                                     absl::StrCat("--partitions=", kPartitions),
                                     "--redis_host=127.0.0.1", "--log_level=warning"};
    setenv("ALLIANCE_WORKER_BIN", BinaryPath("alliance-worker").c_str(), 1);
    const std::string log = absl::StrCat(dir_, "/replay-", ++replays_, ".log");
    EXPECT_TRUE(script.Start("/bin/bash", args, log).ok());
    EXPECT_EQ(script.Wait(absl::Seconds(30)), 0) << script.ReadLog();
    return script.ReadLog();
  }

  size_t DeadLetters(int partition) {
    auto dead = ReadStream(*redis_, layout_.DeadLetterStream(partition));
    EXPECT_TRUE(dead.ok()) << dead.status();
    return dead.ok() ? dead->size() : 0;
  }

  KeyLayout layout_{kPartitions};
  std::string dir_;
  int replays_ = 0;
};

TEST_F(DeadLetterRunbookTest, ParkedFixedReplayedAndAppliedOnce) {
  std::mt19937 rng(11);
  Submission rating{"clinic-a",   "th-1", "cl-1", "acc-clinic-1",
                    "srs-clinic", 1,      1,      AnswersAt("srs", 85, 0, rng)};
  const int p = layout_.PartitionOf(rating.tenant, rating.therapist, rating.client);
  ASSERT_TRUE(Feed(*redis_, layout_, {rating}).ok());

  // Parked: the worker does not know the instrument.
  {
    ChildProcess worker;
    ASSERT_TRUE(StartWorker(worker, Args("w-before"), "before").ok());
    Drain(worker);
    ASSERT_EQ(DeadLetters(p), 1u) << worker.ReadLog();
    worker.Signal(SIGTERM);
    ASSERT_EQ(worker.Wait(absl::Seconds(20)), 0) << worker.ReadLog();
  }
  EXPECT_FALSE(ReadRecord(*redis_, layout_, "clinic-a", "th-1", "cl-1").ok());

  // The cause fixed, then replayed with the documented script: one entry moved back.
  WriteClinicInstrument();
  std::string printed = Replay();
  EXPECT_NE(printed.find("1\n"), std::string::npos) << printed;
  EXPECT_EQ(DeadLetters(p), 0u);

  ChildProcess worker;
  std::vector<std::string> args = Args("w-after");
  args.push_back(absl::StrCat("--instruments_dir=", dir_, "/instruments"));
  ASSERT_TRUE(StartWorker(worker, args, "after").ok());
  Drain(worker);
  auto record = ReadRecord(*redis_, layout_, "clinic-a", "th-1", "cl-1");
  ASSERT_TRUE(record.ok()) << record.status() << "\n" << worker.ReadLog();
  EXPECT_EQ(record->ratings_size(), 1);
  EXPECT_EQ(record->picture().ratings_applied(), 1);
  ASSERT_EQ(record->picture().series_size(), 1);
  EXPECT_EQ(record->picture().series(0).instrument_id(), "srs-clinic");
  EXPECT_EQ(DeadLetters(p), 0u);

  // A second replay (an operator rerunning the step) finds nothing and changes nothing; the same
  // rating submitted again meanwhile is not applied twice either.
  printed = Replay();
  EXPECT_NE(printed.find("0\n"), std::string::npos) << printed;
  ASSERT_TRUE(Feed(*redis_, layout_, {rating}).ok());
  Drain(worker);
  auto again = ReadRecord(*redis_, layout_, "clinic-a", "th-1", "cl-1");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->ratings_size(), 1);
  EXPECT_EQ(again->picture().ratings_applied(), 1);
}

}  // namespace
}  // namespace alliance::testing
