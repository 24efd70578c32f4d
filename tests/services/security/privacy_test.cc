// Privacy over the whole pipeline (intake -> worker -> insights, with API keys): after
// DeleteClientData no Redis key, value, hash, set or stream entry holds the client's id (the
// binary protobuf and JSON payloads are decoded too), a second call removes nothing, an
// erased client's entries still queued are not applied by the worker later; and the logs of
// every service hold no answer value and no free text.
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/time_util.h>
#include <grpcpp/grpcpp.h>
#include <signal.h>

#include <regex>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "alliance/internal/v1/records.pb.h"
#include "alliance/v1/insights.grpc.pb.h"
#include "alliance/v1/intake.grpc.pb.h"
#include "gtest/gtest.h"
#include "store/keys.h"
#include "tests/support/api_keys.h"
#include "tests/support/child_process.h"
#include "tests/support/redis_server.h"

namespace alliance::testing {
namespace {

using google::protobuf::util::TimeUtil;

constexpr int kPartitions = 4;
constexpr char kSubmitKey[] = "privacy-submit-key-000001";
constexpr char kReadKey[] = "privacy-read-key-0000002";
constexpr char kAdminKey[] = "privacy-admin-key-000003";
constexpr char kErased[] = "zq-erase-me-4711";  // distinctive, so a raw search cannot miss it
constexpr char kKept[] = "zq-keep-me-0815";

// SRS answers adding up to `tenths`/10, spread over the four lines.
v1::Feedback Srs(const std::string& client, const std::string& therapist, int session,
                 std::vector<double> answers) {
  v1::Feedback f;
  f.set_idempotency_id(absl::StrCat("idem-", client, "-", therapist, "-", session));
  f.set_therapist_id(therapist);
  f.set_client_id(client);
  f.set_session_id(absl::StrCat("s", session));
  f.set_session_number(session);
  *f.mutable_session_time() =
      TimeUtil::SecondsToTimestamp(absl::ToUnixSeconds(absl::Now()) - (20 - session) * 7 * 86400);
  f.set_rater(v1::RATER_CLIENT);
  f.set_instrument_id("srs");
  for (size_t i = 0; i < answers.size(); ++i) {
    v1::ItemAnswer* a = f.add_answers();
    a->set_item(static_cast<int>(i + 1));
    a->set_value(answers[i]);
  }
  return f;
}

// Distinctive answers: high sessions, then a rupture (a reliable drop below the cutoff).
const std::vector<double> kHigh = {9.3, 9.7, 9.1, 9.9};  // 38.0
const std::vector<double> kLow = {6.3, 7.7, 7.1, 8.9};   // 30.0

class PrivacyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(redis_.Start().ok());
    dir_ = redis_.dir();
    std::string keys = dir_ + "/api-keys.json";
    ASSERT_TRUE(WriteApiKeyFile(keys, {{"submitter", kSubmitKey, "clinic-a", {"submit"}},
                                       {"reader", kReadKey, "clinic-a", {"read", "watch"}},
                                       {"dpo", kAdminKey, "clinic-a", {"admin"}}})
                    .ok());
    intake_port_ = FreePort();
    insights_port_ = FreePort();
    std::vector<std::string> common = {absl::StrCat("--redis_port=", redis_.port()),
                                       absl::StrCat("--partitions=", kPartitions)};
    auto with = [&](std::vector<std::string> extra) {
      extra.insert(extra.end(), common.begin(), common.end());
      return extra;
    };
    ASSERT_TRUE(
        intake_
            .Start(BinaryPath("alliance-intake"),
                   with({absl::StrCat("--grpc_port=", intake_port_), "--api_keys_file=" + keys}),
                   dir_ + "/intake.log")
            .ok());
    StartWorker();
    ASSERT_TRUE(
        insights_
            .Start(BinaryPath("alliance-insights"),
                   with({absl::StrCat("--grpc_port=", insights_port_), "--api_keys_file=" + keys}),
                   dir_ + "/insights.log")
            .ok());
    ASSERT_TRUE(WaitForPort(intake_port_, absl::Seconds(20)).ok()) << intake_.ReadLog();
    ASSERT_TRUE(WaitForPort(insights_port_, absl::Seconds(20)).ok()) << insights_.ReadLog();
    intake_stub_ = v1::FeedbackIntake::NewStub(grpc::CreateChannel(
        absl::StrCat("127.0.0.1:", intake_port_), grpc::InsecureChannelCredentials()));
    insights_stub_ = v1::AllianceInsights::NewStub(grpc::CreateChannel(
        absl::StrCat("127.0.0.1:", insights_port_), grpc::InsecureChannelCredentials()));
    auto conn = RedisConnection::Connect(redis_.endpoint());
    ASSERT_TRUE(conn.ok());
    redis_conn_ = *std::move(conn);
  }
  void TearDown() override {
    // Connected clients keep draining servers waiting until their shutdown deadlines.
    intake_stub_.reset();
    insights_stub_.reset();
    for (ChildProcess* p : {&intake_, &worker_, &insights_}) {
      if (p->running()) p->Signal(SIGTERM);
    }
    for (ChildProcess* p : {&intake_, &worker_, &insights_}) {
      if (p->running() && !p->Wait(absl::Seconds(15)).has_value()) p->Kill();
    }
    if (HasFailure()) {
      for (ChildProcess* p : {&intake_, &worker_, &insights_}) {
        std::cerr << "---- " << p->log_path() << "\n" << p->ReadLog() << "\n";
      }
    }
  }
  void StartWorker(std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {absl::StrCat("--redis_port=", redis_.port()),
                                     absl::StrCat("--partitions=", kPartitions),
                                     absl::StrCat("--worker_id=privacy-", workers_started_++)};
    args.insert(args.end(), extra.begin(), extra.end());
    ASSERT_TRUE(worker_
                    .Start(BinaryPath("alliance-worker"), args,
                           absl::StrCat(dir_, "/worker-", workers_started_, ".log"))
                    .ok());
  }
  void StopWorker() {
    worker_.Signal(SIGTERM);
    ASSERT_TRUE(worker_.Wait(absl::Seconds(20)).has_value());
  }

  grpc::ClientContext* Context(const std::string& key) {
    contexts_.push_back(std::make_unique<grpc::ClientContext>());
    contexts_.back()->set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
    UseKey(*contexts_.back(), key);
    return contexts_.back().get();
  }
  void Submit(const v1::Feedback& f) {
    v1::SubmitFeedbackRequest request;
    *request.mutable_feedback() = f;
    v1::SubmitFeedbackResponse response;
    grpc::Status s = intake_stub_->SubmitFeedback(Context(kSubmitKey), request, &response);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }
  // Polls GetDyad (bounded) until the dyad has `ratings` ratings applied.
  bool WaitForDyad(const std::string& therapist, const std::string& client, int ratings) {
    for (int attempt = 0; attempt < 600; ++attempt) {
      v1::GetDyadRequest r;
      r.set_therapist_id(therapist);
      r.set_client_id(client);
      v1::GetDyadResponse out;
      if (insights_stub_->GetDyad(Context(kReadKey), r, &out).ok() &&
          out.dyad().ratings_applied() >= ratings) {
        return true;
      }
      absl::SleepFor(absl::Milliseconds(50));
    }
    return false;
  }
  v1::DeleteClientDataResponse Erase(const std::string& client) {
    v1::DeleteClientDataRequest r;
    r.set_client_id(client);
    v1::DeleteClientDataResponse out;
    grpc::Status s = insights_stub_->DeleteClientData(Context(kAdminKey), r, &out);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return out;
  }

  // Every place in Redis that mentions `needle`: key names, string values (and DyadRecord
  // protobufs decoded), hash fields and values, set members, and every stream entry (feedback
  // entries decoded from protobuf, alerts from JSON).
  std::vector<std::string> Traces(const std::string& needle) {
    std::vector<std::string> found;
    auto mentions = [&](std::string_view s) { return s.find(needle) != std::string_view::npos; };
    std::string cursor = "0";
    for (int round = 0; round < 100000; ++round) {
      auto scan = redis_conn_->Command({"SCAN", cursor, "COUNT", "1000"});
      EXPECT_TRUE(scan.ok());
      if (!scan.ok()) return found;
      cursor = std::string(ReplyString(*(*scan)->element[0]));
      const redisReply& keys = *(*scan)->element[1];
      for (size_t k = 0; k < keys.elements; ++k) {
        std::string key(ReplyString(*keys.element[k]));
        if (mentions(key)) found.push_back("key " + key);
        std::string type(ReplyString(**redis_conn_->Command({"TYPE", key})));
        std::vector<std::string_view> read;
        if (type == "string") read = {"GET", key};
        if (type == "hash") read = {"HGETALL", key};
        if (type == "set") read = {"SMEMBERS", key};
        if (type == "zset") read = {"ZRANGE", key, "0", "-1"};
        if (type == "list") read = {"LRANGE", key, "0", "-1"};
        if (type == "stream") read = {"XRANGE", key, "-", "+"};
        EXPECT_FALSE(read.empty()) << key << " has type " << type;
        if (read.empty()) continue;
        auto reply = redis_conn_->Command(read);
        EXPECT_TRUE(reply.ok());
        if (!reply.ok()) continue;
        CheckReply(**reply, key, needle, &found);
      }
      if (cursor == "0") break;
    }
    return found;
  }
  void CheckReply(const redisReply& reply, const std::string& key, const std::string& needle,
                  std::vector<std::string>* found) {
    if (reply.type == REDIS_REPLY_ARRAY) {
      for (size_t i = 0; i < reply.elements; ++i) CheckReply(*reply.element[i], key, needle, found);
      return;
    }
    std::string_view value = ReplyString(reply);
    if (value.find(needle) != std::string_view::npos) {
      found->push_back("value in " + key);
      return;
    }
    // Decoded payloads: a feedback entry, a dyad record, an alert (JSON).
    internal::v1::FeedbackEntry entry;
    bool stream =
        key.find(":feedback") != std::string::npos || key.find(":deadletter") != std::string::npos;
    if (stream && entry.ParseFromArray(value.data(), static_cast<int>(value.size())) &&
        entry.feedback().client_id() == needle) {
      found->push_back("feedback entry in " + key);
    }
    internal::v1::DyadRecord record;
    if (key.find(":dyad:") != std::string::npos &&
        record.ParseFromArray(value.data(), static_cast<int>(value.size())) &&
        record.client_id() == needle) {
      found->push_back("dyad record in " + key);
    }
    v1::Alert alert;
    if (!value.empty() && value[0] == '{' &&
        google::protobuf::util::JsonStringToMessage(std::string(value), &alert).ok() &&
        alert.client_id() == needle) {
      found->push_back("alert in " + key);
    }
  }

  RedisServer redis_;
  std::string dir_;
  int intake_port_ = 0, insights_port_ = 0, workers_started_ = 0;
  ChildProcess intake_, worker_, insights_;
  std::unique_ptr<v1::FeedbackIntake::Stub> intake_stub_;
  std::unique_ptr<v1::AllianceInsights::Stub> insights_stub_;
  std::unique_ptr<RedisConnection> redis_conn_;
  std::vector<std::unique_ptr<grpc::ClientContext>> contexts_;
};

TEST_F(PrivacyTest, DeleteClientDataLeavesNoTraceAndIsIdempotent) {
  // The client with two therapists, a rupture (alerts), and an acknowledged alert; another
  // client of the same therapist stays.
  for (int s = 1; s <= 4; ++s) {
    Submit(Srs(kErased, "th-1", s, s < 4 ? kHigh : kLow));
    Submit(Srs(kKept, "th-1", s, s < 4 ? kHigh : kLow));
  }
  Submit(Srs(kErased, "th-2", 1, kHigh));
  ASSERT_TRUE(WaitForDyad("th-1", kErased, 4));
  ASSERT_TRUE(WaitForDyad("th-1", kKept, 4));
  ASSERT_TRUE(WaitForDyad("th-2", kErased, 1));
  v1::ListAlertsRequest list;
  list.set_client_id(kErased);
  v1::ListAlertsResponse alerts;
  ASSERT_TRUE(insights_stub_->ListAlerts(Context(kReadKey), list, &alerts).ok());
  ASSERT_FALSE(alerts.alerts().empty()) << "the rupture raised no alert";
  v1::AcknowledgeAlertRequest ack;
  ack.set_alert_id(alerts.alerts(0).alert_id());
  ack.set_actor("nurse-1");
  v1::AcknowledgeAlertResponse acked;
  ASSERT_TRUE(insights_stub_->AcknowledgeAlert(Context(kReadKey), ack, &acked).ok());
  // A dead letter of the client, in the documented format (copied from its feedback entry).
  {
    int p = KeyLayout(kPartitions).PartitionOf("clinic-a", "th-2", kErased);
    auto entries =
        redis_conn_->Command({"XRANGE", KeyLayout(kPartitions).FeedbackStream(p), "-", "+"});
    ASSERT_TRUE(entries.ok());
    bool copied = false;
    for (size_t i = 0; i < (*entries)->elements && !copied; ++i) {
      const redisReply& fields = *(*entries)->element[i]->element[1];
      std::string tenant, accepted, bytes;
      for (size_t f = 0; f + 1 < fields.elements; f += 2) {
        std::string_view name = ReplyString(*fields.element[f]);
        std::string value(ReplyString(*fields.element[f + 1]));
        if (name == "tenant") tenant = value;
        if (name == "accepted_id") accepted = value;
        if (name == "entry") bytes = value;
      }
      internal::v1::FeedbackEntry e;
      if (!e.ParseFromString(bytes) || e.feedback().client_id() != kErased) continue;
      auto added = redis_conn_->Command(
          {"XADD", KeyLayout(kPartitions).DeadLetterStream(p), "*", "v", "1", "source_id",
           ReplyString(*(*entries)->element[i]->element[0]), "reason", "test", "attempts", "5",
           "tenant", tenant, "accepted_id", accepted, "entry", bytes});
      ASSERT_TRUE(added.ok());
      copied = true;
    }
    ASSERT_TRUE(copied);
  }
  // Entries still queued when the erasure runs: the worker is stopped, two more arrive.
  StopWorker();
  Submit(Srs(kErased, "th-1", 5, kLow));
  Submit(Srs(kErased, "th-3", 1, kHigh));
  ASSERT_FALSE(Traces(kErased).empty());

  v1::DeleteClientDataResponse removed = Erase(kErased);
  EXPECT_EQ(removed.dyad_states(), 2);
  EXPECT_EQ(removed.dyad_index_entries(), 2);
  EXPECT_GE(removed.alert_entries(), 1);
  EXPECT_EQ(removed.alert_statuses(), 1);
  EXPECT_GE(removed.feedback_entries(), 2) << "the queued entries at least";
  EXPECT_EQ(removed.dead_letters(), 1);
  EXPECT_EQ(removed.idempotency_records(), 7);
  std::vector<std::string> traces = Traces(kErased);
  EXPECT_TRUE(traces.empty()) << traces.size() << " traces, first: " << traces[0];

  // The worker comes back: nothing of the erased client is re-created.
  StartWorker();
  Submit(Srs(kKept, "th-1", 5, kHigh));
  ASSERT_TRUE(WaitForDyad("th-1", kKept, 5)) << "the worker did not resume";
  traces = Traces(kErased);
  EXPECT_TRUE(traces.empty()) << traces.size()
                              << " traces after the worker resumed, first: " << traces[0];
  EXPECT_FALSE(Traces(kKept).empty()) << "the other client was erased too";

  v1::DeleteClientDataResponse again = Erase(kErased);
  EXPECT_EQ(again.ByteSizeLong(), 0u) << "second call removed: " << again.DebugString();
}

// --data_retention_ms: a written dyad state and its index expire that long after the last
// write; alert and dead-letter entries older than the window are trimmed.
TEST_F(PrivacyTest, RetentionWindowExpiresStateAndTrimsOldEntries) {
  StopWorker();
  const int64_t window_ms = 3600 * 1000;
  StartWorker({absl::StrCat("--data_retention_ms=", window_ms), "--maintenance_ms=50"});
  KeyLayout layout(kPartitions);
  int p = layout.PartitionOf("clinic-a", "th-1", kKept);
  // Entries from long ago (stream ids are milliseconds since the epoch).
  ASSERT_TRUE(redis_conn_->Command({"XADD", layout.AlertStream(p), "1000-1", "v", "1"}).ok());
  ASSERT_TRUE(redis_conn_->Command({"XADD", layout.DeadLetterStream(p), "1000-1", "v", "1"}).ok());
  Submit(Srs(kKept, "th-1", 1, kHigh));
  ASSERT_TRUE(WaitForDyad("th-1", kKept, 1));
  for (const std::string& key :
       {layout.DyadState(p, "clinic-a", "th-1", kKept), layout.DyadIndex(p, "clinic-a")}) {
    auto ttl = redis_conn_->Command({"PTTL", key});
    ASSERT_TRUE(ttl.ok());
    EXPECT_GT((*ttl)->integer, 0) << key << " does not expire";
    EXPECT_LE((*ttl)->integer, window_ms) << key;
  }
  bool trimmed = false;
  for (int attempt = 0; attempt < 400 && !trimmed; ++attempt) {
    auto alert = redis_conn_->Command({"XRANGE", layout.AlertStream(p), "1000-1", "1000-1"});
    auto dead = redis_conn_->Command({"XRANGE", layout.DeadLetterStream(p), "1000-1", "1000-1"});
    ASSERT_TRUE(alert.ok() && dead.ok());
    trimmed = (*alert)->elements == 0 && (*dead)->elements == 0;
    if (!trimmed) absl::SleepFor(absl::Milliseconds(50));
  }
  EXPECT_TRUE(trimmed) << "entries older than the window were never trimmed";
}

// The logs of all three services, after a full run with reads, alerts and a rejected
// submission, hold no answer value and no free text.
TEST_F(PrivacyTest, LogsHoldNoAnswersOrFreeText) {
  for (int s = 1; s <= 4; ++s) Submit(Srs(kKept, "th-1", s, s < 4 ? kHigh : kLow));
  ASSERT_TRUE(WaitForDyad("th-1", kKept, 4));
  // A rejected submission with a distinctive out-of-range value.
  v1::SubmitFeedbackRequest bad;
  *bad.mutable_feedback() = Srs(kKept, "th-1", 9, {9.3, 9.7, 13.7, 9.9});
  v1::SubmitFeedbackResponse response;
  EXPECT_EQ(intake_stub_->SubmitFeedback(Context(kSubmitKey), bad, &response).error_code(),
            grpc::INVALID_ARGUMENT);
  v1::ListAlertsRequest list;
  v1::ListAlertsResponse alerts;
  ASSERT_TRUE(insights_stub_->ListAlerts(Context(kReadKey), list, &alerts).ok());
  ASSERT_FALSE(alerts.alerts().empty());
  v1::GetDyadTimelineRequest timeline;
  timeline.set_therapist_id("th-1");
  timeline.set_client_id(kKept);
  v1::GetDyadTimelineResponse points;
  ASSERT_TRUE(insights_stub_->GetDyadTimeline(Context(kReadKey), timeline, &points).ok());
  for (ChildProcess* p : {&intake_, &worker_, &insights_}) {
    p->Signal(SIGTERM);
    ASSERT_TRUE(p->Wait(absl::Seconds(20)).has_value());
  }

  // Answers as a JSON number (or string) would print them, and the alert's free text.
  std::vector<std::string> numbers = {"9.3", "9.7", "9.1", "9.9", "6.3",
                                      "7.7", "7.1", "8.9", "13.7"};
  std::vector<std::string> texts = {alerts.alerts(0).suggested_focus(), "suggested_focus",
                                    "answers"};
  ASSERT_FALSE(alerts.alerts(0).suggested_focus().empty());
  EXPECT_NE(insights_.ReadLog().find(R"("event":"access")"), std::string::npos)
      << "the reads are in the access log";
  std::string all;
  for (ChildProcess* p : {&intake_, &worker_, &insights_}) {
    std::string log = p->ReadLog();
    ASSERT_FALSE(log.empty()) << p->log_path();
    all += log;
  }
  for (const std::string& n : numbers) {
    // As a value: after ':' '[' or ',' and not followed by more digits.
    std::regex as_value(absl::StrCat(R"([:\[,]\s*")", "?",
                                     std::regex_replace(n, std::regex(R"(\.)"), R"(\.)"),
                                     R"("?(?![0-9.]))"));
    std::smatch m;
    EXPECT_FALSE(std::regex_search(all, m, as_value)) << n << " found in the logs: " << m.str();
  }
  for (const std::string& t : texts) {
    EXPECT_EQ(all.find(t), std::string::npos) << "'" << t << "' found in the logs";
  }
}

}  // namespace
}  // namespace alliance::testing
