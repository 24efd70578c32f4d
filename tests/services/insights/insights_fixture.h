// Test fixture of the insights service: a real redis-server, the real alliance-insights binary
// on free ports, and helpers that seed Redis the way the worker does (DyadRecords, dyad
// indexes, alert stream entries in the documented format).
#ifndef ALLIANCE_TESTS_SERVICES_INSIGHTS_INSIGHTS_FIXTURE_H_
#define ALLIANCE_TESTS_SERVICES_INSIGHTS_INSIGHTS_FIXTURE_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <vector>

#include "alliance/internal/v1/records.pb.h"
#include "alliance/v1/insights.grpc.pb.h"
#include "gtest/gtest.h"
#include "store/keys.h"
#include "store/redis_connection.h"
#include "tests/support/child_process.h"
#include "tests/support/redis_server.h"

namespace alliance::testing {

inline constexpr int kPartitions = 4;

class InsightsFixture : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  // Extra flags for the service (before SetUp runs it); e.g. {"--watch_buffer=16"}.
  virtual std::vector<std::string> ExtraFlags() const { return {}; }

  std::unique_ptr<alliance::v1::AllianceInsights::Stub> NewStub() const;
  // A stub on its own TCP connection.
  std::unique_ptr<alliance::v1::AllianceInsights::Stub> NewStubOnOwnConnection(int id) const;
  std::string address() const { return "127.0.0.1:" + std::to_string(grpc_port_); }

  // A dyad record as the worker writes it (state key + index member).
  alliance::internal::v1::DyadRecord MakeDyad(const std::string& tenant,
                                              const std::string& therapist,
                                              const std::string& client) const;
  void WriteDyad(const alliance::internal::v1::DyadRecord& record);
  void WriteDyads(const std::vector<alliance::internal::v1::DyadRecord>& records);

  // An alert event; `n` makes its id unique.
  alliance::v1::Alert MakeAlert(
      const std::string& tenant, const std::string& therapist, const std::string& client, int n,
      alliance::v1::Severity severity = alliance::v1::SEVERITY_HIGH,
      alliance::v1::AlertKind kind = alliance::v1::ALERT_KIND_RUPTURE) const;
  // XADDs alert entries (pipelined) to the partition of each alert's dyad.
  void AppendAlerts(const std::vector<alliance::v1::Alert>& alerts);

  // GET of the service's /metrics value of `name` (first matching line), -1 when absent.
  double Metric(const std::string& name) const;
  // Resident set size of the service process, in KiB.
  long ServiceRssKib() const;

  RedisServer redis_;
  std::unique_ptr<RedisConnection> conn_;
  ChildProcess service_;
  KeyLayout layout_{kPartitions};
  int grpc_port_ = 0;
  int metrics_port_ = 0;
  int health_port_ = 0;
  int http_port_ = 0;  // FHIR routes (docs/fhir.md)
  std::shared_ptr<grpc::Channel> channel_;
};

// Reads a watch stream until an alert arrives (skipping heartbeats); false at stream end.
bool ReadAlert(grpc::ClientReader<alliance::v1::WatchAlertsResponse>* reader,
               alliance::v1::WatchAlertsResponse* out);

}  // namespace alliance::testing

#endif  // ALLIANCE_TESTS_SERVICES_INSIGHTS_INSIGHTS_FIXTURE_H_
