// AllianceInsights.SnoozeAlert against a real redis-server and the real alliance-insights
// binary: the snooze's fields and the SNOOZED status, expiry back to the status from before
// (the stored until rewritten in Redis, no waiting), ListAlerts' status filter on the effective
// status, the latest snooze winning, acknowledge and resolve ending it, a resolved alert
// refused, each bad input INVALID_ARGUMENT naming its field, --max_snooze, other tenants'
// alerts, and the reason never written to the service's log.
#include <google/protobuf/util/time_util.h>

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "services/insights/snooze_request.h"
#include "tests/services/insights/insights_fixture.h"

namespace alliance::testing {
namespace {

using alliance::v1::Alert;
using google::protobuf::util::TimeUtil;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kTenant[] = "clinic-a";
constexpr char kReason[] = "Waiting for the supervision meeting on Thursday";

class SnoozeTest : public InsightsFixture {
 protected:
  // Tests that check the bound use 48h; SnoozeDefaultsTest runs without the flag.
  std::vector<std::string> ExtraFlags() const override { return {"--max_snooze=48h"}; }

  // Two alerts of one dyad, in its state and in the alert stream.
  void SetUp() override {
    InsightsFixture::SetUp();
    if (HasFatalFailure()) return;
    alert_ = MakeAlert(kTenant, "t1", "c1", 1);
    other_ = MakeAlert(kTenant, "t1", "c1", 2);
    auto record = MakeDyad(kTenant, "t1", "c1");
    *record.add_alerts() = alert_;
    *record.add_alerts() = other_;
    WriteDyad(record);
    AppendAlerts({alert_, other_});
    stub_ = NewStub();
  }
  // The stub holds the channel: dropped first, so the service does not wait for it to drain.
  void TearDown() override {
    stub_.reset();
    InsightsFixture::TearDown();
  }

  alliance::v1::SnoozeAlertRequest Request(const std::string& id, const std::string& actor,
                                           absl::Duration length,
                                           const std::string& reason = kReason) const {
    alliance::v1::SnoozeAlertRequest request;
    request.set_tenant_id(kTenant);
    request.set_alert_id(id);
    request.set_actor(actor);
    request.set_reason(reason);
    *request.mutable_duration() = TimeUtil::NanosecondsToDuration(absl::ToInt64Nanoseconds(length));
    return request;
  }
  grpc::Status Call(const alliance::v1::SnoozeAlertRequest& request, Alert* out = nullptr) {
    grpc::ClientContext context;
    alliance::v1::SnoozeAlertResponse response;
    grpc::Status status = stub_->SnoozeAlert(&context, request, &response);
    if (out != nullptr) *out = response.alert();
    return status;
  }
  Alert Snooze(const std::string& id, const std::string& actor, absl::Duration length,
               const std::string& reason = kReason) {
    Alert out;
    grpc::Status status = Call(Request(id, actor, length, reason), &out);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return out;
  }
  Alert Acknowledge(const std::string& id) {
    grpc::ClientContext context;
    alliance::v1::AcknowledgeAlertRequest request;
    request.set_tenant_id(kTenant);
    request.set_alert_id(id);
    request.set_actor("nurse-9");
    alliance::v1::AcknowledgeAlertResponse response;
    grpc::Status status = stub_->AcknowledgeAlert(&context, request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response.alert();
  }
  Alert Resolve(const std::string& id) {
    grpc::ClientContext context;
    alliance::v1::ResolveAlertRequest request;
    request.set_tenant_id(kTenant);
    request.set_alert_id(id);
    request.set_actor("dr-9");
    alliance::v1::ResolveAlertResponse response;
    grpc::Status status = stub_->ResolveAlert(&context, request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response.alert();
  }
  // The tenant's alerts in `status` (UNSPECIFIED: all), by id.
  std::map<std::string, Alert> List(alliance::v1::AlertStatus status) {
    grpc::ClientContext context;
    alliance::v1::ListAlertsRequest request;
    request.set_tenant_id(kTenant);
    request.set_status(status);
    alliance::v1::ListAlertsResponse response;
    grpc::Status result = stub_->ListAlerts(&context, request, &response);
    EXPECT_TRUE(result.ok()) << result.error_message();
    std::map<std::string, Alert> out;
    for (const Alert& a : response.alerts()) out[a.alert_id()] = a;
    return out;
  }
  // Rewrites the stored until into the past, as if the snooze had run out.
  void Expire(const std::string& id) {
    absl::StatusOr<RedisReplyPtr> reply = conn_->Command(
        {"HSET", layout_.AlertStatus(kTenant, id), "snoozed_until", "2001-01-01T00:00:00Z"});
    ASSERT_TRUE(reply.ok()) << reply.status();
    ASSERT_TRUE(ReplyStatus(**reply).ok());
  }

  Alert alert_;
  Alert other_;
  std::unique_ptr<alliance::v1::AllianceInsights::Stub> stub_;
};

TEST_F(SnoozeTest, ASnoozedAlertIsSnoozedUntilItsLimitThenOpenWithTheSnoozeKept) {
  Alert snoozed = Snooze(alert_.alert_id(), "nurse-1", absl::Hours(2));
  EXPECT_EQ(snoozed.status(), alliance::v1::ALERT_STATUS_SNOOZED);
  EXPECT_EQ(snoozed.snoozed_by(), "nurse-1");
  EXPECT_EQ(snoozed.snooze_reason(), kReason);
  EXPECT_GT(snoozed.snoozed_at().seconds(), 0);
  EXPECT_NEAR(snoozed.snoozed_until().seconds() - snoozed.snoozed_at().seconds(), 7200, 5);
  EXPECT_EQ(snoozed.severity(), alert_.severity());  // the alert itself, with its status

  // The status filter follows the effective status.
  std::map<std::string, Alert> in_snooze = List(alliance::v1::ALERT_STATUS_SNOOZED);
  ASSERT_EQ(in_snooze.size(), 1u);
  EXPECT_EQ(in_snooze.begin()->first, alert_.alert_id());
  EXPECT_EQ(in_snooze.begin()->second.snooze_reason(), kReason);
  std::map<std::string, Alert> open = List(alliance::v1::ALERT_STATUS_OPEN);
  ASSERT_EQ(open.size(), 1u);
  EXPECT_EQ(open.begin()->first, other_.alert_id());

  Expire(alert_.alert_id());
  EXPECT_TRUE(List(alliance::v1::ALERT_STATUS_SNOOZED).empty());
  open = List(alliance::v1::ALERT_STATUS_OPEN);
  ASSERT_EQ(open.size(), 2u);
  const Alert& back = open[alert_.alert_id()];
  EXPECT_EQ(back.status(), alliance::v1::ALERT_STATUS_OPEN);
  EXPECT_EQ(back.snoozed_by(), "nurse-1");  // kept as history
  EXPECT_EQ(back.snooze_reason(), kReason);
  EXPECT_EQ(back.snoozed_until().seconds(), 978307200);
}

TEST_F(SnoozeTest, UntilSetsTheLimitAndTheLatestSnoozeWins) {
  alliance::v1::SnoozeAlertRequest request = Request(alert_.alert_id(), "nurse-1", absl::Hours(1));
  const google::protobuf::Timestamp until =
      TimeUtil::NanosecondsToTimestamp(absl::ToUnixNanos(absl::Now() + absl::Hours(30)));
  *request.mutable_until() = until;  // replaces the duration (one of)
  request.set_therapist_id("t1");    // the dyad hint
  request.set_client_id("c1");
  Alert first;
  grpc::Status status = Call(request, &first);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(first.status(), alliance::v1::ALERT_STATUS_SNOOZED);
  EXPECT_EQ(first.snoozed_until().seconds(), until.seconds());

  Alert second = Snooze(alert_.alert_id(), "nurse-2", absl::Minutes(90), "second look");
  EXPECT_EQ(second.snoozed_by(), "nurse-2");
  EXPECT_EQ(second.snooze_reason(), "second look");
  EXPECT_LT(second.snoozed_until().seconds(), until.seconds());
  const Alert listed = List(alliance::v1::ALERT_STATUS_SNOOZED)[alert_.alert_id()];
  EXPECT_EQ(listed.snoozed_by(), "nurse-2");
  EXPECT_EQ(listed.snoozed_until().seconds(), second.snoozed_until().seconds());

  // An expired snooze snoozed again is snoozed again.
  Expire(alert_.alert_id());
  EXPECT_EQ(Snooze(alert_.alert_id(), "nurse-3", absl::Minutes(1)).status(),
            alliance::v1::ALERT_STATUS_SNOOZED);
}

TEST_F(SnoozeTest, AcknowledgeAndResolveEndASnoozeAndAResolvedAlertCannotBeSnoozed) {
  Snooze(alert_.alert_id(), "nurse-1", absl::Hours(2));
  Alert acked = Acknowledge(alert_.alert_id());
  EXPECT_EQ(acked.status(), alliance::v1::ALERT_STATUS_ACKNOWLEDGED);
  EXPECT_EQ(acked.acknowledged_by(), "nurse-9");
  EXPECT_EQ(acked.snoozed_by(), "nurse-1");
  EXPECT_TRUE(List(alliance::v1::ALERT_STATUS_SNOOZED).empty());

  // An acknowledged alert snoozed reads acknowledged once the snooze has passed.
  EXPECT_EQ(Snooze(alert_.alert_id(), "nurse-1", absl::Hours(2)).status(),
            alliance::v1::ALERT_STATUS_SNOOZED);
  EXPECT_EQ(List(alliance::v1::ALERT_STATUS_ACKNOWLEDGED).size(), 0u);
  Expire(alert_.alert_id());
  EXPECT_EQ(List(alliance::v1::ALERT_STATUS_ACKNOWLEDGED).size(), 1u);

  Snooze(other_.alert_id(), "nurse-1", absl::Hours(2));
  EXPECT_EQ(Resolve(other_.alert_id()).status(), alliance::v1::ALERT_STATUS_RESOLVED);
  EXPECT_EQ(List(alliance::v1::ALERT_STATUS_RESOLVED).size(), 1u);
  grpc::Status refused = Call(Request(other_.alert_id(), "nurse-2", absl::Hours(1), "again"));
  EXPECT_EQ(refused.error_code(), grpc::FAILED_PRECONDITION) << refused.error_message();
  Alert still = List(alliance::v1::ALERT_STATUS_RESOLVED)[other_.alert_id()];
  EXPECT_EQ(still.snooze_reason(), kReason);  // the refused snooze wrote nothing
}

TEST_F(SnoozeTest, EachBadInputIsInvalidArgumentNamingItsField) {
  const std::string id = alert_.alert_id();
  struct Case {
    std::string field;
    std::function<void(alliance::v1::SnoozeAlertRequest*)> change;
  };
  const std::vector<Case> cases = {
      {"alert_id", [](auto* r) { r->clear_alert_id(); }},
      {"alert_id", [](auto* r) { r->set_alert_id("no such id"); }},
      {"actor", [](auto* r) { r->clear_actor(); }},
      {"actor", [](auto* r) { r->set_actor("nurse 1"); }},
      {"therapist_id", [](auto* r) { r->set_therapist_id("t:1"); }},
      {"reason", [](auto* r) { r->clear_reason(); }},
      {"reason", [](auto* r) { r->set_reason("   "); }},
      {"reason", [](auto* r) { r->set_reason(std::string(201, 'x')); }},
      {"reason", [](auto* r) { r->set_reason("two\nlines"); }},
      {"reason", [](auto* r) { r->set_reason("tab\there"); }},
      {"until", [](auto* r) { r->clear_duration(); }},
      {"duration", [](auto* r) { r->mutable_duration()->set_seconds(59); }},
      {"duration", [](auto* r) { r->mutable_duration()->set_seconds(-3600); }},
      {"duration", [](auto* r) { r->mutable_duration()->set_seconds(49 * 3600); }},
      {"duration",
       [](auto* r) {
         r->mutable_duration()->set_seconds(120);
         r->mutable_duration()->set_nanos(-5);
       }},
      {"until",
       [](auto* r) {
         *r->mutable_until() =
             TimeUtil::NanosecondsToTimestamp(absl::ToUnixNanos(absl::Now() - absl::Hours(1)));
       }},
      {"until",
       [](auto* r) {
         *r->mutable_until() =
             TimeUtil::NanosecondsToTimestamp(absl::ToUnixNanos(absl::Now() + absl::Seconds(20)));
       }},
      {"until",
       [](auto* r) {
         *r->mutable_until() =
             TimeUtil::NanosecondsToTimestamp(absl::ToUnixNanos(absl::Now() + absl::Hours(49)));
       }},
      {"until", [](auto* r) { r->mutable_until()->set_nanos(-1); }},
  };
  for (const Case& c : cases) {
    alliance::v1::SnoozeAlertRequest request = Request(id, "nurse-1", absl::Hours(1));
    c.change(&request);
    grpc::Status status = Call(request);
    EXPECT_EQ(status.error_code(), grpc::INVALID_ARGUMENT)
        << c.field << ": " << request.DebugString();
    EXPECT_THAT(status.error_message(), ::testing::StartsWith(c.field + ":"));
  }
  // The bounds themselves are allowed: 1 minute, --max_snooze (48h here), 200 characters
  // (of two bytes each).
  Snooze(id, "nurse-1", absl::Minutes(1));
  Snooze(id, "nurse-1", absl::Hours(48));
  std::string long_reason;
  for (int i = 0; i < 200; ++i) long_reason += "\xc3\xa9";
  EXPECT_EQ(Snooze(id, "nurse-1", absl::Hours(1), long_reason).snooze_reason(), long_reason);
  EXPECT_TRUE(List(alliance::v1::ALERT_STATUS_OPEN).count(other_.alert_id()));
}

TEST_F(SnoozeTest, UnknownAndOtherTenantsAlertsAreNotFound) {
  grpc::Status missing = Call(Request("no-such-alert", "nurse-1", absl::Hours(1)));
  EXPECT_EQ(missing.error_code(), grpc::NOT_FOUND);
  Alert theirs = MakeAlert("clinic-b", "t1", "c1", 5);
  auto record = MakeDyad("clinic-b", "t1", "c1");
  *record.add_alerts() = theirs;
  WriteDyad(record);
  AppendAlerts({theirs});
  for (bool hint : {false, true}) {
    alliance::v1::SnoozeAlertRequest request =
        Request(theirs.alert_id(), "nurse-1", absl::Hours(1));
    if (hint) {
      request.set_therapist_id("t1");
      request.set_client_id("c1");
    }
    EXPECT_EQ(Call(request).error_code(), grpc::NOT_FOUND) << hint;
  }
  // Nothing was written for clinic-b's alert, under either tenant.
  for (const char* tenant : {"clinic-a", "clinic-b"}) {
    absl::StatusOr<RedisReplyPtr> exists =
        conn_->Command({"EXISTS", layout_.AlertStatus(tenant, theirs.alert_id())});
    ASSERT_TRUE(exists.ok());
    EXPECT_EQ((*exists)->integer, 0) << tenant;
  }
}

TEST_F(SnoozeTest, TheReasonNeverReachesTheLog) {
  Snooze(alert_.alert_id(), "nurse-1", absl::Hours(2));
  Snooze(alert_.alert_id(), "nurse-1", absl::Hours(2), "Second private reason");
  Resolve(alert_.alert_id());
  Call(Request(alert_.alert_id(), "nurse-1", absl::Hours(2), "Refused private reason"));
  Call(Request(alert_.alert_id(), "nurse-1", absl::Seconds(2), "Invalid private reason"));
  Call(Request("unknown-alert", "nurse-1", absl::Hours(2), "Unknown private reason"));
  // Stop the service so that everything it logged is in the file.
  stub_.reset();
  channel_.reset();
  service_.Signal(SIGTERM);
  ASSERT_EQ(service_.Wait(absl::Seconds(30)), 0);
  const std::string log = service_.ReadLog();
  EXPECT_THAT(log, HasSubstr("SnoozeAlert"));  // the access lines are there
  for (const char* reason : {kReason, "Second private reason", "Refused private reason",
                             "Invalid private reason", "Unknown private reason"}) {
    EXPECT_THAT(log, Not(HasSubstr(reason)));
  }
  EXPECT_THAT(log, Not(HasSubstr("private reason")));
}

// The request checks themselves, for what gRPC cannot carry (a proto3 string that is not
// UTF-8 never reaches the service) and exact bounds at a fixed clock.
TEST(SnoozeRequestTest, ReasonAndLimitChecks) {
  using insights::CheckSnoozeReason;
  EXPECT_TRUE(CheckSnoozeReason("ok").ok());
  EXPECT_EQ(CheckSnoozeReason("bad \xff byte").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(CheckSnoozeReason("\xc0\xaf").code(), absl::StatusCode::kInvalidArgument);  // overlong
  EXPECT_EQ(CheckSnoozeReason("\xed\xa0\x80").code(),
            absl::StatusCode::kInvalidArgument);  // a surrogate
  EXPECT_EQ(CheckSnoozeReason("a\xe2\x80\xae" "b").code(),
            absl::StatusCode::kInvalidArgument);  // right-to-left override
  EXPECT_EQ(CheckSnoozeReason("\xc2\xa0").code(), absl::StatusCode::kInvalidArgument);  // blank
  EXPECT_TRUE(CheckSnoozeReason("\xf0\x9f\x99\x82 later").ok());
  EXPECT_THAT(std::string(CheckSnoozeReason("secret\nstuff").message()), Not(HasSubstr("secret")));

  const absl::Time now = absl::FromUnixSeconds(1700000000);
  alliance::v1::SnoozeAlertRequest request;
  request.mutable_duration()->set_seconds(60);
  absl::StatusOr<absl::Time> end = insights::SnoozeEnd(request, now, absl::Hours(1));
  ASSERT_TRUE(end.ok()) << end.status();
  EXPECT_EQ(*end, now + absl::Minutes(1));
  request.mutable_duration()->set_seconds(3600);
  request.mutable_duration()->set_nanos(1);
  EXPECT_EQ(insights::SnoozeEnd(request, now, absl::Hours(1)).status().code(),
            absl::StatusCode::kInvalidArgument);
  request.mutable_until()->set_seconds(1700000000 + 3600);
  end = insights::SnoozeEnd(request, now, absl::Hours(1));
  ASSERT_TRUE(end.ok()) << end.status();
  EXPECT_EQ(*end, now + absl::Hours(1));
  request.mutable_until()->set_seconds(1700000000 + 59);
  EXPECT_THAT(std::string(insights::SnoozeEnd(request, now, absl::Hours(1)).status().message()),
              ::testing::StartsWith("until: "));
}

// Without --max_snooze: 30 days at most.
class SnoozeDefaultsTest : public SnoozeTest {
 protected:
  std::vector<std::string> ExtraFlags() const override { return {}; }
};

TEST_F(SnoozeDefaultsTest, TheDefaultLimitIsThirtyDays) {
  Snooze(alert_.alert_id(), "nurse-1", absl::Hours(24 * 30));
  grpc::Status status = Call(Request(alert_.alert_id(), "nurse-1", absl::Hours(24 * 30 + 1)));
  EXPECT_EQ(status.error_code(), grpc::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("720h"));
}

}  // namespace
}  // namespace alliance::testing
