// The dashboard API of the real alliance-insights on its HTTP port (docs/dashboard.md), against
// a real redis-server: every JSON route answers what the gRPC method answers for the same data,
// errors are the gRPC errors as JSON with their HTTP status, the alert workflow over HTTP shows
// over gRPC, and the Server-Sent Events stream delivers appended alerts with ids, resumes from
// Last-Event-ID exactly, shares the watch limits with gRPC streams and cuts off a client that
// never reads. Every wait is bounded (reads time out after 20 s); nothing is timed.
#include <arpa/inet.h>
#include <google/protobuf/util/json_util.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <deque>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "nlohmann/json.hpp"
#include "tests/services/insights/insights_fixture.h"
#include "tests/support/api_keys.h"
#include "tests/support/child_process.h"

namespace alliance::testing {
namespace {

using alliance::v1::Alert;
using ::testing::HasSubstr;

constexpr char kRead[] = "dash-read-a-5d1c0e7a92";
constexpr char kReadB[] = "dash-read-b-8a3f62c1d4";
constexpr char kWatch1[] = "dash-watch-a1-1b7e4c90f2";
constexpr char kWatch2[] = "dash-watch-a2-93c0d8e15a";

struct Got {
  int status = 0;
  std::string body;
  nlohmann::json json;
  std::string www_authenticate;
};

nlohmann::json GrpcJson(const google::protobuf::Message& message) {
  std::string out;
  EXPECT_TRUE(google::protobuf::util::MessageToJsonString(message, &out).ok());
  return nlohmann::json::parse(out);
}

// One Server-Sent Event as a client sees it (comment: the text of a ": ..." line).
struct Event {
  std::string id;
  std::string event;
  std::string data;
  std::string comment;
};

// An SSE client on its own thread (httplib's content receiver), parsing events into a queue.
class SseClient {
 public:
  SseClient(int port, const std::string& path, httplib::Headers headers) {
    thread_ = std::thread([this, port, path, headers] {
      httplib::Client client("127.0.0.1", port);
      client.set_read_timeout(20, 0);
      client.Get(
          path, headers,
          [this](const httplib::Response& response) {
            absl::MutexLock lock(&mu_);
            status_ = response.status;
            return true;
          },
          [this](const char* data, size_t size) {
            absl::MutexLock lock(&mu_);
            buffer_.append(data, size);
            Parse();
            return !stop_.load();
          });
      absl::MutexLock lock(&mu_);
      ended_ = true;
    });
  }
  ~SseClient() { Stop(); }

  void Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  // The response status (0 if none came within 20 s).
  int Status() {
    absl::MutexLock lock(&mu_);
    auto known = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return status_ != 0 || ended_; };
    mu_.AwaitWithTimeout(absl::Condition(&known), absl::Seconds(20));
    return status_;
  }
  // The next event or comment; false when the stream ended or none came within 20 s.
  bool Next(Event* out) {
    absl::MutexLock lock(&mu_);
    auto ready = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return !events_.empty() || ended_; };
    mu_.AwaitWithTimeout(absl::Condition(&ready), absl::Seconds(20));
    if (events_.empty()) return false;
    *out = std::move(events_.front());
    events_.pop_front();
    return true;
  }
  // The next alert event (skipping heartbeats); false as Next.
  bool NextAlert(Event* out) {
    while (Next(out)) {
      if (out->event == "alert") return true;
    }
    return false;
  }

 private:
  void Parse() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    size_t end;
    while ((end = buffer_.find("\n\n")) != std::string::npos) {
      Event event;
      for (absl::string_view line : absl::StrSplit(buffer_.substr(0, end), '\n')) {
        if (absl::ConsumePrefix(&line, ": ")) {
          event.comment = std::string(line);
        } else if (absl::ConsumePrefix(&line, "id: ")) {
          event.id = std::string(line);
        } else if (absl::ConsumePrefix(&line, "event: ")) {
          event.event = std::string(line);
        } else if (absl::ConsumePrefix(&line, "data: ")) {
          event.data = std::string(line);
        }
      }
      buffer_.erase(0, end + 2);
      events_.push_back(std::move(event));
    }
  }

  std::atomic<bool> stop_{false};
  absl::Mutex mu_;
  std::string buffer_ ABSL_GUARDED_BY(mu_);
  std::deque<Event> events_ ABSL_GUARDED_BY(mu_);
  int status_ ABSL_GUARDED_BY(mu_) = 0;
  bool ended_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

class DashboardApiTest : public InsightsFixture {
 protected:
  std::vector<std::string> ExtraFlags() const override {
    std::string keys = absl::StrCat(redis_.dir(), "/api-keys.json");
    EXPECT_TRUE(WriteApiKeyFile(keys, {{"ra", kRead, "clinic-a", {"read"}},
                                       {"rb", kReadB, "clinic-b", {"read"}},
                                       {"w1", kWatch1, "clinic-a", {"watch"}},
                                       {"w2", kWatch2, "clinic-a", {"watch"}}})
                    .ok());
    // --watch_buffer=128: an SSE stream's queue bound is 256 KiB.
    return {absl::StrCat("--api_keys_file=", keys), "--max_watchers_per_key=2",
            "--watch_buffer=128", "--heartbeat_ms=200"};
  }

  Got Request(const std::string& method, const std::string& path, const std::string& key,
              const std::string& body = "") const {
    httplib::Client client("127.0.0.1", http_port_);
    client.set_read_timeout(20, 0);
    httplib::Headers headers;
    if (!key.empty()) headers.emplace("Authorization", absl::StrCat("Bearer ", key));
    httplib::Result result = method == "POST"
                                 ? client.Post(path.c_str(), headers, body, "application/json")
                                 : client.Get(path.c_str(), headers);
    Got got;
    if (!result) {
      ADD_FAILURE() << "no HTTP response for " << path;
      return got;
    }
    got.status = result->status;
    got.body = result->body;
    got.www_authenticate = result->get_header_value("WWW-Authenticate");
    EXPECT_EQ(result->get_header_value("Content-Type"), "application/json");
    got.json = nlohmann::json::parse(result->body, nullptr, false);
    EXPECT_TRUE(got.json.is_object()) << result->body;
    return got;
  }
  Got Get(const std::string& path, const std::string& key = kRead) const {
    return Request("GET", path, key);
  }

  // The gRPC error code name an HTTP error body carries.
  static std::string Code(const Got& got) { return got.json["error"].value("code", ""); }

  std::unique_ptr<SseClient> Stream(const std::string& key, const std::string& query = "",
                                    const std::string& last_event_id = "") const {
    httplib::Headers headers = {{"X-Api-Key", key}};
    if (!last_event_id.empty()) headers.emplace("Last-Event-ID", last_event_id);
    return std::make_unique<SseClient>(http_port_, "/api/v1/alerts/stream" + query, headers);
  }
  // Opens a stream and reads its first message (the heartbeat with the starting cursor): the
  // stream then holds its slots and is registered with the alert reader.
  std::unique_ptr<SseClient> MustStream(const std::string& key, const std::string& query = "",
                                        const std::string& last_event_id = "",
                                        std::string* start_cursor = nullptr) const {
    std::unique_ptr<SseClient> s = Stream(key, query, last_event_id);
    EXPECT_EQ(s->Status(), 200);
    Event first;
    while (s->Next(&first) && first.comment.rfind("heartbeat ", 0) != 0) {
    }
    EXPECT_THAT(first.comment, HasSubstr("heartbeat "));
    EXPECT_FALSE(first.id.empty());
    if (start_cursor != nullptr) *start_cursor = first.id;
    return s;
  }

  void WaitForWatchers(double open) const {
    for (int i = 0; i < 200 && Metric("alliance_insights_watchers") != open; ++i) {
      absl::SleepFor(absl::Milliseconds(50));
    }
    ASSERT_EQ(Metric("alliance_insights_watchers"), open);
  }

  std::unique_ptr<alliance::v1::AllianceInsights::Stub> stub_ = nullptr;
};

Alert AlertOf(const Event& event) {
  Alert alert;
  EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(event.data, &alert).ok()) << event.data;
  return alert;
}

TEST_F(DashboardApiTest, EveryReadRouteAnswersWhatGrpcAnswers) {
  WriteDyads({MakeDyad("clinic-a", "t1", "c1"), MakeDyad("clinic-a", "t1", "c2"),
              MakeDyad("clinic-a", "t2", "c3"), MakeDyad("clinic-b", "t1", "c1")});
  AppendAlerts({MakeAlert("clinic-a", "t1", "c1", 1, alliance::v1::SEVERITY_HIGH),
                MakeAlert("clinic-a", "t1", "c2", 2, alliance::v1::SEVERITY_INFO),
                MakeAlert("clinic-a", "t2", "c3", 3, alliance::v1::SEVERITY_CRITICAL,
                          alliance::v1::ALERT_KIND_UNREPAIRED),
                MakeAlert("clinic-b", "t1", "c1", 4)});
  auto stub = NewStub();
  auto call = [&](auto method, const auto& request, auto* response) {
    grpc::ClientContext context;
    UseKey(context, kRead);
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    grpc::Status status = ((*stub).*method)(&context, request, response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return GrpcJson(*response);
  };

  alliance::v1::ListInstrumentsResponse instruments;
  EXPECT_EQ(Get("/api/v1/instruments").json,
            call(&alliance::v1::AllianceInsights::Stub::ListInstruments,
                 alliance::v1::ListInstrumentsRequest(), &instruments));

  alliance::v1::ListDyadsRequest list_dyads;
  list_dyads.set_page_size(2);
  alliance::v1::ListDyadsResponse dyads;
  nlohmann::json grpc_dyads =
      call(&alliance::v1::AllianceInsights::Stub::ListDyads, list_dyads, &dyads);
  Got page = Get("/api/v1/dyads?page_size=2");
  ASSERT_EQ(page.status, 200) << page.body;
  EXPECT_EQ(page.json, grpc_dyads);
  ASSERT_EQ(page.json["dyads"].size(), 2u);
  EXPECT_TRUE(page.json["dyads"][0].contains("therapistId"));  // proto3 JSON names
  const std::string token = page.json.value("nextPageToken", "");
  ASSERT_FALSE(token.empty());
  list_dyads.set_page_token(token);
  EXPECT_EQ(Get(absl::StrCat("/api/v1/dyads?page_size=2&page_token=", token)).json,
            call(&alliance::v1::AllianceInsights::Stub::ListDyads, list_dyads, &dyads));
  alliance::v1::ListDyadsRequest by_therapist;
  by_therapist.set_therapist_id("t2");
  EXPECT_EQ(Get("/api/v1/dyads?therapist_id=t2&at_risk_only=false").json,
            call(&alliance::v1::AllianceInsights::Stub::ListDyads, by_therapist, &dyads));

  alliance::v1::GetDyadRequest get_dyad;
  get_dyad.set_therapist_id("t1");
  get_dyad.set_client_id("c2");
  alliance::v1::GetDyadResponse dyad;
  Got got_dyad = Get("/api/v1/dyads/t1/c2");
  EXPECT_EQ(got_dyad.json, call(&alliance::v1::AllianceInsights::Stub::GetDyad, get_dyad, &dyad));
  EXPECT_EQ(got_dyad.json["dyad"]["clientId"], "c2");

  alliance::v1::GetDyadTimelineRequest get_timeline;
  get_timeline.set_therapist_id("t1");
  get_timeline.set_client_id("c1");
  alliance::v1::GetDyadTimelineResponse timeline;
  EXPECT_EQ(Get("/api/v1/dyads/t1/c1/timeline?tenant=clinic-a").json,
            call(&alliance::v1::AllianceInsights::Stub::GetDyadTimeline, get_timeline, &timeline));

  alliance::v1::ListAlertsRequest list_alerts;
  alliance::v1::ListAlertsResponse alerts;
  nlohmann::json all =
      call(&alliance::v1::AllianceInsights::Stub::ListAlerts, list_alerts, &alerts);
  EXPECT_EQ(Get("/api/v1/alerts").json, all);
  EXPECT_EQ(all["alerts"].size(), 3u);  // clinic-a's only
  list_alerts.set_min_severity(alliance::v1::SEVERITY_HIGH);
  nlohmann::json high =
      call(&alliance::v1::AllianceInsights::Stub::ListAlerts, list_alerts, &alerts);
  EXPECT_EQ(high["alerts"].size(), 2u);
  EXPECT_EQ(Get("/api/v1/alerts?min_severity=high").json, high);
  EXPECT_EQ(Get("/api/v1/alerts?min_severity=SEVERITY_HIGH").json, high);
  list_alerts.add_kinds(alliance::v1::ALERT_KIND_UNREPAIRED);
  list_alerts.set_therapist_id("t2");
  list_alerts.set_status(alliance::v1::ALERT_STATUS_OPEN);
  nlohmann::json unrepaired =
      call(&alliance::v1::AllianceInsights::Stub::ListAlerts, list_alerts, &alerts);
  EXPECT_EQ(unrepaired["alerts"].size(), 1u);
  EXPECT_EQ(Get("/api/v1/alerts?min_severity=high&kinds=unrepaired,ALERT_KIND_UNREPAIRED&"
                "therapist_id=t2&status=open")
                .json,
            unrepaired);
}

TEST_F(DashboardApiTest, ErrorsAreTheGrpcErrorsAsJson) {
  WriteDyad(MakeDyad("clinic-a", "t1", "c1"));
  Got bad_id = Get("/api/v1/dyads/t1/c%40d");
  EXPECT_EQ(bad_id.status, 400);
  EXPECT_EQ(Code(bad_id), "INVALID_ARGUMENT");
  EXPECT_THAT(bad_id.json["error"].value("message", ""), HasSubstr("client_id"));
  Got unknown = Get("/api/v1/dyads/t1/c9");
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(Code(unknown), "NOT_FOUND");
  Got no_key = Get("/api/v1/dyads/t1/c1", "");
  EXPECT_EQ(no_key.status, 401);
  EXPECT_EQ(Code(no_key), "UNAUTHENTICATED");
  EXPECT_EQ(no_key.www_authenticate, "Bearer");
  EXPECT_EQ(Get("/api/v1/dyads/t1/c1", "not-a-key").status, 401);
  Got other_tenant = Get("/api/v1/dyads/t1/c1?tenant=clinic-b");
  EXPECT_EQ(other_tenant.status, 403);
  EXPECT_EQ(Code(other_tenant), "PERMISSION_DENIED");
  EXPECT_EQ(Get("/api/v1/alerts?tenant=clinic-b").status, 403);
  Got wrong_scope = Get("/api/v1/dyads", kWatch1);
  EXPECT_EQ(wrong_scope.status, 403);
  EXPECT_EQ(Code(wrong_scope), "PERMISSION_DENIED");
  // Authentication comes first: a bad request without a key learns only that.
  EXPECT_EQ(Get("/api/v1/dyads/t1/c%40d", "").status, 401);
  // The other tenant's key does not see clinic-a's dyad.
  EXPECT_EQ(Get("/api/v1/dyads/t1/c1", kReadB).status, 404);
  EXPECT_EQ(Get("/api/v1/alerts?min_severity=loud").status, 400);
  EXPECT_EQ(Get("/api/v1/alerts?kinds=rupture,nope").status, 400);
  EXPECT_EQ(Get("/api/v1/alerts?page_size=-1").status, 400);
  EXPECT_EQ(Get("/api/v1/dyads?page_size=x").status, 400);
  EXPECT_EQ(Get("/api/v1/dyads?at_risk_only=maybe").status, 400);
  EXPECT_EQ(Get("/api/v1/dyads?page_token=garbage").status, 400);
  EXPECT_EQ(Request("POST", "/api/v1/alerts/a1/acknowledge", kRead, "{not json").status, 400);
  Got no_actor = Request("POST", "/api/v1/alerts/a1/acknowledge", kRead, "{}");
  EXPECT_EQ(no_actor.status, 400);
  EXPECT_THAT(no_actor.json["error"].value("message", ""), HasSubstr("actor"));
  EXPECT_EQ(Request("POST", "/api/v1/alerts/nope/resolve", kRead, R"({"actor": "u1"})").status,
            404);
  EXPECT_EQ(Request("GET", "/api/v1/alerts/a1/acknowledge", kRead).status, 405);
}

TEST_F(DashboardApiTest, TheAlertWorkflowOverHttpShowsOverGrpc) {
  const Alert first = MakeAlert("clinic-a", "t1", "c1", 1);
  const Alert second = MakeAlert("clinic-a", "t1", "c1", 2);
  AppendAlerts({first, second});
  Got acknowledged =
      Request("POST", absl::StrCat("/api/v1/alerts/", first.alert_id(), "/acknowledge"), kRead,
              R"({"actor": "u-7"})");
  ASSERT_EQ(acknowledged.status, 200) << acknowledged.body;
  EXPECT_EQ(acknowledged.json["alert"]["status"], "ALERT_STATUS_ACKNOWLEDGED");
  Got resolved = Request("POST", absl::StrCat("/api/v1/alerts/", second.alert_id(), "/resolve"),
                         kRead, R"({"actor": "u-8", "therapistId": "", "tenantId": "clinic-a"})");
  ASSERT_EQ(resolved.status, 200) << resolved.body;
  EXPECT_EQ(resolved.json["alert"]["status"], "ALERT_STATUS_RESOLVED");

  grpc::ClientContext context;
  UseKey(context, kRead);
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
  alliance::v1::ListAlertsResponse alerts;
  ASSERT_TRUE(NewStub()->ListAlerts(&context, alliance::v1::ListAlertsRequest(), &alerts).ok());
  ASSERT_EQ(alerts.alerts_size(), 2);
  for (const Alert& alert : alerts.alerts()) {
    if (alert.alert_id() == first.alert_id()) {
      EXPECT_EQ(alert.status(), alliance::v1::ALERT_STATUS_ACKNOWLEDGED);
    } else {
      EXPECT_EQ(alert.status(), alliance::v1::ALERT_STATUS_RESOLVED);
    }
  }
  // Another tenant's key cannot touch it.
  EXPECT_EQ(Request("POST", absl::StrCat("/api/v1/alerts/", first.alert_id(), "/resolve"), kReadB,
                    R"({"actor": "u-9"})")
                .status,
            404);
}

TEST_F(DashboardApiTest, AppendedAlertsArriveAsEventsWithIds) {
  std::unique_ptr<SseClient> stream = MustStream(kWatch1, "?min_severity=high");
  const Alert high = MakeAlert("clinic-a", "t1", "c1", 1, alliance::v1::SEVERITY_HIGH);
  const Alert info = MakeAlert("clinic-a", "t1", "c1", 2, alliance::v1::SEVERITY_INFO);
  const Alert other_tenant = MakeAlert("clinic-b", "t1", "c1", 3);
  const Alert critical = MakeAlert("clinic-a", "t2", "c2", 4, alliance::v1::SEVERITY_CRITICAL);
  AppendAlerts({high, info, other_tenant, critical});
  Event event;
  ASSERT_TRUE(stream->NextAlert(&event));
  EXPECT_FALSE(event.id.empty());
  EXPECT_EQ(AlertOf(event).alert_id(), high.alert_id());
  EXPECT_EQ(nlohmann::json::parse(event.data)["therapistId"], "t1");
  const std::string first_id = event.id;
  ASSERT_TRUE(stream->NextAlert(&event));
  EXPECT_EQ(AlertOf(event).alert_id(), critical.alert_id());
  EXPECT_NE(event.id, first_id);
}

TEST_F(DashboardApiTest, AReconnectWithLastEventIdGetsExactlyTheMissedAlerts) {
  std::unique_ptr<SseClient> stream = MustStream(kWatch1);
  AppendAlerts({MakeAlert("clinic-a", "t1", "c1", 1)});
  Event event;
  ASSERT_TRUE(stream->NextAlert(&event));
  const std::string seen = event.id;
  stream->Stop();
  stream.reset();
  const Alert a2 = MakeAlert("clinic-a", "t1", "c2", 2);
  const Alert b3 = MakeAlert("clinic-b", "t1", "c1", 3);
  const Alert a4 = MakeAlert("clinic-a", "t2", "c3", 4);
  AppendAlerts({a2, b3, a4});
  WaitForWatchers(0);

  // The browser's way: the Last-Event-ID header.
  std::unique_ptr<SseClient> again = MustStream(kWatch1, "", seen);
  ASSERT_TRUE(again->NextAlert(&event));
  EXPECT_EQ(AlertOf(event).alert_id(), a2.alert_id());
  ASSERT_TRUE(again->NextAlert(&event));
  EXPECT_EQ(AlertOf(event).alert_id(), a4.alert_id());
  // Nothing repeated: the next alert is the next one appended, live.
  const Alert a5 = MakeAlert("clinic-a", "t9", "c9", 5);
  AppendAlerts({a5});
  ASSERT_TRUE(again->NextAlert(&event));
  EXPECT_EQ(AlertOf(event).alert_id(), a5.alert_id());
  again->Stop();
  again.reset();
  WaitForWatchers(0);

  // ?cursor= from the first cursor again: every clinic-a alert after it, once, in order.
  const Alert a6 = MakeAlert("clinic-a", "t1", "c1", 6);
  AppendAlerts({a6});
  std::unique_ptr<SseClient> from_query = MustStream(kWatch1, absl::StrCat("?cursor=", seen));
  for (const Alert& expected : {a2, a4, a5, a6}) {
    ASSERT_TRUE(from_query->NextAlert(&event));
    EXPECT_EQ(AlertOf(event).alert_id(), expected.alert_id());
  }
  EXPECT_EQ(Get("/api/v1/alerts/stream?cursor=garbage", kWatch1).status, 400);
}

TEST_F(DashboardApiTest, StreamsShareTheWatchLimitsWithGrpc) {
  EXPECT_EQ(Get("/api/v1/alerts/stream", "").status, 401);
  EXPECT_EQ(Get("/api/v1/alerts/stream", kRead).status, 403);  // no watch scope
  EXPECT_EQ(Get("/api/v1/alerts/stream?tenant=clinic-b", kWatch1).status, 403);

  grpc::ClientContext grpc_context;
  UseKey(grpc_context, kWatch1);
  auto grpc_watch = NewStub()->WatchAlerts(&grpc_context, alliance::v1::WatchAlertsRequest());
  alliance::v1::WatchAlertsResponse first;
  ASSERT_TRUE(grpc_watch->Read(&first));
  std::unique_ptr<SseClient> sse = MustStream(kWatch1);
  // The key's two slots are taken, one by each protocol.
  Got refused = Get("/api/v1/alerts/stream", kWatch1);
  EXPECT_EQ(refused.status, 429);
  EXPECT_EQ(Code(refused), "RESOURCE_EXHAUSTED");
  EXPECT_THAT(refused.json["error"].value("message", ""), HasSubstr("API key"));
  {
    grpc::ClientContext context;
    UseKey(context, kWatch1);
    auto third = NewStub()->WatchAlerts(&context, alliance::v1::WatchAlertsRequest());
    alliance::v1::WatchAlertsResponse message;
    EXPECT_FALSE(third->Read(&message));
    EXPECT_EQ(third->Finish().error_code(), grpc::RESOURCE_EXHAUSTED);
  }
  // Another key of the tenant still may.
  std::unique_ptr<SseClient> other = MustStream(kWatch2);
  // A closed SSE stream gives its slot back.
  sse->Stop();
  sse.reset();
  WaitForWatchers(2);
  std::unique_ptr<SseClient> again = MustStream(kWatch1);
  grpc_context.TryCancel();
  alliance::v1::WatchAlertsResponse message;
  while (grpc_watch->Read(&message)) {
  }
  grpc_watch->Finish();
}

// A raw connection that asks for the stream and then never reads.
class NeverReading {
 public:
  NeverReading(int port, const std::string& key) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    int small = 4096;
    setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    const std::string request = absl::StrCat("GET /api/v1/alerts/stream HTTP/1.1\r\nHost: x\r\n",
                                             "X-Api-Key: ", key, "\r\n\r\n");
    EXPECT_EQ(send(fd_, request.data(), request.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(request.size()));
  }
  ~NeverReading() { close(fd_); }

 private:
  int fd_ = -1;
};

TEST_F(DashboardApiTest, ANeverReadingClientIsCutOffAndFreesItsSlot) {
  NeverReading stalled(http_port_, kWatch2);
  WaitForWatchers(1);
  std::unique_ptr<SseClient> reading = MustStream(kWatch2);
  EXPECT_EQ(Get("/api/v1/alerts/stream", kWatch2).status, 429);
  // Larger clinic-a alerts until the service cuts the stalled stream off (bounded: socket
  // buffers take a few MB at most; 400 rounds of 100 alerts of ~1 KiB are far past them).
  int appended = 0;
  for (int round = 0; round < 400 && Metric("alliance_insights_watchers_dropped_slow_total") < 1;
       ++round) {
    std::vector<Alert> alerts;
    for (int i = appended; i < appended + 100; ++i) {
      Alert a = MakeAlert("clinic-a", "t1", absl::StrCat("c", i % 17), i);
      a.set_suggested_focus(std::string(600, 'f'));
      alerts.push_back(std::move(a));
    }
    AppendAlerts(alerts);
    appended += 100;
    // The reading stream keeps up.
    Event event;
    for (int i = 0; i < 100; ++i) ASSERT_TRUE(reading->NextAlert(&event)) << service_.ReadLog();
  }
  EXPECT_EQ(Metric("alliance_insights_watchers_dropped_slow_total"), 1);
  WaitForWatchers(1);
  std::unique_ptr<SseClient> freed = MustStream(kWatch2);
}

TEST_F(DashboardApiTest, ShutdownEndsStreamsWithTheResumeCursor) {
  std::unique_ptr<SseClient> stream = MustStream(kWatch1);
  AppendAlerts({MakeAlert("clinic-a", "t1", "c1", 1)});
  Event event;
  ASSERT_TRUE(stream->NextAlert(&event));
  std::string last_id = event.id;
  service_.Signal(SIGTERM);
  std::string end;
  while (end.empty() && stream->Next(&event)) {
    if (event.comment.rfind("end ", 0) == 0) {
      end = event.comment;
    } else if (!event.id.empty()) {
      last_id = event.id;  // a heartbeat may come between
    }
  }
  // The cursor named is that of the last message the stream sent.
  EXPECT_EQ(end, absl::StrCat("end service is shutting down; resume with cursor ", last_id));
  EXPECT_FALSE(stream->Next(&event));  // and then the stream ends
  std::optional<int> code = service_.Wait(absl::Seconds(30));
  EXPECT_TRUE(code.has_value() && *code == 0) << service_.ReadLog();
}

}  // namespace
}  // namespace alliance::testing
