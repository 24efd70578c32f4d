// WatchAlerts against a real redis-server and the real alliance-insights binary: resuming from
// a cursor delivers every alert exactly once, 200 watchers all get a burst, a watcher that
// never reads is cut off with RESOURCE_EXHAUSTED without growing the server's memory, filters
// and tenant scoping, heartbeats, cursors that reveal nothing of other tenants' alerts, and
// cursor validation. (Limits: watch_limits_test.cc.)
#include <atomic>
#include <limits>
#include <map>
#include <set>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/barrier.h"
#include "services/insights/tokens.h"
#include "store/stream_id.h"
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

  // The id of the newest entry of partition `p`'s alert stream.
  StreamId NewestEntry(int p) {
    auto reply = conn_->Command({"XREVRANGE", layout_.AlertStream(p), "+", "-", "COUNT", "1"});
    EXPECT_TRUE(reply.ok() && (*reply)->type == REDIS_REPLY_ARRAY && (*reply)->elements == 1);
    if (!reply.ok() || (*reply)->elements != 1) return {};
    std::optional<StreamId> id = StreamId::Parse(ReplyString(*(*reply)->element[0]->element[0]));
    EXPECT_TRUE(id.has_value());
    return id.value_or(StreamId{});
  }

  static Positions Decode(const std::string& cursor) {
    absl::StatusOr<Positions> positions = insights::DecodeWatchCursor(cursor, kPartitions);
    EXPECT_TRUE(positions.ok()) << positions.status();
    return positions.value_or(Positions(kPartitions));
  }

  // Reads until a heartbeat arrives; its cursor, empty at stream end.
  static std::string NextHeartbeatCursor(Reader* reader) {
    WatchAlertsResponse message;
    // Bounded by the stream: every iteration consumes one message.
    while (reader->Read(&message)) {
      if (message.heartbeat()) return message.cursor();
    }
    return "";
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

// 64 MiB; AddressSanitizer's redzones, shadow and quarantine about double what the same
// allocations hold, so its build gets twice the bound (its job there is memory errors).
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ALLIANCE_WATCH_TEST_UNDER_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(ALLIANCE_WATCH_TEST_UNDER_ASAN)
constexpr long kRssGrowthBoundKib = 128 * 1024;
#else
constexpr long kRssGrowthBoundKib = 64 * 1024;
#endif

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
  EXPECT_LT(ServiceRssKib() - rss_before, kRssGrowthBoundKib) << "appended " << appended;

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

TEST_F(WatchTest, AnotherTenantsAlertDoesNotMoveTheCursor) {
  auto stub = NewStub();
  alliance::v1::WatchAlertsRequest a_request;
  a_request.set_tenant_id("clinic-a");
  alliance::v1::WatchAlertsRequest b_request;
  b_request.set_tenant_id("clinic-b");
  grpc::ClientContext a_context;
  grpc::ClientContext b_context;
  std::unique_ptr<Reader> a_reader = Open(stub.get(), &a_context, a_request, nullptr);
  std::unique_ptr<Reader> b_reader = Open(stub.get(), &b_context, b_request, nullptr);

  // clinic-b's own alert: its cursor holds that position.
  const int p = layout_.PartitionOf("clinic-b", "t1", "c1");
  AppendAlerts({MakeAlert("clinic-b", "t1", "c1", 1)});
  const StreamId b_id = NewestEntry(p);
  WatchAlertsResponse message;
  ASSERT_TRUE(ReadAlert(b_reader.get(), &message));
  EXPECT_EQ(Decode(message.cursor())[p], b_id);

  // clinic-a's alert lands in the same partition.
  std::string client;
  for (int i = 0; i < 1000 && client.empty(); ++i) {
    if (layout_.PartitionOf("clinic-a", "t1", absl::StrCat("c", i)) == p) {
      client = absl::StrCat("c", i);
    }
  }
  ASSERT_FALSE(client.empty());
  AppendAlerts({MakeAlert("clinic-a", "t1", client, 2)});
  const StreamId a_id = NewestEntry(p);
  ASSERT_LT(b_id, a_id);
  // clinic-a's watcher got it, so the fan-out gave it to clinic-b's watcher too; the second
  // heartbeat from now was queued after that.
  ASSERT_TRUE(ReadAlert(a_reader.get(), &message));
  ASSERT_FALSE(NextHeartbeatCursor(b_reader.get()).empty());
  const Positions later = Decode(NextHeartbeatCursor(b_reader.get()));
  EXPECT_EQ(later[p], b_id) << "clinic-b's cursor moved with clinic-a's alert";
  for (int q = 0; q < kPartitions; ++q) {
    EXPECT_LT(later[q], a_id) << "partition " << q;
    // Partitions without clinic-b's alerts all show the same time floor, nothing of their own.
    if (q != p) {
      EXPECT_EQ(later[q], later[(p + 1) % kPartitions]) << "partition " << q;
    }
  }
  a_context.TryCancel();
  a_reader->Finish();
  b_context.TryCancel();
  b_reader->Finish();
}

TEST_F(WatchTest, ResumingAfterOtherTenantsAlertsNeitherMissesNorRepeats) {
  auto stub = NewStub();
  alliance::v1::WatchAlertsRequest request;
  request.set_tenant_id("clinic-b");
  // Both tenants' alerts, interleaved, in the same partitions.
  auto append_interleaved = [this](int from, int count) {
    std::vector<Alert> alerts;
    for (int i = from; i < from + count; ++i) {
      alerts.push_back(Alerts("clinic-a", i, 1)[0]);
      alerts.push_back(Alerts("clinic-b", i, 1)[0]);
    }
    AppendAlerts(alerts);
  };
  std::vector<std::string> received;
  WatchAlertsResponse message;
  std::string cursor;
  {
    grpc::ClientContext context;
    std::unique_ptr<Reader> reader = Open(stub.get(), &context, request, nullptr);
    append_interleaved(0, 30);
    for (int i = 0; i < 10; ++i) {
      ASSERT_TRUE(ReadAlert(reader.get(), &message));
      received.push_back(message.alert().alert_id());
      cursor = message.cursor();  // an alert's cursor
    }
    context.TryCancel();
    reader->Finish();
  }
  append_interleaved(30, 20);
  {
    grpc::ClientContext context;
    request.set_cursor(cursor);
    std::unique_ptr<Reader> reader = Open(stub.get(), &context, request, nullptr);
    for (int i = 0; i < 40; ++i) {
      ASSERT_TRUE(ReadAlert(reader.get(), &message)) << reader->Finish().error_message();
      received.push_back(message.alert().alert_id());
    }
    cursor = NextHeartbeatCursor(reader.get());  // a heartbeat's cursor
    ASSERT_FALSE(cursor.empty());
    context.TryCancel();
    reader->Finish();
  }
  append_interleaved(50, 10);
  {
    grpc::ClientContext context;
    request.set_cursor(cursor);
    std::unique_ptr<Reader> reader = Open(stub.get(), &context, request, nullptr);
    for (int i = 0; i < 10; ++i) {
      ASSERT_TRUE(ReadAlert(reader.get(), &message)) << reader->Finish().error_message();
      received.push_back(message.alert().alert_id());
    }
    // Live again: the next alert is the one appended now, nothing repeated before it.
    append_interleaved(60, 1);
    ASSERT_TRUE(ReadAlert(reader.get(), &message));
    received.push_back(message.alert().alert_id());
    context.TryCancel();
    reader->Finish();
  }
  std::vector<Alert> expected = Alerts("clinic-b", 0, 61);
  ASSERT_EQ(received.size(), expected.size());
  std::set<std::string> unique(received.begin(), received.end());
  EXPECT_EQ(unique.size(), received.size()) << "an alert arrived twice";
  for (const Alert& a : expected) EXPECT_TRUE(unique.contains(a.alert_id())) << a.alert_id();
  EXPECT_EQ(received.back(), expected.back().alert_id());
}

TEST_F(WatchTest, CursorsAreValidatedAndEdgePositionsWork) {
  AppendAlerts(Alerts("clinic-a", 0, 20));
  auto stub = NewStub();
  // Opens a watch from `cursor` and reads up to `alerts` alerts; the status at the end (OK
  // when they all came). The deadline only bounds a failing run.
  auto watch_from = [&](const std::string& cursor, int alerts, int* read) {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(20)));
    alliance::v1::WatchAlertsRequest request;
    request.set_tenant_id("clinic-a");
    request.set_cursor(cursor);
    std::unique_ptr<Reader> reader = stub->WatchAlerts(&context, request);
    WatchAlertsResponse message;
    *read = 0;
    while (*read < alerts && ReadAlert(reader.get(), &message)) ++*read;
    if (*read == alerts) context.TryCancel();
    while (reader->Read(&message)) {
    }
    grpc::Status status = reader->Finish();
    return *read == alerts ? grpc::Status::OK : status;
  };
  constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();
  int read = 0;
  // From the start of every stream: everything, once.
  EXPECT_TRUE(watch_from(insights::EncodeWatchCursor(Positions(kPartitions)), 20, &read).ok());
  EXPECT_EQ(read, 20);
  // The largest sequence number of an early millisecond: still before every entry.
  EXPECT_TRUE(
      watch_from(insights::EncodeWatchCursor(Positions(kPartitions, StreamId{1, kMax})), 20, &read)
          .ok());
  EXPECT_EQ(read, 20);
  // Positions no entry can have yet: refused, not a watcher that silently skips what comes.
  auto code_from = [&](const Positions& positions) {
    int unused = 0;
    return watch_from(insights::EncodeWatchCursor(positions), 1, &unused).error_code();
  };
  const uint64_t in_an_hour = absl::ToUnixMillis(absl::Now() + absl::Hours(1));
  EXPECT_EQ(code_from(Positions(kPartitions, StreamId{in_an_hour, 0})), grpc::INVALID_ARGUMENT);
  EXPECT_EQ(code_from(Positions(kPartitions, StreamId{kMax, kMax})), grpc::INVALID_ARGUMENT);
  EXPECT_EQ(code_from(Positions(kPartitions + 1)), grpc::INVALID_ARGUMENT);
  // The service is unharmed: a new watcher gets a new alert.
  grpc::ClientContext context;
  alliance::v1::WatchAlertsRequest request;
  request.set_tenant_id("clinic-a");
  std::unique_ptr<Reader> reader = Open(stub.get(), &context, request, nullptr);
  AppendAlerts(Alerts("clinic-a", 20, 1));
  WatchAlertsResponse message;
  ASSERT_TRUE(ReadAlert(reader.get(), &message));
  EXPECT_EQ(message.alert().alert_id(), Alerts("clinic-a", 20, 1)[0].alert_id());
  context.TryCancel();
  reader->Finish();
}

}  // namespace
}  // namespace alliance::testing
