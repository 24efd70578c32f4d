// WatchAlerts against a real redis-server and the real alliance-insights binary: resuming from
// a cursor delivers every alert exactly once, 200 watchers all get a burst, a watcher that
// never reads is cut off with RESOURCE_EXHAUSTED without growing the server's memory, filters
// and tenant scoping, heartbeats.
#include <atomic>
#include <map>
#include <set>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/barrier.h"
#include "tests/services/insights/insights_fixture.h"

namespace alliance::testing {
namespace {

using alliance::v1::Alert;
using alliance::v1::WatchAlertsResponse;
using Reader = grpc::ClientReader<WatchAlertsResponse>;

class WatchTest : public InsightsFixture {
 protected:
  std::vector<std::string> ExtraFlags() const override {
    return {"--watch_buffer=256", "--heartbeat_ms=200"};
  }

  // Opens a watch and reads its first message (the heartbeat with the starting cursor), so
  // the watcher is registered before the test appends anything.
  std::unique_ptr<Reader> Open(alliance::v1::AllianceInsights::Stub* stub,
                               grpc::ClientContext* context,
                               const alliance::v1::WatchAlertsRequest& request,
                               std::string* cursor) {
    std::unique_ptr<Reader> reader = stub->WatchAlerts(context, request);
    WatchAlertsResponse first;
    EXPECT_TRUE(reader->Read(&first));
    EXPECT_TRUE(first.heartbeat());
    EXPECT_FALSE(first.cursor().empty());
    if (cursor != nullptr) *cursor = first.cursor();
    return reader;
  }

  std::vector<Alert> Alerts(const std::string& tenant, int from, int count) {
    std::vector<Alert> out;
    for (int i = from; i < from + count; ++i) {
      out.push_back(MakeAlert(tenant, absl::StrCat("t", i % 3), absl::StrCat("c", i % 17), i));
    }
    return out;
  }
};

TEST_F(WatchTest, ResumingFromACursorDeliversEveryAlertExactlyOnce) {
  auto stub = NewStub();
  alliance::v1::WatchAlertsRequest request;
  request.set_tenant_id("clinic-a");
  std::vector<std::string> received;
  std::string cursor;
  {
    grpc::ClientContext context;
    std::unique_ptr<Reader> reader = Open(stub.get(), &context, request, &cursor);
    AppendAlerts(Alerts("clinic-a", 0, 50));
    AppendAlerts(Alerts("clinic-b", 0, 10));  // another tenant's: never delivered
    WatchAlertsResponse message;
    for (int i = 0; i < 20; ++i) {
      ASSERT_TRUE(ReadAlert(reader.get(), &message));
      received.push_back(message.alert().alert_id());
      cursor = message.cursor();
    }
    context.TryCancel();  // disconnect with 30 alerts unread
    while (reader->Read(&message)) {
    }
    reader->Finish();
  }
  AppendAlerts(Alerts("clinic-a", 50, 30));  // appended while nobody watches
  {
    grpc::ClientContext context;
    request.set_cursor(cursor);
    std::unique_ptr<Reader> reader = Open(stub.get(), &context, request, nullptr);
    WatchAlertsResponse message;
    for (int i = 0; i < 60; ++i) {
      ASSERT_TRUE(ReadAlert(reader.get(), &message)) << reader->Finish().error_message();
      received.push_back(message.alert().alert_id());
    }
    // Live again: the next alert is the one appended now, nothing repeated before it.
    AppendAlerts(Alerts("clinic-a", 80, 1));
    ASSERT_TRUE(ReadAlert(reader.get(), &message));
    received.push_back(message.alert().alert_id());
    context.TryCancel();
    reader->Finish();
  }
  std::vector<Alert> expected = Alerts("clinic-a", 0, 81);
  ASSERT_EQ(received.size(), expected.size());
  std::set<std::string> unique(received.begin(), received.end());
  EXPECT_EQ(unique.size(), received.size()) << "an alert arrived twice";
  for (const Alert& a : expected) EXPECT_TRUE(unique.contains(a.alert_id())) << a.alert_id();
  EXPECT_EQ(received.back(), expected.back().alert_id());
}

TEST_F(WatchTest, TwoHundredWatchersAllReceiveABurst) {
  constexpr int kWatchers = 200;
  constexpr int kBurst = 100;
  std::vector<std::unique_ptr<alliance::v1::AllianceInsights::Stub>> stubs;
  for (int c = 0; c < 10; ++c) stubs.push_back(NewStubOnOwnConnection(c));
  std::vector<std::unique_ptr<grpc::ClientContext>> contexts(kWatchers);
  std::vector<std::unique_ptr<Reader>> readers(kWatchers);
  alliance::v1::WatchAlertsRequest request;
  request.set_tenant_id("clinic-a");
  for (int w = 0; w < kWatchers; ++w) {
    contexts[w] = std::make_unique<grpc::ClientContext>();
    readers[w] = Open(stubs[w % stubs.size()].get(), contexts[w].get(), request, nullptr);
  }
  EXPECT_EQ(Metric("alliance_insights_watchers"), kWatchers);
  std::vector<Alert> burst = Alerts("clinic-a", 0, kBurst);
  AppendAlerts(burst);
  std::vector<std::vector<std::string>> got(kWatchers);
  std::vector<std::thread> threads;
  for (int w = 0; w < kWatchers; ++w) {
    threads.emplace_back([&, w] {
      WatchAlertsResponse message;
      while (static_cast<int>(got[w].size()) < kBurst && ReadAlert(readers[w].get(), &message)) {
        got[w].push_back(message.alert().alert_id());
      }
    });
  }
  for (auto& t : threads) t.join();
  for (int w = 0; w < kWatchers; ++w) {
    ASSERT_EQ(got[w].size(), static_cast<size_t>(kBurst)) << "watcher " << w;
    std::set<std::string> unique(got[w].begin(), got[w].end());
    EXPECT_EQ(unique.size(), static_cast<size_t>(kBurst));
    contexts[w]->TryCancel();
    readers[w]->Finish();
  }
}

TEST_F(WatchTest, AWatcherThatNeverReadsIsCutOffAndMemoryStaysBounded) {
  auto stub = NewStub();
  alliance::v1::WatchAlertsRequest request;
  request.set_tenant_id("clinic-a");
  grpc::ClientContext context;
  std::unique_ptr<Reader> reader = Open(stub.get(), &context, request, nullptr);
  const long rss_before = ServiceRssKib();
  // Large alerts fill the transport windows quickly; keep appending until the server gives
  // up on the watcher (bounded: at most 200 rounds of 200 alerts).
  int appended = 0;
  for (int round = 0; round < 200 && Metric("alliance_insights_watchers_dropped_slow_total") < 1;
       ++round) {
    std::vector<Alert> alerts = Alerts("clinic-a", appended, 200);
    for (Alert& a : alerts) a.set_suggested_focus(std::string(2000, 'f'));
    AppendAlerts(alerts);
    appended += 200;
  }
  EXPECT_EQ(Metric("alliance_insights_watchers_dropped_slow_total"), 1);
  // Bounded: nothing stays buffered for the dropped watcher, and the process did not grow
  // with the (several MB of) alerts it could not deliver.
  EXPECT_EQ(Metric("alliance_insights_watch_buffered_messages"), 0);
  EXPECT_LT(ServiceRssKib() - rss_before, 64 * 1024) << "appended " << appended;

  // The client reads what was in flight, then RESOURCE_EXHAUSTED with the resume cursor.
  WatchAlertsResponse message;
  std::string last_cursor;
  std::set<std::string> received;
  while (reader->Read(&message)) {
    last_cursor = message.cursor();
    if (!message.heartbeat()) {
      EXPECT_TRUE(received.insert(message.alert().alert_id()).second);
    }
  }
  grpc::Status status = reader->Finish();
  EXPECT_EQ(status.error_code(), grpc::RESOURCE_EXHAUSTED);
  EXPECT_TRUE(absl::StrContains(status.error_message(), last_cursor)) << status.error_message();
  auto trailer = context.GetServerTrailingMetadata().find("alliance-resume-cursor");
  ASSERT_NE(trailer, context.GetServerTrailingMetadata().end());
  EXPECT_EQ(std::string(trailer->second.data(), trailer->second.size()), last_cursor);

  // Resuming from it delivers exactly the alerts not received yet.
  grpc::ClientContext resume_context;
  request.set_cursor(last_cursor);
  std::unique_ptr<Reader> resumed = Open(stub.get(), &resume_context, request, nullptr);
  const size_t missing = appended - received.size();
  for (size_t i = 0; i < missing; ++i) {
    ASSERT_TRUE(ReadAlert(resumed.get(), &message))
        << i << " of " << missing << ": " << resumed->Finish().error_message();
    EXPECT_TRUE(received.insert(message.alert().alert_id()).second) << "repeated";
  }
  EXPECT_EQ(received.size(), static_cast<size_t>(appended));
  resume_context.TryCancel();
  resumed->Finish();
}

TEST_F(WatchTest, FiltersAndHeartbeats) {
  auto stub = NewStub();
  alliance::v1::WatchAlertsRequest request;
  request.set_tenant_id("clinic-a");
  request.set_therapist_id("t1");
  request.set_min_severity(alliance::v1::SEVERITY_HIGH);
  request.add_kinds(alliance::v1::ALERT_KIND_UNREPAIRED);
  grpc::ClientContext context;
  std::unique_ptr<Reader> reader = Open(stub.get(), &context, request, nullptr);
  std::vector<Alert> alerts = {
      MakeAlert("clinic-a", "t2", "c1", 1, alliance::v1::SEVERITY_CRITICAL,
                alliance::v1::ALERT_KIND_UNREPAIRED),  // other therapist
      MakeAlert("clinic-a", "t1", "c1", 2, alliance::v1::SEVERITY_WARNING,
                alliance::v1::ALERT_KIND_UNREPAIRED),  // too mild
      MakeAlert("clinic-a", "t1", "c1", 3, alliance::v1::SEVERITY_CRITICAL,
                alliance::v1::ALERT_KIND_RUPTURE),  // other kind
      MakeAlert("clinic-b", "t1", "c1", 4, alliance::v1::SEVERITY_CRITICAL,
                alliance::v1::ALERT_KIND_UNREPAIRED),  // other tenant
      MakeAlert("clinic-a", "t1", "c1", 5, alliance::v1::SEVERITY_CRITICAL,
                alliance::v1::ALERT_KIND_UNREPAIRED),  // the one
  };
  AppendAlerts(alerts);
  WatchAlertsResponse message;
  ASSERT_TRUE(ReadAlert(reader.get(), &message));
  EXPECT_EQ(message.alert().alert_id(), alerts[4].alert_id());
  // Idle now: heartbeats arrive (with a cursor) while nothing matches.
  ASSERT_TRUE(reader->Read(&message));
  EXPECT_TRUE(message.heartbeat());
  EXPECT_FALSE(message.cursor().empty());
  context.TryCancel();
  reader->Finish();

  grpc::ClientContext bad_context;
  alliance::v1::WatchAlertsRequest bad;
  bad.set_tenant_id("clinic-a");
  bad.set_cursor("garbage");
  auto bad_reader = stub->WatchAlerts(&bad_context, bad);
  EXPECT_FALSE(bad_reader->Read(&message));
  EXPECT_EQ(bad_reader->Finish().error_code(), grpc::INVALID_ARGUMENT);
}

}  // namespace
}  // namespace alliance::testing
