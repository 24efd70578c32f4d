// The real alliance-intake under faults: Redis stopped and restarted, Redis killed under load
// (appendonly), SIGTERM under load, a full writer queue and a deadline that expires in the
// queue. Waits are bounded polls on observable state, never timing assertions.
#include <signal.h>

#include <atomic>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/services/intake/intake_fixture.h"

namespace alliance::testing {
namespace {

using ::testing::HasSubstr;

KeyLayout Layout() { return KeyLayout(8); }

// Runs submitting threads (each a loop of blocking calls with unique ids) and records every
// outcome, so a test can check that each acknowledged submission is in Redis.
class LoadDriver {
 public:
  struct Outcome {
    grpc::StatusCode code;
    int partition = 0;
    std::string stream_id;
  };

  LoadDriver(alliance::v1::FeedbackIntake::Stub* stub, int threads, std::string prefix)
      : stub_(stub), prefix_(std::move(prefix)) {
    for (int t = 0; t < threads; ++t) {
      threads_.emplace_back([this, t] { Loop(t); });
    }
  }
  ~LoadDriver() { Stop(); }

  void Stop() {
    stop_ = true;
    for (auto& t : threads_) {
      if (t.joinable()) t.join();
    }
  }

  // Waits (bounded) until `predicate` holds over the outcomes so far.
  bool WaitFor(const std::function<bool(int ok, int errors)>& predicate,
               absl::Duration timeout = absl::Seconds(30)) {
    absl::Time deadline = absl::Now() + timeout;
    while (absl::Now() < deadline) {
      {
        absl::MutexLock lock(&mu_);
        if (predicate(ok_, errors_)) return true;
      }
      absl::SleepFor(absl::Milliseconds(10));
    }
    return false;
  }

  std::vector<Outcome> outcomes() {
    absl::MutexLock lock(&mu_);
    return outcomes_;
  }
  int ok() {
    absl::MutexLock lock(&mu_);
    return ok_;
  }
  int errors() {
    absl::MutexLock lock(&mu_);
    return errors_;
  }

 private:
  void Loop(int thread) {
    for (int i = 0; !stop_ && i < 1'000'000; ++i) {
      alliance::v1::Feedback f = ValidFeedback(absl::StrCat(prefix_, "-", thread, "-", i),
                                               absl::StrCat("client-", i % 50));
      alliance::v1::SubmitFeedbackResponse ack;
      grpc::Status status = Submit(*stub_, f, &ack, absl::Seconds(5));
      {
        absl::MutexLock lock(&mu_);
        outcomes_.push_back({status.error_code(), ack.partition(), ack.stream_id()});
        if (status.ok()) {
          ++ok_;
        } else {
          ++errors_;
        }
      }
      // Back off a little like a real client, so the loop does not spin on refusals.
      if (!status.ok()) absl::SleepFor(absl::Milliseconds(5));
    }
  }

  alliance::v1::FeedbackIntake::Stub* stub_;
  std::string prefix_;
  std::atomic<bool> stop_{false};
  absl::Mutex mu_;
  std::vector<Outcome> outcomes_ ABSL_GUARDED_BY(mu_);
  int ok_ ABSL_GUARDED_BY(mu_) = 0;
  int errors_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<std::thread> threads_;
};

// Every acknowledged submission's stream id is present in Redis.
void ExpectEveryAcknowledgedEntryPresent(RedisConnection& redis,
                                         const std::vector<LoadDriver::Outcome>& outcomes) {
  KeyLayout layout = Layout();
  int checked = 0;
  for (const auto& o : outcomes) {
    if (o.code != grpc::StatusCode::OK) continue;
    ++checked;
    EXPECT_TRUE(StreamHasEntry(redis, layout.FeedbackStream(o.partition), o.stream_id))
        << "acknowledged " << o.stream_id << " in partition " << o.partition << " is missing";
  }
  EXPECT_GT(checked, 0);
}

TEST(IntakeFaultsTest, RedisStoppedIsUnavailableAndNotServingThenRecoversByItself) {
  RedisServer redis;
  ASSERT_TRUE(redis.Start().ok());
  IntakeProcess intake;
  ASSERT_TRUE(intake.Start(redis.port()).ok()) << intake.Log();
  alliance::v1::SubmitFeedbackResponse ack;
  ASSERT_TRUE(Submit(intake.stub(), ValidFeedback("before"), &ack).ok());

  redis.Stop();
  // Writers notice the loss on their next command or idle ping.
  ASSERT_TRUE(intake.WaitForHealth("", false).ok()) << intake.Log();
  EXPECT_EQ(intake.Serving("alliance.v1.FeedbackIntake"), false);
  EXPECT_EQ(intake.Serving("liveness"), true);
  // Refused at once, long before the generous deadline.
  grpc::Status status = Submit(intake.stub(), ValidFeedback("during"), &ack, absl::Seconds(30));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);

  ASSERT_TRUE(redis.Start().ok());
  ASSERT_TRUE(intake.WaitForHealth("", true).ok()) << intake.Log();
  status = Submit(intake.stub(), ValidFeedback("after"), &ack);
  EXPECT_TRUE(status.ok()) << status.error_message();
  EXPECT_THAT(intake.Log(), HasSubstr(R"("event":"redis_connected")"));
}

TEST(IntakeFaultsTest, RedisKilledMidLoadLosesNoAcknowledgedSubmission) {
  RedisServer redis(RedisServer::Options{.appendonly = true});
  ASSERT_TRUE(redis.Start().ok());
  IntakeProcess intake;
  ASSERT_TRUE(intake.Start(redis.port()).ok()) << intake.Log();

  LoadDriver load(&intake.stub(), 8, "kill");
  ASSERT_TRUE(load.WaitFor([](int ok, int) { return ok >= 300; }));
  redis.Kill();
  ASSERT_TRUE(load.WaitFor([](int, int errors) { return errors >= 20; }));
  ASSERT_TRUE(redis.Start().ok());
  int ok_before_restart = load.ok();
  ASSERT_TRUE(load.WaitFor([&](int ok, int) { return ok >= ok_before_restart + 300; }))
      << intake.Log();
  load.Stop();

  auto outcomes = load.outcomes();
  for (const auto& o : outcomes) {
    EXPECT_TRUE(o.code == grpc::StatusCode::OK || o.code == grpc::StatusCode::UNAVAILABLE)
        << "unexpected code " << o.code;
  }
  auto conn = ConnectOrDie(redis);
  ExpectEveryAcknowledgedEntryPresent(*conn, outcomes);
}

TEST(IntakeFaultsTest, SigtermDuringLoadExitsZeroAndLosesNoAcknowledgedSubmission) {
  RedisServer redis;
  ASSERT_TRUE(redis.Start().ok());
  IntakeProcess intake;
  ASSERT_TRUE(intake.Start(redis.port()).ok()) << intake.Log();

  LoadDriver load(&intake.stub(), 8, "term");
  ASSERT_TRUE(load.WaitFor([](int ok, int) { return ok >= 300; }));
  intake.process().Signal(SIGTERM);
  std::optional<int> exit_code = intake.process().Wait(absl::Seconds(40));
  load.Stop();
  ASSERT_TRUE(exit_code.has_value()) << "intake did not exit after SIGTERM";
  EXPECT_EQ(*exit_code, 0) << intake.Log();
  EXPECT_THAT(intake.Log(), HasSubstr(R"("event":"shutdown_complete")"));

  auto conn = ConnectOrDie(redis);
  ExpectEveryAcknowledgedEntryPresent(*conn, load.outcomes());
}

// Fires `n` calls at once without waiting; collects their codes.
class ConcurrentCalls {
 public:
  void Fire(alliance::v1::FeedbackIntake::Stub& stub, const std::vector<alliance::v1::Feedback>& fs,
            absl::Duration deadline) {
    calls_.resize(fs.size());
    for (size_t i = 0; i < fs.size(); ++i) {
      Call& c = calls_[i];
      c.context.set_deadline(absl::ToChronoTime(absl::Now() + deadline));
      *c.request.mutable_feedback() = fs[i];
      stub.async()->SubmitFeedback(&c.context, &c.request, &c.response, [this, &c](grpc::Status s) {
        absl::MutexLock lock(&mu_);
        c.status = s;
        ++done_;
        if (s.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED) ++exhausted_;
      });
    }
  }
  bool WaitFor(const std::function<bool(int done, int exhausted)>& predicate) {
    absl::Time deadline = absl::Now() + absl::Seconds(60);
    while (absl::Now() < deadline) {
      {
        absl::MutexLock lock(&mu_);
        if (predicate(done_, exhausted_)) return true;
      }
      absl::SleepFor(absl::Milliseconds(10));
    }
    return false;
  }
  struct Call {
    grpc::ClientContext context;
    alliance::v1::SubmitFeedbackRequest request;
    alliance::v1::SubmitFeedbackResponse response;
    grpc::Status status;
  };
  std::deque<Call> calls_;

 private:
  absl::Mutex mu_;
  int done_ = 0;
  int exhausted_ = 0;
};

// Pauses Redis for writes (EVALSHA included) so writes pile up in the intake; PING still works.
void PauseWrites(RedisConnection& redis) {
  auto reply = redis.Command({"CLIENT", "PAUSE", "60000", "WRITE"});
  ASSERT_TRUE(reply.ok());
  ASSERT_TRUE(ReplyStatus(**reply).ok());
}
void UnpauseWrites(RedisConnection& redis) {
  auto reply = redis.Command({"CLIENT", "UNPAUSE"});
  ASSERT_TRUE(reply.ok());
}

TEST(IntakeFaultsTest, FullQueueIsResourceExhausted) {
  RedisServer redis;
  ASSERT_TRUE(redis.Start().ok());
  IntakeProcess intake;
  ASSERT_TRUE(intake
                  .Start(redis.port(), {"--writer_threads=1", "--queue_capacity=2",
                                        "--max_pipeline=1", "--redis_timeout_ms=60000"})
                  .ok())
      << intake.Log();
  auto conn = ConnectOrDie(redis);
  PauseWrites(*conn);
  std::vector<alliance::v1::Feedback> fs;
  for (int i = 0; i < 30; ++i) fs.push_back(ValidFeedback(absl::StrCat("full-", i)));
  ConcurrentCalls calls;
  calls.Fire(intake.stub(), fs, absl::Seconds(60));
  // One call is with Redis, two wait in the queue: the rest must be refused.
  ASSERT_TRUE(calls.WaitFor([](int, int exhausted) { return exhausted >= 27; }));
  UnpauseWrites(*conn);
  ASSERT_TRUE(calls.WaitFor([&](int done, int) { return done == 30; }));
  int ok = 0, exhausted = 0;
  for (auto& c : calls.calls_) {
    if (c.status.ok()) ++ok;
    if (c.status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED) {
      ++exhausted;
      EXPECT_THAT(c.status.error_message(), HasSubstr("queue is full"));
    }
  }
  // One call was with Redis and two waited in the queue (two only, if the writer had not
  // taken the first call yet when the burst arrived); every other call was refused.
  EXPECT_GE(ok, 2);
  EXPECT_LE(ok, 3);
  EXPECT_EQ(ok + exhausted, 30);
  EXPECT_EQ(TotalFeedbackEntries(*conn, Layout()), ok);
  EXPECT_EQ(intake.Metric(R"(alliance_intake_writes_total{outcome="queue_full"})"), exhausted);
}

TEST(IntakeFaultsTest, DeadlineExpiredInTheQueueIsNotWritten) {
  RedisServer redis;
  ASSERT_TRUE(redis.Start().ok());
  IntakeProcess intake;
  ASSERT_TRUE(intake
                  .Start(redis.port(),
                         {"--writer_threads=1", "--max_pipeline=1", "--redis_timeout_ms=60000"})
                  .ok())
      << intake.Log();
  auto conn = ConnectOrDie(redis);
  PauseWrites(*conn);
  // A occupies the only writer (sent, waiting for the paused Redis).
  ConcurrentCalls first;
  first.Fire(intake.stub(), {ValidFeedback("occupies-writer")}, absl::Seconds(60));
  ASSERT_TRUE(intake.WaitForMetric("alliance_intake_writes_in_flight", 1).ok());
  // B waits in the queue behind it and its caller gives up.
  alliance::v1::Feedback late = ValidFeedback("gives-up", "client-9");
  ConcurrentCalls second;
  second.Fire(intake.stub(), {late}, absl::Seconds(3));
  ASSERT_TRUE(intake.WaitForMetric("alliance_intake_queue_depth", 1).ok());
  ASSERT_TRUE(second.WaitFor([](int done, int) { return done == 1; }));
  EXPECT_EQ(second.calls_[0].status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  // The server's copy of the deadline starts when the call arrives, a little after the
  // client's; leave it ample margin to pass before the writer gets to B.
  absl::SleepFor(absl::Seconds(1));
  UnpauseWrites(*conn);
  ASSERT_TRUE(first.WaitFor([](int done, int) { return done == 1; }));
  EXPECT_TRUE(first.calls_[0].status.ok()) << first.calls_[0].status.error_message();
  ASSERT_TRUE(
      intake.WaitForMetric(R"(alliance_intake_writes_total{outcome="deadline_expired"})", 1).ok())
      << "appended: " << *intake.Metric(R"(alliance_intake_writes_total{outcome="appended"})")
      << " cancelled: " << *intake.Metric(R"(alliance_intake_writes_total{outcome="cancelled"})");
  KeyLayout layout = Layout();
  int p = layout.PartitionOf(late.tenant_id(), late.therapist_id(), late.client_id());
  auto exists =
      conn->Command({"EXISTS", layout.Idempotency(p, late.tenant_id(), late.idempotency_id())});
  ASSERT_TRUE(exists.ok());
  EXPECT_EQ((*exists)->integer, 0);
  EXPECT_EQ(TotalFeedbackEntries(*conn, layout), 1);
}

}  // namespace
}  // namespace alliance::testing
