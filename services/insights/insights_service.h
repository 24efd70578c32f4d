// AllianceInsights over the gRPC callback API. Unary handlers validate, resolve the tenant and
// hand the query to the Redis pool; the pool thread fills the response and finishes the call.
// WatchAlerts returns one WatchReactor per stream.
#ifndef ALLIANCE_SERVICES_INSIGHTS_INSIGHTS_SERVICE_H_
#define ALLIANCE_SERVICES_INSIGHTS_INSIGHTS_SERVICE_H_

#include <functional>
#include <string_view>

#include "absl/status/status.h"
#include "alliance/v1/insights.grpc.pb.h"
#include "analytics/registry.h"
#include "analytics/summary_rules.h"
#include "common/auth.h"
#include "services/insights/fhir_definitions.h"
#include "services/insights/insights_queries.h"
#include "services/insights/redis_pool.h"
#include "services/insights/service_metrics.h"
#include "services/insights/watch_reactor.h"
#include "store/keys.h"

namespace alliance::insights {

class InsightsService final : public alliance::v1::AllianceInsights::CallbackService {
 public:
  InsightsService(RedisPool* pool, const KeyLayout* layout,
                  const analytics::InstrumentRegistry* registry, ServiceMetrics* metrics,
                  WatchEnvironment* watch, QueryLimits limits, const Authorizer* authorizer);

  grpc::ServerUnaryReactor* GetDyad(grpc::CallbackServerContext* context,
                                    const alliance::v1::GetDyadRequest* request,
                                    alliance::v1::GetDyadResponse* response) override;
  grpc::ServerUnaryReactor* ListDyads(grpc::CallbackServerContext* context,
                                      const alliance::v1::ListDyadsRequest* request,
                                      alliance::v1::ListDyadsResponse* response) override;
  grpc::ServerUnaryReactor* GetDyadTimeline(
      grpc::CallbackServerContext* context, const alliance::v1::GetDyadTimelineRequest* request,
      alliance::v1::GetDyadTimelineResponse* response) override;
  grpc::ServerUnaryReactor* ListAlerts(grpc::CallbackServerContext* context,
                                       const alliance::v1::ListAlertsRequest* request,
                                       alliance::v1::ListAlertsResponse* response) override;
  grpc::ServerUnaryReactor* AcknowledgeAlert(
      grpc::CallbackServerContext* context, const alliance::v1::AcknowledgeAlertRequest* request,
      alliance::v1::AcknowledgeAlertResponse* response) override;
  grpc::ServerUnaryReactor* ResolveAlert(grpc::CallbackServerContext* context,
                                         const alliance::v1::ResolveAlertRequest* request,
                                         alliance::v1::ResolveAlertResponse* response) override;
  // Defined in snooze_rpc.cc.
  grpc::ServerUnaryReactor* SnoozeAlert(grpc::CallbackServerContext* context,
                                        const alliance::v1::SnoozeAlertRequest* request,
                                        alliance::v1::SnoozeAlertResponse* response) override;
  grpc::ServerUnaryReactor* DeleteClientData(
      grpc::CallbackServerContext* context, const alliance::v1::DeleteClientDataRequest* request,
      alliance::v1::DeleteClientDataResponse* response) override;
  // Answered from the registry in memory, on the calling thread: no Redis, no tenant data.
  grpc::ServerUnaryReactor* ListInstruments(
      grpc::CallbackServerContext* context, const alliance::v1::ListInstrumentsRequest* request,
      alliance::v1::ListInstrumentsResponse* response) override;
  // Defined in therapist_summaries.cc.
  grpc::ServerUnaryReactor* GetTherapistSummary(
      grpc::CallbackServerContext* context, const alliance::v1::GetTherapistSummaryRequest* request,
      alliance::v1::GetTherapistSummaryResponse* response) override;
  grpc::ServerUnaryReactor* ListTherapistSummaries(
      grpc::CallbackServerContext* context,
      const alliance::v1::ListTherapistSummariesRequest* request,
      alliance::v1::ListTherapistSummariesResponse* response) override;
  // Defined in fhir_rpc.cc. The Questionnaire is answered from memory on the calling thread.
  grpc::ServerUnaryReactor* GetFhirQuestionnaire(
      grpc::CallbackServerContext* context,
      const alliance::v1::GetFhirQuestionnaireRequest* request,
      alliance::v1::FhirResource* response) override;
  grpc::ServerUnaryReactor* GetDyadFhirBundle(grpc::CallbackServerContext* context,
                                              const alliance::v1::GetDyadFhirBundleRequest* request,
                                              alliance::v1::FhirResource* response) override;
  grpc::ServerWriteReactor<alliance::v1::WatchAlertsResponse>* WatchAlerts(
      grpc::CallbackServerContext* context,
      const alliance::v1::WatchAlertsRequest* request) override;

 private:
  using Query = std::function<absl::Status(RedisExecutor&)>;
  // The one path of every unary RPC: finishes with `auth` (the caller's authentication and
  // authorization) if it is an error, so an unauthenticated or unauthorized caller learns
  // nothing about its request; then with `invalid` if that is an error; otherwise runs `query`
  // on the Redis pool.
  grpc::ServerUnaryReactor* Run(grpc::CallbackServerContext* context, std::string_view method,
                                const absl::Status& auth, absl::Status invalid, Query query);
  grpc::ServerUnaryReactor* ChangeStatus(grpc::CallbackServerContext* context,
                                         std::string_view method, std::string_view tenant_id,
                                         std::string_view alert_id, std::string_view actor,
                                         std::string_view therapist, std::string_view client,
                                         bool resolve, alliance::v1::Alert* out);

  RedisPool* const pool_;
  const KeyLayout* const layout_;
  const analytics::InstrumentRegistry* const registry_;
  const FhirDefinitions fhir_definitions_;  // rendered from registry_ once
  ServiceMetrics* const metrics_;
  WatchEnvironment* const watch_;
  const QueryLimits limits_;
  const Authorizer* const authorizer_;  // every call is authorized here first
  const QueryDeps deps_;                // what the shared query bodies read with
};

}  // namespace alliance::insights

#endif  // ALLIANCE_SERVICES_INSIGHTS_INSIGHTS_SERVICE_H_
