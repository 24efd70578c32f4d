// alliancectl against the running insights and intake services (its --json output and its
// tables are read back): listings, the per-series AT_RISK column, submissions from RFC 4180
// CSV with result codes by name and --summary, exit codes; and its parsing of submission files.
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "common/auth.h"
#include "gmock/gmock.h"
#include "tests/services/insights/insights_fixture.h"
#include "tests/services/intake/intake_fixture.h"
#include "tests/support/api_keys.h"
#include "tests/support/questionnaire_responses.h"
#include "tools/alliancectl/submissions.h"

namespace alliance::testing {
namespace {

constexpr char kCtlKey[] = "ctl-key-clinic-a-5d0f2a9c";

using ::testing::HasSubstr;
using ::testing::Not;

// Runs alliancectl with exactly `args`, expects `expected_exit`, returns stdout and stderr.
std::string RunCtl(const std::string& dir, const std::vector<std::string>& args,
                   int expected_exit) {
  static int runs = 0;
  ChildProcess ctl;
  std::string log = absl::StrCat(dir, "/ctl-", runs++, ".log");
  EXPECT_TRUE(ctl.Start(BinaryPath("alliancectl"), args, log).ok());
  std::optional<int> code = ctl.Wait(absl::Seconds(60));
  EXPECT_EQ(code, expected_exit) << absl::StrJoin(args, " ") << "\n" << ctl.ReadLog();
  return ctl.ReadLog();
}

// The rows of a table alliancectl printed: cells are separated by two spaces or more.
std::vector<std::vector<std::string>> TableRows(const std::string& text) {
  std::vector<std::vector<std::string>> rows;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    std::vector<std::string> cells;
    for (absl::string_view cell : absl::StrSplit(line, "  ", absl::SkipEmpty())) {
      cells.emplace_back(absl::StripAsciiWhitespace(cell));
    }
    rows.push_back(std::move(cells));
  }
  return rows;
}

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

  // Runs alliancectl with `args` (after the connection flags) and returns what it printed.
  std::string RunText(std::vector<std::string> args, int expected_exit = 0, bool with_key = true) {
    args.insert(args.begin(), {absl::StrCat("--insights=", address()), "--tenant=clinic-a",
                               "--timeout_ms=10000"});
    if (with_key) args.insert(args.begin(), absl::StrCat("--api_key_file=", key_file()));
    return RunCtl(redis_.dir(), args, expected_exit);
  }
  // Runs alliancectl with `args` and returns the JSON objects it printed.
  std::vector<nlohmann::json> Run(std::vector<std::string> args, int expected_exit = 0,
                                  bool with_key = true) {
    args.insert(args.begin(), "--json");
    std::vector<nlohmann::json> out;
    std::istringstream lines(RunText(args, expected_exit, with_key));
    std::string line;
    while (std::getline(lines, line)) {
      if (line.empty() || line[0] != '{') continue;
      out.push_back(nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false));
    }
    return out;
  }
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

TEST_F(AlliancectlTest, SnoozePutsAnAlertAsideAndAlertsShowsUntilWhen) {
  auto alert = MakeAlert("clinic-a", "t1", "c1", 1);
  AppendAlerts({alert});
  const std::string id = alert.alert_id();
  std::vector<nlohmann::json> snoozed =
      Run({"snooze", id, "--actor=nurse-1", "--reason=Waiting for supervision", "--for=2h"});
  ASSERT_EQ(snoozed.size(), 1u);
  EXPECT_EQ(snoozed[0]["status"], "ALERT_STATUS_SNOOZED");
  EXPECT_EQ(snoozed[0]["snoozed_by"], "nurse-1");
  EXPECT_EQ(snoozed[0]["snooze_reason"], "Waiting for supervision");

  const std::string until = "2099-01-02T03:04:05Z";  // past --max_snooze: refused (exit 1)
  Run({"snooze", id, "--actor=nurse-1", "--reason=r", "--until=" + until}, /*expected_exit=*/1);
  const std::string soon =
      absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::Now() + absl::Hours(3), absl::UTCTimeZone());
  std::vector<nlohmann::json> later =
      Run({"snooze", id, "--actor=nurse-2", "--reason=Later", "--until=" + soon});
  ASSERT_EQ(later.size(), 1u);
  EXPECT_EQ(later[0]["snoozed_until"], soon);
  EXPECT_EQ(later[0]["snoozed_by"], "nurse-2");

  // The table's STATUS cell says until when; --status=snoozed filters on it.
  std::vector<std::vector<std::string>> rows = TableRows(RunText({"alerts", "--status=snoozed"}));
  ASSERT_EQ(rows.size(), 2u);
  ASSERT_EQ(rows[0][8], "STATUS");
  EXPECT_EQ(rows[1][0], id);
  EXPECT_EQ(rows[1][8], "snoozed-until-" + soon);
  EXPECT_EQ(Run({"alerts", "--status=open"}).size(), 0u);

  // Usage errors (exit 2) and a refused request (exit 1).
  Run({"snooze", id, "--actor=nurse-1", "--for=2h"}, 2);    // no --reason
  Run({"snooze", id, "--reason=r", "--for=2h"}, 2);         // no --actor
  Run({"snooze", id, "--actor=nurse-1", "--reason=r"}, 2);  // no limit
  Run({"snooze", id, "--actor=nurse-1", "--reason=r", "--for=2h", "--until=" + soon}, 2);
  Run({"snooze", id, "--actor=nurse-1", "--reason=r", "--until=tomorrow"}, 2);
  Run({"snooze", "--actor=nurse-1", "--reason=r", "--for=2h"}, 2);       // no alert id
  Run({"snooze", id, "--actor=nurse-1", "--reason=r", "--for=30s"}, 1);  // under 1 minute
  Run({"snooze", "no-such-alert", "--actor=nurse-1", "--reason=r", "--for=2h"}, 1);
  Run({"resolve", id, "--actor=dr-2"});
  Run({"snooze", id, "--actor=nurse-1", "--reason=r", "--for=2h"}, 1);  // resolved
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

// Insights ends every connection after 1.5 s (the shipped manifests: five minutes), which ends
// watch streams with UNAVAILABLE; `alliancectl watch` resumes each time from the cursor of the
// last message it received, so every alert arrives once, in order.
class AlliancectlShortConnectionTest : public AlliancectlTest {
 protected:
  std::vector<std::string> ExtraFlags() const override {
    std::vector<std::string> flags = AlliancectlTest::ExtraFlags();
    flags.push_back("--max_connection_age_ms=1500");
    flags.push_back("--max_connection_age_grace_ms=200");
    return flags;
  }
};

TEST_F(AlliancectlShortConnectionTest,
       WatchResumesAcrossConnectionEndsWithNoAlertMissedOrRepeated) {
  ChildProcess ctl;
  const std::string log = absl::StrCat(redis_.dir(), "/watch-resume.log");
  ASSERT_TRUE(ctl.Start(BinaryPath("alliancectl"),
                        {absl::StrCat("--api_key_file=", key_file()),
                         absl::StrCat("--insights=", address()), "--tenant=clinic-a", "--json",
                         "watch", "--for=9s"},
                        log)
                  .ok());
  absl::SleepFor(absl::Milliseconds(500));  // the stream is open and has its first cursor
  std::vector<std::string> appended;
  for (int i = 1; i <= 14; ++i) {  // about 6 s: several connection ends
    alliance::v1::Alert alert = MakeAlert("clinic-a", "t1", "c1", i);
    AppendAlerts({alert});
    appended.push_back(alert.alert_id());
    absl::SleepFor(absl::Milliseconds(450));
  }
  ASSERT_EQ(ctl.Wait(absl::Seconds(30)), 0) << ctl.ReadLog();
  const std::string out = ctl.ReadLog();
  std::vector<std::string> received;
  std::istringstream lines(out);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.empty() || line[0] != '{') continue;
    nlohmann::json message = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (message.contains("alert")) received.push_back(message["alert"]["alert_id"]);
  }
  EXPECT_EQ(received, appended) << out;
  EXPECT_NE(out.find("watch: stream ended (UNAVAILABLE"), std::string::npos)
      << "the connection age never ended a stream:\n"
      << out;
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

// AT_RISK in `dyad` is each series' own flag; `dyads` names the series at risk.
TEST_F(AlliancectlTest, AtRiskIsShownPerSeries) {
  auto record = MakeDyad("clinic-a", "t1", "c1");
  alliance::v1::Dyad* picture = record.mutable_picture();
  picture->set_at_risk(true);
  picture->clear_series();  // MakeDyad's own series; these three instead
  alliance::v1::SeriesPicture* low = picture->add_series();
  low->set_rater(alliance::v1::RATER_CLIENT);
  low->set_instrument_id("srs");
  low->set_below_cutoff(true);
  alliance::v1::SeriesPicture* fine = picture->add_series();
  fine->set_rater(alliance::v1::RATER_THERAPIST);
  fine->set_instrument_id("wai-sr-t");
  alliance::v1::SeriesPicture* rupture = picture->add_series();
  rupture->set_rater(alliance::v1::RATER_OBSERVER);
  rupture->set_instrument_id("wai-sr-o");
  rupture->mutable_open_rupture()->set_onset_session(4);
  WriteDyads({record, MakeDyad("clinic-a", "t1", "c2")});

  std::vector<std::vector<std::string>> rows =
      TableRows(RunText({"dyad", "--therapist=t1", "--client=c1"}));
  ASSERT_GE(rows.size(), 4u);
  ASSERT_EQ(rows[0].back(), "AT_RISK");
  EXPECT_EQ(rows[1][2], "client");
  EXPECT_EQ(rows[1].back(), "yes (below cutoff)");
  EXPECT_EQ(rows[2][2], "therapist");
  EXPECT_EQ(rows[2].back(), "no");  // the dyad is at risk, this series is not
  EXPECT_EQ(rows[3][2], "observer");
  EXPECT_EQ(rows[3].back(), "yes (open rupture)");

  rows = TableRows(RunText({"dyads"}));
  ASSERT_EQ(rows.size(), 3u);
  ASSERT_EQ(rows[0][6], "AT_RISK");
  EXPECT_EQ(rows[1][6], "client srs, observer wai-sr-o");
  EXPECT_EQ(rows[2][1], "c2");
  EXPECT_EQ(rows[2][6], "no");
}

// `instruments`: the registry's instruments as a table and as JSON, one instrument's items
// (reverse scoring, subscales), and an unknown id as a failed call.
TEST_F(AlliancectlTest, InstrumentsListsTheRegistryAndOneInstrumentsItems) {
  std::vector<std::vector<std::string>> rows = TableRows(RunText({"instruments"}));
  ASSERT_FALSE(rows.empty());
  EXPECT_EQ(rows[0], (std::vector<std::string>{"ID", "NAME", "RATERS", "ITEMS", "SCALE",
                                               "SUBSCALES", "CUTOFF"}));
  std::map<std::string, std::vector<std::string>> by_id;
  for (size_t i = 1; i < rows.size(); ++i) {
    if (!rows[i].empty()) by_id[rows[i][0]] = rows[i];
  }
  EXPECT_EQ(by_id["srs"], (std::vector<std::string>{
                              "srs", "Session Rating Scale v3", "client", "4", "0..10 step 0.1",
                              "relationship, goals, approach, overall", "< 36"}));
  ASSERT_EQ(by_id["haq-ii"].size(), 7u);
  EXPECT_EQ(by_id["haq-ii"][2], "client, therapist");
  EXPECT_EQ(by_id["haq-ii"][5], "-");
  ASSERT_EQ(by_id["wai-sr"].size(), 7u);
  EXPECT_EQ(by_id["wai-sr"][5], "task, bond, goal");

  // --json: one Instrument per line, the same set.
  std::vector<nlohmann::json> json = Run({"instruments"});
  std::set<std::string> ids;
  for (const nlohmann::json& instrument : json) ids.insert(instrument.value("id", ""));
  EXPECT_EQ(ids.size(), by_id.size());
  EXPECT_TRUE(ids.count("srs") == 1 && ids.count("wai-sr-t") == 1);

  // One instrument: its items, reversed ones marked, with their subscales.
  std::vector<std::vector<std::string>> items = TableRows(RunText({"instruments", "haq-ii"}));
  ASSERT_EQ(items.size(), 2u + 19u);  // summary line, header, 19 items
  EXPECT_THAT(items[0][0], HasSubstr("haq-ii (Revised Helping Alliance Questionnaire"));
  EXPECT_EQ(items[1],
            (std::vector<std::string>{"ITEM", "MIN", "MAX", "STEP", "REVERSED", "SUBSCALES"}));
  EXPECT_EQ(items[2 + 3][0], "4");
  EXPECT_EQ(items[2 + 3][4], "yes");
  EXPECT_EQ(items[2 + 0][4], "no");
  std::vector<std::vector<std::string>> wai = TableRows(RunText({"instruments", "wai-sr"}));
  ASSERT_EQ(wai.size(), 2u + 12u);
  EXPECT_EQ(wai[2 + 2][5], "bond");  // item 3
  std::vector<nlohmann::json> one = Run({"instruments", "srs"});
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one[0].value("item_count", 0), 4);

  EXPECT_THAT(RunText({"instruments", "no-such"}, 1), HasSubstr("NOT_FOUND"));
  EXPECT_THAT(RunText({"instruments", "srs", "wai-sr"}, 2), HasSubstr("at most one argument"));
}

// `questionnaire` and `fhir-bundle`: the FHIR resources of GetFhirQuestionnaire and
// GetDyadFhirBundle, printed as the service returns them (one JSON object per line).
TEST_F(AlliancectlTest, FhirCommandsPrintTheResources) {
  std::vector<nlohmann::json> srs = Run({"questionnaire", "srs"});
  ASSERT_EQ(srs.size(), 1u);
  EXPECT_EQ(srs[0]["resourceType"], "Questionnaire");
  EXPECT_EQ(srs[0]["url"], "https://alliance.health/fhir/Questionnaire/srs");
  std::vector<nlohmann::json> all = Run({"questionnaire"});
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0]["resourceType"], "Bundle");
  EXPECT_THAT(RunText({"questionnaire", "no-such"}, 1), HasSubstr("NOT_FOUND"));

  WriteDyads({MakeDyad("clinic-a", "t1", "c1")});
  std::vector<nlohmann::json> bundle = Run({"fhir-bundle", "--therapist=t1", "--client=c1"});
  ASSERT_EQ(bundle.size(), 1u);
  EXPECT_EQ(bundle[0]["type"], "searchset");
  std::vector<nlohmann::json> exported =
      Run({"fhir-bundle", "--therapist=t1", "--client=c1", "--export"});
  ASSERT_EQ(exported.size(), 1u);
  EXPECT_EQ(exported[0]["type"], "transaction");
  EXPECT_THAT(RunText({"fhir-bundle", "--therapist=t1", "--client=c9"}, 1), HasSubstr("NOT_FOUND"));
  EXPECT_THAT(RunText({"fhir-bundle", "--therapist=t1"}, 2), HasSubstr("--client"));
}

// Usage errors exit 2, failed calls 1, success 0; --help and --version 0.
TEST_F(AlliancectlTest, ExitCodes) {
  const std::string insights = absl::StrCat("--insights=", address());
  const std::string key = absl::StrCat("--api_key_file=", key_file());
  const std::string dir = redis_.dir();
  EXPECT_THAT(RunCtl(dir, {"--bogus", "dyads"}, 2), HasSubstr("unknown flag --bogus"));
  EXPECT_THAT(RunCtl(dir, {"--timeout_ms=abc", "dyads"}, 2), HasSubstr("--timeout_ms=abc"));
  RunCtl(dir, {"--timeout_ms", "abc", "dyads"}, 2);
  RunCtl(dir, {"--json=maybe", "dyads"}, 2);
  RunCtl(dir, {"--nojson=1", "dyads"}, 2);
  RunCtl(dir, {"dyads", "--page_size"}, 2);  // a flag without its value
  EXPECT_THAT(RunCtl(dir, {}, 2), HasSubstr("no command given"));
  EXPECT_THAT(RunCtl(dir, {key, "frobnicate"}, 2), HasSubstr("unknown command 'frobnicate'"));
  EXPECT_THAT(RunCtl(dir, {key, insights, "dyads", "extra"}, 2),
              HasSubstr("dyads takes no arguments, got 'extra'"));
  EXPECT_THAT(RunCtl(dir, {key, insights, "ack", "--actor=a"}, 2), HasSubstr("ack ALERT_ID"));
  RunCtl(dir, {key, insights, "alerts", "--min_severity=loud"}, 2);
  RunCtl(dir, {insights, "dyads"}, 2);  // neither a key nor --tenant
  EXPECT_THAT(RunCtl(dir, {"--help"}, 0), HasSubstr("Default: the API key's tenant"));
  RunCtl(dir, {"--bogus", "--help"}, 0);  // help wins
  EXPECT_THAT(RunCtl(dir, {"--version"}, 0), HasSubstr("alliancectl"));
  RunCtl(dir, {key, insights, "--nojson", "dyads"}, 0);
  RunCtl(dir, {key, insights, "--", "dyads"}, 0);
  // A call that fails is 1: another tenant's dyad, and a service nobody listens on.
  RunCtl(dir, {key, insights, "--tenant=clinic-b", "dyads"}, 1);
  RunCtl(dir, {key, "--insights=127.0.0.1:1", "--timeout_ms=2000", "dyads"}, 1);
}

// Submissions against the real intake: RFC 4180 CSV, result codes by name, --summary.
class AlliancectlSubmitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(redis_.Start().ok());
    ASSERT_TRUE(intake_.Start(redis_.port()).ok()) << intake_.Log();
  }
  std::string WriteCsv(const std::string& name, const std::string& text) {
    std::string path = absl::StrCat(redis_.dir(), "/", name);
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }
  std::string Submit(std::vector<std::string> args, int expected_exit) {
    args.insert(args.begin(), {absl::StrCat("--intake=127.0.0.1:", intake_.grpc_port()),
                               "--tenant=clinic-a", "submit"});
    return RunCtl(redis_.dir(), args, expected_exit);
  }
  RedisServer redis_;
  IntakeProcess intake_;
};

TEST_F(AlliancectlSubmitTest, CsvWithQuotesResultNamesAndSummary) {
  const std::string time =
      absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::Now() - absl::Hours(2), absl::UTCTimeZone());
  // CRLF line ends, a header row, answers quoted with spaces, a client id with a comma in
  // quotes (one field: the intake refuses the id, not the column count), doubled quotes.
  const std::string csv = WriteCsv(
      "cohort.csv",
      absl::StrCat("tenant_id,idempotency_id,therapist_id,client_id,session_id,session_number,"
                   "session_time,rater,instrument_id,answers\r\n",
                   ",sub-1,t1,c1,s1,1,", time, ",client,srs,\"9 8.5 9 9\"\r\n",
                   ",sub-2,t1,\"c,\"\"1\"\"\",s1,1,", time, ",client,srs,\"9 9 9 9\"\r\n",
                   "\"\",\"sub-3\",t1,c1,s2,2,", time, ",client,srs,\"1 2 3 4\"\r\n"));
  std::string table = Submit({absl::StrCat("--file=", csv)}, 1);
  std::vector<std::vector<std::string>> rows = TableRows(table);
  ASSERT_GE(rows.size(), 5u) << table;
  EXPECT_EQ(rows[0][1], "RESULT");
  EXPECT_EQ(rows[1][1], "accepted");
  EXPECT_EQ(rows[2][1], "INVALID_ARGUMENT");
  EXPECT_THAT(rows[2].back(), HasSubstr("client_id"));
  EXPECT_EQ(rows[3][1], "accepted");
  EXPECT_THAT(table, Not(HasSubstr("error 3")));
  EXPECT_THAT(table, HasSubstr("3 submitted: 2 accepted, 1 INVALID_ARGUMENT\n"));

  // Again, as a summary: the retries are duplicates, and no per-line table.
  std::string summary = Submit({absl::StrCat("--file=", csv), "--summary"}, 1);
  EXPECT_EQ(summary, "3 submitted: 2 duplicate, 1 INVALID_ARGUMENT\n");
  std::string json = Submit({absl::StrCat("--file=", csv), "--summary", "--json"}, 1);
  EXPECT_EQ(nlohmann::json::parse(json, nullptr, false),
            nlohmann::json::parse(R"({"submitted":3,"accepted":0,"duplicate":2,)"
                                  R"("errors":{"INVALID_ARGUMENT":1}})"));

  // All accepted: exit 0.
  const std::string clean =
      WriteCsv("clean.csv", absl::StrCat(",sub-9,t1,c9,s1,1,", time, ",client,srs,\"9 9 9 9\"\n"));
  EXPECT_EQ(Submit({absl::StrCat("--file=", clean), "--summary"}, 0), "1 submitted: 1 accepted\n");

  // A malformed line is a usage error naming the file, line and column; nothing is sent.
  const std::string open =
      WriteCsv("open.csv", absl::StrCat(",sub-10,t1,c1,s1,1,", time, ",client,srs,\"9 9 9 9\n"));
  EXPECT_THAT(Submit({absl::StrCat("--file=", open)}, 2),
              HasSubstr("open.csv: line 1, column 52: unterminated quoted field"));
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

// `fhir-submit`: QuestionnaireResponse files to the real intake, one line per file with the
// result (accepted, duplicate, or the code and the message naming the FHIRPath).
TEST_F(AlliancectlSubmitTest, FhirSubmitSendsEachFile) {
  QuestionnaireResponseSpec spec;
  spec.identifier = "qr-ctl-1";
  spec.answers = {9, 8.5, 9, 9};
  spec.decimal = true;
  const std::string good = WriteCsv("good.json", QuestionnaireResponseJson(spec));
  spec.identifier = "qr-ctl-2";
  spec.answers = {9, 8.5, 9};
  const std::string bad = WriteCsv("bad.json", QuestionnaireResponseJson(spec));
  const std::vector<std::string> connection = {
      absl::StrCat("--intake=127.0.0.1:", intake_.grpc_port()), "--tenant=clinic-a"};
  auto run = [&](std::vector<std::string> files, int expected_exit) {
    std::vector<std::string> args = connection;
    args.push_back("fhir-submit");
    args.insert(args.end(), files.begin(), files.end());
    return RunCtl(redis_.dir(), args, expected_exit);
  };
  EXPECT_THAT(run({good}, 0), HasSubstr("\taccepted\t"));
  std::string again = run({good, bad, redis_.dir() + "/missing.json"}, 1);
  EXPECT_THAT(again, HasSubstr("good.json\tduplicate\t"));
  EXPECT_THAT(again, HasSubstr("bad.json\tINVALID_ARGUMENT\tQuestionnaireResponse.item"));
  EXPECT_THAT(again, HasSubstr("missing.json\tUNREADABLE"));
  std::vector<std::string> none = connection;
  none.push_back("fhir-submit");
  EXPECT_THAT(RunCtl(redis_.dir(), none, 2), HasSubstr("one or more files"));
}

}  // namespace
}  // namespace alliance::testing
