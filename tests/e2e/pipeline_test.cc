// The whole path over real gRPC and real Redis: intake -> feedback stream -> worker -> dyad
// state and alert stream -> insights (GetDyad, WatchAlerts); plus the sample cohort, which must
// show every alert kind. Each test runs on one Redis and on a Redis Cluster.
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/time_util.h>

#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "analytics/registry.h"
#include "store/keys.h"
#include "tests/e2e/pipeline_fixture.h"
#include "tools/cohort/cohort.h"

namespace alliance::testing {
namespace {

using ::google::protobuf::util::TimeUtil;

// An SRS submission whose four lines add up to `total` (each a multiple of 0.1).
v1::Feedback SrsFeedback(const std::string& client, int session, double total) {
  v1::Feedback f;
  f.set_tenant_id("clinic-a");
  f.set_idempotency_id(absl::StrCat(client, "-", session));
  f.set_therapist_id("th-1");
  f.set_client_id(client);
  f.set_session_id(absl::StrCat("s", session));
  f.set_session_number(session);
  *f.mutable_session_time() =
      TimeUtil::SecondsToTimestamp(absl::ToUnixSeconds(absl::Now()) - (20 - session) * 7 * 86400);
  f.set_rater(v1::RATER_CLIENT);
  f.set_instrument_id("srs");
  int tenths = static_cast<int>(total * 10 + 0.5);
  for (int item = 1; item <= 4; ++item) {
    int share = tenths / 4 + (item <= tenths % 4 ? 1 : 0);
    v1::ItemAnswer* a = f.add_answers();
    a->set_item(item);
    a->set_value(share / 10.0);
  }
  return f;
}

grpc::Status Submit(v1::FeedbackIntake::Stub* stub, const v1::Feedback& feedback,
                    v1::SubmitFeedbackResponse* response) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  v1::SubmitFeedbackRequest request;
  *request.mutable_feedback() = feedback;
  return stub->SubmitFeedback(&context, request, response);
}

TEST_P(PipelineTest, ValidSubmissionReachesDyadState) {
  v1::SubmitFeedbackResponse ack;
  grpc::Status status = Submit(intake_stub_.get(), SrsFeedback("cl-1", 1, 38.4), &ack);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_FALSE(ack.stream_id().empty());
  EXPECT_FALSE(ack.accepted_id().empty());

  absl::StatusOr<v1::Dyad> dyad = WaitForDyad("clinic-a", "th-1", "cl-1", 1);
  ASSERT_TRUE(dyad.ok()) << dyad.status();
  ASSERT_EQ(dyad->series_size(), 1);
  EXPECT_EQ(dyad->series(0).rater(), v1::RATER_CLIENT);
  EXPECT_EQ(dyad->series(0).instrument_id(), "srs");
  EXPECT_NEAR(dyad->series(0).latest(), 38.4, 1e-9);
  EXPECT_NEAR(dyad->series(0).latest_pomp(), 96.0, 1e-9);
  EXPECT_FALSE(dyad->at_risk());
}

TEST_P(PipelineTest, RuptureSeriesRaisesAlertOnWatchAlerts) {
  grpc::ClientContext watch_context;
  watch_context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
  v1::WatchAlertsRequest watch;
  watch.set_tenant_id("clinic-a");
  auto reader = insights_stub_->WatchAlerts(&watch_context, watch);

  // 38, 38.5, 38, then 28.5: below the cutoff of 36 and a reliable drop from the previous
  // session (more than 3.7 * S_diff = 9.06 points).
  std::vector<double> totals = {38.0, 38.5, 38.0, 28.5};
  for (size_t i = 0; i < totals.size(); ++i) {
    v1::SubmitFeedbackResponse ack;
    ASSERT_TRUE(Submit(intake_stub_.get(), SrsFeedback("cl-2", i + 1, totals[i]), &ack).ok());
  }
  v1::WatchAlertsResponse message;
  bool got_rupture = false;
  while (!got_rupture && reader->Read(&message)) {
    if (message.heartbeat()) continue;
    const v1::Alert& alert = message.alert();
    EXPECT_EQ(alert.tenant_id(), "clinic-a");
    EXPECT_FALSE(message.cursor().empty());
    if (alert.client_id() == "cl-2" && alert.kind() == v1::ALERT_KIND_RUPTURE) {
      got_rupture = true;
      EXPECT_EQ(alert.session_number(), 4);
      std::set<int> rules(alert.rules_fired().begin(), alert.rules_fired().end());
      EXPECT_TRUE(rules.count(v1::REASON_BELOW_CUTOFF)) << alert.DebugString();
      EXPECT_TRUE(rules.count(v1::REASON_RELIABLE_DROP)) << alert.DebugString();
      EXPECT_FALSE(alert.alert_id().empty());
    }
  }
  EXPECT_TRUE(got_rupture) << "no rupture alert arrived on WatchAlerts";
  watch_context.TryCancel();
  reader->Finish();

  absl::StatusOr<v1::Dyad> dyad = WaitForDyad("clinic-a", "th-1", "cl-2", 4);
  ASSERT_TRUE(dyad.ok()) << dyad.status();
  EXPECT_TRUE(dyad->at_risk());
  EXPECT_EQ(dyad->open_ruptures(), 1);
}

// An SRS line at or below 9 is a check-in flag: GetDyad shows it on the latest picture and
// GetDyadTimeline on its session, and the worker raises no alert for a rating whose only sign
// is that flag (the totals, 38 then 38.4, are steady and above the cutoff of 36).
TEST_P(PipelineTest, FlaggedItemShowsOnDyadAndTimelineWithoutAnAlert) {
  for (int session = 1; session <= 5; ++session) {
    v1::Feedback f = SrsFeedback("cl-5", session, 38);  // 9.5 on every line
    if (session == 5) {
      for (int i = 0; i < 4; ++i) f.mutable_answers(i)->set_value(i < 3 ? 9.9 : 8.7);
    }
    v1::SubmitFeedbackResponse ack;
    ASSERT_TRUE(Submit(intake_stub_.get(), f, &ack).ok());
  }
  absl::StatusOr<v1::Dyad> dyad = WaitForDyad("clinic-a", "th-1", "cl-5", 5);
  ASSERT_TRUE(dyad.ok()) << dyad.status();
  ASSERT_EQ(dyad->series_size(), 1);
  ASSERT_EQ(dyad->series(0).latest_flagged_items_size(), 1);
  EXPECT_EQ(dyad->series(0).latest_flagged_items(0).item(), 4);
  EXPECT_DOUBLE_EQ(dyad->series(0).latest_flagged_items(0).value(), 8.7);
  EXPECT_DOUBLE_EQ(dyad->series(0).latest_flagged_items(0).check_value(), 9);
  EXPECT_FALSE(dyad->at_risk());
  EXPECT_EQ(dyad->open_ruptures(), 0);

  grpc::ClientContext timeline_context;
  timeline_context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  v1::GetDyadTimelineRequest timeline_request;
  timeline_request.set_tenant_id("clinic-a");
  timeline_request.set_therapist_id("th-1");
  timeline_request.set_client_id("cl-5");
  v1::GetDyadTimelineResponse timeline;
  grpc::Status status =
      insights_stub_->GetDyadTimeline(&timeline_context, timeline_request, &timeline);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(timeline.points_size(), 5);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(timeline.points(i).flagged_items_size(), 0) << i;
  ASSERT_EQ(timeline.points(4).flagged_items_size(), 1);
  EXPECT_EQ(timeline.points(4).flagged_items(0).item(), 4);
  EXPECT_DOUBLE_EQ(timeline.points(4).flagged_items(0).value(), 8.7);
  for (const v1::TimelinePoint& point : timeline.points()) {
    EXPECT_EQ(point.alerts_size(), 0) << point.session_number();
  }

  // The dyad's record is written with its alerts in the same step as the picture read above.
  grpc::ClientContext alerts_context;
  alerts_context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  v1::ListAlertsRequest alerts_request;
  alerts_request.set_tenant_id("clinic-a");
  alerts_request.set_therapist_id("th-1");
  alerts_request.set_client_id("cl-5");
  v1::ListAlertsResponse alerts;
  status = insights_stub_->ListAlerts(&alerts_context, alerts_request, &alerts);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(alerts.alerts_size(), 0);
}

TEST_P(PipelineTest, InvalidSubmissionIsRejectedAndNothingIsWritten) {
  v1::SubmitFeedbackResponse ack;
  ASSERT_TRUE(Submit(intake_stub_.get(), SrsFeedback("cl-3", 1, 38), &ack).ok());
  long long before = FeedbackStreamLength();
  ASSERT_EQ(before, 1);

  v1::Feedback off_scale = SrsFeedback("cl-3", 2, 38);
  off_scale.mutable_answers(2)->set_value(11.0);  // SRS lines run 0..10
  grpc::Status status = Submit(intake_stub_.get(), off_scale, &ack);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("answers"), std::string::npos) << status.error_message();

  v1::Feedback unknown = SrsFeedback("cl-3", 3, 38);
  unknown.set_instrument_id("no-such-instrument");
  status = Submit(intake_stub_.get(), unknown, &ack);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("instrument_id"), std::string::npos);

  v1::Feedback missing = SrsFeedback("cl-3", 4, 38);
  missing.mutable_answers()->RemoveLast();
  status = Submit(intake_stub_.get(), missing, &ack);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);

  EXPECT_EQ(FeedbackStreamLength(), before);
}

TEST_P(PipelineTest, RedisDownMeansUnavailable) {
  KillRedis();
  v1::SubmitFeedbackResponse ack;
  grpc::Status status = Submit(intake_stub_.get(), SrsFeedback("cl-4", 1, 38), &ack);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << status.error_message();
}

// The sample cohort, fed through the real intake, makes the worker raise every kind of alert.
TEST_P(PipelineTest, SampleCohortShowsEveryAlertKind) {
  cohort::CohortOptions options;
  std::vector<cohort::SampleRating> ratings =
      cohort::GenerateCohort(analytics::InstrumentRegistry::BuiltIn(), options);
  ASSERT_GT(ratings.size(), 400u);
  std::map<std::pair<std::string, std::string>, int> per_dyad;
  v1::SubmitFeedbackBatchRequest batch;
  auto flush = [&] {
    if (batch.feedback_size() == 0) return;
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    v1::SubmitFeedbackBatchResponse response;
    grpc::Status status = intake_stub_->SubmitFeedbackBatch(&context, batch, &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
    for (const auto& result : response.results()) {
      ASSERT_EQ(result.code(), 0) << result.message();
    }
    batch.Clear();
  };
  for (const cohort::SampleRating& r : ratings) {
    v1::Feedback* f = batch.add_feedback();
    f->set_tenant_id(r.tenant_id);
    f->set_idempotency_id(r.idempotency_id);
    f->set_therapist_id(r.therapist_id);
    f->set_client_id(r.client_id);
    f->set_session_id(r.session_id);
    f->set_session_number(r.session_number);
    *f->mutable_session_time() = TimeUtil::SecondsToTimestamp(absl::ToUnixSeconds(r.session_time));
    f->set_rater(r.rater == "client" ? v1::RATER_CLIENT : v1::RATER_THERAPIST);
    f->set_instrument_id(r.instrument_id);
    for (size_t i = 0; i < r.answers.size(); ++i) {
      v1::ItemAnswer* a = f->add_answers();
      a->set_item(static_cast<int>(i) + 1);
      a->set_value(r.answers[i]);
    }
    ++per_dyad[{r.therapist_id, r.client_id}];
    if (batch.feedback_size() == 100) flush();
  }
  flush();
  for (const auto& [dyad, count] : per_dyad) {
    ASSERT_TRUE(WaitForDyad(options.tenant_id, dyad.first, dyad.second, count).ok())
        << dyad.first << "/" << dyad.second;
  }

  // Read every alert straight from the documented alert streams.
  KeyLayout layout(kPartitions);
  std::set<std::string> seen;  // "kind" or "rupture/<reason>"
  std::set<std::string> ids;
  int total = 0;
  for (int p = 0; p < kPartitions; ++p) {
    const std::string stream = layout.AlertStream(p);
    auto reply = RedisCommand(stream, {"XRANGE", stream, "-", "+"});
    ASSERT_TRUE(reply.ok()) << reply.status();
    for (size_t i = 0; i < (*reply)->elements; ++i) {
      const redisReply* fields = (*reply)->element[i]->element[1];
      for (size_t f = 0; f + 1 < fields->elements; f += 2) {
        if (ReplyString(*fields->element[f]) != "alert") continue;
        v1::Alert alert;
        std::string json(ReplyString(*fields->element[f + 1]));
        ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(json, &alert).ok()) << json;
        ++total;
        EXPECT_TRUE(ids.insert(alert.alert_id()).second) << "duplicate alert " << alert.alert_id();
        seen.insert(v1::AlertKind_Name(alert.kind()));
        if (alert.kind() == v1::ALERT_KIND_RUPTURE) {
          for (int rule : alert.rules_fired()) {
            seen.insert(absl::StrCat("rupture/", v1::ReasonCode_Name(rule)));
          }
        }
      }
    }
  }
  EXPECT_GT(total, 0);
  for (const char* expected : {"ALERT_KIND_RUPTURE", "ALERT_KIND_REPAIRED", "ALERT_KIND_UNREPAIRED",
                               "rupture/REASON_BELOW_CUTOFF", "rupture/REASON_RELIABLE_DROP",
                               "rupture/REASON_DEFLECTION", "rupture/REASON_DECLINE"}) {
    EXPECT_TRUE(seen.count(expected)) << "the sample cohort raised no " << expected;
  }
}

INSTANTIATE_TEST_SUITE_P(RedisModes, PipelineTest,
                         ::testing::Values(RedisMode::kSingle, RedisMode::kCluster),
                         [](const ::testing::TestParamInfo<RedisMode>& info) {
                           return info.param == RedisMode::kCluster ? "Cluster" : "SingleRedis";
                         });

}  // namespace
}  // namespace alliance::testing
