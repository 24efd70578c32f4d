// alliancectl against the running insights service (its --json output is parsed), and its
// parsing of submission files.
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "common/auth.h"
#include "tests/services/insights/insights_fixture.h"
#include "tests/support/api_keys.h"
#include "tools/alliancectl/submissions.h"

namespace alliance::testing {
namespace {

constexpr char kCtlKey[] = "ctl-key-clinic-a-5d0f2a9c";

// The service runs with authentication on; alliancectl sends clinic-a's key from a file.
class AlliancectlTest : public InsightsFixture {
 protected:
  std::vector<std::string> ExtraFlags() const override {
    std::string keys = absl::StrCat(redis_.dir(), "/api-keys.json");
    EXPECT_TRUE(WriteApiKeyFile(keys, {{"ctl", kCtlKey, "clinic-a", {"read", "watch"}}}).ok());
    std::ofstream(key_file()) << kCtlKey << "\n";
    return {absl::StrCat("--api_keys_file=", keys)};
  }
  std::string key_file() const { return absl::StrCat(redis_.dir(), "/ctl.key"); }

  // Runs alliancectl with `args` and returns the JSON objects it printed.
  std::vector<nlohmann::json> Run(std::vector<std::string> args, int expected_exit = 0,
                                  bool with_key = true) {
    args.insert(args.begin(), {absl::StrCat("--insights=", address()), "--json",
                               "--tenant=clinic-a", "--timeout_ms=10000"});
    if (with_key) args.insert(args.begin(), absl::StrCat("--api_key_file=", key_file()));
    ChildProcess ctl;
    std::string log = absl::StrCat(redis_.dir(), "/ctl-", runs_++, ".log");
    EXPECT_TRUE(ctl.Start(BinaryPath("alliancectl"), args, log).ok());
    std::optional<int> code = ctl.Wait(absl::Seconds(60));
    EXPECT_EQ(code, expected_exit) << ctl.ReadLog();
    std::vector<nlohmann::json> out;
    std::istringstream lines(ctl.ReadLog());
    std::string line;
    while (std::getline(lines, line)) {
      if (line.empty() || line[0] != '{') continue;
      out.push_back(nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false));
    }
    return out;
  }
  int runs_ = 0;
};

TEST_F(AlliancectlTest, ShowsDyadsAlertsAndChangesStatus) {
  auto at_risk = MakeDyad("clinic-a", "t1", "c1");
  at_risk.mutable_picture()->set_at_risk(true);
  WriteDyads({at_risk, MakeDyad("clinic-a", "t1", "c2"), MakeDyad("clinic-b", "t1", "c3")});
  auto alert = MakeAlert("clinic-a", "t1", "c1", 1);
  AppendAlerts({alert});

  std::vector<nlohmann::json> dyads = Run({"dyads", "--all_pages"});
  ASSERT_EQ(dyads.size(), 2u);
  EXPECT_EQ(dyads[0]["client_id"], "c1");
  EXPECT_EQ(dyads[1]["client_id"], "c2");
  std::vector<nlohmann::json> risky = Run({"dyads", "--at_risk"});
  ASSERT_EQ(risky.size(), 1u);
  EXPECT_EQ(risky[0]["client_id"], "c1");

  std::vector<nlohmann::json> dyad = Run({"dyad", "--therapist=t1", "--client=c1"});
  ASSERT_EQ(dyad.size(), 1u);
  EXPECT_EQ(dyad[0]["at_risk"], true);
  Run({"dyad", "--therapist=t1", "--client=c3"}, /*expected_exit=*/1);  // other tenant's

  std::vector<nlohmann::json> alerts = Run({"alerts"});
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0]["alert_id"], alert.alert_id());
  EXPECT_EQ(alerts[0]["status"], "ALERT_STATUS_OPEN");

  std::vector<nlohmann::json> acked = Run({"ack", alert.alert_id(), "--actor=nurse-1"});
  ASSERT_EQ(acked.size(), 1u);
  EXPECT_EQ(acked[0]["status"], "ALERT_STATUS_ACKNOWLEDGED");
  EXPECT_EQ(acked[0]["acknowledged_by"], "nurse-1");
  std::vector<nlohmann::json> resolved = Run({"resolve", alert.alert_id(), "--actor=dr-2"});
  ASSERT_EQ(resolved.size(), 1u);
  EXPECT_EQ(resolved[0]["status"], "ALERT_STATUS_RESOLVED");
  EXPECT_EQ(Run({"alerts", "--status=open"}).size(), 0u);
}

TEST_F(AlliancectlTest, WatchResumesFromACursorAndStopsAfterCount) {
  // Take a cursor from a watch of our own, then append three alerts.
  auto stub = NewStub();
  grpc::ClientContext context;
  UseKey(context, kCtlKey);
  alliance::v1::WatchAlertsRequest request;
  request.set_tenant_id("clinic-a");
  auto reader = stub->WatchAlerts(&context, request);
  alliance::v1::WatchAlertsResponse first;
  ASSERT_TRUE(reader->Read(&first));
  context.TryCancel();
  reader->Finish();
  std::vector<alliance::v1::Alert> alerts = {MakeAlert("clinic-a", "t1", "c1", 1),
                                             MakeAlert("clinic-a", "t1", "c1", 2),
                                             MakeAlert("clinic-a", "t1", "c1", 3)};
  AppendAlerts(alerts);
  std::vector<nlohmann::json> got =
      Run({"watch", absl::StrCat("--cursor=", first.cursor()), "--count=3"});
  ASSERT_EQ(got.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(got[i]["alert"]["alert_id"], alerts[i].alert_id());
    EXPECT_FALSE(got[i]["cursor"].get<std::string>().empty());
  }
  // --for bounds a watch with nothing to show.
  EXPECT_EQ(Run({"watch", "--for=1s"}).size(), 0u);
}

TEST_F(AlliancectlTest, WithoutAKeyGetsNothing) {
  WriteDyads({MakeDyad("clinic-a", "t1", "c1")});
  EXPECT_EQ(Run({"dyads"}, /*expected_exit=*/1, /*with_key=*/false).size(), 0u);
  EXPECT_EQ(Run({"dyads"}).size(), 1u);
}

// hash-key prints an entry that, written to the key file, lets that key in.
TEST_F(AlliancectlTest, HashKeyPrintsAWorkingKeyFileEntry) {
  ChildProcess ctl;
  std::string out = absl::StrCat(redis_.dir(), "/hash.log");
  ASSERT_TRUE(
      ctl.Start("/bin/sh",
                {"-c", absl::StrCat("echo new-operator-key-1234 | ", BinaryPath("alliancectl"),
                                    " hash-key --key_id=op --tenant=clinic-a --scopes=read")},
                out)
          .ok());
  ASSERT_EQ(ctl.Wait(absl::Seconds(30)), 0) << ctl.ReadLog();
  nlohmann::json entry = nlohmann::json::parse(ctl.ReadLog(), nullptr, false);
  ASSERT_TRUE(entry.is_object()) << ctl.ReadLog();
  EXPECT_EQ(entry["sha256"], HashApiKey("new-operator-key-1234"));
  EXPECT_EQ(ctl.ReadLog().find("new-operator-key-1234"), std::string::npos) << "key printed";
  EXPECT_EQ(entry["tenant"], "clinic-a");
  EXPECT_EQ(entry["scopes"], nlohmann::json::array({"read"}));
}

TEST(SubmissionFiles, CsvAndJsonLines) {
  auto csv = ctl::ParseCsvLine(
      "clinic-a,idem-1,t1,c1,s-9,3,2024-03-01T10:00:00Z,client,srs,9 8.5 7 10", "ignored");
  ASSERT_TRUE(csv.ok()) << csv.status();
  EXPECT_EQ(csv->tenant_id(), "clinic-a");
  EXPECT_EQ(csv->session_number(), 3);
  EXPECT_EQ(csv->rater(), alliance::v1::RATER_CLIENT);
  ASSERT_EQ(csv->answers_size(), 4);
  EXPECT_EQ(csv->answers(3).item(), 4);
  EXPECT_DOUBLE_EQ(csv->answers(1).value(), 8.5);
  EXPECT_FALSE(ctl::ParseCsvLine("clinic-a,idem-1,t1", "").ok());
  EXPECT_FALSE(ctl::ParseCsvLine("a,b,t,c,s,3,yesterday,client,srs,1 2 3 4", "").ok());  // bad time
  EXPECT_FALSE(ctl::ParseCsvLine("a,b,t,c,s,3,2024-03-01T10:00:00Z,boss,srs,1", "").ok());

  auto json = ctl::ParseJsonLine(
      R"({"idempotency_id":"i","therapist_id":"t1","client_id":"c1","session_number":2,)"
      R"("session_time":"2024-03-01T10:00:00Z","rater":"therapist","instrument_id":"wai-sr-t",)"
      R"("answers":[4,5,3]})",
      "clinic-z");
  ASSERT_TRUE(json.ok()) << json.status();
  EXPECT_EQ(json->tenant_id(), "clinic-z");
  EXPECT_EQ(json->rater(), alliance::v1::RATER_THERAPIST);
  ASSERT_EQ(json->answers_size(), 3);
  EXPECT_EQ(json->answers(2).item(), 3);
  EXPECT_FALSE(ctl::ParseJsonLine("{not json", "").ok());
}

}  // namespace
}  // namespace alliance::testing
