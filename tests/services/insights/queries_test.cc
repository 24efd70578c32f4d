// AllianceInsights queries against a real redis-server and the real alliance-insights binary:
// GetDyad, ListDyads paging and filters, GetDyadTimeline, ListAlerts, acknowledge / resolve,
// and tenant scoping.
#include <google/protobuf/util/time_util.h>

#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "tests/services/insights/insights_fixture.h"

namespace alliance::testing {
namespace {

using alliance::v1::Alert;

class QueriesTest : public InsightsFixture {};

TEST_F(QueriesTest, GetDyadReturnsTheWorkersPicture) {
  auto record = MakeDyad("clinic-a", "t1", "c1");
  record.mutable_picture()->set_open_ruptures(1);
  record.mutable_picture()->set_at_risk(true);
  WriteDyad(record);
  auto stub = NewStub();
  grpc::ClientContext context;
  alliance::v1::GetDyadRequest request;
  request.set_tenant_id("clinic-a");
  request.set_therapist_id("t1");
  request.set_client_id("c1");
  alliance::v1::GetDyadResponse response;
  grpc::Status status = stub->GetDyad(&context, request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.dyad().SerializeAsString(), record.picture().SerializeAsString());

  grpc::ClientContext missing_context;
  request.set_client_id("nobody");
  EXPECT_EQ(stub->GetDyad(&missing_context, request, &response).error_code(), grpc::NOT_FOUND);

  grpc::ClientContext bad_context;
  request.set_client_id("bad:id");
  EXPECT_EQ(stub->GetDyad(&bad_context, request, &response).error_code(), grpc::INVALID_ARGUMENT);
}

TEST_F(QueriesTest, AnotherTenantsDyadAndAlertsAreInvisible) {
  WriteDyad(MakeDyad("clinic-b", "t1", "c1"));
  Alert theirs = MakeAlert("clinic-b", "t1", "c1", 1);
  AppendAlerts({theirs});
  auto stub = NewStub();
  {
    grpc::ClientContext context;
    alliance::v1::GetDyadRequest request;
    request.set_tenant_id("clinic-a");
    request.set_therapist_id("t1");
    request.set_client_id("c1");
    alliance::v1::GetDyadResponse response;
    EXPECT_EQ(stub->GetDyad(&context, request, &response).error_code(), grpc::NOT_FOUND);
  }
  {
    grpc::ClientContext context;
    alliance::v1::GetDyadTimelineRequest request;
    request.set_tenant_id("clinic-a");
    request.set_therapist_id("t1");
    request.set_client_id("c1");
    alliance::v1::GetDyadTimelineResponse response;
    EXPECT_EQ(stub->GetDyadTimeline(&context, request, &response).error_code(), grpc::NOT_FOUND);
  }
  {
    grpc::ClientContext context;
    alliance::v1::ListDyadsRequest request;
    request.set_tenant_id("clinic-a");
    alliance::v1::ListDyadsResponse response;
    ASSERT_TRUE(stub->ListDyads(&context, request, &response).ok());
    EXPECT_EQ(response.dyads_size(), 0);
  }
  {
    grpc::ClientContext context;
    alliance::v1::ListAlertsRequest request;
    request.set_tenant_id("clinic-a");
    alliance::v1::ListAlertsResponse response;
    ASSERT_TRUE(stub->ListAlerts(&context, request, &response).ok());
    EXPECT_EQ(response.alerts_size(), 0);
  }
  for (bool hint : {false, true}) {
    grpc::ClientContext context;
    alliance::v1::AcknowledgeAlertRequest request;
    request.set_tenant_id("clinic-a");
    request.set_alert_id(theirs.alert_id());
    request.set_actor("nurse-1");
    if (hint) {
      request.set_therapist_id("t1");
      request.set_client_id("c1");
    }
    alliance::v1::AcknowledgeAlertResponse response;
    EXPECT_EQ(stub->AcknowledgeAlert(&context, request, &response).error_code(), grpc::NOT_FOUND);
  }
}

TEST_F(QueriesTest, PagingWalksAThousandDyadsWithoutGapsOrRepeats) {
  std::vector<alliance::internal::v1::DyadRecord> records;
  std::set<std::string> expected;
  std::set<std::string> expected_at_risk;
  for (int i = 0; i < 1000; ++i) {
    std::string therapist = absl::StrCat("t", i % 23);
    std::string client = absl::StrCat("c", i);
    auto record = MakeDyad("clinic-a", therapist, client);
    if (i % 7 == 0) {
      record.mutable_picture()->set_at_risk(true);
      expected_at_risk.insert(therapist + ":" + client);
    }
    records.push_back(record);
    expected.insert(therapist + ":" + client);
  }
  for (int i = 0; i < 50; ++i) records.push_back(MakeDyad("clinic-b", "t1", absl::StrCat("x", i)));
  WriteDyads(records);

  auto walk = [this](bool at_risk_only, int page_size) {
    auto stub = NewStub();
    std::vector<std::string> seen;
    alliance::v1::ListDyadsRequest request;
    request.set_tenant_id("clinic-a");
    request.set_page_size(page_size);
    request.set_at_risk_only(at_risk_only);
    for (int page = 0; page < 2000; ++page) {
      grpc::ClientContext context;
      alliance::v1::ListDyadsResponse response;
      grpc::Status status = stub->ListDyads(&context, request, &response);
      EXPECT_TRUE(status.ok()) << status.error_message();
      if (!status.ok()) break;
      for (const auto& d : response.dyads()) {
        EXPECT_EQ(d.tenant_id(), "clinic-a");
        seen.push_back(d.therapist_id() + ":" + d.client_id());
      }
      if (response.next_page_token().empty()) break;
      request.set_page_token(response.next_page_token());
    }
    return seen;
  };
  std::vector<std::string> all = walk(false, 37);
  EXPECT_EQ(all.size(), 1000u);
  EXPECT_TRUE(std::is_sorted(all.begin(), all.end()));
  EXPECT_EQ(std::set<std::string>(all.begin(), all.end()), expected);

  std::vector<std::string> at_risk = walk(true, 10);
  EXPECT_EQ(at_risk.size(), expected_at_risk.size());
  EXPECT_EQ(std::set<std::string>(at_risk.begin(), at_risk.end()), expected_at_risk);

  // One therapist's dyads only.
  auto stub = NewStub();
  grpc::ClientContext context;
  alliance::v1::ListDyadsRequest request;
  request.set_tenant_id("clinic-a");
  request.set_therapist_id("t1");
  request.set_page_size(500);
  alliance::v1::ListDyadsResponse response;
  ASSERT_TRUE(stub->ListDyads(&context, request, &response).ok());
  int expected_t1 = 0;
  for (int i = 0; i < 1000; ++i) expected_t1 += (i % 23 == 1);
  EXPECT_EQ(response.dyads_size(), expected_t1);
  for (const auto& d : response.dyads()) EXPECT_EQ(d.therapist_id(), "t1");
}

TEST_F(QueriesTest, TimelineScoresEachSessionAndAttachesItsAlerts) {
  auto record = MakeDyad("clinic-a", "t1", "c1");
  // SRS: four items on 0..10; the total is their sum.
  const std::vector<std::vector<double>> answers = {{9, 9, 9, 9}, {8.5, 9, 9.5, 9}, {6, 7, 6, 5}};
  for (int s = 0; s < 3; ++s) {
    for (auto rater : {alliance::v1::RATER_CLIENT}) {
      auto* rating = record.add_ratings();
      rating->set_rating_id(absl::StrCat("r", s));
      rating->set_session_number(s + 1);
      rating->set_rater(rater);
      rating->set_instrument_id("srs");
      for (double a : answers[s]) rating->add_answers(a);
    }
  }
  Alert rupture = MakeAlert("clinic-a", "t1", "c1", 2);  // session_number 3
  *record.add_alerts() = rupture;
  WriteDyad(record);
  auto stub = NewStub();
  grpc::ClientContext context;
  alliance::v1::GetDyadTimelineRequest request;
  request.set_tenant_id("clinic-a");
  request.set_therapist_id("t1");
  request.set_client_id("c1");
  alliance::v1::GetDyadTimelineResponse response;
  grpc::Status status = stub->GetDyadTimeline(&context, request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(response.points_size(), 3);
  EXPECT_DOUBLE_EQ(response.points(0).total(), 36);
  EXPECT_DOUBLE_EQ(response.points(1).total(), 36);
  EXPECT_DOUBLE_EQ(response.points(2).total(), 24);
  EXPECT_NEAR(response.points(2).pomp(), 60, 1e-9);
  EXPECT_EQ(response.points(0).alerts_size(), 0);
  // Item flags (SRS: a line at or below 9): every line of session 1 sits at 9; session 2 has
  // 8.5, 9 and 9 on lines 1, 2 and 4 (9.5 is above); session 3's lines are all below.
  ASSERT_EQ(response.points(0).flagged_items_size(), 4);
  ASSERT_EQ(response.points(1).flagged_items_size(), 3);
  EXPECT_EQ(response.points(1).flagged_items(0).item(), 1);
  EXPECT_DOUBLE_EQ(response.points(1).flagged_items(0).value(), 8.5);
  EXPECT_DOUBLE_EQ(response.points(1).flagged_items(0).check_value(), 9);
  EXPECT_EQ(response.points(1).flagged_items(1).item(), 2);
  EXPECT_EQ(response.points(1).flagged_items(2).item(), 4);
  EXPECT_EQ(response.points(2).flagged_items_size(), 4);
  ASSERT_EQ(response.points(2).alerts_size(), 1);
  EXPECT_EQ(response.points(2).alerts(0).alert_id(), rupture.alert_id());
  EXPECT_EQ(response.points(2).alerts(0).status(), alliance::v1::ALERT_STATUS_OPEN);
}

TEST_F(QueriesTest, ListAlertsFiltersAndPagesNewestFirst) {
  std::vector<Alert> alerts;
  for (int i = 0; i < 120; ++i) {
    auto severity = static_cast<alliance::v1::Severity>(1 + i % 4);
    auto kind = static_cast<alliance::v1::AlertKind>(1 + i % 3);
    alerts.push_back(MakeAlert("clinic-a", absl::StrCat("t", i % 5), absl::StrCat("c", i % 11), i,
                               severity, kind));
  }
  for (int i = 0; i < 30; ++i) alerts.push_back(MakeAlert("clinic-b", "t1", "c1", 1000 + i));
  AppendAlerts(alerts);
  auto stub = NewStub();
  auto list = [&stub](alliance::v1::ListAlertsRequest request) {
    std::vector<Alert> out;
    for (int page = 0; page < 100; ++page) {
      grpc::ClientContext context;
      alliance::v1::ListAlertsResponse response;
      grpc::Status status = stub->ListAlerts(&context, request, &response);
      EXPECT_TRUE(status.ok()) << status.error_message();
      if (!status.ok()) break;
      for (const auto& a : response.alerts()) out.push_back(a);
      if (response.next_page_token().empty()) break;
      request.set_page_token(response.next_page_token());
    }
    return out;
  };
  alliance::v1::ListAlertsRequest request;
  request.set_tenant_id("clinic-a");
  request.set_page_size(25);
  std::vector<Alert> all = list(request);
  ASSERT_EQ(all.size(), 120u);
  std::set<std::string> ids;
  for (const Alert& a : all) ids.insert(a.alert_id());
  EXPECT_EQ(ids.size(), 120u);
  for (int i = 0; i < 120; ++i) EXPECT_TRUE(ids.contains(alerts[i].alert_id()));
  // Newest first: within a dyad (one partition, one stream) the reverse of append order.
  std::map<std::string, std::vector<std::string>> by_dyad_listed, by_dyad_appended;
  for (const Alert& a : all)
    by_dyad_listed[a.therapist_id() + ":" + a.client_id()].push_back(a.alert_id());
  for (int i = 119; i >= 0; --i) {
    by_dyad_appended[alerts[i].therapist_id() + ":" + alerts[i].client_id()].push_back(
        alerts[i].alert_id());
  }
  EXPECT_EQ(by_dyad_listed, by_dyad_appended);

  request.set_min_severity(alliance::v1::SEVERITY_HIGH);
  request.add_kinds(alliance::v1::ALERT_KIND_RUPTURE);
  request.set_therapist_id("t0");
  std::vector<Alert> filtered = list(request);
  int expected = 0;
  for (int i = 0; i < 120; ++i) {
    expected += (1 + i % 4 >= 3) && (i % 3 == 0) && (i % 5 == 0);
  }
  EXPECT_EQ(static_cast<int>(filtered.size()), expected);
  for (const auto& a : filtered) {
    EXPECT_GE(a.severity(), alliance::v1::SEVERITY_HIGH);
    EXPECT_EQ(a.kind(), alliance::v1::ALERT_KIND_RUPTURE);
    EXPECT_EQ(a.therapist_id(), "t0");
  }

  grpc::ClientContext bad_context;
  alliance::v1::ListAlertsRequest bad;
  bad.set_tenant_id("clinic-a");
  bad.set_page_token("not-a-token");
  alliance::v1::ListAlertsResponse response;
  EXPECT_EQ(stub->ListAlerts(&bad_context, bad, &response).error_code(), grpc::INVALID_ARGUMENT);
}

TEST_F(QueriesTest, AcknowledgeAndResolveAreIdempotentAndKeepWhoAndWhen) {
  Alert alert = MakeAlert("clinic-a", "t1", "c1", 7);
  Alert other = MakeAlert("clinic-a", "t1", "c1", 8);
  auto record = MakeDyad("clinic-a", "t1", "c1");
  *record.add_alerts() = alert;
  *record.add_alerts() = other;
  WriteDyad(record);
  AppendAlerts({alert, other});
  auto stub = NewStub();
  auto ack = [&stub](const std::string& id, const std::string& actor, bool hint) {
    grpc::ClientContext context;
    alliance::v1::AcknowledgeAlertRequest request;
    request.set_tenant_id("clinic-a");
    request.set_alert_id(id);
    request.set_actor(actor);
    if (hint) {
      request.set_therapist_id("t1");
      request.set_client_id("c1");
    }
    alliance::v1::AcknowledgeAlertResponse response;
    grpc::Status status = stub->AcknowledgeAlert(&context, request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response.alert();
  };
  auto resolve = [&stub](const std::string& id, const std::string& actor) {
    grpc::ClientContext context;
    alliance::v1::ResolveAlertRequest request;
    request.set_tenant_id("clinic-a");
    request.set_alert_id(id);
    request.set_actor(actor);
    alliance::v1::ResolveAlertResponse response;
    grpc::Status status = stub->ResolveAlert(&context, request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response.alert();
  };
  Alert first = ack(alert.alert_id(), "nurse-1", false);
  EXPECT_EQ(first.status(), alliance::v1::ALERT_STATUS_ACKNOWLEDGED);
  EXPECT_EQ(first.acknowledged_by(), "nurse-1");
  EXPECT_GT(first.acknowledged_at().seconds(), 0);
  Alert again = ack(alert.alert_id(), "nurse-2", true);
  EXPECT_EQ(again.acknowledged_by(), "nurse-1");
  EXPECT_EQ(again.acknowledged_at().SerializeAsString(),
            first.acknowledged_at().SerializeAsString());

  Alert resolved = resolve(alert.alert_id(), "dr-3");
  EXPECT_EQ(resolved.status(), alliance::v1::ALERT_STATUS_RESOLVED);
  EXPECT_EQ(resolved.resolved_by(), "dr-3");
  EXPECT_EQ(resolved.acknowledged_by(), "nurse-1");
  Alert resolved_again = resolve(alert.alert_id(), "dr-4");
  EXPECT_EQ(resolved_again.resolved_by(), "dr-3");
  EXPECT_EQ(ack(alert.alert_id(), "nurse-5", false).status(), alliance::v1::ALERT_STATUS_RESOLVED);

  // The status shows in listings and can be filtered on.
  grpc::ClientContext context;
  alliance::v1::ListAlertsRequest request;
  request.set_tenant_id("clinic-a");
  request.set_status(alliance::v1::ALERT_STATUS_RESOLVED);
  alliance::v1::ListAlertsResponse response;
  ASSERT_TRUE(stub->ListAlerts(&context, request, &response).ok());
  ASSERT_EQ(response.alerts_size(), 1);
  EXPECT_EQ(response.alerts(0).alert_id(), alert.alert_id());
  EXPECT_EQ(response.alerts(0).resolved_by(), "dr-3");

  grpc::ClientContext open_context;
  request.set_status(alliance::v1::ALERT_STATUS_OPEN);
  ASSERT_TRUE(stub->ListAlerts(&open_context, request, &response).ok());
  ASSERT_EQ(response.alerts_size(), 1);
  EXPECT_EQ(response.alerts(0).alert_id(), other.alert_id());

  grpc::ClientContext missing_context;
  alliance::v1::ResolveAlertRequest missing;
  missing.set_tenant_id("clinic-a");
  missing.set_alert_id("no-such-alert");
  missing.set_actor("dr-3");
  alliance::v1::ResolveAlertResponse missing_response;
  EXPECT_EQ(stub->ResolveAlert(&missing_context, missing, &missing_response).error_code(),
            grpc::NOT_FOUND);
}

}  // namespace
}  // namespace alliance::testing
