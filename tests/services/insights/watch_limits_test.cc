// WatchAlerts limits against a real redis-server and the real alliance-insights binary with
// authentication on: a tenant at its limit is refused while another tenant still opens
// streams, the per-key limit counts each key alone, a slow watcher that is cut off gives its
// slot back at once (not when its client finally reads), and an ended stream nobody reads is
// reset after the grace.
#include <fstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "tests/services/insights/insights_fixture.h"
#include "tests/support/api_keys.h"

namespace alliance::testing {
namespace {

using alliance::v1::Alert;
using alliance::v1::WatchAlertsResponse;
using Reader = grpc::ClientReader<WatchAlertsResponse>;

constexpr char kKeyA1[] = "watch-key-a1-7c2e91d04b";
constexpr char kKeyA2[] = "watch-key-a2-0f5d3a8e66";
constexpr char kKeyB1[] = "watch-key-b1-94be17c2d3";

// One watch stream: its context (which must outlive the reader) and reader.
struct Stream {
  std::unique_ptr<grpc::ClientContext> context = std::make_unique<grpc::ClientContext>();
  std::unique_ptr<Reader> reader;
};

class WatchLimitsTest : public InsightsFixture {
 protected:
  std::vector<std::string> ExtraFlags() const override {
    std::string keys = absl::StrCat(redis_.dir(), "/api-keys.json");
    EXPECT_TRUE(WriteApiKeyFile(keys, {{"a1", kKeyA1, "clinic-a", {"watch"}},
                                       {"a2", kKeyA2, "clinic-a", {"watch"}},
                                       {"b1", kKeyB1, "clinic-b", {"watch"}}})
                    .ok());
    return {absl::StrCat("--api_keys_file=", keys), "--max_watchers_per_key=2",
            "--max_watchers_per_tenant=3",
            // Large enough that a watcher is only cut off once gRPC can no longer write to
            // it (its client's flow-control window is full), as with a real stalled client.
            "--watch_buffer=256", "--heartbeat_ms=200",
            absl::StrCat("--watch_end_grace_ms=", EndGraceMs())};
  }
  // Long by default: what the tests below see is the slot given back at the cut-off itself.
  virtual int EndGraceMs() const { return 600000; }

  // Opens a stream with `key`. On success the first message (the heartbeat with the starting
  // cursor) has been read, so the stream holds its slot; otherwise `status` says why.
  Stream Open(const std::string& key, grpc::Status* status,
              const std::string& therapist_filter = "") {
    Stream s;
    UseKey(*s.context, key);
    alliance::v1::WatchAlertsRequest request;
    request.set_therapist_id(therapist_filter);
    s.reader = stub_->WatchAlerts(s.context.get(), request);
    WatchAlertsResponse first;
    if (s.reader->Read(&first)) {
      EXPECT_TRUE(first.heartbeat());
      *status = grpc::Status::OK;
    } else {
      *status = s.reader->Finish();
      s.reader.reset();
    }
    return s;
  }
  Stream MustOpen(const std::string& key, const std::string& therapist_filter = "") {
    grpc::Status status;
    Stream s = Open(key, &status, therapist_filter);
    EXPECT_TRUE(status.ok()) << status.error_code() << " " << status.error_message();
    return s;
  }
  static void Close(Stream& s) {
    if (s.reader == nullptr) return;
    s.context->TryCancel();
    WatchAlertsResponse message;
    while (s.reader->Read(&message)) {
    }
    s.reader->Finish();
    s.reader.reset();
  }
  // The client sees its cancelled stream end before the service hears of it: waits (at most
  // 200 polls of 50 ms) until the service has let go of the stream, so that it counts
  // `open` streams.
  void WaitForWatchers(double open) const {
    for (int i = 0; i < 200 && Metric("alliance_insights_watchers") != open; ++i) {
      absl::SleepFor(absl::Milliseconds(50));
    }
    ASSERT_EQ(Metric("alliance_insights_watchers"), open);
  }

  double Refused(const std::string& reason) const {
    return Metric(
        absl::StrCat("alliance_insights_watchers_refused_total{reason=\"", reason, "\"}"));
  }

  // Appends large clinic-a alerts until the service has cut one watcher off for being slow
  // (bounded: at most 200 rounds of 100 alerts).
  void AppendUntilAWatcherIsCutOff() {
    int appended = 0;
    for (int round = 0; round < 200 && Metric("alliance_insights_watchers_dropped_slow_total") < 1;
         ++round) {
      std::vector<Alert> alerts;
      for (int i = appended; i < appended + 100; ++i) {
        Alert a = MakeAlert("clinic-a", "t1", absl::StrCat("c", i % 17), i);
        a.set_suggested_focus(std::string(2000, 'f'));
        alerts.push_back(std::move(a));
      }
      AppendAlerts(alerts);
      appended += 100;
    }
    ASSERT_EQ(Metric("alliance_insights_watchers_dropped_slow_total"), 1);
  }

  void SetUp() override {
    InsightsFixture::SetUp();
    stub_ = NewStub();
  }
  void TearDown() override {
    stub_.reset();  // its channel would keep the draining service waiting
    InsightsFixture::TearDown();
  }
  std::unique_ptr<alliance::v1::AllianceInsights::Stub> stub_;
};

TEST_F(WatchLimitsTest, ATenantAtItsLimitIsRefusedWhileAnotherTenantStillOpensStreams) {
  std::vector<Stream> a;
  a.push_back(MustOpen(kKeyA1));
  a.push_back(MustOpen(kKeyA1));
  a.push_back(MustOpen(kKeyA2));  // clinic-a now holds 3, its limit
  grpc::Status status;
  Stream refused = Open(kKeyA2, &status);
  EXPECT_EQ(status.error_code(), grpc::RESOURCE_EXHAUSTED);
  EXPECT_TRUE(absl::StrContains(status.error_message(), "tenant")) << status.error_message();
  EXPECT_TRUE(absl::StrContains(status.error_message(), "3")) << status.error_message();
  EXPECT_EQ(Refused("per_tenant"), 1);

  // Another tenant is not affected.
  Stream b1 = MustOpen(kKeyB1);
  Stream b2 = MustOpen(kKeyB1);

  // A stream the client closes gives its slot back.
  Close(a[0]);
  WaitForWatchers(4);
  Stream again = MustOpen(kKeyA2);

  for (Stream& s : a) Close(s);
  Close(again);
  Close(b1);
  Close(b2);
}

TEST_F(WatchLimitsTest, ThePerKeyLimitCountsEachKeyAlone) {
  Stream s1 = MustOpen(kKeyA1);
  Stream s2 = MustOpen(kKeyA1);
  grpc::Status status;
  Stream refused = Open(kKeyA1, &status);
  EXPECT_EQ(status.error_code(), grpc::RESOURCE_EXHAUSTED);
  EXPECT_TRUE(absl::StrContains(status.error_message(), "API key")) << status.error_message();
  EXPECT_EQ(Refused("per_key"), 1);
  EXPECT_EQ(Refused("per_tenant"), 0);  // never refused for the tenant (registered at zero)
  // The tenant's other key still opens a stream.
  Stream other = MustOpen(kKeyA2);
  Close(s1);
  Close(s2);
  Close(other);
}

TEST_F(WatchLimitsTest, ASlowWatcherThatIsCutOffFreesItsSlotAtOnce) {
  // a1 holds both its slots: one stream that never reads, one that nothing matches.
  Stream never_reads = MustOpen(kKeyA1);
  Stream idle = MustOpen(kKeyA1, /*therapist_filter=*/"nobody");
  grpc::Status status;
  Open(kKeyA1, &status);
  ASSERT_EQ(status.error_code(), grpc::RESOURCE_EXHAUSTED);
  WaitForWatchers(2);  // the refused stream is gone; the two that hold the slots remain

  AppendUntilAWatcherIsCutOff();
  // Usually the cut-off stream is still open as far as gRPC goes (its client has not read the
  // end, so gRPC holds it until the grace resets it); whether or not gRPC has finished it
  // already, its key slot is free at the cut-off itself.
  Stream next = MustOpen(kKeyA1, "nobody");
  ASSERT_NE(next.reader, nullptr);

  // The slow client, reading at last, gets RESOURCE_EXHAUSTED and its resume cursor.
  WatchAlertsResponse message;
  while (never_reads.reader->Read(&message)) {
  }
  EXPECT_EQ(never_reads.reader->Finish().error_code(), grpc::RESOURCE_EXHAUSTED);
  never_reads.reader.reset();
  Close(idle);
  Close(next);
}

class WatchEndGraceTest : public WatchLimitsTest {
 protected:
  int EndGraceMs() const override { return 300; }
};

TEST_F(WatchEndGraceTest, AnEndedStreamWhoseClientDoesNotReadIsReset) {
  Stream never_reads = MustOpen(kKeyA1);
  AppendUntilAWatcherIsCutOff();
  // Reset after the grace: gRPC is done with the call, the process slot is free. Bounded
  // wait: 200 polls of 100 ms, far beyond the 300 ms grace.
  for (int i = 0; i < 200 && Metric("alliance_insights_watchers") != 0; ++i) {
    absl::SleepFor(absl::Milliseconds(100));
  }
  EXPECT_EQ(Metric("alliance_insights_watchers"), 0);
  EXPECT_EQ(Metric("alliance_insights_watchers_reset_total"), 1);
  WatchAlertsResponse message;
  while (never_reads.reader->Read(&message)) {
  }
  EXPECT_FALSE(never_reads.reader->Finish().ok());
  never_reads.reader.reset();
}

}  // namespace
}  // namespace alliance::testing
