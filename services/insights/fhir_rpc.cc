// AllianceInsights.GetFhirQuestionnaire and GetDyadFhirBundle: the FHIR R4 resources of
// fhir_queries.h over gRPC, on the same path as every unary RPC (Run: auth, validation, pool).
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/grpc_status.h"
#include "services/insights/access_log.h"
#include "services/insights/fhir_queries.h"
#include "services/insights/insights_service.h"
#include "services/insights/tenant.h"

namespace alliance::insights {

grpc::ServerUnaryReactor* InsightsService::GetFhirQuestionnaire(
    grpc::CallbackServerContext* context, const alliance::v1::GetFhirQuestionnaireRequest* request,
    alliance::v1::FhirResource* response) {
  const absl::Time start = absl::Now();
  // Like ListInstruments: the same for every tenant, answered from memory on this thread.
  absl::Status status = authorizer_->Authorize(*context, Scope::kRead, "").status();
  if (status.ok()) status = CheckId("instrument_id", request->instrument_id(), true);
  if (status.ok()) {
    absl::StatusOr<alliance::v1::FhirResource> resource =
        fhir_definitions_.Questionnaire(request->instrument_id());
    if (resource.ok()) {
      *response = *std::move(resource);
    } else {
      status = resource.status();
    }
  }
  grpc::Status out = ToGrpcStatus(status);
  metrics_->RecordCall("GetFhirQuestionnaire", out.error_code(), absl::Now() - start);
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(out);
  return reactor;
}

grpc::ServerUnaryReactor* InsightsService::GetDyadFhirBundle(
    grpc::CallbackServerContext* context, const alliance::v1::GetDyadFhirBundleRequest* request,
    alliance::v1::FhirResource* response) {
  absl::StatusOr<Caller> caller =
      ResolveCaller(*authorizer_, *context, Scope::kRead, request->tenant_id());
  absl::Status invalid = CheckId("therapist_id", request->therapist_id(), false);
  if (invalid.ok()) invalid = CheckId("client_id", request->client_id(), false);
  if (invalid.ok() && !alliance::v1::FhirBundleType_IsValid(request->type())) {
    invalid = absl::InvalidArgumentError("type: unknown value");
  }
  return Run(context, "GetDyadFhirBundle", caller.status(), invalid,
             [this, request, response, caller = caller.value_or(Caller{})](RedisExecutor& redis) {
               absl::StatusOr<fhir::DyadFhirInput> input =
                   ReadDyadFhirInput(redis, *layout_, *registry_, caller.tenant,
                                     request->therapist_id(), request->client_id());
               if (!input.ok()) return input.status();
               *response = DyadBundleResource(*input, request->type(), *registry_);
               LogAccess("GetDyadFhirBundle", caller,
                         {absl::StrCat(request->therapist_id(), ":", request->client_id())}, {});
               return absl::OkStatus();
             });
}

}  // namespace alliance::insights
