// Insights fixture: starts redis-server and alliance-insights, seeds Redis in the layout of
// docs/redis-layout.md.
#include "tests/services/insights/insights_fixture.h"

#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/time_util.h>
#include <httplib.h>

#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace alliance::testing {

using google::protobuf::util::TimeUtil;

void InsightsFixture::SetUp() {
  ASSERT_TRUE(redis_.Start().ok());
  auto conn = RedisConnection::Connect(redis_.endpoint());
  ASSERT_TRUE(conn.ok()) << conn.status();
  conn_ = *std::move(conn);
  grpc_port_ = FreePort();
  metrics_port_ = FreePort();
  health_port_ = FreePort();
  http_port_ = FreePort();
  std::vector<std::string> args = {
      absl::StrCat("--redis_port=", redis_.port()),
      absl::StrCat("--grpc_port=", grpc_port_),
      absl::StrCat("--metrics_port=", metrics_port_),
      absl::StrCat("--health_port=", health_port_),
      absl::StrCat("--http_port=", http_port_),
      absl::StrCat("--partitions=", kPartitions),
      // As intake's fixture: the exit after a drain (a sanitizer build's leak check included)
      // can take seconds on a loaded machine, and the shutdown bound is not what these tests
      // check (tests/common/grpc_server_bootstrap_test.cc does).
      "--shutdown_timeout=20s",
  };
  bool has_keys = false;
  for (const std::string& flag : ExtraFlags()) {
    args.push_back(flag);
    has_keys = has_keys || flag.rfind("--api_keys_file=", 0) == 0;
  }
  // Tests that are not about authentication run without it.
  if (!has_keys) args.push_back("--auth_disabled");
  std::string log = absl::StrCat(redis_.dir(), "/insights.log");
  ASSERT_TRUE(service_.Start(BinaryPath("alliance-insights"), args, log).ok());
  ASSERT_TRUE(WaitForPort(grpc_port_, absl::Seconds(20)).ok()) << service_.ReadLog();
  // The HTTP port opens just after the gRPC one.
  ASSERT_TRUE(WaitForPort(http_port_, absl::Seconds(20)).ok()) << service_.ReadLog();
  channel_ = grpc::CreateChannel(address(), grpc::InsecureChannelCredentials());
}

void InsightsFixture::TearDown() {
  // A connected client keeps a draining server waiting until its shutdown deadline.
  channel_.reset();
  if (service_.running()) {
    service_.Signal(SIGTERM);
    std::optional<int> code = service_.Wait(absl::Seconds(30));
    EXPECT_TRUE(code.has_value() && *code == 0) << service_.ReadLog();
  }
}

std::unique_ptr<alliance::v1::AllianceInsights::Stub> InsightsFixture::NewStub() const {
  return alliance::v1::AllianceInsights::NewStub(channel_);
}

std::unique_ptr<alliance::v1::AllianceInsights::Stub> InsightsFixture::NewStubOnOwnConnection(
    int id) const {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  args.SetInt("alliance.test.connection", id);
  return alliance::v1::AllianceInsights::NewStub(
      grpc::CreateCustomChannel(address(), grpc::InsecureChannelCredentials(), args));
}

alliance::internal::v1::DyadRecord InsightsFixture::MakeDyad(const std::string& tenant,
                                                             const std::string& therapist,
                                                             const std::string& client) const {
  alliance::internal::v1::DyadRecord record;
  record.set_version(1);
  record.set_tenant_id(tenant);
  record.set_therapist_id(therapist);
  record.set_client_id(client);
  alliance::v1::Dyad* d = record.mutable_picture();
  d->set_tenant_id(tenant);
  d->set_therapist_id(therapist);
  d->set_client_id(client);
  alliance::v1::SeriesPicture* s = d->add_series();
  s->set_rater(alliance::v1::RATER_CLIENT);
  s->set_instrument_id("srs");
  s->set_session_count(3);
  s->set_latest(37.5);
  s->set_latest_pomp(93.75);
  s->set_ewma(36.9);
  s->set_trend(alliance::v1::TREND_STABLE);
  d->set_ratings_applied(3);
  return record;
}

void InsightsFixture::WriteDyads(const std::vector<alliance::internal::v1::DyadRecord>& records) {
  for (const auto& r : records) {
    int p = layout_.PartitionOf(r.tenant_id(), r.therapist_id(), r.client_id());
    std::string state = r.SerializeAsString();
    conn_->Append(
        {"SET", layout_.DyadState(p, r.tenant_id(), r.therapist_id(), r.client_id()), state});
    conn_->Append({"ZADD", layout_.DyadIndex(p, r.tenant_id()), "0",
                   absl::StrCat(r.therapist_id(), ":", r.client_id())});
  }
  for (size_t i = 0; i < records.size() * 2; ++i) {
    auto reply = conn_->GetReply();
    ASSERT_TRUE(reply.ok()) << reply.status();
    ASSERT_TRUE(ReplyStatus(**reply).ok());
  }
}

void InsightsFixture::WriteDyad(const alliance::internal::v1::DyadRecord& record) {
  WriteDyads({record});
}

alliance::v1::Alert InsightsFixture::MakeAlert(const std::string& tenant,
                                               const std::string& therapist,
                                               const std::string& client, int n,
                                               alliance::v1::Severity severity,
                                               alliance::v1::AlertKind kind) const {
  alliance::v1::Alert a;
  a.set_alert_id(absl::StrCat("a", n, "-", tenant, "-", therapist, "-", client));
  a.set_tenant_id(tenant);
  a.set_therapist_id(therapist);
  a.set_client_id(client);
  a.set_rater(alliance::v1::RATER_CLIENT);
  a.set_instrument_id("srs");
  a.set_kind(kind);
  a.set_reason(alliance::v1::REASON_RELIABLE_DROP);
  a.set_severity(severity);
  a.set_session_number(n % 1000 + 1);
  a.set_episode_id(a.alert_id());
  a.mutable_evidence()->set_rule("reliable_drop");
  a.set_suggested_focus("check in on the bond");
  *a.mutable_detected_at() = TimeUtil::GetCurrentTime();
  return a;
}

void InsightsFixture::AppendAlerts(const std::vector<alliance::v1::Alert>& alerts) {
  auto kind_name = [](alliance::v1::AlertKind k) {
    switch (k) {
      case alliance::v1::ALERT_KIND_REPAIRED:
        return "repaired";
      case alliance::v1::ALERT_KIND_UNREPAIRED:
        return "unrepaired";
      default:
        return "rupture";
    }
  };
  auto severity_name = [](alliance::v1::Severity s) {
    switch (s) {
      case alliance::v1::SEVERITY_INFO:
        return "info";
      case alliance::v1::SEVERITY_WARNING:
        return "warning";
      case alliance::v1::SEVERITY_CRITICAL:
        return "critical";
      default:
        return "high";
    }
  };
  for (const auto& a : alerts) {
    std::string json;
    ASSERT_TRUE(google::protobuf::util::MessageToJsonString(a, &json).ok());
    int p = layout_.PartitionOf(a.tenant_id(), a.therapist_id(), a.client_id());
    conn_->Append({"XADD", layout_.AlertStream(p), "*", "v", "1", "tenant", a.tenant_id(),
                   "therapist", a.therapist_id(), "client", a.client_id(), "alert_id", a.alert_id(),
                   "kind", kind_name(a.kind()), "severity", severity_name(a.severity()), "alert",
                   json});
  }
  for (size_t i = 0; i < alerts.size(); ++i) {
    auto reply = conn_->GetReply();
    ASSERT_TRUE(reply.ok()) << reply.status();
    ASSERT_TRUE(ReplyStatus(**reply).ok());
  }
}

double InsightsFixture::Metric(const std::string& name) const {
  httplib::Client client("127.0.0.1", metrics_port_);
  auto result = client.Get("/metrics");
  if (!result || result->status != 200) return -1;
  std::istringstream lines(result->body);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind(name + " ", 0) == 0 || line.rfind(name + "{", 0) == 0) {
      return std::stod(line.substr(line.rfind(' ') + 1));
    }
  }
  return -1;
}

long InsightsFixture::ServiceRssKib() const {
  std::ifstream status("/proc/" + std::to_string(service_.pid()) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}

bool ReadAlert(grpc::ClientReader<alliance::v1::WatchAlertsResponse>* reader,
               alliance::v1::WatchAlertsResponse* out) {
  // Bounded by the stream: every iteration consumes one message.
  while (reader->Read(out)) {
    if (!out->heartbeat()) return true;
  }
  return false;
}

}  // namespace alliance::testing
