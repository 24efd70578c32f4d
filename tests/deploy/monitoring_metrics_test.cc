// The shipped alerting rules and Grafana dashboard (deploy/kubernetes/components/monitoring)
// name only series the binaries export: each deployable runs against a real redis-server with
// its metrics port, its /metrics is scraped, and every alliance_* name in the rules file and
// the dashboard must be one of the exported families (a histogram's _bucket, _sum and _count
// included). A renamed metric fails here instead of leaving an alert that never fires.
#include <httplib.h>
#include <signal.h>

#include <regex>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "common/process.h"
#include "gtest/gtest.h"
#include "tests/support/child_process.h"
#include "tests/support/redis_server.h"

namespace alliance::testing {
namespace {

constexpr char kMonitoring[] = "deploy/kubernetes/components/monitoring/";

// Family names and types from the exposition's `# TYPE name type` lines.
std::map<std::string, std::string> Families(const std::string& exposition) {
  std::map<std::string, std::string> out;
  for (absl::string_view line : absl::StrSplit(exposition, '\n')) {
    std::vector<std::string> words = absl::StrSplit(line, ' ', absl::SkipEmpty());
    if (words.size() == 4 && words[0] == "#" && words[1] == "TYPE") out[words[2]] = words[3];
  }
  return out;
}

// The series names a scrape can return: counters and gauges by name, histograms by their
// _bucket, _sum and _count series.
std::set<std::string> SeriesNames(const std::map<std::string, std::string>& families) {
  std::set<std::string> out;
  for (const auto& [name, type] : families) {
    if (type == "histogram") {
      for (const char* suffix : {"_bucket", "_sum", "_count"}) out.insert(name + suffix);
    } else {
      out.insert(name);
    }
  }
  return out;
}

std::set<std::string> AllianceNamesIn(const std::string& text) {
  static const std::regex kName("alliance_[a-z0-9_]+");
  std::set<std::string> out;
  for (auto it = std::sregex_iterator(text.begin(), text.end(), kName);
       it != std::sregex_iterator(); ++it) {
    out.insert(it->str());
  }
  return out;
}

class MonitoringMetricsTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(redis_.Start().ok()); }
  void TearDown() override {
    for (ChildProcess& p : processes_) {
      if (!p.running()) continue;
      p.Signal(SIGTERM);
      if (!p.Wait(absl::Seconds(20)).has_value()) p.Kill();
    }
  }

  // Starts `binary` with a metrics port and returns what /metrics serves once it has the
  // families `expect_family` names (registries fill as the binary starts; bounded wait).
  std::string Scrape(const std::string& binary, std::vector<std::string> args,
                     const std::string& expect_family) {
    const int metrics_port = FreePort();
    args.push_back(absl::StrCat("--redis_port=", redis_.port()));
    args.push_back(absl::StrCat("--metrics_port=", metrics_port));
    args.push_back(absl::StrCat("--health_port=", FreePort()));
    ChildProcess& process = processes_.emplace_back();
    EXPECT_TRUE(process.Start(BinaryPath(binary), args, redis_.dir() + "/" + binary + ".log").ok());
    httplib::Client client("127.0.0.1", metrics_port);
    client.set_connection_timeout(1);
    client.set_read_timeout(2);
    std::string body;
    const absl::Time deadline = absl::Now() + absl::Seconds(20);
    while (absl::Now() < deadline) {
      auto res = client.Get("/metrics");
      if (res && res->status == 200) {
        body = res->body;
        if (Families(body).count(expect_family) > 0) break;
      }
      absl::SleepFor(absl::Milliseconds(100));
    }
    EXPECT_TRUE(Families(body).count(expect_family) > 0)
        << binary << " never exported " << expect_family << "\n"
        << process.ReadLog();
    return body;
  }

  RedisServer redis_;
  std::deque<ChildProcess> processes_;
};

TEST_F(MonitoringMetricsTest, EveryMetricTheRulesAndTheDashboardNameIsExported) {
  std::map<std::string, std::string> families;
  for (const auto& [binary, args, family] :
       std::vector<std::tuple<std::string, std::vector<std::string>, std::string>>{
           {"alliance-intake",
            {absl::StrCat("--grpc_port=", FreePort()), "--auth_disabled"},
            "alliance_intake_requests_total"},
           {"alliance-insights",
            {absl::StrCat("--grpc_port=", FreePort()), "--auth_disabled"},
            "alliance_insights_watchers"},
           {"alliance-worker", {"--worker_id=monitoring"}, "alliance_worker_lag"}}) {
    families.merge(Families(Scrape(binary, args, family)));
  }
  const std::set<std::string> exported = SeriesNames(families);
  ASSERT_GT(exported.size(), 30u);

  for (const char* file :
       {"alliance.rules.yml", "prometheus-rule.yaml", "alliance-dashboard.json"}) {
    absl::StatusOr<std::string> text =
        ReadFileToString(SourcePath(absl::StrCat(kMonitoring, file)));
    ASSERT_TRUE(text.ok()) << text.status();
    const std::set<std::string> named = AllianceNamesIn(*text);
    EXPECT_GE(named.size(), 5u) << file;
    for (const std::string& name : named) {
      EXPECT_TRUE(exported.count(name) > 0)
          << file << " names " << name << ", which no binary exports";
    }
  }
}

// The checker itself: a name no binary exports is caught.
TEST(MonitoringNamesTest, AMisspelledMetricIsNotAnExportedSeries) {
  const std::set<std::string> exported =
      SeriesNames({{"alliance_worker_lag", "gauge"},
                   {"alliance_intake_request_duration_seconds", "histogram"}});
  EXPECT_TRUE(exported.count("alliance_intake_request_duration_seconds_bucket") > 0);
  EXPECT_FALSE(exported.count("alliance_intake_request_duration_seconds") > 0);
  const std::set<std::string> named =
      AllianceNamesIn("max by (partition) (alliance_worker_lags) > 5 and alliance_worker_lag");
  EXPECT_EQ(named, (std::set<std::string>{"alliance_worker_lag", "alliance_worker_lags"}));
}

}  // namespace
}  // namespace alliance::testing
