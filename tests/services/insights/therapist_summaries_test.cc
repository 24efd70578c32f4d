// GetTherapistSummary and ListTherapistSummaries over loopback against the real
// alliance-insights binary: partition sums seeded the way the worker's apply script keeps them
// (docs/redis-layout.md, "Therapist summaries"), figures checked against hand-computed values
// (defaults: 90 active days, 5 pseudo-dyads, 50 pseudo-sessions), the read scope, and another
// tenant's key seeing nothing.
#include <gmock/gmock.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "tests/services/insights/insights_fixture.h"
#include "tests/support/api_keys.h"
#include "tests/support/child_process.h"

namespace alliance::testing {
namespace {

constexpr char kReadA[] = "read-key-clinic-a";
constexpr char kReadB[] = "read-key-clinic-b";
constexpr char kWatchA[] = "watch-key-clinic-a";

class TherapistSummariesTest : public InsightsFixture {
 protected:
  std::vector<std::string> ExtraFlags() const override {
    const std::string keys = absl::StrCat(redis_.dir(), "/api-keys.json");
    EXPECT_TRUE(WriteApiKeyFile(keys, {{"reader-a", kReadA, "clinic-a", {"read"}},
                                       {"reader-b", kReadB, "clinic-b", {"read"}},
                                       {"watcher-a", kWatchA, "clinic-a", {"watch"}}})
                    .ok());
    return {absl::StrCat("--api_keys_file=", keys)};
  }

  void HSet(const std::string& key, const std::map<std::string, int64_t>& fields) {
    for (const auto& [f, v] : fields) {
      ASSERT_TRUE(conn_->Command({"HINCRBY", key, f, std::to_string(v)}).ok());
    }
  }

  // One partition's sums of one therapist, added to the tenant's sums and therapist set.
  void Seed(int partition, const std::string& tenant, const std::string& therapist,
            const std::map<std::string, int64_t>& fields) {
    HSet(layout_.TherapistSummary(partition, tenant, therapist), fields);
    HSet(layout_.TenantSummary(partition, tenant), fields);
    ASSERT_TRUE(conn_
                    ->Command({"ZINCRBY", layout_.SummaryTherapists(partition, tenant),
                               std::to_string(fields.at("dyads")), therapist})
                    .ok());
  }

  void SeedClinicA() {
    const std::string day = absl::StrCat("day:", absl::ToUnixSeconds(absl::Now()) / 86400 - 1);
    const std::string risk = absl::StrCat("risk:", absl::ToUnixSeconds(absl::Now()) / 86400 - 1);
    Seed(0, "clinic-a", "th-1",
         {{"dyads", 1},
          {day, 1},
          {risk, 1},
          {"sessions", 10},
          {"ruptures", 2},
          {"repaired", 1},
          {"decided", 1},
          {"pomp:60", 1},
          {"gap_n", 1},
          {"gap_sum", 10000},
          {"gap_sq", 100000000}});
    Seed(2, "clinic-a", "th-1", {{"dyads", 1}, {day, 1}, {"sessions", 10}, {"pomp:80", 1}});
    Seed(1, "clinic-a", "th-2",
         {{"dyads", 2},
          {day, 2},
          {"sessions", 30},
          {"ruptures", 1},
          {"decided", 1},
          {"pomp:70", 2},
          {"gap_n", 2},
          {"gap_sum", -4000},
          {"gap_sq", 10000000}});
    // A dyad rated 100 days ago: counted, but not active.
    const std::string old = absl::StrCat("day:", absl::ToUnixSeconds(absl::Now()) / 86400 - 100);
    Seed(3, "clinic-b", "th-9", {{"dyads", 1}, {old, 1}, {"sessions", 4}});
  }

  grpc::Status Get(const std::string& key, const std::string& tenant, const std::string& therapist,
                   alliance::v1::GetTherapistSummaryResponse* response) {
    grpc::ClientContext context;
    UseKey(context, key);
    alliance::v1::GetTherapistSummaryRequest request;
    request.set_tenant_id(tenant);
    request.set_therapist_id(therapist);
    return NewStub()->GetTherapistSummary(&context, request, response);
  }

  grpc::Status List(const std::string& key, const std::string& tenant, int page_size,
                    const std::string& token,
                    alliance::v1::ListTherapistSummariesResponse* response) {
    grpc::ClientContext context;
    UseKey(context, key);
    alliance::v1::ListTherapistSummariesRequest request;
    request.set_tenant_id(tenant);
    request.set_page_size(page_size);
    request.set_page_token(token);
    return NewStub()->ListTherapistSummaries(&context, request, response);
  }
};

void ExpectTenantA(const alliance::v1::TherapistSummary& t) {
  EXPECT_EQ(t.therapist_id(), "");
  EXPECT_EQ(t.dyads(), 4);
  EXPECT_EQ(t.active_dyads().n(), 4);
  EXPECT_DOUBLE_EQ(t.at_risk_share().raw(), 0.25);              // 1 of 4
  EXPECT_DOUBLE_EQ(t.ruptures_per_100_sessions().raw(), 6);     // 3 in 50
  EXPECT_DOUBLE_EQ(t.repaired_in_window_share().raw(), 0.5);    // 1 of 2 decided
  EXPECT_DOUBLE_EQ(t.median_latest_client_pomp().raw(), 70.5);  // 60.5 70.5 70.5 80.5
  EXPECT_EQ(t.mean_client_therapist_gap_pomp().n(), 3);
  EXPECT_DOUBLE_EQ(t.mean_client_therapist_gap_pomp().raw(), 2);  // (10 - 4) / 3
}

TEST_F(TherapistSummariesTest, GetShrinksTowardTheTenantAndCarriesNAndIntervals) {
  SeedClinicA();
  alliance::v1::GetTherapistSummaryResponse response;
  grpc::Status status = Get(kReadA, "", "th-1", &response);  // empty tenant: the key's
  ASSERT_TRUE(status.ok()) << status.error_message();
  const alliance::v1::TherapistSummary& s = response.summary();
  EXPECT_EQ(s.therapist_id(), "th-1");
  EXPECT_EQ(s.dyads(), 2);
  EXPECT_EQ(s.active_dyads().n(), 2);
  // At risk 1 of 2, toward .25 with 5: (1 + 1.25) / 7.
  EXPECT_EQ(s.at_risk_share().n(), 2);
  EXPECT_DOUBLE_EQ(s.at_risk_share().raw(), 0.5);
  EXPECT_NEAR(s.at_risk_share().shrunken(), 2.25 / 7, 1e-12);
  EXPECT_LT(s.at_risk_share().interval_low(), s.at_risk_share().shrunken());
  EXPECT_GT(s.at_risk_share().interval_high(), s.at_risk_share().shrunken());
  // Ruptures 2 in 20 sessions, toward .06 with 50: (2 + 3) / 70 per session.
  EXPECT_EQ(s.ruptures_per_100_sessions().n(), 20);
  EXPECT_DOUBLE_EQ(s.ruptures_per_100_sessions().raw(), 10);
  EXPECT_NEAR(s.ruptures_per_100_sessions().shrunken(), 500.0 / 70, 1e-9);
  // Repaired 1 of 1, toward .5 with 5: 3.5 / 6.
  EXPECT_NEAR(s.repaired_in_window_share().shrunken(), 3.5 / 6, 1e-12);
  // Median of 60.5 and 80.5; the tenant's is the same 70.5.
  EXPECT_DOUBLE_EQ(s.median_latest_client_pomp().raw(), 70.5);
  // Gap 10 from 1 dyad, toward 2 with w = 1/6: 10/6 + 10/6.
  EXPECT_EQ(s.mean_client_therapist_gap_pomp().n(), 1);
  EXPECT_NEAR(s.mean_client_therapist_gap_pomp().shrunken(), 20.0 / 6, 1e-9);
  EXPECT_TRUE(s.mean_client_therapist_gap_pomp().defined());
  ExpectTenantA(response.tenant());

  EXPECT_EQ(Get(kReadA, "clinic-a", "nobody", &response).error_code(), grpc::NOT_FOUND);
  EXPECT_EQ(Get(kReadA, "clinic-a", "bad:id", &response).error_code(), grpc::INVALID_ARGUMENT);
}

TEST_F(TherapistSummariesTest, ListPagesByTherapistWithTheTenantsFigures) {
  SeedClinicA();
  alliance::v1::ListTherapistSummariesResponse first, second;
  grpc::Status status = List(kReadA, "clinic-a", 1, "", &first);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(first.summaries_size(), 1);
  EXPECT_EQ(first.summaries(0).therapist_id(), "th-1");
  ExpectTenantA(first.tenant());
  ASSERT_FALSE(first.next_page_token().empty());
  status = List(kReadA, "clinic-a", 1, first.next_page_token(), &second);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(second.summaries_size(), 1);
  EXPECT_EQ(second.summaries(0).therapist_id(), "th-2");
  EXPECT_EQ(second.summaries(0).dyads(), 2);
  EXPECT_EQ(second.summaries(0).repaired_in_window_share().n(), 1);
  EXPECT_DOUBLE_EQ(second.summaries(0).repaired_in_window_share().raw(), 0);
  EXPECT_TRUE(second.next_page_token().empty());

  // clinic-b: its one dyad is stored but not active; nothing of clinic-a.
  alliance::v1::ListTherapistSummariesResponse b;
  grpc::Status b_status = List(kReadB, "", 0, "", &b);
  ASSERT_TRUE(b_status.ok()) << b_status.error_message();
  ASSERT_EQ(b.summaries_size(), 1);
  EXPECT_EQ(b.summaries(0).therapist_id(), "th-9");
  EXPECT_EQ(b.summaries(0).dyads(), 1);
  EXPECT_EQ(b.summaries(0).active_dyads().n(), 0);
  EXPECT_FALSE(b.summaries(0).at_risk_share().defined());
  EXPECT_EQ(b.tenant().dyads(), 1);
}

TEST_F(TherapistSummariesTest, ReadScopeAndTenantRules) {
  SeedClinicA();
  alliance::v1::GetTherapistSummaryResponse got;
  alliance::v1::ListTherapistSummariesResponse listed;
  EXPECT_EQ(Get("", "clinic-a", "th-1", &got).error_code(), grpc::UNAUTHENTICATED);
  EXPECT_EQ(Get(kWatchA, "clinic-a", "th-1", &got).error_code(), grpc::PERMISSION_DENIED);
  EXPECT_EQ(List(kWatchA, "", 0, "", &listed).error_code(), grpc::PERMISSION_DENIED);
  // Another tenant's key: naming clinic-a is refused, its own tenant has no th-1.
  EXPECT_EQ(Get(kReadB, "clinic-a", "th-1", &got).error_code(), grpc::PERMISSION_DENIED);
  EXPECT_EQ(List(kReadB, "clinic-a", 0, "", &listed).error_code(), grpc::PERMISSION_DENIED);
  EXPECT_EQ(Get(kReadB, "", "th-1", &got).error_code(), grpc::NOT_FOUND);
  EXPECT_EQ(List(kReadA, "", -1, "", &listed).error_code(), grpc::INVALID_ARGUMENT);
  EXPECT_EQ(List(kReadA, "", 0, "not a token", &listed).error_code(), grpc::INVALID_ARGUMENT);
}

// `alliancectl therapists` against the service: the table (a row per therapist, the tenant's
// last), --json, one therapist, and usage errors.
TEST_F(TherapistSummariesTest, AlliancectlTherapists) {
  SeedClinicA();
  const std::string key_file = absl::StrCat(redis_.dir(), "/ctl-key");
  std::ofstream(key_file) << kReadA << "\n";
  auto run = [&](std::vector<std::string> args, int expected_exit) {
    static int runs = 0;
    args.insert(args.begin(), {absl::StrCat("--insights=", address()),
                               absl::StrCat("--api_key_file=", key_file)});
    ChildProcess ctl;
    const std::string log = absl::StrCat(redis_.dir(), "/ctl-therapists-", runs++, ".log");
    EXPECT_TRUE(ctl.Start(BinaryPath("alliancectl"), args, log).ok());
    EXPECT_EQ(ctl.Wait(absl::Seconds(60)), expected_exit) << ctl.ReadLog();
    return ctl.ReadLog();
  };
  const std::string table = run({"therapists"}, 0);
  EXPECT_THAT(table, ::testing::HasSubstr("AT_RISK"));
  EXPECT_THAT(table, ::testing::HasSubstr("th-2"));
  EXPECT_THAT(table, ::testing::HasSubstr("(tenant)"));
  // th-1: at risk 2.25 / 7 = 32%, with its interval and n; ruptures 500 / 70 = 7.1 per 100.
  EXPECT_THAT(table, ::testing::HasSubstr("32% ("));
  EXPECT_THAT(table, ::testing::HasSubstr("7.1 ("));
  EXPECT_LT(table.find("th-1"), table.find("th-2"));
  EXPECT_LT(table.find("th-2"), table.find("(tenant)"));
  const std::string json = run({"therapists", "th-1", "--json"}, 0);
  EXPECT_THAT(json, ::testing::HasSubstr(R"("therapist_id":"th-1")"));
  EXPECT_THAT(json, ::testing::HasSubstr(R"("dyads":"4")"));  // the tenant's line
  EXPECT_THAT(json, ::testing::Not(::testing::HasSubstr("th-2")));
  run({"therapists", "nobody"}, 1);
  run({"therapists", "a", "b"}, 2);
}

}  // namespace
}  // namespace alliance::testing
